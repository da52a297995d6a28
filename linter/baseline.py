"""The baseline: known findings keyed by fingerprint, so CI fails only on regressions."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from isolint.diagnostics import Diagnostic
from isolint.errors import UsageError
from isolint.output import write_output

BASELINE_FILE = ".isolint-baseline.json"
_FORMAT = 1
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BaselineEntry:
    """One known finding."""

    fingerprint: str
    code: str
    path: str
    message: str

    def sort_key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.fingerprint)


@dataclass(frozen=True)
class Comparison:
    """Current findings split against a baseline."""

    new: tuple[Diagnostic, ...]
    known: tuple[Diagnostic, ...]
    fixed: tuple[BaselineEntry, ...]


def entry_for(diagnostic: Diagnostic) -> BaselineEntry:
    return BaselineEntry(
        diagnostic.fingerprint, diagnostic.code, diagnostic.path, diagnostic.message
    )


def render(entries: Sequence[BaselineEntry]) -> str:
    """Sorted, stable, one finding per block: diff-friendly (no line numbers)."""
    document = {
        "tool": "isolint",
        "format": _FORMAT,
        "findings": [
            {"fingerprint": e.fingerprint, "code": e.code, "path": e.path, "message": e.message}
            for e in sorted(entries, key=BaselineEntry.sort_key)
        ],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # Paths from non-UTF-8 file names hold lone surrogates: JSON's \uXXXX escapes carry them
    # (json.loads gives the same string back), raw they cannot be encoded as UTF-8.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def save(path: Path, entries: Sequence[BaselineEntry]) -> None:
    """Write the baseline; an unwritable path is a UsageError naming it."""
    write_output(path, render(entries).encode("utf-8"), "the baseline")


def load(path: Path) -> list[BaselineEntry]:
    """Read a baseline; a missing or malformed file is a usage error naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: baseline file does not exist (create it: isolint baseline)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read baseline: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: cannot read baseline: JSON nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise UsageError(f"{path}: not an isolint baseline (no 'findings' list)")
    entries = []
    for item in document["findings"]:
        try:
            entries.append(
                BaselineEntry(
                    str(item["fingerprint"]),
                    str(item["code"]),
                    str(item["path"]),
                    str(item.get("message", "")),
                )
            )
        except (KeyError, TypeError):
            raise UsageError(f"{path}: malformed baseline entry {item!r}") from None
    return entries


def compare(diagnostics: Sequence[Diagnostic], entries: Sequence[BaselineEntry]) -> Comparison:
    """Match findings to entries by fingerprint (as a multiset: repeats count)."""
    available = Counter(e.fingerprint for e in entries)
    new: list[Diagnostic] = []
    known: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if available[diagnostic.fingerprint] > 0:
            available[diagnostic.fingerprint] -= 1
            known.append(diagnostic)
        else:
            new.append(diagnostic)
    fixed: list[BaselineEntry] = []
    for entry in sorted(entries, key=BaselineEntry.sort_key):
        if available[entry.fingerprint] > 0:
            available[entry.fingerprint] -= 1
            fixed.append(entry)
    return Comparison(tuple(new), tuple(known), tuple(fixed))


def prune(
    entries: Sequence[BaselineEntry], diagnostics: Sequence[Diagnostic]
) -> list[BaselineEntry]:
    """Drop fixed entries only; never add (a ratchet)."""
    fixed = Counter(e.fingerprint for e in compare(diagnostics, entries).fixed)
    kept = []
    for entry in sorted(entries, key=BaselineEntry.sort_key):
        if fixed[entry.fingerprint] > 0:
            fixed[entry.fingerprint] -= 1
            continue
        kept.append(entry)
    return kept
