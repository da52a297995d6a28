"""Reporters: pure functions from a RunResult to the text of one ``--format``."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from linter import __version__
from linter.diagnostics import Diagnostic, FileError, Fix, RunResult, Severity, Span
from linter.docs import explain
from linter.rule import Rule

# The project has no home page yet; SARIF consumers link the tool's name to this.
INFORMATION_URI = "https://pypi.org/project/isolint/"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "isolint/v1"


@dataclass(frozen=True)
class ReportContext:
    """What reporters may need beyond the result: the rule registry and options."""

    rules: tuple[type[Rule], ...]
    show_known: bool = False
    read_source: Callable[[str], str | None] = lambda path: None


class Reporter(Protocol):
    def __call__(self, result: RunResult, context: ReportContext) -> str: ...


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_code(point: int) -> str:
    """``\\xNN`` for a byte of a non-UTF-8 file name (surrogateescape), ``\\uNNNN`` otherwise."""
    if 0xDC80 <= point <= 0xDCFF:
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def escape_surrogates(text: str) -> str:
    """Spell out lone surrogates (the undecodable bytes of file names) so the text encodes."""
    return _SURROGATE.sub(lambda m: _escape_code(ord(m.group())), text)


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
    return escape_surrogates("".join(line + "\n" for line in lines))


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
        "related": [
            {"path": r.path, "line": r.line, "column": r.column, "note": r.note} for r in d.related
        ],
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


def _rules_by_code(context: ReportContext) -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in context.rules}


def _location(d: Diagnostic) -> str:
    return f"{d.path}:{d.span.line}:{d.span.column}"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


# --- full ---------------------------------------------------------------------------------------


def _source_lines(text: str) -> list[str]:
    """Split as Python does: on ``\\r\\n``, ``\\r`` and ``\\n`` only (not form feeds etc.)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _line_reader(context: ReportContext) -> Callable[[str], list[str] | None]:
    """``context.read_source`` split into lines, each file read at most once per report."""
    read: dict[str, list[str] | None] = {}

    def lines(path: str) -> list[str] | None:
        if path not in read:
            text = context.read_source(path)
            read[path] = None if text is None else _source_lines(text)
        return read[path]

    return lines


def _caret_line(line: str, span: Span) -> str:
    """Carets under the span's part of its first line; tabs kept so the carets line up."""
    start = min(max(span.column, 1), len(line) + 1)
    end = min(span.end_column, len(line) + 1) if span.end_line == span.line else len(line) + 1
    indent = "".join("\t" if ch == "\t" else " " for ch in line[: start - 1])
    return indent + "^" * max(end - start, 1)


def _full_entry(
    d: Diagnostic,
    rules: Mapping[str, type[Rule]],
    lines_of: Callable[[str], list[str] | None],
    tag: str = "",
) -> str:
    out = [f"{_location(d)}: {d.code}{tag} {d.message}"]
    gutter = " " * len(str(d.span.line))
    lines = lines_of(d.path)
    if lines is not None and 1 <= d.span.line <= len(lines):
        line = lines[d.span.line - 1]
        out += [
            f"{gutter} |",
            f"{d.span.line} | {line}".rstrip(),
            f"{gutter} | {_caret_line(line, d.span)}",
            f"{gutter} |",
        ]
    rule = rules.get(d.code)
    help_text = d.fix.title if d.fix is not None else rule.summary if rule is not None else None
    for related in d.related:
        out.append(
            f"{gutter} = note: {related.path}:{related.line}:{related.column}: {related.note}"
        )
    if help_text:
        out.append(f"{gutter} = help: {help_text}")
    return "\n".join(out)


