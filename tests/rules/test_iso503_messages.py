"""ISO503 beyond the doc examples: the whole message of each outcome, and deprecated modules
after other names in one import statement. Written against surviving mutants of a mutation run
(see the README's "Mutation testing")."""

from __future__ import annotations

from isolint.diagnostics import Diagnostic
from isolint.rule import Example
from isolint.testing import lint_example
from isolint.rules import load_rules

RULES = load_rules()

CONFIG: tuple[tuple[str, object], ...] = (
    (
        "ssot",
        {
            "deprecated-modules": {
                "app.old_engine": "app.engine",
                "app.legacy_ws": "",
            }
        },
    ),
)
FILES = (
    ("app/__init__.py", ""),
    ("app/engine.py", "class Engine:\n    pass\n"),
    ("app/old_engine.py", "class Engine:\n    pass\n"),
    ("app/helpers.py", ""),
    ("app/legacy_ws.py", "MANAGERS = {}\n"),
)


def iso503(code: str) -> list[Diagnostic]:
    example = Example(code=code, files=FILES, config=CONFIG)
    found = lint_example(example, RULES, ["ISO503"])
    return sorted(
        (d for d in found if d.code == "ISO503" and d.path == "app/service.py"),
        key=lambda d: d.span.line,
    )


def test_each_outcome_has_its_whole_message() -> None:
    code = """
    from app.old_engine import Engine
    import app.old_engine
    from app import old_engine as legacy, helpers
    import app.legacy_ws as ws
    from app.old_engine import *
    """
    fixable, bare, shared, no_replacement, star = (d.message for d in iso503(code))
    assert fixable == "`app.old_engine` is deprecated: import `Engine` from `app.engine` instead"
    assert bare == (
        "`app.old_engine` is deprecated: import `app.engine` instead (not fixed automatically: "
        "the code refers to the module as `app.old_engine`, rename those uses too)"
    )
    assert shared == (
        "`app.old_engine` is deprecated: import `app.engine` instead (not fixed automatically: "
        "the statement imports other names too)"
    )
    assert no_replacement == (
        "`app.legacy_ws` is deprecated and has no replacement configured: stop using it (move "
        "what you need to its canonical module and import it from there)"
    )
    assert star == (
        "`app.old_engine` is deprecated: import the names you use from `app.engine` instead of `*`"
    )


def test_a_deprecated_module_after_other_names_in_one_statement_is_reported() -> None:
    code = """
    import os, app.old_engine as engine
    from app import helpers, old_engine
    """
    first, second = iso503(code)
    assert (first.span.line, first.span.column) == (1, 12)
    assert first.fix is not None
    assert second.span.line == 2
    assert second.fix is None and "imports other names too" in second.message
