"""Shared by the ISO1 rules: is a lazily cached global a constant (the same for every user)?

A cached value is a constant when no request data flows into it (no parameter of the getter
and no request-scoped name, directly or through the getter's local variables) and the value
cannot change afterwards: the global is declared with an immutable type (``str | None``), or
with a class from outside the project that the module never changes (no attribute or item
writes on it, no mutating method calls).
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from isolint.api import ImportTable, dotted_name
from isolint.rules._sites import _code_children, changes

_IMMUTABLE_TYPES = frozenset(
    {"str", "bytes", "int", "float", "bool", "complex", "tuple", "frozenset", "None"}
)
_TYPING_WRAPPERS = frozenset({"Optional", "Union", "Final", "Tuple", "FrozenSet"})
_MUTABLE_BUILTINS = frozenset({"dict", "list", "set", "bytearray", "object", "Any"})


class _NameReader(cst.CSTVisitor):
    """The plain names an expression reads (not attribute names, not keyword names)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _names_read(node: cst.CSTNode) -> set[str]:
    reader = _NameReader()
    node.visit(reader)
    return reader.names


def _local_sources(func: cst.FunctionDef) -> dict[str, list[cst.CSTNode]]:
    """For each name ``func`` binds, the expressions it is bound from."""
    sources: dict[str, list[cst.CSTNode]] = {}

    def bind(target: cst.CSTNode, value: cst.CSTNode) -> None:
        for name in _names_read(target):
            sources.setdefault(name, []).append(value)

    pending: list[cst.CSTNode] = [func.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assign):
            for target in node.targets:
                bind(target.target, node.value)
        elif (
            isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr))
            and node.value is not None
        ):
            bind(node.target, node.value)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            bind(node.asname.name, node.item)
        elif isinstance(node, (cst.For, cst.CompFor)):
            bind(node.target, node.iter)
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(_code_children(node))
    return sources


def request_data_flows(
    func: cst.FunctionDef, value: cst.BaseExpression, request_names: Iterable[str]
) -> bool:
    """True if a parameter of ``func`` (other than a classmethod's ``cls``) or a request-scoped
    name flows into ``value``, directly or through ``func``'s local variables."""
    params = {
        param.name.value
        for group in (func.params.posonly_params, func.params.params, func.params.kwonly_params)
        for param in group
    }
    for star in (func.params.star_arg, func.params.star_kwarg):
        if isinstance(star, cst.Param):
            params.add(star.name.value)
    params.discard("cls")
    tainted = params | set(request_names)
    sources = _local_sources(func)
    pending = list(_names_read(value))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in tainted:
            return True
        for source in sources.get(name, ()):
            pending.extend(_names_read(source))
    return False


def _declared_types(annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The alternatives of an annotation: ``X | None`` and ``Optional[X]`` give ``X``, ``None``;
    a forward reference (``Optional["X"]``, ``"X | None"``) is read as the annotation it spells."""
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        text = annotation.evaluated_value
        if isinstance(text, str):
            try:
                return _declared_types(cst.parse_expression(text.strip()))
            except cst.ParserSyntaxError:
                return [annotation]
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _declared_types(annotation.left) + _declared_types(annotation.right)
    if isinstance(annotation, cst.Subscript):
        head = dotted_name(annotation.value) or ""
        if head.rsplit(".", 1)[-1] in {"Optional", "Union", "Final"}:
            out: list[cst.BaseExpression] = []
            for element in annotation.slice:
                if isinstance(element.slice, cst.Index):
                    out.extend(_declared_types(element.slice.value))
            return out
    return [annotation]


def immutable_annotation(annotation: cst.BaseExpression) -> bool:
    """True if every alternative of ``annotation`` is an immutable builtin type or ``None``."""
    for alternative in _declared_types(annotation):
        if isinstance(alternative, cst.Subscript):
            alternative = alternative.value
        name = (dotted_name(alternative) or "").rsplit(".", 1)[-1]
        if name not in _IMMUTABLE_TYPES and name not in _TYPING_WRAPPERS:
            return False
    return True


def imported_class(annotation: cst.BaseExpression, imports: ImportTable) -> str | None:
    """The one non-``None`` alternative of ``annotation`` if it is a class named through an
    import (``rsa.RSAPublicKey | None``), as written; the caller checks it is not a project class."""
    others = [
        alternative
        for alternative in _declared_types(annotation)
        if not (isinstance(alternative, cst.Name) and alternative.value == "None")
    ]
    if len(others) != 1:
        return None
    written = dotted_name(others[0])
    if not written or written.split(".", 1)[0] not in imports.bindings:
        return None
    if written.rsplit(".", 1)[-1] in _MUTABLE_BUILTINS | _IMMUTABLE_TYPES | _TYPING_WRAPPERS:
        return None
    return written


def module_changes(module: cst.Module, name: str) -> bool:
    """True if code anywhere in ``module`` changes the object global ``name`` holds: attribute
    or item writes or deletions rooted at it, or a recognised mutating method call on it."""
    return changes(module, name, held=True)


def bound_values(func: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """Every value ``func`` binds to the plain name ``name`` (all its assignments, not only the
    lazy initialisations: a cached value may come from any of them)."""
    values: list[cst.BaseExpression] = []
    pending: list[cst.CSTNode] = [func.body]
    while pending:
        node = pending.pop()
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            targets = [target.target for target in node.targets]
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
            targets = [node.target]
        value = getattr(node, "value", None) if targets else None
        if isinstance(value, cst.BaseExpression) and any(
            name in _names_read(target) for target in targets
        ):
            values.append(value)
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(_code_children(node))
    return values
