"""ISO202: a function that rebinds a module global through a ``global`` declaration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.api import BindingKind, Example, Rule, RuleContext
from isolint.rules._containers import is_mutable_container
from isolint.rules._singleton_patterns import lazy_initialized_globals


@dataclass(frozen=True)
class _Declaration:
    """A ``global`` statement naming a global, and the function it is in."""

    node: cst.Global
    function: cst.FunctionDef
    scope: str


class GlobalRebinding(Rule):
    """
    ## What it does
    Finds `global NAME` declarations in functions that rebind `NAME`: an assignment, augmented
    assignment (`_count += 1`), `del`, a `for` or `with ... as` target, an `except ... as`
    name or a walrus. One finding per rebound name, at the `global` statement.

    Not reported: a `global` whose name the function only reads or mutates in place
    (`X.append(...)`, which is ISO201), and the lazy getter that creates the global once while it
    is unset (`if _client is None: _client = Client()`, an early `return _client`, `except
    NameError:`) — that is a process-wide singleton, which ISO103 judges.

    ## Why is this bad?
    A module global is one value for the whole process. A function that rebinds it per call —
    the current user, the last request's tenant, a counter, a flag, a cached result — makes
    that value visible to every other request served by the process: the next user's request
    reads the first user's data, and concurrent requests overwrite each other's. Return the
    value to the caller, keep it in a `ContextVar`, or hold it on an object that is created per
    request or injected.

    ## Known problems
    The lazy getter is recognised exactly as ISO103 recognises it, so a function that creates the
    global lazily *and* resets it elsewhere in its body is left to ISO103. A setter called only
    once at start-up (`configure(settings)`) is reported like any other. A `global` used to
    import a module lazily (`global np; import numpy as np`) is not reported.
    """

    code: ClassVar[str] = "ISO202"
    name: ClassVar[str] = "global-rebinding"
    summary: ClassVar[str] = "Function rebinds a module global through `global`"
    message: ClassVar[str] = (
        "`{function}()` rebinds the module global `{name}` through `global {name}`: the value is "
        "shared by the whole process, so one user's request changes what another user sees; "
        "return the value, keep it in a `ContextVar`, or hold it on a per-request object"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        _request_count = 0

        def handle(request):
            global _request_count
            _request_count += 1
            return _request_count
        """,
        """
        current_user = None

        def login(user):
            global current_user
            current_user = user
        """,
        """
        _client = None

        def get_client(settings):
            global _client
            if _client is None:
                _client = make_client(settings)
            return _client

        def reset_client(user):
            global _client
            _client = make_client(user.settings)
        """,
        """
        _cache = {}
        _last = None

        def remember(items):
            global _cache, _last
            for _last in items:
                pass
            del _cache
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        _client = None

        def get_client():
            global _client
            if _client is None:
                _client = make_client()
            return _client

        def get_pool():
            global _pool
            try:
                return _pool
            except NameError:
                _pool = make_pool()
                return _pool
        """,
        """
        _EVENTS = []
        DEBUG = False

        def record(event):
            global _EVENTS, DEBUG
            _EVENTS.append(event)
            _EVENTS += [event]
            if DEBUG:
                print(event)
        """,
        """
        counter = 0

        def count(items):
            counter = 0
            for counter, _ in enumerate(items, 1):
                pass
            return counter

        def outer():
            global counter

            def inner():
                counter = 1
                return counter
            return inner
        """,
        """
        _engine = None

        def engine():
            global _engine
            if _engine is not None:
                return _engine
            _engine = create_engine()
            return _engine
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        from contextvars import ContextVar

        current_user: ContextVar["User | None"] = ContextVar("current_user", default=None)

        def login(user):
            current_user.set(user)  # seen only by this request's context
        """,
        """
        def client_for(user):
            return make_client(user.settings)  # the user's own client, returned to the caller
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._declared: dict[int, dict[str, _Declaration]] = {}
        self._containers: set[str] = set()

    def _function(self) -> cst.FunctionDef | None:
        """The function whose body is the innermost scope, if it is one."""
        scopes = self.context.scopes
        if scopes and isinstance(scopes[-1][1], cst.FunctionDef):
            return scopes[-1][1]
        return None

    def visit_Global(self, node: cst.Global) -> None:
        function = self._function()
        if function is None:
            return
        declared = self._declared.setdefault(id(function), {})
        for item in node.names:
            declared.setdefault(
                item.name.value, _Declaration(node, function, self.context.scope_name())
            )

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level() and is_mutable_container(
            node.value, self.context.imports
        ):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._containers.add(target.target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if (
            self.context.at_module_level()
            and isinstance(node.target, cst.Name)
            and node.value is not None
            and is_mutable_container(node.value, self.context.imports)
        ):
            self._containers.add(node.target.value)

    def leave_Module(self, original_node: cst.Module) -> None:
        for declared in self._declared.values():
            lazy: frozenset[str] | None = None
            for name, declaration in declared.items():
                if name.startswith("__") and name.endswith("__"):
                    continue  # `__doc__`, `__all__`: module metadata, not user state
                scope = self.context.function_scope(declaration.function)
                # every binding, ``del`` included, rebinds the global the function declares
                rebindings = scope.bound(name, frozenset(BindingKind))
                if not rebindings:
                    continue  # only read, or mutated in place (ISO201)
                if name in self._containers and all(
                    b.kind is BindingKind.AUGMENTED for b in rebindings
                ):
                    continue  # `X += [...]` on a module-level container mutates it: ISO201
                if lazy is None:
                    lazy = lazy_initialized_globals(declaration.function)
                if name in lazy:
                    continue  # the lazy getter: ISO103 judges the singleton it creates
                self.report(
                    declaration.node,
                    scope=declaration.scope,
                    sites=(declaration.scope,),
                    name=name,
                    function=declaration.scope,
                )
