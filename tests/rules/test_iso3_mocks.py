"""ISO301-ISO303: mocks, patches and monkeypatching in integration tests, beyond the doc examples."""

from __future__ import annotations

from isolint.diagnostics import Diagnostic
from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()
ISO3 = ("ISO301", "ISO302", "ISO303")


def diagnostics(
    code: str, path: str, config: tuple[tuple[str, object], ...] = ()
) -> list[Diagnostic]:
    found = lint_example(Example(code=code, path=path, config=config), RULES, list(ISO3))
    return [d for d in found if d.code in ISO3]


def findings(
    code: str, path: str, config: tuple[tuple[str, object], ...] = ()
) -> list[tuple[str, int]]:
    """(code, line) of every ISO3 finding, sorted."""
    return sorted((d.code, d.span.line) for d in diagnostics(code, path, config))


# -- ISO301: mocking library imports -------------------------------------------------------------


def test_every_import_spelling_is_reported_in_an_integration_path() -> None:
    code = """
    import os
    import unittest.mock
    import mock as m
    from unittest import mock as um
    from unittest.mock import patch, call
    import asynctest, pytest_mock
    from flexmock import flexmock
    from mockito import when
    from doublex import Stub
    """
    assert findings(code, "tests/integration/test_imports.py") == [
        ("ISO301", line) for line in range(2, 10)
    ]


def test_module_pytestmark_list_after_the_imports_makes_the_module_integration() -> None:
    code = """
    import pytest
    from unittest import mock

    pytestmark = [pytest.mark.slow, pytest.mark.e2e(reason="browser")]

    def test_page(browser):
        assert browser.title == mock.sentinel.title
    """
    assert findings(code, "tests/test_page.py") == [("ISO301", 2)]


def test_conftest_under_integration_path_is_checked() -> None:
    code = """
    import pytest
    from pytest_mock import MockerFixture

    @pytest.fixture
    def ws(mocker: MockerFixture):
        return mocker.AsyncMock()
    """
    assert findings(code, "tests/integration/conftest.py") == [("ISO301", 2), ("ISO302", 6)]


def test_import_used_in_a_method_of_a_marked_class_is_reported() -> None:
    code = """
    import pytest
    import unittest.mock

    def test_unit():
        assert True

    @pytest.mark.integration
    class TestStore:
        def test_isolated(self, store):
            store.backend = unittest.mock.MagicMock()
    """
    # the import creates the mock: one finding (ISO302), the import is a related location
    assert findings(code, "tests/test_store.py") == [("ISO302", 10)]


def test_function_local_import_inside_a_marked_test_is_reported() -> None:
    code = """
    import pytest

    @pytest.mark.integration
    def test_sessions(db):
        from unittest.mock import patch
        with patch("app.db.Database.fetch"):
            db.history("alice")
    """
    assert findings(code, "tests/test_sessions.py") == [("ISO302", 6)]


def test_import_not_used_inside_a_marked_test_is_not_reported() -> None:
    code = """
    import pytest
    import unittest.mock
    from unittest.mock import patch

    def test_unit():
        with patch("app.text.WIDTH", 3):
            assert unittest.mock.sentinel

    @pytest.mark.integration
    def test_sessions(db, unittest, obj):
        obj.patch(unittest.TestCase, patch=1)
    """
    assert findings(code, "tests/test_sessions.py") == []


def test_non_mocking_imports_and_lookalike_names_are_not_reported() -> None:
    code = """
    import unittest
    from unittest import TestCase
    import mockups
    from tests.mock_server import MockServer
    from . import mock
    """
    assert findings(code, "tests/integration/test_ws.py") == []


def test_mocking_imports_in_unit_tests_and_application_code_are_not_reported() -> None:
    code = """
    from unittest.mock import MagicMock, patch

    def test_x():
        with patch("app.db.connect"):
            assert MagicMock()
    """
    assert findings(code, "tests/unit/test_db.py") == []
    assert findings(code, "app/db_testing.py") == []


# -- ISO302: mocks and patches -------------------------------------------------------------------


