"""``check --include-dependents``: findings a change causes in other files, judged against git
``HEAD`` (the pre-commit hook's mode; tests/test_precommit.py runs it through real pre-commit)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Completed, run_isolint

FILES = {
    "app/__init__.py": "",
    "app/mailer.py": """
        class Transport:
            pass


        class Mailer:
            @classmethod
            def create_for_user(cls, user_id: str, transport: Transport) -> "Mailer":
                return cls()
        """,
    "app/signup.py": """
        from app.mailer import Mailer, Transport


        def welcome(user_id: str) -> Mailer:
            return Mailer.create_for_user(user_id, transport=Transport())
        """,
    "app/state.py": "SESSIONS = {}\n",
    "app/users.py": "def login(user_id):\n    return user_id\n",
    "app/old.py": "def handler(user_id, history=[]):\n    return history\n",
}


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=isolint", "-c", "user.email=isolint@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def committed(make_project: Callable[..., Path]) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_project(FILES)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    return root


def _check(root: Path, *paths: str) -> Completed:
    return run_isolint("check", "--include-dependents", *paths, cwd=root)


def test_a_renamed_factory_parameter_reports_the_unchanged_caller(committed: Path) -> None:
    mailer = committed / "app/mailer.py"
    mailer.write_text(mailer.read_text().replace("transport: Transport", "channel: Transport"))
    plain = run_isolint("check", "app/mailer.py", cwd=committed)
    assert plain.returncode == 0, plain.stdout  # the changed file itself is clean
    result = _check(committed, "app/mailer.py")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # not app/old.py's finding: the change did not cause it
    assert lines[0].startswith("app/signup.py:5:12: ISO404 ")
    assert lines[0].endswith("(reported because app/mailer.py changed)")
    full = run_isolint(
        "check", "--include-dependents", "--format", "json", "app/mailer.py", cwd=committed
    )
    assert '"note": "changed file that causes this finding"' in full.stdout


def test_a_write_into_another_modules_container_is_reported_at_the_container(
    committed: Path,
) -> None:
    (committed / "app/users.py").write_text(
        "from app.state import SESSIONS\n\n\ndef login(user_id):\n"
        "    SESSIONS[user_id] = True\n    return user_id\n"
    )
    result = _check(committed, "app/users.py")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("app/state.py:1:1: ISO201 ")
    assert "(reported because app/users.py changed)" in result.stdout


def test_a_new_file_is_judged_against_the_project_without_it(committed: Path) -> None:
    (committed / "app/admin.py").write_text(
        "from app.state import SESSIONS\n\n\ndef reset(user_id):\n    SESSIONS.pop(user_id)\n"
    )
    result = _check(committed, "app/admin.py")
    assert result.returncode == 1
    assert "app/state.py:1:1: ISO201" in result.stdout
    assert "(reported because app/admin.py changed)" in result.stdout


def test_unchanged_files_report_only_their_own_findings(committed: Path) -> None:
    own = _check(committed, "app/old.py")
    assert own.returncode == 1 and own.stdout.startswith("app/old.py:1:30: ISO204")
    clean = _check(committed, "app/users.py")
    assert clean.returncode == 0, clean.stdout


def test_outside_git_only_the_given_files_are_reported(make_project: Callable[..., Path]) -> None:
    root = make_project(FILES)
    result = _check(root, "app/mailer.py")
    assert result.returncode == 0, result.stdout
    assert "is not in a git work tree" in result.stderr


def test_not_with_fix(committed: Path) -> None:
    result = run_isolint("check", "--include-dependents", "--fix", "app/old.py", cwd=committed)
    assert result.returncode == 2
    assert "--include-dependents: not with --fix" in result.stderr
