"""Read bytes -> decoded, parsed LibCST module exactly once, or a precise file error."""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from dataclasses import dataclass
from itertools import accumulate

import libcst as cst

from linter.diagnostics import FileError

# CPython's tokenizer refuses more than 200 nested brackets; LibCST's native parser can overflow
# the C stack long before it says so, so such files are checked with CPython first.
_MAX_BRACKET_DEPTH = 200
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_PARSER_PREFIX = re.compile(r"^(parser error: )?(error at \d+:\d+: )?")
_DEPTH_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@dataclass(frozen=True)
class Parsed:
    """A parsed module and the text it came from."""

    module: cst.Module
    text: str
    encoding: str


def decode(data: bytes, path: str) -> tuple[str, str] | FileError:
    """Decode source bytes as Python does (BOM, coding cookie, else UTF-8)."""
    if b"\0" in data:
        offset = data.index(b"\0")
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return FileError(
            path, "source contains a NUL byte", line=line, column=column, kind="syntax"
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # detect_encoding also rejects undecodable bytes in the first two lines: say which byte
        encoding = "utf-8"
        message = exc.msg or ""
        if "encoding" in message and "invalid or missing" not in message:
            head = b"\n".join(data.removeprefix(codecs.BOM_UTF8).split(b"\n", 2)[:2])
            cookie = _COOKIE.search(head)
            if data.startswith(codecs.BOM_UTF8) and cookie is not None:
                message = f"encoding problem: {cookie.group(1).decode('ascii', 'replace')} with BOM"
            return FileError(path, f"cannot decode: {message}", line=exc.lineno, kind="decode")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        reason = f"invalid {encoding} byte 0x{data[exc.start]:02x} ({exc.reason})"
        return FileError(path, f"cannot decode: {reason}", line=line, column=col, kind="decode")
    except LookupError:
        return FileError(path, f"cannot decode: unknown encoding {encoding!r}", kind="decode")
    return text, encoding


def _too_deep(text: str, path: str) -> FileError | None:
    brackets = _NOT_BRACKETS.sub("", text)
    if len(brackets) <= _MAX_BRACKET_DEPTH * 2:
        return None
    if max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0) <= _MAX_BRACKET_DEPTH:
        return None
    try:  # brackets inside strings and comments count above; CPython has the last word
        ast.parse(text)
    except SyntaxError as exc:
        return FileError(
            path, f"syntax error: {exc.msg}", line=exc.lineno, column=exc.offset, kind="syntax"
        )
    except (RecursionError, MemoryError, ValueError) as exc:
        return FileError(path, f"too deeply nested to analyse: {type(exc).__name__}", kind="syntax")
    return None


def _syntax_error(text: str, path: str, exc: cst.ParserSyntaxError) -> FileError:
    """Prefer CPython's message and position; fall back to LibCST's for its parser gaps."""
    try:
        ast.parse(text)
    except SyntaxError as cpython:
        return FileError(
            path,
            f"syntax error: {cpython.msg}",
            line=cpython.lineno,
            column=cpython.offset,
            kind="syntax",
        )
    except (RecursionError, MemoryError, ValueError):
        pass
    message = exc.message.splitlines()[0] if exc.message else "invalid syntax"
    message = _PARSER_PREFIX.sub("", message)
    return FileError(
        path,
        f"syntax not supported by LibCST: {message}",
        line=exc.editor_line,
        column=exc.editor_column,
        kind="syntax",
    )


def parse(data: bytes, path: str) -> Parsed | FileError:
    """Decode and parse one file; every failure becomes a FileError, never an exception."""
    decoded = decode(data, path)
    if isinstance(decoded, FileError):
        return decoded
    text, encoding = decoded
    deep = _too_deep(text, path)
    if deep is not None:
        return deep
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        return _syntax_error(text, path, exc)
    except RecursionError:
        return FileError(path, "too deeply nested to analyse (RecursionError)", kind="syntax")
    except (ValueError, TypeError, MemoryError) as exc:
        return FileError(path, f"cannot parse: {type(exc).__name__}: {exc}", kind="syntax")
    return Parsed(module, text, encoding)
