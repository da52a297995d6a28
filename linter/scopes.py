"""Which names a function binds, and how: the one binding/scope model rules share.

Python decides at compile time which names are local to a function: every name the function
binds anywhere in its own body (not in nested functions, classes or lambdas, nor the targets of
comprehensions, which have scopes of their own; but a walrus in a comprehension binds in the
function), unless the function declares it ``global`` or ``nonlocal``. ``function_scope``
computes that once per function, from the tree rather than from the walk, so what a rule sees
does not depend on where in the function it asks. ``RuleContext.function_scope`` caches it.

Bindings keep their source order, so a rule can also ask which bindings of a name come before a
given node (``FunctionScope.preceding``), and ``ScopeChain`` (``RuleContext.scope_chain``) resolves
a name read at a node through the enclosing comprehensions, lambdas and functions, Python's way.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

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
    order: int = 0  # where ``node`` comes in the function, in source order (parameters first)


@dataclass(frozen=True)
class FunctionScope:
    """The names a function (or lambda) binds and declares, in source order."""

    node: cst.FunctionDef | cst.Lambda
    bindings: tuple[NameBinding, ...]
    globals: frozenset[str]
    nonlocals: frozenset[str]
    # id(node) -> its place in source order, for every node of the function's own scope (a
    # nested def, class or lambda is one node: its inside belongs to another scope)
    positions: Mapping[int, int] = field(default_factory=dict, compare=False, repr=False)
    _by_name: dict[str, tuple[NameBinding, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        by_name: dict[str, list[NameBinding]] = {}
        for binding in self.bindings:
            by_name.setdefault(binding.name, []).append(binding)
        self._by_name.update((name, tuple(found)) for name, found in by_name.items())

    def bound(
        self, name: str, kinds: frozenset[BindingKind] = VALUE_KINDS
    ) -> tuple[NameBinding, ...]:
        """The bindings of ``name`` of the given kinds (by default every one but ``del``)."""
        return tuple(b for b in self._by_name.get(name, ()) if b.kind in kinds)

    def is_local(self, name: str) -> bool:
        """Is ``name`` a local variable of this function (bound here, not declared global or
        nonlocal)?"""
        if name in self.globals or name in self.nonlocals:
            return False
        return name in self._by_name

    def preceding(self, name: str, node: cst.CSTNode) -> tuple[NameBinding, ...]:
        """The bindings of ``name`` (``del`` included) that come before ``node`` in source order,
        a statement's own binding not before the statement itself but before what it contains
        (``x = f(x)``: the ``Assign`` does not see its own ``x``, the call in it does). ``node``
        is a node of this function's own scope (for one inside a nested def, class or lambda,
        pass that def, class or lambda); for any other node every binding counts."""
        found = self._by_name.get(name, ())
        place = self.positions.get(id(node))
        if place is None:
            return found
        return tuple(b for b in found if b.order < place)

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


def comprehension_names(node: cst.BaseComp) -> frozenset[str]:
    """The names the ``for`` clauses of a comprehension bind (in its own scope)."""
    names: set[str] = set()
    clause: cst.CompFor | None = node.for_in
    while clause is not None:
        names.update(name.value for name in bound_names(clause.target))
        clause = clause.inner_for_in
    return frozenset(names)


# The node types ``_Collector.statement`` records something for (LibCST's are final classes).
_BINDING_TYPES = frozenset(
    {
        cst.FunctionDef,
        cst.ClassDef,
        cst.Lambda,
        cst.Assign,
        cst.AnnAssign,
        cst.AugAssign,
        cst.For,
        cst.WithItem,
        cst.NamedExpr,
        cst.ExceptHandler,
        cst.Del,
        cst.Import,
        cst.ImportFrom,
        cst.Global,
        cst.Nonlocal,
        cst.MatchAs,
        cst.MatchStar,
        cst.MatchMapping,
    }
)


class _Collector:
    def __init__(self) -> None:
        self.bindings: list[NameBinding] = []
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.positions: dict[int, int] = {}
        self.order = 0  # the place of the node being recorded

    def add(self, target: cst.BaseExpression, kind: BindingKind, node: cst.CSTNode) -> None:
        for name in bound_names(target):
            self.bindings.append(NameBinding(name.value, kind, node, self.order))

    def statement(self, node: cst.CSTNode) -> bool:
        """Record what ``node`` binds; False when its children belong to another scope."""
        self.order += 1
        self.positions[id(node)] = self.order
        if type(node) not in _BINDING_TYPES:  # most nodes: one set lookup, not the chain below
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.bindings.append(
                NameBinding(node.name.value, BindingKind.DEFINITION, node, self.order)
            )
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


# Fields that only hold whitespace, punctuation or comments: never code, never a binding (the
# walk skips them too).
NOT_CODE_FIELDS = frozenset(
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
                if f.name not in NOT_CODE_FIELDS and not f.name.startswith("whitespace")
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
            collector.positions[id(param)] = 0
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
            collector.positions,
        )


def function_scope(node: cst.FunctionDef | cst.Lambda) -> FunctionScope:
    """``ScopeBuilder().function_scope(node)``, for a one-off question."""
    return ScopeBuilder().function_scope(node)


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass(frozen=True)
class Frame:
    """One scope around a node: a function, lambda or comprehension, and ``at``, the node's
    place in it (the node itself, or the nested def, class or lambda that holds it)."""

    node: cst.FunctionDef | cst.Lambda | cst.BaseComp
    at: cst.CSTNode


@dataclass(frozen=True)
class Resolved:
    """Where a name read at a node is bound: in ``frame`` (an index into the chain), by
    ``binding``, the last binding before the read there (None for a comprehension variable,
    or when none comes before the read, as on a loop's first pass)."""

    frame: int
    binding: NameBinding | None


@dataclass(frozen=True)
class ScopeChain:
    """The functions, lambdas and comprehensions around a node, innermost first. Class bodies
    are no frames: the functions in a class do not see its names (code directly in a class
    body is treated as its enclosing function's)."""

    frames: tuple[Frame, ...]
    scope_of: Callable[[cst.FunctionDef | cst.Lambda], FunctionScope]

    @classmethod
    def enclosing(
        cls,
        node: cst.CSTNode,
        ancestors: list[cst.CSTNode],
        scope_of: Callable[[cst.FunctionDef | cst.Lambda], FunctionScope],
    ) -> ScopeChain:
        """The chain around ``node``, whose ancestors (module first) are ``ancestors``."""
        frames: list[Frame] = []
        at, child, grandchild = node, node, node
        for ancestor in reversed(ancestors):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                if child is ancestor.body:  # not a decorator, default or annotation
                    frames.append(Frame(ancestor, at))
                at = ancestor
            elif isinstance(ancestor, cst.ClassDef):
                at = ancestor
            elif isinstance(ancestor, _COMPREHENSIONS):
                first = ancestor.for_in
                if child is not first or grandchild is not first.iter:  # that one is outside
                    frames.append(Frame(ancestor, at))
            child, grandchild = ancestor, child
        return cls(tuple(frames), scope_of)

    def scope(self, index: int) -> FunctionScope | None:
        """The scope of frame ``index``; None for a comprehension."""
        node = self.frames[index].node
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return self.scope_of(node)
        return None

    def resolve(self, name: str) -> Resolved | None:
        """Where ``name``, read at the chain's node, is bound; None when it is a module-level
        (or builtin) name there."""
        for index, frame in enumerate(self.frames):
            if isinstance(frame.node, (cst.FunctionDef, cst.Lambda)):
                scope = self.scope_of(frame.node)
                if name in scope.globals:
                    return None
                if scope.is_local(name):
                    found = scope.preceding(name, frame.at)
                    return Resolved(index, found[-1] if found else None)
            elif name in comprehension_names(frame.node):
                return Resolved(index, None)
        return None

    def entering(self, node: cst.Lambda | cst.BaseComp) -> ScopeChain:
        """The chain inside ``node``, a lambda or comprehension in the chain's node."""
        at = node.body if isinstance(node, cst.Lambda) else node
        return ScopeChain((Frame(node, at), *self.frames), self.scope_of)

    def first_iterable(self, clause: cst.CompFor) -> bool:
        """Is ``clause`` the first ``for`` of the comprehension this chain is inside (whose
        iterable is read outside it)?"""
        if not self.frames:
            return False
        inner = self.frames[0].node
        return isinstance(inner, _COMPREHENSIONS) and inner.for_in is clause

    def outside(self) -> ScopeChain:
        """The chain without its innermost frame."""
        return ScopeChain(self.frames[1:], self.scope_of)

    def at(self, index: int, node: cst.CSTNode) -> ScopeChain:
        """The chain seen from ``node``, a node of frame ``index``'s own scope (such as the
        statement that made a binding resolved there)."""
        return ScopeChain(
            (Frame(self.frames[index].node, node), *self.frames[index + 1 :]), self.scope_of
        )
