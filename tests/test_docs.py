"""Docs stay true: the README rule table is the registry's, rule docs have their sections."""

from __future__ import annotations

import os
import re

import pytest

from linter.diagnostics import FAMILY_CATEGORIES
from linter.docs import markdown_rules_table
from rules import load_rules
from tests.conftest import REPO

RULES = load_rules()


TABLE = re.compile(r"(<!-- rules-table:start -->\n)(.*?)(<!-- rules-table:end -->)", re.S)


def test_readme_rule_table_matches_registry() -> None:
    """Regenerate with ``ISOLINT_REGEN=1 python -m pytest tests/test_docs.py``."""
    readme_path = REPO / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    table = markdown_rules_table(RULES)
    if os.environ.get("ISOLINT_REGEN"):
        readme = TABLE.sub(lambda m: m.group(1) + table + m.group(3), readme)
        readme_path.write_text(readme, encoding="utf-8")
    match = TABLE.search(readme)
    assert match, "README.md lacks the generated rules table markers"
    assert match.group(2) == table, (
        "README rule table is stale: ISOLINT_REGEN=1 python -m pytest tests/test_docs.py"
    )


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_metadata(rule: type) -> None:
    assert re.fullmatch(r"ISO[0-9]{3}", rule.code)
    assert any(rule.code.startswith(prefix) for prefix, _ in FAMILY_CATEGORIES)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    assert rule.summary and not rule.summary.endswith(".")
    doc = rule.documentation()
    assert "## What it does" in doc and "## Why is this bad?" in doc
    assert len(rule.examples("bad")) >= 3 and len(rule.examples("good")) >= 3


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
