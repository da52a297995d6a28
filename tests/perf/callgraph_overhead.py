"""What request-path analysis costs: the per-file call-site/entry-point collector and the global
call graph + reachability, against a cold single-process run of every default rule.
Not part of the test suite. Usage: ``python tests/perf/callgraph_overhead.py TREE``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from isolint.callgraph import FlowCollector, build_graph
from isolint.check import CheckRequest, global_phase
from isolint.config import Settings
from isolint.context import RuleContext
from isolint.discovery import SourceFile
from isolint.imports import ImportTable
from isolint.parsing import parse
from isolint.reachability import Reachability
from isolint.runner import LintOptions, _collect_imports, file_info, lint_many
from isolint.selection import select_rules
from isolint.walk import Walker
from isolint.rules import load_rules


def main() -> None:
    tree = Path(sys.argv[1])
    files = sorted(p for p in tree.rglob("*.py") if p.is_file())
    items = [(str(p.relative_to(tree)), p.read_bytes()) for p in files]
    settings = Settings()
    rules = select_rules(load_rules(), None, (), ())
    options = LintOptions.create(settings, rules)
    start = time.perf_counter()
    results = lint_many(items, options)
    request = CheckRequest(tree, settings, rules, tuple(SourceFile(tree / r, r) for r, _ in items))
    global_phase(results, request)
    cold = time.perf_counter() - start
    # the collector alone, on trees parsed beforehand (its share of the cold run above)
    walker = Walker()
    collect = 0.0
    for relpath, data in items:
        parsed = parse(data, relpath)
        if not hasattr(parsed, "module"):
            continue
        info = file_info(relpath, options)
        imports = ImportTable(info.module_name, info.is_package)
        _collect_imports(parsed.module, imports)
        context = RuleContext(info, parsed.module, settings, imports)
        # the collector rides the one walk every run makes anyway: its cost is the walk with it
        # minus the same walk without it, plus building its facts
        begin = time.perf_counter()
        walker.walk(RuleContext(info, parsed.module, settings, imports), [])
        bare = time.perf_counter() - begin
        begin = time.perf_counter()
        flow = FlowCollector(context, parsed.text)
        walker.walk(context, [flow])
        flow.facts()
        collect += max(0.0, time.perf_counter() - begin - bare)
    from isolint.facts import PackedFacts
    from isolint.project import ProjectIndex

    facts = [r.facts for r in results if isinstance(r.facts, PackedFacts)]
    begin = time.perf_counter()
    graph = build_graph(facts, ProjectIndex(facts, settings), settings)
    Reachability(graph)
    build = time.perf_counter() - begin
    print(f"{len(items)} files; cold run (1 process, every default rule): {cold:.1f}s")
    print(f"flow collector (its share of the one walk + facts): {collect:.1f}s ({100 * collect / cold:.1f}%)")
    print(f"graph + reachability (global phase): {build:.2f}s ({100 * build / cold:.1f}%)")
    print(f"request-path analysis in all: {100 * (collect + build) / cold:.1f}% of the cold run")


if __name__ == "__main__":
    main()
