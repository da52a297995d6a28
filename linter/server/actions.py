"""Code actions: a rule's fix, an ignore comment for one finding, fix all in a file."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from isolint.diagnostics import Diagnostic
from isolint.fixes import fix_source
from isolint.server.convert import Positions, split_lines
from isolint.suppressions import find_suppressions

FIX_ALL = "source.fixAll.isolint"
_IGNORE_CODES = re.compile(r"(#\s*isolint:\s*ignore\[)([^\]]*)(\])", re.IGNORECASE)


def fixed_text(path: str, text: str, diagnostics: Sequence[Diagnostic]) -> str | None:
    """The text with the diagnostics' fixes applied, checked as ``--fix`` checks them."""
    outcome = fix_source(path, text.encode("utf-8"), diagnostics)
    if outcome.fixed is None:
        return None
    return outcome.fixed.decode("utf-8")


def minimal_edit(old: str, new: str, positions: Positions) -> types.TextEdit:
    """One edit replacing the lines that differ between ``old`` and ``new``."""
    before, after = split_lines(old), split_lines(new)
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]
    ):
        suffix += 1
    start = types.Position(line=prefix, character=0)
    end_index = len(before) - suffix
    if end_index == len(before) and before and not before[-1].endswith(("\n", "\r")):
        end = positions.position(len(before), len(before[-1]) + 1)  # end of the last line
    else:
        end = types.Position(line=end_index, character=0)
    return types.TextEdit(
        range=types.Range(start, end), new_text="".join(after[prefix : len(after) - suffix])
    )


def ignore_text(text: str, diagnostic: Diagnostic) -> str | None:
    """The text with ``# isolint: ignore[CODE]`` on the finding's line (or its statement's first
    line, when the finding's line cannot hold a comment), or None if neither can."""
    lines = split_lines(text)
    code = diagnostic.code
    candidates = dict.fromkeys((diagnostic.span.line, diagnostic.statement_line or 0))
    for number in candidates:
        if not 1 <= number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = _IGNORE_CODES.search(body)
        if match is not None:
            codes = [c.strip() for c in match.group(2).split(",") if c.strip()]
            body = body[: match.start(2)] + ", ".join([*codes, code]) + body[match.end(2) :]
        else:
            body = f"{body.rstrip()}  # isolint: ignore[{code}]"
        new = "".join([*lines[: number - 1], body + ending, *lines[number:]])
        found = find_suppressions(new).comments
        if any(c.line == number and c.covers(code) for c in found):
            return new
    return None


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _edit(uri: str, edit: types.TextEdit, version: int | None) -> types.WorkspaceEdit:
    if version is None:
        return types.WorkspaceEdit(changes={uri: [edit]})
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=document, edits=[edit])]
    )


def code_actions(
    uri: str,
    path: str,
    text: str,
    version: int | None,
    positions: Positions,
    shown: Sequence[tuple[types.Diagnostic, Diagnostic]],
    wanted: types.Range,
    only: Sequence[str] | None,
) -> list[types.CodeAction]:
    """Quick fixes for the findings touching ``wanted``, then fix-all for the whole file."""
    actions: list[types.CodeAction] = []
    quickfix = types.CodeActionKind.QuickFix.value
    for lsp, diagnostic in shown:
        if not _touches(lsp.range, wanted) or not _wanted(quickfix, only):
            continue
        if diagnostic.fix is not None:
            new = fixed_text(path, text, [diagnostic])
            if new is not None:
                actions.append(
                    types.CodeAction(
                        title=f"{diagnostic.fix.title} ({diagnostic.code})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        edit=_edit(uri, minimal_edit(text, new, positions), version),
                        is_preferred=True,
                    )
                )
        ignored = ignore_text(text, diagnostic)
        if ignored is not None:
            actions.append(
                types.CodeAction(
                    title=f"Ignore {diagnostic.code} on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp],
                    edit=_edit(uri, minimal_edit(text, ignored, positions), version),
                )
            )
    fixable = [d for _, d in shown if d.fix is not None]
    if fixable and _wanted(FIX_ALL, only):
        new = fixed_text(path, text, fixable)
        if new is not None:
            actions.append(
                types.CodeAction(
                    title="Fix all isolint findings in this file",
                    kind=FIX_ALL,
                    edit=_edit(uri, minimal_edit(text, new, positions), version),
                )
            )
    return actions


def _touches(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)
