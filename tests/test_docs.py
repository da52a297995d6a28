"""Docs stay true: the README rule table is the registry's, rule docs have their sections."""

from __future__ import annotations

import os
import re
import textwrap

import pytest

from isolint.diagnostics import FAMILY_CATEGORIES
from isolint.docs import explain, markdown_options_table, markdown_rules_table
from isolint.rule import Rule
from isolint.rules import load_rules
from tests.conftest import REPO

RULES = load_rules()


TABLE = re.compile(r"(<!-- rules-table:start -->\n)(.*?)(<!-- rules-table:end -->)", re.S)


def _generated_section(pattern: re.Pattern[str], table: str, what: str) -> None:
    """The README's ``what`` between its markers is ``table`` (rewritten when ISOLINT_REGEN is set)."""
    readme_path = REPO / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    if os.environ.get("ISOLINT_REGEN"):
        readme = pattern.sub(lambda m: m.group(1) + table + m.group(3), readme)
        readme_path.write_text(readme, encoding="utf-8")
    match = pattern.search(readme)
    assert match, f"README.md lacks the generated {what} markers"
    assert match.group(2) == table, (
        f"README {what} is stale: ISOLINT_REGEN=1 python -m pytest tests/test_docs.py"
    )


def test_readme_rule_table_matches_registry() -> None:
    """Regenerate with ``ISOLINT_REGEN=1 python -m pytest tests/test_docs.py``."""
    _generated_section(TABLE, markdown_rules_table(RULES), "rule table")


OPTIONS_TABLE = re.compile(
    r"(<!-- options-table:start -->\n)(.*?)(<!-- options-table:end -->)", re.S
)


def test_readme_options_table_matches_the_declarations() -> None:
    """The README's rule options come from the rules' ``options`` (regenerate as above)."""
    table = markdown_options_table(RULES)
    _generated_section(OPTIONS_TABLE, table, "options table")
    assert "| `factory-patterns` | list of strings |" in table and "ISO402, ISO404" in table


def test_explain_lists_a_rules_options() -> None:
    """``isolint explain`` renders each declared option: key, type, default and meaning."""
    (rule,) = [r for r in RULES if r.code == "ISO106"]
    options = explain(rule).split("## Options", 1)[1].split("\n## ", 1)[0]
    assert (
        "- `shared-state-classes` (list of strings, default `[]`): qualified names of "
        "third-party classes" in options
    )
    (rule,) = [r for r in RULES if r.code == "ISO503"]
    assert "- `ssot.deprecated-modules` (table of strings, default `{}`)" in explain(rule)
    (rule,) = [r for r in RULES if r.code == "ISO204"]
    assert "## Options" not in explain(rule)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_metadata(rule: type[Rule]) -> None:
    assert re.fullmatch(r"ISO[0-9]{3}", rule.code)
    assert any(rule.code.startswith(prefix) for prefix, _ in FAMILY_CATEGORIES)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    assert rule.summary and not rule.summary.endswith(".")
    doc = rule.documentation()
    assert "## What it does" in doc and "## Why is this bad?" in doc
    assert len(rule.examples("bad")) >= 3 and len(rule.examples("good")) >= 3


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_use_instead_shows_the_fix(rule: type[Rule]) -> None:
    """Issue 15 item 7: "Use instead" shows the bad code fixed as the docs advise (``fixed``,
    tested as good examples), not the hard negatives, which go under "Not reported"."""
    fixed = rule.examples("fixed")
    assert fixed, f"{rule.code} has no fixed example to show under 'Use instead'"
    negatives = {textwrap.dedent(e.code).strip() for e in rule.examples("negatives")}
    doc = explain(rule)
    use_instead = doc.split("## Use instead", 1)[1].split("## Not reported", 1)[0]
    for example in fixed:
        code = textwrap.dedent(example.code).strip()
        assert code in use_instead and code not in negatives


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_iso201_docs_say_other_modules_mutations_are_found() -> None:
    """ISO201 reports a container another module imports and mutates; its docs must not deny it."""
    (rule,) = [r for r in RULES if r.code == "ISO201"]
    what = explain(rule).split("## What it does", 1)[1].split("##", 1)[0]
    assert "of the same module mutates" not in what
    assert "in another module that imports the" in what
