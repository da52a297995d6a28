"""Every rule's documented bad/good examples, run as tests (by ``isolint.testing.check_example``,
which ``isolint test-rule`` runs for team rules)."""

from __future__ import annotations

import pytest

from isolint.rule import Example, Rule
from isolint.testing import check_example
from isolint.rules import load_rules

RULES = load_rules()


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.code}-{kind}-{i}")
        for rule in RULES
        for i, example in enumerate(rule.examples(kind))
    ]


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_bad_example_is_reported(rule: type[Rule], example: Example) -> None:
    problem = check_example(rule, "bad", example, RULES)
    assert problem is None, problem


# Rules whose bad examples must state where they report (and, where it helps, what they say).
_STATED = ("ISO106", "ISO201", "ISO203", "ISO204", "ISO502", "ISO503")


@pytest.mark.parametrize("code", _STATED)
def test_bad_examples_state_their_expectations(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    vague = [e.code for e in rule.examples("bad") if e.expected_line is None]
    assert not vague, f"{code}: bad examples without expected_line: {vague}"


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_is_clean(rule: type[Rule], example: Example) -> None:
    problem = check_example(rule, "good", example, RULES)
    assert problem is None, problem
