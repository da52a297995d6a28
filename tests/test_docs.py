"""Docs stay true: the README rule table is the registry's, rule docs have their sections."""

from __future__ import annotations

import re

import pytest

from linter.diagnostics import FAMILY_CATEGORIES
from linter.docs import markdown_rules_table
from rules import load_rules
from tests.conftest import REPO

RULES = load_rules()


def test_readme_rule_table_matches_registry() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- rules-table:start -->\n(.*?)<!-- rules-table:end -->", readme, re.S)
    assert match, "README.md lacks the generated rules table markers"
    assert match.group(1) == markdown_rules_table(RULES), (
        "README rule table is stale: regenerate it with `isolint rules --markdown`"
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
