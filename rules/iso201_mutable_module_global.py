"""ISO201: a module-level mutable container that functions of the module mutate at run time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    MODULE_SCOPE,
    Candidate,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    VariableRef,
)
from isolint.rules._bleed import REQUEST_SCOPED_NAMES
from isolint.rules._constants import (
    elements_change,
    inert_element_classes,
    request_data_flows,
)
from isolint.rules._containers import (
    is_mutable_container,
    mutated_containers,
    subscript_root,
    target_elements,
)
from isolint.rules._singleton_patterns import module_function_names
from isolint.rules._sites import _code_children
from isolint.rules._state import inert_class

_Function = cst.FunctionDef | cst.Lambda
# Parents whose Name children never refer to (use) a value: imports, `as` targets, `global`.
_NON_REFERENCE_TYPES: frozenset[type] = frozenset({cst.NameItem, cst.ImportAlias, cst.AsName})
# Parents whose ``name`` is the Name they define.
_NAMED_TYPES: frozenset[type] = frozenset({cst.FunctionDef, cst.ClassDef, cst.Param})


@dataclass(frozen=True)
class ModuleContainer:
    """ISO201's candidate: module-level container ``name`` of ``module``, not mutated in its own
    module; the index says whether another module mutates it."""

    module: str
    name: str
    # Set when the module itself mutates the container but declares it to hold only inert
    # objects (``dict[str, AsyncEngine]``): the classes as written, for the project phase to
    # check, and the message of the local finding it becomes if one of them carries state.
    element_classes: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class _Site:
    """A run-time mutation of ``name``, inside ``functions`` (outermost first)."""

    name: str
    functions: tuple[_Function, ...]
    scope: str
    top_function: str | None
    node: cst.CSTNode  # the mutating statement or call


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _binding_target(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The target that ``node`` binds in the scope it belongs to, if it binds one."""
    if isinstance(
        node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr, cst.Del)
    ):
        return node.target
    if isinstance(node, cst.AsName):
        return node.name
    if isinstance(node, cst.ImportAlias) and node.asname is None:
        head: cst.BaseExpression = node.name
        while isinstance(head, cst.Attribute):
            head = head.value
        return head
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.MatchAs, cst.MatchStar)):
        return node.name
    if isinstance(node, cst.MatchMapping):
        return node.rest
    return None


def _binds(node: cst.CSTNode, name: str) -> bool:
    target = _binding_target(node)
    if target is None:
        return False
    return any(isinstance(e, cst.Name) and e.value == name for e in target_elements(target))


# The node types ``_binding_target`` knows, and those that open a scope of their own.
_BINDERS: frozenset[type] = frozenset(
    {
        cst.AssignTarget,
        cst.AnnAssign,
        cst.AugAssign,
        cst.For,
        cst.NamedExpr,
        cst.Del,
        cst.AsName,
        cst.ImportAlias,
        cst.FunctionDef,
        cst.ClassDef,
        cst.MatchAs,
        cst.MatchStar,
        cst.MatchMapping,
    }
)
_NESTED_SCOPES: frozenset[type] = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})


def _declaration(function: _Function, name: str) -> str | None:
    """``global``, ``nonlocal`` or ``local`` for how ``function`` treats ``name``; None if free.

    A lazy scan of one function, run only for functions that mutate a module-level container.
    Nodes are told apart by their exact type and only children that can hold code are walked
    (``node.children`` runs a visitor per node: this scan cost a third of a parse on onyx).
    """
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return "local"
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param) and star.name.value == name:
            return "local"
    local = False
    declared: set[str] = set()
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        node_type = type(node)
        if node_type is cst.Global or node_type is cst.Nonlocal:
            if any(item.name.value == name for item in node.names):  # type: ignore[attr-defined]
                declared.add("global" if node_type is cst.Global else "nonlocal")
            continue
        if not local and node_type in _BINDERS:
            local = _binds(node, name)
        if node_type in _NESTED_SCOPES:
            continue  # a nested scope: only its own name is bound here
        children = _code_children(node)
        if node_type is cst.CompFor:  # comprehension variables are local to the comprehension
            children = [child for child in children if child is not node.target]  # type: ignore[attr-defined]
        pending.extend(children)
    if len(declared) == 1:
        return declared.pop()
    if not declared:
        return "local" if local else None
    return _declaration_in_order(function, name)  # both: code CPython rejects, the first wins