def test_aliases_are_seen_through_imports() -> None:
    code = """
    from unittest.mock import MagicMock as MM, create_autospec
    from unittest import mock
    import mock as backport
    from app.db import Database

    def test_ws(client):
        client.db = MM()
        spec = create_autospec(Database)
        with mock.patch.object(Database, "fetch"), mock.patch.multiple(Database, a=1):
            backport.mock.PropertyMock()
    """
    # patch.multiple(Database) fakes the target create_autospec(Database) already faked
    assert findings(code, "tests/ws_integration.py") == [
        ("ISO302", 7),
        ("ISO302", 8),
        ("ISO302", 9),
        ("ISO302", 10),
    ]


def test_class_marker_and_late_class_pytestmark_apply_to_methods() -> None:
    code = """
    import pytest
    from unittest.mock import patch

    @pytest.mark.integration
    class TestWs:
        @patch("app.ws.send")
        def test_send(self, send):
            pass

    class TestDb:
        def test_fetch(self):
            patch("app.db.fetch").start()

        pytestmark = pytest.mark.e2e

    class TestUnit:
        def test_fetch(self):
            patch("app.db.fetch").start()
    """
    assert findings(code, "tests/test_mixed.py") == [
        ("ISO302", 6),
        ("ISO302", 12),
    ]


def test_marker_alias_and_marker_with_arguments() -> None:
    code = """
    import pytest
    from pytest import mark
    from unittest.mock import Mock

    integration = pytest.mark.integration

    @integration
    def test_a():
        Mock()

    @mark.e2e(reason="browser")
    def test_b():
        Mock()

    @pytest.mark.unit
    def test_c():
        Mock()
    """
    assert [f for f in findings(code, "tests/test_alias.py") if f[0] == "ISO302"] == [
        ("ISO302", 9),
        ("ISO302", 13),
    ]


def test_integration_markers_config_override() -> None:
    code = """
    import pytest
    from unittest.mock import AsyncMock

    @pytest.mark.slow_integration
    def test_a():
        AsyncMock()

    @pytest.mark.integration
    def test_b():
        AsyncMock()
    """
    config: tuple[tuple[str, object], ...] = (("integration-markers", ["slow_integration"]),)
    assert findings(code, "tests/test_override.py", config) == [("ISO302", 6)]


def test_integration_tests_config_override() -> None:
    code = """
    from unittest.mock import Mock

    def test_a():
        Mock()
    """
    config: tuple[tuple[str, object], ...] = (("integration-tests", ["tests/live/**"]),)
    assert findings(code, "tests/live/test_a.py", config) == [("ISO302", 4)]
    assert findings(code, "tests/integration/test_a.py", config) == []


def test_mocker_fixture_calls_are_reported_when_mocker_is_a_parameter() -> None:
    code = """
    import pytest

    @pytest.fixture
    def store(mocker, session_mocker):
        mocker.patch.object(Store, "get")
        mocker.spy(Store, "put")
        session_mocker.MagicMock()
        mocker.stopall()
        return lambda: mocker.stub()

    def test_no_fixture(helper):
        mocker.patch("x")
        helper.mocker.patch("x")
    """
    assert findings(code, "tests/e2e/conftest.py") == [
        ("ISO302", 5),
        ("ISO302", 6),
        ("ISO302", 7),
        ("ISO302", 9),
    ]


def test_other_mocking_libraries() -> None:
    code = """
    import asynctest
    from flexmock import flexmock
    from mockito import when
    from doublex import Spy

    def test_a(ws):
        asynctest.CoroutineMock()
        flexmock(ws).should_receive("send")
        when(ws).send("x")
        Spy(ws)
    """
    # flexmock(ws), when(ws) and Spy(ws) fake one target in one test: one finding
    assert [f for f in findings(code, "tests/integration/test_libs.py") if f[0] == "ISO302"] == [
        ("ISO302", 7),
        ("ISO302", 8),
    ]


def test_patch_names_not_from_a_mocking_library_are_not_reported() -> None:
    code = '''
    import requests
    from app.http import patch as http_patch
    from unittest import mock

    def patch(url):
        return requests.patch(url)

    def test_a(client, mocker_factory):
        """Builds a MagicMock() -- no, it does not."""
        patch("/x")
        http_patch("/y")
        client.patch("/z")
        mocker_factory.patch("/w")
        assert client.calls == [mock.call("/x")] and mock.ANY
    '''
    assert findings(code, "tests/integration/test_http.py") == [("ISO301", 3)]


