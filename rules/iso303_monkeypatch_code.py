"""ISO303: an integration test that monkeypatches code."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from isolint.api import Example, RuleContext
from isolint.rules._integration import IntegrationTestRule, snippet

_METHODS = frozenset({"setattr", "setitem", "delattr", "delitem"})
_MONKEYPATCH_CLASS = frozenset({"pytest.MonkeyPatch", "_pytest.monkeypatch.MonkeyPatch"})
_MONKEYPATCH_CONTEXT = frozenset(f"{name}.context" for name in _MONKEYPATCH_CLASS)


class MonkeypatchCode(IntegrationTestRule):
    """
    ## What it does
    Finds `monkeypatch.setattr`, `setitem`, `delattr` and `delitem` in integration tests, where
    `monkeypatch` is pytest's fixture (a parameter of the enclosing test or fixture), a
    `monkeypatch.context()` or `pytest.MonkeyPatch.context()` block, or a `pytest.MonkeyPatch()`.
    `setenv`, `delenv`, `chdir` and `syspath_prepend`, and `setitem(os.environ, ...)`, set the
    environment up rather than fake code, and are not reported.

    ## Why is this bad?
    Replacing a function, a method or a registry entry of the application inside an
    integration test means the real code path (the database query, the websocket handler, the
    per-user session lookup) never runs. The test stays green while the user isolation it is
    meant to prove is not exercised at all.

    Use the real service or its fixture, a test container, or a fake at the network boundary
    (a local HTTP or websocket server); or, if the test is a unit test, move it to `tests/unit`.

    ## Known problems
    Patching process environment through `setattr` (`os.environ`, `sys.argv`, `sys.path`) is
    treated as setup and not reported; patching any other module attribute is reported, even
    when it is configuration rather than code.
    """

    code: ClassVar[str] = "ISO303"
    name: ClassVar[str] = "monkeypatch-code"
    summary: ClassVar[str] = "Integration test monkeypatches application code"
    message: ClassVar[str] = (
        "`{call}` replaces `{target}` in an integration test: the test passes while the real "
        "service (database, websocket, user isolation) is never exercised; use the real service "
        "or fixture, a test container or a fake at the network boundary, or move the test to "
        "tests/unit"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def test_history(db, monkeypatch):
                monkeypatch.setattr("app.db.Database.fetch", lambda *a: [])
                assert db.history("alice") == []
            """,
            path="tests/integration/test_history.py",
        ),
        Example(
            code="""
            import pytest
            from app.ws import manager

            class TestWebsocket:
                pytestmark = pytest.mark.integration

                def test_isolated(self, monkeypatch, client):
                    monkeypatch.setattr(manager, "broadcast", lambda *a: None)
                    client.send("hello")
            """,
            path="tests/test_ws.py",
        ),
        Example(
            code="""
            import pytest

            @pytest.fixture(scope="session")
            def registry():
                with pytest.MonkeyPatch.context() as mp:
                    mp.setitem(HANDLERS, "login", fake_login)
                    yield HANDLERS
            """,
            path="tests/integration/conftest.py",
        ),
        Example(
            code="""
            from pytest import mark
            import app.sessions

            @mark.integration(reason="needs redis")
            def test_sessions(monkeypatch):
                monkeypatch.delattr(app.sessions, "cache")
            """,
            path="tests/test_sessions.py",
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def test_history(db, monkeypatch):
                monkeypatch.setattr("app.db.Database.fetch", lambda *a: [])
                assert db.history("alice") == []
            """,
            path="tests/unit/test_history.py",
        ),
        Example(
            code="""
            import os

            def test_connects(db, monkeypatch, tmp_path):
                monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/test")
                monkeypatch.setitem(os.environ, "REDIS_URL", "redis://localhost")
                monkeypatch.delenv("PROXY", raising=False)
                monkeypatch.chdir(tmp_path)
                monkeypatch.syspath_prepend(str(tmp_path))
                assert db.ping()
            """,
            path="tests/integration/test_db.py",
        ),
        Example(
            code="""
            import pytest

            def test_format(monkeypatch):
                monkeypatch.setattr("app.text.WIDTH", 10)

            @pytest.mark.integration
            def test_sessions(db, settings):
                settings.setattr("timeout", 5)
                assert db.session("alice") is not db.session("bob")
            """,
            path="tests/test_sessions.py",
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            def test_history(db):
                db.add_message("bob", "hi")  # real rows in the test database
                assert db.history("alice") == []
            """,
            path="tests/integration/test_history.py",
        ),
        Example(
            code="""
            import pytest
            from tests.fakes import FakeAuthServer

            @pytest.fixture(scope="session")
            def auth_server():
                with FakeAuthServer() as server:  # a local HTTP server the real login calls
                    yield server
            """,
            path="tests/integration/conftest.py",
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._aliases: set[str] = set()  # names bound to a MonkeyPatch by `with` or assignment

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if not self.in_tests or node.asname is None or not isinstance(node.asname.name, cst.Name):
            return
        item = node.item
        if not isinstance(item, cst.Call):
            return
        func = item.func
        if self.qualified_name(func) in _MONKEYPATCH_CONTEXT or (
            isinstance(func, cst.Attribute)
            and func.attr.value == "context"
            and isinstance(func.value, cst.Name)
            and self._is_monkeypatch(func.value.value)
        ):
            self._aliases.add(node.asname.name.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        value = node.value
        if (
            self.in_tests
            and isinstance(value, cst.Call)
            and self.qualified_name(value.func) in _MONKEYPATCH_CLASS
        ):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._aliases.add(target.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.in_tests:
            return
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in _METHODS
            and isinstance(func.value, cst.Name)
            and self._is_monkeypatch(func.value.value)
            and not self.targets_environment(node.args)
        ):
            return
        self.defer(node, call=f"{func.value.value}.{func.attr.value}", target=self._target(node))

    def _is_monkeypatch(self, name: str) -> bool:
        return name in self._aliases or self.fixture_in_scope({"monkeypatch"}, name)

    def _target(self, node: cst.Call) -> str:
        """``app.db.fetch`` / ``manager.broadcast`` / ``HANDLERS['login']``, for the message."""
        args = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
        if not args:
            return "?"
        first = args[0]
        if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
            return first.evaluated_value
        owner = snippet(self.context, first, 40)
        if len(args) < 2:
            return owner
        second = args[1]
        if isinstance(second, cst.SimpleString) and isinstance(second.evaluated_value, str):
            key = second.evaluated_value
            is_attr = isinstance(node.func, cst.Attribute) and "attr" in node.func.attr.value
            return f"{owner}.{key}" if is_attr else f"{owner}[{key!r}]"
        return f"{owner}[{snippet(self.context, second, 20)}]"
