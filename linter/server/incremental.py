"""The server's global phase kept between runs: project rules re-decide only the candidates whose
inputs an edit changed, and only the findings the open documents can show are filtered.

What a candidate's decision read is recorded: every module the rule looked up in the project
index while deciding it (``_Reads``). After an edit, a decision is reused when none of those
modules' facts changed; a rule that reads every module (``index.modules``, the header views) is
simply decided again. Rules declaring ``independent_candidates`` are decided one candidate at a
time, the others all at once. The call graph keeps a ``GraphMemo`` (``isolint.graphmemo``: only
the files whose resolution asked about a changed module are resolved again) and is not built at
all when no module's facts changed. So the open documents get exactly what a full
``global_phase`` + ``finish`` would give them (``tests/test_server_incremental.py`` checks this
after sequences of edits).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from isolint.callgraph import build_graph
from isolint.check import CheckRequest, finish, load_memo, project_diagnostic
from isolint.config import Settings
from isolint.diagnostics import Candidate, Diagnostic, FileResult, RunResult
from isolint.facts import ModuleFacts, PackedFacts, SharedInstanceFacts
from isolint.graphmemo import GraphMemo
from isolint.project import MODULE, ProjectIndex
from isolint.reachability import Reachability
from isolint.rule import Rule

EVERY_MODULE = "*"  # a read of the whole project (iteration, the header views)


class _Reads(Mapping[str, ModuleFacts]):
    """Module name -> facts, decoded once and kept, noting each name read while ``reads`` is set
    (also names that are not in the project: a module appearing changes what they resolve to)."""

    def __init__(self, packed: Mapping[str, ModuleFacts | PackedFacts]) -> None:
        self._packed = packed
        self._decoded: dict[str, ModuleFacts] = {}
        self.reads: set[str] | None = None

    def __getitem__(self, name: str) -> ModuleFacts:
        if self.reads is not None:
            self.reads.add(name)
        facts = self._decoded.get(name)
        if facts is None:
            item = self._packed[name]
            facts = item.unpack() if isinstance(item, PackedFacts) else item
            self._decoded[name] = facts
        return facts

    def __contains__(self, name: object) -> bool:
        if self.reads is not None and isinstance(name, str):
            self.reads.add(name)
        return name in self._packed

    def __iter__(self) -> Iterator[str]:
        if self.reads is not None:
            self.reads.add(EVERY_MODULE)
        return iter(self._packed)

    def __len__(self) -> int:
        if self.reads is not None:
            self.reads.add(EVERY_MODULE)
        return len(self._packed)


class TrackedIndex(ProjectIndex):
    """A ProjectIndex that records which modules are read (``record``/``stop``)."""

    def __init__(self, facts: Sequence[PackedFacts], settings: Settings) -> None:
        super().__init__(facts, settings)
        self._tracked = _Reads(self.packed)
        self._modules = self._tracked

    @property
    def packed(self) -> Mapping[str, ModuleFacts | PackedFacts]:
        # made of PackedFacts only (no ``StoredFacts``: the server keeps every file's facts)
        return cast("Mapping[str, ModuleFacts | PackedFacts]", self._packed)

    @property
    def shape(self) -> tuple[frozenset[str], Mapping[str, str]]:
        """What depends on the set of module names only (namespace packages, rooted names)."""
        return self._packages, self._rooted

    def record(self) -> None:
        self._tracked.reads = set()
        # a resolution the index remembers reads no module again: it replays the questions
        # it asked (``ProjectIndex.recording``), whose modules were read too
        self._consulted = set()

    def stop(self) -> frozenset[str]:
        reads = self._tracked.reads or set()
        consulted = self._consulted or set()
        self._tracked.reads = None
        self._consulted = None
        return frozenset(reads | {name for kind, name in consulted if kind == MODULE})

    def external_mutation_sites(self) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
        if self._tracked.reads is not None:
            self._tracked.reads.add(EVERY_MODULE)
        return super().external_mutation_sites()

    def shared_instance_sites(
        self,
    ) -> Iterator[tuple[str, str, bool, tuple[SharedInstanceFacts, ...]]]:
        if self._tracked.reads is not None:
            self._tracked.reads.add(EVERY_MODULE)
        return super().shared_instance_sites()


@dataclass(frozen=True)
class _Decision:
    """A rule's findings for some candidates, and the modules deciding them read."""

    candidates: tuple[Candidate, ...]
    findings: tuple[Diagnostic, ...]
    reads: frozenset[str]
    failed: bool = False


