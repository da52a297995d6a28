"""One finding per root cause: several rules' findings on one shared object become one.

A rule names the shared objects a finding is about in ``Diagnostic.causes`` (``pkg.mod.Class``).
A finding with an empty ``cause_note`` is a *root cause* (the state itself, e.g. a mutable class
attribute); one with a note is a *symptom* (e.g. a module-level instance of that class). Each
symptom whose causes meet a reported root cause's becomes a related location of it, with its
note; a symptom with no such root cause (that rule not selected, its finding suppressed or not
reached by a request) is reported as usual. This runs on the findings that are left to report,
so a suppression comment on one of them never hides the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from isolint.diagnostics import Diagnostic, Related


def fold_causes(
    diagnostics: Sequence[Diagnostic], unreached: Sequence[Diagnostic] = ()
) -> list[Diagnostic]:
    """``diagnostics`` with each symptom folded into the first root cause sharing a cause.

    ``unreached`` are symptoms no request was shown to reach (``isolint.reachability``): they
    are not findings, but one of a reported root cause is still where its state changes, so it
    becomes a related location of it like the others; the rest are dropped."""
    reported = len(diagnostics)
    diagnostics = [*diagnostics, *(d for d in unreached if d.cause_note)]
    roots: dict[str, int] = {}  # cause -> index of the first root-cause finding naming it
    ordered = sorted(range(len(diagnostics)), key=lambda i: diagnostics[i].sort_key())
    for index in ordered:
        diagnostic = diagnostics[index]
        if not diagnostic.cause_note and index < reported:
            for cause in diagnostic.causes:
                roots.setdefault(cause, index)
    if not roots:
        return list(diagnostics[:reported])
    folded: dict[int, list[Related]] = {}
    out: list[Diagnostic | None] = list(diagnostics)
    for index in ordered:
        diagnostic = diagnostics[index]
        if not diagnostic.cause_note:
            continue
        root = next((roots[c] for c in diagnostic.causes if c in roots), None)
        if root is None:
            continue
        span = diagnostic.span
        note = Related(diagnostic.path, span.line, span.column, diagnostic.cause_note)
        folded.setdefault(root, []).append(note)
        out[index] = None
    for root, notes in folded.items():
        base = diagnostics[root]
        out[root] = dataclasses.replace(base, related=(*base.related, *notes))
    return [d for d in out[:reported] if d is not None]
