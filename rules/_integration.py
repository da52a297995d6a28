"""Shared by the ISO3 rules: which parts of a test file are integration tests, and what is a mock."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    NAME_GLOBS,
    STRINGS,
    ImportTable,
    NodeNote,
    Option,
    Rule,
    RuleContext,
    dotted_name,
)

INTEGRATION_MARKERS = Option(
    "integration-markers",
    STRINGS,
    ("integration", "e2e"),
    "pytest markers that make a test an integration test, on a test function or class, or in "
    "a module's `pytestmark` (a file is one by path too: the engine setting "
    "`integration-tests`; a `conftest.py` under such a path counts)",
    expected="a list of pytest marker names",
)
ALLOWED_MOCK_TARGETS = Option(
    "allowed-mock-targets",
    NAME_GLOBS,
    (),
    "module or qualified-name globs of the external boundaries an integration test may fake "
    '(`["stripe.*", "app.mail.send"]`; default none: every mock is reported). A target is the '
    'patched name (`patch("stripe.Charge.create")`, `patch.object(stripe.Charge, "create")`) '
    "or a mock's `spec` (`MagicMock(spec=stripe.Charge)`); a plain module name covers "
    "everything in it",
)

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
_STANDARD = frozenset(
    {
        "Mock",
        "MagicMock",
        "AsyncMock",
        "NonCallableMock",
        "NonCallableMagicMock",
        "PropertyMock",
        "create_autospec",
        "mock_open",
        "patch",
        "patch.object",
        "patch.dict",
        "patch.multiple",
    }
)
# What creates a mock or a patch, per mocking library (names relative to the library).
_FACTORIES: dict[str, frozenset[str]] = {
    "unittest.mock": _STANDARD,
    "mock": _STANDARD,
    "asynctest": _STANDARD | {"CoroutineMock"},
    "flexmock": frozenset({"flexmock"}),
    "mockito": frozenset({"mock", "when", "when2", "patch", "spy", "spy2", "expect"}),
    "doublex": frozenset({"Stub", "Spy", "ProxySpy", "Mock", "Mimic"}),
}
# pytest-mock fixture methods that undo patches rather than create them.
_MOCKER_CLEANUP = frozenset({"resetall", "stopall", "stop"})
# Factories whose second argument names the attribute of the first that is replaced.
_OBJECT_ATTRIBUTES = frozenset({"object", "spy", "spy2", "when2"})


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


def allowed_target(target: str, globs: Sequence[str]) -> bool:
    """``target`` matches an ``allowed-mock-targets`` glob (a plain module covers its members)."""
    return any(fnmatch.fnmatchcase(target, g) or target.startswith(g + ".") for g in globs)


@dataclass(frozen=True)
class Pending:
    """A finding waiting for the end of the module, when every marker has been seen."""

    node: cst.CSTNode
    enclosing: tuple[cst.CSTNode, ...]
    scope: str
    message: str
    related: tuple[NodeNote, ...] = ()
    key: object = None  # findings with the same non-None key in one test are reported once


@dataclass(frozen=True)
class MockImport:
    """A statement importing a mocking library, and the local names it binds to it."""

    node: cst.Import | cst.ImportFrom
    library: str
    names: tuple[str, ...]
    enclosing: tuple[cst.CSTNode, ...]
    scope: str


@dataclass(frozen=True)
class MockCall:
    """A call that creates a mock or a patch: what it fakes, and the local name it starts from.

    ``target`` is the patched name (``app.ws.manager.broadcast``), the ``spec`` of a mock, or the
    factory itself (``unittest.mock.MagicMock``); ``root`` is the first name of the callee.
    """

    target: str
    root: str


class IntegrationTestRule(Rule):
    """Base of the ISO3 rules: tracks integration-test status and reports deferred findings.

    A file is an integration test by path (``integration-tests``) or by ``pytestmark`` at module
    level; a class or function is one by a marker decorator (or a class-level ``pytestmark``).
    A marker may follow the code it applies to, so subclasses call ``defer`` and the findings
    inside integration tests are reported when the module is left.
    """

    options: ClassVar[tuple[Option[Any], ...]] = (INTEGRATION_MARKERS,)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        info = context.info
        self.in_tests = info.is_test or info.is_integration_test
        self.whole_module = info.is_integration_test
        self.marked: set[cst.CSTNode] = set()
        self.pending: list[Pending] = []
        self.local_imports = ImportTable(info.module_name, info.is_package)
        self._markers = frozenset(f"pytest.mark.{m}" for m in context.option(INTEGRATION_MARKERS))
        self._marker_aliases: set[str] = set()
        self.mock_imports: list[MockImport] = []
        # local name -> attribute path a use must continue with (``unittest`` -> ``("mock",)``)
        self.tracked: dict[str, tuple[str, ...]] = {}

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

    def defer(
        self,
        node: cst.CSTNode,
        *,
        related: tuple[NodeNote, ...] = (),
        key: object = None,
        **fields: object,
    ) -> None:
        """Report ``node`` at the end of the module if it is inside an integration test."""
        message = self.message.format(**fields)
        self.pending.append(
            Pending(node, self.enclosing(), self.context.scope_name(), message, related, key)
        )

    # -- mocks -------------------------------------------------------------------------------

    def mock_call(self, node: cst.Call) -> MockCall | None:
        """What ``node`` fakes, if it creates a mock or a patch (environment patches do not)."""
        func = node.func
        chain: list[str] = []
        root_expr: cst.BaseExpression = func
        while isinstance(root_expr, cst.Attribute):
            chain.append(root_expr.attr.value)
            root_expr = root_expr.value
        if not isinstance(root_expr, cst.Name):
            return None
        root = root_expr.value
        qualified = self.qualified_name(func)
        if qualified is not None:
            library = mock_library(qualified)
            if library is None or library not in _FACTORIES:
                return None
            rest = qualified[len(library) + 1 :]
            if library == "mock" and rest.startswith("mock."):  # the backport's mock.mock module
                rest = rest[len("mock.") :]
            if rest not in _FACTORIES[library]:
                return None
            factory = f"{library}.{rest}"
        else:
            if not chain or not self.fixture_in_scope(MOCKER_FIXTURES, root):
                return None
            if _MOCKER_CLEANUP.intersection(chain):
                return None
            rest = ".".join(reversed(chain))
            factory = f"{root}.{rest}"
        if rest.startswith("patch") and self.targets_environment(node.args):
            return None
        return MockCall(self._mock_target(node, rest) or factory, root)

    def _mock_target(self, node: cst.Call, factory: str) -> str | None:
        """The name a mock call fakes: its string or object argument, or its ``spec``."""
        positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        creates_object = factory.rsplit(".", 1)[-1] in _STANDARD and "patch" not in factory
        if creates_object:  # Mock(spec=Database), create_autospec(Database)
            spec = keywords.get("spec", keywords.get("spec_set"))
            if spec is None and factory.endswith("create_autospec") and positional:
                spec = positional[0]
            return self._name_of(spec) if spec is not None else None
        if not positional:
            return None
        first = self._name_of(positional[0])
        if first is None:
            return None
        last = factory.rsplit(".", 1)[-1]
        if last in _OBJECT_ATTRIBUTES and len(positional) > 1:
            attribute = positional[1]
            if isinstance(attribute, cst.SimpleString) and isinstance(
                attribute.evaluated_value, str
            ):
                return f"{first}.{attribute.evaluated_value}"
        return first

    def _name_of(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.SimpleString):
            return _string(expr)
        return self.qualified_name(expr) or dotted_name(expr)

    def is_allowed(self, target: str) -> bool:
        return allowed_target(target, self.context.option(ALLOWED_MOCK_TARGETS))

    def import_of(self, name: str) -> MockImport | None:
        """The (last) mocking-library import that binds ``name``."""
        for item in reversed(self.mock_imports):
            if name in item.names:
                return item
        return None

    def _record_import(
        self, node: cst.Import | cst.ImportFrom, library: str, names: list[str]
    ) -> None:
        self.mock_imports.append(
            MockImport(node, library, tuple(names), self.enclosing(), self.context.scope_name())
        )

    def _mock_import(self, node: cst.Import) -> None:
        library = None
        names: list[str] = []
        for alias in node.names:
            target = dotted_name(alias.name)
            found = mock_library(target)
            if found is None or target is None:
                continue
            library = library or found
            path: tuple[str, ...] = ()
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            else:
                local, *rest = target.split(".")
                path = tuple(rest)
            names.append(local)
            self.tracked[local] = path
        if library is not None:
            self._record_import(node, library, names)

    def _mock_import_from(self, node: cst.ImportFrom) -> None:
        base = self.context.imports.from_module(node)
        if base is None:
            return
        library = mock_library(base)
        names: list[str] = []
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                found = library or mock_library(f"{base}.{alias.name.value}")
                if found is None:
                    continue
                library = found
                local = alias.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                names.append(local)
                self.tracked[local] = ()
        if library is not None:
            self._record_import(node, library, names)

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
        if not self.in_tests:
            return
        if not self.context.at_module_level():
            self.local_imports.add(node)
        self._mock_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self.in_tests:
            return
        if not self.context.at_module_level():
            self.local_imports.add(node)
        self._mock_import_from(node)

    def leave_Module(self, node: cst.Module) -> None:
        seen: set[tuple[cst.CSTNode | None, object]] = set()
        for item in self.pending:
            if not self.in_integration(item.enclosing):
                continue
            if item.key is not None:
                test = _test_of(item.enclosing)
                if (test, item.key) in seen:
                    continue
                seen.add((test, item.key))
            self.context.report(
                self, item.node, item.message, scope=item.scope, related=item.related
            )


def _test_of(enclosing: tuple[cst.CSTNode, ...]) -> cst.CSTNode | None:
    """The outermost function around a node: the test (or fixture) it belongs to."""
    return next((node for node in enclosing if isinstance(node, cst.FunctionDef)), None)
