"""Apply fixes: non-overlapping edits, re-parsed and checked against their intent before writing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from isolint.bindings import Misaligned, bindings, intended
from isolint.diagnostics import Diagnostic, Edit, Span
from isolint.parsing import decode
from isolint.safe_write import ChangedOnDisk, replace_content

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class FixOutcome:
    """What fixing one file's text produced."""

    path: str
    original: bytes
    fixed: bytes | None
    applied: int
    problem: str | None = None


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


def _offset(starts: list[int], text: str, line: int, column: int) -> int:
    if line - 1 >= len(starts):
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def _overlaps(a: Span, b: Span) -> bool:
    return (a.line, a.column) < (b.end_line, b.end_column) and (b.line, b.column) < (
        a.end_line,
        a.end_column,
    )


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (1-based spans, end exclusive) to ``text``."""
    starts = _line_starts(text)
    out = text
    for edit in sorted(edits, key=lambda e: (e.span.line, e.span.column), reverse=True):
        begin = _offset(starts, text, edit.span.line, edit.span.column)
        end = _offset(starts, text, edit.span.end_line, edit.span.end_column)
        out = out[:begin] + edit.content + out[end:]
    return out


def fix_source(path: str, data: bytes, diagnostics: Sequence[Diagnostic]) -> FixOutcome:
    """The fixed bytes of one file, or why no fix was applied. Never raises for bad input."""
    decoded = decode(data, path)
    if not isinstance(decoded, tuple):
        return FixOutcome(path, data, None, 0, decoded.message)
    text, encoding = decoded
    chosen: list[Edit] = []
    applied = 0
    for diagnostic in sorted(diagnostics, key=Diagnostic.sort_key):
        fix = diagnostic.fix
        if fix is None:
            continue
        if any(_overlaps(e.span, c.span) for e in fix.edits for c in chosen):
            continue  # the next round, after re-linting, picks it up
        chosen.extend(fix.edits)
        applied += 1
    if not applied:
        return FixOutcome(path, data, None, 0)
    new_text = apply_edits(text, chosen)
    try:
        cst.parse_module(new_text)
    except (cst.ParserSyntaxError, RecursionError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return FixOutcome(
            path, data, None, 0, f"fix dropped: it would produce invalid code ({reason})"
        )
    problem = _binding_problem(text, chosen, new_text)
    if problem is not None:
        return FixOutcome(path, data, None, 0, f"fix dropped: {problem}")
    try:
        fixed = new_text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return FixOutcome(
            path, data, None, 0, f"fix dropped: cannot encode the result as {encoding}"
        )
    if fixed == data:
        return FixOutcome(path, data, None, 0)
    return FixOutcome(path, data, fixed, applied)


def _binding_problem(text: str, edits: Sequence[Edit], new_text: str) -> str | None:
    """Why the spliced ``new_text`` is not what ``edits`` intend, judged by import bindings."""
    try:
        expected = intended(text, edits)
    except Misaligned as exc:
        return f"an edit does not line up with the import it rewrites ({str(exc)!r})"
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"CPython cannot parse the file ({type(exc).__name__})"
    try:
        actual = bindings(new_text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"it would produce code CPython rejects ({type(exc).__name__})"
    if actual == expected:
        return None
    unexpected = sorted(set(actual) - set(expected)) or sorted(set(expected) - set(actual))
    shown = ", ".join(f"{b.local} -> {b.target}" for b in unexpected[:3]) or "duplicates"
    return f"the result would not import what the fix intends ({shown})"


def _lines(text: str) -> list[str]:
    """Lines as Python counts them (``str.splitlines`` also breaks at form feeds)."""
    return [line for line in re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text) if line]


def unified_diff(outcome: FixOutcome) -> str:
    assert outcome.fixed is not None
    before = _lines(outcome.original.decode("utf-8", errors="replace"))
    after = _lines(outcome.fixed.decode("utf-8", errors="replace"))
    return "".join(
        difflib.unified_diff(
            before, after, fromfile=f"a/{outcome.path}", tofile=f"b/{outcome.path}"
        )
    )


def write_atomic(target: Path, data: bytes, expected: bytes | None = None) -> bool:
    """Replace ``target``'s content (see ``isolint.safe_write``); False if it changed on disk
    since ``expected`` was read. Other refusals raise ``WriteRefused``."""
    try:
        replace_content(target, data, expected)
    except ChangedOnDisk:
        return False
    return True
