"""The in-process CLI harness (tests/conftest.py ``run_isolint``) answers as the console script.

Each case runs one command both ways, on the same files, and compares exit code, stdout and
stderr byte for byte: these are also the suite's end-to-end smoke runs of the installed script
(a clean run, findings, a non-UTF-8 file name, a usage error, stdin, worker processes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_isolint, run_isolint_subprocess

Make = Callable[..., Path]

VIOLATION = "def remember(user_id, seen=[]):\n    seen.append(user_id)\n    return seen\n"
RAW_NAME = b"caf\xe9.py"  # Latin-1 bytes: not UTF-8; the console script prints it escaped


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("--version",), None),
        (("check", "--no-cache", "."), None),
        (("check", "--no-cache", "--format", "full", "--jobs", "2", "."), None),
        (("check", "--no-cache", "--select", "ISO999", "."), None),
        (("check", "--no-cache", "--stdin-filename", "app/buffer.py", "-"), VIOLATION),
        (
            ("check", "--no-cache", "--format", "json", "--fix", "--stdin-filename", "a.py", "-"),
            VIOLATION,
        ),
    ],
    ids=["version", "text", "full-two-workers", "usage-error", "stdin", "stdin-fix"],
)
def test_in_process_run_answers_as_the_console_script(
    make_project: Make, args: tuple[str, ...], stdin: str | None
) -> None:
    root = make_project({f"app/svc_{i}.py": VIOLATION for i in range(4)} | {"app/ok.py": "x = 1\n"})
    (root / "app").joinpath(os.fsdecode(RAW_NAME)).write_text(VIOLATION, encoding="utf-8")
    in_process = run_isolint(*args, cwd=root, stdin=stdin)
    console = run_isolint_subprocess(*args, cwd=root, stdin=stdin)
    assert in_process == console


def test_in_process_run_leaves_the_process_as_it_found_it(
    make_project: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project({"app/svc.py": VIOLATION})
    monkeypatch.setenv("NO_COLOR", "1")  # the harness runs without it, as the subprocess does
    before = (os.getcwd(), dict(os.environ))
    out = run_isolint("check", "--no-cache", ".", cwd=root)
    assert out.returncode == 1 and out.stdout.startswith("app/svc.py:1:")
    assert (os.getcwd(), dict(os.environ)) == before
