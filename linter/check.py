"""A whole ``check`` run: discover -> per-file pass -> project index -> global phase -> filters."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from isolint import forked
from isolint.cache import Cache, Manifest, ManifestEntry
from isolint.callgraph import build_graph
from isolint.causes import fold_causes
from isolint.config import Settings
from isolint.diagnostics import (
    Candidate,
    Diagnostic,
    Edit,
    FileError,
    FileResult,
    Fix,
    RunResult,
    Severity,
    Span,
)

UNUSED_SUPPRESSION = "ISO000"
from isolint import decided, reachstore
from isolint.discovery import SourceFile
from isolint.facts import PackedFacts, StoredFacts
from isolint.faults import PROJECT_PATH, rule_failure
from isolint.globs import Globs
from isolint.graphmemo import GraphMemo
from isolint.pool import OnResult, WorkerPool
from isolint.progress import progress_bar
from isolint.project import ProjectIndex
from isolint.reachability import NO_ENTRY_POINTS, Reachability
from isolint.reachstore import file_key
from isolint.rule import ProjectFinding, Rule
from isolint.runner import (
    LintOptions,
    Source,
    content_digest,
    fingerprint,
    read_source,
)
from isolint.selection import codes_matching
from isolint.serial import SerialError
from isolint.suppressions import ALL_CODES, FileSuppressions
from isolint.worker import collecting_less

_MIN_FILES_PER_JOB = 8
GRAPH_MEMO = "callgraph"  # the cache file of the call graph's memo
GRAPH_MEMO_DELTA = "callgraph-delta"  # what changed in it since (``GraphMemo.dumps_delta``)
REACHED = "reached"  # what requests reach, and what from (``isolint.reachstore``)


@dataclass(frozen=True)
class CheckRequest:
    """Everything a run needs, decided by the CLI (or a test) beforehand."""

    root: Path
    settings: Settings
    rules: tuple[type[Rule], ...]
    files: tuple[SourceFile, ...]
    jobs: int = 1
    cache: Cache | None = None
    context_files: tuple[SourceFile, ...] = ()
    overrides: tuple[tuple[str, bytes], ...] = ()  # (relpath, source) read from stdin
    progress: bool = False
    # The rules the per-file pass runs, when more than ``rules`` (see ``per_file_rules``):
    # their results are cached, and only ``rules``' findings are reported.
    analysed: tuple[type[Rule], ...] = ()

    def source(self, file: SourceFile) -> bytes | FileResult:
        if file.problem is not None:  # a directory that could not be listed
            error = FileError(file.relpath, file.problem, kind="io")
            return FileResult(file.relpath, errors=(error,))
        for relpath, data in self.overrides:
            if relpath == file.relpath:
                return data
        return read_source(file.path, file.relpath)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def lint_files(request: CheckRequest) -> list[FileResult]:
    """The per-file pass: cached results where content is unchanged, the rest linted.

    The cache manifest remembers each file's size, mtime, content key and packed facts, so a
    file whose stat is unchanged (and old enough not to be racy) is not even read: a file of the
    project that is not being linted contributes its facts straight from the manifest.
    """
    return _lint_files(request, defer=False).results


@dataclass(frozen=True)
class _Linted:
    """The per-file pass's results; with ``defer``, the files not linted whose facts the
    manifest holds are not among them but in ``deferred`` (still encoded). ``keys``: each
    file's content key in the manifest written (none for a file the cache does not keep)."""

    results: list[FileResult]
    deferred: dict[str, ManifestEntry]
    keys: dict[str, str]


