"""``--fix`` and ``--diff`` on the SSOT-migration fixture (ISO502/ISO503 import rewrites).

The fixture is copied to a temporary directory for every test, so the checkout is never
written. Regenerate ``fixtures/ssot_migration/expected.diff`` with
``ISOLINT_REGEN=1 python -m pytest tests/test_fix.py``; the other assertions still have to pass.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from isolint.diagnostics import Diagnostic, Edit, Fix, Severity, Span
from isolint.fixes import apply_edits, fix_source, write_atomic
from tests.conftest import FIXTURES, run_isolint

PROJECT = FIXTURES / "ssot_migration"
GOLDEN_DIFF = PROJECT / "expected.diff"

# Original line numbers of the import statements that --fix rewrites, per file.
FIXED_LINES = {
    "app/agents/scheduler.py": {7},
    "app/chat.py": {5, 9},
    "app/jobs.py": {7, 10, 11},
    "app/routes.py": {5, 6},
}
# What --fix leaves behind: nothing for ISO502; ISO503 only where no fix is possible.
REMAINING = {
    ("app/agents/execution_engine.py", 12, "ISO501"),
    ("app/legacy_ws.py", 8, "ISO501"),
    ("app/agents/scheduler.py", 30, "ISO503"),  # the replacement lacks LEGACY_TIMEOUT
    ("app/routes.py", 7, "ISO503"),  # the replacement lacks LEGACY_TIMEOUT (kept last)
    ("app/ws/reconnect.py", 5, "ISO503"),  # app.legacy_ws has no replacement
    ("app/agents/execution_engine.py", 12, "ISO504"),
    ("app/ws/reconnect.py", 10, "ISO504"),
    ("app/jobs.py", 15, "ISO504"),  # no canonical module for RetryPolicy: every copy reported
}
FIX_SUMMARY = "8 findings in 6 files (0 files could not be analysed); fixed 9, 0 fixable remaining"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "ssot_migration"
    shutil.copytree(PROJECT, target, ignore=shutil.ignore_patterns(".isolint_cache"))
    return target


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".isolint_cache" not in path.parts
    }


def _modes(root: Path) -> dict[str, int]:
    return {
        path.relative_to(root).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in sorted(root.rglob("*.py"))
    }


def _diagnostics(root: Path) -> list[dict[str, object]]:
    out = run_isolint("check", "--no-cache", "--format", "json", ".", cwd=root)
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    assert doc["errors"] == []
    diagnostics: list[dict[str, object]] = doc["diagnostics"]
    return diagnostics


def _changed_lines(before: bytes, after: bytes) -> set[int]:
    """1-based numbers of the original lines that differ; pure insertions are not expected."""
    old = before.decode("utf-8").splitlines(keepends=True)
    new = after.decode("utf-8").splitlines(keepends=True)
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        assert i1 < i2, f"lines inserted without replacing any at line {i1 + 1}"
        changed.update(range(i1 + 1, i2 + 1))
    return changed


def _fix(root: Path) -> tuple[int, str, str]:
    out = run_isolint("check", "--no-cache", "--fix", ".", cwd=root)
    return out.returncode, out.stdout, out.stderr


# -- --diff ----------------------------------------------------------------------------------
def test_diff_matches_golden_and_writes_nothing(project: Path) -> None:
    before = _snapshot(project)
    out = run_isolint("check", "--no-cache", "--diff", ".", cwd=project)
    assert out.returncode == 1, out.stderr
    if os.environ.get("ISOLINT_REGEN"):
        GOLDEN_DIFF.write_text(out.stdout, encoding="utf-8")
    assert out.stdout == GOLDEN_DIFF.read_text(encoding="utf-8")
    assert "9 findings fixable in 4 files (nothing written)" in out.stderr
    assert _snapshot(project) == before


def test_diff_previews_exactly_what_fix_writes(project: Path) -> None:
    before = _snapshot(project)
    returncode, _, stderr = _fix(project)
    assert returncode == 1, stderr
    after = _snapshot(project)
    assert after.keys() == before.keys()
    preview = "".join(
        "".join(
            difflib.unified_diff(
                before[path].decode("utf-8").splitlines(keepends=True),
                after[path].decode("utf-8").splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
        for path in sorted(before)
        if before[path] != after[path]
    )
    assert preview == GOLDEN_DIFF.read_text(encoding="utf-8")


# -- --fix -----------------------------------------------------------------------------------
def test_fix_rewrites_imports_and_keeps_everything_else(project: Path) -> None:
    (project / "app/routes.py").chmod(0o640)
    (project / "app/jobs.py").chmod(0o600)
    modes = _modes(project)
    before = _snapshot(project)
    assert {d["code"] for d in _diagnostics(project)} == {"ISO501", "ISO502", "ISO503", "ISO504"}

    returncode, stdout, stderr = _fix(project)

    assert returncode == 1, stderr  # unfixable findings remain
    assert stderr.strip().splitlines()[-1] == FIX_SUMMARY
    reported = {
        (path, int(line), rest.split()[0])
        for path, line, _, rest in (row.split(":", 3) for row in stdout.splitlines())
    }
    assert reported == REMAINING

    remaining = _diagnostics(project)
    assert {(d["path"], d["line"], d["code"]) for d in remaining} == REMAINING
    assert all(d["fix"] is None for d in remaining)
    messages = {(d["path"], d["line"]): str(d["message"]) for d in remaining}
    assert "does not define `LEGACY_TIMEOUT`" in messages[("app/agents/scheduler.py", 30)]
    assert "does not define `LEGACY_TIMEOUT`" in messages[("app/routes.py", 7)]
    assert "no replacement configured" in messages[("app/ws/reconnect.py", 5)]

    after = _snapshot(project)
    assert after.keys() == before.keys(), "temporary files left behind"
    for path in before:
        expected = FIXED_LINES.get(path, set())
        assert _changed_lines(before[path], after[path]) == expected, path
    assert _modes(project) == modes
    assert modes["app/routes.py"] == 0o640 and modes["app/jobs.py"] == 0o600

    routes = after["app/routes.py"].decode("utf-8").splitlines()
    assert routes[4] == (
        "from app.agents.user_execution_engine import ExecutionEngine"
        "  # TODO(MIG-12): per-user engine  # expect: ISO502, ISO503"
    )
    # The moved name comes first; the kept import stays last, with the line's trailing comment.
    assert routes[5] == "from app.agents.user_execution_engine import ExecutionEngine as Engine"
    assert routes[6].startswith("from app.agents.execution_engine import LEGACY_TIMEOUT  #")
    jobs = after["app/jobs.py"].decode("utf-8").splitlines()
    assert jobs[6] == "from app.agents.user_execution_engine import describe, ExecutionEngine"
    assert jobs[8] == "# The engine class still comes through the package re-export."
    assert jobs[9] == "from app.agents import UserContext  # expect: ISO502"
    assert jobs[10] == "import app.agents.user_execution_engine as legacy  # expect: ISO503"
    chat = after["app/chat.py"].decode("utf-8").splitlines()
    assert chat[4:7] == [
        "from app.agents.user_execution_engine import (",
        "    ExecutionEngine,  # expect: ISO502 (the package re-exports the per-user engine)",
        ")",
    ]
    scheduler = after["app/agents/scheduler.py"].decode("utf-8").splitlines()
    assert (
        scheduler[6]
        == "from .user_execution_engine import create_engine_for_user  # expect: ISO503"
    )


def test_second_fix_is_a_no_op(project: Path) -> None:
    _fix(project)
    once = _snapshot(project)
    returncode, _, stderr = _fix(project)
    assert returncode == 1
    assert stderr.strip().splitlines()[-1] == FIX_SUMMARY.replace("fixed 9", "fixed 0")
    assert _snapshot(project) == once
    out = run_isolint("check", "--no-cache", "--diff", ".", cwd=project)
    assert out.returncode == 0 and out.stdout == ""


# -- safety: invalid code and concurrent edits -----------------------------------------------
def _diagnostic(path: str, span: Span, fix: Fix | None) -> Diagnostic:
    return Diagnostic(
        path=path,
        span=span,
        code="ISO502",
        name="non-canonical-import",
        severity=Severity.ERROR,
        message="`ExecutionEngine` is imported from `app.agents`",
        fingerprint="0" * 16,
        fix=fix,
    )


def test_fix_that_would_produce_invalid_code_is_dropped() -> None:
    source = b"from app.agents import ExecutionEngine\n\nENGINE = ExecutionEngine\n"
    span = Span(1, 6, 1, 16)
    broken = Fix("Break it", (Edit(span, "app.agents import ("),))
    outcome = fix_source("app/x.py", source, [_diagnostic("app/x.py", span, broken)])
    assert outcome.fixed is None
    assert outcome.applied == 0
    assert outcome.problem is not None and "invalid code" in outcome.problem

    good = Fix("Import from the canonical module", (Edit(span, "app.agents.engine"),))
    outcome = fix_source("app/x.py", source, [_diagnostic("app/x.py", span, good)])
    assert outcome.problem is None and outcome.applied == 1
    assert outcome.fixed == source.replace(b"app.agents", b"app.agents.engine", 1)


def test_write_atomic_refuses_a_file_changed_on_disk(project: Path) -> None:
    target = project / "app/routes.py"
    target.chmod(0o640)
    old = target.read_bytes()
    new = old.replace(b"app.agents.execution_engine", b"app.agents.user_execution_engine")
    edited = old + b"# saved by the editor in the meantime\n"
    target.write_bytes(edited)

    assert write_atomic(target, new, expected=old) is False
    assert target.read_bytes() == edited
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        p.name for p in (PROJECT / "app").iterdir() if p.name != "__pycache__"
    ), "temporary file left behind"

    assert write_atomic(target, new, expected=edited) is True
    assert target.read_bytes() == new
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


# -- the JSON fix field ----------------------------------------------------------------------
def test_json_fix_edits_reproduce_what_fix_writes(project: Path) -> None:
    diagnostics = _diagnostics(project)
    fixable = [d for d in diagnostics if d["fix"] is not None]
    assert {d["code"] for d in fixable} == {"ISO502", "ISO503"}
    for diagnostic in fixable:
        fix = diagnostic["fix"]
        assert isinstance(fix, dict) and set(fix) == {"title", "edits"}
        assert isinstance(fix["title"], str) and fix["title"].startswith("Import from ")
        assert fix["edits"]
        for edit in fix["edits"]:
            assert set(edit) == {"line", "column", "end_line", "end_column", "content"}

    scheduler = [d for d in fixable if d["path"] == "app/agents/scheduler.py"]
    assert len(scheduler) == 1  # a file with a single fix
    fix = scheduler[0]["fix"]
    assert isinstance(fix, dict)
    assert fix == {
        "title": "Import from `app.agents.user_execution_engine`",
        "edits": [
            {
                "line": 7,
                "column": 7,
                "end_line": 7,
                "end_column": 23,
                "content": "user_execution_engine",
            }
        ],
    }
    edits = [
        Edit(Span(e["line"], e["column"], e["end_line"], e["end_column"]), e["content"])
        for e in fix["edits"]
    ]
    path = project / "app/agents/scheduler.py"
    expected = apply_edits(path.read_text(encoding="utf-8"), edits)
    _fix(project)
    assert path.read_text(encoding="utf-8") == expected


# -- --fix on stdin --------------------------------------------------------------------------
def test_fix_from_stdin_prints_the_fixed_source_and_writes_nothing(project: Path) -> None:
    source = (
        '"""An editor buffer that was never saved."""\n'
        "\n"
        "from app.agents import ExecutionEngine  # per-user engine\n"
        "from app.agents.execution_engine import create_engine_for_user\n"
        "\n"
        "ENGINES = (ExecutionEngine, create_engine_for_user)\n"
    )
    before = _snapshot(project)
    out = run_isolint(
        "check",
        "--no-cache",
        "--fix",
        "--stdin-filename",
        "app/x.py",
        "-",
        cwd=project,
        stdin=source,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == source.replace(
        "from app.agents import", "from app.agents.user_execution_engine import"
    ).replace("app.agents.execution_engine", "app.agents.user_execution_engine")
    assert _snapshot(project) == before
    assert not (project / "app/x.py").exists()
