"""ISO204 beyond the doc examples: the message's names and value, constructor calls, and the
request paths the finding's site (the function) is reached from. Written against surviving
mutants of a mutation run (see the README's "Mutation testing")."""

from __future__ import annotations

from isolint.diagnostics import Diagnostic
from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()


def iso204(code: str, files: tuple[tuple[str, str], ...] = ()) -> list[Diagnostic]:
    found = lint_example(Example(code=code, files=files), RULES, ["ISO204"])
    return sorted(
        (d for d in found if d.code == "ISO204" and d.path == "app/service.py"),
        key=lambda d: d.span.line,
    )


def test_builtin_constructor_calls_are_mutable() -> None:
    code = """
    def remember(
        user,
        seen=dict(),
        order=list(),
        tags=set(),
        raw=bytearray(),
    ):
        return seen
    """
    found = iso204(code)
    assert [d.span.line for d in found] == [3, 4, 5, 6]
    assert "Parameter `seen` of `remember` has a mutable default `dict()`" in found[0].message


def test_a_constructor_name_imported_from_elsewhere_is_not_the_builtin() -> None:
    code = """
    from app.frozen import list

    def keep(items=list()):
        return items
    """
    assert iso204(code, files=(("app/frozen.py", "list = tuple\n"),)) == []


def test_a_lambda_default_names_the_lambda() -> None:
    [found] = iso204("remember = lambda user, seen=[]: seen.append(user)\n")
    assert "Parameter `seen` of `<lambda>` has a mutable default `[]`" in found.message


def test_the_value_is_shown_on_one_line_and_cut_at_forty_characters() -> None:
    code = """
    def route(request, table={
        "alpha": 1,  "beta": 2, "gamma": 3, "delta": 4, "epsilon": 5,
    }):
        return table
    """
    [found] = iso204(code)
    assert found.span.line == 1
    value = '{ "alpha": 1, "beta": 2, "gamma": 3, "de'
    assert len(value) == 40
    assert f"mutable default `{value}`:" in found.message


_ROUTES = (
    (
        "app/routes.py",
        (
            "from fastapi import APIRouter\n"
            "from app.service import Inbox, add_message\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/messages")\n'
            "def post_message(user_id: str, text: str):\n"
            "    Inbox().collect(text)\n"
            "    return add_message(user_id, text)\n"
        ),
    ),
)


def test_reported_where_a_request_reaches_the_function_or_method_with_the_default() -> None:
    code = """
    def add_message(user_id, message, history=[]):
        history.append((user_id, message))
        return history

    class Inbox:
        def collect(self, item, seen=[]):
            seen.append(item)

    def never_called(cache={}):
        return cache

    handler = lambda request, seen=[]: seen
    """
    found = iso204(code, files=_ROUTES)
    assert [d.span.line for d in found] == [1, 6, 12]
    add_message, collect, lambda_ = found
    assert "reached from POST /messages" in add_message.message
    assert "reached from POST /messages" in collect.message
    # a lambda is not a call-graph node: its finding is not classified, so always reported
    assert "reached from" not in lambda_.message
