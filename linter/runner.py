"""Lint files: read -> parse once -> one walk of all rules -> FileResult; then the global phase."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import libcst as cst
from libcst.metadata import CodeRange

from isolint.callgraph import FlowCollector
from isolint.config import Settings
from isolint.context import FileInfo, RuleContext
from isolint.diagnostics import (
    Candidate,
    Diagnostic,
    Edit,
    FileError,
    FileResult,
    Fix,
    Related,
    Span,
)
from isolint.facts import FactCollector, PackedFacts
from isolint.faults import rule_failure
from isolint.globs import Globs
from isolint.imports import ImportTable
from isolint.modules import is_test_path, module_name
from isolint.parsing import parse
from isolint.positions import positions_and_code
from isolint.rule import NodeFix, Rule
from isolint.serial import Codec
from isolint.suppressions import find_suppressions
from isolint.walk import Visitor, Walker
from isolint.worker import memory_limit_message

# LibCST's native parser recurses on the C stack; a big thread stack turns deep nesting from a
# segmentation fault into a slow parse or a RecursionError that becomes a file error.
_THREAD_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 20_000

T = TypeVar("T")


@dataclass(frozen=True)
class LintOptions:
    """What the per-file pass needs: settings and the enabled rules (picklable)."""

    settings: Settings
    rules: tuple[type[Rule], ...]
    integration_tests: Globs
    collect_facts: bool = True  # False only to measure what the project index costs
    # packs each file's facts (a codec takes longer to make than most files take to pack)
    codec: Codec = field(default_factory=Codec.create, compare=False, repr=False)
    # the field names the facts' shape digest reads, by type (``PackedFacts.pack``)
    shape_fields: dict[type, tuple[str, ...] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def create(
        cls, settings: Settings, rules: Iterable[type[Rule]], collect_facts: bool = True
    ) -> LintOptions:
        return cls(settings, tuple(rules), Globs(settings.integration_tests), collect_facts)


def file_info(relpath: str, options: LintOptions) -> FileInfo:
    """Classify a file by its project-relative path."""
    name, is_package = module_name(relpath, options.settings.src)
    return FileInfo(
        path=relpath,
        module_name=name,
        is_package=is_package,
        is_test=is_test_path(relpath),
        is_integration_test=options.integration_tests.match(relpath),
        is_conftest=relpath.rsplit("/", 1)[-1] == "conftest.py",
    )


def _collect_imports(module: cst.Module, table: ImportTable) -> None:
    """Pre-pass over module-level statements (and their if/try blocks) so rules see every import."""
    pending: list[cst.CSTNode] = list(module.body)
    while pending:
        statement = pending.pop(0)
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    table.add(small)
        elif isinstance(statement, (cst.If, cst.Try, cst.TryStar, cst.Else, cst.ExceptHandler)):
            body = statement.body
            if isinstance(body, cst.IndentedBlock):
                pending.extend(body.body)
            if isinstance(statement, (cst.Try, cst.TryStar)):
                pending.extend(statement.handlers)
                if statement.orelse is not None:
                    pending.append(statement.orelse)
            elif isinstance(statement, cst.If) and statement.orelse is not None:
                pending.append(statement.orelse)


def _snippet(context: RuleContext, node: cst.CSTNode, code: str | None = None) -> str:
    """Normalized source of a reported node: stable under reformatting and unrelated edits.
    ``code`` is the node's code if the caller has it (indented as in place: the same once
    normalized)."""
    if type(node) is cst.ClassDef:  # exact types: isinstance() is slow on LibCST's classes
        return f"class {node.name.value}"
    if type(node) is cst.FunctionDef:
        return f"def {node.name.value}"
    return " ".join((context.code_for(node) if code is None else code).split())


def qualified_sites(module: str, scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Scopes of a file (``Class.method``, ``<module>``) as project-wide qualified names."""
    return tuple(dict.fromkeys(f"{module}.{scope}" for scope in scopes))


