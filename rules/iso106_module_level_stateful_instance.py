"""ISO106: a module-level instance of a class whose instances carry mutable state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    STRINGS,
    Candidate,
    ClassRef,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Rule,
    dotted_name,
)

SHARED_STATE_CLASSES = Option(
    "shared-state-classes",
    STRINGS,
    (),
    "qualified names of third-party classes to treat as stateful: their module-level "
    'instances are process-wide state (`["cachetools.TTLCache"]`)',
    expected="a list of qualified class names",
)

_MANAGER = """
class ConnectionManager:
    def __init__(self):
        self.connections = {}

    def connect(self, user_id, websocket):
        self.connections[user_id] = websocket


class Formatter:
    def __init__(self, prefix):
        self.prefix = prefix

    def format(self, text):
        return self.prefix + text
"""


_SETUP_METHODS = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__"})


@dataclass(frozen=True)
class ModuleLevelInstance:
    """ISO106's candidate: module-level ``target`` of ``module`` is bound to a call of ``callee``
    (as written); the index says whether that is a class with mutable state."""

    module: str
    callee: str
    target: str


class ModuleLevelStatefulInstance(Rule):
    """
    ## What it does
    Finds module-level assignments that instantiate a project class whose methods change the
    instance after construction (assign to `self.*` outside `__init__`, or mutate a `self.*`
    container), e.g. `manager = ConnectionManager()`. Third-party classes are reported only
    when listed in `shared-state-classes`.

    One finding per root cause: when ISO203 also reports a class attribute of the instance's
    class (or of a base class) that its methods mutate, that state is shared by every instance
    anyway, so the ISO203 finding is the one reported and this instance is one of its related
    locations (`note: ISO106: ...`). With ISO203 not selected, or its finding suppressed,
    the instance is reported here as usual.

    ## Why is this bad?
    A module is imported once per process, so the instance is shared by every request of every
    user the process serves. Whatever one user's request stores in it (a connection, a session,
    a cached result) is visible to the next user's request: a singleton in all but name.
    Create the instance per request (a factory the request calls, or a framework dependency)
    and pass it to the code that needs it.
    """

    code: ClassVar[str] = "ISO106"
    name: ClassVar[str] = "module-level-stateful-instance"
    options: ClassVar[tuple[Option[Any], ...]] = (SHARED_STATE_CLASSES,)
    summary: ClassVar[str] = "Module-level instance of a class with mutable per-instance state"
    message: ClassVar[str] = (
        "`{target}` is a process-wide instance of `{cls}`, which carries mutable state: every "
        "user's requests share it; create it per request (a factory or framework dependency) or "
        "keep per-user state in a `ContextVar`"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.ws import ConnectionManager

            manager = ConnectionManager()
            """,
            files=(("app/ws.py", _MANAGER),),
            expected_line=3,
            expected_message="`manager` is a process-wide instance of `app.ws.ConnectionManager`",
        ),
        Example(
            code="""
            class Tracker:
                def __init__(self):
                    self.seen = []

                def track(self, user_id):
                    self.seen.append(user_id)

            tracker = Tracker()
            """,
            expected_line=8,
            expected_message="`tracker` is a process-wide instance of `app.service.Tracker`",
        ),
        Example(
            code="""
            from cachetools import TTLCache

            user_cache = TTLCache(maxsize=100, ttl=60)
            """,
            config=(("shared-state-classes", ["cachetools.TTLCache"]),),
            expected_line=3,
            expected_message="`user_cache` is a process-wide instance of `cachetools.TTLCache`",
        ),
        Example(
            code="""
            from app.base import BaseCache

            class UserCache(BaseCache):
                pass

            cache = UserCache()
            """,
            files=(
                (
                    "app/base.py",
                    """
                    class BaseCache:
                        def __init__(self):
                            self.entries = {}

                        def put(self, key, value):
                            self.entries[key] = value
                    """,
                ),
            ),
            expected_line=6,
            expected_message="`cache` is a process-wide instance of `app.service.UserCache`",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from typing import TYPE_CHECKING

            from app.ws import ConnectionManager

            if TYPE_CHECKING:
                manager = ConnectionManager()  # for the type checker only: never runs
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
        Example(
            code="""
            import logging
            import threading
            from contextvars import ContextVar
            from fastapi import APIRouter, FastAPI

            logger = logging.getLogger(__name__)
            router = APIRouter()
            app = FastAPI()
            current_user = ContextVar("current_user")
            local = threading.local()
            """,
        ),
        Example(
            code="""
            from app.ws import Formatter

            formatter = Formatter(">")
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.ws import ConnectionManager

            def get_manager():
                return ConnectionManager()  # a new manager for each request
            """,
            files=(("app/ws.py", _MANAGER),),
        ),
        """
        class Tracker:
            def __init__(self):
                self.seen = []

            def track(self, user_id):
                self.seen.append(user_id)

        def handle(request):
            tracker = Tracker()  # one per request, passed to the code that tracks
            tracker.track(request.user.id)
            return tracker
        """,
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level() and len(node.targets) == 1:
            self._check(node, node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.context.at_module_level() and node.value is not None:
            self._check(node, node.target, node.value)

    def _check(
        self, node: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        if self.context.info.is_test or not isinstance(value, cst.Call):
            return
        if not isinstance(target, cst.Name) or target.value == "__all__":
            return
        if any(
            isinstance(a, cst.If) and "TYPE_CHECKING" in self.context.code_for(a.test)
            for a in self.context.ancestors
        ):
            return
        callee = dotted_name(value.func)
        if callee is None:
            return
        qualified = self.context.imports.qualified_name(value.func)
        if qualified is not None and qualified in self.context.option(SHARED_STATE_CLASSES):
            self.report(node, target=target.value, cls=qualified)
            return
        payload = ModuleLevelInstance(self.context.info.module_name, callee, target.value)
        self.add_candidate(node, payload)

    payload = ModuleLevelInstance
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            instance = candidate.payload_as(ModuleLevelInstance)
            target = instance.target
            resolved = index.resolve_dotted(instance.module, instance.callee)
            if not isinstance(resolved, ClassRef):
                continue
            stateful = [
                c for c in (resolved, *index.base_classes(resolved)) if c.cls.has_mutable_state
            ]
            if not stateful:
                continue
            note = (
                f"ISO106: `{target}` is a process-wide instance of `{resolved.qualname}`, so "
                "every user's requests share it too: create it per request as well"
            )
            yield ProjectFinding(
                candidate,
                cls.message.format(target=target, cls=resolved.qualname),
                causes=tuple(c.qualname for c in (resolved, *index.base_classes(resolved))),
                cause_note=note,
                sites=tuple(  # where its state changes (request-reached or not)
                    f"{c.qualname}.{name}" for c in stateful for name in c.cls.mutating_methods
                )
                or tuple(
                    f"{c.qualname}.{m.name}"
                    for c in stateful
                    for m in c.cls.methods
                    if m.name not in _SETUP_METHODS
                ),
            )
