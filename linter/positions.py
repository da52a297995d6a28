"""Positions of a few nodes from one code generation pass (no full PositionProvider).

LibCST's PositionProvider records a range for every node (about 1.7x a parse); generating the
code alone costs about 0.2x. This codegen state tracks line and column cheaply and records
ranges only for the nodes asked for (plus the child nodes their syntactic range is hoisted
from), with the same semantics as PositionProvider.
"""

from __future__ import annotations

import ast
import re
import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from inspect import CO_VARKEYWORDS
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

_NEWLINES = re.compile(r"\r\n?|\n")
_SKIPPABLE = frozenset(" \t\f\v\r\n")
# The fields that may hold names, in the order their code comes in the source (``Arg``'s
# keyword before its value, ``IfExp``'s body before its test), of the node types a simple
# statement's names are searched through (``_SourceLines.find_repeated_names``; any other type
# there leaves the statement to code generation).
_SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.SimpleStatementLine: ("body",),
    cst.Expr: ("value",),
    cst.Assign: ("targets", "value"),
    cst.AssignTarget: ("target",),
    cst.AnnAssign: ("target", "annotation", "value"),
    cst.Annotation: ("annotation",),
    cst.AugAssign: ("target", "value"),
    cst.Return: ("value",),
    cst.Raise: ("exc", "cause"),
    cst.Assert: ("test", "msg"),
    cst.Del: ("target",),
    cst.Pass: (),
    cst.Break: (),
    cst.Continue: (),
    cst.Name: (),
    cst.Attribute: ("value", "attr"),
    cst.Call: ("func", "args"),
    cst.Arg: ("keyword", "value"),
    cst.List: ("elements",),
    cst.Tuple: ("elements",),
    cst.Set: ("elements",),
    cst.Element: ("value",),
    cst.StarredElement: ("value",),
    cst.Dict: ("elements",),
    cst.DictElement: ("key", "value"),
    cst.StarredDictElement: ("value",),
    cst.Subscript: ("value", "slice"),
    cst.SubscriptElement: ("slice",),
    cst.Index: ("value",),
    cst.Slice: ("lower", "upper", "step"),
    cst.SimpleString: (),
    cst.Integer: (),
    cst.Float: (),
    cst.Imaginary: (),
    cst.Ellipsis: (),
    cst.ConcatenatedString: ("left", "right"),
    cst.FormattedString: ("parts",),
    cst.FormattedStringText: (),
    cst.FormattedStringExpression: ("expression", "format_spec"),
    cst.BinaryOperation: ("left", "right"),
    cst.BooleanOperation: ("left", "right"),
    cst.UnaryOperation: ("expression",),
    cst.Comparison: ("left", "comparisons"),
    cst.ComparisonTarget: ("comparator",),
    cst.Await: ("expression",),
    cst.IfExp: ("body", "test", "orelse"),
    cst.NamedExpr: ("target", "value"),
    cst.ListComp: ("elt", "for_in"),
    cst.SetComp: ("elt", "for_in"),
    cst.GeneratorExp: ("elt", "for_in"),
    cst.DictComp: ("key", "value", "for_in"),
    cst.CompFor: ("target", "iter", "ifs", "inner_for_in"),
    cst.CompIf: ("test",),
}
# ``class``, ``def`` or ``async def`` and the blanks after it, on one line
_DEFINITION = re.compile(r"(?:class|def|async[ \t\f]+def)[ \t\f]+")
# what record_syntactic_position gives for a node not asked for (nearly every expression):
# stateless and reusable, cheaper than making a generator context manager per node
_NOT_RECORDED: AbstractContextManager[None] = nullcontext()


class _Complete(Exception):
    """Every wanted range is known: the rest of the unit's code need not be generated."""