def fingerprint(code: str, path: str, scope: str, snippet: str, occurrence: int) -> str:
    """Line-independent identity of a finding, for baselines and SARIF partialFingerprints."""
    raw = "\x1f".join((code, path, scope, snippet, str(occurrence)))
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _span(positions: Mapping[cst.CSTNode, CodeRange], node: cst.CSTNode) -> Span:
    code_range = positions[node]
    return Span(
        code_range.start.line,
        code_range.start.column + 1,
        code_range.end.line,
        code_range.end.column + 1,
    )


def _statement_line(
    positions: Mapping[cst.CSTNode, CodeRange], statement: cst.CSTNode | None, node: cst.CSTNode
) -> int | None:
    if statement is None or statement not in positions:
        return None
    outer, inner = positions[statement], positions[node]
    if (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and (
        inner.end.line,
        inner.end.column,
    ) <= (outer.end.line, outer.end.column):
        return outer.start.line
    return None


def _positioned_fix(positions: Mapping[cst.CSTNode, CodeRange], fix: NodeFix | None) -> Fix | None:
    if fix is None:
        return None
    edits = []
    for edit in fix.edits:
        span = _span(positions, edit.node)
        if edit.whole_lines:
            span = Span(span.line, 1, span.end_line + 1, 1)
        edits.append(Edit(span, edit.content))
    return Fix(fix.title, tuple(edits))


def lint_source(data: bytes, relpath: str, options: LintOptions, walker: Walker) -> FileResult:
    """Lint one file's bytes; never raises for problems in the file itself."""
    parsed = parse(data, relpath)
    if isinstance(parsed, FileError):  # as certain as any result of these bytes: cached too
        return FileResult(relpath, errors=(parsed,), digest=content_digest(data))
    info = file_info(relpath, options)
    imports = ImportTable(info.module_name, info.is_package)
    _collect_imports(parsed.module, imports)
    context = RuleContext(info, parsed.module, options.settings, imports)
    collector = FactCollector(context, parsed.text, parsed.tree)
    flow = FlowCollector(context, parsed.text)
    visitors: list[Visitor] = [collector, flow] if options.collect_facts else []
    # A rule that fails (constructing, visiting, or with a node positions cannot place) costs
    # only its own results on this file: one internal error, the other rules' results stand.
    failures: dict[str, FileError] = {}
    for rule_class in options.rules:
        try:
            visitors.append(rule_class(context))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken rule must not take the file down
            failures[rule_class.code] = rule_failure(relpath, rule_class.code, exc)
    for error in walker.walk(context, visitors):
        failures.setdefault(error.rule, error)
    diagnostics: list[Diagnostic] = []
    candidates: list[Candidate] = []
    seen: Counter[tuple[str, str, str]] = Counter()

    def identity(code: str, scope: str, node: cst.CSTNode) -> str:
        snippet = _snippet(context, node, codes.get(id(node)))
        key = (code, scope, snippet)
        occurrence = seen[key]
        seen[key] += 1
        return fingerprint(code, relpath, scope, snippet, occurrence)

    reports = [r for r in context.reports if r.rule.code not in failures]
    pending_candidates = [p for p in context.candidates if p.rule.code not in failures]
    wanted: list[cst.CSTNode] = [p.node for p in pending_candidates]
    for report in reports:
        wanted.append(report.node)
        if report.statement is not None:
            wanted.append(report.statement)
        if report.fix is not None:
            wanted.extend(edit.node for edit in report.fix.edits)
        wanted.extend(note.node for note in report.related)
    positions, codes = positions_and_code(
        parsed.module, wanted, parsed.text, context.top_of, parsed.tree
    )
    for report in reports:
        rule = report.rule
        try:
            diagnostic = Diagnostic(
                path=relpath,
                span=_span(positions, report.node),
                code=rule.code,
                name=rule.name,
                severity=rule.severity,
                message=report.message,
                fingerprint=identity(rule.code, report.scope, report.node),
                fix=_positioned_fix(positions, report.fix),
                statement_line=_statement_line(positions, report.statement, report.node),
                related=tuple(
                    Related(relpath, span.line, span.column, note.note)
                    for note in report.related
                    for span in (_span(positions, note.node),)
                ),
                sites=qualified_sites(info.module_name, report.sites),
                causes=report.causes,
                cause_note=report.cause_note,
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a reported node that is not in this tree
            failures.setdefault(rule.code, rule_failure(relpath, rule.code, exc))
            continue
        diagnostics.append(diagnostic)
    for pending in pending_candidates:
        code = pending.rule.code
        try:
            candidate = Candidate(
                code=code,
                path=relpath,
                span=_span(positions, pending.node),
                fingerprint=identity(code, pending.scope, pending.node),
                payload=pending.payload,
                sites=qualified_sites(info.module_name, pending.sites),
            )
        except Exception as exc:  # noqa: BLE001 - as for reports
            failures.setdefault(code, rule_failure(relpath, code, exc))
            continue
        candidates.append(candidate)
    return FileResult(
        relpath,
        diagnostics=tuple(d for d in diagnostics if d.code not in failures),
        errors=tuple(failures.values()),
        candidates=tuple(c for c in candidates if c.code not in failures),
        facts=(
            PackedFacts.pack(collector.facts(), flow.facts(), options.codec, options.shape_fields)
            if options.collect_facts
            else None
        ),
        suppressions=find_suppressions(parsed.text),
        digest=content_digest(data),
    )


def read_source(path: Path, relpath: str) -> bytes | FileResult:
    """A file's bytes, or a FileResult carrying the reason it cannot be read."""
    try:
        if not stat.S_ISREG(path.stat().st_mode) and not path.is_dir():
            reason = "not a regular file (a FIFO, socket or device): not read"
            return FileResult(relpath, errors=(FileError(relpath, reason, kind="io"),))
        return path.read_bytes()
    except IsADirectoryError:
        return FileResult(relpath, errors=(FileError(relpath, "is a directory", kind="io"),))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return FileResult(
            relpath, errors=(FileError(relpath, f"cannot read: {reason}", kind="io"),)
        )


def lint_guarded(data: bytes, relpath: str, options: LintOptions, walker: Walker) -> FileResult:
    """``lint_source`` with the per-file catch-all: an engine bug is reported, not raised."""
    try:
        return lint_source(data, relpath, options, walker)
    except RecursionError:
        error = FileError(relpath, "too deeply nested to analyse (RecursionError)", kind="syntax")
    except MemoryError:  # workers run under a memory ceiling (isolint.worker.limit_memory)
        message = memory_limit_message(options.settings.memory_limit)
        error = FileError(relpath, message, kind="memory")
    except Exception as exc:  # noqa: BLE001 - the one per-file catch-all: report, never crash the run
        error = FileError(relpath, f"internal error: {type(exc).__name__}: {exc}", kind="internal")
    return FileResult(relpath, errors=(error,))


def in_big_stack(function: Callable[[], T]) -> T:
    """Run ``function`` in a thread with a large C stack and a matching recursion limit."""
    previous_size = threading.stack_size()
    previous_limit = sys.getrecursionlimit()
    threading.stack_size(_THREAD_STACK_BYTES)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            sys.setrecursionlimit(max(previous_limit, _RECURSION_LIMIT))
            future: Future[T] = pool.submit(function)
            return future.result()
    finally:
        threading.stack_size(previous_size)
        sys.setrecursionlimit(previous_limit)


Source = tuple[str, "bytes | str"]  # (relpath, the source itself, or the file to read it from)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lint_item(item: Source, options: LintOptions, walker: Walker) -> FileResult:
    """Lint one source; a path is read here, so the parent never holds every file's bytes."""
    relpath, source = item
    if isinstance(source, str):
        data = read_source(Path(source), relpath)
        if isinstance(data, FileResult):
            return data
        source = data
    return lint_guarded(source, relpath, options, walker)


def lint_many(
    items: Sequence[Source],
    options: LintOptions,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Lint sources in this process; ``on_result`` sees each result as soon as it is done."""

    def work() -> list[FileResult]:
        walker = Walker()
        results: list[FileResult] = []
        for item in items:
            result = lint_item(item, options, walker)
            if on_result is not None:
                on_result(result)
            results.append(result)
        return results

    return in_big_stack(work)


def relative_posix(path: Path, root: Path) -> str:
    """POSIX path relative to the project root (``..`` segments for paths outside it)."""
    return Path(os.path.relpath(path, root)).as_posix()