def format_full(result: RunResult, context: ReportContext) -> str:
    """ruff's ``full`` shape: the text line, the source line with carets, and a help line."""
    rules = _rules_by_code(context)
    lines_of = _line_reader(context)
    entries = [_full_entry(d, rules, lines_of) for d in result.diagnostics]
    if context.show_known:
        entries += [_full_entry(d, rules, lines_of, " [known]") for d in result.known]
    errors = "".join(f"{_error_location(e)}: error: {e.message}\n" for e in result.errors)
    findings = "\n".join(entry + "\n" for entry in entries)
    return escape_surrogates(findings + ("\n" if findings and errors else "") + errors)


# --- json-lines ---------------------------------------------------------------------------------


def format_json_lines(result: RunResult, context: ReportContext) -> str:
    """One JSON object per line: each diagnostic as in ``json``, then each file error."""
    lines = [json.dumps(diagnostic_to_json(d)) for d in result.diagnostics]
    lines += [json.dumps({**error_to_json(e), "type": "error"}) for e in result.errors]
    return "".join(line + "\n" for line in lines)


# --- sarif --------------------------------------------------------------------------------------


def _first_paragraph(documentation: str, heading: str) -> str | None:
    """The first paragraph under ``## heading`` in a rule's docs, joined into one line."""
    lines = documentation.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == f"## {heading}"]
    if not starts:
        return None
    paragraph: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line.lstrip().startswith("#") or (not line.strip() and paragraph):
            break
        if line.strip():
            paragraph.append(line.strip())
    return " ".join(paragraph) or None


def _sarif_level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _sarif_rule(rule: type[Rule]) -> dict[str, object]:
    docs = explain(rule)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {
            "text": _first_paragraph(rule.documentation(), "What it does") or rule.summary
        },
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": _sarif_level(rule.severity)},
        "properties": {"tags": [rule.category().value]},
    }


def _sarif_descriptors(
    context: ReportContext, diagnostics: Iterable[Diagnostic]
) -> list[dict[str, object]]:
    """Every registered rule, then a bare entry for any reported code the registry lacks."""
    descriptors = [_sarif_rule(rule) for rule in context.rules]
    known = {rule.code for rule in context.rules}
    for d in diagnostics:
        if d.code not in known:
            known.add(d.code)
            descriptors.append(
                {"id": d.code, "name": d.name, "properties": {"tags": [d.category.value]}}
            )
    return descriptors


