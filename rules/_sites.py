"""Where a shared object's state changes: the sites request-path analysis classifies (ISO1)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import libcst as cst
from isolint.api import MODULE_SCOPE, MUTATING_METHODS, SKIPPED_FIELDS, dotted_name

_SETUP = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"})
_MUTATORS = MUTATING_METHODS


def qualified(scope: str, name: str) -> str:
    """``name`` defined in ``scope`` (``<module>``, ``Outer``) as a qualified name in the module."""
    return name if scope == MODULE_SCOPE else f"{scope}.{name}"


def _rooted(expr: cst.BaseExpression, receiver: str) -> bool:
    # exact types: isinstance() against LibCST's ABC-based classes is slow (on every write)
    if type(expr) is not cst.Attribute and type(expr) is not cst.Subscript:
        return False
    while type(expr) is cst.Attribute or type(expr) is cst.Subscript:
        expr = expr.value
    return type(expr) is cst.Name and expr.value == receiver


# Fields that hold only whitespace, punctuation or comments: no assignment or call inside.
_NO_CODE = SKIPPED_FIELDS | {"operator"}


def _code_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node class that can hold code, in their order."""
    fields: dict[str, object] = getattr(node_type, "__dataclass_fields__", {})
    return tuple(n for n in fields if n not in _NO_CODE and not n.startswith("whitespace"))


# LibCST's node classes and their fields that can hold code, once at import (read-only): the
# field names need no test per node, and a child's exact type tells a node without isinstance()
# (slow against LibCST's ABC-based classes; this runs on every node of every method of every class)
_CODE_FIELDS: Mapping[type, tuple[str, ...]] = MappingProxyType(
    {
        c: _code_fields(c)
        for c in vars(cst).values()
        if isinstance(c, type) and issubclass(c, cst.CSTNode)
    }
)
_NODE_TYPES = frozenset(_CODE_FIELDS)
# Field values that are never nodes, told by their exact type.
_NOT_NODES = frozenset({type(None), str, cst.MaybeSentinel})


def _code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes that can hold code (``node.children`` also lists every whitespace and
    punctuation node, and costs a visitor per call: this runs on every method of every class)."""
    out: list[cst.CSTNode] = []
    node_type = type(node)
    names = _CODE_FIELDS.get(node_type)
    for name in names if names is not None else _code_fields(node_type):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            out.extend(
                [item for item in value if type(item) in _NODE_TYPES or isinstance(item, cst.CSTNode)]
            )
        elif value_type in _NODE_TYPES or (
            value_type not in _NOT_NODES and isinstance(value, cst.CSTNode)
        ):
            out.append(value)
    return out


# The node types that can change a name's state (``changes_here``).
WRITES: frozenset[type] = frozenset({cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del, cst.Call})


def changes(root: cst.CSTNode, name: str, *, held: bool = False) -> bool:
    """Does code under ``root`` change what ``name`` refers to: attribute or item writes or
    deletions rooted at it, or a mutating method call on something rooted at it. With ``held``
    (``name`` holds the object itself, not a receiver of its attributes) also a mutating call on
    ``name`` itself and ``setattr``/``delattr`` on it."""
    pending: list[cst.CSTNode] = [root]
    while pending:
        node = pending.pop()
        # the parser makes these exact classes: no slow isinstance()
        if type(node) in WRITES and changes_here(node, name, held=held):
            return True
        pending.extend(_code_children(node))
    return False


def changes_here(node: cst.CSTNode, name: str, *, held: bool = False) -> bool:
    """Does ``node`` itself (not its children) change ``name``, as ``changes`` counts it; only
    nodes of the ``WRITES`` types can (a walk that visits every node checks just those)."""
    if type(node) is cst.Assign:  # exact types, as in ``_rooted``
        return any(_rooted(t.target, name) for t in node.targets)
    if type(node) is cst.AugAssign or type(node) is cst.AnnAssign or type(node) is cst.Del:
        return _rooted(node.target, name)
    if type(node) is cst.Call:
        func = node.func
        if (
            type(func) is cst.Attribute
            and func.attr.value in _MUTATORS
            and (_rooted(func.value, name) or (held and dotted_name(func.value) == name))
        ):
            return True
        return bool(
            held
            and dotted_name(func) in {"setattr", "delattr"}
            and node.args
            and dotted_name(node.args[0].value) == name
        )
    return False


def _changes_state(function: cst.FunctionDef, receiver: str) -> bool:
    return changes(function.body, receiver)


def state_methods(node: cst.ClassDef) -> list[tuple[cst.FunctionDef, str]]:
    """The methods of class ``node`` that may change state after construction (not ``__init__``
    and the like), each with its receiver (first parameter) name, in order."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    out: list[tuple[cst.FunctionDef, str]] = []
    for statement in body:
        if not isinstance(statement, cst.FunctionDef) or statement.name.value in _SETUP:
            continue
        params = (*statement.params.posonly_params, *statement.params.params)
        if params:
            out.append((statement, params[0].name.value))
    return out


def state_changing_methods(node: cst.ClassDef, scope: str) -> tuple[str, ...]:
    """The methods of class ``node`` (defined in ``scope``) that change its instance's or its
    class's state after construction, as qualified names in the module (``Cache.put``)."""
    owner = qualified(scope, node.name.value)
    return tuple(
        f"{owner}.{method.name.value}"
        for method, receiver in state_methods(node)
        if _changes_state(method, receiver)
    )
