"""ISO105: a zero-argument ``lru_cache``/``cache`` function that returns a new class instance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    ProjectFinding,
    ProjectIndex,
    Rule,
    RuleContext,
    Severity,
    dotted_name,
)
from isolint.rules._singleton_patterns import IMMUTABLE_FACTORIES, assignments, iter_small_statements
from isolint.rules._sites import qualified
from isolint.rules._state import is_stateless_class

_CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache"})


@dataclass(frozen=True)
class _CachedFactory:
    node: cst.FunctionDef
    scope: str
    decorator: str
    callees: tuple[tuple[str, bool, str], ...]  # (callee name, is a plain name, as written)


@dataclass(frozen=True)
class CachedFactory:
    """ISO105's candidate: ``function`` of ``module``, cached by ``decorator``, returns instances
    of ``classes``: (class name, the callee as written) pairs; the index says which hold state."""

    module: str
    function: str
    decorator: str
    classes: tuple[tuple[str, str], ...]


class CachedInstanceFactory(Rule):
    """
    ## What it does
    Finds functions that take no arguments, are decorated with `functools.lru_cache` or
    `functools.cache` (in any import spelling, with or without arguments), and return a new
    instance of a class: `return Client(...)`, where the callee starts with an uppercase letter
    or is a class of the same module, directly or through a local variable. Module-level
    functions and static methods are checked.

    ## Why is this bad?
    With no arguments there is only one cache key: the first call creates the object and every
    later call, from every request of every user, returns that same object for the life of the
    process. It is a singleton in disguise. If the object holds any per-request state (a
    session, the current user, a cache filled from one user's data), the next user sees it.
    Drop the cache so each call (each request) builds its own object, and close per-request
    resources when the request ends (a generator dependency that yields it).

    ## Known problems
    This is a warning because a cached, read-only settings object is a common and often safe
    idiom. Instances of project classes whose state nothing changes after construction (no
    method outside `__init__` assigns or mutates `self.*`, also through `setattr` or
    `heapq`/`bisect`; a pydantic `BaseModel`/`BaseSettings` or `NamedTuple` base counts as
    stateless when every field is declared immutable, `str | None`, `float`...: a `dict` field
    is state any caller can fill) are not reported, nor well-known immutable value types such as
    `pathlib.Path` and `decimal.Decimal`, nor calls of lowercase functions
    (`return load_settings()`). A third-party class is reported: the rule cannot see its state.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO105"
    name: ClassVar[str] = "cached-instance-factory"
    summary: ClassVar[str] = (
        "Zero-argument cached function returns one shared instance of a class to every caller"
    )
    message: ClassVar[str] = (
        "`{function}` takes no arguments and is decorated with `@{decorator}`, so the `{cls}` it "
        "returns is created once and shared by every caller: state one user's request leaves on "
        "it is read by the next user's; create it per request and pass it in (dependency "
        "injection), or make it immutable and say so"
    )
    severity: ClassVar[Severity] = Severity.WARNING
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        from functools import lru_cache

        @lru_cache
        def get_cart_service():
            return CartService()
        """,
        """
        import os
        from functools import lru_cache

        from pydantic import BaseModel

        class EndpointConfig(BaseModel):
            url: str
            last_user: str | None = None

            def record(self, user):
                self.last_user = user

        @lru_cache(maxsize=1)
        def get_push_config():
            return EndpointConfig(url=os.environ["PUSH_URL"])
        """,
        """
        import functools

        @functools.lru_cache(maxsize=None)
        def get_db():
            session = Session(autoflush=False)
            session.begin()
            return session
        """,
        """
        import functools as ft

        class Registry:
            def __init__(self):
                self.handlers = {}

            def register(self, name, handler):
                self.handlers[name] = handler

            @staticmethod
            @ft.lru_cache(maxsize=1)
            def default():
                return Registry()
        """,
        """
        from functools import cache

        class tenant_context:
            def __init__(self):
                self.tenant = None

            def enter(self, tenant):
                self.tenant = tenant

        @cache
        def current_tenant():
            return tenant_context()
        """,
        """
        import bisect
        from functools import lru_cache

        class Leaderboard:
            def __init__(self):
                self.scores = []

            def record(self, score):
                bisect.insort(self.scores, score)

        @lru_cache
        def get_leaderboard():
            return Leaderboard()
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        import os
        from functools import lru_cache

        from pydantic import BaseModel

        class EndpointConfig(BaseModel):
            url: str
            timeout_seconds: float = 5.0

        @lru_cache(maxsize=1)
        def get_push_config():
            return EndpointConfig(url=os.environ["PUSH_URL"])
        """,
        """
        from functools import lru_cache

        @lru_cache(maxsize=1024)
        def get_user(user_id):
            return User(user_id)
        """,
        """
        import functools
        import os

        @functools.cache
        def app_name():
            return os.environ.get("APP_NAME", "shop")
        """,
        """
        from functools import lru_cache

        @lru_cache
        def get_settings():
            return load_settings()
        """,
        """
        from functools import cache
        from pathlib import Path

        @cache
        def project_root():
            return Path(__file__).resolve().parent
        """,
        """
        from functools import lru_cache

        class FakeHasher:
            def __init__(self, salt="x"):
                self.salt = salt

            def hash(self, text):
                return self.salt + text

        @lru_cache
        def get_hasher():
            return FakeHasher()
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        def get_cart_service():
            return CartService()  # no cache: every request gets its own service
        """,
        """
        def get_db():
            session = Session(autoflush=False)
            session.begin()
            try:
                yield session  # one session per request
            finally:
                session.close()
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._class_names: set[str] = set()
        self._factories: list[_CachedFactory] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_names.add(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scopes = self.context.scopes
        if scopes and not isinstance(scopes[-1][1], cst.ClassDef):
            return  # a nested function is created anew per call of its parent
        if not node.decorators or _has_params(node):
            return
        decorator = self._cache_decorator(node)
        if decorator is None:
            return
        callees = self._returned_callees(node)
        if callees:
            self._factories.append(
                _CachedFactory(node, self.context.scope_name(), decorator, callees)
            )

    def leave_Module(self, node: cst.Module) -> None:
        module = self.context.info.module_name
        for factory in self._factories:
            classes = tuple(
                (callee, written)
                for callee, plain, written in factory.callees
                if callee.lstrip("_")[:1].isupper() or (plain and callee in self._class_names)
            )
            if classes:
                payload = CachedFactory(module, factory.node.name.value, factory.decorator, classes)
                sites = (qualified(factory.scope, factory.node.name.value),)
                self.add_candidate(factory.node.name, payload, scope=factory.scope, sites=sites)

    payload = CachedFactory
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            factory = candidate.payload_as(CachedFactory)
            for callee, written in factory.classes:
                if not is_stateless_class(index, factory.module, written):
                    message = cls.message.format(
                        function=factory.function, decorator=factory.decorator, cls=callee
                    )
                    yield ProjectFinding(candidate, message)
                    break

    def _cache_decorator(self, node: cst.FunctionDef) -> str | None:
        """The cache decorator's source, e.g. ``lru_cache(maxsize=1)``, if ``node`` has one."""
        for decorator in node.decorators:
            expr = decorator.decorator
            func = expr.func if isinstance(expr, cst.Call) else expr
            if self.context.imports.qualified_name(func) not in _CACHE_DECORATORS:
                continue
            if isinstance(expr, cst.Call) and _disables_cache(expr):
                return None
            return " ".join(self.context.code_for(expr).split())
        return None

    def _returned_callees(self, node: cst.FunctionDef) -> tuple[tuple[str, bool, str], ...]:
        """Names of the callables whose results the function returns (through local names)."""
        bound: dict[str, cst.Call] = {}
        found: list[tuple[str, bool, str]] = []
        for small in iter_small_statements(node.body):
            for target, value in assignments(small):
                if isinstance(target, cst.Name):
                    if isinstance(value, cst.Call):
                        bound[target.value] = value
                    else:
                        bound.pop(target.value, None)
            if not isinstance(small, cst.Return) or small.value is None:
                continue
            value = small.value
            call = bound.get(value.value) if isinstance(value, cst.Name) else value
            if not isinstance(call, cst.Call):
                continue
            callee = call.func
            if self.context.imports.qualified_name(callee) in IMMUTABLE_FACTORIES:
                continue
            written = dotted_name(callee) or ""
            if isinstance(callee, cst.Name):
                found.append((callee.value, True, written))
            elif isinstance(callee, cst.Attribute):
                found.append((callee.attr.value, False, written))
        return tuple(found)


def _has_params(node: cst.FunctionDef) -> bool:
    params = node.params
    return bool(
        params.posonly_params
        or params.params
        or params.kwonly_params
        or isinstance(params.star_arg, cst.Param)
        or params.star_kwarg is not None
    )


def _disables_cache(call: cst.Call) -> bool:
    """``lru_cache(maxsize=0)`` / ``lru_cache(0)`` caches nothing."""
    for index, arg in enumerate(call.args):
        is_maxsize = (arg.keyword is None and index == 0) or (
            arg.keyword is not None and arg.keyword.value == "maxsize"
        )
        if is_maxsize and isinstance(arg.value, cst.Integer) and arg.value.evaluated_value == 0:
            return True
    return False
