"""ISO603: a web framework dependency or route handler hands a process-wide object to requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    FunctionRef,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    Severity,
    dotted_name,
)
from isolint.rules._bleed import ProcessWide, code

_DEPENDS = frozenset(
    {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security"}
)
# ``@app.get(...)``, ``@router.websocket(...)``: the decorated function serves requests.
_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "delete", "patch", "head", "options", "websocket", "api_route"}
)

_MANAGER_CLASS = """
from fastapi import WebSocket


class ConnectionManager:
    def __init__(self):
        self.connections = {}

    def connect(self, user_id: str, websocket: WebSocket):
        self.connections[user_id] = websocket
"""
_MANAGER = (
    _MANAGER_CLASS
    + """

_manager = None


def get_manager():
    global _manager
    if _manager is None:
        _manager = ConnectionManager()
    return _manager
"""
)
_DB = """
class Session:
    def __init__(self):
        self.pending = []

    def add(self, item):
        self.pending.append(item)


def get_db_session():
    session = Session()
    try:
        yield session
    finally:
        session.pending.clear()
"""


@dataclass(frozen=True)
class GetterUse:
    """ISO603's candidate: request code of ``module`` gets an object from ``getter`` (dotted, as
    written); ``site`` describes the use (``Depends(get_x)``, a call in a route handler). The
    index says whether ``getter`` hands out one shared mutable object."""

    module: str
    getter: str
    site: str


class SharedObjectDependency(Rule):
    """
    ## What it does
    Finds web framework code that gives requests a process-wide object with mutable state:

    - a FastAPI dependency on a getter of one, as a parameter default
      (`manager = Depends(get_manager)`), in `Annotated[ConnectionManager, Depends(get_manager)]`
      or anywhere else `Depends(...)`/`Security(...)` is written;
    - a call of such a getter with no arguments inside a route or websocket handler (a function
      decorated with `@app.get/post/put/delete/patch/head/options/websocket/api_route(...)` or
      the same on a router).

    The getter, resolved across modules, must be an ISO103 lazy global getter (it keeps what it
    creates in a module global), an ISO105 cached provider (no arguments, `functools.lru_cache`
    or `cache`), or a function without arguments returning a module-level instance; and what it
    returns must be a project class whose methods change its instances after construction.

    ## Why is this bad?
    A dependency reads like "give this request a connection manager", but the getter returns
    the same object to every request the process serves. User A's websocket handler registers
    A's socket on it; user B's request, given the very same manager, broadcasts or looks up a
    connection and reaches A's socket, or reads state A's request left behind. Every request
    that should have had its own object shares one with every other user. Have the dependency
    create the object for each request (a factory, or a generator that yields a fresh one), and
    keep what must outlive the request in a store keyed by user (the database), not on it.

    ## Known problems
    Only FastAPI's `Depends`/`Security` and decorator-style routes are recognised. A getter that
    shares a deliberately process-wide, thread-safe object (a connection pool) is reported too
    when the class looks mutable; suppress it with a comment saying why sharing it is safe.
    The data stored on the shared object is ISO601's business; this rule points at the place
    that hands the object out. Test modules are not checked.

    ## Options
    `request-scoped-names` and `request-scoped-types` (see ISO601) are not used by this rule:
    the shared object is the problem whatever data it later receives.
    """

    code: ClassVar[str] = "ISO603"
    name: ClassVar[str] = "shared-object-dependency"
    summary: ClassVar[str] = (
        "Framework dependency or route handler hands a process-wide mutable object to requests"
    )
    message: ClassVar[str] = (
        "{site} gives every request the same `{cls}` instance ({reason}), and its methods "
        "change it: what one user's request leaves on it, the next user's request sees; depend "
        "on a provider that creates (or yields) a new object per request"
    )
    severity: ClassVar[Severity] = Severity.WARNING
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from fastapi import APIRouter, Depends, WebSocket

            from app.ws import ConnectionManager, get_manager

            router = APIRouter()

            @router.websocket("/ws/{user_id}")
            async def ws(websocket: WebSocket, user_id: str, manager=Depends(get_manager)):
                manager.connect(user_id, websocket)
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
        Example(
            code="""
            from typing import Annotated

            from fastapi import Depends, FastAPI

            from app.ws import ConnectionManager, get_manager

            app = FastAPI()
            Manager = Annotated[ConnectionManager, Depends(get_manager)]
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
        Example(
            code="""
            from fastapi import FastAPI

            from app import ws

            app = FastAPI()

            @app.post("/connect")
            async def connect(user_id: str):
                manager = ws.get_manager()
                return len(manager.connections)
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
        """
        from functools import lru_cache

        import fastapi

        class CartService:
            def __init__(self):
                self.carts = {}

            def add(self, user_id, item):
                self.carts.setdefault(user_id, []).append(item)

        @lru_cache
        def get_cart_service():
            return CartService()

        def checkout(service: CartService = fastapi.Depends(get_cart_service)):
            return service
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from fastapi import Depends, FastAPI

            from app.db import Session, get_db_session

            app = FastAPI()

            @app.get("/items")
            def items(session: Session = Depends(get_db_session)):
                return session.pending
            """,
            files=(("app/db.py", _DB),),
        ),
        """
        from functools import lru_cache

        from fastapi import Depends

        class Settings:
            def __init__(self):
                self.debug = False

        @lru_cache
        def get_settings():
            return Settings()

        def index(settings: Settings = Depends(get_settings)):
            return settings.debug
        """,
        Example(
            code="""
            from fastapi import Depends, FastAPI

            from app.ws import ConnectionManager, get_manager

            app = FastAPI()

            def create_manager():
                return ConnectionManager()

            @app.get("/status")
            def status(manager: ConnectionManager = Depends(create_manager)):
                return len(manager.connections)

            def admin_report():
                return len(get_manager().connections)
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from fastapi import APIRouter, Depends, WebSocket

            from app.ws import ConnectionManager

            router = APIRouter()

            def create_manager():
                return ConnectionManager()  # one per connection: only this user's socket

            @router.websocket("/ws/{user_id}")
            async def ws(websocket: WebSocket, user_id: str, manager=Depends(create_manager)):
                manager.connect(user_id, websocket)
            """,
            files=(("app/ws.py", _MANAGER_CLASS),),
        ),
        """
        import fastapi

        from app.db import get_db

        class CartService:
            def __init__(self, db):
                self.db = db  # carts live in the database, keyed by user

            def add(self, user_id, item):
                self.db.add_cart_item(user_id, item)

        def get_cart_service(db=fastapi.Depends(get_db)):
            return CartService(db)  # a new service per request

        def checkout(service: CartService = fastapi.Depends(get_cart_service)):
            return service
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._handlers: list[tuple[cst.FunctionDef, set[str]]] = []  # with their local names

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._handlers:
            self._handlers[-1][1].add(node.name.value)
        if not self._is_route(node):
            return
        params = node.params
        every = (*params.posonly_params, *params.params, *params.kwonly_params)
        self._handlers.append((node, {param.name.value for param in every}))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._handlers and self._handlers[-1][0] is node:
            self._handlers.pop()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if self._handlers and isinstance(node.target, cst.Name):
            self._handlers[-1][1].add(node.target.value)

    def _is_route(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            expr = decorator.decorator
            if (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value in _ROUTE_METHODS
            ):
                return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.info.is_test:
            return  # a test overriding or calling a getter serves no users
        module = self.context.info.module_name
        if self._is_depends(node.func):
            getter = _dependency(node)
            if getter is not None:
                site = f"`{code(node)}`"
                self.add_candidate(node, GetterUse(module, getter, site))
            return
        if not self._handlers or node.args:
            return
        callee = dotted_name(node.func)
        if callee is None:
            return
        handler, local_names = self._handlers[-1]
        if callee.split(".", 1)[0] in local_names:
            return  # ``websocket.accept()``: a method of a parameter or local
        site = f"`{callee}()` in route handler `{handler.name.value}`"
        self.add_candidate(node, GetterUse(module, callee, site))

    def _is_depends(self, func: cst.BaseExpression) -> bool:
        # ``type() is``, not isinstance(): slow on LibCST's classes, and this runs per call
        last = func.attr if type(func) is cst.Attribute else func
        if type(last) is not cst.Name or last.value not in ("Depends", "Security"):
            return False
        qualified = self.context.imports.qualified_name(func)
        if qualified is not None:
            return qualified in _DEPENDS
        return isinstance(func, cst.Name) and func.value in ("Depends", "Security")

    payload = GetterUse

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        shared = ProcessWide(index)
        for candidate in candidates:
            use = candidate.payload_as(GetterUse)
            target = index.resolve_dotted(use.module, use.getter)
            if not isinstance(target, FunctionRef):
                continue
            provided = shared.provided_by(target)
            if provided is None or not shared.is_mutable(provided[0]):
                continue
            found, reason = provided
            message = cls.message.format(site=use.site, cls=found.qualname, reason=reason)
            yield ProjectFinding(candidate, message)


def _dependency(call: cst.Call) -> str | None:
    """The dependency callable of ``Depends(get_x)`` / ``Depends(dependency=get_x)``."""
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return dotted_name(arg.value)
        if arg.keyword is not None and arg.keyword.value == "dependency":
            return dotted_name(arg.value)
    return None
