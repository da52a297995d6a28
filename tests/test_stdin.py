"""Editors pipe the buffer on stdin: findings must equal linting the file in place."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import FIXTURES, Completed

Run = Callable[..., Completed]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package",
        root,
        ignore=shutil.ignore_patterns(".isolint_cache", "expected.json"),
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "per-file-ignores = { 'tests/e2e/**' = ['ISO301'] }\n"
    )
    return root


def _diagnostics(out: Completed) -> list[tuple[str, int, int, str, str]]:
    assert out.returncode in (0, 1), out.stderr
    return [
        (d["path"], d["line"], d["column"], d["code"], d["message"])
        for d in json.loads(out.stdout)["diagnostics"]
    ]


def test_stdin_matches_in_place(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    for relpath in (
        "tests/integration/test_notifications.py",  # integration by path, cross-file ISO401/404
        "tests/e2e/test_flow.py",  # per-file-ignores apply by the stdin filename
        "tests/test_api.py",  # integration by marker
    ):
        in_place = _diagnostics(isolint("check", "--format", "json", relpath, cwd=root))
        assert in_place, relpath
        source = (root / relpath).read_text()
        piped = _diagnostics(
            isolint(
                "check",
                "--format",
                "json",
                "--stdin-filename",
                relpath,
                "-",
                cwd=root,
                stdin=source,
            )
        )
        assert piped == in_place, relpath
    e2e = _diagnostics(isolint("check", "--format", "json", "tests/e2e/test_flow.py", cwd=root))
    assert all(code != "ISO301" for _, _, _, code, _ in e2e)


def test_stdin_content_wins_over_the_file_on_disk(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    buffer = "def unsaved(seen=[]):\n    return seen\n"
    out = isolint(
        "check",
        "--format",
        "json",
        "--stdin-filename",
        "services/registry.py",
        "-",
        cwd=root,
        stdin=buffer,
    )
    assert [(p, line, code) for p, line, _, code, _ in _diagnostics(out)] == [
        ("services/registry.py", 1, "ISO204")
    ]


def test_stdin_without_filename_is_a_usage_error(isolint: Run, tmp_path: Path) -> None:
    out = isolint("check", "-", cwd=tmp_path, stdin="x = 1\n")
    assert out.returncode == 2
    assert "--stdin-filename" in out.stderr