class _TargetedState(CodegenState):
    """A codegen state that records where selected nodes' ranges begin and end among its tokens.

    Positions are counted only for those nodes, once generation is over (``ranges``): making a
    token costs no more than in LibCST's own code generation. Generation stops (``_Complete``)
    as soon as every wanted range is known: a class's name does not cost the code of its body.
    The tokens are then a prefix of the unit's code.
    """

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1  # where the first token is
        self.wanted: set[int] = {id(node) for node in targets}
        # wanted node id -> (first, end) index among the tokens of its syntactic range
        self.computed: dict[int, tuple[int, int]] = {}
        self.starts: dict[int, int] = {}
        # wanted node id -> (first, end) index of its tokens, once its whole code is generated
        self.token_starts: dict[int, int] = {}
        self.token_spans: dict[int, tuple[int, int]] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            here = len(self.tokens)
            self.starts[id(node)] = here
            self.token_starts.setdefault(id(node), here)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            here = len(self.tokens)
            if key in self.token_starts and key not in self.token_spans:
                self.token_spans[key] = (self.token_starts[key], here)
            if key not in self.computed:
                self.computed[key] = (self.starts.pop(key, here), here)
            # computed only ever holds wanted nodes, and a wanted node's range is final once it
            # is computed (no wanted node encloses the one just finished, or it would be pending)
            if len(self.computed) == len(self.wanted):
                raise _Complete

    def ranges(self, generated: str) -> dict[int, CodeRange]:
        """The computed ranges as lines and columns (``generated``: the tokens joined)."""
        offsets = [0, *accumulate(map(len, self.tokens))]
        line_starts = [0, *(m.end() for m in _NEWLINES.finditer(generated))]
        first = self.line

        def at(index: int) -> CodePosition:
            offset = offsets[index]
            line = bisect_right(line_starts, offset) - 1
            return CodePosition(first + line, offset - line_starts[line])

        return {key: CodeRange(at(a), at(b)) for key, (a, b) in self.computed.items()}

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
        start = len(self.tokens)
        try:
            yield
        finally:
            end = len(self.tokens)
            if start_node is not None and id(start_node) in self.computed:
                start = self.computed[id(start_node)][0]
            if end_node is not None and id(end_node) in self.computed:
                end = self.computed[id(end_node)][1]
            self.computed[id(node)] = (start, end)


