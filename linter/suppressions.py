"""Suppression comments: ``# isolint: ignore[CODES]``, ``# isolint: ignore``, ``# noqa: CODES``,
``# isolint: ignore-file``; found with the tokenizer, so strings never count."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

_IGNORE = re.compile(r"#\s*isolint:\s*ignore(?!-)(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_IGNORE_FILE = re.compile(r"#\s*isolint:\s*ignore-file\b", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
ALL_CODES = "*"
# What any ``_NOQA`` match naming an ISO code contains: ``# noqa: E501`` alone never needs the
# tokenizer (same case-insensitive letters as ``_NOQA``'s).
_MAYBE_ISO_NOQA = re.compile(r"noqa:[\s,a-z0-9]*iso", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    """One suppression comment: the codes (or prefixes) it names, ``("*",)`` for all."""

    line: int
    column: int
    codes: tuple[str, ...]
    text: str

    def covers(self, code: str) -> bool:
        return any(c == ALL_CODES or code.startswith(c) for c in self.codes)


@dataclass(frozen=True)
class FileSuppressions:
    """The suppressions of one file."""

    comments: tuple[Suppression, ...] = ()
    ignore_file: bool = False


def _codes(raw: str) -> tuple[str, ...]:
    return tuple(c.upper() for c in re.split(r"[\s,]+", raw.strip()) if c)


def find_suppressions(text: str) -> FileSuppressions:
    """Scan comments only (cheap exit when no marker appears anywhere in the text)."""
    lowered = text.lower()
    if "isolint:" not in lowered and not _MAYBE_ISO_NOQA.search(text):
        return FileSuppressions()  # the tokenizer costs a third of a parse: most files skip it
    comments: list[Suppression] = []
    ignore_file = False
    seen_code = False
    try:
        # newline=None: lone CR and CRLF end lines, as they do for the parser's line numbers
        tokens = list(tokenize.generate_tokens(io.StringIO(text, newline=None).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return FileSuppressions()
    for token in tokens:
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING):
            if token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                seen_code = True
            continue
        if token.type != tokenize.COMMENT:
            continue
        line, column = token.start
        if _IGNORE_FILE.search(token.string):
            if not seen_code:
                ignore_file = True
            continue
        match = _IGNORE.search(token.string)
        if match:
            raw = match.group("codes")
            codes = _codes(raw) if raw is not None else (ALL_CODES,)
            comments.append(Suppression(line, column + 1, codes or (ALL_CODES,), match.group(0)))
            continue
        match = _NOQA.search(token.string)
        if match:
            iso = tuple(c for c in _codes(match.group("codes")) if c.startswith("ISO"))
            if iso:
                comments.append(Suppression(line, column + 1, iso, match.group(0)))
    return FileSuppressions(tuple(comments), ignore_file)
