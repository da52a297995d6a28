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

from isolint.diagnostics import FileError
from isolint.worker import peak_address_space, reached_memory_limit

# CPython's tokenizer refuses more than 200 nested brackets; LibCST's native parser can overflow
# the C stack long before it says so, so such files are rejected when CPython rejects them.
_MAX_BRACKET_DEPTH = 200
# LibCST's time and memory grow super-linearly with the depth of the syntax tree, and linearly
# with a literal's elements at about 55 us and 4 KB each (measured with LibCST 1.x on CPython
# 3.11): 3,000 chained `+`, unary `-`, calls, `lambda`s or conditional expressions take 2-7 s and
# up to 1.7 GB, 100,000 unary minus signs grow past 20 GB; at a depth of 1,000 the worst takes
# 0.4 s and 220 MB. A 100,000-element literal takes about 6 s and 0.4 GB. Real code stays below
# both: among 24,000 files (the standard library, a large site-packages, the audited backends)
# the deepest tree is 569 levels (generated sympy tables; hand-written code about 100 at most),
# the largest literal 23,498 elements (a generated lexer); CPython 3.12 itself refuses depths
# from about 3,000. Files above either limit are file errors, checked with CPython's parser
# (about 0.2x the time of LibCST's parse) before LibCST sees them.
MAX_TREE_DEPTH = 1_000
MAX_LITERAL_ELEMENTS = 100_000
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_PARSER_PREFIX = re.compile(r"^(parser error: )?(error at \d+:\d+: )?")
_LINE_ENDS = re.compile(r"\r\n?|\n")
_DEPTH_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@dataclass(frozen=True)
class Parsed:
    """A parsed module, the text it came from and CPython's tree of it (None if CPython cannot
    parse what LibCST can): rules and positions reuse that tree rather than parse again."""

    module: cst.Module
    text: str
    encoding: str
    tree: ast.Module | None = None


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


def _brackets_too_deep(text: str) -> bool:
    brackets = _NOT_BRACKETS.sub("", text)
    if len(brackets) <= _MAX_BRACKET_DEPTH * 2:
        return False
    return max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0) > _MAX_BRACKET_DEPTH


def _too_deep_error(path: str, line: int | None) -> FileError:
    reason = f"nested more than {MAX_TREE_DEPTH:,} levels deep"
    return FileError(path, f"too deeply nested to analyse: {reason}", line=line, kind="limit")


def _line_starts(text: str) -> list[int]:
    """The offset in ``text`` where each line begins, as CPython numbers lines (a line feed, a
    carriage return and line feed, or a lone carriage return ends a line)."""
    if "\r" in text:
        return [0, *(m.end() for m in _LINE_ENDS.finditer(text))]
    return [0, *accumulate(map((1).__add__, map(len, text.split("\n")[:-1])))]


def _small(node: ast.expr | ast.stmt, depth: int, lines: list[int] | None = None) -> bool:
    """Whether ``node`` (an expression or a statement), at ``depth``, provably holds neither a
    level past the depth limit nor a literal past the size limit, from its source span alone
    (so its subtree need not be walked).

    Along any path down the tree, each node but a ``Load``/operator leaf, an ``arguments``, a
    ``withitem`` without ``as``, an expression statement, a ``MatchValue`` or a parenthesis-less
    generator has characters of its own (a name, an operator, a bracket, a keyword), outside its
    children's spans, and those exceptions are each followed by a node that has: a subtree
    spanning ``n`` characters is at most ``2n + 1`` levels deep, and a literal of more than
    ``n`` elements spans more than ``n`` characters. A decorated definition's span starts at its
    first decorator (CPython's starts at ``def`` or ``class``). One-line spans are measured in
    UTF-8 bytes (at least the characters); a longer one from the start of its first line to its
    end, given ``lines`` (``_line_starts``).
    """
    end_line = node.end_lineno
    end_column = node.end_col_offset
    if end_line is None or end_column is None:
        return False
    line = node.lineno
    decorators: list[ast.expr] | None = getattr(node, "decorator_list", None)
    if decorators:
        line = decorators[0].lineno
    elif end_line == line:
        span = end_column - node.col_offset
        return span <= MAX_LITERAL_ELEMENTS and depth + 2 * span + 1 <= MAX_TREE_DEPTH
    if lines is None or end_line > len(lines):
        return False
    span = lines[end_line - 1] + end_column - lines[line - 1]
    return span <= MAX_LITERAL_ELEMENTS and depth + 2 * span + 1 <= MAX_TREE_DEPTH


def _too_big(tree: ast.AST, path: str, text: str | None = None) -> FileError | None:
    """The tree's depth and its widest literal, level by level (stops past the depth limit).

    Expressions and statements too short to reach either limit (``_small``; given the source
    ``text``, spans of several lines too) are not walked: the nodes that are walked are the
    same at every level that matters, in the same order."""
    lines = _line_starts(text) if text is not None else None
    depth = 0
    level: list[ast.AST] = [tree]
    while level:
        depth += 1
        if depth > MAX_TREE_DEPTH:
            line = next((n.lineno for n in level if isinstance(n, (ast.expr, ast.stmt))), None)
            return _too_deep_error(path, line)
        below: list[ast.AST] = []
        for node in level:
            if isinstance(node, (ast.expr, ast.stmt)) and _small(node, depth, lines):
                continue
            if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
                size = len(node.keys if isinstance(node, ast.Dict) else node.elts)
                if size > MAX_LITERAL_ELEMENTS:
                    reason = (
                        f"a literal of {size:,} elements (the limit is {MAX_LITERAL_ELEMENTS:,})"
                    )
                    message = f"too large to analyse: {reason}"
                    return FileError(path, message, line=node.lineno, kind="limit")
            below.extend(ast.iter_child_nodes(node))
        level = below
    return None


def _precheck(text: str, path: str) -> ast.Module | FileError | None:
    """CPython's parser first: what it cannot parse or LibCST cannot afford never reaches LibCST.

    A syntax error is left to LibCST (it may know newer syntax than the running CPython) unless
    the brackets nest too deeply for its native parser's stack. Returns CPython's tree (None if
    it cannot parse the text) or the file's error.
    """
    peak = peak_address_space()
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        if not _brackets_too_deep(text):
            return None
        return FileError(
            path, f"syntax error: {exc.msg}", line=exc.lineno, column=exc.offset, kind="syntax"
        )
    except (RecursionError, MemoryError) as exc:  # MemoryError: its parser's stack overflowed
        if isinstance(exc, MemoryError) and reached_memory_limit(peak):
            raise  # the worker's memory limit: the runner reports it
        # CPython 3.10-3.13 give up from about 3,000 levels: the same message on every version
        return _too_deep_error(path, None)
    except ValueError:
        return None  # LibCST reports it
    return _too_big(tree, path, text) or tree


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
    tree = _precheck(text, path)
    if isinstance(tree, FileError):
        return tree
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as exc:
        return _syntax_error(text, path, exc)
    except RecursionError:
        return FileError(path, "too deeply nested to analyse (RecursionError)", kind="syntax")
    except (ValueError, TypeError) as exc:  # a MemoryError is the memory limit: the runner's
        return FileError(path, f"cannot parse: {type(exc).__name__}: {exc}", kind="syntax")
    return Parsed(module, text, encoding, tree)
