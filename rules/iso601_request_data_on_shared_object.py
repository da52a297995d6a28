"""ISO601: request-scoped data stored on a process-wide object (a singleton, a module-level instance)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    ClassRef,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
)
from isolint.rules._aliases import MESSAGE as ALIAS_MESSAGE
from isolint.rules._aliases import AliasScan, AliasWrite, shared_reason
from isolint.rules._bleed import (
    REQUEST_SCOPED_NAMES,
    REQUEST_SCOPED_TYPES,
    INSERTING_METHODS,
    LOCAL_STATE_FACTORIES,
    Chain,
    ProcessWide,
    RequestScope,
    chain,
    code,
    writes,
)
from isolint.rules._singleton_patterns import Method

# Methods that run once per construction: on a module-level instance they run at import time.
_CONSTRUCTORS = frozenset({"__init__", "__post_init__"})
_CLASS_STATE = "a class attribute: one class object serves every request in the process"

_MANAGER = """
from fastapi import WebSocket


class ConnectionManager:
    def __init__(self):
        self.connections = {}

    async def connect(self, user_id: str, websocket: WebSocket):
        await websocket.accept()
        self.connections[user_id] = websocket
"""
_PLUGINS = """
class Plugin:
    def __init__(self, slug):
        self.slug = slug
        self.configuration = {}


plugins = {"slack": Plugin("slack"), "github": Plugin("github")}
"""
_MODULE_INSTANCE = """
from app.service import ConnectionManager

