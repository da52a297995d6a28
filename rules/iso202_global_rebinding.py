"""ISO202: a function that rebinds a module global through a ``global`` declaration."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import libcst as cst

from linter.api import Example, Rule, RuleContext
from rules._containers import is_mutable_container, target_elements


@dataclass(frozen=True)
class _Declaration:
    """A ``global`` statement naming a global, and the function it is in."""

    node: cst.Global
    scope: str


@dataclass(frozen=True)
class _Rebinding:
    lazy: bool  # an assignment that only runs while the global is unset (lazy getter)
    augmented: bool


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _compares_to_none(test: cst.BaseExpression, name: str, operators: tuple[type, ...]) -> bool:
    """``name is None`` / ``None is name`` (or another operator from ``operators``)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, operators):
        return False
    sides = (test.left, target.comparator)
    return any(_is_name(a, name) for a in sides) and any(_is_name(a, "None") for a in sides)


def _tests_unset(test: cst.BaseExpression, name: str) -> bool:
    """A test that is true when the global is unset: ``X is None``, ``not X``, ``X == None``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _is_name(test.expression, name)
    if isinstance(test, cst.BooleanOperation):
        return _tests_unset(test.left, name) or _tests_unset(test.right, name)
    return _compares_to_none(test, name, (cst.Is, cst.Equal))


def _tests_set(test: cst.BaseExpression, name: str) -> bool:
    """A test that is true only when the global is set: ``X``, ``X is not None``."""
    if _is_name(test, name):
        return True
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _tests_set(test.left, name) or _tests_set(test.right, name)
    return _compares_to_none(test, name, (cst.IsNot, cst.NotEqual))


def _catches_name_error(handler: cst.ExceptHandler) -> bool:
    kind = handler.type
    types = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    return any(t is not None and _is_name(t, "NameError") for t in types)


def _returns_when_set(statement: cst.BaseStatement, name: str) -> bool:
    """``if X is not None: return X`` — an early exit that guards what follows."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    if not _tests_set(statement.test, name):
        return False
    body = statement.body
    last = body.body[-1] if isinstance(body, cst.IndentedBlock) else body
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    return False


def _guards(parent: cst.CSTNode, child: cst.CSTNode, name: str, names: Collection[str]) -> bool:
    """True if ``child`` of ``parent`` only runs while global ``name`` (or one of ``names``,
    the function's other globals: ``if _path is None: _ctx = ...; _path = ...``) is unset."""
    if isinstance(parent, cst.If):
        return child is parent.body and any(_tests_unset(parent.test, n) for n in names)
    if isinstance(parent, cst.ExceptHandler):
        return child is parent.body and _catches_name_error(parent)
    if isinstance(parent, cst.BooleanOperation):
        return (
            child is parent.right
            and isinstance(parent.operator, cst.Or)
            and _is_name(parent.left, name)
        )
    if isinstance(parent, cst.IfExp):
        return (child is parent.body and _tests_unset(parent.test, name)) or (
            child is parent.orelse and _tests_set(parent.test, name)
        )
    return False


def _is_lazy_assignment(
    path: Sequence[cst.CSTNode], function: cst.FunctionDef, name: str, names: Collection[str]
) -> bool:
    """True if the assignment at the end of ``path`` (function body first) only runs while unset.

    The lazy-getter shape ISO103 recognises: under ``if X is None:`` / ``if not X:``, in an
    ``except NameError:`` handler, after ``if X is not None: return X``, or a walrus in
    ``X or (X := ...)``.
    """
    if any(_guards(parent, child, name, names) for parent, child in pairwise(path)):
        return True
    body = function.body
    if isinstance(body, cst.IndentedBlock) and len(path) > 1:
        statement = path[1]
        for earlier in body.body:
            if earlier is statement:
                break
            if any(_returns_when_set(earlier, n) for n in names):
                return True
    return False


class GlobalRebinding(Rule):
    """
    ## What it does
    Finds `global NAME` declarations in functions that rebind `NAME`: an assignment, augmented
    assignment (`_count += 1`), `del`, a `for` or `with ... as` target, an `except ... as`
    name or a walrus. One finding per rebound name, at the `global` statement.

    Not reported: a `global` whose name the function only reads or mutates in place
    (`X.append(...)`, which is ISO201), and the lazy getter that creates the global once while it
    is unset (`if _client is None: _client = Client()`, `except NameError:`) — that is a
    process-wide singleton, which the ISO1 rules judge.

    ## Why is this bad?
    A module global is one value for the whole process. A function that rebinds it per call —
    the current user, the last request's tenant, a counter, a flag, a cached result — makes
    that value visible to every other request served by the process: the next user's request
    reads the first user's data, and concurrent requests overwrite each other's. Return the
    value to the caller, keep it in a `ContextVar`, or hold it on an object that is created per
    request or injected.

    ## Known problems
    A lazy getter is recognised only in the shapes listed above. A `global` used to import a
    module lazily (`global np; import numpy as np`) is not reported.
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

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._declared: dict[int, dict[str, _Declaration]] = {}
        self._rebindings: dict[tuple[int, str], list[_Rebinding]] = {}
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
            declared.setdefault(item.name.value, _Declaration(node, self.context.scope_name()))

    def _rebind(self, node: cst.CSTNode, target: cst.BaseExpression | None, kind: str) -> None:
        if target is None:
            return
        function = self._function()
        if function is None:
            return
        declared = self._declared.get(id(function))
        if not declared:
            return
        for element in target_elements(target):
            if not isinstance(element, cst.Name) or element.value not in declared:
                continue
            lazy = False
            if kind == "assign":
                ancestors = self.context.ancestors
                start = max(i for i, a in enumerate(ancestors) if a is function)
                path = [*ancestors[start + 1 :], node]
                lazy = _is_lazy_assignment(path, function, element.value, declared)
            self._rebindings.setdefault((id(function), element.value), []).append(
                _Rebinding(lazy=lazy, augmented=kind == "augmented")
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

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._rebind(node, node.target, "assign")

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._rebind(node, node.target, "assign")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebind(node, node.target, "augmented")

    def visit_Del(self, node: cst.Del) -> None:
        self._rebind(node, node.target, "other")

    def visit_For(self, node: cst.For) -> None:
        self._rebind(node, node.target, "other")

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._rebind(node, node.asname.name if node.asname else None, "other")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._rebind(node, node.name.name if node.name else None, "other")

    def leave_Module(self, original_node: cst.Module) -> None:
        for function_id, declared in self._declared.items():
            for name, declaration in declared.items():
                if name.startswith("__") and name.endswith("__"):
                    continue  # `__doc__`, `__all__`: module metadata, not user state
                rebindings = self._rebindings.get((function_id, name), [])
                # `X += [...]` on a module-level container mutates it in place: ISO201's case.
                in_place = name in self._containers
                if any(not r.lazy and not (r.augmented and in_place) for r in rebindings):
                    self.report(
                        declaration.node,
                        scope=declaration.scope,
                        name=name,
                        function=declaration.scope,
                    )
