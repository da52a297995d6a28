"""Reporters: pure functions from a RunResult to the text of one ``--format``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from linter import __version__
from linter.diagnostics import Diagnostic, FileError, Fix, RunResult
from linter.rule import Rule


@dataclass(frozen=True)
class ReportContext:
    """What reporters may need beyond the result: the rule registry and options."""

    rules: tuple[type[Rule], ...]
    show_known: bool = False
    read_source: Callable[[str], str | None] = lambda path: None


class Reporter(Protocol):
    def __call__(self, result: RunResult, context: ReportContext) -> str: ...


def _error_location(error: FileError) -> str:
    return f"{error.path}:{error.line or 1}:{error.column or 1}"


def format_text(result: RunResult, context: ReportContext) -> str:
    """``path:line:col: CODE message`` per finding, the shape flake8/ruff print and editors parse."""
    lines = [
        f"{d.path}:{d.span.line}:{d.span.column}: {d.code} {d.message}" for d in result.diagnostics
    ]
    if context.show_known:
        lines.extend(
            f"{d.path}:{d.span.line}:{d.span.column}: {d.code} [known] {d.message}"
            for d in result.known
        )
    lines.extend(f"{_error_location(e)}: error: {e.message}" for e in result.errors)
    return "".join(line + "\n" for line in lines)


def fix_to_json(fix: Fix | None) -> dict[str, object] | None:
    if fix is None:
        return None
    return {
        "title": fix.title,
        "edits": [
            {
                "line": e.span.line,
                "column": e.span.column,
                "end_line": e.span.end_line,
                "end_column": e.span.end_column,
                "content": e.content,
            }
            for e in fix.edits
        ],
    }


def diagnostic_to_json(d: Diagnostic) -> dict[str, object]:
    return {
        "path": d.path,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "code": d.code,
        "name": d.name,
        "category": d.category.value,
        "severity": d.severity.value,
        "message": d.message,
        "fingerprint": d.fingerprint,
        "fix": fix_to_json(d.fix),
    }


def error_to_json(e: FileError) -> dict[str, object]:
    return {"path": e.path, "message": e.message}


def by_code(diagnostics: Sequence[Diagnostic]) -> dict[str, int]:
    counts = Counter(d.code for d in diagnostics)
    return {code: counts[code] for code in sorted(counts)}


def format_json(result: RunResult, context: ReportContext) -> str:
    """The documented JSON contract (see README, "JSON output")."""
    document = {
        "version": __version__,
        "diagnostics": [diagnostic_to_json(d) for d in result.diagnostics],
        "errors": [error_to_json(e) for e in result.errors],
        "summary": {
            "files": result.files,
            "diagnostics": len(result.diagnostics),
            "by_code": by_code(result.diagnostics),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def reporters() -> Mapping[str, Reporter]:
    """Every ``--format`` name and its reporter."""
    return {"text": format_text, "json": format_json}
