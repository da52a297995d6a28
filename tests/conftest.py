"""Shared test helpers: run the installed ``isolint`` executable as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
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


def run_isolint(*args: str, cwd: Path | None = None, stdin: str | None = None) -> Completed:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)  # reports are plain text unless a test asks for colour
    proc = subprocess.run(
        [isolint_executable(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,  # a hang guard, not a speed test: generous under any load
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def isolint() -> Callable[..., Completed]:
    return run_isolint


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
