"""Positions of a few nodes from one code generation pass (no full PositionProvider).

LibCST's PositionProvider records a range for every node (about 1.7x a parse); generating the
code alone costs about 0.2x. This codegen state tracks line and column cheaply and records
ranges only for the nodes asked for (plus the child nodes their syntactic range is hoisted
from), with the same semantics as PositionProvider.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """Syntactic ranges (as PositionProvider gives them) of ``nodes`` in ``module``."""
    wanted = list(nodes)
    if not wanted:
        return {}
    state = _TargetedState(module, wanted)
    module._codegen(state)
    return {node: state.computed[id(node)] for node in wanted if id(node) in state.computed}
