"""Printed paths: project-relative paths (identities) shown relative to where the user stands."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from isolint.diagnostics import ENTRY_POINT_NOTE, Diagnostic, FileError, RunResult


def display_path(absolute: str, cwd: str) -> str:
    """A path as printed: POSIX and relative to ``cwd`` (``../svc_b/app.py`` for a sibling), so
    that it opens from where the user stands; absolute only where no relative path exists."""
    try:
        return Path(os.path.relpath(absolute, cwd)).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows
        return absolute


def displayer(root: Path, cwd: str, given: Mapping[str, str]) -> Callable[[str], str]:
    """relpath of the project at ``root`` -> printed path; ``given`` maps relpaths to the path as
    the user gave it (stdin's ``--stdin-filename``)."""
    top = os.path.abspath(root)

    def show(relpath: str) -> str:
        if relpath in given:
            return given[relpath]
        if relpath.startswith("<"):  # <project>: a whole-project error
            return relpath
        return display_path(os.path.join(top, relpath), cwd)

    return show


def _diagnostic(d: Diagnostic, show: Callable[[str], str]) -> Diagnostic:
    related = tuple(dataclasses.replace(r, path=show(r.path)) for r in d.related)
    return dataclasses.replace(
        d, path=show(d.path), message=_message(d, show), related=related
    )


def _message(d: Diagnostic, show: Callable[[str], str]) -> str:
    """The message with its request path's entry point (``reached from POST /x (app/routes.py:15)
    via ...``, isolint.reachability) shown like every other path: relative to the cwd."""
    for note in d.related:
        if note.note.startswith(ENTRY_POINT_NOTE):
            placed = f" ({note.path}:{note.line}) via "
            before, found, after = d.message.rpartition(placed)
            if found:
                return f"{before} ({show(note.path)}:{note.line}) via {after}"
    return d.message


def relocate(result: RunResult, show: Callable[[str], str]) -> RunResult:
    """Every path of ``result`` as printed; fingerprints (and the baseline) keep their
    project-relative identity."""
    return dataclasses.replace(
        result,
        diagnostics=tuple(_diagnostic(d, show) for d in result.diagnostics),
        known=tuple(_diagnostic(d, show) for d in result.known),
        errors=tuple(dataclasses.replace(e, path=show(e.path)) for e in result.errors),
    )


def merge(results: Sequence[RunResult]) -> RunResult:
    """The results of several projects (nearest configuration per file) as one run."""
    if len(results) == 1:
        return results[0]
    return RunResult(
        files=sum(r.files for r in results),
        diagnostics=tuple(
            sorted((d for r in results for d in r.diagnostics), key=Diagnostic.sort_key)
        ),
        errors=tuple(sorted((e for r in results for e in r.errors), key=FileError.sort_key)),
        suppressed=sum(r.suppressed for r in results),
        known=tuple(sorted((d for r in results for d in r.known), key=Diagnostic.sort_key)),
        fixed_in_baseline=tuple(f for r in results for f in r.fixed_in_baseline),
        fixes_applied=sum(r.fixes_applied for r in results),
        warnings=tuple(dict.fromkeys(w for r in results for w in r.warnings)),
    )
