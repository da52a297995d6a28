"""Findings a change causes in other files: the project linted with the given files as they are
and as committed (git ``HEAD``); what only the new version has elsewhere is reported too.

A finding of an unchanged file that appears only when the given files take their new content is
caused by that content: nothing else differs between the two runs. So it is reported, marked
with the changed files, while findings that file had before the change are not (pre-commit
judges the change, not the project). Both runs read the other files from the content cache.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from isolint.check import CheckRequest
from isolint.diagnostics import Diagnostic, FileResult, Related, RunResult

NOT_IN_GIT = (
    "--include-dependents: {root} is not in a git work tree with git available: findings in "
    "files other than the given ones are not reported"
)
_SHOWN_NAMES = 3


def committed_versions(root: Path, relpaths: Sequence[str]) -> dict[str, bytes | None] | None:
    """The ``HEAD`` content of each project-relative path (None: not in ``HEAD``), or None when
    ``root`` is not in a git work tree (or git is missing)."""
    real_root = Path(os.path.realpath(root))
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=real_root,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if top.returncode != 0:
        return None
    toplevel = Path(os.path.realpath(os.fsdecode(top.stdout.strip())))
    names: dict[str, str] = {}
    for relpath in relpaths:
        inside = os.path.relpath(real_root / relpath, toplevel).replace(os.sep, "/")
        if "\n" not in inside and not inside.startswith("../"):
            names[relpath] = inside
    versions: dict[str, bytes | None] = {relpath: None for relpath in relpaths}
    if not names:
        return versions
    batch = "".join(f"HEAD:{inside}\n" for inside in names.values()).encode(
        "utf-8", "surrogateescape"
    )
    try:
        out = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=toplevel,
            input=batch,
            capture_output=True,
            check=False,
        ).stdout
    except OSError:
        return None
    position = 0
    for relpath in names:  # one answer per request line, in order
        end = out.find(b"\n", position)
        if end < 0:
            break
        header = out[position:end].split()
        position = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            versions[relpath] = out[position : position + size]
            position += size + 1
        elif len(header) == 3 and header[2:] != [b"missing"]:
            position += int(header[2]) + 1  # not a blob (a submodule, a directory): skip it
    return versions


def _because(diagnostic: Diagnostic, changed: Sequence[str]) -> tuple[str, ...]:
    """The changed files a finding points at (its related locations), else all of them."""
    named = tuple(dict.fromkeys(r.path for r in diagnostic.related if r.path in changed))
    return named or tuple(changed)


def _mark(diagnostic: Diagnostic, changed: Sequence[str]) -> Diagnostic:
    causes = _because(diagnostic, changed)
    shown = ", ".join(causes[:_SHOWN_NAMES])
    if len(causes) > _SHOWN_NAMES:
        shown += f" and {len(causes) - _SHOWN_NAMES} more"
    return dataclasses.replace(
        diagnostic,
        message=f"{diagnostic.message} (reported because {shown} changed)",
        related=(
            *diagnostic.related,
            *(Related(path, 1, 1, "changed file that causes this finding") for path in causes),
        ),
    )


def run_with_dependents(
    request: CheckRequest, run: Callable[[CheckRequest], RunResult]
) -> RunResult:
    """Findings of the given files (``request.files``) plus those the change causes elsewhere.

    ``run`` is ``isolint.check.run_check`` (a parameter so callers can wrap it).
    """
    changed = [f.relpath for f in request.files]
    if not request.context_files:  # no project beyond the given files: nothing else to judge
        return run(request)
    project = (*request.files, *request.context_files)
    whole = dataclasses.replace(request, files=project, context_files=())
    now = run(whole)
    committed = committed_versions(request.root, changed)
    if committed is None:
        kept = _in_changed(now, changed)
        warning = NOT_IN_GIT.format(root=request.root)
        return dataclasses.replace(kept, warnings=(*kept.warnings, warning))
    overrides = dict(request.overrides)
    differing: dict[str, bytes | None] = {}
    for file in request.files:
        current = request.source(file)
        if isinstance(current, FileResult) or committed[file.relpath] != current:
            differing[file.relpath] = committed[file.relpath]
    if not differing:
        return _in_changed(now, changed)
    before = run(
        dataclasses.replace(
            whole,
            files=tuple(f for f in project if differing.get(f.relpath, b"") is not None),
            overrides=tuple(
                {
                    **overrides,
                    **{path: data for path, data in differing.items() if data is not None},
                }.items()
            ),
            progress=False,
        )
    )
    known = {(d.path, d.code, d.fingerprint) for d in before.diagnostics}
    caused = [
        _mark(d, list(differing))
        for d in now.diagnostics
        if d.path not in changed and (d.path, d.code, d.fingerprint) not in known
    ]
    known_errors = {(e.path, e.message) for e in before.errors}
    new_errors = [
        e for e in now.errors if e.path not in changed and (e.path, e.message) not in known_errors
    ]
    kept = _in_changed(now, changed)
    return dataclasses.replace(
        kept,
        diagnostics=tuple(sorted((*kept.diagnostics, *caused), key=Diagnostic.sort_key)),
        errors=tuple(sorted((*kept.errors, *new_errors), key=lambda e: e.sort_key())),
    )


def _in_changed(result: RunResult, changed: Sequence[str]) -> RunResult:
    """``result`` restricted to the given files (and project-wide errors such as a failing
    rule's ``<project>`` entry)."""
    given = set(changed)
    return dataclasses.replace(
        result,
        files=len(given),
        diagnostics=tuple(d for d in result.diagnostics if d.path in given),
        errors=tuple(e for e in result.errors if e.path in given or e.path.startswith("<")),
    )