def _uri(path: str) -> str:
    """The path percent-encoded as UTF-8, or as its raw bytes for a non-UTF-8 file name."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file system name decodes to
        raw = path.encode("utf-8", "backslashreplace")
    return quote(raw)


def _artifact(path: str) -> dict[str, object]:
    return {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}


def _region(span: Span) -> dict[str, object]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def _sarif_fix(path: str, fix: Fix) -> dict[str, object]:
    replacements = [
        {"deletedRegion": _region(e.span), "insertedContent": {"text": e.content}}
        for e in fix.edits
    ]
    return {
        "description": {"text": fix.title},
        "artifactChanges": [{"artifactLocation": _artifact(path), "replacements": replacements}],
    }


def _sarif_result(d: Diagnostic, rule_index: int, state: str | None) -> dict[str, object]:
    entry: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _sarif_level(d.severity),
        "message": {"text": d.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": _artifact(d.path), "region": _region(d.span)}}
        ],
        "partialFingerprints": {FINGERPRINT_KEY: d.fingerprint},
    }
    if d.related:
        entry["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": {
                    "artifactLocation": _artifact(r.path),
                    "region": {"startLine": r.line, "startColumn": r.column},
                },
                "message": {"text": r.note},
            }
            for number, r in enumerate(d.related)
        ]
    if d.fix is not None:
        entry["fixes"] = [_sarif_fix(d.path, d.fix)]
    if state is not None:
        entry["baselineState"] = state
    return entry


def _sarif_notification(e: FileError) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": _artifact(e.path)}
    if e.line:
        region: dict[str, object] = {"startLine": e.line}
        if e.column:
            region["startColumn"] = e.column
        physical["region"] = region
    return {
        "level": "error",
        "message": {"text": e.message},
        "locations": [{"physicalLocation": physical}],
        "properties": {"kind": e.kind},
    }


def format_sarif(result: RunResult, context: ReportContext) -> str:
    """SARIF 2.1.0 for code-scanning tools; with a baseline, results carry ``baselineState``."""
    with_baseline = bool(result.known or result.fixed_in_baseline)
    descriptors = _sarif_descriptors(context, [*result.diagnostics, *result.known])
    index = {str(descriptor["id"]): i for i, descriptor in enumerate(descriptors)}
    results = [
        _sarif_result(d, index[d.code], "new" if with_baseline else None)
        for d in result.diagnostics
    ]
    if with_baseline:
        results += [_sarif_result(d, index[d.code], "unchanged") for d in result.known]
    invocation: dict[str, object] = {"executionSuccessful": True}
    if result.errors:
        invocation["toolExecutionNotifications"] = [_sarif_notification(e) for e in result.errors]
    driver = {
        "name": "isolint",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": descriptors,
    }
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# --- github -------------------------------------------------------------------------------------


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_command(command: str, properties: Sequence[tuple[str, object]], message: str) -> str:
    fields = ",".join(f"{name}={_github_property(str(value))}" for name, value in properties)
    return f"::{command} {fields}::{_github_data(message)}"


def _github_annotation(d: Diagnostic, command: str, title: str) -> str:
    properties = (
        ("file", d.path),
        ("line", d.span.line),
        ("col", d.span.column),
        ("endLine", d.span.end_line),
        ("endColumn", d.span.end_column),
        ("title", title),
    )
    return _github_command(command, properties, d.message)


def _github_error(e: FileError) -> str:
    properties: list[tuple[str, object]] = [("file", e.path), ("line", e.line or 1)]
    if e.column:
        properties.append(("col", e.column))
    properties.append(("title", "isolint"))
    return _github_command("error", properties, e.message)


def format_github(result: RunResult, context: ReportContext) -> str:
    """GitHub Actions workflow commands: one annotation per finding (known ones as notices)."""
    lines = [
        _github_annotation(d, "error" if d.severity is Severity.ERROR else "warning", d.code)
        for d in result.diagnostics
    ]
    if context.show_known:
        lines += [_github_annotation(d, "notice", f"{d.code} (known)") for d in result.known]
    lines += [_github_error(e) for e in result.errors]
    return escape_surrogates("".join(line + "\n" for line in lines))


# --- junit --------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_escape_code(match: re.Match[str]) -> str:
    return _escape_code(ord(match.group()))


def _xml_text(text: str) -> str:
    """Spell out the characters XML 1.0 cannot carry at all (ElementTree escapes the rest)."""
    return _XML_INVALID.sub(_xml_escape_code, text)


def _junit_case(
    suite: ET.Element, path: str, diagnostics: Sequence[Diagnostic], errors: Sequence[FileError]
) -> None:
    case = ET.SubElement(suite, "testcase", classname="isolint", name=_xml_text(path))
    for d in diagnostics:
        failure = ET.SubElement(
            case, "failure", message=_xml_text(f"{d.code} {d.message}"), type=d.code
        )
        failure.text = _xml_text(f"{_location(d)}: {d.code} {d.message}")
    for e in errors:
        error = ET.SubElement(case, "error", message=_xml_text(e.message), type=e.kind)
        error.text = _xml_text(f"{_error_location(e)}: error: {e.message}")


def format_junit(result: RunResult, context: ReportContext) -> str:
    """JUnit XML: a failing test case per file with findings, one passing case for the rest."""
    diagnostics: dict[str, list[Diagnostic]] = {}
    errors: dict[str, list[FileError]] = {}
    for d in result.diagnostics:
        diagnostics.setdefault(d.path, []).append(d)
    for e in result.errors:
        errors.setdefault(e.path, []).append(e)
    paths = sorted(diagnostics.keys() | errors.keys())
    suite = ET.Element("testsuite", name="isolint")
    for path in paths:
        _junit_case(suite, path, diagnostics.get(path, []), errors.get(path, []))
    clean = result.files - len(paths)
    if clean > 0:
        case = ET.SubElement(suite, "testcase", classname="isolint", name="isolint")
        ET.SubElement(case, "system-out").text = f"{_plural(clean, 'file')} without findings"
    counts = {
        "tests": str(len(suite)),
        "failures": str(len(result.diagnostics)),
        "errors": str(len(result.errors)),
    }
    suite.attrib.update(counts)
    root = ET.Element("testsuites", {"name": "isolint", **counts})
    root.append(suite)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


# --- markdown -----------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


def _md_cell(text: str) -> str:
    """A Markdown-authored message in a table cell: one line, pipes escaped."""
    return " ".join(text.splitlines()).replace("|", "\\|")


def _md_plain(text: str) -> str:
    """Arbitrary text (paths, error messages) shown literally in a table cell."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _md_code(text: str) -> str:
    """``text`` as an inline code span, fenced so backticks inside cannot close it."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}".replace("|", "\\|")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _md_rules_table(diagnostics: Sequence[Diagnostic]) -> str:
    first: dict[str, Diagnostic] = {}
    for d in diagnostics:
        first.setdefault(d.code, d)
    rows = [
        (first[code].category.value, code, _md_code(first[code].name), str(count))
        for code, count in by_code(diagnostics).items()
    ]
    return _md_table(("Family", "Rule", "Name", "Findings"), rows)


def _md_findings_table(diagnostics: Sequence[Diagnostic]) -> str:
    rows = [(_md_code(_location(d)), d.code, _md_cell(d.message)) for d in diagnostics]
    return _md_table(("Location", "Rule", "Message"), rows)


def _md_summary(result: RunResult, with_baseline: bool) -> str:
    noun = ("new finding", "new findings") if with_baseline else ("finding", "findings")
    text = (
        f"**{_plural(len(result.diagnostics), *noun)}** in "
        f"{_plural(result.files_with_findings, 'file')} "
        f"({_plural(result.files, 'file')} checked"
    )
    unreadable = len({e.path for e in result.errors})
    if unreadable:
        text += f", {unreadable} could not be analysed"
    text += ")"
    if with_baseline:
        text += f"; {len(result.fixed_in_baseline)} fixed, {len(result.known)} known"
    if result.suppressed:
        text += f"; {result.suppressed} suppressed"
    return text + "."


def format_markdown(result: RunResult, context: ReportContext) -> str:
    """A Markdown report for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""
    with_baseline = bool(result.known or result.fixed_in_baseline)
    parts = ["## isolint", "", _md_summary(result, with_baseline)]
    if result.diagnostics:
        parts += ["", _md_rules_table(result.diagnostics)]
    heading = "### New" if with_baseline else "### Findings"
    if result.diagnostics:
        parts += ["", heading, "", _md_findings_table(result.diagnostics)]
    elif with_baseline:
        parts += ["", heading, "", "No new findings."]
    if with_baseline:
        fixed = _plural(len(result.fixed_in_baseline), "baseline entry", "baseline entries")
        parts += ["", "### Fixed", "", f"{fixed} no longer found."]
        known = _plural(len(result.known), "known finding")
        parts += ["", "### Known", "", f"{known} (in the baseline)."]
        if context.show_known and result.known:
            parts += ["", _md_findings_table(result.known)]
    if result.errors:
        rows = [(_md_code(_error_location(e)), _md_plain(e.message)) for e in result.errors]
        parts += ["", "### Errors", "", _md_table(("Location", "Error"), rows)]
    return escape_surrogates("\n".join(parts) + "\n")


def reporters() -> Mapping[str, Reporter]:
    """Every ``--format`` name and its reporter."""
    return {
        "text": format_text,
        "json": format_json,
        "json-lines": format_json_lines,
        "full": format_full,
        "sarif": format_sarif,
        "github": format_github,
        "junit": format_junit,
        "markdown": format_markdown,
    }
