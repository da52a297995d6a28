"""ISO301: an integration test that imports a mocking library."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from isolint.api import Example, RuleContext
from isolint.rules._integration import IntegrationTestRule


class MockLibraryImport(IntegrationTestRule):
    """
    ## What it does
    Finds imports of a mocking library (`unittest.mock`, `mock`, `asynctest`, `pytest_mock`,
    `flexmock`, `doublex`, `mockito`), in any spelling, in integration tests: files under the
    `integration-tests` paths, modules whose `pytestmark` carries an integration marker, and
    tests marked with one. In a file where only some tests are marked, the import is reported
    when a name it binds is used inside a marked test. An import whose names create mocks or
    patches in an integration test is not reported on its own: ISO302 reports each mock and
    names the import as a related location; an import used otherwise (`mock.ANY`, an
    annotation) or never used is reported here.

    ## Why is this bad?
    An integration test exists to exercise the real collaborators together: the database, the
    websocket layer, the code that keeps one user's session apart from another's. A mocking
    library in such a test means something real is being replaced, and the test goes on
    passing while the user isolation it claims to cover is never run. Cross-user leaks live
    exactly in the seams a mock papers over.

    Use the real service or its fixture, a test container, or a fake at the network boundary
    (a local HTTP or websocket server); or, if the test is a unit test, move it to `tests/unit`.

    ## Known problems
    An import used only for type annotations (`from pytest_mock import MockerFixture`) is
    reported too: in an integration test it is a sign of a `mocker` fixture nearby.
    """

    code: ClassVar[str] = "ISO301"
    name: ClassVar[str] = "mock-library-import"
    summary: ClassVar[str] = "Integration test imports a mocking library"
    message: ClassVar[str] = (
        "Integration test imports the mocking library `{library}`: with mocks it passes while "
        "the real service (database, websocket, user isolation) is never exercised; use the "
        "real service or fixture, a test container or a fake at the network boundary, or move "
        "the test to tests/unit"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from unittest.mock import patch

            def test_messages_stay_per_user(client):
                client.send("hello")
            """,
            path="tests/integration/test_ws.py",
        ),
        Example(
            code="""
            import mock as m

            def test_checkout(browser):
                assert browser.open("/checkout") == m.ANY
            """,
            path="tests/e2e/test_checkout.py",
        ),
        Example(
            code="""
            import pytest
            from unittest import mock

            pytestmark = [pytest.mark.integration, pytest.mark.slow]

            def test_history(db):
                assert db.history("alice") == mock.ANY
            """,
            path="tests/test_history.py",
        ),
        Example(
            code="""
            import pytest
            from unittest.mock import MagicMock

            def test_format():
                assert str(1) == "1"

            @pytest.mark.integration
            def test_sessions(db: MagicMock):
                assert db.session("alice") is not db.session("bob")
            """,
            path="tests/test_sessions.py",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from unittest.mock import patch

            def test_messages_stay_per_user(client):
                with patch("app.ws.manager.broadcast"):
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
            import unittest
            from tests.mock_server import MockServer

            def test_ws(ws_server: MockServer):
                """No MagicMock here: a real local websocket server."""
                assert ws_server.connect("alice")
            ''',
            path="tests/integration/test_ws.py",
        ),
        Example(
            code="""
            from unittest.mock import patch

            def refresh(cache):
                with patch.dict(cache, {}):
                    return dict(cache)
            """,
            path="app/cache.py",
        ),
        Example(
            code="""
            from unittest.mock import patch

            def test_messages_stay_per_user(client):
                with patch("app.ws.manager.broadcast"):
                    client.send("hello")
            """,
            path="tests/integration/test_ws.py",
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def test_messages_stay_per_user(client):
                alice, bob = client.connect("alice"), client.connect("bob")  # real websockets
                alice.send("hello")
                assert bob.received() == []
            """,
            path="tests/integration/test_ws.py",
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._uses: list[tuple[str, tuple[cst.CSTNode, ...]]] = []
        # names used to create a reported mock: ISO302 reports those, naming the import
        self._mocking: list[tuple[str, tuple[cst.CSTNode, ...]]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if not self.tracked:
            return
        call = self.mock_call(node)
        if call is not None and call.root in self.tracked:
            self._mocking.append((call.root, self.enclosing()))

    def visit_Name(self, node: cst.Name) -> None:
        if not self.tracked or self.whole_module:
            return
        path = self.tracked.get(node.value)
        if path is None or not self._is_use(node, path):
            return
        self._uses.append((node.value, self.enclosing()))

    def _is_use(self, node: cst.Name, path: tuple[str, ...]) -> bool:
        """A load of the imported name (not an attribute, keyword or definition named like it)."""
        ancestors = self.context.ancestors
        parent = ancestors[-1] if ancestors else None
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return False
        if isinstance(parent, (cst.Arg, cst.Param, cst.ImportAlias, cst.FunctionDef, cst.ClassDef)):
            return isinstance(parent, cst.Arg) and parent.value is node
        current: cst.CSTNode = node
        for index, attr in enumerate(path):
            holder = ancestors[-1 - index] if index < len(ancestors) else None
            if not (
                isinstance(holder, cst.Attribute)
                and holder.value is current
                and holder.attr.value == attr
            ):
                return False
            current = holder
        return True

    def leave_Module(self, node: cst.Module) -> None:
        used = {name for name, enclosing in self._uses if self.in_integration(enclosing)}
        mocking = {name for name, enclosing in self._mocking if self.in_integration(enclosing)}
        for item in self.mock_imports:
            if mocking.intersection(item.names):
                continue  # its mocks are reported (ISO302) with this import as a related location
            if self.in_integration(item.enclosing) or used.intersection(item.names):
                self.report(item.node, scope=item.scope, library=item.library)
