"""ISO202: a function that rebinds a module global through a ``global`` declaration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import BindingKind, Example, Option, Rule, RuleContext, dotted_name
from isolint.rules._bleed import REQUEST_SCOPED_NAMES
from isolint.rules._constants import bound_values, immutable_annotation, request_data_flows
from isolint.rules._containers import is_mutable_container
from isolint.rules._singleton_patterns import lazy_initialized_globals, set_once_bindings


def _is_literal(value: cst.BaseExpression) -> bool:
    """``True``, ``False``, ``None``, a number or a plain string literal."""
    if isinstance(value, cst.Name):
        return value.value in {"True", "False", "None"}
    return isinstance(value, (cst.Integer, cst.Float, cst.SimpleString))


def _reads_only_as_guard(module: cst.Module, name: str, setters: set[str]) -> bool:
    """``name`` is read at least once in ``module``, and every read is in the test of an
    ``if``, either in one of the functions ``setters`` that set it (guarding their own work)
    or with branches that assign ``name`` or call one of ``setters`` by name."""
    reads = 0
    pending: list[tuple[cst.CSTNode, cst.If | None]] = [(module, None)]
    while pending:
        node, guard = pending.pop()
        if isinstance(node, (cst.Global, cst.AssignTarget)):
            continue
        if isinstance(node, cst.FunctionDef) and node.name.value in setters:
            in_tests = _reads_in_if_tests(node.body, name)
            if in_tests < 0:
                return False
            reads += in_tests
            continue
        if isinstance(node, cst.Attribute):
            pending.append((node.value, guard))
            continue
        if isinstance(node, cst.Name) and node.value == name:
            if guard is None or not _sets(guard, name, setters):
                return False
            reads += 1
            continue
        if isinstance(node, cst.If):
            pending.append((node.test, node))
            pending.extend((child, guard) for child in node.children if child is not node.test)
            continue
        pending.extend((child, guard) for child in node.children)
    return reads > 0


def _reads_in_if_tests(body: cst.CSTNode, name: str) -> int:
    """How often ``body`` reads ``name`` in the test of an ``if``; -1 if it reads it anywhere
    else."""
    count = 0
    pending: list[tuple[cst.CSTNode, bool]] = [(body, False)]
    while pending:
        node, in_test = pending.pop()
        if isinstance(node, (cst.Global, cst.AssignTarget)):
            continue
        if isinstance(node, cst.Attribute):
            pending.append((node.value, in_test))
            continue
        if isinstance(node, cst.Name) and node.value == name:
            if not in_test:
                return -1
            count += 1
            continue
        if isinstance(node, cst.If):
            pending.append((node.test, True))
            pending.extend((child, False) for child in node.children if child is not node.test)
            continue
        pending.extend((child, in_test) for child in node.children)
    return count


def _sets(statement: cst.If, name: str, setters: set[str]) -> bool:
    """The branches of ``statement`` assign ``name`` or call a function in ``setters``."""
    pending: list[cst.CSTNode] = [statement.body]
    if statement.orelse is not None:
        pending.append(statement.orelse)
    while pending:
        node = pending.pop()
        if isinstance(node, cst.AssignTarget) and dotted_name(node.target) == name:
            return True
        if isinstance(node, cst.Call) and dotted_name(node.func) in setters:
            return True
        pending.extend(node.children)
    return False


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

    Nor a lazily cached constant: a global declared with an immutable type (`str | None`, `int`,
    `tuple`...) that the function binds only while it is unset (`if not _key: ... _key =
    fetched`, also double-checked under a lock), with no parameter of the function and no
    request-scoped name (`request-scoped-names`) flowing into the value, directly or through
    its local variables: every user gets the same value, as ISO103 decides for lazy getters.
    Nor a run-once latch: a global that every function of the module rebinding it sets, by
    plain assignment, to one and the same literal (`_capped = True`), and that the module reads
    only in the test of an `if` that sets it or calls the function that does (`if not _capped:
    cap_log_levels()`): once set it holds that value for the process's life, and all it
    changes is that the same one-time work is not done again. A flag read anywhere else (a
    `_debug = True` switch) is reported.

    ## Why is this bad?
    A module global is one value for the whole process. A function that rebinds it per call —
    the current user, the last request's tenant, a counter, a flag, a cached result — makes
    that value visible to every other request served by the process: the next user's request
    reads the first user's data, and concurrent requests overwrite each other's. Return the
    value to the caller, keep it in a `ContextVar`, or hold it on an object that is created per
    request or injected.

    ## Known problems
    Reads of a latch in other modules are not seen. The lazy getter is recognised exactly as
    ISO103 recognises it, so a function that creates the
    global lazily *and* resets it elsewhere in its body is left to ISO103. A setter called only
    once at start-up (`configure(settings)`) is reported like any other. A `global` used to
    import a module lazily (`global np; import numpy as np`) is not reported.
    """

    code: ClassVar[str] = "ISO202"
    name: ClassVar[str] = "global-rebinding"
    options: ClassVar[tuple[Option[Any], ...]] = (REQUEST_SCOPED_NAMES,)
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
        _tenant_domain: str | None = None

        def get_domain(tenant):
            global _tenant_domain
            if not _tenant_domain:
                _tenant_domain = tenant.domain
            return _tenant_domain
        """,
        """
        _publishable_key: str | None = None

        def get_publishable_key():
            global _publishable_key
            if _publishable_key is None:
                _publishable_key = fetch_key()
            return _publishable_key

        def rotate_key(new_key):
            global _publishable_key
            _publishable_key = new_key
        """,
        """
        _ready = False

        def mark_ready():
            global _ready
            _ready = True

        def mark_unready():
            global _ready
            _ready = False
        """,
        """
        _debug = False

        def enable_debug():
            global _debug
            _debug = True

        def handle(request):
            if _debug:
                print(request.headers)
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
        """
        import asyncio

        _publishable_key: str | None = None
        _key_lock = asyncio.Lock()

        async def get_publishable_key():
            global _publishable_key
            if _publishable_key:
                return _publishable_key
            async with _key_lock:
                if _publishable_key:
                    return _publishable_key
                key = (await fetch_key_file()).strip()
                _publishable_key = key
                return key
        """,
        """
        import logging

        _levels_capped = False

        def cap_third_party_log_levels():
            global _levels_capped
            _levels_capped = True
            logging.getLogger("httpx").setLevel(logging.WARNING)

        def setup_logger(name):
            if not _levels_capped:
                cap_third_party_log_levels()
            return logging.getLogger(name)
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
        self._annotations: dict[str, cst.BaseExpression] = {}  # module-level `name: T = ...`

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
        if self.context.at_module_level() and isinstance(node.target, cst.Name):
            self._annotations.setdefault(node.target.value, node.annotation.annotation)
        if (
            self.context.at_module_level()
            and isinstance(node.target, cst.Name)
            and node.value is not None
            and is_mutable_container(node.value, self.context.imports)
        ):
            self._containers.add(node.target.value)

    def _cached_constant(self, function: cst.FunctionDef, name: str, rebindings: int) -> bool:
        """``function`` binds ``name``, declared with an immutable type, only while it is
        unset (all ``rebindings`` of it), and no parameter or request-scoped name flows into
        the values: a lazily cached constant."""
        annotation = self._annotations.get(name)
        if annotation is None or not immutable_annotation(annotation):
            return False
        if set_once_bindings(function).get(name) != rebindings:
            return False
        names = self.context.option(REQUEST_SCOPED_NAMES)
        return not any(
            request_data_flows(function, value, names) for value in bound_values(function, name)
        )

    def _latch(self, name: str) -> bool:
        """A run-once latch: every function of the module that rebinds ``name`` binds it only
        by plain assignment, to one and the same literal constant (``_done = True``), and the
        module reads it only to skip work already done: each read is in the test of an ``if``
        whose branches set it or call a function that does. Once set it holds that value for
        the life of the process, and nothing but that skipped work depends on it."""
        literals: set[str] = set()
        setters: set[str] = set()
        for declared in self._declared.values():
            declaration = declared.get(name)
            if declaration is None:
                continue
            setters.add(declaration.function.name.value)
            scope = self.context.function_scope(declaration.function)
            rebindings = scope.bound(name, frozenset(BindingKind))
            if any(b.kind is not BindingKind.ASSIGN for b in rebindings):
                return False
            values = bound_values(declaration.function, name)
            if len(values) != len(rebindings) or not all(map(_is_literal, values)):
                return False
            literals.update(self.context.code_for(value) for value in values)
        return len(literals) == 1 and _reads_only_as_guard(self.context.module, name, setters)

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
                if self._cached_constant(declaration.function, name, len(rebindings)):
                    continue
                if self._latch(name):
                    continue
                self.report(
                    declaration.node,
                    scope=declaration.scope,
                    sites=(declaration.scope,),
                    name=name,
                    function=declaration.scope,
                )
