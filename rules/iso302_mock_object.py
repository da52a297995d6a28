"""ISO302: an integration test that creates a mock or patches code."""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from isolint.api import Example, NodeNote, Option
from isolint.rules._integration import (
    ALLOWED_MOCK_TARGETS,
    INTEGRATION_MARKERS,
    IntegrationTestRule,
    snippet,
)


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

    One finding per faked target per test: patching `app.db.connect` three times in one test
    is one finding; the mocking library's import is named as a related location (ISO301
    reports an import only when none of its names creates a mock in an integration test).

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
    options: ClassVar[tuple[Option[Any], ...]] = (INTEGRATION_MARKERS, ALLOWED_MOCK_TARGETS)
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
        Example(
            code="""
            from unittest import mock

            def test_sync(db):
                with mock.patch("app.sync.fetch"):
                    db.sync("alice")
                with mock.patch("app.sync.fetch"):
                    db.sync("bob")
            """,
            path="tests/it/test_sync.py",
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
        Example(
            code="""
            from unittest.mock import MagicMock, patch

            import stripe

            def test_checkout_charges_once(client):
                with patch("stripe.Charge.create") as create:
                    client.post("/checkout", json={"cart": 1})
                assert create.call_count == 1
                assert client.receipt(customer=MagicMock(spec=stripe.Customer))
            """,
            path="tests/integration/test_checkout.py",
            config=(("allowed-mock-targets", ["stripe.*"]),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def test_messages_stay_per_user(client):
                alice, bob = client.connect("alice"), client.connect("bob")  # the real broadcast
                alice.send("hello")
                assert bob.received() == []
            """,
            path="tests/integration/test_ws.py",
        ),
        Example(
            code="""
            import pytest
            from app.db import connect

            @pytest.fixture
            def db(postgres_url):  # a throwaway database: a test container or a local server
                connection = connect(postgres_url)
                yield connection
                connection.close()
            """,
            path="tests/integration/conftest.py",
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.in_tests:
            return
        call = self.mock_call(node)
        if call is None or self.is_allowed(call.target):
            return
        source = self.import_of(call.root) if call.root in self.tracked else None
        related = (
            (NodeNote(source.node, f"`{source.library}` imported here"),)
            if source is not None
            else ()
        )
        self.defer(
            node,
            related=related,
            key=call.target,
            mock=snippet(self.context, node),
            target=call.target,
        )
