"""Team rules: loaded from ``rule-paths`` and from ``isolint.rules`` entry points, selected by
their own codes, validated, and tested with ``isolint test-rule`` (the README's example rule)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from isolint.diagnostics import Category, category_for
from isolint.docs import rules_table
from isolint.rule import Rule
from tests.conftest import REPO, Completed, isolint_executable, run_isolint

README = (REPO / "README.md").read_text(encoding="utf-8")
_EXAMPLE = re.compile(
    r"<!-- team-rule-example: (?P<path>\S+) -->\n```python\n(?P<code>.*?)```", re.DOTALL
)
APP = "import threading\n\nctx = threading.local()\n"


def _readme_rule() -> tuple[str, str]:
    match = _EXAMPLE.search(README)
    assert match, "README lacks the team rule example"
    return match.group("path"), match.group("code")


def _run(cwd: Path, *args: str, pythonpath: Path | None = None) -> Completed:
    """isolint in this process; the console script in a subprocess when ``pythonpath`` puts an
    installed plugin distribution on the interpreter's path (as an installed package is)."""
    if pythonpath is None:
        return run_isolint(*args, cwd=cwd)
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [isolint_executable(), *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def _write(root: Path, files: dict[str, str]) -> Path:
    for relpath, content in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def team_project(tmp_path: Path) -> Path:
    relpath, code = _readme_rule()
    return _write(
        tmp_path / "service",
        {
            "pyproject.toml": '[tool.isolint]\nrule-paths = ["team_rules"]\n',
            relpath: code,
            "app/__init__.py": "",
            "app/a.py": APP,
        },
    )


def test_rule_paths_rule_reports_and_is_selected_by_its_prefix(team_project: Path) -> None:
    result = _run(team_project, "check", "app")
    assert result.returncode == 1, result.stderr
    assert "app/a.py:3:7: ACME101 `threading.local()` is shared" in result.stdout
    only = _run(team_project, "check", "app", "--select", "ACME", "--format", "json")
    codes = {d["code"] for d in json.loads(only.stdout)["diagnostics"]}
    assert codes == {"ACME101"}
    assert json.loads(only.stdout)["diagnostics"][0]["category"] == "custom"
    builtin_only = _run(team_project, "check", "app", "--select", "ISO")
    assert builtin_only.returncode == 0, builtin_only.stdout
    ignored = _run(team_project, "check", "app", "--ignore", "ACME101")
    assert ignored.returncode == 0, ignored.stdout


def test_a_team_rule_links_to_no_isolint_docs_anchor(team_project: Path) -> None:
    found = json.loads(_run(team_project, "check", "app", "--format", "json").stdout)
    assert [d["url"] for d in found["diagnostics"] if d["code"] == "ACME101"] == [None]
    sarif = json.loads(_run(team_project, "check", "app", "--format", "sarif").stdout)
    descriptors = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "helpUri" not in descriptors["ACME101"]
    assert descriptors["ISO201"]["helpUri"].endswith("#iso201")


def test_rules_and_explain_list_the_team_rule_with_its_family(team_project: Path) -> None:
    listed = _run(team_project, "rules")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("ACME101"))
    assert "thread-local-state" in row and "acme-async" in row
    explained = _run(team_project, "explain", "ACME101")
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("# ACME101 thread-local-state")
    assert "Family: acme-async." in explained.stdout


def test_rule_paths_are_relative_to_the_config_file(team_project: Path) -> None:
    """Run from a subdirectory: the configuration's rule-paths still resolve."""
    result = _run(team_project / "app", "check", "a.py")
    assert result.returncode == 1, result.stderr
    assert "ACME101" in result.stdout


def test_editing_a_team_rule_is_not_answered_from_the_cache(team_project: Path) -> None:
    """Both runs in one process (as in the editor server): the edited module is imported anew."""
    relpath, _ = _readme_rule()
    first = _run(team_project, "check", "app")
    assert "use a `ContextVar`" in first.stdout
    rule = team_project / relpath
    rule.write_text(rule.read_text().replace("use a `ContextVar`", "use contextvars"))
    second = _run(team_project, "check", "app")
    assert "use contextvars" in second.stdout, second.stdout


def test_entry_point_rule_is_loaded_from_an_installed_distribution(tmp_path: Path) -> None:
    """A ``*.dist-info`` with ``entry_points.txt`` on PYTHONPATH is what an installed plugin
    package looks like to ``importlib.metadata``."""
    _, code = _readme_rule()
    site = _write(
        tmp_path / "site",
        {
            "acme_isolint/__init__.py": "",
            "acme_isolint/rules.py": code,
            "acme_isolint-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: acme-isolint\nVersion: 1.0\n"
            ),
            "acme_isolint-1.0.dist-info/entry_points.txt": (
                "[isolint.rules]\nacme = acme_isolint.rules\n"
            ),
        },
    )
    project = _write(
        tmp_path / "service",
        {"pyproject.toml": "[tool.isolint]\n", "app/__init__.py": "", "app/a.py": APP},
    )
    result = _run(project, "check", "--select", "ACME", pythonpath=site)
    assert result.returncode == 1, result.stderr
    assert "app/a.py:3:7: ACME101" in result.stdout
    listed = _run(project, "rules", pythonpath=site)
    assert any(line.startswith("ACME101") for line in listed.stdout.splitlines())
    without = _run(project, "check", "--select", "ACME")
    assert without.returncode == 2 and "unknown rule code or prefix 'ACME'" in without.stderr