def _stale(reads: frozenset[str], changed: frozenset[str]) -> bool:
    """Did a module that was read change (or was every module read)?"""
    return EVERY_MODULE in reads or not changed.isdisjoint(reads)


@dataclass(frozen=True)
class _FileDecisions:
    """One file's candidates as the last run decided them: per-candidate rules' decisions, in
    order, with everything they read and found, and the other rules' candidates by code."""

    result: FileResult
    decisions: tuple[_Decision, ...]
    reads: frozenset[str]
    findings: tuple[Diagnostic, ...]
    failed: frozenset[str]  # codes of rules that raised on one of its candidates
    others: Mapping[str, tuple[Candidate, ...]]


def _decide(rule: type[Rule], candidates: Sequence[Candidate], index: TrackedIndex) -> _Decision:
    """``rule.check_project`` over ``candidates``, as ``global_phase`` runs it (a rule that
    raises loses its findings, which ``failed`` says)."""
    index.record()
    try:
        findings = tuple(project_diagnostic(rule, f) for f in rule.check_project(candidates, index))
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - as global_phase: the failure drops this rule's findings
        return _Decision(tuple(candidates), (), index.stop(), failed=True)
    return _Decision(tuple(candidates), findings, index.stop())


def _same(left: Sequence[Candidate], right: Sequence[Candidate]) -> bool:
    return len(left) == len(right) and all(a is b for a, b in zip(left, right, strict=True))


def _same_facts(left: object, right: object) -> bool:
    """The same module facts: the same object, or equal ones (a buffer linted again whose
    edit changed no fact: its packed facts compare equal, their data byte for byte)."""
    return left is right or left == right


