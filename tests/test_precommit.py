"""The pre-commit hooks, for real: ``pre-commit try-repo`` and ``git commit`` with the hook
installed, against a snapshot of this checkout, in a temporary git repo.

The snapshot is the work tree as it is (tracked and untracked files, not ignored ones), committed
in a repository of its own: pre-commit clones its hook repository, and ``try-repo`` of a work
tree would leave out untracked files. pre-commit installs the hook into its own virtualenv with
pip, once per test session (one ``PRE_COMMIT_HOME``). Tests never download: pip is pointed at a
local wheelhouse (``.wheelhouse/``, built by the README's test command and by CI) and told not
to use an index. Without a wheelhouse the tests are skipped, saying so.
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
pytestmark = pytest.mark.slow  # building the hook environment takes a minute


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=isolint", "-c", "user.email=isolint@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's work tree, committed in a repository of its own (pre-commit clones it)."""
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit or git is not installed")
    if not any(WHEELHOUSE.glob("libcst-*.whl")):
        pytest.skip(
            f"no offline wheelhouse at {WHEELHOUSE}: pre-commit cannot build the hook's "
            "environment without the network (build it with: pip wheel -w .wheelhouse "
            "libcst click pathspec setuptools wheel)"
        )
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = REPO / os.fsdecode(raw)
        if source.is_file() and not source.is_symlink():
            target = snapshot / os.fsdecode(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _env(pre_commit_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(pre_commit_home),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


@pytest.fixture
def repo(tmp_path: Path, hook_repo: Path) -> Path:
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
        # A factory (A) and its caller (B): renaming the parameter in A breaks B.
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
        # A module-level container (state.py) and a module that will write into it (users.py).
        "app/state.py": "SESSIONS = {}\n",
        "app/users.py": "def login(user_id):\n    return user_id\n",
    }
    for relpath, source in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip("\n"))
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    return root


def _try_repo(
    root: Path, hook_repo: Path, pre_commit_home: Path, *files: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(hook_repo), "isolint", "--files", *files],
        check=False,
        cwd=root,
        env=_env(pre_commit_home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "An error has occurred" in result.stdout + result.stderr:
        pytest.skip(
            f"pre-commit could not build the hook environment offline: {result.stdout[-400:]}"
        )
    return result


def test_hook_fails_on_violation_and_passes_on_clean_file(
    repo: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    failing = _try_repo(repo, hook_repo, pre_commit_home, "app/bad.py")
    assert failing.returncode == 1, failing.stdout
    assert "app/bad.py:1:30: ISO204" in failing.stdout
    passing = _try_repo(repo, hook_repo, pre_commit_home, "app/clean.py")
    assert passing.returncode == 0, passing.stdout
    assert "Passed" in passing.stdout


def test_hook_resolves_against_the_whole_project(
    repo: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    """Only the test file is passed; the factory's signature lives in a file not passed."""
    result = _try_repo(repo, hook_repo, pre_commit_home, "tests/integration/test_notify.py")
    assert result.returncode == 1, result.stdout
    assert "ISO401" in result.stdout and "emitter: Emitter" in result.stdout
    assert "app/bad.py" not in result.stdout


def _install_hooks(root: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    """Commit a .pre-commit-config.yaml naming the snapshot's isolint hook, then install it."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {head}\n    hooks:\n      - id: isolint\n"
    )
    _git(root, "add", ".pre-commit-config.yaml")
    _git(root, "commit", "-q", "-m", "hooks")
    subprocess.run(
        [str(PRE_COMMIT), "install"],
        cwd=root,
        env=_env(pre_commit_home),
        check=True,
        capture_output=True,
    )


def _commit(root: Path, pre_commit_home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` of ``files`` with the hook installed; its output (git prints the hook's
    output on stderr) in ``stdout``."""
    _git(root, "add", *files)
    result = subprocess.run(
        ["git", "-c", "user.name=isolint", "-c", "user.email=isolint@example.invalid",
         "commit", "-m", "change"],
        cwd=root, env=_env(pre_commit_home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=900, check=False,
    )  # fmt: skip
    if "An error has occurred" in result.stdout:
        pytest.skip(f"pre-commit could not build the hook environment offline: {result.stdout}")
    return result


def test_commit_of_a_renamed_factory_parameter_fails_with_the_callers_finding(
    repo: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    """Only app/mailer.py is committed; the call that now raises TypeError is in app/signup.py,
    which the commit does not touch: the hook reports it there and the commit fails."""
    _install_hooks(repo, hook_repo, pre_commit_home)
    mailer = repo / "app/mailer.py"
    mailer.write_text(mailer.read_text().replace("transport: Transport", "channel: Transport"))
    result = _commit(repo, pre_commit_home, "app/mailer.py")
    assert result.returncode != 0, result.stdout
    assert "app/signup.py:5:12: ISO404" in result.stdout, result.stdout
    assert "unknown keyword `transport`" in result.stdout
    assert "(reported because app/mailer.py changed)" in result.stdout
    # Findings the commit did not cause (app/bad.py's ISO204) are not the commit's business.
    assert "app/bad.py" not in result.stdout
    head = subprocess.run(
        ["git", "log", "--format=%s", "-1"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() == "hooks"  # nothing was committed


def test_commit_adding_a_write_into_another_modules_container_fails_at_the_container(
    repo: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    _install_hooks(repo, hook_repo, pre_commit_home)
    (repo / "app/users.py").write_text(
        "from app.state import SESSIONS\n\n\ndef login(user_id):\n"
        "    SESSIONS[user_id] = True\n    return user_id\n"
    )
    result = _commit(repo, pre_commit_home, "app/users.py")
    assert result.returncode != 0, result.stdout
    assert "app/state.py:1:1: ISO201" in result.stdout, result.stdout
    assert "(reported because app/users.py changed)" in result.stdout


def test_commit_that_causes_nothing_passes_despite_findings_elsewhere(
    repo: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    """app/bad.py has a finding from before; a harmless change to app/clean.py commits."""
    _install_hooks(repo, hook_repo, pre_commit_home)
    clean = repo / "app/clean.py"
    clean.write_text("# a comment\n" + clean.read_text())
    result = _commit(repo, pre_commit_home, "app/clean.py")
    assert result.returncode == 0, result.stdout
    assert "Passed" in result.stdout
