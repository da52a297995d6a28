"""ISO202 beyond the doc examples: every rebinding form, several globals in one declaration,
the names it leaves alone, and the function the finding names and is reached from. Written
against surviving mutants of a mutation run (see the README's "Mutation testing")."""

from __future__ import annotations

from isolint.diagnostics import Diagnostic
from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()


def iso202(code: str, files: tuple[tuple[str, str], ...] = ()) -> list[Diagnostic]:
    found = lint_example(Example(code=code, files=files), RULES, ["ISO202"])
    return sorted(
        (d for d in found if d.code == "ISO202" and d.path == "app/service.py"),
        key=lambda d: d.span.line,
    )


def reported(code: str) -> list[tuple[int, str]]:
    """(line, rebound global) of each finding."""
    return [(d.span.line, d.message.split("`")[3]) for d in iso202(code)]


def test_message_names_the_function_and_the_global() -> None:
    code = """
    current_user = None

    class Session:
        def login(self, user):
            global current_user
            current_user = user
    """
    [found] = iso202(code)
    assert found.span.line == 5
    assert found.message.startswith(
        "`Session.login()` rebinds the module global `current_user` through `global current_user`"
    )


def test_with_as_except_as_and_tuple_targets_rebind_the_global() -> None:
    code = """
    _handle = _error = _last = None

    def open_log(path):
        global _handle
        with open(path) as _handle:
            pass

    def guard(work):
        global _error
        try:
            work()
        except ValueError as _error:
            pass

    def pair(items):
        global _last
        first, _last = items
    """
    assert reported(code) == [(4, "_handle"), (9, "_error"), (16, "_last")]


def test_each_name_of_one_declaration_is_judged_on_its_own() -> None:
    code = """
    _EVENTS = []
    DEBUG = False
    _client = None
    current_user = None

    def metadata(names):
        global __all__, current_user
        __all__ = names
        current_user = names[0]

    def read_then_set(user):
        global DEBUG, current_user
        if DEBUG:
            current_user = user

    def extend_then_set(user):
        global _EVENTS, current_user
        _EVENTS += [user]
        current_user = user

    def lazy_then_set(user):
        global _client, current_user
        if _client is None:
            _client = object()
        current_user = user
        return _client
    """
    assert reported(code) == [
        (7, "current_user"),
        (12, "current_user"),
        (17, "current_user"),
        (22, "current_user"),
    ]


def test_only_dunder_names_are_module_metadata() -> None:
    code = """
    __state = None
    _total__ = 0

    def set_state(value):
        global __state, _total__
        __state = value
        _total__ = value
    """
    assert reported(code) == [(5, "__state"), (5, "_total__")]


def test_plain_assignment_replaces_a_container_and_is_reported() -> None:
    code = """
    _EVENTS: list[str] = []
    _SEEN = set()

    def record(event):
        global _EVENTS, _SEEN
        _EVENTS += [event]
        _SEEN = {event}
    """
    assert reported(code) == [(5, "_SEEN")]


def test_a_class_attribute_of_the_same_name_is_not_the_module_container() -> None:
    code = """
    _total = 0

    class Stats:
        _total: list[int] = []

    def bump():
        global _total
        _total += 1
    """
    assert reported(code) == [(7, "_total")]


def test_fingerprint_is_kept_when_a_function_with_the_same_statement_is_added() -> None:
    login = "def login(user):\n    global current_user\n    current_user = user\n"
    before = iso202("current_user = None\n" + login)
    after = iso202("current_user = None\n" + login.replace("login", "switch_user") + login)
    assert len(before) == 1 and len(after) == 2
    assert after[1].fingerprint == before[0].fingerprint
    assert after[0].fingerprint != before[0].fingerprint


_ROUTES = (
    (
        "app/routes.py",
        (
            "from fastapi import APIRouter\n"
            "from app.service import login\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/login")\n'
            "def post_login(user: str):\n"
            "    login(user)\n"
        ),
    ),
)


def test_reported_where_a_request_reaches_the_rebinding_function() -> None:
    code = """
    current_user = None

    def login(user):
        global current_user
        current_user = user

    def never_called(user):
        global current_user
        current_user = user
    """
    [found] = iso202(code, files=_ROUTES)
    assert found.span.line == 4
    assert "reached from POST /login" in found.message
