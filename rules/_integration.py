"""Shared by the ISO3 rules: which parts of a test file are integration tests, and what is a mock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from linter.api import ImportTable, Rule, RuleContext

# Mocking libraries, as absolute module names; their submodules count too.
MOCK_LIBRARIES = (
    "unittest.mock",
    "mock",
    "asynctest",
    "pytest_mock",
    "flexmock",
    "doublex",
    "mockito",
)
# pytest-mock's fixtures (every scope); calls on them create mocks and patches.
MOCKER_FIXTURES = frozenset(
    {"mocker", "class_mocker", "module_mocker", "package_mocker", "session_mocker"}
)
# Process environment: patching it sets a test up rather than faking a service.
ENVIRONMENT = frozenset({"os.environ", "os.environb", "sys.argv", "sys.path"})


def mock_library(module: str | None) -> str | None:
    """The mocking library that ``module`` (an absolute dotted name) belongs to, if any."""
    if module is None:
        return None
    for library in MOCK_LIBRARIES:
        if module == library or module.startswith(library + "."):
            return library
    return None


def _string(node: cst.SimpleString) -> str | None:
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def function_params(node: cst.FunctionDef | cst.Lambda) -> list[str]:
    params = node.params
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    return [param.name.value for param in every]


def snippet(context: RuleContext, node: cst.CSTNode, limit: int = 60) -> str:
    """The node's source on one line, shortened to ``limit`` characters."""
    text = " ".join(context.code_for(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Pending:
    """A finding waiting for the end of the module, when every marker has been seen."""

    node: cst.CSTNode
    enclosing: tuple[cst.CSTNode, ...]
    scope: str
    message: str


class IntegrationTestRule(Rule):
    """Base of the ISO3 rules: tracks integration-test status and reports deferred findings.

    A file is an integration test by path (``integration-tests``) or by ``pytestmark`` at module
    level; a class or function is one by a marker decorator (or a class-level ``pytestmark``).
    A marker may follow the code it applies to, so subclasses call ``defer`` and the findings
    inside integration tests are reported when the module is left.
    """

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        info = context.info
        self.in_tests = info.is_test or info.is_integration_test
        self.whole_module = info.is_integration_test
        self.marked: set[cst.CSTNode] = set()
        self.pending: list[Pending] = []
        self.local_imports = ImportTable(info.module_name, info.is_package)
        self._markers = frozenset(f"pytest.mark.{m}" for m in context.settings.integration_markers)
        self._marker_aliases: set[str] = set()

    # -- what names refer to ------------------------------------------------------------------

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """Like ``imports.qualified_name``, also seeing imports made inside functions."""
        local = self.local_imports.qualified_name(expr)
        return local if local is not None else self.context.imports.qualified_name(expr)

    def targets_environment(self, args: Sequence[cst.Arg]) -> bool:
        """The target of a patch is process environment (``os.environ``, ``sys.argv``...).

        Seen as a first argument (``os.environ`` or ``"os.environ"``) or as an object and an
        attribute name (``os, "environ"``): environment setup, not a fake of a service.
        """
        positional = [arg.value for arg in args if arg.keyword is None and not arg.star]
        if not positional:
            return False
        first = positional[0]
        if isinstance(first, cst.SimpleString):
            return _string(first) in ENVIRONMENT
        if self.qualified_name(first) in ENVIRONMENT:
            return True
        if len(positional) < 2 or not isinstance(positional[1], cst.SimpleString):
            return False
        owner = self.qualified_name(first)
        return owner is not None and f"{owner}.{_string(positional[1])}" in ENVIRONMENT

    def is_marker(self, expr: cst.BaseExpression) -> bool:
        """``pytest.mark.integration`` (or with arguments, or an alias of one)."""
        if isinstance(expr, cst.Call):
            expr = expr.func
        if isinstance(expr, cst.Name) and expr.value in self._marker_aliases:
            return True
        return self.qualified_name(expr) in self._markers

    def _has_marker(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, (cst.List, cst.Tuple)):
            return any(
                isinstance(e, cst.Element) and self.is_marker(e.value) for e in value.elements
            )
        return self.is_marker(value)

    # -- where we are ------------------------------------------------------------------------

    def enclosing(self) -> tuple[cst.CSTNode, ...]:
        """The classes and functions around the current node (including the one it decorates)."""
        return tuple(
            a for a in self.context.ancestors if isinstance(a, (cst.ClassDef, cst.FunctionDef))
        )

    def in_integration(self, enclosing: tuple[cst.CSTNode, ...]) -> bool:
        return self.whole_module or any(node in self.marked for node in enclosing)

    def fixture_in_scope(self, names: frozenset[str] | set[str], name: str) -> bool:
        """True if ``name`` (one of ``names``) is a parameter of an enclosing function."""
        if name not in names:
            return False
        return any(
            isinstance(node, (cst.FunctionDef, cst.Lambda)) and name in function_params(node)
            for _, node in self.context.scopes
        )

    def defer(self, node: cst.CSTNode, **fields: object) -> None:
        """Report ``node`` at the end of the module if it is inside an integration test."""
        message = self.message.format(**fields)
        self.pending.append(Pending(node, self.enclosing(), self.context.scope_name(), message))

    # -- markers -----------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.in_tests and any(self.is_marker(d.decorator) for d in node.decorators):
            self.marked.add(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.in_tests and any(self.is_marker(d.decorator) for d in node.decorators):
            self.marked.add(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.in_tests:
            return
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.in_tests and node.value is not None:
            self._assigned(node.target, node.value)

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name) or not self._has_marker(value):
            return
        scopes = self.context.scopes
        if target.value == "pytestmark":
            if not scopes:
                self.whole_module = True
            elif isinstance(scopes[-1][1], cst.ClassDef):
                self.marked.add(scopes[-1][1])
        elif not scopes and self.is_marker(value):
            self._marker_aliases.add(target.value)  # integration = pytest.mark.integration

    def visit_Import(self, node: cst.Import) -> None:
        if self.in_tests and not self.context.at_module_level():
            self.local_imports.add(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self.in_tests and not self.context.at_module_level():
            self.local_imports.add(node)

    def leave_Module(self, node: cst.Module) -> None:
        for item in self.pending:
            if self.in_integration(item.enclosing):
                self.context.report(self, item.node, item.message, scope=item.scope)
