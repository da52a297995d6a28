"""Reporters: pure functions from a RunResult to the text of one ``--format``."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from isolint import __version__
from isolint.diagnostics import Diagnostic, FileError, Fix, RunResult, Severity, Span
from isolint.urls import rule_url

if TYPE_CHECKING:  # the CLI imports this module for --format; LibCST loads lazily
    from isolint.rule import Rule

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
    color: bool = False  # ANSI colour in text and full (a terminal, FORCE_COLOR)
    max_chars: int | None = None  # markdown: the cap (default MARKDOWN_LIMIT)
    base_uri: str = ""  # SARIF: the file URI printed paths are relative to (the cwd)


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


_BOLD, _RED, _CYAN, _YELLOW, _RESET = "\x1b[1m", "\x1b[31;1m", "\x1b[36m", "\x1b[33m", "\x1b[0m"


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def _text_line(d: Diagnostic, color: bool, tag: str = "") -> str:
    """``path:line:col: CODE [*] message``; ``[*]``: ``--fix`` can fix it (as ruff marks it)."""
    sep = _paint(":", _CYAN, color)
    where = sep.join(
        (_paint(d.path, _BOLD, color), str(d.span.line), str(d.span.column))
    )
    marks = tag + (" [*]" if d.fix is not None else "")
    return f"{where}{sep} {_paint(d.code, _RED, color)}{marks} {d.message}"


def format_text(result: RunResult, context: ReportContext) -> str:
    """``path:line:col: CODE message`` per finding, the shape flake8/ruff print and editors parse."""
    color = context.color
    lines = [_text_line(d, color) for d in result.diagnostics]
    if context.show_known:
        lines.extend(_text_line(d, color, " [known]") for d in result.known)
    lines.extend(
        f"{_error_location(e)}: {_paint('error', _YELLOW, color)}: {e.message}"
        for e in result.errors
    )
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
        "url": rule_url(d.code),
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


def _json_summary(result: RunResult) -> dict[str, object]:
    return {
        "files": result.files,
        "diagnostics": len(result.diagnostics),
        "fixable": sum(1 for d in result.diagnostics if d.fix is not None),
        "by_code": by_code(result.diagnostics),
    }


def format_json(result: RunResult, context: ReportContext) -> str:
    """The documented JSON contract (see README, "JSON output")."""
    document = {
        "version": __version__,
        "diagnostics": [diagnostic_to_json(d) for d in result.diagnostics],
        "errors": [error_to_json(e) for e in result.errors],
        "summary": _json_summary(result),
    }
    return json.dumps(document, indent=2) + "\n"


def statistics(result: RunResult) -> list[dict[str, object]]:
    """Counts per rule, most frequent first: code, name, count, fixable, url."""
    counts = Counter((d.code, d.name) for d in result.diagnostics)
    fixable = Counter(d.code for d in result.diagnostics if d.fix is not None)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return [
        {
            "code": code,
            "name": name,
            "count": count,
            "fixable": fixable[code],
            "url": rule_url(code),
        }
        for (code, name), count in rows
    ]


def format_json_statistics(result: RunResult, context: ReportContext) -> str:
    """``--format json --statistics``: the JSON document without the findings themselves; the
    counts per rule are ``summary.statistics``."""
    document = {
        "version": __version__,
        "errors": [error_to_json(e) for e in result.errors],
        "summary": {**_json_summary(result), "statistics": statistics(result)},
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
    color: bool = False,
) -> str:
    out = [_text_line(d, color, tag)]
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
    color = context.color
    entries = [_full_entry(d, rules, lines_of, color=color) for d in result.diagnostics]
    if context.show_known:
        entries += [_full_entry(d, rules, lines_of, " [known]", color) for d in result.known]
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
    from isolint.docs import explain

    docs = explain(rule)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {
            "text": _first_paragraph(rule.documentation(), "What it does") or rule.summary
        },
        "help": {"text": docs, "markdown": docs},
        **({"helpUri": url} if (url := rule_url(rule.code)) is not None else {}),
        "defaultConfiguration": {"level": _sarif_level(rule.severity)},
        "properties": {"tags": [rule.family_name()]},
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
                {
                    "id": d.code,
                    "name": d.name,
                    **({"helpUri": url} if (url := rule_url(d.code)) is not None else {}),
                    "properties": {"tags": [d.category.value]},
                }
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
    """Printed paths are relative to ``%SRCROOT%`` (the working directory, given in
    ``originalUriBaseIds``); a path outside it is printed absolute and becomes a file URI."""
    if path.startswith("/"):
        return {"uri": "file://" + _uri(path)}
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
                **(
                    {"originalUriBaseIds": {"%SRCROOT%": {"uri": context.base_uri}}}
                    if context.base_uri
                    else {}
                ),
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


def _junit_classname(path: str) -> str:
    """ruff's shape: the file's path without its ``.py`` suffix."""
    return _xml_text(path.removesuffix(".py"))


def _junit_suite(
    root: ET.Element, path: str, diagnostics: Sequence[Diagnostic], errors: Sequence[FileError]
) -> None:
    """One test suite per file; one failing test case per finding (ruff's JUnit shape, which
    GitLab and Jenkins count), one erroring test case per file error."""
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_xml_text(path),
        tests=str(len(diagnostics) + len(errors)),
        failures=str(len(diagnostics)),
        errors=str(len(errors)),
    )
    for d in diagnostics:
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"isolint.{d.code}",
            classname=_junit_classname(path),
            file=_xml_text(path),
            line=str(d.span.line),
            column=str(d.span.column),
        )
        failure = ET.SubElement(
            case, "failure", message=_xml_text(f"{d.code} {d.message}"), type=d.code
        )
        failure.text = _xml_text(f"{_location(d)}: {d.code} {d.message}")
    for e in errors:
        case = ET.SubElement(
            suite,
            "testcase",
            name="isolint.error",
            classname=_junit_classname(path),
            file=_xml_text(path),
            line=str(e.line or 1),
        )
        error = ET.SubElement(case, "error", message=_xml_text(e.message), type=e.kind)
        error.text = _xml_text(f"{_error_location(e)}: error: {e.message}")


def format_junit(result: RunResult, context: ReportContext) -> str:
    """JUnit XML: a test suite per file with findings and a failing test case per finding; the
    files without findings pass as one test case (``No errors found``, as ruff writes it)."""
    diagnostics: dict[str, list[Diagnostic]] = {}
    errors: dict[str, list[FileError]] = {}
    for d in result.diagnostics:
        diagnostics.setdefault(d.path, []).append(d)
    for e in result.errors:
        errors.setdefault(e.path, []).append(e)
    paths = sorted(diagnostics.keys() | errors.keys())
    root = ET.Element("testsuites", name="isolint")
    for path in paths:
        _junit_suite(root, path, diagnostics.get(path, []), errors.get(path, []))
    clean = result.files - len({e.path for e in result.errors} | diagnostics.keys())
    if clean > 0 or not paths:
        suite = ET.SubElement(root, "testsuite", name="isolint", tests="1", failures="0", errors="0")
        case = ET.SubElement(suite, "testcase", name="No errors found", classname="isolint")
        ET.SubElement(case, "system-out").text = f"{_plural(max(clean, 0), 'file')} without findings"
    root.attrib.update(
        {
            "tests": str(sum(int(s.get("tests", "0")) for s in root)),
            "failures": str(len(result.diagnostics)),
            "errors": str(len(result.errors)),
        }
    )
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


# GitHub's limit for one step summary ($GITHUB_STEP_SUMMARY): 1 MiB. A pull-request or issue
# comment holds 65,536 characters (``--max-chars 65536``).
MARKDOWN_LIMIT = 1024 * 1024
PR_COMMENT_LIMIT = 65536


def _markdown(result: RunResult, context: ReportContext, shown: int) -> str:
    """The report with at most ``shown`` rows in each findings/known/errors table."""
    with_baseline = bool(result.known or result.fixed_in_baseline)
    parts = ["## isolint", "", _md_summary(result, with_baseline)]
    if result.diagnostics:
        parts += ["", _md_rules_table(result.diagnostics)]
    heading = "### New" if with_baseline else "### Findings"
    if result.diagnostics:
        parts += ["", heading, "", _md_findings_table(result.diagnostics[:shown])]
    elif with_baseline:
        parts += ["", heading, "", "No new findings."]
    if with_baseline:
        fixed = _plural(len(result.fixed_in_baseline), "baseline entry", "baseline entries")
        parts += ["", "### Fixed", "", f"{fixed} no longer found."]
        known = _plural(len(result.known), "known finding")
        parts += ["", "### Known", "", f"{known} (in the baseline)."]
        if context.show_known and result.known:
            parts += ["", _md_findings_table(result.known[:shown])]
    if result.errors:
        rows = [
            (_md_code(_error_location(e)), _md_plain(e.message)) for e in result.errors[:shown]
        ]
        parts += ["", "### Errors", "", _md_table(("Location", "Error"), rows)]
    hidden = sum(
        max(0, len(rows) - shown)
        for rows in (
            result.diagnostics,
            result.known if context.show_known else (),
            result.errors,
        )
    )
    if hidden:
        parts += [
            "",
            (
                f"**{_plural(hidden, 'more finding')} not shown** (the report is capped at "
                f"{context.max_chars or MARKDOWN_LIMIT:,} bytes; run `isolint check` locally or "
                "use `--format sarif` for all of them)."
            ),
        ]
    return escape_surrogates("\n".join(parts) + "\n")


def format_markdown(result: RunResult, context: ReportContext) -> str:
    """A Markdown report for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment, capped at
    ``context.max_chars`` UTF-8 bytes (default 1 MiB, GitHub's step-summary limit): the rows
    that do not fit are counted in an "N more findings not shown" line."""
    limit = context.max_chars or MARKDOWN_LIMIT
    most = max(len(result.diagnostics), len(result.known), len(result.errors))
    report = _markdown(result, context, most)
    if len(report.encode("utf-8")) <= limit:
        return report
    low, high = 0, most  # the largest row count whose report fits
    while low < high:
        middle = (low + high + 1) // 2
        if len(_markdown(result, context, middle).encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    return _markdown(result, context, low)


# --- gitlab, pylint, azure ----------------------------------------------------------------------

_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def _gitlab_issue(
    description: str, check_name: str, fingerprint: str, severity: str, path: str, line: int
) -> dict[str, object]:
    return {
        "type": "issue",
        "description": description,
        "check_name": check_name,
        "fingerprint": fingerprint,
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line}},
    }


def format_gitlab(result: RunResult, context: ReportContext) -> str:
    """GitLab Code Quality (a JSON array of issues: ``description``, ``check_name``,
    ``fingerprint``, ``severity``, ``location.path``, ``location.lines.begin``); file errors are
    ``critical`` issues named ``isolint/error``."""
    issues = [
        _gitlab_issue(
            f"{d.code} {d.message}",
            d.code,
            d.fingerprint,
            _GITLAB_SEVERITY[d.severity],
            d.path,
            d.span.line,
        )
        for d in result.diagnostics
    ]
    for e in result.errors:
        digest = hashlib.sha256(f"{e.path}\0{e.message}".encode("utf-8", "surrogateescape"))
        issues.append(
            _gitlab_issue(
                e.message, "isolint/error", digest.hexdigest(), "critical", e.path, e.line or 1
            )
        )
    return json.dumps(issues, indent=2) + "\n"


def format_pylint(result: RunResult, context: ReportContext) -> str:
    """pylint's parseable shape, as ruff prints it: ``path:line: [CODE] message``."""
    lines = [f"{d.path}:{d.span.line}: [{d.code}] {d.message}" for d in result.diagnostics]
    lines += [f"{e.path}:{e.line or 1}: [error] {e.message}" for e in result.errors]
    return escape_surrogates("".join(line + "\n" for line in lines))


def _azure_property(text: str) -> str:
    return text.replace("%", "%AZP25").replace(";", "%3B").replace("\r", "%0D").replace("\n", "%0A")


def _azure_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def format_azure(result: RunResult, context: ReportContext) -> str:
    """Azure Pipelines logging commands (``##vso[task.logissue ...]``), as ruff prints them."""
    lines = [
        f"##vso[task.logissue type={'error' if d.severity is Severity.ERROR else 'warning'};"
        f"sourcepath={_azure_property(d.path)};linenumber={d.span.line};"
        f"columnnumber={d.span.column};code={d.code};]{_azure_data(d.message)}"
        for d in result.diagnostics
    ]
    lines += [
        f"##vso[task.logissue type=error;sourcepath={_azure_property(e.path)};"
        f"linenumber={e.line or 1};]{_azure_data(e.message)}"
        for e in result.errors
    ]
    return escape_surrogates("".join(line + "\n" for line in lines))


def reporters() -> Mapping[str, Reporter]:
    """Every ``--format`` name and its reporter."""
    return {
        "text": format_text,
        "json": format_json,
        "json-lines": format_json_lines,
        "full": format_full,
        "sarif": format_sarif,
        "github": format_github,
        "gitlab": format_gitlab,
        "junit": format_junit,
        "markdown": format_markdown,
        "pylint": format_pylint,
        "azure": format_azure,
    }
