"""Baseline round trip with the real CLI: only regressions fail CI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]

FILES = {
    "app/sessions.py": """
        _sessions = {}


        def remember(user_id, session):
            _sessions[user_id] = session


        def history(user_id, seen=[]):
            seen.append(user_id)
            return seen
        """,
    "app/counter.py": """
        _count = 0


        def bump():
            global _count
            _count += 1
            return _count
        """,
}
PREAMBLE = "\n" * 20 + "def added_helper(value):\n    return value * 2\n\n\n"


def _counts(stderr: str) -> str:
    return stderr.strip().splitlines()[-1].split("; ", 1)[-1]


def test_baseline_round_trip(isolint: Run, make_project: Make) -> None:
    root = make_project(FILES)
    made = isolint("baseline", ".", cwd=root)
    assert made.returncode == 0, made.stderr
    document = json.loads((root / ".isolint-baseline.json").read_text())
    # ISO201 on `_sessions` (with the ISO602 write folded into it), ISO204, ISO202
    assert len(document["findings"]) == 3
    assert document["findings"] == sorted(
        document["findings"], key=lambda e: (e["path"], e["code"], e["fingerprint"])
    )

    clean = isolint("check", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert clean.returncode == 0, clean.stdout
    assert "0 new, 0 fixed, 3 known" in clean.stderr

    # Unrelated edits above every finding: blank lines and a new function at the top.
    for relpath in FILES:
        path = root / relpath
        path.write_text(PREAMBLE + path.read_text())
    moved = isolint("check", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert moved.returncode == 0, moved.stdout
    assert "0 new, 0 fixed, 3 known" in moved.stderr

    # One new violation: exactly one new finding, exit 1.
    counter = root / "app/counter.py"
    counter.write_text(counter.read_text() + "\n\ndef reset(cache={}):\n    return cache\n")
    regressed = isolint("check", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert regressed.returncode == 1
    assert "1 new, 0 fixed, 3 known" in regressed.stderr
    assert regressed.stdout.count("ISO204") == 1 and "cache" in regressed.stdout

    shown = isolint("check", "--show-known", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert shown.stdout.count("[known]") == 3

    # Remove an old violation: reported as fixed; prune drops exactly that entry.
    sessions = root / "app/sessions.py"
    sessions.write_text(sessions.read_text().replace("seen=[]", "seen=None"))
    fixed = isolint("check", "--baseline", ".isolint-baseline.json", ".", cwd=root)
    assert "1 new, 1 fixed, 2 known" in fixed.stderr
    before = json.loads((root / ".isolint-baseline.json").read_text())["findings"]
    pruned = isolint("baseline", "--prune", ".", cwd=root)
    assert pruned.returncode == 0, pruned.stderr
    after = json.loads((root / ".isolint-baseline.json").read_text())["findings"]
    assert len(after) == len(before) - 1
    gone = [e for e in before if e not in after]
    assert len(gone) == 1 and gone[0]["code"] == "ISO204" and gone[0]["path"] == "app/sessions.py"
    # The ratchet never adds: the new violation is still not in the baseline.
    assert all("reset" not in e["message"] for e in after)


def test_baseline_from_config_and_missing_file(isolint: Run, make_project: Make) -> None:
    root = make_project(FILES, pyproject="[tool.isolint]\nbaseline = 'known.json'\n")
    out = isolint("check", ".", cwd=root)
    assert out.returncode == 2
    assert "known.json" in out.stderr and "does not exist" in out.stderr
    assert isolint("baseline", ".", cwd=root).returncode == 0
    assert (root / "known.json").exists()
    assert isolint("check", ".", cwd=root).returncode == 0
