"""Positions of a few nodes from one code generation pass (no full PositionProvider).

LibCST's PositionProvider records a range for every node (about 1.7x a parse); generating the
code alone costs about 0.2x. This codegen state tracks line and column cheaply and records
ranges only for the nodes asked for (plus the child nodes their syntactic range is hoisted
from), with the same semantics as PositionProvider.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from inspect import CO_VARKEYWORDS

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_NEWLINES = re.compile(r"\r\n?|\n")
_SKIPPABLE = frozenset(" \t\f\v\r\n")
# what record_syntactic_position gives for a node not asked for (nearly every expression):
# stateless and reusable, cheaper than making a generator context manager per node
_NOT_RECORDED: AbstractContextManager[None] = nullcontext()


class _Complete(Exception):
    """Every wanted range is known: the rest of the unit's code need not be generated."""


class _TargetedState(CodegenState):
    """A codegen state that knows where it is and records ranges of selected nodes.

    Generation stops (``_Complete``) as soon as every wanted range is known: a class's name
    does not cost the code of its body. The tokens are then a prefix of the unit's code.
    """

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1
        self.column = 0
        self.wanted: set[int] = {id(node) for node in targets}
        self.computed: dict[int, CodeRange] = {}
        self.starts: dict[int, CodePosition] = {}
        # wanted node id -> (first, end) index of its tokens, once its whole code is generated
        self.token_starts: dict[int, int] = {}
        self.token_spans: dict[int, tuple[int, int]] = {}

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
            self.token_starts.setdefault(id(node), len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            if key in self.token_starts and key not in self.token_spans:
                self.token_spans[key] = (self.token_starts[key], len(self.tokens))
            if key not in self.computed:
                start = self.starts.pop(key, CodePosition(self.line, self.column))
                self.computed[key] = CodeRange(start, CodePosition(self.line, self.column))
            # computed only ever holds wanted nodes, and a wanted node's range is final once it
            # is computed (no wanted node encloses the one just finished, or it would be pending)
            if len(self.computed) == len(self.wanted):
                raise _Complete

    def code(self, node: cst.CSTNode) -> str | None:
        """``node``'s code as ``Module.code_for_node`` gives it, taken from the tokens generated
        here, or None (not wholly generated, or a node whose code depends on what its parent
        passes to its codegen: a default comma, semicolon or ``elif``)."""
        span = self.token_spans.get(id(node))
        if span is None:
            return None
        impl = type(node)._codegen_impl.__code__
        if impl.co_argcount != 2 or impl.co_kwonlyargcount or impl.co_flags & CO_VARKEYWORDS:
            return None
        # generated in place, the code differs only by the indentation after its line breaks
        return "".join(self.tokens[span[0] : span[1]])

    def generate(self, node: cst.CSTNode) -> None:
        """Generate ``node``'s code up to the end of the last wanted node in it."""
        try:
            node._codegen(self)
        except _Complete:
            pass

    def record_syntactic_position(  # type: ignore[override]  # any context manager does
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> AbstractContextManager[None]:
        if id(node) not in self.wanted:
            return _NOT_RECORDED
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(
        self, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> Iterator[None]:
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


# The statement a node is in, as indices from the module's body down through the bodies of
# classes and functions: (3,) the fourth top-level statement, (3, 0, 2) the third statement of the
# first method of that class. A -1 ends the path (``(3, -1)`` is ``(3,)``); () is unknown.
Unit = tuple[int, ...]


def _path(unit: Unit | None) -> Unit:
    if unit is None:
        return ()
    return unit[: unit.index(-1)] if -1 in unit else unit


def positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    text: str | None = None,
    units: Mapping[int, Unit] | None = None,
    tree: ast.Module | None = None,
) -> dict[cst.CSTNode, CodeRange]:
    """Syntactic ranges (as PositionProvider gives them) of ``nodes`` in ``module``
    (``positions_and_code`` without the code)."""
    return positions_and_code(module, nodes, text, units, tree)[0]


def positions_and_code(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    text: str | None = None,
    units: Mapping[int, Unit] | None = None,
    tree: ast.Module | None = None,
) -> tuple[dict[cst.CSTNode, CodeRange], dict[int, str]]:
    """Syntactic ranges (as PositionProvider gives them) of ``nodes`` in ``module``, and by
    node id the code of those the generation gives as ``code_for_node`` would, only
    indented as in place (``_TargetedState.code``; the others are left out).

    With the source ``text`` and ``units`` (node id -> the innermost statement of a module,
    class or function body holding it, ``Unit``, recorded by the walk), only those statements
    are generated, each starting at the line CPython's ``ast`` gives for it; otherwise (or if
    anything does not line up) the whole module is generated. ``tree`` is CPython's tree of
    ``text`` if the caller has it (else the text is parsed here).
    """
    wanted = list(nodes)
    if not wanted:
        return {}, {}
    groups: dict[Unit, list[cst.CSTNode]] = {}
    for node in wanted:
        groups.setdefault(_path(units.get(id(node)) if units is not None else None), []).append(
            node
        )
    starts = (
        _unit_lines(module, text, groups, tree) if text is not None and () not in groups else None
    )
    computed: dict[int, CodeRange] = {}
    codes: dict[int, str] = {}
    lines = _SourceLines(text) if text is not None else None
    if starts is None:
        state = _TargetedState(module, wanted)
        state.generate(module)
        computed = state.computed
        if lines is not None:
            computed = lines.placed(state, 1)
        _add_codes(codes, state, wanted)
    else:
        for path, group in groups.items():
            state = _TargetedState(module, group)
            statement: cst.CSTNode = module.body[path[0]]
            for index in path[1:]:  # into a class's or function's body: its indentation too
                assert isinstance(statement, (cst.ClassDef, cst.FunctionDef))
                assert isinstance(statement.body, cst.IndentedBlock)
                block = statement.body
                indent = block.indent if block.indent is not None else module.default_indent
                state.indent_tokens.append(indent)
                statement = block.body[index]
            state.line = starts[path]
            state.generate(statement)
            assert lines is not None
            computed.update(lines.placed(state, starts[path]))
            _add_codes(codes, state, group)
    return {node: computed[id(node)] for node in wanted if id(node) in computed}, codes


def _add_codes(codes: dict[int, str], state: _TargetedState, nodes: Iterable[cst.CSTNode]) -> None:
    for node in nodes:
        code = state.code(node)
        if code is not None:
            codes[id(node)] = code


class SourceMismatch(ValueError):
    """LibCST's code for a statement differs from the source in more than dropped whitespace."""


class _SourceLines:
    """The source text, to place positions measured on LibCST's generated code onto it.

    LibCST does not always reproduce the source: it drops a form feed (and the whitespace
    around it) that starts a line before a statement, and a lone carriage return ending the file.
    Columns taken from its generated code are then off. Each generated unit is compared with
    the source where it starts (a cheap string comparison); where they differ, the two are
    aligned character by character (only whitespace may be missing on either side), and every
    position is moved onto the source character it was generated from, so columns count every
    character CPython counts.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _NEWLINES.finditer(text))]

    def placed(self, state: _TargetedState, first_line: int) -> dict[int, CodeRange]:
        """``state.computed`` with positions moved onto the source (unit starts at ``first_line``)."""
        if first_line - 1 >= len(self.starts):
            raise SourceMismatch(f"statement at line {first_line} is past the end of the source")
        generated = "".join(state.tokens)
        base = self.starts[first_line - 1]
        if self.text.startswith(generated, base):
            return state.computed
        mapping, added = _align(generated, self.text, base)
        gen_starts = [0, *(m.end() for m in _NEWLINES.finditer(generated))]

        def place(position: CodePosition, end: bool) -> CodePosition:
            index = position.line - first_line
            if index >= len(gen_starts):
                raise SourceMismatch(f"position {position} outside its statement")
            offset = gen_starts[index] + position.column
            if end and offset > 0 and offset - 1 not in added:
                source = mapping[offset - 1] + 1
            else:
                source = mapping[min(offset, len(mapping) - 1)]
            line = bisect_right(self.starts, source)
            return CodePosition(line, source - self.starts[line - 1])

        return {
            key: CodeRange(place(r.start, end=False), place(r.end, end=True))
            for key, r in state.computed.items()
        }


def _align(generated: str, text: str, base: int) -> tuple[list[int], set[int]]:
    """For each offset of ``generated`` (and one past its end), the offset in ``text`` of the
    character it reproduces, ``text`` being read from ``base``; and the offsets of generated
    characters the source lacks. Either side may hold whitespace the other lacks (LibCST drops
    some); any other difference is a ``SourceMismatch``."""
    out: list[int] = []
    added: set[int] = set()
    source = base
    limit = len(text)
    for char in generated:
        while source < limit and text[source] != char and text[source] in _SKIPPABLE:
            source += 1  # a character of the source that LibCST did not reproduce
        if source < limit and text[source] == char:
            out.append(source)
            source += 1
        elif char in _SKIPPABLE:
            added.add(len(out))  # whitespace LibCST added: it stands at the next source char
            out.append(source)
        else:
            raise SourceMismatch(f"LibCST's code differs from the source near offset {source}")
    out.append(source)
    return out, added


def _unit_lines(
    module: cst.Module, text: str, units: Iterable[Unit], tree: ast.Module | None = None
) -> dict[Unit, int] | None:
    """The line where each unit's code (with its leading lines) begins, from CPython's ``ast``."""
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    top_lines = _block_lines(module.body, tree.body)
    if top_lines is None:
        return None
    out: dict[Unit, int] = {}
    # the body of the statement at a path (a class or function): each statement's line and node
    blocks: dict[Unit, list[tuple[int, ast.stmt]] | None] = {(): top_lines}
    for path in units:
        statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement] = module.body
        lines: list[tuple[int, ast.stmt]] | None = top_lines
        for depth, index in enumerate(path):
            if lines is None or index >= len(lines):
                return None
            if depth == len(path) - 1:
                out[path] = lines[index][0]
                break
            statement, found = statements[index], lines[index][1]
            if not isinstance(statement, (cst.ClassDef, cst.FunctionDef)) or not isinstance(
                statement.body, cst.IndentedBlock
            ):
                return None
            expected = (
                (ast.ClassDef,)
                if isinstance(statement, cst.ClassDef)
                else (ast.FunctionDef, ast.AsyncFunctionDef)
            )
            if not isinstance(found, expected):
                return None
            prefix = path[: depth + 1]
            if prefix not in blocks:
                blocks[prefix] = _block_lines(statement.body.body, found.body)
            lines = blocks[prefix]
            statements = statement.body.body
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
