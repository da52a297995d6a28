"""Run rule examples as real mini projects (used by the generated rule tests)."""

from __future__ import annotations

import json
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

from linter.check import CheckRequest, run_check
from linter.config import load_config
from linter.diagnostics import Diagnostic, RunResult
from linter.discovery import discover
from linter.fixes import fix_source
from linter.rule import Example, Rule
from linter.selection import select_rules


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
    loaded = load_config(None, root)
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
