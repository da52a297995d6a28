"""Where a shared object's state changes: the sites request-path analysis classifies (ISO1)."""

from __future__ import annotations

import libcst as cst
from isolint.api import MODULE_SCOPE, MUTATING_METHODS, SKIPPED_FIELDS, dotted_name

_SETUP = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"})
_MUTATORS = MUTATING_METHODS


def qualified(scope: str, name: str) -> str:
    """``name`` defined in ``scope`` (``<module>``, ``Outer``) as a qualified name in the module."""
    return name if scope == MODULE_SCOPE else f"{scope}.{name}"


def _rooted(expr: cst.BaseExpression, receiver: str) -> bool:
    if not isinstance(expr, (cst.Attribute, cst.Subscript)):
        return False
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value == receiver


# Fields that hold only whitespace, punctuation or comments: no assignment or call inside.
_NO_CODE = SKIPPED_FIELDS | {"operator"}


def _code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes that can hold code (``node.children`` also lists every whitespace and
    punctuation node, and costs a visitor per call: this runs on every method of every class)."""
    out: list[cst.CSTNode] = []
    for name in node.__dataclass_fields__:
        if name in _NO_CODE or name.startswith("whitespace"):
            continue
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            out.extend([item for item in value if isinstance(item, cst.CSTNode)])
        elif value_type not in _NOT_NODES and isinstance(value, cst.CSTNode):
            out.append(value)
    return out


# Field values that are never nodes, told by their exact type (isinstance() against LibCST's
# abstract node class is slow, and this runs on every node of every method of every class).
_NOT_NODES = frozenset({type(None), str, cst.MaybeSentinel})


_WRITES: frozenset[type] = frozenset({cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del, cst.Call})


def changes(root: cst.CSTNode, name: str, *, held: bool = False) -> bool:
    """Does code under ``root`` change what ``name`` refers to: attribute or item writes or
    deletions rooted at it, or a mutating method call on something rooted at it. With ``held``
    (``name`` holds the object itself, not a receiver of its attributes) also a mutating call on
    ``name`` itself and ``setattr``/``delattr`` on it."""
    pending: list[cst.CSTNode] = [root]
    while pending:
        node = pending.pop()
        node_type = type(node)  # the parser makes these exact classes: no slow isinstance()
        if node_type not in _WRITES:
            pass
        elif isinstance(node, cst.Assign):
            if any(_rooted(t.target, name) for t in node.targets):
                return True
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.Del)):
            if _rooted(node.target, name):
                return True
        elif isinstance(node, cst.Call):
            func = node.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in _MUTATORS
                and (_rooted(func.value, name) or (held and dotted_name(func.value) == name))
            ):
                return True
            if (
                held
                and dotted_name(func) in {"setattr", "delattr"}
                and node.args
                and dotted_name(node.args[0].value) == name
            ):
                return True
        pending.extend(_code_children(node))
    return False


def _changes_state(function: cst.FunctionDef, receiver: str) -> bool:
    return changes(function.body, receiver)


def state_changing_methods(node: cst.ClassDef, scope: str) -> tuple[str, ...]:
    """The methods of class ``node`` (defined in ``scope``) that change its instance's or its
    class's state after construction, as qualified names in the module (``Cache.put``)."""
    owner = qualified(scope, node.name.value)
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    out: list[str] = []
    for statement in body:
        if not isinstance(statement, cst.FunctionDef) or statement.name.value in _SETUP:
            continue
        params = (*statement.params.posonly_params, *statement.params.params)
        if params and _changes_state(statement, params[0].name.value):
            out.append(f"{owner}.{statement.name.value}")
    return tuple(out)
