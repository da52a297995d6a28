"""Run rule examples as real mini projects (used by the generated rule tests)."""

from __future__ import annotations

import json
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from isolint.check import CheckRequest, run_check
from isolint.config import load_config, with_rule_options
from isolint.diagnostics import Diagnostic, RunResult
from isolint.discovery import discover
from isolint.fixes import fix_source
from isolint.rule import Example, Rule, rule_options
from isolint.selection import select_rules


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    return json.dumps(value)


def write_project(root: Path, example: Example) -> None:
    """Write the example's files and a pyproject.toml holding its config under ``root``."""
    config = "\n".join(f"{key} = {_toml_value(value)}" for key, value in example.config)
    (root / "pyproject.toml").write_text(f"[tool.isolint]\n{config}\n", encoding="utf-8")
    for relpath, code in ((example.path, example.code), *example.files):
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")


def run_project(root: Path, rules: Sequence[type[Rule]], select: Sequence[str]) -> RunResult:
    """Lint every file under ``root`` with the rules named by ``select``."""
    loaded = with_rule_options(load_config(None, root), rule_options(rules))
    enabled = select_rules(
        rules, tuple(select), loaded.settings.extend_select, loaded.settings.ignore
    )
    files = discover([root], loaded.root, loaded.settings.extend_exclude)
    return run_check(CheckRequest(loaded.root, loaded.settings, enabled, tuple(files)))


def example_source(example: Example) -> str:
    """The text of the example's own file, as written to disk."""
    return textwrap.dedent(example.code).lstrip("\n")


def expectation_problems(example: Example, findings: Sequence[Diagnostic]) -> list[str]:
    """How ``findings`` (one rule's, on the example project) miss what the example states."""
    problems: list[str] = []
    here = [d for d in findings if d.path == example.path]
    lines = example.expected_lines()
    if lines is not None:
        reported = sorted({d.span.line for d in here})
        if reported != sorted(set(lines)):
            problems.append(f"expected findings on line(s) {sorted(set(lines))}, got {reported}")
    fragment = example.expected_message
    if fragment is not None:
        if not here:
            problems.append(f"expected a message containing {fragment!r}, got no finding")
        problems.extend(
            f"line {d.span.line}: message does not contain {fragment!r}: {d.message}"
            for d in here
            if fragment not in d.message
        )
    if example.expected_fix is not None:
        source = example_source(example)
        outcome = fix_source(example.path, source.encode("utf-8"), here)
        fixed = outcome.fixed.decode("utf-8") if outcome.fixed is not None else source
        wanted = textwrap.dedent(example.expected_fix).lstrip("\n")
        if outcome.problem is not None:
            problems.append(f"the fix was refused: {outcome.problem}")
        elif fixed != wanted:
            problems.append(f"expected the fixed code:\n{wanted}\ngot:\n{fixed}")
    return problems


def lint_example(
    example: Example, rules: Sequence[type[Rule]], select: Sequence[str]
) -> list[Diagnostic]:
    """Findings of the selected rules on an example project."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, example)
        result = run_project(root, rules, select)
    if result.errors:
        raise AssertionError(f"example did not lint cleanly: {result.errors}")
    return list(result.diagnostics)


@dataclass(frozen=True)
class ExampleOutcome:
    """One documented example run as a test: ``problem`` is None when it passed."""

    rule: str
    kind: str  # "bad" (must be reported) or "good" (must not be)
    index: int
    problem: str | None

    @property
    def name(self) -> str:
        return f"{self.rule}-{self.kind}-{self.index}"


def _located(diagnostic: Diagnostic) -> str:
    span = diagnostic.span
    return f"{diagnostic.path}:{span.line}:{span.column}: {diagnostic.message}"


def check_example(
    rule: type[Rule], kind: str, example: Example, rules: Sequence[type[Rule]]
) -> str | None:
    """Why ``example`` fails as a ``kind`` example of ``rule`` (None: it passes)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, example)
        result = run_project(root, rules, [rule.code])
    if result.errors:
        errors = "; ".join(f"{e.path}: {e.message}" for e in result.errors)
        return f"{rule.code}: the example did not lint cleanly: {errors}"
    found = [d for d in result.diagnostics if d.code == rule.code]
    source = example_source(example).rstrip("\n")
    if kind == "good":
        if not found:
            return None
        reported = "; ".join(_located(d) for d in found)
        return f"{rule.code} reported its good example: {reported}\n{source}"
    if not found:
        return f"{rule.code} did not report its bad example:\n{source}"
    problems = expectation_problems(example, found)
    fixed_here = any(d.fix is not None for d in found if d.path == example.path)
    if example.expected_fix is None and fixed_here:
        problems.append(f"{rule.code} fixes this bad example: state the fixed code (expected_fix)")
    if problems:
        return f"{rule.code} bad example:\n{source}\n" + "\n".join(problems)
    return None


def check_examples(rule: type[Rule], rules: Sequence[type[Rule]]) -> list[ExampleOutcome]:
    """Every ``bad`` and ``good`` example of ``rule``, run against ``rules`` with only ``rule``
    selected (what ``isolint test-rule`` and the generated tests run)."""
    return [
        ExampleOutcome(rule.code, kind, index, check_example(rule, kind, example, rules))
        for kind in ("bad", "good")
        for index, example in enumerate(rule.examples(kind))
    ]
