"""Shared by the ISO2 rules: which expressions build a mutable container, and which code mutates one."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from isolint.api import ImportTable

# Builtin constructors, recognised by bare name unless an import rebinds the name.
BUILTIN_CONTAINERS = frozenset({"list", "dict", "set", "bytearray"})

# Library constructors, by the absolute dotted name an import resolves them to.
CONTAINER_CONSTRUCTORS = frozenset(
    {
        "collections.ChainMap",
        "collections.Counter",
        "collections.OrderedDict",
        "collections.UserDict",
        "collections.UserList",
        "collections.defaultdict",
        "collections.deque",
        # well-known cache types: mappings that hold whatever the process puts in them
        "cachetools.Cache",
        "cachetools.FIFOCache",
        "cachetools.LFUCache",
        "cachetools.LRUCache",
        "cachetools.MRUCache",
        "cachetools.RRCache",
        "cachetools.TLRUCache",
        "cachetools.TTLCache",
        "weakref.WeakKeyDictionary",
        "weakref.WeakSet",
        "weakref.WeakValueDictionary",
    }
)

# Methods that change a list, dict, set, deque or Counter in place.
MUTATING_METHODS = frozenset(
    {
        "__delitem__",
        "__setitem__",
        "add",
        "append",
        "appendleft",
        "clear",
        "difference_update",
        "discard",
        "extend",
        "extendleft",
        "insert",
        "intersection_update",
        "move_to_end",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "reverse",
        "rotate",
        "setdefault",
        "sort",
        "subtract",
        "symmetric_difference_update",
        "update",
    }
)

# Node types are told by exact type, not isinstance() (LibCST's node classes are ABCs, which
# makes isinstance() slow, and these run on every call and assignment); the parser makes no
# subclasses of them.
_LITERALS: frozenset[type] = frozenset(
    {cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp}
)


def _is_constructor(func: cst.BaseExpression, imports: ImportTable) -> bool:
    if type(func) is cst.Name and func.value in BUILTIN_CONTAINERS:
        return func.value not in imports.bindings
    return imports.qualified_name(func) in CONTAINER_CONSTRUCTORS


def is_mutable_container(expr: cst.BaseExpression, imports: ImportTable) -> bool:
    """A literal, comprehension or constructor call (``dict.fromkeys`` too) that makes a container."""
    if type(expr) in _LITERALS:
        return True
    if type(expr) is not cst.Call:
        return False
    func = expr.func
    if type(func) is cst.Attribute and func.attr.value == "fromkeys":
        return _is_constructor(func.value, imports)
    return _is_constructor(func, imports)


def target_elements(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The single targets of an assignment target, with tuple/list unpacking flattened."""
    if type(target) is cst.Tuple or type(target) is cst.List:
        for element in target.elements:
            yield from target_elements(element.value)
    elif type(target) is cst.StarredElement:
        yield from target_elements(target.value)
    else:
        yield target


def subscript_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``X`` for ``X[a][b]``: the object whose contents a subscript chain reaches into."""
    while type(expr) is cst.Subscript:
        expr = expr.value
    return expr


def mutated_containers(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The expressions a statement or call changes in place.

    ``X.append(v)`` and ``X[k].add(v)`` mutate ``X`` / ``X[k]``; ``X[k] = v`` and ``del X[k]``
    mutate ``X``; ``X[k] += 1`` mutates ``X``; ``X += [v]`` mutates ``X`` itself (``__iadd__``).
    Callers decide what the root of each expression (see ``subscript_root``) refers to.
    """
    if type(node) is cst.Call:
        func = node.func
        if type(func) is cst.Attribute and func.attr.value in MUTATING_METHODS:
            yield func.value
    elif type(node) is cst.Assign:
        for assign_target in node.targets:
            for element in target_elements(assign_target.target):
                if type(element) is cst.Subscript:
                    yield element.value
    elif type(node) is cst.Del:
        for element in target_elements(node.target):
            if type(element) is cst.Subscript:
                yield element.value
    elif type(node) is cst.AugAssign:
        target = node.target
        yield target.value if type(target) is cst.Subscript else target
