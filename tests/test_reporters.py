"""Report formats, checked with the parsers their consumers use (SARIF schema, JUnit, Markdown)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml
from markdown_it import MarkdownIt

from isolint.diagnostics import Diagnostic, Edit, FileError, Fix, RunResult, Severity, Span
from isolint.docs import explain
from isolint.reporters import ReportContext, format_json, reporters
from isolint.rules import load_rules
from tests.conftest import FIXTURES, REPO, Completed, run_isolint

Make = Callable[..., Path]

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
PROJECTS = sorted(p.parent for p in FIXTURES.glob("*/expected.json"))
MULTI = FIXTURES / "multi_package"
RULES = load_rules()

SPAN = Span(4, 24, 4, 28)  # `None` in SOURCE
SOURCE = "import os\n\ndef load(user):\n    return make_client(None, user)\n"
JSON_KEYS = {
    "path",
    "url",
    "related",
    "line",
    "column",
    "end_line",
    "end_column",
    "code",
    "name",
    "category",
    "severity",
    "message",
    "fingerprint",
    "fix",
}

# The workflow-command grammar: properties may not hold raw `,` `:` CR LF, the message no raw CR
# LF, and a `%` only ever starts one of the escapes of its part.
PROPERTY_VALUE = r"(?:[^%,:\r\n]|%(?:25|0D|0A|3A|2C))*"
GITHUB_COMMAND = re.compile(
    rf"^::(?P<command>error|warning|notice) "
    rf"(?P<properties>[A-Za-z]+={PROPERTY_VALUE}(?:,[A-Za-z]+={PROPERTY_VALUE})*)"
    r"::(?P<message>(?:[^%\r\n]|%(?:25|0D|0A))*)$"
)


def diagnostic(
    path: str = "app/svc.py",
    span: Span = SPAN,
    code: str = "ISO402",
    message: str = "`make_client(...)` receives `None` for argument 1",
    severity: Severity = Severity.WARNING,
    fix: Fix | None = None,
    fingerprint: str = "0123456789abcdef0123",
) -> Diagnostic:
    name = next(rule.name for rule in RULES if rule.code == code)
    return Diagnostic(path, span, code, name, severity, message, fingerprint, fix)


def context(show_known: bool = False, sources: dict[str, str] | None = None) -> ReportContext:
    files = sources if sources is not None else {"app/svc.py": SOURCE}
    return ReportContext(rules=RULES, show_known=show_known, read_source=files.get)


def render(fmt: str, result: RunResult, ctx: ReportContext | None = None) -> str:
    return reporters()[fmt](result, ctx or context())


MIXED = RunResult(
    files=5,
    diagnostics=(
        diagnostic(),
        diagnostic(
            path="app/state.py",
            span=Span(1, 1, 1, 7),
            code="ISO201",
            message="`_cache` is a mutable module global | shared by every user",
            severity=Severity.ERROR,
            fingerprint="ffffffffffffffffffff",
            fix=Fix("Move the state into a `ContextVar`", (Edit(Span(1, 1, 1, 7), "x"),)),
        ),
    ),
    errors=(FileError("app/broken.py", "syntax error: invalid syntax", line=3, column=7),),
)


def cli(*args: str, cwd: Path = REPO) -> Completed:
    out = run_isolint("check", "--no-cache", "--quiet", *args, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    return out


def cli_json(project: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        cli("--format", "json", ".", cwd=project).stdout
    )
    return document


# --- registry -----------------------------------------------------------------------------------


def test_every_format_is_registered_and_offered_by_the_cli() -> None:
    names = {"text", "json", "json-lines", "full", "sarif", "github", "junit", "markdown"}
    names |= {"gitlab", "pylint", "azure"}
    assert set(reporters()) == names
    help_text = run_isolint("check", "--help").stdout
    assert all(name in help_text for name in names)


@pytest.mark.parametrize("fmt", sorted(reporters()))
def test_reporters_are_pure_and_handle_an_empty_run(fmt: str) -> None:
    empty = RunResult(files=0, diagnostics=(), errors=())
    assert render(fmt, empty) == render(fmt, empty)
    assert render(fmt, MIXED) == render(fmt, MIXED)


# --- full ---------------------------------------------------------------------------------------


def _blocks(report: str) -> list[list[str]]:
    return [block.split("\n") for block in report.strip("\n").split("\n\n")]


def _underlined(block: list[str]) -> tuple[str, str]:
    """(the source line, the part of it the carets mark) of one ``full`` entry."""
    number = block[0].split(":")[1]
    source_at = next(i for i, line in enumerate(block) if line.startswith(f"{number} | "))
    prefix = len(number) + 3
    source, carets = block[source_at][prefix:], block[source_at + 1][prefix:]
    assert block[source_at + 1][:prefix] == " " * len(number) + " | "
    assert set(carets.lstrip(" \t")) == {"^"}
    start = len(carets) - len(carets.lstrip(" \t"))
    return source, source[start : len(carets)]


def test_full_puts_carets_under_the_span_and_a_help_line() -> None:
    report = render("full", RunResult(files=1, diagnostics=(diagnostic(),), errors=()))
    [block] = _blocks(report)
    assert block[0] == "app/svc.py:4:24: ISO402 " + MIXED.diagnostics[0].message
    assert block[2] == "4 |     return make_client(None, user)"
    assert block[3] == "  |                        ^^^^"
    assert _underlined(block) == ("    return make_client(None, user)", "None")
    rule = next(rule for rule in RULES if rule.code == "ISO402")
    assert block[-1] == f"  = help: {rule.summary}"


def test_full_help_prefers_the_fix_title_and_lists_errors_after_a_blank_line() -> None:
    sources = {"app/state.py": "_cache = {}\n"}
    report = render("full", MIXED, context(sources=sources))
    blocks = _blocks(report)
    assert len(blocks) == 3
    assert blocks[1][-1] == "  = help: Move the state into a `ContextVar`"
    assert _underlined(blocks[1]) == ("_cache = {}", "_cache")
    # No source for app/svc.py: the entry still has its location line and help.
    assert blocks[0][0].startswith("app/svc.py:4:24: ISO402 ") and " |" not in blocks[0][1]
    assert blocks[2] == ["app/broken.py:3:7: error: syntax error: invalid syntax"]


def test_full_carets_follow_tabs_and_stop_at_the_end_of_the_first_line() -> None:
    sources = {"app/svc.py": "if x:\n\tcall(None,\n\t     y)\n"}
    found = diagnostic(span=Span(2, 2, 3, 8))
    report = render("full", RunResult(1, (found,), ()), context(sources=sources))
    [block] = _blocks(report)
    assert block[3] == "  | \t^^^^^^^^^^"
    assert _underlined(block) == ("\tcall(None,", "call(None,")


def test_full_on_the_fixture_marks_every_finding_in_its_source() -> None:
    report = cli("--format", "full", ".", cwd=MULTI).stdout
    expected = cli_json(MULTI)["diagnostics"]
    blocks = _blocks(report)
    assert len(blocks) == len(expected)
    for block, found in zip(blocks, expected):
        location = f"{found['path']}:{found['line']}:{found['column']}"
        fixable = " [*]" if found["fix"] else ""
        assert block[0] == f"{location}: {found['code']}{fixable} {found['message']}"
        line = (MULTI / found["path"]).read_text().splitlines()[found["line"] - 1]
        end = found["end_column"] if found["end_line"] == found["line"] else len(line) + 1
        assert _underlined(block) == (line, line[found["column"] - 1 : end - 1])
        assert block[-1].lstrip().startswith("= help: ")


# --- json-lines ---------------------------------------------------------------------------------


def test_json_lines_has_one_object_per_diagnostic_then_per_error() -> None:
    lines = render("json-lines", MIXED).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [set(o) for o in objects] == [JSON_KEYS, JSON_KEYS, {"path", "message", "type"}]
    assert objects[:2] == json.loads(format_json(MIXED, context()))["diagnostics"]
    assert objects[2] == {
        "path": "app/broken.py",
        "message": "syntax error: invalid syntax",
        "type": "error",
    }


def test_json_lines_from_the_cli_matches_the_json_format() -> None:
    out = cli("--format", "json-lines", ".", cwd=MULTI).stdout
    objects = [json.loads(line) for line in out.splitlines()]
    assert all(set(o) == JSON_KEYS for o in objects)
    assert objects == cli_json(MULTI)["diagnostics"]


# --- sarif --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # The validator the schema's own `$schema` names (this copy declares draft-04).
    validator_class: Any = jsonschema.validators.validator_for(schema)
    assert validator_class.META_SCHEMA["$schema"].rstrip("#") == schema["$schema"].rstrip("#")
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def assert_valid_sarif(validator: Any, document: dict[str, Any]) -> None:
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not problems, "\n".join(problems[:20])


def _run(document: dict[str, Any]) -> dict[str, Any]:
    [run] = document["runs"]
    result: dict[str, Any] = run
    return result


def test_the_schema_rejects_what_it_should(sarif_validator: Any) -> None:
    document = json.loads(render("sarif", MIXED))
    _run(document)["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(document)


def test_sarif_describes_every_rule_and_each_result(sarif_validator: Any) -> None:
    document = json.loads(render("sarif", MIXED))
    assert_valid_sarif(sarif_validator, document)
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert document["version"] == "2.1.0"
    run = _run(document)
    driver = run["tool"]["driver"]
    assert driver["name"] == "isolint" and driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == [rule.code for rule in RULES]
    for descriptor, rule in zip(driver["rules"], RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"] == {"text": explain(rule), "markdown": explain(rule)}
        assert descriptor["defaultConfiguration"]["level"] == rule.severity.value
        assert descriptor["properties"]["tags"] == [rule.category().value]
        full = descriptor["fullDescription"]["text"]
        assert "\n" not in full and " ".join(full.split()) in " ".join(rule.documentation().split())
    iso101 = driver["rules"][[rule.code for rule in RULES].index("ISO101")]
    assert iso101["fullDescription"]["text"].startswith("Finds classes that keep their own")

    first, second = run["results"]
    assert driver["rules"][first["ruleIndex"]]["id"] == first["ruleId"] == "ISO402"
    assert first["level"] == "warning" and second["level"] == "error"
    assert first["message"]["text"] == MIXED.diagnostics[0].message
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/svc.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 24, "endLine": 4, "endColumn": 28}
    assert first["partialFingerprints"] == {"isolint/v1": "0123456789abcdef0123"}
    assert "baselineState" not in first
    [change] = second["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["insertedContent"] == {"text": "x"}

    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "syntax error: invalid syntax"
    physical = note["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "app/broken.py"
    assert physical["region"] == {"startLine": 3, "startColumn": 7}


def test_sarif_baseline_states(sarif_validator: Any) -> None:
    known = diagnostic(code="ISO204", severity=Severity.ERROR, fingerprint="k" * 20)
    result = RunResult(
        files=2, diagnostics=(diagnostic(),), errors=(), known=(known,), fixed_in_baseline=("f",)
    )
    document = json.loads(render("sarif", result))
    assert_valid_sarif(sarif_validator, document)
    states = [(r["ruleId"], r["baselineState"]) for r in _run(document)["results"]]
    assert states == [("ISO402", "new"), ("ISO204", "unchanged")]
    only_fixed = RunResult(files=1, diagnostics=(), errors=(), fixed_in_baseline=("f",))
    assert _run(json.loads(render("sarif", only_fixed)))["results"] == []


def test_sarif_uris_are_percent_encoded_and_unknown_codes_described(sarif_validator: Any) -> None:
    odd = diagnostic(path="my app/ü#1.py")
    document = json.loads(render("sarif", RunResult(1, (odd,), ())))
    assert_valid_sarif(sarif_validator, document)
    uri = _run(document)["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "my%20app/%C3%BC%231.py"
    no_rules = ReportContext(rules=())
    bare = json.loads(reporters()["sarif"](RunResult(1, (odd,), ()), no_rules))
    assert_valid_sarif(sarif_validator, bare)
    assert _run(bare)["tool"]["driver"]["rules"][0]["id"] == "ISO402"


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_sarif_from_the_cli_is_valid_for_every_fixture(sarif_validator: Any, project: Path) -> None:
    document = json.loads(cli("--format", "sarif", ".", cwd=project).stdout)
    assert_valid_sarif(sarif_validator, document)
    expected = json.loads((project / "expected.json").read_text(encoding="utf-8"))["diagnostics"]
    results = _run(document)["results"]
    assert [(r["ruleId"], r["partialFingerprints"]["isolint/v1"]) for r in results] == [
        (d["code"], d["fingerprint"]) for d in expected
    ]
    for r in results:
        region = r["locations"][0]["physicalLocation"]["region"]
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert (project / uri).is_file() and region["startLine"] >= 1


def test_sarif_from_the_cli_with_a_baseline_and_a_broken_file(
    sarif_validator: Any, make_project: Make
) -> None:
    root = make_project({"app/svc.py": "def remember(user_id, seen=[]):\n    return seen\n"})
    assert run_isolint("baseline", ".", cwd=root).returncode == 0
    (root / "app/new.py").write_text("def reset(cache={}):\n    return cache\n")
    (root / "app/broken.py").write_text("def f(:\n")
    out = cli("--format", "sarif", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    document = json.loads(out.stdout)
    assert_valid_sarif(sarif_validator, document)
    run = _run(document)
    states = sorted(
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["baselineState"])
        for r in run["results"]
    )
    assert states == [("app/new.py", "new"), ("app/svc.py", "unchanged")]
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/broken.py"


# --- github -------------------------------------------------------------------------------------


def _github_unescape(text: str, in_property: bool) -> str:
    if in_property:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _github_parse(line: str) -> tuple[str, dict[str, str], str]:
    match = GITHUB_COMMAND.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    return (
        match["command"],
        {key: _github_unescape(value, True) for key, value in properties.items()},
        _github_unescape(match["message"], False),
    )


def test_github_annotations_follow_the_workflow_command_grammar() -> None:
    lines = render("github", MIXED).splitlines()
    parsed = [_github_parse(line) for line in lines]
    assert parsed[0] == (
        "warning",
        {
            "file": "app/svc.py",
            "line": "4",
            "col": "24",
            "endLine": "4",
            "endColumn": "28",
            "title": "ISO402",
        },
        MIXED.diagnostics[0].message,
    )
    assert parsed[1][0] == "error" and parsed[1][1]["title"] == "ISO201"
    assert parsed[2] == (
        "error",
        {"file": "app/broken.py", "line": "3", "col": "7", "title": "isolint"},
        "syntax error: invalid syntax",
    )


def test_github_escapes_messages_and_properties() -> None:
    message = "100% of users, at 12:00:\nshare this\r"
    tricky = diagnostic(path="a,b:c%d.py", message=message)
    [line] = render("github", RunResult(1, (tricky,), ())).splitlines()
    assert "100%25 of users, at 12:00:%0Ashare this%0D" in line
    assert "file=a%2Cb%3Ac%25d.py," in line
    _, properties, parsed = _github_parse(line)
    assert parsed == message and properties["file"] == "a,b:c%d.py"


def test_github_known_findings_only_with_show_known() -> None:
    known = diagnostic(code="ISO204", severity=Severity.ERROR)
    result = RunResult(1, (), (), known=(known,))
    assert render("github", result) == ""
    [line] = render("github", result, context(show_known=True)).splitlines()
    command, properties, _ = _github_parse(line)
    assert command == "notice" and properties["title"] == "ISO204 (known)"


def test_github_from_the_cli() -> None:
    out = cli("--format", "github", str(MULTI.relative_to(REPO))).stdout
    expected = cli_json(MULTI)["diagnostics"]
    parsed = [_github_parse(line) for line in out.splitlines()]
    assert len(parsed) == len(expected)
    for (command, properties, message), found in zip(parsed, expected):
        assert command == found["severity"]
        # run from the repository root: the path is relative to it, so the annotation opens
        assert properties["file"] == f"fixtures/multi_package/{found['path']}"
        assert (REPO / properties["file"]).is_file() and properties["title"] == found["code"]
        assert int(properties["line"]) == found["line"] and message == found["message"]


# --- junit --------------------------------------------------------------------------------------


def _cases(xml: JUnitXml) -> list[Any]:
    return [case for suite in xml for case in suite]


def test_junit_has_a_case_per_finding_and_a_summary_case() -> None:
    report = render("junit", MIXED)
    xml = JUnitXml.fromstring(report.encode("utf-8"))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"app/broken.py", "app/state.py", "app/svc.py", "isolint"}
    assert (suites["app/svc.py"].tests, suites["app/svc.py"].failures) == (1, 1)
    [case] = list(suites["app/svc.py"])
    assert (case.name, case.classname) == ("isolint.ISO402", "app/svc")
    [failure] = case.result
    assert isinstance(failure, Failure) and failure.type == "ISO402"
    assert failure.message == "ISO402 " + MIXED.diagnostics[0].message
    assert failure.text == "app/svc.py:4:24: ISO402 " + MIXED.diagnostics[0].message
    [broken] = list(suites["app/broken.py"])
    [error] = broken.result
    assert isinstance(error, Error) and error.message == "syntax error: invalid syntax"
    [clean] = list(suites["isolint"])
    assert clean.name == "No errors found" and clean.is_passed
    root = ET.fromstring(report.encode("utf-8"))
    assert root.tag == "testsuites" and root.attrib["failures"] == "2"
    assert root.attrib["tests"] == "4" and root.attrib["errors"] == "1"


def test_junit_escapes_markup_and_unrepresentable_characters() -> None:
    message = 'a <b> & "c" \x1b[31m\x00 end'
    found = diagnostic(path="app/<odd>&.py", message=message)
    report = render("junit", RunResult(1, (found,), ()))
    root = ET.fromstring(report.encode("utf-8"))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"] == 'ISO402 a <b> & "c" \\x1b[31m\\x00 end'
    assert root.find("./testsuite[@name='app/<odd>&.py']") is not None
    assert len(root.findall("./testsuite/testcase")) == 1  # every file had findings


def test_junit_from_the_cli(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    cli("--format", "junit", "-o", str(target), ".", cwd=MULTI)
    document = cli_json(MULTI)
    xml = JUnitXml.fromfile(str(target))
    cases = [case for case in _cases(xml) if case.name != "No errors found"]
    assert len(cases) == len(document["diagnostics"])  # one test case per finding
    assert [(case.classname, case.name) for case in cases] == [
        (d["path"].removesuffix(".py"), f"isolint.{d['code']}") for d in document["diagnostics"]
    ]
    failures = [r for case in cases for r in case.result if isinstance(r, Failure)]
    assert sorted(r.type for r in failures) == sorted(d["code"] for d in document["diagnostics"])
    assert sum(suite.failures for suite in xml) == len(failures)
    assert ET.parse(target).getroot().tag == "testsuites"


# --- markdown -----------------------------------------------------------------------------------


def _tables(report: str) -> list[list[list[str]]]:
    """Every table as rows of cell sources, header row first."""
    tables: list[list[list[str]]] = []
    in_cell = False
    for token in MarkdownIt().enable("table").parse(report):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            tables[-1].append([])
        elif token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type in ("th_close", "td_close"):
            in_cell = False
        elif token.type == "inline" and in_cell:
            tables[-1][-1].append(token.content)
    return tables


def _headings(report: str) -> list[str]:
    tokens = MarkdownIt().enable("table").parse(report)
    return [
        f"{token.tag} {tokens[i + 1].content}"
        for i, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


def assert_rectangular(tables: Iterable[list[list[str]]]) -> None:
    for table in tables:
        assert all(len(row) == len(table[0]) for row in table), table


def test_markdown_summary_rule_table_findings_and_errors() -> None:
    report = render("markdown", MIXED)
    types = {token.type for token in MarkdownIt().enable("table").parse(report)}
    assert {"table_open", "th_open", "td_open"} <= types
    assert _headings(report) == ["h2 isolint", "h3 Findings", "h3 Errors"]
    rules, findings, errors = _tables(report)
    assert_rectangular((rules, findings, errors))
    assert rules[0] == ["Family", "Rule", "Name", "Findings"]
    assert rules[1:] == [
        ["module-state", "ISO201", "`mutable-module-global`", "1"],
        ["none-dependency", "ISO402", "`none-to-factory`", "1"],
    ]
    assert findings[0] == ["Location", "Rule", "Message"]
    assert [row[1] for row in findings[1:]] == ["ISO402", "ISO201"]
    assert errors[0] == ["Location", "Error"] and len(errors) == 2
    assert "**2 findings** in 2 files (5 files checked, 1 could not be analysed)." in report


def test_markdown_pipes_in_cells_do_not_split_them() -> None:
    found = diagnostic(path="app/a|b.py", message="`x | y` or a | b")
    report = render("markdown", RunResult(1, (found,), ()))
    _, findings = _tables(report)
    assert_rectangular([findings])
    html = MarkdownIt().enable("table").render(report)
    assert "<code>x | y</code> or a | b</td>" in html
    assert "<code>app/a|b.py:4:24</code>" in html


def test_markdown_baseline_sections() -> None:
    known = diagnostic(code="ISO204", severity=Severity.ERROR, message="known one")
    result = RunResult(
        files=3,
        diagnostics=(diagnostic(),),
        errors=(),
        known=(known,),
        fixed_in_baseline=("a", "b"),
    )
    report = render("markdown", result)
    assert _headings(report) == ["h2 isolint", "h3 New", "h3 Fixed", "h3 Known"]
    assert "2 baseline entries no longer found." in report
    assert "1 known finding (in the baseline)." in report
    assert len(_tables(report)) == 2 and "known one" not in report
    shown = render("markdown", result, context(show_known=True))
    tables = _tables(shown)
    assert len(tables) == 3 and tables[2][1][1] == "ISO204"
    plain = render("markdown", RunResult(files=3, diagnostics=(), errors=()))
    assert _headings(plain) == ["h2 isolint"] and _tables(plain) == []


def test_markdown_from_the_cli() -> None:
    out = cli("--format", "markdown", str(MULTI.relative_to(REPO))).stdout
    document = cli_json(MULTI)
    rules, findings = _tables(out)
    assert_rectangular((rules, findings))
    assert rules[0] == ["Family", "Rule", "Name", "Findings"]
    counts = document["summary"]["by_code"]
    assert {row[1]: int(row[3]) for row in rules[1:]} == counts
    assert [row[1] for row in rules[1:]] == sorted(counts)
    assert len(findings) - 1 == len(document["diagnostics"])