def _declaration_in_order(function: _Function, name: str) -> str | None:
    """``_declaration`` in the walk order of ``node.children``: the first of a ``global`` and a
    ``nonlocal`` of the same name (a syntax error to CPython, not to LibCST) decides."""
    local = False
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            if any(item.name.value == name for item in node.names):
                return "global" if isinstance(node, cst.Global) else "nonlocal"
            continue
        local = local or _binds(node, name)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue  # a nested scope: only its own name is bound here
        if isinstance(node, cst.CompFor):
            # Comprehension variables are local to the comprehension.
            pending.extend(child for child in node.children if child is not node.target)
            continue
        pending.extend(node.children)
    return "local" if local else None


def _module_bindings(
    targets: Sequence[cst.BaseExpression], value: cst.BaseExpression
) -> Iterator[tuple[cst.Name, cst.BaseExpression]]:
    """(name, value it receives) pairs, element-wise for ``a, b = [], {}``."""
    for target in targets:
        if isinstance(target, cst.Name):
            yield target, value
        elif (
            isinstance(target, (cst.Tuple, cst.List))
            and isinstance(value, (cst.Tuple, cst.List))
            and len(target.elements) == len(value.elements)
        ):
            for t, v in zip(target.elements, value.elements):
                if not isinstance(t, cst.StarredElement) and not isinstance(v, cst.StarredElement):
                    yield from _module_bindings([t.value], v.value)


