"""Every rule's documented bad/good examples, run as tests."""

from __future__ import annotations

import pytest

from linter.rule import Example, Rule
from linter.testing import lint_example
from rules import load_rules

RULES = load_rules()


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.code}-{kind}-{i}")
        for rule in RULES
        for i, example in enumerate(rule.examples(kind))
    ]


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_bad_example_is_reported(rule: type[Rule], example: Example) -> None:
    found = [d for d in lint_example(example, RULES, [rule.code]) if d.code == rule.code]
    assert found, f"{rule.code} did not report its bad example:\n{example.code}"


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_is_clean(rule: type[Rule], example: Example) -> None:
    found = [d for d in lint_example(example, RULES, [rule.code]) if d.code == rule.code]
    assert not found, f"{rule.code} reported its good example: {found}"
