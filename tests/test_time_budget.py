"""A pathological file cannot hang a run: past the per-file budget it is a file error."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]


@pytest.mark.slow  # issue 14: time-budget runs are in the slow suite (a 1 s budget per file)
@pytest.mark.parametrize("jobs", ["1", "2"])  # -j 1 also runs in a worker, under the budget
def test_pathological_file_times_out_and_the_run_completes(
    isolint: Run, make_project: Make, jobs: str
) -> None:
    files: dict[str, str | bytes] = {
        # Within the size limits, but a million literal elements take CPython's parser seconds
        # and LibCST about a minute: far more than the 1 s budget on any machine
        "app/slow.py": "".join(
            f"x_{index} = [" + ", ".join(["1"] * 50_000) + "]\n" for index in range(20)
        ),
    }
    for index in range(12):
        files[f"app/module_{index}.py"] = (
            f"def handler_{index}(user_id, seen=[]):\n    return seen\n"
        )
    root = make_project(files, pyproject="[tool.isolint]\ntimeout = 1\n")
    started = time.monotonic()
    out = isolint("check", "--no-cache", "--jobs", jobs, "--format", "json", ".", cwd=root)
    elapsed = time.monotonic() - started
    assert out.returncode == 1, out.stderr
    document = json.loads(out.stdout)
    assert document["errors"] == [{"path": "app/slow.py", "message": "timed out after 1 s"}]
    assert sorted(d["path"] for d in document["diagnostics"]) == sorted(
        f"app/module_{index}.py" for index in range(12)
    )
    assert elapsed < 30
