"""Positions of a few nodes from one code generation pass (no full PositionProvider).

LibCST's PositionProvider records a range for every node (about 1.7x a parse); generating the
code alone costs about 0.2x. This codegen state tracks line and column cheaply and records
ranges only for the nodes asked for (plus the child nodes their syntactic range is hoisted
from), with the same semantics as PositionProvider.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_NEWLINES = re.compile(r"\r\n?|\n")


class _TargetedState(CodegenState):
    """A codegen state that knows where it is and records ranges of selected nodes."""

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1
        self.column = 0
        self.wanted: set[int] = {id(node) for node in targets}
        self.computed: dict[int, CodeRange] = {}
        self.starts: dict[int, CodePosition] = {}

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def _advance(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = _NEWLINES.split(value)
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts[id(node)] = CodePosition(self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.computed:
            start = self.starts.pop(key, CodePosition(self.line, self.column))
            self.computed[key] = CodeRange(start, CodePosition(self.line, self.column))

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        if id(node) not in self.wanted:
            yield
            return
        for hoisted in (start_node, end_node):
            if hoisted is not None:
                self.wanted.add(id(hoisted))
        start = CodePosition(self.line, self.column)
        try:
            yield
        finally:
            end = CodePosition(self.line, self.column)
            if start_node is not None and id(start_node) in self.computed:
                start = self.computed[id(start_node)].start
            if end_node is not None and id(end_node) in self.computed:
                end = self.computed[id(end_node)].end
            self.computed[id(node)] = CodeRange(start, end)


Unit = tuple[int, int]


def positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    text: str | None = None,
    units: Mapping[int, Unit] | None = None,
) -> dict[cst.CSTNode, CodeRange]:
    """Syntactic ranges (as PositionProvider gives them) of ``nodes`` in ``module``.

    With the source ``text`` and ``units`` (node id -> (top-level statement index, index of the
    statement in that class's body or -1), recorded by the walk), only the statements holding
    the nodes are generated, each starting at the line CPython's ``ast`` gives for it; otherwise
    (or if anything does not line up) the whole module is generated.
    """
    wanted = list(nodes)
    if not wanted:
        return {}
    groups: dict[Unit, list[cst.CSTNode]] = {}
    for node in wanted:
        unit = units.get(id(node)) if units is not None else None
        groups.setdefault(unit if unit is not None else (-1, -1), []).append(node)
    starts = (
        _unit_lines(module, text, groups) if text is not None and (-1, -1) not in groups else None
    )
    computed: dict[int, CodeRange] = {}
    if starts is None:
        state = _TargetedState(module, wanted)
        module._codegen(state)
        computed = state.computed
    else:
        for (top, member), group in groups.items():
            state = _TargetedState(module, group)
            statement: cst.CSTNode = module.body[top]
            if member >= 0:
                assert isinstance(statement, cst.ClassDef)
                assert isinstance(statement.body, cst.IndentedBlock)
                block = statement.body
                indent = block.indent if block.indent is not None else module.default_indent
                state.indent_tokens.append(indent)
                statement = block.body[member]
            state.line = starts[(top, member)]
            statement._codegen(state)
            computed.update(state.computed)
    return {node: computed[id(node)] for node in wanted if id(node) in computed}


def _unit_lines(module: cst.Module, text: str, units: Iterable[Unit]) -> dict[Unit, int] | None:
    """The line where each unit's code (with its leading lines) begins, from CPython's ``ast``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    top_lines = _block_lines(module.body, tree.body)
    if top_lines is None:
        return None
    out: dict[Unit, int] = {}
    members: dict[int, list[tuple[int, ast.stmt]] | None] = {}
    for top, member in units:
        if member < 0:
            out[(top, member)] = top_lines[top][0]
            continue
        statement = module.body[top]
        found = top_lines[top][1]
        if not isinstance(statement, cst.ClassDef) or not isinstance(
            statement.body, cst.IndentedBlock
        ):
            return None
        if not isinstance(found, ast.ClassDef):
            return None
        if top not in members:
            members[top] = _block_lines(statement.body.body, found.body)
        member_lines = members[top]
        if member_lines is None:
            return None
        out[(top, member)] = member_lines[member][0]
    return out


def _block_lines(
    statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement], found: Sequence[ast.stmt]
) -> list[tuple[int, ast.stmt]] | None:
    """Start line (leading lines included) and first ast node of each statement of a block."""
    lines: list[tuple[int, ast.stmt]] = []
    cursor = 0
    for statement in statements:
        if cursor >= len(found):
            return None
        first = found[cursor]
        line = first.lineno
        leading = len(getattr(statement, "leading_lines", ()))
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.decorators:
            decorators = getattr(first, "decorator_list", [])
            if not decorators:
                return None
            line = decorators[0].lineno
            leading += len(statement.decorators[0].leading_lines)
        lines.append((line - leading, first))
        cursor += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return lines if cursor == len(found) else None
