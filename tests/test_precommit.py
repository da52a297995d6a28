"""The pre-commit hook, for real: pre-commit try-repo against this checkout in a temporary git repo.

pre-commit installs the hook into its own virtualenv with pip. Tests never download: pip is
pointed at a local wheelhouse (``.wheelhouse/``, built by the README's test command and by CI)
and told not to use an index. Without a wheelhouse the test is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

WHEELHOUSE = Path(os.environ.get("ISOLINT_WHEELHOUSE", REPO / ".wheelhouse"))
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=isolint", "-c", "user.email=isolint@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit or git is not installed")
    if not any(WHEELHOUSE.glob("libcst-*.whl")):
        pytest.skip(
            f"no offline wheelhouse at {WHEELHOUSE}: pre-commit cannot build the hook's "
            "environment without the network (build it with: pip wheel -w .wheelhouse "
            "libcst click pathspec setuptools wheel)"
        )
    root = tmp_path / "service"
    files = {
        "pyproject.toml": "[tool.isolint]\n",
        "app/__init__.py": "",
        "app/notify.py": """
            class Emitter:
                pass


            class Notifier:
                @classmethod
                def create_for_user(cls, emitter: Emitter) -> "Notifier":
                    return cls()
            """,
        "app/clean.py": "def handler(user_id, history=None):\n    return history or []\n",
        "app/bad.py": "def handler(user_id, history=[]):\n    return history\n",
        "tests/integration/test_notify.py": """
            from app.notify import Notifier


            def test_notifies():
                Notifier.create_for_user(emitter=None)
            """,
    }
    for relpath, source in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    return root


def _try_repo(root: Path, tmp_path: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    result = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(REPO), "isolint", "--files", *files],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "An error has occurred" in result.stdout + result.stderr:
        pytest.skip(
            f"pre-commit could not build the hook environment offline: {result.stdout[-400:]}"
        )
    return result


def test_hook_fails_on_violation_and_passes_on_clean_file(repo: Path, tmp_path: Path) -> None:
    failing = _try_repo(repo, tmp_path, "app/bad.py")
    assert failing.returncode == 1, failing.stdout
    assert "app/bad.py:1:30: ISO204" in failing.stdout
    passing = _try_repo(repo, tmp_path, "app/clean.py")
    assert passing.returncode == 0, passing.stdout
    assert "Passed" in passing.stdout


def test_hook_resolves_against_the_whole_project(repo: Path, tmp_path: Path) -> None:
    """Only the test file is passed; the factory's signature lives in a file not passed."""
    result = _try_repo(repo, tmp_path, "tests/integration/test_notify.py")
    assert result.returncode == 1, result.stdout
    assert "ISO401" in result.stdout and "emitter: Emitter" in result.stdout
    assert "app/bad.py" not in result.stdout