# The statement a node is in, as indices from the module's body down through the bodies of
# statements: (3,) the fourth top-level statement, (3, 0, 2) the third statement of the first
# method of that class. After a class or function one index follows (a statement of its body);
# after another compound statement (``suites``) two: the suite, then a statement of it, so
# (3, 1, 0) is the first statement of the second suite (an ``elif``, an ``else``, a handler) of
# the fourth top-level statement. A -1 ends the path (``(3, -1)`` is ``(3,)``); () is unknown.
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

    With the source ``text`` and ``units`` (node id -> the innermost statement of a block
    holding it, ``Unit``, recorded by the walk), only those statements are generated, each
    starting at the line CPython's ``ast`` gives for it, and a name found once in its simple
    statement's source is not generated at all (``_SourceLines.find_names``); otherwise (or if
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
    found = _units(module, text, groups, tree) if text is not None and () not in groups else None
    computed: dict[int, CodeRange] = {}
    codes: dict[int, str] = {}
    lines = _SourceLines(text) if text is not None else None
    if found is None:
        state = _TargetedState(module, wanted)
        state.generate(module)
        computed = state.ranges("".join(state.tokens)) if lines is None else lines.placed(state, 1)
        _add_codes(codes, state, wanted)
    else:
        assert lines is not None
        for path, group in groups.items():
            line, statement, indents, last, tree_node = found[path]
            if isinstance(statement, cst.SimpleStatementLine):
                group = lines.find_names(group, line, last, computed, codes)
                if group:
                    group = lines.find_repeated_names(group, statement, line, last, computed, codes)
                if not group:
                    continue
            elif type(statement) is cst.ClassDef or type(statement) is cst.FunctionDef:
                group = lines.find_defined_name(group, statement, tree_node, computed, codes)
                if not group:
                    continue
            state = _TargetedState(module, group)
            state.indent_tokens.extend(indents)  # the blocks it is in: their indentation
            state.line = line
            state.generate(statement)
            computed.update(lines.placed(state, line))
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
        if "\r" in text:
            self.starts = [0, *(m.end() for m in _NEWLINES.finditer(text))]
        else:  # the same, faster: each line's length and its line feed
            self.starts = [0, *accumulate(map((1).__add__, map(len, text.split("\n")[:-1])))]

    def find_names(
        self,
        nodes: list[cst.CSTNode],
        first_line: int,
        last_line: int,
        computed: dict[int, CodeRange],
        codes: dict[int, str],
    ) -> list[cst.CSTNode]:
        """Place the names and dotted names (``_plain_text``) among ``nodes`` whose text occurs
        once in lines ``first_line`` to ``last_line`` (a statement holding them) straight from
        the source, with their code; return the other nodes.

        The node's text is in the statement's source where it stands, so a text found once is
        that node's. Anything else that reads the same (in a string, a comment, another node)
        makes it ambiguous: it is left to code generation."""
        if last_line > len(self.starts) or first_line < 1:
            return nodes
        text = self.text
        start = self.starts[first_line - 1]
        end = self.starts[last_line] if last_line < len(self.starts) else len(text)
        rest: list[cst.CSTNode] = []
        for node in nodes:
            plain = _plain_text(node)
            offset = -1 if plain is None else _sole(text, plain, start, end)
            if offset < 0 or plain is None:
                rest.append(node)
                continue
            computed[id(node)] = CodeRange(self._at(offset), self._at(offset + len(plain)))
            codes[id(node)] = plain
        return rest

    def find_repeated_names(
        self,
        nodes: list[cst.CSTNode],
        statement: cst.SimpleStatementLine,
        first_line: int,
        last_line: int,
        computed: dict[int, CodeRange],
        codes: dict[int, str],
    ) -> list[cst.CSTNode]:
        """Place the names and dotted names among ``nodes`` whose text occurs in lines
        ``first_line`` to ``last_line`` (``statement``, a simple statement) as often as the
        statement has nodes of that text: the k-th such node in source order is at the k-th
        occurrence. Return the other nodes (all of them if the statement holds a node type
        ``_SOURCE_ORDER`` does not list).

        Each node of that text stands at an occurrence of it (``find_names``); as many nodes as
        occurrences leave none for anything else (a string, a comment), so they pair up in order."""
        if last_line > len(self.starts) or first_line < 1:
            return nodes
        wanted: dict[str, list[cst.CSTNode]] = {}
        rest: list[cst.CSTNode] = []
        for node in nodes:
            plain = _plain_text(node)
            if plain is None:
                rest.append(node)
            else:
                wanted.setdefault(plain, []).append(node)
        if not wanted:
            return nodes
        names = {plain for plain in wanted if "." not in plain}
        lasts = {plain.rsplit(".", 1)[1] for plain in wanted if "." in plain}
        found: dict[str, list[cst.CSTNode]] = {plain: [] for plain in wanted}
        pending: list[cst.CSTNode] = [statement]
        while pending:
            node = pending.pop()
            node_type = type(node)
            fields = _SOURCE_ORDER.get(node_type)
            if fields is None:
                return nodes
            if node_type is cst.Name:
                if node.value in names:  # type: ignore[attr-defined]
                    plain = _plain_text(node)
                    if plain is not None:
                        found[plain].append(node)
                continue
            if node_type is cst.Attribute and node.attr.value in lasts:  # type: ignore[attr-defined]
                plain = _plain_text(node)
                if plain is not None and plain in found:
                    found[plain].append(node)
            below: list[cst.CSTNode] = []
            for field in fields:
                value = getattr(node, field)
                if type(value) is tuple or type(value) is list:
                    below.extend(value)
                elif value is not None and type(value) is not cst.MaybeSentinel:
                    below.append(value)
            pending.extend(reversed(below))
        text = self.text
        start = self.starts[first_line - 1]
        end = self.starts[last_line] if last_line < len(self.starts) else len(text)
        for plain, group in wanted.items():
            offsets = _occurrences(text, plain, start, end)
            order = {id(node): index for index, node in enumerate(found[plain])}
            if len(offsets) != len(order) or any(id(node) not in order for node in group):
                rest.extend(group)
                continue
            for node in group:
                offset = offsets[order[id(node)]]
                computed[id(node)] = CodeRange(self._at(offset), self._at(offset + len(plain)))
                codes[id(node)] = plain
        return rest

    def find_defined_name(
        self,
        nodes: list[cst.CSTNode],
        statement: cst.ClassDef | cst.FunctionDef,
        found: ast.stmt,
        computed: dict[int, CodeRange],
        codes: dict[int, str],
    ) -> list[cst.CSTNode]:
        """Place the name of the class or function ``statement`` if it is among ``nodes``,
        straight from the source: it follows ``class``/``def`` (``async def``) where CPython's
        node ``found`` of the statement starts, after blanks on the same line. Return the other
        nodes (all of them when the source does not read that way)."""
        name = statement.name
        if name.lpar or name.rpar or not any(node is name for node in nodes):
            return nodes
        if not isinstance(found, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            return nodes
        if found.lineno > len(self.starts) or found.name != name.value:
            return nodes
        line_start = self.starts[found.lineno - 1]
        # the offset is in UTF-8 bytes: the same in characters when only blanks come before
        if self.text[line_start : line_start + found.col_offset].strip(" \t\f"):
            return nodes
        keyword = _DEFINITION.match(self.text, line_start + found.col_offset)
        if keyword is None or not self.text.startswith(name.value, keyword.end()):
            return nodes
        offset = keyword.end()
        after = offset + len(name.value)
        if after < len(self.text) and (self.text[after].isalnum() or self.text[after] == "_"):
            return nodes
        computed[id(name)] = CodeRange(self._at(offset), self._at(after))
        codes[id(name)] = name.value
        return [node for node in nodes if node is not name]

    def _at(self, offset: int) -> CodePosition:
        line = bisect_right(self.starts, offset)
        return CodePosition(line, offset - self.starts[line - 1])

    def placed(self, state: _TargetedState, first_line: int) -> dict[int, CodeRange]:
        """``state``'s ranges placed on the source (its unit starting at ``first_line``)."""
        if first_line - 1 >= len(self.starts):
            raise SourceMismatch(f"statement at line {first_line} is past the end of the source")
        generated = "".join(state.tokens)
        base = self.starts[first_line - 1]
        if self.text.startswith(generated, base):
            return state.ranges(generated)
        mapping, added = _align(generated, self.text, base)
        offsets = [0, *accumulate(map(len, state.tokens))]

        def place(index: int, end: bool) -> CodePosition:
            offset = offsets[index]
            if end and offset > 0 and offset - 1 not in added:
                source = mapping[offset - 1] + 1
            else:
                source = mapping[min(offset, len(mapping) - 1)]
            line = bisect_right(self.starts, source)
            return CodePosition(line, source - self.starts[line - 1])

        return {
            key: CodeRange(place(start, end=False), place(end, end=True))
            for key, (start, end) in state.computed.items()
        }


def _plain_text(node: cst.CSTNode) -> str | None:
    """A name's or dotted name's code if it is just that (no parentheses, spaces or comments
    in it, so the source holds it as it is), else None."""
    parts: list[str] = []
    while type(node) is cst.Attribute:
        dot = node.dot
        if (
            node.lpar
            or node.rpar
            or not _no_space(dot.whitespace_before)
            or not _no_space(dot.whitespace_after)
        ):
            return None
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name or node.lpar or node.rpar:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _no_space(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return type(whitespace) is cst.SimpleWhitespace and not whitespace.value


def _in_name(char: str) -> bool:
    """Whether ``char`` may continue an identifier."""
    return ("a" + char).isidentifier()


def _occurrences(text: str, plain: str, start: int, end: int) -> list[int]:
    """The offsets of the occurrences of identifier(s) ``plain`` as a whole in
    ``text[start:end]`` (not inside a longer name), as ``_sole`` counts them."""
    out: list[int] = []
    at = text.find(plain, start, end)
    while at >= 0:
        after = at + len(plain)
        if (after >= len(text) or not _in_name(text[after])) and (
            at == 0 or not _in_name(text[at - 1])
        ):
            out.append(at)
        at = text.find(plain, at + 1, end)
    return out


def _sole(text: str, plain: str, start: int, end: int) -> int:
    """The offset of the only occurrence of identifier(s) ``plain`` as a whole in
    ``text[start:end]`` (not inside a longer name), or -1 if there is none or more than one."""
    found = -1
    at = text.find(plain, start, end)
    while at >= 0:
        after = at + len(plain)
        whole = (after >= len(text) or not _in_name(text[after])) and (
            at == 0 or not _in_name(text[at - 1])
        )
        if whole:
            if found >= 0:
                return -1
            found = at
        at = text.find(plain, at + 1, end)
    return found


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


_CLASS_OR_FUNCTION = (cst.ClassDef, cst.FunctionDef)
# compound statements a ``Unit`` goes down through by suite (not ``match``: its cases are
# indented twice, and rare)
COMPOUND_TYPES = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar})
# ``try``/``except*`` in CPython's tree (none before 3.11, which cannot parse it)
if sys.version_info >= (3, 11):
    _AST_TRY_STAR: tuple[type[ast.stmt], ...] = (ast.TryStar,)
