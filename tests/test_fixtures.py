"""Fixture projects: golden JSON output, cross-checked against ``# expect: CODE`` markers.

Regenerate the goldens with ``ISOLINT_REGEN=1 python -m pytest tests/test_fixtures.py``; the
marker check still has to pass, so a blind regeneration cannot hide a regression.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_isolint

EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
# A finding folded into its root cause's finding (linter/causes.py): a related location whose
# note starts with the code.
RELATED = re.compile(r"#\s*related:\s*([A-Z0-9, ]+)")
PROJECTS = sorted(p.parent for p in FIXTURES.glob("*/expected.json"))


def _normalise(doc: dict[str, object]) -> dict[str, object]:
    doc = dict(doc)
    doc.pop("version", None)
    # Derived from the code (the rule's docs link) and from `fix`: not part of the golden.
    diagnostics = doc.get("diagnostics")
    if isinstance(diagnostics, list):
        doc["diagnostics"] = [
            {k: v for k, v in d.items() if k != "url"} if isinstance(d, dict) else d
            for d in diagnostics
        ]
    summary = doc.get("summary")
    if isinstance(summary, dict):
        doc["summary"] = {k: v for k, v in summary.items() if k != "fixable"}
    return doc


def _markers(project: Path, pattern: re.Pattern[str] = EXPECT) -> Counter[tuple[str, int, str]]:
    found: Counter[tuple[str, int, str]] = Counter()
    for path in sorted(project.rglob("*.py")):
        rel = path.relative_to(project).as_posix()
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            match = pattern.search(line)
            if match:
                for code in match.group(1).replace(" ", "").split(","):
                    if code:
                        found[(rel, number, code)] += 1
    return found


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_golden_output(project: Path) -> None:
    # run from the project: printed paths are relative to the cwd, so they are the golden's
    out = run_isolint("check", "--format", "json", ".", cwd=project)
    assert out.returncode in (0, 1), out.stderr
    actual = json.loads(out.stdout)
    golden = project / "expected.json"
    if os.environ.get("ISOLINT_REGEN"):
        golden.write_text(json.dumps(_normalise(actual), indent=2) + "\n", encoding="utf-8")
    assert _normalise(actual) == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_markers_match_findings(project: Path) -> None:
    # run from the project: printed paths are relative to the cwd, so they are the golden's
    out = run_isolint("check", "--format", "json", ".", cwd=project)
    actual = json.loads(out.stdout)
    reported = Counter((d["path"], d["line"], d["code"]) for d in actual["diagnostics"])
    expected = _markers(project)
    assert reported == expected, (
        f"missing: {sorted((expected - reported).elements())}\n"
        f"unexpected: {sorted((reported - expected).elements())}"
    )
    folded = Counter(
        (r["path"], r["line"], r["note"].split(":", 1)[0])
        for d in actual["diagnostics"]
        for r in d["related"]
        if re.match(r"[A-Z]+[0-9]+:", r["note"])
    )
    assert folded == _markers(project, RELATED)
