"""ISO302: an integration test that creates a mock or patches code."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from linter.api import Example
from rules._integration import MOCKER_FIXTURES, IntegrationTestRule, mock_library, snippet

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


class MockObject(IntegrationTestRule):
    """
    ## What it does
    Finds mocks and patches created in integration tests: `Mock()`, `MagicMock()`, `AsyncMock()`,
    `NonCallableMock()`, `PropertyMock()`, `create_autospec()`, `patch(...)`, `patch.object`,
    `patch.dict` and `patch.multiple` (as decorator, context manager or call), the equivalents
    of `mock`, `asynctest`, `flexmock`, `doublex` and `mockito`, and every call on pytest-mock's
    `mocker` fixture (`mocker.patch(...)`, `mocker.MagicMock()`, `mocker.spy(...)`) when
    `mocker` is a parameter of the enclosing test or fixture. Names are resolved through the
    file's imports, so aliases are seen and an unrelated `patch` (`requests.patch`, a local
    function) is not.

    ## Why is this bad?
    An integration test earns its cost by running the real collaborators together. A patched
    database call, websocket manager or session store means the test keeps passing while the
    code that separates one user's data from another's is never executed; a leak between
    users ships with a green suite.

    Use the real service or its fixture, a test container, or a fake at the network boundary
    (a local HTTP or websocket server); or, if the test is a unit test, move it to `tests/unit`.

    ## Known problems
    Patching process environment (`patch.dict(os.environ, ...)`, `patch("sys.argv", ...)`,
    also `sys.path`) is test setup, not a fake, and is not reported.

    ## Options
    - `integration-tests`: gitignore-style globs of integration-test files (default
      `**/integration/**`, `**/e2e/**`, `**/*_integration.py`, `**/*_e2e.py`,
      `**/test_*integration*.py`, `**/test_*e2e*.py`); a `conftest.py` under such a path counts.
    - `integration-markers`: pytest markers that make a test an integration test (default
      `integration`, `e2e`), on a test function or class, or in a module's `pytestmark`.
    """

    code: ClassVar[str] = "ISO302"
    name: ClassVar[str] = "mock-object"
    summary: ClassVar[str] = "Integration test creates a mock or patches code"
    message: ClassVar[str] = (
        "`{mock}` fakes code in an integration test: the test passes while the real service "
        "(database, websocket, user isolation) is never exercised; use the real service or "
        "fixture, a test container or a fake at the network boundary, or move the test to "
        "tests/unit"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from unittest.mock import patch

            @patch("app.ws.manager.broadcast")
            def test_messages_stay_per_user(broadcast, client):
                client.send("hello")
            """,
            path="tests/integration/test_ws.py",
        ),
        Example(
            code="""
            import pytest

            @pytest.fixture
            def db(mocker):
                return mocker.patch("app.db.connect")
            """,
            path="tests/integration/conftest.py",
        ),
        Example(
            code="""
            import pytest
            from unittest import mock

            @pytest.mark.e2e
            class TestSessions:
                def test_isolated(self, client):
                    client.store = mock.AsyncMock()
            """,
            path="tests/test_sessions.py",
        ),
        Example(
            code="""
            import unittest.mock as um
            from app.db import Database

            def test_history(db):
                with um.patch.object(Database, "fetch", return_value=[]):
                    assert db.history("alice") == []
            """,
            path="tests/test_history_integration.py",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from unittest.mock import patch

            @patch("app.ws.manager.broadcast")
            def test_messages_stay_per_user(broadcast, client):
                client.send("hello")
            """,
            path="tests/unit/test_ws.py",
        ),
        Example(
            code="""
            import pytest
            from unittest.mock import MagicMock

            def test_format():
                assert str(MagicMock()) != ""

            @pytest.mark.integration
            def test_sessions(db):
                assert db.session("alice") is not db.session("bob")
            """,
            path="tests/test_sessions.py",
        ),
        Example(
            code='''
            import requests

            def patch(url, body):
                return requests.patch(url, json=body)

            def test_update(live_server):
                """Uses the real API, no MagicMock."""
                assert patch(live_server.url, {"name": "x"}).ok
            ''',
            path="tests/integration/test_api.py",
        ),
        Example(
            code="""
            import os
            from unittest import mock

            @mock.patch.dict(os.environ, {"DATABASE_URL": "postgresql://localhost/test"})
            def test_connects(db):
                assert db.ping()
            """,
            path="tests/integration/test_db.py",
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.in_tests or not self._creates_mock(node):
            return
        self.defer(node, mock=snippet(self.context, node))

    def _creates_mock(self, node: cst.Call) -> bool:
        func = node.func
        qualified = self.qualified_name(func)
        if qualified is not None:
            library = mock_library(qualified)
            if library is None or library not in _FACTORIES:
                return False
            rest = qualified[len(library) + 1 :]
            if library == "mock" and rest.startswith("mock."):  # the backport's mock.mock module
                rest = rest[len("mock.") :]
            return rest in _FACTORIES[library] and not self._patches_environment(rest, node)
        chain: list[str] = []
        while isinstance(func, cst.Attribute):
            chain.append(func.attr.value)
            func = func.value
        if not chain or not isinstance(func, cst.Name):
            return False
        if not self.fixture_in_scope(MOCKER_FIXTURES, func.value) or chain[-1] in _MOCKER_CLEANUP:
            return False
        return not self._patches_environment(".".join(reversed(chain)), node)

    def _patches_environment(self, name: str, node: cst.Call) -> bool:
        """``patch.dict(os.environ, ...)``, ``patch("sys.argv", ...)``: setup, not a fake."""
        return name.startswith("patch") and self.targets_environment(node.args)