else:
    _AST_TRY_STAR = ()


def suites(statement: cst.CSTNode) -> list[cst.BaseSuite]:
    """The suites of an ``if``, ``for``, ``while``, ``with`` or ``try`` statement in lexical
    order (the ``if``'s, each ``elif``'s and the ``else``'s; the ``try``'s, each handler's, the
    ``else``'s and the ``finally``'s), as ``Unit`` counts them; [] for another statement."""
    if isinstance(statement, cst.If):
        out = [statement.body]
        branch: cst.If | cst.Else | None = statement.orelse
        while isinstance(branch, cst.If):
            out.append(branch.body)
            branch = branch.orelse
        if branch is not None:
            out.append(branch.body)
        return out
    if isinstance(statement, (cst.For, cst.While)):
        orelse = statement.orelse
        return [statement.body] if orelse is None else [statement.body, orelse.body]
    if isinstance(statement, cst.With):
        return [statement.body]
    if isinstance(statement, (cst.Try, cst.TryStar)):
        out = [statement.body, *(handler.body for handler in statement.handlers)]
        if statement.orelse is not None:
            out.append(statement.orelse.body)
        if statement.finalbody is not None:
            out.append(statement.finalbody.body)
        return out
    return []


def _found_suites(statement: cst.CSTNode, found: ast.stmt) -> list[list[ast.stmt]] | None:
    """The statement lists of CPython's ``found`` that match ``suites(statement)``, or None."""
    if isinstance(statement, cst.If):
        if not isinstance(found, ast.If):
            return None
        out = [found.body]
        branch: cst.If | cst.Else | None = statement.orelse
        while isinstance(branch, cst.If):  # an elif is an else holding one if, in CPython's tree
            if len(found.orelse) != 1 or not isinstance(found.orelse[0], ast.If):
                return None
            found = found.orelse[0]
            out.append(found.body)
            branch = branch.orelse
        if branch is not None:
            out.append(found.orelse)
        return out
    if isinstance(statement, cst.For) and isinstance(found, (ast.For, ast.AsyncFor)):
        return [found.body] if statement.orelse is None else [found.body, found.orelse]
    if isinstance(statement, cst.While) and isinstance(found, ast.While):
        return [found.body] if statement.orelse is None else [found.body, found.orelse]
    if isinstance(statement, cst.With) and isinstance(found, (ast.With, ast.AsyncWith)):
        return [found.body]
    if isinstance(statement, (cst.Try, cst.TryStar)):
        if not isinstance(found, (ast.Try,) if isinstance(statement, cst.Try) else _AST_TRY_STAR):
            return None
        tried = found  # an ast.Try or ast.TryStar: the same fields
        out = [tried.body, *(handler.body for handler in tried.handlers)]
        if statement.orelse is not None:
            out.append(tried.orelse)
        if statement.finalbody is not None:
            out.append(tried.finalbody)
        return out
    return None


