"""Shared test helpers: run the real ``isolint`` command on real files.

``run_isolint`` (and the ``isolint`` fixture) runs the CLI in this process: the real click
command, with the working directory, environment, ``sys.argv`` and the standard streams set for
the call and restored afterwards; workers (``-j``) are still child processes. It saves starting
an interpreter and importing LibCST for every call. ``run_isolint_subprocess`` runs the
installed console script instead, for the end-to-end smoke tests that need a real process
(packaging, signals, inherited descriptors, a closed stdin, colour on a pipe).
"""

from __future__ import annotations

import gc
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def isolint_executable() -> str:
    beside = Path(sys.executable).parent / "isolint"
    if beside.exists():
        return str(beside)
    found = shutil.which("isolint")
    if found is None:
        raise RuntimeError("the isolint console script is not installed (pip install -e '.[test]')")
    return found


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


# Reports are plain text unless a test asks for colour.
_COLOR_VARIABLES = ("NO_COLOR", "FORCE_COLOR")


def run_isolint_subprocess(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> Completed:
    """The installed console script in a child process (the end-to-end smoke tests)."""
    env = {k: v for k, v in os.environ.items() if k not in _COLOR_VARIABLES}
    proc = subprocess.run(
        [isolint_executable(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1800,  # a hang guard, not a speed test: generous under any load
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def _output_stream(stream: object, default_errors: str) -> io.TextIOWrapper:
    """A captured stream with the encoding and error handler the console script's would have."""
    return io.TextIOWrapper(
        io.BytesIO(),
        encoding=getattr(stream, "encoding", None) or "utf-8",
        errors=getattr(stream, "errors", None) or default_errors,
        write_through=True,
    )


def _decoded(stream: io.TextIOWrapper) -> str:
    """What ``subprocess.run(text=True)`` would read from the stream: strict, universal newlines."""
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return io.TextIOWrapper(io.BytesIO(raw.getvalue()), encoding=stream.encoding).read()


def _process_state() -> dict[str, object]:
    """The process-wide state one run of the CLI must leave as it found it."""
    return {
        "environment": dict(os.environ),
        "working directory": os.getcwd(),
        "SIGINT handler": signal.getsignal(signal.SIGINT),
        "SIGTERM handler": signal.getsignal(signal.SIGTERM),
        "recursion limit": sys.getrecursionlimit(),
        "garbage collector": (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()),
        "thread stack size": threading.stack_size(),
    }


def run_isolint(*args: str, cwd: Path | None = None, stdin: str | None = None) -> Completed:
    """The real CLI in this process, as the console script runs it (``isolint.cli:main``).

    Exit codes come from ``SystemExit``; an uncaught exception prints its traceback on stderr
    and exits 1, as the interpreter would. A run that changes process-wide state (environment,
    working directory, signal handlers, recursion limit, garbage collector, thread stack size)
    fails the test: the linter keeps none.
    With ``ISOLINT_TESTS_SUBPROCESS=1`` every run uses the console script instead (to tell a
    harness gap from a real failure).
    """
    if os.environ.get("ISOLINT_TESTS_SUBPROCESS"):
        return run_isolint_subprocess(*args, cwd=cwd, stdin=stdin)
    from isolint.cli import main

    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_argv = sys.argv
    for name in _COLOR_VARIABLES:
        os.environ.pop(name, None)
    stdout = _output_stream(sys.__stdout__, "strict")
    stderr = _output_stream(sys.__stderr__, "backslashreplace")
    try:
        if cwd is not None:
            os.chdir(cwd)
        before = _process_state()
        encoding = stdout.encoding
        sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode(encoding)), encoding=encoding)
        sys.stdout, sys.stderr = stdout, stderr
        sys.argv = ["isolint", *args]
        try:
            main.main(args=list(args), prog_name="isolint")
            returncode = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                returncode = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                returncode = 1
        except Exception:  # noqa: BLE001 - as the interpreter does: traceback, exit 1
            traceback.print_exc()
            returncode = 1
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        after = _process_state()
        changed = [key for key, value in before.items() if after[key] != value]
        assert not changed, f"isolint {' '.join(args)} changed the process's {', '.join(changed)}"
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
    return Completed(returncode, _decoded(stdout), _decoded(stderr))


@pytest.fixture
def isolint() -> Callable[..., Completed]:
    return run_isolint


@pytest.fixture
def isolint_subprocess() -> Callable[..., Completed]:
    return run_isolint_subprocess


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write ``{relpath: source}`` files (dedented) under a temporary project root."""

    def make(files: dict[str, str | bytes], pyproject: str = "[tool.isolint]\n") -> Path:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        for relpath, content in files.items():
            target = tmp_path / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return make
