"""No input makes isolint eat the machine, and no worker outlives its run (issue 11, items 3, 4, 10).

Small pathological files are file errors found by CPython's parser before LibCST sees them (the
time budget is set far out of reach, so a pass cannot come from a timeout); a file needing more
memory than ``memory-limit`` is a file error naming the limit; killing or interrupting the
parent leaves no worker process behind. Everything runs through the real CLI on real files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Completed, isolint_executable

Run = Callable[..., Completed]
Make = Callable[..., Path]
Start = Callable[[str], "tuple[subprocess.Popen[str], set[int]]"]

FINE = "def f(cache={}):\n    return cache\n"
OTHERS = 16  # with --jobs 2, enough files for two workers
NO_TIME_BUDGET = "[tool.isolint]\ntimeout = 100000\n"
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _project(make_project: Make, bad: str, pyproject: str = NO_TIME_BUDGET) -> Path:
    files: dict[str, str | bytes] = {f"pkg/other_{i:02d}.py": FINE for i in range(OTHERS)}
    files["pkg/bad.py"] = bad
    return make_project(files, pyproject=pyproject)


def _check(isolint: Run, root: Path, jobs: str) -> tuple[list[tuple[str, str]], list[str]]:
    out = isolint("check", "--no-cache", "--jobs", jobs, "--format", "json", ".", cwd=root)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    doc = json.loads(out.stdout)
    errors = [(e["path"], e["message"]) for e in doc["errors"]]
    return errors, sorted(d["path"] for d in doc["diagnostics"])


OTHER_PATHS = [f"pkg/other_{i:02d}.py" for i in range(OTHERS)]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    ("source", "message"),
    [
        # 100 KB: grew a worker past 5 GB (24 GB in-process) before CPython's parser checked it
        ("x = " + "-" * 100_000 + "1\n", "too deeply nested to analyse: nested more than 1,000"),
        # LibCST is about cubic in such chains: 3,000 terms took seconds to minutes
        (
            "x = " + "+".join(["1"] * 3000) + "\n",
            "too deeply nested to analyse: nested more than 1,000 levels deep",
        ),
    ],
    ids=["unary-minus-100k", "sum-3000-terms"],
)
def test_pathological_nesting_is_a_file_error(
    isolint: Run, make_project: Make, source: str, message: str, jobs: str
) -> None:
    root = _project(make_project, source)
    errors, findings = _check(isolint, root, jobs)
    assert len(errors) == 1 and errors[0][0] == "pkg/bad.py"
    assert errors[0][1].startswith(message), errors
    assert findings == OTHER_PATHS


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_million_element_literal_is_a_file_error(
    isolint: Run, make_project: Make, jobs: str
) -> None:
    """One line, 2 MB: LibCST needs about a minute and 4 GB; CPython's parser a few seconds."""
    root = _project(make_project, "x = [" + ",".join(["1"] * 1_000_000) + "]\n")
    errors, findings = _check(isolint, root, jobs)
    message = "too large to analyse: a literal of 1,000,000 elements (the limit is 100,000)"
    assert errors == [("pkg/bad.py", message)]
    assert findings == OTHER_PATHS


def test_code_within_the_limits_is_linted(isolint: Run, make_project: Make) -> None:
    nested = "x = " + "-" * 300 + "+".join(["1"] * 300) + "\n"
    root = _project(make_project, FINE + nested + "y = [" + ",".join(["1"] * 5000) + "]\n")
    errors, findings = _check(isolint, root, "1")
    assert errors == []
    assert findings == sorted([*OTHER_PATHS, "pkg/bad.py"])


@LINUX
@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_memory_limit_is_a_file_error(isolint: Run, make_project: Make, jobs: str) -> None:
    """99,000 elements are within the size limits but need about 400 MB in LibCST.

    The worker that hit the limit is replaced: the next file's nesting (CPython's parser
    stack overflowing, also a MemoryError) is still reported as such.
    """
    pyproject = NO_TIME_BUDGET + "memory-limit = 0.25\n"
    root = _project(make_project, "x = [" + ",".join(["1"] * 99_000) + "]\n", pyproject)
    (root / "pkg/deep.py").write_text("x = " + "-" * 100_000 + "1\n", encoding="utf-8")
    errors, findings = _check(isolint, root, jobs)
    assert errors == [
        ("pkg/bad.py", "exceeds the memory limit of 0.25 GiB"),
        ("pkg/deep.py", "too deeply nested to analyse: nested more than 1,000 levels deep"),
    ]
    assert findings == OTHER_PATHS


# -- killing or interrupting the parent ------------------------------------------------------

# Each file is within the size limits and keeps a worker busy for seconds.
_BUSY = "x = [" + ", ".join(["1"] * 60_000) + "]\n"


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.add(pid)
    return alive


@pytest.fixture
def busy_run(make_project: Make) -> Iterator[Start]:
    """Start ``isolint check`` on a tree that keeps its workers busy; yield it and its workers."""
    started: list[tuple[subprocess.Popen[str], set[int]]] = []

    def start(jobs: str) -> tuple[subprocess.Popen[str], set[int]]:
        files: dict[str, str | bytes] = {f"pkg/busy_{i:02d}.py": _BUSY for i in range(OTHERS)}
        root = make_project(files, pyproject=NO_TIME_BUDGET)
        process = subprocess.Popen(
            [isolint_executable(), "check", "--no-cache", "--jobs", jobs, "."],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a shell job is
        )
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and process.poll() is None:
            workers = _children(process.pid)
            if len(workers) >= (2 if jobs == "2" and (os.cpu_count() or 1) > 1 else 1):
                break
            time.sleep(0.05)
        assert workers and process.poll() is None, "the run ended before its workers were seen"
        time.sleep(0.5)  # mid-file
        started.append((process, workers))
        return process, workers

    yield start
    for process, workers in started:  # a failed test leaves nothing running either
        for pid in _alive(workers) | ({process.pid} if process.poll() is None else set()):
            os.kill(pid, signal.SIGKILL)
        process.communicate()


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


@LINUX
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killing_the_parent_leaves_no_worker(busy_run: Start, how: signal.Signals) -> None:
    process, workers = busy_run("2")
    process.send_signal(how)
    _, stderr = process.communicate(timeout=60)
    assert _gone_within(workers, 10) == set()
    if how == signal.SIGTERM:
        assert process.returncode == 143
        assert stderr.splitlines() == ["isolint: terminated"], stderr
    else:
        assert process.returncode == -signal.SIGKILL


@LINUX
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_the_run(busy_run: Start, jobs: str) -> None:
    """Ctrl-C signals the whole foreground process group: workers ignore it, the parent stops."""
    process, workers = busy_run(jobs)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == ["isolint: interrupted"], stderr
    assert stdout == ""
    assert _gone_within(workers, 10) == set()
