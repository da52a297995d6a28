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