def test_environment_patches_are_not_reported() -> None:
    code = """
    import os
    import sys
    from unittest import mock

    @mock.patch.dict(os.environ, {"A": "1"})
    @mock.patch.dict("os.environ", {"B": "1"})
    @mock.patch("sys.argv", ["prog"])
    @mock.patch.object(sys, "path", [])
    def test_a(mocker):
        mocker.patch.dict(os.environ, {"C": "1"})
        mock.patch.dict(SETTINGS, {"D": "1"})
    """
    assert findings(code, "tests/integration/test_env.py") == [("ISO302", 11)]


def test_mocks_in_unit_tests_and_unmarked_tests_are_not_reported() -> None:
    code = """
    import pytest
    from unittest.mock import MagicMock, patch

    @patch("app.db.fetch")
    def test_unit(fetch, mocker):
        mocker.patch("app.ws.send")
        MagicMock()

    @pytest.mark.integration
    def test_live(db):
        assert db.ping()
    """
    assert findings(code, "tests/test_db.py") == []
    assert findings(code.replace("integration", "unit"), "tests/unit/test_db.py") == []


# -- ISO303: monkeypatch -------------------------------------------------------------------------


def test_monkeypatch_code_is_reported_with_target_and_alternative() -> None:
    code = """
    from app import registry

    def test_login(monkeypatch, client):
        monkeypatch.setattr(registry, "login", lambda *a: True)
        monkeypatch.setitem(registry.HANDLERS, "ws", None)
        monkeypatch.delitem(registry.HANDLERS, "http")
        monkeypatch.delattr("app.registry.cache")
    """
    found = diagnostics(code, "tests/test_login_e2e.py")
    assert sorted((d.code, d.span.line) for d in found) == [
        ("ISO303", line) for line in (4, 5, 6, 7)
    ]
    first = min(found, key=lambda d: d.span.line)
    assert "`monkeypatch.setattr` replaces `registry.login`" in first.message
    assert "test container" in first.message and "tests/unit" in first.message


def test_monkeypatch_context_and_instance_aliases() -> None:
    code = """
    import pytest

    @pytest.fixture(scope="module")
    def patched():
        mp = pytest.MonkeyPatch()
        mp.setattr("app.db.connect", fake_connect)
        yield
        mp.undo()

    def test_a(monkeypatch):
        with monkeypatch.context() as m:
            m.setattr("app.ws.send", fake_send)
    """
    assert findings(code, "tests/integration/conftest.py") == [("ISO303", 6), ("ISO303", 12)]


def test_class_marker_applies_to_monkeypatch_in_methods() -> None:
    code = """
    import pytest

    @pytest.mark.e2e
    class TestWs:
        def test_send(self, monkeypatch):
            monkeypatch.setattr("app.ws.send", print)

    class TestUnit:
        def test_send(self, monkeypatch):
            monkeypatch.setattr("app.ws.send", print)
    """
    assert findings(code, "tests/test_ws.py") == [("ISO303", 6)]


def test_monkeypatch_marker_from_config() -> None:
    code = """
    import pytest

    pytestmark = pytest.mark.needs_db

    def test_a(monkeypatch):
        monkeypatch.setattr("app.db.fetch", list)
    """
    config: tuple[tuple[str, object], ...] = (("integration-markers", ["needs_db"]),)
    assert findings(code, "tests/test_a.py", config) == [("ISO303", 6)]
    assert findings(code, "tests/test_a.py") == []


def test_environment_monkeypatching_is_not_reported() -> None:
    code = """
    import os
    import sys
    from os import environ

    def test_a(monkeypatch, tmp_path):
        monkeypatch.setenv("A", "1")
        monkeypatch.delenv("B", raising=False)
        monkeypatch.setitem(os.environ, "C", "1")
        monkeypatch.delitem(environ, "D")
        monkeypatch.setattr(sys, "argv", ["prog"])
        monkeypatch.setattr("os.environ", {})
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(tmp_path)
    """
    assert findings(code, "tests/integration/test_env.py") == []


