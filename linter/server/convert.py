"""Engine values -> LSP values: positions in the client's units, diagnostics, related locations."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace.position_codec import PositionCodec

from isolint.diagnostics import Diagnostic, FileError, Severity
from isolint.server.engine import Report
from isolint.urls import DOCS_URL, documented, rule_anchor

SOURCE = "isolint"
DEFAULT_DOCS_URL = DOCS_URL  # initialization option docsUrl replaces it
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines as Python (and LibCST spans) count them: only CR, LF and CRLF end a line."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class Positions:
    """Convert 1-based code-point spans of one text into the client's 0-based units."""

    lines: Sequence[str]
    codec: PositionCodec

    def position(self, line: int, column: int) -> types.Position:
        index = line - 1
        if index >= len(self.lines):
            return types.Position(line=max(index, 0), character=0)
        text = self.lines[index].rstrip("\r\n")
        return types.Position(
            line=index, character=self.codec.client_num_units(text[: max(column - 1, 0)])
        )

    def range(self, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        return types.Range(self.position(line, column), self.position(end_line, end_column))

    def offset(self, position: types.Position) -> tuple[int, int]:
        """A client position as (1-based line, 1-based code-point column)."""
        if position.line >= len(self.lines):
            return position.line + 1, 1
        text = self.lines[position.line].rstrip("\r\n")
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += self.codec.client_num_units(char)
        return position.line + 1, len(text) + 1


def rule_href(base: str, code: str) -> str | None:
    """The rule's row in the README rule table (``isolint.urls``, as SARIF ``helpUri``); None
    for a team rule, whose docs are not in isolint's README."""
    return f"{base}#{rule_anchor(code)}" if documented(code) else None


def _severity(severity: Severity) -> types.DiagnosticSeverity:
    if severity is Severity.ERROR:
        return types.DiagnosticSeverity.Error
    return types.DiagnosticSeverity.Warning


def to_lsp(
    report: Report,
    positions: Positions,
    other_file: Callable[[Path], Positions | None],
    docs_url: str,
) -> list[types.Diagnostic]:
    """Every finding and file error of a report as LSP diagnostics (errors first)."""
    out = [_error(error, positions) for error in report.errors]
    if report.problem is not None:
        out.append(
            types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                message=f"isolint configuration error: {report.problem}",
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
                code="config",
            )
        )
    for diagnostic in report.diagnostics:
        out.append(finding(diagnostic, report.root, positions, other_file, docs_url))
    return out


def _error(error: FileError, positions: Positions) -> types.Diagnostic:
    line = error.line or 1
    column = error.column or 1
    start = positions.position(line, column)
    if error.column is None:  # the whole line
        text = positions.lines[line - 1] if line <= len(positions.lines) else ""
        end = positions.position(line, len(text.rstrip("\r\n")) + 1)
    else:
        end = types.Position(start.line, start.character + 1)
    message = error.message
    if error.kind != "syntax":
        message = f"isolint could not analyse this ({error.kind}): {message}"
    return types.Diagnostic(
        range=types.Range(start, end),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code=error.kind,
    )


def finding(
    diagnostic: Diagnostic,
    root: Path,
    positions: Positions,
    other_file: Callable[[Path], Positions | None],
    docs_url: str,
) -> types.Diagnostic:
    span = diagnostic.span
    related: list[types.DiagnosticRelatedInformation] = []
    for item in diagnostic.related:
        path = (root / item.path).resolve()
        where = positions if item.path == diagnostic.path else other_file(path)
        start = (
            where.position(item.line, item.column)
            if where is not None
            else types.Position(line=max(item.line - 1, 0), character=max(item.column - 1, 0))
        )
        related.append(
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=from_fs_path(str(path)) or path.as_uri(),
                    range=types.Range(start, start),
                ),
                message=item.note,
            )
        )
    return types.Diagnostic(
        range=positions.range(span.line, span.column, span.end_line, span.end_column),
        message=diagnostic.message,
        severity=_severity(diagnostic.severity),
        code=diagnostic.code,
        code_description=(
            types.CodeDescription(href=href)
            if (href := rule_href(docs_url, diagnostic.code)) is not None
            else None
        ),
        source=SOURCE,
        related_information=related or None,
        data=diagnostic.fingerprint,
    )
