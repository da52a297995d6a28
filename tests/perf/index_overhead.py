"""What the project index costs: the per-file pass of the foundation rules (ISO1/ISO2) without
fact collection, against the full run (facts, every rule, candidates, merged index, global
phase). Not part of the test suite. Usage: ``python tests/perf/index_overhead.py [TREE]``
(default: the standard library; at least 1,000 files). In-process, one job, median of 3."""

from __future__ import annotations

import statistics
import sys
import sysconfig
import time
from pathlib import Path

from isolint.check import CheckRequest, global_phase
from isolint.config import Settings
from isolint.discovery import SourceFile
from isolint.runner import LintOptions, lint_many
from isolint.selection import select_rules
from isolint.rules import load_rules


def main() -> None:
    tree = Path(sys.argv[1] if len(sys.argv) > 1 else sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in tree.rglob("*.py") if "site-packages" not in p.parts and p.is_file())
    items = [(str(p.relative_to(tree)), p.read_bytes()) for p in files]
    all_rules = load_rules()
    foundation = tuple(
        r for r in all_rules if r.code[:4] in ("ISO1", "ISO2") and r.code != "ISO106"
    )
    everything = select_rules(all_rules, None, (), ())
    settings = Settings()

    def foundation_run() -> float:
        start = time.perf_counter()
        lint_many(items, LintOptions.create(settings, foundation, collect_facts=False))
        return time.perf_counter() - start

    def indexed_run(rules: tuple[type, ...]) -> float:
        start = time.perf_counter()
        results = lint_many(items, LintOptions.create(settings, rules))
        request = CheckRequest(
            tree, settings, rules, tuple(SourceFile(tree / r, r) for r, _ in items)
        )
        global_phase(results, request)
        return time.perf_counter() - start

    base = statistics.median(foundation_run() for _ in range(3))
    index = statistics.median(indexed_run(foundation) for _ in range(3))
    full = statistics.median(indexed_run(everything) for _ in range(3))
    print(f"{len(items)} files")
    print(f"foundation (ISO1/ISO2 rules, no facts, no index): {base:.2f}s")
    print(
        f"the same rules + facts + merged index + global phase: {index:.2f}s "
        f"(index overhead {100 * (index / base - 1):.0f}%)"
    )
    print(
        f"every default rule with the index: {full:.2f}s ({100 * (full / base - 1):.0f}% over the foundation)"
    )


if __name__ == "__main__":
    sys.setrecursionlimit(20000)
    main()
