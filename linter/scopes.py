"""Which names a function binds, and how: the one binding/scope model rules share.

Python decides at compile time which names are local to a function: every name the function
binds anywhere in its own body (not in nested functions, classes or lambdas, nor the targets of
comprehensions, which have scopes of their own; but a walrus in a comprehension binds in the
function), unless the function declares it ``global`` or ``nonlocal``. ``function_scope``
computes that once per function, from the tree rather than from the walk, so what a rule sees
does not depend on where in the function it asks. ``RuleContext.function_scope`` caches it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst


class BindingKind(enum.Enum):
    """How a name is bound."""

    PARAMETER = "parameter"
    ASSIGN = "assign"  # ``x = ...`` (each target of a chained assignment)
    ANNOTATED = "annotated"  # ``x: T = ...`` (with a value; ``x: T`` alone binds nothing)
    AUGMENTED = "augmented"  # ``x += ...``
    FOR = "for"  # ``for x in ...`` (also ``async for``)
    WITH = "with"  # ``with ... as x``
    WALRUS = "walrus"  # ``(x := ...)``, also inside a comprehension
    EXCEPT = "except"  # ``except E as x``
    DELETE = "delete"  # ``del x``
    IMPORT = "import"  # ``import x`` / ``from m import x`` in the function
    DEFINITION = "definition"  # a nested ``def x`` or ``class x``
    MATCH = "match"  # a capture pattern of ``match``


# The kinds that give a name a new value (``del`` unbinds it).
VALUE_KINDS = frozenset(BindingKind) - {BindingKind.DELETE}


@dataclass(frozen=True)
class NameBinding:
    """One binding of ``name``: ``node`` is the statement or expression that binds it (the
    ``Assign``, ``For``, ``WithItem``, ``NamedExpr``, ``Param``...)."""

    name: str
    kind: BindingKind
    node: cst.CSTNode


@dataclass(frozen=True)
class FunctionScope:
    """The names a function (or lambda) binds and declares, in source order."""

    node: cst.FunctionDef | cst.Lambda
    bindings: tuple[NameBinding, ...]
    globals: frozenset[str]
    nonlocals: frozenset[str]

    def bound(
        self, name: str, kinds: frozenset[BindingKind] = VALUE_KINDS
    ) -> tuple[NameBinding, ...]:
        """The bindings of ``name`` of the given kinds (by default every one but ``del``)."""
        return tuple(b for b in self.bindings if b.name == name and b.kind in kinds)

    def is_local(self, name: str) -> bool:
        """Is ``name`` a local variable of this function (bound here, not declared global or
        nonlocal)?"""
        if name in self.globals or name in self.nonlocals:
            return False
        return any(b.name == name for b in self.bindings)

    def parameters(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bindings if b.kind is BindingKind.PARAMETER)


def bound_names(target: cst.BaseExpression) -> Iterator[cst.Name]:
    """The names an assignment target binds (``a, (b, *c)`` -> ``a``, ``b``, ``c``); attribute
    and subscript targets bind none."""
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from bound_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from bound_names(target.value)


def _parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg


class _Collector:
    def __init__(self) -> None:
        self.bindings: list[NameBinding] = []
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()

    def add(self, target: cst.BaseExpression, kind: BindingKind, node: cst.CSTNode) -> None:
        for name in bound_names(target):
            self.bindings.append(NameBinding(name.value, kind, node))

    def statement(self, node: cst.CSTNode) -> bool:
        """Record what ``node`` binds; False when its children belong to another scope."""
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.bindings.append(NameBinding(node.name.value, BindingKind.DEFINITION, node))
            return False
        if isinstance(node, cst.Lambda):
            return False
        if isinstance(node, cst.Assign):
            for target in node.targets:
                self.add(target.target, BindingKind.ASSIGN, node)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.add(node.target, BindingKind.ANNOTATED, node)
        elif isinstance(node, cst.AugAssign):
            self.add(node.target, BindingKind.AUGMENTED, node)
        elif isinstance(node, cst.For):
            self.add(node.target, BindingKind.FOR, node)
        elif isinstance(node, cst.WithItem):
            if node.asname is not None:
                self.add(node.asname.name, BindingKind.WITH, node)
        elif isinstance(node, cst.NamedExpr):
            self.add(node.target, BindingKind.WALRUS, node)
        elif isinstance(node, cst.ExceptHandler):
            if node.name is not None:
                self.add(node.name.name, BindingKind.EXCEPT, node)
        elif isinstance(node, cst.Del):
            self.add(node.target, BindingKind.DELETE, node)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            self._imports(node)
        elif isinstance(node, cst.Global):
            self.globals.update(item.name.value for item in node.names)
        elif isinstance(node, cst.Nonlocal):
            self.nonlocals.update(item.name.value for item in node.names)
        elif isinstance(node, (cst.MatchAs, cst.MatchStar)):
            if node.name is not None:
                self.add(node.name, BindingKind.MATCH, node)
        elif isinstance(node, cst.MatchMapping):
            if node.rest is not None:
                self.add(node.rest, BindingKind.MATCH, node)
        return True

    def _imports(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None:
                self.add(alias.asname.name, BindingKind.IMPORT, node)
                continue
            first: cst.BaseExpression = alias.name
            while isinstance(first, cst.Attribute):  # ``import a.b`` binds ``a``
                first = first.value
            self.add(first, BindingKind.IMPORT, node)


# Fields that hold only whitespace, punctuation or comments (as the walk's ``SKIPPED_FIELDS``).
_NOT_CODE = frozenset(
    {
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "colon",
        "equal",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "dot",
        "trailing_whitespace",
        "newline",
        "asynchronous",
    }
)


class ScopeBuilder:
    """Computes ``FunctionScope``s, reading node fields directly (LibCST's ``children``
    rebuilds each node, and costs more than parsing it): keep one per file."""

    def __init__(self) -> None:
        self._fields: dict[type, tuple[str, ...]] = {}

    def _children(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        node_type = type(node)
        names = self._fields.get(node_type)
        if names is None:
            names = tuple(
                f.name
                for f in dataclasses.fields(node_type)
                if f.name not in _NOT_CODE and not f.name.startswith("whitespace")
            )
            self._fields[node_type] = names
        for name in names:
            value = getattr(node, name)
            if isinstance(value, (tuple, list)):
                yield from (v for v in value if isinstance(v, cst.CSTNode))
            elif isinstance(value, cst.CSTNode):
                yield value

    def function_scope(self, node: cst.FunctionDef | cst.Lambda) -> FunctionScope:
        """The bindings of ``node``'s own scope: its parameters, then its body in order."""
        collector = _Collector()
        for param in _parameters(node.params):
            collector.bindings.append(NameBinding(param.name.value, BindingKind.PARAMETER, param))
        # Decorators, defaults and annotations belong to the enclosing scope: only the body. A
        # comprehension's ``for`` target is no binding statement (it binds in the
        # comprehension), and a walrus inside one binds here, as Python has it.
        pending: list[cst.CSTNode] = [node.body]
        while pending:
            current = pending.pop()
            if collector.statement(current):
                pending.extend(reversed(list(self._children(current))))
        return FunctionScope(
            node,
            tuple(collector.bindings),
            frozenset(collector.globals),
            frozenset(collector.nonlocals),
        )


def function_scope(node: cst.FunctionDef | cst.Lambda) -> FunctionScope:
    """``ScopeBuilder().function_scope(node)``, for a one-off question."""
    return ScopeBuilder().function_scope(node)