def _lint_files(request: CheckRequest, defer: bool) -> _Linted:
    options = LintOptions.create(request.settings, request.analysed or request.rules)
    cache = request.cache
    manifest = cache.load_manifest() if cache is not None else Manifest()
    updated: dict[str, ManifestEntry] = {}
    results: list[FileResult] = []
    deferred: dict[str, ManifestEntry] = {}
    misses: list[Source] = []
    keys: dict[str, tuple[str, int, int, str]] = {}
    targets = {f.relpath for f in request.files}
    stdin = {relpath for relpath, _ in request.overrides}
    for source in (*request.files, *request.context_files):
        relpath = source.relpath
        stat = _stat(source.path) if cache is not None and relpath not in stdin else None
        if stat is not None and cache is not None:
            entry = manifest.fresh(relpath, *stat)
            if entry is not None and defer and relpath not in targets:
                deferred[relpath] = entry
                updated[relpath] = entry
                continue
            if entry is not None:
                hit = (
                    cache.facts_result(relpath, entry)
                    if relpath not in targets
                    else cache.get(entry.key)
                )
                if hit is not None and hit.path == relpath:
                    results.append(hit)
                    updated[relpath] = entry
                    continue
        data = request.source(source)
        if isinstance(data, FileResult):
            results.append(data)
            continue
        if cache is not None and stat is not None:
            digest = content_digest(data)
            key = cache.key_for(relpath, digest)
            cached = cache.get(key)
            if cached is not None and cached.path == relpath:
                results.append(cached)
                updated[relpath] = ManifestEntry(key, *stat, cached.facts)
                continue
            keys[relpath] = (key, *stat, digest)
        # Files on disk are re-read by the worker: the parent keeps no file's bytes.
        misses.append((relpath, data if relpath in stdin else str(source.path)))

    def store(result: FileResult, sealed: bytes | None) -> None:
        """Cache each result as it arrives (``sealed``: its entry's bytes, as the worker encoded
        them); the cache writes them in packs, the last one at the end even of an interrupted
        run, so it keeps what it finished."""
        if cache is not None and result.path in keys:
            key, mtime, size, digest = keys[result.path]
            # Unchanged between our read and the worker's; a rule failure is not kept (it may
            # be transient, and a --debug run must see it happen again, traceback and all).
            if result.digest == digest and not any(e.kind == "internal" for e in result.errors):
                compressed = None
                if sealed is not None:
                    cache.put_sealed(key, sealed, result.path)
                    compressed = cache.sealed_facts(sealed)
                else:
                    cache.put(key, result)
                updated[result.path] = ManifestEntry(
                    key, mtime, size, result.facts, compressed=compressed
                )
        if cache is not None and isinstance(result.facts, PackedFacts):
            result.facts.keep_unpacked(cache.codec)  # now, beside the workers, not later alone

    try:
        results.extend(_lint_sources(misses, request, options, store))
    finally:
        if cache is not None:
            cache.flush()  # before the manifest that names these entries
    if cache is not None and updated != manifest.entries:
        cache.save_manifest(manifest.with_entries(updated))
    enabled = frozenset(rule.code for rule in request.rules)
    return _Linted(
        sorted(
            (
                _selected(r, enabled) if r.path in targets else FileResult(r.path, facts=r.facts)
                for r in results
            ),
            key=lambda r: r.path,
        ),
        deferred,
        {relpath: entry.key for relpath, entry in updated.items()},
    )


# Settings that decide which files are linted, which findings are kept, and how a run is
# bounded, but not what a file's analysis finds: changing one keeps the per-file cache.
_NOT_PER_FILE = (
    "select",
    "extend_select",
    "ignore",
    "per_file_ignores",
    "extend_exclude",
    "force_exclude",
    "baseline",
    "cache_dir",
    "timeout",
    "memory_limit",
    "entry_points",
    "startup_roots",
    "report_unreached",
)


def per_file_rules(
    all_rules: Sequence[type[Rule]], enabled: Sequence[type[Rule]]
) -> tuple[type[Rule], ...]:
    """The rules a cached per-file pass runs: the enabled ones and every rule on by default.

    Narrowing the selection (``select``, ``ignore``, ``--ignore``) then changes no cache key:
    the cached results hold every default rule's findings and ``lint_files`` keeps the enabled
    rules' ones. Enabling an off-by-default rule does change the key.
    """
    chosen = {rule.code: rule for rule in all_rules if rule.default_enabled}
    chosen.update((rule.code, rule) for rule in enabled)
    return tuple(chosen[code] for code in sorted(chosen))


