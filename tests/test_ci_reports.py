"""Issue 15 item 6: CI reports that fit their hosts, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from junitparser import Failure, JUnitXml

from tests.conftest import REPO, run_isolint

MANY = "".join(f"def f{i}(user_id, seen=[]):\n    return seen\n\n" for i in range(400))
FIXABLE_CONFIG = '[tool.isolint.ssot]\ndeprecated-modules = { "app.old" = "app.new" }\n'


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.isolint]\n" + FIXABLE_CONFIG)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "new.py").write_text("X = 1\n")
    (tmp_path / "app" / "old.py").write_text("X = 1\n")
    (tmp_path / "app" / "svc.py").write_text("from app.old import X\n\n\n" + MANY)
    return tmp_path


def _check(root: Path, *args: str) -> Any:
    out = run_isolint("check", "--no-cache", *args, ".", cwd=root)
    assert out.returncode in (0, 1), out.stderr
    return out


def test_gitlab_code_quality_has_the_documented_required_fields(tmp_path: Path) -> None:
    root = _project(tmp_path)
    issues = json.loads(_check(root, "--format", "gitlab").stdout)
    assert len(issues) == 401
    for issue in issues:  # GitLab's Code Quality report: the required fields and their types
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str)
        assert isinstance(issue["fingerprint"], str)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert (root / issue["location"]["path"]).is_file()
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_junit_one_testcase_per_finding(tmp_path: Path) -> None:
    root = _project(tmp_path)
    target = tmp_path / "junit.xml"
    _check(root, "--format", "junit", "-o", str(target))
    xml = JUnitXml.fromfile(str(target))
    cases = [case for suite in xml for case in suite if case.name != "No errors found"]
    assert len(cases) == 401
    assert all(isinstance(r, Failure) for case in cases for r in case.result)
    assert {case.classname for case in cases} == {"app/svc"}


def test_markdown_is_capped_with_a_more_findings_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    full = _check(root, "--format", "markdown").stdout
    assert "more finding" not in full
    capped = _check(root, "--format", "markdown", "--max-chars", "20000").stdout
    assert len(capped.encode("utf-8")) <= 20000
    shown = capped.count("| `app/svc.py:")
    assert f"**{401 - shown} more findings not shown**" in capped


def test_json_statistics_is_valid_json_with_counts_in_summary(tmp_path: Path) -> None:
    root = _project(tmp_path)
    document = json.loads(_check(root, "--format", "json", "--statistics").stdout)
    statistics = {row["code"]: row for row in document["summary"]["statistics"]}
    assert statistics["ISO204"]["count"] == 400
    assert statistics["ISO503"]["fixable"] == 1


def test_text_marks_fixable_findings_and_counts_them(tmp_path: Path) -> None:
    root = _project(tmp_path)
    out = _check(root)
    assert "app/svc.py:1:6: ISO503 [*] " in out.stdout
    assert "[*] 1 fixable with `--fix`" in out.stderr


def test_json_url_and_sarif_help_uri_and_level(tmp_path: Path) -> None:
    root = _project(tmp_path)
    diagnostics = json.loads(_check(root, "--format", "json").stdout)["diagnostics"]
    assert all(d["url"].endswith("#" + d["code"].lower()) for d in diagnostics)
    document = json.loads(_check(root, "--format", "sarif").stdout)
    schema = json.loads((REPO / "tests/data/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    assert all(
        rule["helpUri"].endswith("#" + rule["id"].lower())
        for rule in run["tool"]["driver"]["rules"]
    )
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["ISO204"] == "error"
    readme = (REPO / "README.md").read_text()
    assert '<a id="iso204"></a>ISO204' in readme  # the anchor helpUri points at


def test_pylint_and_azure(tmp_path: Path) -> None:
    root = _project(tmp_path)
    pylint = _check(root, "--format", "pylint").stdout.splitlines()
    assert pylint[0].startswith("app/svc.py:1: [ISO503] ")
    azure = _check(root, "--format", "azure").stdout.splitlines()
    assert azure[0].startswith(
        "##vso[task.logissue type=error;sourcepath=app/svc.py;linenumber=1;columnnumber=6;code=ISO503;]"
    )