# a unit's first line, its statement, the indentation of the blocks it is in, its last line,
# and CPython's node of it (of its first small statement)
_Found = tuple[int, cst.CSTNode, tuple[str, ...], int, ast.stmt]


def _units(
    module: cst.Module, text: str, paths: Iterable[Unit], tree: ast.Module | None = None
) -> dict[Unit, _Found] | None:
    """Each unit's statement, the line where its code (with its leading lines) begins and the
    line where it ends, from CPython's ``ast``, and the indentation of the blocks it is in;
    None if they do not line up."""
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    top_lines = _block_lines(module.body, tree.body)
    if top_lines is None:
        return None
    out: dict[Unit, _Found] = {}
    # the statements of the block at a path prefix: each statement's line and first ast node
    blocks: dict[Unit, list[tuple[int, ast.stmt, int]] | None] = {(): top_lines}
    for path in paths:
        statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement] = module.body
        lines: list[tuple[int, ast.stmt, int]] | None = top_lines
        indents: list[str] = []
        depth = 0
        while True:
            index = path[depth]
            if lines is None or index >= len(lines):
                return None
            depth += 1
            statement, found = statements[index], lines[index][1]
            if depth == len(path):
                out[path] = (lines[index][0], statement, tuple(indents), lines[index][2], found)
                break
            suite: cst.BaseSuite
            if isinstance(statement, _CLASS_OR_FUNCTION):
                expected = (
                    (ast.ClassDef,)
                    if isinstance(statement, cst.ClassDef)
                    else (ast.FunctionDef, ast.AsyncFunctionDef)
                )
                if not isinstance(found, expected):
                    return None
                suite, found_body = statement.body, found.body
            else:
                found_suites = _found_suites(statement, found)
                all_suites = suites(statement)
                if (
                    found_suites is None
                    or len(found_suites) != len(all_suites)
                    or path[depth] >= len(all_suites)
                    or depth + 1 == len(path)
                ):
                    return None
                suite, found_body = all_suites[path[depth]], found_suites[path[depth]]
                depth += 1
            if not isinstance(suite, cst.IndentedBlock):
                return None
            indents.append(suite.indent if suite.indent is not None else module.default_indent)
            prefix = path[:depth]
            if prefix not in blocks:
                blocks[prefix] = _block_lines(suite.body, found_body)
            lines = blocks[prefix]
            statements = suite.body
    return out


def _block_lines(
    statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement], found: Sequence[ast.stmt]
) -> list[tuple[int, ast.stmt, int]] | None:
    """Start line (leading lines included), first ast node and last line (its last ast node's)
    of each statement of a block."""
    lines: list[tuple[int, ast.stmt, int]] = []
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
        cursor += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        last = found[min(cursor, len(found)) - 1]
        lines.append((line - leading, first, last.end_lineno or last.lineno))
    return lines if cursor == len(found) else None
