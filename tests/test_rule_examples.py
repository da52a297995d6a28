"""Every rule's documented bad/good examples, run as tests."""

from __future__ import annotations

import pytest

from linter.rule import Example, Rule
from linter.testing import expectation_problems, lint_example
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
    problems = expectation_problems(example, found)
    assert not problems, f"{rule.code} bad example:\n{example.code}\n" + "\n".join(problems)
    fixed_here = any(d.fix is not None for d in found if d.path == example.path)
    assert example.expected_fix is not None or not fixed_here, (
        f"{rule.code} fixes this bad example: state the fixed code (expected_fix)"
    )


# Rules whose bad examples must state where they report (and, where it helps, what they say).
_STATED = ("ISO106", "ISO201", "ISO203", "ISO204", "ISO502", "ISO503")


@pytest.mark.parametrize("code", _STATED)
def test_bad_examples_state_their_expectations(code: str) -> None:
    rule = next(r for r in RULES if r.code == code)
    vague = [e.code for e in rule.examples("bad") if e.expected_line is None]
    assert not vague, f"{code}: bad examples without expected_line: {vague}"


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_is_clean(rule: type[Rule], example: Example) -> None:
    found = [d for d in lint_example(example, RULES, [rule.code]) if d.code == rule.code]
    assert not found, f"{rule.code} reported its good example: {found}"
