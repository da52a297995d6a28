"""A computation in a forked child (isolint.forked), and the global phase's use of it."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from isolint import check, forked
from tests.conftest import FIXTURES, Completed

PARENT = os.getpid()


def _no_child_left(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_childs_result_comes_back_and_the_child_is_reaped() -> None:
    job = forked.start(lambda: {"pid": os.getpid(), "items": [1, (2, "three")]})
    pid = job.pid
    assert pid is not None and pid != PARENT
    result = job.result()
    assert result == {"pid": pid, "items": [1, (2, "three")]}  # computed over there
    assert _no_child_left(pid)


def _fails_in_the_child(how: Callable[[], object]) -> Callable[[], str]:
    def compute() -> str:
        if os.getpid() != PARENT:
            how()
        return f"computed in {os.getpid()}"

    return compute


def _raise() -> None:
    raise RuntimeError("only in the child")


def _die() -> None:
    os._exit(3)


@pytest.mark.parametrize("how", [_raise, _die], ids=["raises", "dies"])
def test_a_child_that_fails_leaves_the_result_to_the_parent(how: Callable[[], object]) -> None:
    job = forked.start(_fails_in_the_child(how))
    pid = job.pid
    assert job.result() == f"computed in {PARENT}"
    assert _no_child_left(pid)


def test_a_result_that_cannot_travel_is_computed_here() -> None:
    def compute() -> Callable[[], int]:
        return lambda: os.getpid()  # a lambda does not pickle

    job = forked.start(compute)
    assert job.result()() == PARENT


def test_an_exception_of_the_computation_reaches_the_parent() -> None:
    def compute() -> int:
        raise ValueError("a bug")

    job = forked.start(compute)
    with pytest.raises(ValueError, match="a bug"):
        job.result()


def test_cancel_kills_and_reaps_a_running_child() -> None:
    job = forked.start(lambda: time.sleep(600))
    pid = job.pid
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < 30
    assert _no_child_left(pid)
    job.cancel()  # twice: nothing left to do


def test_the_global_phase_decides_in_a_child_with_the_same_outcome(
    isolint: Callable[..., Completed], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "request_bleed"
    shutil.copytree(FIXTURES / "request_bleed", root)
    started: list[int] = []
    start = forked.start

    def recording_start(compute: Callable[[], object]) -> forked.Forked[object]:
        job = start(compute)
        started.append(job.pid or 0)
        return job

    here = isolint("check", "--no-cache", "-j", "2", "--format", "json", ".", cwd=root)
    assert here.returncode == 1 and not started
    monkeypatch.setattr(check, "_FORK_FROM_FILES", 1)
    monkeypatch.setattr(forked, "start", recording_start)
    beside = isolint("check", "--no-cache", "-j", "2", "--format", "json", ".", cwd=root)
    assert len(started) == 1 and started[0] not in (0, os.getpid())
    assert beside.stdout == here.stdout
    assert _no_child_left(started[0])
    # one worker: the project rules stay in this process
    started.clear()
    one = isolint("check", "--no-cache", "-j", "1", "--format", "json", ".", cwd=root)
    assert one.stdout == here.stdout and not started