def per_file_key(settings: Settings, analysed: Sequence[type[Rule]]) -> str:
    """What per-file results depend on, as cache-namespace text: the settings a file's
    analysis reads (not selection, ignores, excludes, limits or global-phase options) and the
    codes of the rules that run on each file."""
    defaults = Settings()
    neutral = dataclasses.replace(
        settings,
        **{name: getattr(defaults, name) for name in _NOT_PER_FILE if hasattr(defaults, name)},
    )
    return f"{neutral!r}|{','.join(rule.code for rule in analysed)}"


def _selected(result: FileResult, enabled: frozenset[str]) -> FileResult:
    """``result`` with only the enabled rules' findings, candidates and failures."""
    if (
        all(d.code in enabled for d in result.diagnostics)
        and all(c.code in enabled for c in result.candidates)
        and all(not e.rule or e.rule in enabled for e in result.errors)
    ):
        return result
    return dataclasses.replace(
        result,
        diagnostics=tuple(d for d in result.diagnostics if d.code in enabled),
        candidates=tuple(c for c in result.candidates if c.code in enabled),
        errors=tuple(e for e in result.errors if not e.rule or e.rule in enabled),
    )


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _lint_sources(
    items: Sequence[Source],
    request: CheckRequest,
    options: LintOptions,
    on_result: OnResult | None = None,
) -> list[FileResult]:
    """Worker processes, also for ``--jobs 1``: each file's analysis is bounded in time and
    memory, and a parser crash costs one file (``isolint.runner.lint_many`` lints in-process, for
    profiling). ``on_result`` sees each result as soon as its file is done; with a cache, the
    workers seal each result as its cache entry (``Cache.seal``), which ``on_result`` gets too."""
    if not items:
        return []
    # At most one worker per CPU and per _MIN_FILES_PER_JOB files (-j 2+ always uses workers).
    jobs = min(request.jobs, default_jobs(), max(1, len(items) // _MIN_FILES_PER_JOB))
    pool = WorkerPool(options, jobs, request.settings.timeout, on_result, request.cache)
    with progress_bar(len(items), enabled=request.progress) as advance:
        return pool.run(items, advance)


def load_memo(cache: Cache | None) -> GraphMemo:
    """The call graph's memo stored in ``cache`` (empty when there is none)."""
    data = cache.read_blob(GRAPH_MEMO) if cache is not None else None
    if not data or cache is None:
        return GraphMemo()
    return GraphMemo.loads(data, cache.read_blob(GRAPH_MEMO_DELTA))


def global_phase(
    results: Sequence[FileResult], request: CheckRequest, memo: GraphMemo | None = None
) -> tuple[list[Diagnostic], list[str], Reachability, list[FileError]]:
    """Merge facts into the index and let project rules decide their candidates; build the
    call graph and what requests reach (``finish`` filters findings with it).

    The call graph reuses what ``memo`` holds of each file's resolution (``isolint.graphmemo``)
    and updates it: a long-lived caller (the editor server) keeps one between runs. Without one,
    the memo is read from the request's cache, and written back when it changed.

    A rule that raises in ``check_configuration`` or ``check_project`` loses only its own
    warnings or findings: it becomes one ``internal error in ISOxxx`` error (path
    ``<project>``), and the other rules' results stand.
    """
    facts = [r.facts for r in results if isinstance(r.facts, PackedFacts)]
    index = ProjectIndex(facts, request.settings)

    def decide() -> tuple[list[Diagnostic], list[str], list[FileError]]:
        return _project_rules(results, request, index)

    # A run of the CLI over a large project (not the editor server's: it passes its memo)
    # lets a child decide while the call graph is built here: one core idles otherwise.
    beside = memo is None and request.jobs > 1 and len(facts) >= _FORK_FROM_FILES
    rules = forked.start(decide) if beside else forked.Forked(decide)
    try:
        stored = memo is None and request.cache is not None
        if memo is None:
            memo = load_memo(request.cache)
        reachability = Reachability(build_graph(facts, index, request.settings, memo))
        if stored and memo.changed and request.cache is not None:
            if memo.compact_due():
                request.cache.write_blob(GRAPH_MEMO, memo.dumps())
            else:  # a few files changed: not the whole memo again
                request.cache.write_blob(GRAPH_MEMO_DELTA, memo.dumps_delta())
        out, warnings, failures = rules.result()
    finally:
        rules.cancel()
    return out, warnings, reachability, failures


# Files from which a CLI run's project rules run in a child beside the call graph (forking a
# large process costs some 10-30 ms: a small project's project rules take less).
_FORK_FROM_FILES = 500


def _project_rules(
    results: Sequence[FileResult], request: CheckRequest, index: ProjectIndex
) -> tuple[list[Diagnostic], list[str], list[FileError]]:
    """The project rules' findings over the index, their warnings, and their failures."""
    rules = request.rules
    failures: list[FileError] = []
    warnings: list[str] = []
    for rule in rules:
        try:
            warnings.extend(list(rule.check_configuration(index)))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken rule must not end the run
            failures.append(rule_failure(PROJECT_PATH, rule.code, exc, "check_configuration"))
    by_code: dict[str, list[Candidate]] = defaultdict(list)
    for result in results:
        for candidate in result.candidates:
            by_code[candidate.code].append(candidate)
    out: list[Diagnostic] = []
    for rule in rules:
        try:
            out.extend(
                project_diagnostic(rule, finding)
                for finding in list(rule.check_project(by_code.get(rule.code, []), index))
            )
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - as above
            failures.append(rule_failure(PROJECT_PATH, rule.code, exc, "check_project"))
    return out, warnings, failures


def project_diagnostic(rule: type[Rule], finding: ProjectFinding) -> Diagnostic:
    candidate = finding.candidate
    span = candidate.span
    return Diagnostic(
        path=candidate.path,
        span=span,
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=finding.message,
        fingerprint=candidate.fingerprint,
        fix=(
            Fix(
                finding.fix_title or rule.fix_title or "Apply fix",
                (Edit(span, finding.replacement),),
            )
            if finding.replacement is not None
            else None
        ),
        related=finding.related,
        sites=finding.sites if finding.sites is not None else candidate.sites,
        causes=finding.causes,
        cause_note=finding.cause_note,
    )


def _per_file_ignored(settings: Settings) -> list[tuple[Globs, tuple[str, ...]]]:
    return [(Globs([glob]), codes) for glob, codes in settings.per_file_ignores]


def finish(
    results: Sequence[FileResult],
    request: CheckRequest,
    extra: Iterable[Diagnostic] = (),
    warnings: Sequence[str] = (),
    reachability: Reachability | None = None,
    failures: Iterable[FileError] = (),
) -> RunResult:
    """Drop findings no request reaches and give the others their request path; apply
    suppression comments and per-file-ignores; fold symptoms into their root-cause findings
    (``isolint.causes``); collect a sorted RunResult (``failures``: the
    global phase's rule errors)."""
    ignores = _per_file_ignored(request.settings)
    comments = {r.path: r.suppressions for r in results}
    used: set[tuple[str, int, int]] = set()
    kept: list[Diagnostic] = []
    suppressed = 0
    reported = [d for r in results for d in r.diagnostics] + list(extra)
    unreached_symptoms: list[Diagnostic] = []  # may still be related locations of a root cause
    if reachability is not None:
        unreached = request.settings.report_unreached
        decided = [reachability.decide(d, unreached) for d in reported]
        if not reachability.has_entry_points and any(d.sites for d in reported):
            warnings = [*warnings, NO_ENTRY_POINTS]
        unreached_symptoms = [
            d
            for d, kept_d in zip(reported, decided)
            if kept_d is None and d.cause_note and reachability.unreached(d)
        ]
        reported = [d for d in decided if d is not None]
    for diagnostic in reported:
        if _suppressed_by_comment(diagnostic, comments.get(diagnostic.path), used) or any(
            spec.match(diagnostic.path) and codes_matching([diagnostic.code], codes)
            for spec, codes in ignores
        ):
            suppressed += 1
            continue
        kept.append(diagnostic)
    kept = fold_causes(kept, unreached_symptoms)
    if any(rule.code == UNUSED_SUPPRESSION for rule in request.rules):
        enabled = tuple(rule.code for rule in request.rules if rule.code != UNUSED_SUPPRESSION)
        kept.extend(_unused_suppressions(results, used, enabled))
    errors: list[FileError] = [*(e for r in results for e in r.errors), *failures]
    return RunResult(
        files=len(results),
        diagnostics=tuple(sorted(kept, key=Diagnostic.sort_key)),
        errors=tuple(sorted(errors, key=FileError.sort_key)),
        suppressed=suppressed,
        warnings=tuple(warnings),
    )


def _suppressed_by_comment(
    diagnostic: Diagnostic, found: FileSuppressions | None, used: set[tuple[str, int, int]]
) -> bool:
    if found is None:
        return False
    if found.ignore_file:
        return True
    lines = {diagnostic.span.line, diagnostic.statement_line or diagnostic.span.line}
    for comment in found.comments:
        if comment.line in lines and comment.covers(diagnostic.code):
            used.add((diagnostic.path, comment.line, comment.column))
            return True
    return False


def _unused_suppressions(
    results: Sequence[FileResult], used: set[tuple[str, int, int]], enabled: Sequence[str]
) -> list[Diagnostic]:
    """ISO000 for each suppression that matched nothing (codes of disabled rules are not judged)."""
    out: list[Diagnostic] = []
    for result in results:
        seen: Counter[str] = Counter()
        for comment in result.suppressions.comments:
            if (result.path, comment.line, comment.column) in used:
                continue
            judged = [
                c for c in comment.codes if c == ALL_CODES or any(e.startswith(c) for e in enabled)
            ]
            if not judged:
                continue
            occurrence = seen[comment.text]
            seen[comment.text] += 1
            names = "all codes" if ALL_CODES in judged else ", ".join(judged)
            out.append(
                Diagnostic(
                    path=result.path,
                    span=Span(
                        comment.line,
                        comment.column,
                        comment.line,
                        comment.column + len(comment.text),
                    ),
                    code=UNUSED_SUPPRESSION,
                    name="unused-suppression",
                    severity=Severity.WARNING,
                    message=f"Unused suppression `{comment.text}`: nothing here is reported for "
                    f"{names}; remove it so it cannot hide a future isolation bug",
                    fingerprint=fingerprint(
                        UNUSED_SUPPRESSION, result.path, "<module>", comment.text, occurrence
                    ),
                )
            )
    return out


def run_check(request: CheckRequest) -> RunResult:
    """A whole run. With a cache, the files not linted keep their facts encoded while the
    stored reachability (``isolint.reachstore``) holds for this run: the call graph is then
    not built, and the project rules decode only the modules they read."""
    with collecting_less():
        cache = request.cache
        keys: dict[str, str] | None = None
        if cache is None:
            results = lint_files(request)
        else:
            linted = _lint_files(request, defer=True)
            reused = _reusing(linted, request, cache)
            if reused is not None:
                return reused
            results, keys = _with_deferred(linted, request, cache)
        diagnostics, warnings, reachability, failures = global_phase(results, request)
        if cache is not None and keys is not None:
            files = {r.path: file_key(keys.get(r.path, ""), r.facts) for r in results}
            configured = (request.settings.entry_points, request.settings.startup_roots)
            cache.write_blob(REACHED, reachstore.dumps(reachability, files, configured))
            inputs = {r.path: keys.get(r.path, "") for r in results}
            _store_decisions(
                cache, _decisions_digest(request, inputs), diagnostics, warnings, failures
            )
        return finish(results, request, diagnostics, warnings, reachability, failures)


def _decisions_digest(request: CheckRequest, keys: dict[str, str]) -> str | None:
    return decided.inputs_digest(
        keys,
        (f.relpath for f in request.files),
        request.settings,
        [rule.code for rule in request.rules],
    )


def _store_decisions(
    cache: Cache,
    digest: str | None,
    diagnostics: Sequence[Diagnostic],
    warnings: Sequence[str],
    failures: Sequence[FileError],
) -> None:
    if digest is None:
        return
    decisions = decided.Decisions(tuple(diagnostics), tuple(warnings), tuple(failures))
    data = decided.dumps(digest, decisions, cache.codec)
    if data is not None:
        cache.write_blob(decided.DECIDED, data)


def _with_deferred(
    linted: _Linted, request: CheckRequest, cache: Cache
) -> tuple[list[FileResult], dict[str, str] | None]:
    """Every file's result, the deferred files' facts decoded, and their keys; if one does not
    decode, the run's results without deferring (that file is read: a cache miss), no keys."""
    decoded = [cache.facts_result(path, entry) for path, entry in linted.deferred.items()]
    if any(result is None for result in decoded):
        return lint_files(request), None
    found = [result for result in decoded if result is not None]
    return sorted([*linted.results, *found], key=lambda r: r.path), linted.keys


def _reusing(linted: _Linted, request: CheckRequest, cache: Cache) -> RunResult | None:
    """The run's result over the stored reachability, if it holds for this run (else None)."""
    data = cache.read_blob(REACHED)
    stored = reachstore.loads(data) if data else None
    if stored is None:
        return None
    keys = {r.path: linted.keys.get(r.path, "") for r in linted.results}
    keys.update((path, entry.key) for path, entry in linted.deferred.items())
    facts: dict[str, object] = {r.path: r.facts for r in linted.results}
    for path, entry in linted.deferred.items():
        old = stored.files.get(path)
        if old is not None and entry.key != old[0]:  # changed since: its shape is compared
            result = cache.facts_result(path, entry)
            if result is None:
                return None
            facts[path] = result.facts
    configured = (request.settings.entry_points, request.settings.startup_roots)
    if not reachstore.holds(stored, configured, keys, facts):
        return None
    changed = {
        path: found if isinstance(found, PackedFacts) else None
        for path, found in facts.items()
        if not keys[path] or keys[path] != stored.files[path][0]
    }
    reachability = reachstore.restore(stored, changed)
    if reachability is None:
        return None
    results = sorted(
        [*linted.results, *(FileResult(path) for path in linted.deferred)], key=lambda r: r.path
    )
    digest = _decisions_digest(request, keys)
    data = cache.read_blob(decided.DECIDED) if digest is not None and not changed else None
    known = decided.loads(data, digest, cache.codec) if data and digest is not None else None
    if known is not None:  # nothing changed: the project rules would decide the same
        return finish(
            results,
            request,
            list(known.diagnostics),
            list(known.warnings),
            reachability,
            list(known.failures),
        )
    items: list[PackedFacts | StoredFacts] = [
        found for found in facts.values() if isinstance(found, PackedFacts)
    ]
    lazy = [
        StoredFacts(
            stored.files[path][2],
            path,
            _decoder(cache, path, entry, stored.files[path]),
            stored.files[path][3],
        )
        for path, entry in linted.deferred.items()
        if path not in facts and stored.files[path][1]  # the unchanged files that have facts
    ]
    index = ProjectIndex([*items, *lazy], request.settings)
    diagnostics, warnings, failures = _project_rules(linted.results, request, index)
    if any(item.failed for item in lazy):
        return None  # a stored text did not decode: the run is done again without it
    _store_decisions(cache, digest, diagnostics, warnings, failures)
    return finish(results, request, diagnostics, warnings, reachability, failures)


def _decoder(
    cache: Cache, path: str, entry: ManifestEntry, key: reachstore.FileKey
) -> Callable[[], PackedFacts]:
    def decode() -> PackedFacts:
        result = cache.facts_result(path, entry)
        facts = result.facts if result is not None else None
        if not isinstance(facts, PackedFacts) or facts.module != key[2]:
            raise SerialError(f"{path}: the stored facts do not decode")
        return facts

    return decode
