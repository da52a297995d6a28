"""ISO104: a Borg class whose instances all share one ``__dict__``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import (
    MODULE_SCOPE,
    Candidate,
    ClassRef,
    Example,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
)
from isolint.rules._singleton_patterns import Method, assignments, class_methods, iter_small_statements
from isolint.rules._sites import changes_here, qualified, state_methods


@dataclass(frozen=True)
class SubclassWithBases:
    """ISO104's candidate: module-level class ``cls`` of ``module`` has bases; the index says
    whether one of them is a Borg."""

    module: str
    cls: str


@dataclass(frozen=True)
class _Pending:
    """A class whose finding or candidate waits for its sites until the walk leaves it."""

    owner: str  # the class's qualified name in the module
    scope: str
    methods: tuple[tuple[cst.FunctionDef, str], ...]  # ``state_methods``
    how: str | None  # the message's ``how`` for a Borg; None for a candidate


class SharedStateBorg(Rule):
    """
    ## What it does
    Finds classes whose instances share one attribute dictionary (the "Borg" or "monostate"
    pattern): a method that sets `self.__dict__` (or `obj.__dict__` in `__new__`) to a class
    attribute such as `cls._shared_state`, `self._shared_state` or `Borg._shared_state`, or to a
    module-level dictionary. Also every module-level class that inherits from such a class, in
    the same module or in another one (resolved through the project index).

    ## Why is this bad?
    Each `Borg()` call looks like a new object, but every attribute written on any instance is
    written on all of them, for the life of the process. An attribute one user's request sets
    (the current user, a tenant, a cart) is what the next user's request reads. Let each
    instance keep its own `__dict__`, set its state in `__init__`, and create one per request.

    ## Known problems
    Borgs that share state through `__getattr__`/`__setattr__` delegation rather than by
    replacing `__dict__` are not reported. A subclass that overrides the Borg's `__init__`
    without calling it does not share the `__dict__`, but is still reported as a subclass.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO104"
    name: ClassVar[str] = "shared-state-borg"
    summary: ClassVar[str] = "Instances of a class share one `__dict__` (Borg pattern)"
    message: ClassVar[str] = (
        "Every instance of `{cls}` shares one `__dict__` ({how}): an "
        "attribute one user's request sets is read by the next user's; give each instance its "
        "own state, created per request and passed in (dependency injection), or keep "
        "per-request state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        class Borg:
            _shared_state = {}

            def __init__(self):
                self.__dict__ = self._shared_state
        """,
        """
        class AppState:
            __shared = {}

            def __new__(cls, *args, **kwargs):
                obj = super().__new__(cls)
                obj.__dict__ = cls.__shared
                return obj
        """,
        """
        class RequestInfo:
            _state = {}

            def __init__(self, **values):
                self.__dict__ = RequestInfo._state
                self.__dict__.update(values)
        """,
        """
        _shared = {}

        class Registry:
            def __init__(self):
                self.__dict__ = _shared
        """,
        Example(
            code="""
            from app.base import Borg

            class TenantContext(Borg):
                def switch(self, tenant_id):
                    self.tenant_id = tenant_id
            """,
            files=(
                (
                    "app/base.py",
                    """
                    class Borg:
                        _shared_state = {}

                        def __init__(self):
                            self.__dict__ = self._shared_state
                    """,
                ),
            ),
            expected_line=3,
            expected_message="`TenantContext` shares one `__dict__` (inherited from the Borg "
            "`app.base.Borg` in app/base.py)",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        class Snapshot:
            def __getstate__(self):
                return self.__dict__.copy()

            def __setstate__(self, state):
                self.__dict__ = state
        """,
        """
        class Settings:
            _defaults = {"timeout": 5}

            def __init__(self):
                self.__dict__ = dict(self._defaults)
        """,
        """
        class Options:
            _defaults = {"retries": 3}

            def __init__(self, **overrides):
                self.__dict__.update(self._defaults)
                self.__dict__.update(overrides)
        """,
        Example(
            code="""
            from app.base import Base

            class TenantContext(Base):
                def switch(self, tenant_id):
                    self.tenant_id = tenant_id
            """,
            files=(
                (
                    "app/base.py",
                    """
                    class Base:
                        _defaults = {}

                        def __init__(self):
                            self.__dict__ = dict(self._defaults)
                    """,
                ),
            ),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        class TenantContext:
            def __init__(self, tenant_id):
                self.tenant_id = tenant_id  # this instance's own state

        def handle(request):
            context = TenantContext(request.tenant_id)  # one per request
            return context.tenant_id
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._module_names: set[str] = set()  # names bound at module level so far
        # The sites of a class are the methods that change its state (``state_changing_methods``),
        # found during the engine's walk (rather than a walk of every method per class) for the
        # classes that report or are candidates, and used when the walk leaves the class.
        self._receivers: dict[int, str] = {}  # id(method) -> receiver, for methods being walked
        self._changing: set[int] = set()  # id(method) of those seen changing their receiver
        self._pending: dict[int, _Pending] = {}  # id(class) -> what to do when it is left

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if not self.context.at_module_level():
            return
        for small in node.body:
            for target, _ in assignments(small):
                if isinstance(target, cst.Name):
                    self._module_names.add(target.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        class_name = node.name.value
        scope = self.context.scope_name()
        how = self._borg_how(node, class_name)
        if how is None and not (node.bases and scope == MODULE_SCOPE):
            return
        methods = tuple(state_methods(node))
        for method, receiver in methods:
            self._receivers[id(method)] = receiver
        self._pending[id(node)] = _Pending(qualified(scope, class_name), scope, methods, how)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        pending = self._pending.pop(id(original_node), None)
        if pending is None:
            return
        sites: list[str] = []
        for method, _ in pending.methods:
            key = id(method)
            del self._receivers[key]
            if key in self._changing:
                self._changing.discard(key)
                sites.append(f"{pending.owner}.{method.name.value}")
        node = original_node
        if pending.how is not None:
            self.report(
                node.name, scope=pending.scope, sites=sites, cls=node.name.value, how=pending.how
            )
        else:  # a Borg base: the index decides
            payload = SubclassWithBases(self.context.info.module_name, node.name.value)
            self.add_candidate(node.name, payload, scope=pending.scope, sites=sites)

    # Code that may change a pending class's state, inside one of its methods.

    def visit_Assign(self, node: cst.Assign) -> None:
        self._write(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._write(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._write(node)

    def visit_Del(self, node: cst.Del) -> None:
        self._write(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._write(node)

    def _write(self, node: cst.CSTNode) -> None:
        receivers = self._receivers
        if not receivers:
            return
        for _, owner in self.context.scopes:  # the bodies being walked
            key = id(owner)
            receiver = receivers.get(key)
            if receiver is not None and key not in self._changing and changes_here(node, receiver):
                self._changing.add(key)

    def _borg_how(self, node: cst.ClassDef, class_name: str) -> str | None:
        """How the class installs a shared ``__dict__`` (the message's ``how``), if it does."""
        for func in class_methods(node):
            method = Method.of(func, class_name)
            for small in iter_small_statements(func.body):
                shared = self._shared_dict(small, method)
                if shared is not None:
                    return f"`{shared}`, set in `{func.name.value}`"
        return None

    payload = SubclassWithBases
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        """Classes inheriting from a Borg (of any module): they share its ``__dict__``."""
        for candidate in candidates:
            found = candidate.payload_as(SubclassWithBases)
            subclass = index.resolve_name(found.module, found.cls)
            if not isinstance(subclass, ClassRef):
                continue
            borg = next((base for base in index.base_classes(subclass) if _is_borg(base)), None)
            if borg is None:
                continue
            facts = index.module(borg.module)
            where = facts.path if facts is not None else borg.module
            how = f"inherited from the Borg `{borg.qualname}` in {where}"
            yield ProjectFinding(candidate, cls.message.format(cls=found.cls, how=how))

    def _shared_dict(self, small: cst.BaseSmallStatement, method: Method) -> str | None:
        """Source of the shared mapping ``small`` installs as an instance ``__dict__``, if any."""
        # exact types: isinstance() is slow on LibCST's classes (every statement of every method)
        for target, value in assignments(small):
            is_dict = type(target) is cst.Attribute and target.attr.value == "__dict__"
            if is_dict and self._is_shared(value, method):
                return _code(value)
        if type(small) is cst.Expr and type(small.value) is cst.Call:
            args = [arg.value for arg in small.value.args]
            func = small.value.func
            is_setattr = (isinstance(func, cst.Name) and func.value == "setattr") or (
                isinstance(func, cst.Attribute) and func.attr.value == "__setattr__"
            )
            if is_setattr and len(args) == 3:
                attribute, value = args[1], args[2]
                if (
                    isinstance(attribute, cst.SimpleString)
                    and attribute.evaluated_value == "__dict__"
                    and self._is_shared(value, method)
                ):
                    return _code(value)
        return None

    def _is_shared(self, value: cst.BaseExpression, method: Method) -> bool:
        """A class attribute (``cls._state``, ``self._state``...) or a module-level name."""
        if isinstance(value, cst.Name):
            return value.value in self._module_names and value.value not in _locals(method.node)
        if not isinstance(value, cst.Attribute) or value.attr.value == "__dict__":
            return False
        owner = value.value
        if isinstance(owner, cst.Name) and owner.value == method.self_name:
            return True
        return method.is_class_ref(owner)


def _is_borg(cls: ClassRef) -> bool:
    """The index's singleton fact for the Borg shape (one source: ``isolint.facts``)."""
    reason = cls.cls.singleton_reason
    return reason is not None and "share one `__dict__`" in reason


def _locals(func: cst.FunctionDef) -> frozenset[str]:
    """Parameters and plainly assigned names of ``func`` (they shadow module-level names)."""
    params = func.params
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    names = {param.name.value for param in every}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    for small in iter_small_statements(func.body):
        for target, _ in assignments(small):
            if isinstance(target, cst.Name):
                names.add(target.value)
    return frozenset(names)


def _code(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=()).code_for_node(node).split())