def test_an_entry_point_naming_one_class_and_a_broken_one(tmp_path: Path) -> None:
    _, code = _readme_rule()
    site = _write(
        tmp_path / "site",
        {
            "acme_one.py": code,
            "acme_one-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme-one\nVersion: 1.0\n",
            "acme_one-1.0.dist-info/entry_points.txt": (
                "[isolint.rules]\nthread = acme_one:ThreadLocalState\n"
            ),
        },
    )
    project = _write(tmp_path / "service", {"pyproject.toml": "[tool.isolint]\n", "app/a.py": APP})
    assert "ACME101" in _run(project, "check", pythonpath=site).stdout
    broken = site / "acme_one-1.0.dist-info/entry_points.txt"
    broken.write_text("[isolint.rules]\nthread = acme_missing_module\n")
    result = _run(project, "check", pythonpath=site)
    assert result.returncode == 2
    assert "entry point 'thread = acme_missing_module' of acme-one: cannot load" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("ISO999", "codes starting with ISO are isolint's own"),
        ("acme1", "code must be capital letters then digits"),
        ("ACME", "code must be capital letters then digits"),
    ],
)
def test_malformed_or_reserved_codes_are_refused(
    team_project: Path, code: str, problem: str
) -> None:
    relpath, _ = _readme_rule()
    rule = team_project / relpath
    rule.write_text(rule.read_text().replace('"ACME101"', f'"{code}"'))
    result = _run(team_project, "check", "app")
    assert result.returncode == 2
    assert problem in result.stderr and "acme101_thread_local.py" in result.stderr


def test_a_code_taken_twice_and_a_module_that_fails_to_import(team_project: Path) -> None:
    _, code = _readme_rule()
    (team_project / "team_rules/copy.py").write_text(code)
    result = _run(team_project, "check", "app")
    assert result.returncode == 2
    assert "rule ACME101" in result.stderr and "code already used by" in result.stderr
    (team_project / "team_rules/copy.py").write_text("import not_installed_anywhere\n")
    result = _run(team_project, "check", "app")
    assert result.returncode == 2
    assert "cannot import rule module: ModuleNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_rule_path_names_the_key(tmp_path: Path) -> None:
    project = _write(
        tmp_path, {"pyproject.toml": '[tool.isolint]\nrule-paths = ["nope"]\n', "a.py": APP}
    )
    result = _run(project, "check")
    assert result.returncode == 2
    assert (
        "[tool.isolint] rule-paths: " in result.stderr and "nope' does not exist" in result.stderr
    )


def test_test_rule_runs_the_examples(team_project: Path) -> None:
    relpath, _ = _readme_rule()
    result = _run(team_project, "test-rule", "team_rules")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "ok   ACME101-bad-0",
        "ok   ACME101-bad-1",
        "ok   ACME101-good-0",
    ]
    assert "1 rule: 3 passed, 0 failed" in result.stderr
    rule = team_project / relpath
    # A good example the rule reports, and a bad example on a line it does not report.
    broken = rule.read_text().replace("ContextVar[str | None] = ContextVar(", "threading.local(")
    broken = broken.replace("expected_line=3", "expected_line=1")
    rule.write_text(broken.replace("from contextvars import ContextVar", "import threading"))
    failing = _run(team_project, "test-rule", str(rule))
    assert failing.returncode == 1
    assert "FAIL ACME101-bad-0: " in failing.stdout and "line(s) [1], got [3]" in failing.stdout
    assert "FAIL ACME101-good-0: ACME101 reported its good example" in failing.stdout
    assert "1 rule: 1 passed, 2 failed" in failing.stderr


def test_test_rule_without_rules_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("x = 1\n")
    result = _run(tmp_path, "test-rule", "empty.py")
    assert result.returncode == 2
    assert "defines no rule" in result.stderr


def test_a_code_in_no_built_in_family_is_custom() -> None:
    """A drop-in ``ISO901`` used to crash ``isolint rules`` ("in no known family")."""

    class DropIn(Rule):
        code = "ISO901"
        name = "drop-in"
        summary = "A drop-in rule"
        message = "drop-in"

    assert category_for("ISO901") is Category.CUSTOM
    assert category_for("ACME101") is Category.CUSTOM
    assert category_for("ISO201") is Category.MODULE_STATE
    assert "ISO901  drop-in  custom" in rules_table([DropIn])


def test_rule_paths_of_an_extended_config_are_relative_to_that_file(tmp_path: Path) -> None:
    relpath, code = _readme_rule()
    root = _write(
        tmp_path,
        {
            "pyproject.toml": '[tool.isolint]\nrule-paths = ["team_rules"]\n',
            relpath: code,
            "svc/pyproject.toml": '[tool.isolint]\nextend = "../pyproject.toml"\n',
            "svc/app/a.py": APP,
        },
    )
    result = _run(root / "svc", "check", "app")
    assert result.returncode == 1, result.stderr
    assert "ACME101" in result.stdout