class MutableModuleGlobal(Rule):
    """
    ## What it does
    Finds module-level names bound to a mutable container (a list, dict or set literal or
    comprehension, or `list()`, `dict()`, `set()`, `defaultdict()`, `OrderedDict()`, `deque()`,
    `Counter()`, `ChainMap()`, `WeakValueDictionary()`... under any import spelling) that a
    function or method mutates, in the same module or in another module that imports the
    container: a mutating method call (`.append`, `.update`, `.setdefault`, `.pop`,
    `.clear`...), item assignment or deletion (`X[k] = v`, `del X[k]`) or augmented assignment
    (`X[k] += 1`, or `X += [...]` through `global X`).

    Containers that functions only read (lookup tables), that are only filled at import time
    (module-level statements; a registry function that the module only applies as a decorator
    or calls at module or class level; `__init_subclass__`), `__all__` and other dunder names
    are not reported.

    Nor are containers declared to hold only inert objects, which carry no user's data: class
    objects (`dict[Source, type[Connector]]`), instances of a class from outside the project
    (`dict[str, AsyncEngine]`, `TTLCache[str, httpx.AsyncClient]`), or instances of a project
    class with behaviour (not a dataclass or a plain record) that, like all its subclasses,
    nothing changes after construction (a tokenizer) — provided no request-scoped name
    (`request-scoped-names`) flows into what is stored and the module never changes a stored
    object (`X[k].attr = ...`, `client = X.get(k); client.headers[...] = ...`). Objects that
    change by use (locks, semaphores, events, queues: `dict[str, asyncio.Lock]`), standard
    value types (`datetime`, `UUID`) and plain values (`str`, `tuple`, `dict`) are data and
    stay reported.

    ## Why is this bad?
    A module is imported once per process, so its globals are shared by every request every
    worker thread serves. A dict that a view fills with one user's session, cart or
    permissions is still there when the next user's request reads it: one user's data reaches
    another user, and concurrent requests race on it. Keep per-user state in a `ContextVar`, on
    a per-request object, or in an injected dependency whose lifetime you control.

    ## Known problems
    A container that another module imports and mutates is reported too (the project index
    sees the mutation there). A container passed to a helper that mutates it, or reached
    through a local alias, is not reported. A registry function used as a decorator only by *other* modules looks like a
    run-time mutation and is reported. Whether a library class's objects keep state is not
    visible: a container declared to hold a third-party class that accumulates per-user data
    (a client whose cookies another module sets) is not reported.

    One finding per container: when ISO602 finds request data written into the same container,
    those writes are listed as related locations of this finding (the container is the root
    cause), not reported again; with ISO201 not selected (or suppressed), ISO602 reports them.
    """

    code: ClassVar[str] = "ISO201"
    name: ClassVar[str] = "mutable-module-global"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES,)
    summary: ClassVar[str] = "Module-level mutable container mutated at run time"
    message: ClassVar[str] = (
        "Module-level container `{name}` is mutated at run time in `{function}()`: every request "
        "in the process shares it, so one user's data reaches another user; keep the state in "
        "a `ContextVar` or a per-request object, or inject it as a dependency"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            _SESSIONS = {}

            def register_session(user_id, token):
                _SESSIONS[user_id] = token
            """,
            expected_line=1,
            expected_message="`_SESSIONS` is mutated at run time in `register_session()`",
        ),
        Example(
            code="""
            from collections import defaultdict as dd

            _CARTS = dd(list)

            class CartService:
                def add(self, user_id, item):
                    _CARTS[user_id].append(item)
            """,
            expected_line=3,
            expected_message="`_CARTS` is mutated at run time in `CartService.add()`",
        ),
        Example(
            code="""
            _AUDIT: list[str] = []

            def record(event):
                global _AUDIT
                _AUDIT += [event]

            def forget(index):
                del _AUDIT[index]
            """,
            expected_line=1,
            expected_message="`_AUDIT` is mutated at run time in `record()`",
        ),
        Example(
            code="""
            import collections

            RECENT = collections.deque(maxlen=100)

            def route(path):
                def handler(request):
                    RECENT.appendleft(request.user)
                    return path
                return handler
            """,
            expected_line=3,
            expected_message="`RECENT` is mutated at run time in `route.handler()`",
        ),
        Example(
            code="""
            import asyncio

            _LOCKS: dict[str, asyncio.Lock] = {}

            def lock_for(account):
                return _LOCKS.setdefault(account, asyncio.Lock())
            """,
            expected_line=3,
            expected_message="`_LOCKS` is mutated at run time in `lock_for()`",
        ),
        Example(
            code="""
            import httpx

            _CLIENTS: dict[str, httpx.Client] = {}

            def client_for(base_url, token):
                client = _CLIENTS.setdefault(base_url, httpx.Client(base_url=base_url))
                client.headers["Authorization"] = token
                return client
            """,
            expected_line=3,
            expected_message="`_CLIENTS` is mutated at run time in `client_for()`",
        ),
        Example(
            code="""
            class Tokenizer:
                def __init__(self, model):
                    self.model = model
                    self.calls = 0

                def encode(self, text):
                    self.calls += 1
                    return text.split()

            _TOKENIZERS: dict[str, Tokenizer] = {}

            def tokenizer_for(model):
                if model not in _TOKENIZERS:
                    _TOKENIZERS[model] = Tokenizer(model)
                return _TOKENIZERS[model]
            """,
            expected_line=10,
            expected_message="`_TOKENIZERS` is mutated at run time in `tokenizer_for()`",
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        from contextvars import ContextVar

        _session_token: ContextVar[str | None] = ContextVar("session_token", default=None)

        def register_session(user_id, token):
            _session_token.set(token)
        """,
        """
        from collections import defaultdict

        class CartService:
            def __init__(self):
                self._carts = defaultdict(list)  # one service per request, injected

            def add(self, user_id, item):
                self._carts[user_id].append(item)
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        __all__ = ["handler"]
        __all__ += ["other"]

        STATUS_TEXT = {200: "OK", 404: "Not Found"}

        def handler(code):
            return STATUS_TEXT.get(code, "Unknown")

        def other():
            return list(STATUS_TEXT)
        """,
        """
        _HANDLERS = {}

        def register(fn):
            _HANDLERS[fn.__name__] = fn
            return fn

        @register
        def create_user(request):
            return _HANDLERS

        class Views:
            @register
            def delete_user(self, request):
                return None
        """,
        """
        _ITEMS = []
        _ITEMS.append("default")

        def collect(_ITEMS):
            _ITEMS.append("x")

        def build():
            _ITEMS = []
            _ITEMS.append("y")
            return _ITEMS
        """,
        """
        import threading
        from contextvars import ContextVar

        _current_user = ContextVar("current_user")
        _local = threading.local()
        ALLOWED = frozenset({"admin", "staff"})
        ORDER = ("a", "b")

        def login(user):
            _current_user.set(user)
            _local.user = user
            _local.__dict__.update(user=user)
        """,
        """
        import importlib
        from typing import Type

        from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

        _CONNECTOR_CLASSES: dict[str, Type[object]] = {}
        _ENGINES: dict[str, AsyncEngine] = {}

        def connector_class(source):
            if source not in _CONNECTOR_CLASSES:
                module = importlib.import_module(f"connectors.{source}")
                _CONNECTOR_CLASSES[source] = module.Connector
            return _CONNECTOR_CLASSES[source]

        def engine_for(shard_url):
            if shard_url not in _ENGINES:
                _ENGINES[shard_url] = create_async_engine(shard_url)
            return _ENGINES[shard_url]
        """,
        """
        class Tokenizer:
            def __init__(self, model):
                self.model = model

            def encode(self, text):
                return text.split()

        _TOKENIZERS: dict[str, Tokenizer] = {}

        def tokenizer_for(model):
            if model not in _TOKENIZERS:
                _TOKENIZERS[model] = Tokenizer(model)
            return _TOKENIZERS[model]
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._bindings: dict[str, cst.CSTNode] = {}
        self._sites: list[_Site] = []
        # Uses of the module's own functions (the only names ``_import_time_only`` asks about).
        self._functions = module_function_names(context.module)
        self._import_time_uses: Counter[str] = Counter()
        self._runtime_uses: Counter[str] = Counter()
        self._declarations: dict[tuple[int, str], str | None] = {}

    # Module-level bindings.

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level():
            targets = [t.target for t in node.targets]
            self._add_bindings(node, _module_bindings(targets, node.value))
        self._add_sites(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.context.at_module_level() and node.value is not None:
            self._add_bindings(node, _module_bindings([node.target], node.value))

    def _add_bindings(
        self,
        node: cst.Assign | cst.AnnAssign,
        pairs: Iterator[tuple[cst.Name, cst.BaseExpression]],
    ) -> None:
        for name, value in pairs:
            if _is_dunder(name.value) or name.value in self._bindings:
                continue
            if is_mutable_container(value, self.context.imports):
                self._bindings[name.value] = node

    # Run-time mutations.

    def visit_Call(self, node: cst.Call) -> None:
        self._add_sites(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add_sites(node)

    def visit_Del(self, node: cst.Del) -> None:
        self._add_sites(node)

    def _add_sites(self, node: cst.CSTNode) -> None:
        scopes = self.context.scopes
        if not scopes:
            return  # module level: runs at import time
        names: list[str] = []  # the cheap test first: most calls and assignments mutate nothing
        for expr in mutated_containers(node):
            root = subscript_root(expr)
            if type(root) is cst.Name:
                names.append(root.value)
        if not names:
            return
        functions: tuple[_Function, ...] = tuple(
            s for _, s in scopes if type(s) is cst.FunctionDef or type(s) is cst.Lambda
        )
        if not functions:
            return  # module or class body: runs at import time
        if any(name == "__init_subclass__" for name, _ in scopes):
            return  # runs when a subclass is defined, i.e. at import time (plugin registries)
        scope = self.context.scope_name()
        top = scopes[0]
        top_function = top[0] if type(top[1]) is cst.FunctionDef else None
        for name in names:
            self._sites.append(_Site(name, functions, scope, top_function, node))

    # How module-level functions are used (to recognise import-time registries).

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self._functions:
            return  # not a use of a module-level function: never asked about
        # Exact types, not isinstance() (LibCST's node classes are ABCs: slow, and this runs on
        # every name); the parser makes no subclasses of these.
        parent = self.context.ancestors[-1]
        parent_type = type(parent)
        if parent_type in _NON_REFERENCE_TYPES:
            return
        if parent_type is cst.Attribute:
            if parent.attr is node:  # type: ignore[attr-defined]
                return
        elif parent_type in _NAMED_TYPES:
            if parent.name is node:  # type: ignore[attr-defined]
                return
        elif parent_type is cst.Arg:
            if parent.keyword is node:  # type: ignore[attr-defined]
                return
        elif (
            (parent_type is cst.Decorator and parent.decorator is node)  # type: ignore[attr-defined]
            or (parent_type is cst.Call and parent.func is node)  # type: ignore[attr-defined]
        ) and self.context.enclosing_function() is None:
            self._import_time_uses[node.value] += 1
            return
        self._runtime_uses[node.value] += 1

    def _import_time_only(self, function: str | None) -> bool:
        """True if every use of module-level ``function`` in this module runs at import time."""
        return (
            function is not None
            and self._import_time_uses[function] > 0
            and self._runtime_uses[function] == 0
        )

    def _mutates_global(self, site: _Site) -> bool:
        for function in reversed(site.functions):
            key = (id(function), site.name)
            if key not in self._declarations:
                self._declarations[key] = _declaration(function, site.name)
            declaration = self._declarations[key]
            if declaration is not None:
                return declaration == "global"
        return True

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._bindings:
            return
        reported: set[str] = set()
        live = [
            site
            for site in self._sites
            if not self._import_time_only(site.top_function) and self._mutates_global(site)
        ]
        for site in live:
            node = self._bindings.get(site.name)
            if node is None or site.name in reported:
                continue
            reported.add(site.name)
            sites = [other.scope for other in live if other.name == site.name]
            inert = self._inert_elements(node, site.name, live)
            if inert == ():
                continue  # class objects only: code, not data
            if inert is not None:  # the project phase checks the element classes
                message = self.message.format(name=site.name, function=site.scope)
                payload = ModuleContainer(self.context.info.module_name, site.name, inert, message)
                self.add_candidate(node, payload, scope=MODULE_SCOPE, sites=sites)
                continue
            self.report(
                node,
                scope=MODULE_SCOPE,
                sites=sites,
                causes=(f"{self.context.info.module_name}.{site.name}",),
                name=site.name,
                function=site.scope,
            )
        # Not mutated here: another module may mutate it (decided with the project index).
        module = self.context.info.module_name
        for name, node in self._bindings.items():
            if name not in reported and not self.context.info.is_test:
                self.add_candidate(node, ModuleContainer(module, name), scope=MODULE_SCOPE)

    def _inert_elements(
        self, node: cst.CSTNode, name: str, live: list[_Site]
    ) -> tuple[str, ...] | None:
        """The element classes of a container declared to hold only inert objects (see
        ``inert_element_classes``) that no request-scoped name flows into and that the module
        never changes an element of; None when it may hold data."""
        if not isinstance(node, cst.AnnAssign):
            return None
        classes = inert_element_classes(node.annotation.annotation, self.context.imports)
        names = self.context.option(REQUEST_SCOPED_NAMES)
        if classes is None or any(
            request_data_flows(site.functions[-1], site.node, names, parameters=False)
            for site in live
            if site.name == name
        ):
            return None
        if elements_change(self.context.module, (name,)):
            return None
        return classes

    payload = ModuleContainer

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        wanted: dict[tuple[str, str], Candidate] = {}
        for candidate in candidates:
            container = candidate.payload_as(ModuleContainer)
            if not container.message:
                wanted[(container.module, container.name)] = candidate
            elif not all(
                inert_class(index, container.module, written)
                for written in container.element_classes
            ):
                yield ProjectFinding(
                    candidate,
                    container.message,
                    causes=(f"{container.module}.{container.name}",),
                )
        if not wanted:
            return
        found: dict[tuple[str, str], tuple[str, str]] = {}
        sites: dict[tuple[str, str], list[str]] = {}
        for module, path, mutations in index.external_mutation_sites():
            for qualified, function in mutations:
                target = index.resolve_absolute(qualified)
                if not isinstance(target, VariableRef) or target.module == module:
                    continue
                key = (target.module, target.name)
                if key in wanted:
                    sites.setdefault(key, []).append(f"{module}.{function}")
                    if key not in found:
                        found[key] = (module or path, function)
        for key, (mutator, function) in sorted(found.items(), key=lambda item: str(item[0])):
            yield ProjectFinding(
                wanted[key],
                f"Module-level container `{key[1]}` is mutated at run time from another module "
                f"(`{mutator}`, in `{function}()`): every request in the process shares it, so "
                "one user's data reaches another user; keep the state in a `ContextVar` or a "
                "per-request object, or give the owning module a function that returns a copy",
                sites=tuple(sites[key]),
                causes=(f"{key[0]}.{key[1]}",),
            )
