"""ISO102: a metaclass whose ``__call__`` caches instances, and the classes that use it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    ClassRef,
    Example,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    dotted_name,
)
from isolint.rules._singleton_patterns import (
    assignments,
    class_methods,
    is_name,
    iter_small_statements,
    looks_like_metaclass,
)
from isolint.rules._sites import state_changing_methods


@dataclass(frozen=True)
class ForeignMetaclassUse:
    """ISO102's candidate: class ``cls`` of ``module`` names ``metaclass`` (as written there), a
    class defined in another module; the index says whether that metaclass caches instances."""

    module: str
    cls: str
    metaclass: str


@dataclass(frozen=True)
class _CachingMetaclass:
    node: cst.ClassDef
    scope: str
    store: str
    looks_like_metaclass: bool


@dataclass(frozen=True)
class _MetaclassUse:
    node: cst.ClassDef
    scope: str
    metaclass: str


class SingletonMetaclass(Rule):
    """
    ## What it does
    Finds metaclasses whose `__call__` keeps the instance it creates (in an `_instances` dict,
    an attribute such as `cls._instance`, or a module-level dict) and returns it on later calls,
    and every class declared with `metaclass=` that metaclass, in the same module or in another
    one that imports it (resolved through the project index).

    ## Why is this bad?
    Every `SomeService()` call then returns one object per class for the life of the process:
    constructing it looks like making a fresh object, but each request, and so each user, gets
    the same one. Whatever one user's request stores on it is read by the next user's request.
    Drop the caching metaclass so the constructor makes a fresh object again, and create one per
    request (passing it to the code that needs it) instead of reaching for a process-wide copy.

    ## Known problems
    Only classes that name the metaclass in `metaclass=` are reported; classes that inherit it
    through a base class are not (the base is). A class is
    treated as a metaclass if it derives from `type`, a standard metaclass or a class whose name
    ends in `Meta`, or is used as `metaclass=` in its module.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO102"
    name: ClassVar[str] = "singleton-metaclass"
    summary: ClassVar[str] = "Metaclass `__call__` caches instances, making its classes singletons"
    message: ClassVar[str] = (
        "`{cls}` {what}: its classes return one cached instance per class ({store}) to every "
        "caller, so state one user's request leaves on it is read by the next user's; drop the "
        "caching metaclass and create instances per request (dependency injection), or keep "
        "per-request state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        class SingletonMeta(type):
            _instances = {}

            def __call__(cls, *args, **kwargs):
                if cls not in cls._instances:
                    cls._instances[cls] = super().__call__(*args, **kwargs)
                return cls._instances[cls]

        class SessionStore(metaclass=SingletonMeta):
            pass
        """,
        Example(
            code="""
            from app.meta import SingletonMeta

            class SessionStore(metaclass=SingletonMeta):
                def remember(self, user_id):
                    self.user_id = user_id
            """,
            files=(
                (
                    "app/meta.py",
                    """
                    class SingletonMeta(type):
                        _instances = {}

                        def __call__(cls, *args, **kwargs):
                            if cls not in cls._instances:
                                cls._instances[cls] = super().__call__(*args, **kwargs)
                            return cls._instances[cls]
                    """,
                ),
            ),
        ),
        """
        import threading

        class Singleton(type):
            _lock = threading.Lock()

            def __call__(cls, *args, **kwargs):
                if not hasattr(cls, "_instance"):
                    with Singleton._lock:
                        if not hasattr(cls, "_instance"):
                            cls._instance = super().__call__(*args, **kwargs)
                return cls._instance
        """,
        """
        from abc import ABCMeta

        _instances = {}

        class CachedMeta(ABCMeta):
            def __call__(cls, *args, **kwargs):
                instance = _instances.get(cls)
                if instance is None:
                    instance = super().__call__(*args, **kwargs)
                    _instances[cls] = instance
                return instance
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        class ValidatingMeta(type):
            def __call__(cls, *args, **kwargs):
                instance = super().__call__(*args, **kwargs)
                instance.validate()
                return instance

        class Order(metaclass=ValidatingMeta):
            def validate(self):
                pass
        """,
        """
        class TrackedMeta(type):
            def __call__(cls, *args, **kwargs):
                instance = super().__call__(*args, **kwargs)
                cls._created = getattr(cls, "_created", 0) + 1
                instance.serial = cls._created
                return instance
        """,
        """
        registry = {}

        class RegistryMeta(type):
            def __new__(mcs, name, bases, namespace):
                new_class = super().__new__(mcs, name, bases, namespace)
                registry[name] = new_class
                return new_class

        class Handler(metaclass=RegistryMeta):
            pass
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        class SessionStore:
            def remember(self, user_id):
                self.user_id = user_id

        def login(request):
            store = SessionStore()  # a fresh store for this request only
            store.remember(request.user.id)
            return store
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._caching: list[_CachingMetaclass] = []
        self._uses: list[_MetaclassUse] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.context.scope_name()
        for argument in node.keywords:
            keyword, value = argument.keyword, argument.value
            written = dotted_name(value) if keyword is not None else None
            if keyword is not None and keyword.value == "metaclass" and written is not None:
                self._uses.append(_MetaclassUse(node, scope, written))
        for func in class_methods(node):
            if func.name.value == "__call__" and (store := _cached_store(func)):
                meta = looks_like_metaclass(node, self.context.imports)
                self._caching.append(_CachingMetaclass(node, scope, store, meta))

    def leave_Module(self, node: cst.Module) -> None:
        used = {use.metaclass for use in self._uses}
        reported: set[str] = set()
        for meta in self._caching:
            name = meta.node.name.value
            if meta.looks_like_metaclass or name in used:
                reported.add(name)
                what = "is a metaclass whose `__call__` caches instances"
                self.report(meta.node.name, scope=meta.scope, cls=name, what=what, store=meta.store)
        stores = {meta.node.name.value: meta.store for meta in self._caching}
        module = self.context.info.module_name
        for use in self._uses:
            if use.metaclass not in stores:  # defined elsewhere: the index decides
                sites = state_changing_methods(use.node, use.scope)
                payload = ForeignMetaclassUse(module, use.node.name.value, use.metaclass)
                self.add_candidate(use.node.name, payload, scope=use.scope, sites=sites)
            elif use.metaclass in reported:
                what = f"uses the instance-caching metaclass `{use.metaclass}`"
                self.report(
                    use.node.name,
                    scope=use.scope,
                    sites=state_changing_methods(use.node, use.scope),
                    cls=use.node.name.value,
                    what=what,
                    store=stores[use.metaclass],
                )

    payload = ForeignMetaclassUse
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        """Classes using an instance-caching metaclass defined in another module."""
        for candidate in candidates:
            use = candidate.payload_as(ForeignMetaclassUse)
            module, metaclass = use.module, use.metaclass
            meta = index.resolve_dotted(module, metaclass) or index.resolve_absolute(metaclass)
            if not isinstance(meta, ClassRef) or meta.cls.call_cache is None:
                continue
            facts = index.module(meta.module)
            where = facts.path if facts is not None else meta.module
            what = f"uses the instance-caching metaclass `{meta.qualname}` ({where})"
            message = cls.message.format(cls=use.cls, what=what, store=meta.cls.call_cache)
            yield ProjectFinding(candidate, message)


def _cached_store(func: cst.FunctionDef) -> str | None:
    """Source of where ``__call__`` keeps the instance it creates (``cls._instances[cls]``)."""
    instances: set[str] = set()  # local names bound to the instance ``super().__call__`` made
    for small in iter_small_statements(func.body):
        for target, value in assignments(small):
            if not _is_created(value, instances):
                continue
            if isinstance(target, cst.Name):
                instances.add(target.value)
            elif isinstance(target, (cst.Attribute, cst.Subscript)) and not _rooted_in(
                target, instances
            ):
                return _code(target)
        call = small.value if isinstance(small, (cst.Return, cst.Expr)) else None
        if isinstance(call, cst.Call):
            args = [arg.value for arg in call.args]
            if (
                is_name(call.func, "setattr")
                and len(args) == 3
                and _is_created(args[2], instances)
                and not _rooted_in(args[0], instances)
            ):
                return f"setattr({_code(args[0])}, {_code(args[1])}, ...)"
            func_expr = call.func
            if (
                isinstance(func_expr, cst.Attribute)
                and func_expr.attr.value == "setdefault"
                and len(args) == 2
                and _is_created(args[1], instances)
            ):
                return _code(func_expr.value)
    return None


def _is_created(value: cst.BaseExpression | None, instances: set[str]) -> bool:
    """``super().__call__(...)``, ``type.__call__(cls, ...)`` or a local bound to one."""
    if isinstance(value, cst.Name):
        return value.value in instances
    return (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "__call__"
    )


def _rooted_in(expr: cst.BaseExpression, names: set[str]) -> bool:
    """True if ``expr`` is an attribute/item of one of ``names`` (``instance.owner = ...``)."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value in names


def _code(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=()).code_for_node(node).split())