def test_monkeypatch_that_is_not_the_fixture_is_not_reported() -> None:
    code = """
    monkeypatch = Patcher()

    def test_a(patcher):
        monkeypatch.setattr("app.db.fetch", list)
        patcher.setattr("app.db.fetch", list)
    """
    assert findings(code, "tests/integration/test_a.py") == []


def test_monkeypatch_in_unit_tests_and_application_code_is_not_reported() -> None:
    code = """
    def test_a(monkeypatch):
        monkeypatch.setattr("app.db.fetch", list)
    """
    assert findings(code, "tests/unit/test_a.py") == []
    assert findings(code, "app/checks.py") == []


# -- one finding per mocked target per test; the import as a related location (issue 13) --------


def test_one_finding_per_target_per_test_with_the_import_related() -> None:
    code = """
    from unittest import mock

    def test_a(db):
        with mock.patch("app.sync.fetch"):
            db.sync("alice")
        with mock.patch("app.sync.fetch"):
            db.sync("bob")
        mock.patch("app.sync.push").start()

    def test_b(db):
        mock.patch("app.sync.fetch").start()
    """
    found = diagnostics(code, "tests/integration/test_sync.py")
    assert sorted((d.code, d.span.line) for d in found) == [
        ("ISO302", 4),
        ("ISO302", 8),
        ("ISO302", 11),
    ]
    for diagnostic in found:
        assert [(r.line, r.note) for r in diagnostic.related] == [
            (1, "`unittest.mock` imported here")
        ]


def test_an_import_never_used_for_a_mock_is_reported_alone() -> None:
    code = """
    from unittest.mock import ANY, patch
    import mock

    def test_a(db):
        assert db.row("alice") == ANY
    """
    found = diagnostics(code, "tests/integration/test_rows.py")
    assert sorted((d.code, d.span.line) for d in found) == [("ISO301", 1), ("ISO301", 2)]
    assert all(d.related == () for d in found)


def test_mocker_fixture_mock_has_no_import_to_relate() -> None:
    code = """
    def test_a(mocker):
        mocker.patch("app.db.connect")
    """
    found = diagnostics(code, "tests/integration/test_db.py")
    assert [(d.code, d.span.line, d.related) for d in found] == [("ISO302", 2, ())]


def test_allowed_mock_targets_skip_external_boundaries() -> None:
    code = """
    import stripe
    from unittest.mock import MagicMock, patch

    def test_checkout(client, mocker):
        with patch("stripe.Charge.create"):
            client.post("/checkout")
        patch.object(stripe.Customer, "retrieve").start()
        mocker.patch("app.mail.send")
        client.customer = MagicMock(spec=stripe.Customer)
        client.db = MagicMock(spec="app.db.Database")
        patch("app.payments.charge").start()
    """
    config: tuple[tuple[str, object], ...] = (("allowed-mock-targets", ["stripe", "app.mail.*"]),)
    assert findings(code, "tests/integration/test_checkout.py", config) == [
        ("ISO302", 10),
        ("ISO302", 11),
    ]
    # without the option every mock is reported (the import is related, not reported alone)
    assert [f[1] for f in findings(code, "tests/integration/test_checkout.py")] == [
        5,
        7,
        8,
        9,
        10,
        11,
    ]


def test_allowed_targets_only_keep_the_import_quiet() -> None:
    code = """
    from unittest.mock import patch

    def test_checkout(client):
        with patch("stripe.Charge.create"):
            client.post("/checkout")
    """
    config: tuple[tuple[str, object], ...] = (("allowed-mock-targets", ["stripe.*"]),)
    assert findings(code, "tests/integration/test_checkout.py", config) == []


def test_default_integration_folders() -> None:
    code = """
    from unittest.mock import Mock

    def test_a():
        Mock()
    """
    for folder in ("integration_tests", "it", "functional", "e2e_tests"):
        assert findings(code, f"tests/{folder}/test_a.py") == [("ISO302", 4)], folder
    assert findings(code, "tests/items/test_a.py") == []
    assert findings(code, "tests/unit/test_it.py") == []
