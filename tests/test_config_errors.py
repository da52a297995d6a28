"""Configuration problems: exit 2 with one line naming the file and the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        ("[tool.isolint]\nselct = ['ISO1']\n", "unknown key 'selct' (did you mean 'select'?)"),
        ("[tool.isolint]\nselect = 'ISO1'\n", "key 'select' must be a list of rule codes"),
        ("[tool.isolint]\nselect = ['ISO777']\n", "unknown rule code or prefix 'ISO777'"),
        ("[tool.isolint]\nignore = ['XYZ1']\n", "unknown rule code or prefix 'XYZ1'"),
        ("[tool.isolint\nselect = 1\n", "invalid TOML"),
        ("[tool.isolint]\nper-file-ignores = { 'tests/*' = 'ISO2' }\n", "key 'per-file-ignores'"),
        ("[tool.isolint]\ntimeout = -1\n", "key 'timeout' must be a positive number"),
        ("[tool.isolint.ssot]\ncanonical = ['x']\n", "[tool.isolint.ssot] key 'canonical'"),
        (
            "[tool.isolint]\nallowed-mock-targets = ['stripe/api']\n",
            "key 'allowed-mock-targets' must be a list of module or qualified-name globs",
        ),
        ("[tool.isolint]\nallowed-mock-targets = 'stripe.*'\n", "key 'allowed-mock-targets'"),
    ],
)
def test_config_error_is_one_line_exit_two(
    isolint: Run, make_project: Make, pyproject: str, expected: str
) -> None:
    root = make_project({"app/a.py": "x = 1\n"}, pyproject=pyproject)
    out = isolint("check", ".", cwd=root)
    assert out.returncode == 2, out
    assert expected in out.stderr
    assert "pyproject.toml" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_config_file_that_is_a_directory(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/a.py": "x = 1\n"})
    (root / "conf.toml").mkdir()
    out = isolint("check", "--config", "conf.toml", ".", cwd=root)
    assert out.returncode == 2
    assert "conf.toml: is a directory" in out.stderr


def test_explicit_config_file(isolint: Run, make_project: Make) -> None:
    root = make_project({"app/a.py": "def f(x=[]):\n    return x\n"})
    (root / "isolint.toml").write_text("ignore = ['ISO204']\n")
    assert isolint("check", "--config", "isolint.toml", ".", cwd=root).returncode == 0


def test_per_file_ignores_and_exclude(isolint: Run, make_project: Make) -> None:
    files = {"app/a.py": "def f(x=[]):\n    return x\n", "gen/b.py": "def g(y={}):\n    return y\n"}
    pyproject = (
        "[tool.isolint]\nextend-exclude = ['gen/']\n"
        "per-file-ignores = { 'app/*.py' = ['ISO204'] }\n"
    )
    root = make_project(files, pyproject=pyproject)
    out = isolint("check", ".", cwd=root)
    assert out.returncode == 0, out.stdout
    assert "1 suppressed" in out.stderr


def test_gitignored_and_venv_files_are_skipped(isolint: Run, make_project: Make) -> None:
    files = {
        "app/a.py": "x = 1\n",
        "generated/b.py": "def g(y={}):\n    return y\n",
        ".venv/lib/c.py": "def g(y={}):\n    return y\n",
        "node_modules/d.py": "def g(y={}):\n    return y\n",
    }
    root = make_project(files)
    (root / ".gitignore").write_text("generated/\n")
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert out.returncode == 0, out.stdout
