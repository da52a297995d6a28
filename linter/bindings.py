"""What a fix may change: the import bindings of a source, and the ones a set of edits intends.

A fix is spliced into the text by position. If a position is off (LibCST once dropped form
feeds), the result can still parse and yet import something else (``as legacyy``). So the
intent of each edit is derived without the splice, from CPython's own positions and the edit's
content, and the fixed text must bind exactly the intended names to exactly the intended
targets:

- an edit covering whole import statements (or none) removes their bindings and adds those of
  its content (parsed on its own);
- an edit inside an import statement must cover exactly a relative-import dot, the module of a
  ``from`` import or the dotted name of an ``import`` alias, as CPython places them; the
  binding is that statement's with the part replaced by the content;
- any other overlap with an import statement is misaligned, and the fix is refused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from isolint.diagnostics import Edit

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WHITESPACE = re.compile(r"[ \t\f\\\r\n]+")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_Import = ast.Import | ast.ImportFrom


@dataclass(frozen=True, order=True)
class Binding:
    """One name bound by an import: in ``scope`` (enclosing defs/classes), ``local`` -> ``target``.

    ``target`` is the imported qualified name as written (``..pkg.mod.Name`` for a relative
    import); ``import a.b`` binds ``a`` to ``a``.
    """

    scope: tuple[str, ...]
    local: str
    target: str


class Misaligned(ValueError):
    """An edit cuts into an import statement somewhere other than a whole name."""


@dataclass(frozen=True)
class _Statement:
    node: _Import
    scope: tuple[str, ...]
    start: int
    end: int


class _Source:
    """A parsed source with CPython's positions as character offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = ast.parse(text)
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        self.statements: list[_Statement] = []
        self.scopes: list[tuple[int, int, tuple[str, ...]]] = []
        self._collect(self.tree.body, ())

    def offset(self, line: int, utf8_column: int) -> int:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        prefix = self.text[start:end].encode("utf-8")[:utf8_column]
        return start + len(prefix.decode("utf-8", errors="ignore"))

    def span_offset(self, line: int, column: int) -> int:
        """A 1-based (line, character column) position as an offset, clamped to the text."""
        if line - 1 >= len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + column - 1, len(self.text))

    def _collect(self, body: Sequence[ast.stmt], scope: tuple[str, ...]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                start = self.offset(node.lineno, node.col_offset)
                end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
                self.statements.append(_Statement(node, scope, start, end))
            inner = scope + (node.name,) if isinstance(node, _SCOPES) else scope
            if isinstance(node, _SCOPES):
                start = self.offset(node.lineno, node.col_offset)
                end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
                self.scopes.append((start, end, inner))
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    blocks = [c for c in children if isinstance(c, ast.stmt)]
                    self._collect(blocks, inner)
                    for child in children:
                        if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                            self._collect(child.body, inner)

    def scope_at(self, offset: int) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for start, end, scope in self.scopes:
            if start < offset < end and len(scope) > len(best):
                best = scope
        return best


def _targets(
    node: _Import, module: str | None = None, level: int | None = None
) -> list[tuple[str, str]]:
    """(local, target) pairs bound by one import statement, optionally with another module."""
    if isinstance(node, ast.Import):
        return [
            (
                alias.asname or alias.name.split(".")[0],
                alias.name if alias.asname else alias.name.split(".")[0],
            )
            for alias in node.names
        ]
    written = node.module if module is None else module
    dots = "." * (node.level if level is None else level)
    prefix = f"{dots}{written}." if written else dots
    return [(alias.asname or alias.name, prefix + alias.name) for alias in node.names]


def bindings(text: str) -> list[Binding]:
    """Every import binding of ``text``, sorted. Raises SyntaxError/ValueError as ast does."""
    source = _Source(text)
    return sorted(
        Binding(s.scope, local, target)
        for s in source.statements
        for local, target in _targets(s.node)
    )


def _content_bindings(content: str, scope: tuple[str, ...]) -> list[Binding]:
    """Bindings of an edit's content parsed on its own (indentation of later lines ignored)."""
    if not content.strip():
        return []
    for candidate in (content, "\n".join(line.strip() for line in content.splitlines())):
        try:
            tree = ast.parse(candidate)
        except (SyntaxError, ValueError):
            continue
        found: list[Binding] = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.extend(Binding(scope, local, target) for local, target in _targets(node))
        return found
    return []


def _inner_rewrite(
    source: _Source, statement: _Statement, edits: Sequence[tuple[int, int, str]]
) -> list[Binding]:
    """The bindings of ``statement`` after ``edits`` that lie inside it replace whole names."""
    node = statement.node
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        replaced = list(names)
        for begin, end, content in edits:
            written = _WHITESPACE.sub("", source.text[begin:end])
            if written not in names:
                raise Misaligned(written)
            replaced[names.index(written)] = content.strip()
        rewritten = ast.Import(
            names=[ast.alias(name=new, asname=a.asname) for new, a in zip(replaced, node.names)]
        )
        return [Binding(statement.scope, l, t) for l, t in _targets(rewritten)]
    level, module = node.level, node.module or ""
    new_prefix: list[str] = []
    module_replaced = False
    for begin, end, content in edits:
        written = _WHITESPACE.sub("", source.text[begin:end])
        if written and set(written) == {"."} and len(written) <= level:
            level -= len(written)
            new_prefix.append(content.strip())
        elif module and written == module and not module_replaced:
            module_replaced = True
            module = content.strip()
        else:
            raise Misaligned(written)
    new_module = "".join(new_prefix) + module
    return [
        Binding(statement.scope, local, target)
        for local, target in _targets(node, new_module, level)
    ]


def intended(text: str, edits: Sequence[Edit]) -> list[Binding]:
    """The bindings ``text`` should have once ``edits`` are applied, derived without applying
    them. Raises ``Misaligned`` for an edit that cuts into an import statement."""
    source = _Source(text)
    removed: set[int] = set()
    added: list[Binding] = []
    inner: dict[int, list[tuple[int, int, str]]] = {}
    for edit in edits:
        begin = source.span_offset(edit.span.line, edit.span.column)
        end = source.span_offset(edit.span.end_line, edit.span.end_column)
        covered: list[int] = []
        inside: list[int] = []
        for index, statement in enumerate(source.statements):
            if not (statement.start < end and begin < statement.end):
                continue
            if begin <= statement.start and statement.end <= end:
                covered.append(index)
            elif statement.start <= begin and end <= statement.end:
                inside.append(index)
            else:
                raise Misaligned(source.text[begin:end])
        if inside:
            if covered or len(inside) > 1:
                raise Misaligned(source.text[begin:end])
            inner.setdefault(inside[0], []).append((begin, end, edit.content))
            continue
        removed.update(covered)
        scope = source.statements[covered[0]].scope if covered else source.scope_at(begin)
        added.extend(_content_bindings(edit.content, scope))
    out = added
    for index, statement in enumerate(source.statements):
        if index in removed and index in inner:
            raise Misaligned(source.text[statement.start : statement.end])
        if index in removed:
            continue
        if index in inner:
            out.extend(_inner_rewrite(source, statement, sorted(inner[index])))
        else:
            out.extend(Binding(statement.scope, *pair) for pair in _targets(statement.node))
    return sorted(out)
