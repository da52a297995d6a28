"""ISO602: request-scoped data written into a module-level container from a function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Example, Option, Rule, RuleContext
from isolint.rules._bleed import (
    INSERTING_METHODS,
    REQUEST_SCOPED_NAMES,
    REQUEST_SCOPED_TYPES,
    RequestScope,
    chain,
    writes,
)
from isolint.rules._containers import is_mutable_container


@dataclass(frozen=True)
class _Site:
    node: cst.CSTNode
    container: str
    datum: str
    functions: tuple[cst.FunctionDef, ...]  # enclosing functions, outermost first
    scope: str


class RequestDataInModuleContainer(Rule):
    """
    ## What it does
    Finds functions and methods that write request-scoped data into a module-level container
    (a name bound at module level to a list, dict, set, `defaultdict`, `deque`... as in ISO201):
    `_sessions[user_id] = session`, `_by_user.setdefault(user_id, []).append(ws)`,
    `_active.add(user_id)`, `_queue.append(request)`. The data may be the stored value or the
    key it is stored under.

    Request-scoped data is a value whose name is in `request-scoped-names` (`user_id`,
    `session.user_id`), a parameter annotated with a type in `request-scoped-types`, or a local
    computed from one of those (`key = f"{user_id}:{thread_id}"`).

    ## Why is this bad?
    A module is imported once per process, so its containers are shared by every request the
    process serves, whoever sent it. User A's request puts its session into `_sessions`; user B's
    request, served by the same worker, looks a session up by a guessed or stale key, lists
    `_sessions` for an admin page, or broadcasts to every websocket in `_by_user`, and gets A's
    data. Entries also outlive the requests that made them (a leak), and concurrent requests
    race on the container. Keep the request's values on an object the request creates (or in a
    `ContextVar`), and what must outlive it in an injected store that looks up only the
    caller's own entries.

    ## Known problems
    Only containers bound in the same module are seen: a container imported from another module,
    or reached through a local alias or a helper, is not (a value taken out of a process-wide
    container and written to is ISO601's). Counters keyed by user (`_hits[user_id] += 1`) are
    reported: the key is request data stored in the container. Request-scoped data is
    recognised by name and annotation only. Test modules are not checked.

    When ISO201 reports the container itself, the writes this rule finds become related
    locations of that one finding (one finding per root cause) instead of findings of their own.
    """

    code: ClassVar[str] = "ISO602"
    name: ClassVar[str] = "request-data-in-module-container"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES, REQUEST_SCOPED_TYPES)
    summary: ClassVar[str] = "Request-scoped data written into a module-level container"
    message: ClassVar[str] = (
        "Request-scoped {data} is written into module-level container `{container}` in "
        "`{function}()`: the module, and so the container, is shared by every request this "
        "process serves, so another user's request can read it; keep it on a per-request "
        "object or in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        _sessions = {}

        def register(user_id, session):
            _sessions[user_id] = session
        """,
        """
        from collections import defaultdict

        _by_user = defaultdict(list)
        _connections = {}

        async def connect(user_id, websocket):
            await websocket.accept()
            _connections.setdefault(user_id, []).append(websocket)
            _by_user[user_id].append(websocket)
        """,
        """
        _active: set[str] = set()

        class PresenceService:
            def mark_online(self, current_user):
                _active.add(current_user.id)
        """,
        Example(
            code="""
            from app.context import UserExecutionContext

            _runs = []

            def start(ctx: UserExecutionContext, prompt):
                _runs.append((ctx, prompt))
            """,
            config=(("request-scoped-types", ["UserExecutionContext"]),),
        ),
        """
        from collections import Counter

        _requests_by_user = Counter()

        def track(user_id, n=1):
            _requests_by_user[user_id] += n
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        import threading
        from contextvars import ContextVar

        _current_user = ContextVar("current_user")
        _local = threading.local()

        def login(user):
            _current_user.set(user)
            _local.user = user
        """,
        """
        import logging

        _ALLOWED = {"admin", "staff"}
        _hits = {}
        logger = logging.getLogger(__name__)

        def check(user_id, role):
            logger.info("checking %s", user_id)
            _hits["total"] = _hits.get("total", 0) + 1
            return role in _ALLOWED and user_id in _hits
        """,
        """
        _sessions = {}

        def register(user_id, session):
            _sessions = {}
            _sessions[user_id] = session
            return _sessions

        def remember(cache, user_id):
            cache[user_id] = True
        """,
        """
        _HANDLERS = {}

        def route(path):
            def register(fn):
                _HANDLERS[path] = fn
                return fn
            return register
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        def register(store, user_id, session):
            store.save(user_id, session)  # an injected session store (Redis, the database)
        """,
        """
        class Connection:
            def __init__(self, user_id, websocket):
                self.user_id = user_id
                self.websocket = websocket

        async def connect(user_id, websocket):
            await websocket.accept()
            return Connection(user_id, websocket)  # owned by this connection's handler
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._scope = RequestScope(context)
        self._containers: set[str] = set()  # module-level names bound to a mutable container
        self._functions: list[cst.FunctionDef] = []
        self._sites: list[_Site] = []
        self._covered: set[int] = set()

    # -- module-level containers, function-local names ---------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        """Find the module-level containers first: most modules have none, and then the rest
        of the walk has nothing to do."""
        pending: list[cst.CSTNode] = list(node.body)
        while pending:
            statement = pending.pop()
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        self._container(small.targets[0].target, small.value)
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        self._container(small.target, small.value)
            elif isinstance(statement, (cst.If, cst.Else, cst.Try, cst.ExceptHandler, cst.With)):
                body = statement.body
                if isinstance(body, cst.IndentedBlock):
                    pending.extend(body.body)
                if isinstance(statement, cst.If) and statement.orelse is not None:
                    pending.append(statement.orelse)
                if isinstance(statement, cst.Try):
                    pending.extend(statement.handlers)
                    if statement.orelse is not None:
                        pending.append(statement.orelse)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._containers or self.context.at_module_level():
            return
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self._containers or self.context.at_module_level():
            return
        self._check(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._containers and not self.context.at_module_level():
            self._check(node)  # ``_hits[user_id] += 1`` stores under a request-scoped key

    def _container(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Name)
            and not target.value.startswith("__")
            and is_mutable_container(value, self.context.imports)
        ):
            self._containers.add(target.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._functions and self._functions[-1] is node:
            self._functions.pop()

    # -- writes ------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self._containers
            and isinstance(func, cst.Attribute)
            and func.attr.value in INSERTING_METHODS
            and id(node) not in self._covered
        ):
            self._check(node)

    def _check(self, node: cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Call) -> None:
        if not self._functions or self.context.info.is_test:
            return  # import time, or a test helper (tests serve no users)
        if any(function.name.value == "__init_subclass__" for function in self._functions):
            return
        for write in writes(node):
            parts = chain(write.written)
            root = parts.root
            if not isinstance(root, cst.Name):
                continue
            if not isinstance(node, cst.Call) and not parts.reached:
                continue  # ``_state.user = user``: an attribute, not a container entry
            if isinstance(node, cst.Call):
                self._covered.update(id(call) for call in parts.calls())
            datum = self._scope.find((*write.data, *parts.keys), frozenset())
            if datum is None:
                continue
            self._sites.append(
                _Site(
                    node, root.value, str(datum), tuple(self._functions), self.context.scope_name()
                )
            )
            return

    def _is_global(self, site: _Site) -> bool:
        """Does ``site.container`` name the module global in the function the write is in?
        (Python's rule: the innermost function that declares it global, or binds it.)"""
        for function in reversed(site.functions):
            scope = self.context.function_scope(function)
            if site.container in scope.globals:
                return True
            if scope.is_local(site.container):
                return False
        return True

    def leave_Module(self, original_node: cst.Module) -> None:
        for site in self._sites:
            if site.container in self._containers and self._is_global(site):
                self.report(
                    site.node,
                    scope=site.scope,
                    sites=(site.scope,),
                    causes=(f"{self.context.info.module_name}.{site.container}",),
                    cause_note=(
                        f"ISO602: request-scoped {site.datum} is written into "
                        f"`{site.container}` here, in `{site.scope}()`"
                    ),
                    data=site.datum,
                    container=site.container,
                    function=site.scope,
                )
