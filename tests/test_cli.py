"""The ``isolint`` command (in process, tests/conftest.py ``run_isolint``): exit codes, formats, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]

VIOLATION = """
def remember(user_id, seen=[]):
    seen.append(user_id)
    return seen
"""


def test_version(isolint: Run) -> None:
    out = isolint("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("isolint ")


def test_clean_project_exits_zero(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/ok.py": "def f(x=None):\n    return x\n"})
    out = isolint("check", str(root))
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert "All checks passed (1 file checked)" in out.stderr


def test_findings_exit_one_with_text_lines(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    out = isolint("check", ".", cwd=root)
    assert out.returncode == 1
    assert out.stdout.startswith("app/svc.py:1:28: ISO204 ")
    assert "1 finding in 1 file" in out.stderr


def test_exit_zero_and_quiet(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    out = isolint("check", "--exit-zero", "--quiet", ".", cwd=root)
    assert out.returncode == 0
    assert "ISO204" in out.stdout
    assert out.stderr == ""


def test_select_and_ignore_prefixes(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    assert isolint("check", "--ignore", "ISO2", ".", cwd=root).returncode == 0
    assert isolint("check", "--select", "ISO1", ".", cwd=root).returncode == 0
    assert isolint("check", "--select", "iso204", ".", cwd=root).returncode == 1


def test_unknown_code_exits_two_naming_it(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    out = isolint("check", "--select", "ISO999", ".", cwd=root)
    assert out.returncode == 2
    assert "ISO999" in out.stderr and "--select" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_path_exits_two(isolint: Run, tmp_path: Path) -> None:
    out = isolint("check", "no/such/dir", cwd=tmp_path)
    assert out.returncode == 2
    assert "no/such/dir" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_option_exits_two(isolint: Run, tmp_path: Path) -> None:
    out = isolint("check", "--format", "yaml", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "--format" in out.stderr


def test_json_has_exactly_the_documented_fields(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION, "app/broken.py": "def f(:\n"})
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert set(doc) == {"version", "diagnostics", "errors", "summary"}
    assert set(doc["summary"]) == {"files", "diagnostics", "fixable", "by_code"}
    (diag,) = doc["diagnostics"]
    assert set(diag) == {
        "path",
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
        "url",
        "fix",
        "related",
    }
    assert diag["path"] == "app/svc.py"
    assert (diag["line"], diag["column"]) == (1, 28)
    assert diag["category"] == "module-state"
    assert diag["fix"] is None
    assert doc["errors"] == [{"path": "app/broken.py", "message": "syntax error: invalid syntax"}]
    assert doc["summary"] == {
        "files": 2,
        "diagnostics": 1,
        "fixable": 0,
        "by_code": {"ISO204": 1},
    }


def test_fingerprint_survives_lines_added_above(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    first = json.loads(isolint("check", "--format", "json", str(root)).stdout)
    source = (root / "app/svc.py").read_text()
    (root / "app/svc.py").write_text("import os\n\n\ndef other():\n    return 1\n" + source)
    second = json.loads(isolint("check", "--format", "json", str(root)).stdout)
    assert first["diagnostics"][0]["line"] != second["diagnostics"][0]["line"]
    assert first["diagnostics"][0]["fingerprint"] == second["diagnostics"][0]["fingerprint"]


def test_rules_lists_every_rule(isolint: Run) -> None:
    from isolint.rules import load_rules

    out = isolint("rules")
    assert out.returncode == 0
    for rule in load_rules():
        assert rule.code in out.stdout and rule.name in out.stdout


def test_explain_prints_docs_and_examples(isolint: Run) -> None:
    out = isolint("explain", "ISO204")
    assert out.returncode == 0
    assert "## What it does" in out.stdout and "## Why is this bad?" in out.stdout
    assert "## Example" in out.stdout and "## Use instead" in out.stdout
    assert "history=[]" in out.stdout


def test_explain_unknown_code(isolint: Run) -> None:
    out = isolint("explain", "ISO999")
    assert out.returncode == 2
    assert "ISO999" in out.stderr