class IncrementalPhase:
    """One project's global phase, kept warm between runs of the server."""

    def __init__(self, request: CheckRequest) -> None:
        self.request = request
        self._packed: Mapping[str, ModuleFacts | PackedFacts] | None = None
        self._shape: tuple[frozenset[str], Mapping[str, str]] | None = None
        self._files: dict[str, _FileDecisions] = {}  # per-candidate rules, by file
        self._whole: dict[str, _Decision] = {}  # rule code -> its decision (the other rules)
        self._slim: dict[str, tuple[FileResult, FileResult]] = {}
        self._graph_facts: list[PackedFacts] = []
        self._reached: Reachability | None = None
        # each file's resolved calls, kept while what they read is unchanged; the first one is
        # the CLI's from the cache (only read: the server leaves the cache to the CLI)
        self._memo = load_memo(request.cache)
        self.decided = 0  # candidates decided by the last run (for tests and measurements)
        self.graphs_built = 0
        self.graph_stats = (0, 0)  # the last build's GraphMemo.stats: (parts reused, resolved)

    def _changed(self, index: TrackedIndex) -> frozenset[str] | None:
        """Modules whose facts differ from the last run's, or None: decide everything again."""
        before, shape = self._packed, self._shape
        self._packed, self._shape = dict(index.packed), index.shape
        if before is None or shape != index.shape:
            return None
        now = index.packed
        return frozenset(
            name for name in {*before, *now} if not _same_facts(before.get(name), now.get(name))
        )

    def _reachability(self, facts: list[PackedFacts], index: TrackedIndex) -> Reachability:
        """The call graph's reachability, built again only when some module's facts changed
        (an edit inside a line that changes no call, name or line keeps every fact)."""
        before = self._graph_facts
        if (
            self._reached is None
            or len(before) != len(facts)
            or not all(_same_facts(a, b) for a, b in zip(before, facts, strict=True))
        ):
            graph = build_graph(facts, index, self.request.settings, self._memo)
            self._reached = Reachability(graph)
            self.graphs_built += 1
            self.graph_stats = self._memo.stats
        self._graph_facts = facts
        return self._reached

    def _findings(
        self, results: Sequence[FileResult], index: TrackedIndex, changed: frozenset[str] | None
    ) -> list[Diagnostic]:
        """Every project rule's findings, as ``global_phase`` orders them within a code."""
        rules = {rule.code: rule for rule in self.request.rules}
        files: dict[str, _FileDecisions] = {}
        self.decided = 0
        for result in results:
            previous = self._files.get(result.path)
            if previous is None or previous.result is not result:
                previous = None
            elif changed is not None and not _stale(previous.reads, changed):
                files[result.path] = previous  # nothing it read changed
                continue
            files[result.path] = self._decide_file(result, previous, rules, index, changed)
        self._files = files
        failed = {code for decided in files.values() for code in decided.failed}
        out = [d for decided in files.values() for d in decided.findings if d.code not in failed]
        whole: dict[str, _Decision] = {}
        for rule in self.request.rules:
            if rule.independent_candidates:
                continue
            candidates = [
                c for decided in files.values() for c in decided.others.get(rule.code, ())
            ]
            previous_whole = self._whole.get(rule.code)
            if (
                previous_whole is None
                or changed is None
                or _stale(previous_whole.reads, changed)
                or not _same(previous_whole.candidates, candidates)
            ):
                previous_whole = _decide(rule, candidates, index)
                self.decided += len(candidates)
            whole[rule.code] = previous_whole
            out.extend(previous_whole.findings)
        self._whole = whole
        return out

    def _decide_file(
        self,
        result: FileResult,
        previous: _FileDecisions | None,
        rules: Mapping[str, type[Rule]],
        index: TrackedIndex,
        changed: frozenset[str] | None,
    ) -> _FileDecisions:
        """Decide a file's candidates of per-candidate rules again where stale (all of them
        when its result is new); collect the others' candidates by code."""
        kept = {id(d.candidates[0]): d for d in previous.decisions} if previous else {}
        decisions: list[_Decision] = []
        others: dict[str, list[Candidate]] = defaultdict(list)
        for candidate in result.candidates:
            rule = rules.get(candidate.code)
            if rule is None:
                continue
            if not rule.independent_candidates:
                others[rule.code].append(candidate)
                continue
            decision = kept.get(id(candidate))
            if decision is None or changed is None or _stale(decision.reads, changed):
                decision = _decide(rule, [candidate], index)
                self.decided += 1
            decisions.append(decision)
        return _FileDecisions(
            result,
            tuple(decisions),
            frozenset().union(*(d.reads for d in decisions)),
            tuple(f for d in decisions for f in d.findings),
            frozenset(d.candidates[0].code for d in decisions if d.failed),
            {code: tuple(found) for code, found in others.items()},
        )

    def _slimmed(self, result: FileResult) -> FileResult:
        """A file no open document is: only its findings that may fold into others' (causes)."""
        kept = self._slim.get(result.path)
        if kept is None or kept[0] is not result:
            slim = dataclasses.replace(
                result,
                diagnostics=tuple(d for d in result.diagnostics if d.causes),
                errors=(),
                candidates=(),
                facts=None,
            )
            kept = (result, slim)
            self._slim[result.path] = kept
        return kept[1]

    def run(self, results: Sequence[FileResult], wanted: Collection[str]) -> RunResult:
        """``finish(global_phase(...))`` as the files in ``wanted`` see it (other files'
        findings are incomplete; warnings and project-wide errors are left out)."""
        facts = [r.facts for r in results if isinstance(r.facts, PackedFacts)]
        index = TrackedIndex(facts, self.request.settings)
        changed = self._changed(index)
        reachability = self._reachability(facts, index)
        found = self._findings(results, index, changed)
        extra = [d for d in found if d.path in wanted or d.causes]
        shown = [r if r.path in wanted else self._slimmed(r) for r in results]
        present = {r.path for r in results}
        for path in [p for p in self._slim if p not in present]:
            del self._slim[path]
        return finish(shown, self.request, extra, (), reachability, ())