manager = ConnectionManager()
"""


@dataclass(frozen=True)
class SharedObjectStore:
    """An ISO601 candidate: ``method`` of module-level class ``cls`` (of ``module``) stores
    request data ``datum`` in ``container`` (source), on the class itself when ``on_class``;
    the index says whether instances of ``cls`` are process-wide. The other kind of ISO601
    candidate is an ``AliasWrite``: a write onto an object taken from a process-wide one."""

    module: str
    cls: str
    method: str
    datum: str
    container: str
    on_class: bool


@dataclass(frozen=True)
class _Store:
    node: cst.CSTNode
    scope: str
    method: str
    datum: str
    container: str
    attribute: str  # the attribute of ``self``/``cls`` written through
    on_class: bool


class _ClassScan:
    """A module-level class being walked: its stores, and its per-thread/per-context attributes."""

    def __init__(self, node: cst.ClassDef) -> None:
        self.node = node
        self.local_attributes: set[str] = set()
        self.stores: list[_Store] = []
        self.nested = 0  # depth of classes defined inside it (their ``self`` is another object)
        self.writes_dict = False  # assigns an instance ``__dict__`` (a Borg, maybe)

    def may_share_init(self) -> bool:
        """Could a construction re-run ``__init__`` on shared state (a caching ``__new__``, a
        Borg, or either inherited)? If not, constructor stores need no project lookup."""
        if self.writes_dict or self.node.bases or self.node.keywords:
            return True
        return any(
            isinstance(statement, cst.FunctionDef) and statement.name.value == "__new__"
            for statement in self.node.body.body
        )


def _owner(parts: Chain, method: Method) -> tuple[bool, cst.Attribute] | None:
    """Whether a write goes to the class (True) or the instance (False), and the attribute."""
    nodes = parts.nodes
    for index in range(len(nodes) - 1, 0, -1):
        outer = nodes[index - 1]
        if method.is_class_ref(nodes[index]) and isinstance(outer, cst.Attribute):
            return True, outer
    root = nodes[-1]
    if (
        method.self_name is not None
        and isinstance(root, cst.Name)
        and root.value == method.self_name
        and len(nodes) > 1
        and isinstance(nodes[-2], cst.Attribute)
    ):
        return False, nodes[-2]
    return None


class RequestDataOnSharedObject(Rule):
    """
    ## What it does
    Finds methods of process-wide classes that store request-scoped data on the instance or in
    one of its containers: `self.user_id = user_id`, `self._by_user[user_id] = websocket`,
    `self.sessions.append(session)`, `self._by_user.setdefault(user_id, []).append(ws)`.
    A class is process-wide when

    - it is an ISO1 singleton: it caches its own instance (`__new__`, `get_instance()`), uses an
      instance-caching metaclass, or is a Borg, itself or through a base class;
    - an instance of it (or of a subclass) is kept for the life of the process anywhere in the
      project: created at module level (`manager = ConnectionManager()`), stored in a module
      global by a function such as a lazy getter, or returned by a zero-argument
      `functools.lru_cache`/`cache` provider. Test modules do not count.

    Writes to the class object itself (`cls._dispatchers[user_id] = d`, `Cls.current = user`,
    `type(self).x = ...`) are reported in any class, since a class is process-wide.

    Functions anywhere are checked for writes through aliases too: an object taken from a
    process-wide one is process-wide. `plugin = plugins.get(slug)` or `plugins[slug]` on a
    module-level registry (of this module or, through the project index, another),
    `Tracker.get_instance()` or `Tracker()` on a singleton, `get_manager()` on a shared-instance
    getter, `s = manager.by_user` on a module-level instance; then `plugin.configuration =
    current_user.settings` is reported, as is `manager.current_user = user` on a module-level
    instance itself. Writes in
    `__init__` count only where every construction re-runs `__init__` on the shared state
    (a caching `__new__`, a Borg): a module-level instance is constructed once, at import.

    Request-scoped data is a value whose name is in `request-scoped-names` (`user_id`,
    `session.user_id`), a parameter annotated with a type in `request-scoped-types`, or a local
    computed from one of those (`key = f"{user_id}:{thread_id}"`).

    ## Why is this bad?
    One process serves the requests of many users, one after another and at the same time,
    and a process-wide object is the same object for all of them. User A's request stores its
    websocket on the shared tool dispatcher (`self.websocket = websocket`); user B's request,
    served by the same process a moment later, runs a tool through that dispatcher and B's
    results are streamed down A's websocket, or B's request reads `self.user_id` and acts on
    A's account. A dict keyed by user (`self._by_user[user_id] = session`) looks isolated, but
    every request can reach every user's entry, and the entries outlive the requests. Create
    the object for each request (a factory the request calls, passing the request's user and
    websocket in) and hand it on, or keep the request's values in a `ContextVar`; what must
    outlive the request goes to a store (the database) that each request reads for its own user.

    ## Known problems
    Attributes holding a `threading.local()` or a `ContextVar` are per thread or per context and
    are skipped. Methods are checked in module-level classes only; a container reached through
    a helper, or a mutable class attribute mutated through `self` (ISO203's business), is not
    seen. Through aliases: an entry looked up with request data as its key
    (`sessions.get(user_id)`) is that user's own and is skipped (storing it is ISO602's); a
    module-level object's method calls (`db.session.add(x)`) are not writes, only assignments
    are; `Model.objects.get(...)` on a class and a project `get` with more than one argument
    (`crud.get(db, id)`) are queries, not lookups of kept objects; a per-request copy
    (`copy.copy(plugins.get(slug))`) or a new object is not shared. Request-scoped data is
    recognised by name and annotation: a process-wide value that happens to be called
    `session` (an HTTP client session) is reported; rename it or suppress the finding.
    Classes in test modules are not checked, and instances created in test modules do not make
    a class process-wide.
    """

    code: ClassVar[str] = "ISO601"
    name: ClassVar[str] = "request-data-on-shared-object"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES, REQUEST_SCOPED_TYPES)
    summary: ClassVar[str] = (
        "Request-scoped data stored on a singleton or other object the whole process shares"
    )
    message: ClassVar[str] = (
        "Request-scoped {data} is stored in `{target}` of `{cls}`, which is process-wide "
        "({reason}): the next user's request served by this process reads it; pass it per "
        "call, keep it in a `ContextVar`, or create the object per request"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code=_MANAGER,
            files=(("app/main.py", _MODULE_INSTANCE),),
        ),
        """
        class ToolDispatcher:
            \"\"\"One dispatcher for the whole app (prevents shared state issues).\"\"\"

            _instance = None

            def __new__(cls):
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
                return cls._instance

            def bind(self, user_id, websocket):
                self.user_id = user_id
                self.websocket = websocket
        """,
        """
        class ToolDispatcher:
            _dispatchers = {}

            @classmethod
            def for_user(cls, user_id):
                if user_id not in cls._dispatchers:
                    cls._dispatchers[user_id] = cls()
                return cls._dispatchers[user_id]
        """,
        Example(
            code="""
            from fastapi import WebSocket

            class EventBus:
                def __init__(self):
                    self.subscribers = []

                def subscribe(self, ws: WebSocket):
                    self.subscribers.append(ws)

            _bus = None

            def get_bus():
                global _bus
                if _bus is None:
                    _bus = EventBus()
                return _bus
            """,
            config=(("request-scoped-types", ["WebSocket"]),),
        ),
        """
        from functools import lru_cache

        class SessionCache:
            def __init__(self):
                self._by_user = {}

            def remember(self, user_id, db_session):
                self._by_user.setdefault(user_id, []).append(db_session)

        @lru_cache
        def get_session_cache():
            return SessionCache()
        """,
        Example(
            code="""
            from app.plugins import plugins

            def configure_plugin(slug, current_user):
                plugin = plugins.get(slug)
                plugin.configuration = current_user.plugin_settings
            """,
            files=(("app/plugins.py", _PLUGINS),),
        ),
        """
        class Tracker:
            _instance = None

            @classmethod
            def get_instance(cls):
                if cls._instance is None:
                    cls._instance = cls()
                return cls._instance

        def begin_request(user_id):
            tracker = Tracker.get_instance()
            tracker.user_id = user_id
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        import threading
        from contextvars import ContextVar

        _current_user = ContextVar("current_user")

        class Tracker:
            _instance = None
            _local = threading.local()

            def __new__(cls):
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
                return cls._instance

            def begin(self, user_id):
                _current_user.set(user_id)
                self._local.user_id = user_id
        """,
        """
        import logging

        class ConnectionManager:
            def __init__(self):
                self._known = set()
                self._log = logging.getLogger(__name__)
                self.count = 0

            def seen(self, user_id):
                self._log.info("user %s connected", user_id)
                self.count += 1
                return user_id in self._known

        manager = ConnectionManager()
        """,
        """
        class Renderer:
            def __init__(self, context):
                self.context = context

        renderer = Renderer(context={"site": "shop"})
        """,
        Example(
            code="""
            import copy

            from app.plugins import Plugin, plugins

            plugins["slack"].configuration = {"channel": "#general"}

            def configure_plugin(slug, current_user):
                plugin = copy.copy(plugins.get(slug))
                plugin.configuration = current_user.plugin_settings
                fresh = Plugin(slug)
                fresh.configuration = current_user.plugin_settings
                return plugin, fresh
            """,
            files=(("app/plugins.py", _PLUGINS),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        class RequestDispatcher:
            def __init__(self, user_id, websocket):
                self.user_id = user_id
                self.websocket = websocket

            def rebind(self, websocket):
                self.websocket = websocket

        def create_dispatcher(user_id, websocket):
            return RequestDispatcher(user_id, websocket)
        """,
        """
        from contextvars import ContextVar

        current_user_id: ContextVar[str | None] = ContextVar("current_user_id", default=None)

        def begin_request(user_id):
            current_user_id.set(user_id)  # this request's context only
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._scope = RequestScope(context)
        self._class: _ClassScan | None = None
        self._method: Method | None = None
        self._covered: set[int] = set()  # inner calls of a chain already reported with it
        self._aliases = AliasScan(self._scope, context.info.module_name)
        self._scan_aliases = not context.info.is_test

    # -- classes and methods -----------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.context.at_module_level() and not self.context.info.is_test:
            self._class = _ClassScan(node)
        elif self._class is not None:
            self._class.nested += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        scan = self._class
        if scan is None:
            return
        if scan.node is not node:
            scan.nested -= 1
            return
        self._class = None
        module = self.context.info.module_name
        share_init = scan.may_share_init()
        for store in scan.stores:
            if store.attribute in scan.local_attributes:
                continue
            if store.method in _CONSTRUCTORS and not store.on_class and not share_init:
                continue
            payload = SharedObjectStore(
                module,
                node.name.value,
                store.method,
                store.datum,
                store.container,
                store.on_class,
            )
            self.add_candidate(store.node, payload, scope=store.scope, sites=(store.scope,))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._scan_aliases:
            self._aliases.push(node)
        scan, scopes = self._class, self.context.scopes
        if scan is not None and scopes and scopes[-1][1] is scan.node:
            self._method = Method.of(node, scan.node.name.value)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._aliases.pop(node)
        if self._method is not None and self._method.node is node:
            self._method = None

    # -- writes ------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)
        self._alias(node)
        self._bind(node, [t.target for t in node.targets])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)
        self._alias(node)
        self._bind(node, [node.target])

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check(node)
        self._alias(node)
        self._aliases.bind_names(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._aliases.bind_names(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._aliases.bind_names(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._aliases.bind_names(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self._aliases.declare_global([item.name.value for item in node.names])

    def _alias(self, node: cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Call) -> None:
        """Writes onto objects taken from process-wide ones (``plugins.get(slug).x = ...``)."""
        if not self._aliases.active:
            return
        found = self._aliases.check(node, self._own_names())
        if found is not None:
            scope = self.context.scope_name()
            self.add_candidate(node, found, scope=scope, sites=(scope,))
        if isinstance(node, (cst.AugAssign, cst.Call)):
            return
        if isinstance(node, cst.Assign):
            self._aliases.bind([t.target for t in node.targets], node.value)
        elif node.value is not None:
            self._aliases.bind([node.target], node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in INSERTING_METHODS:
            return  # (``type() is``: isinstance() is slow on LibCST's classes)
        self._alias(node)
        if self._method is not None and id(node) not in self._covered:
            self._check(node)

    def _own_names(self) -> frozenset[str]:
        """``self`` and the class references: reads of the object's own state are not data."""
        method = self._method
        if method is None:
            return frozenset()
        own = method.class_refs
        return own | {method.self_name} if method.self_name is not None else own

    def _check(self, node: cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Call) -> None:
        method, scan = self._method, self._class
        if method is None or scan is None or scan.nested:
            return
        for write in writes(node):
            parts = chain(write.written)
            owner = _owner(parts, method)
            if owner is None:
                continue
            if owner[1].attr.value == "__dict__":
                scan.writes_dict = True
            if isinstance(node, cst.Call):
                self._covered.update(id(call) for call in parts.calls())
            data = (*write.data, *parts.keys) if write.keyed else write.data
            datum = self._scope.find(data, self._own_names())
            if datum is None:
                continue
            on_class, attribute = owner
            scan.stores.append(
                _Store(
                    node,
                    self.context.scope_name(),
                    method.node.name.value,
                    str(datum),
                    code(attribute),
                    attribute.attr.value,
                    on_class,
                )
            )
            return

    def _bind(self, node: cst.Assign | cst.AnnAssign, targets: list[cst.BaseExpression]) -> None:
        scan, value = self._class, node.value
        if scan is None:
            return  # outside module-level classes nothing is stored on ``self``/``cls``
        if not isinstance(value, cst.Call):
            return
        if self.context.imports.qualified_name(value.func) not in LOCAL_STATE_FACTORIES:
            return
        scopes, method = self.context.scopes, self._method
        for target in targets:
            if isinstance(target, cst.Name) and scopes and scopes[-1][1] is scan.node:
                scan.local_attributes.add(target.value)
            elif isinstance(target, cst.Attribute) and method is not None:
                root = target.value
                is_self = isinstance(root, cst.Name) and root.value == method.self_name
                if is_self or method.is_class_ref(root):
                    scan.local_attributes.add(target.attr.value)

    # -- global phase ------------------------------------------------------------------------
    payload = (SharedObjectStore, AliasWrite)

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        shared = ProcessWide(index)
        for candidate in candidates:
            if isinstance(candidate.payload, AliasWrite):
                write = candidate.payload
                because = shared_reason(write, index, shared)
                if because is not None:
                    message = ALIAS_MESSAGE.format(
                        data=write.datum, target=write.target, reason=because
                    )
                    yield ProjectFinding(candidate, message)
                continue
            store = candidate.payload_as(SharedObjectStore)
            on_class = store.on_class
            target = index.resolve_name(store.module, store.cls)
            why = shared.of_class(target) if isinstance(target, ClassRef) else None
            if store.method in _CONSTRUCTORS and not on_class:
                if why is None or not why.init_per_call:
                    continue  # runs once, when the shared instance is built
            if why is None and not on_class:
                continue
            reason = why.reason if why is not None else _CLASS_STATE
            message = cls.message.format(
                data=store.datum, target=store.container, cls=store.cls, reason=reason
            )
            yield ProjectFinding(candidate, message)
