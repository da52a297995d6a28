"""Shared by the ISO1 rules: is a lazily cached global a constant (the same for every user)?

A cached value is a constant when no request data flows into it (no parameter of the getter
and no request-scoped name, directly or through the getter's local variables) and the value
cannot change afterwards: the global is declared with an immutable type (``str | None``), or
with a class from outside the project that the module never changes (no attribute or item
writes on it, no mutating method calls).

Also shared by the ISO2 rules: does a container hold only inert objects (class objects, library
clients, stateless project objects that nothing changes) rather than data?
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import libcst as cst
from isolint.api import MUTATING_METHODS, ImportTable, dotted_name
from isolint.rules._sites import _code_children, changes

_IMMUTABLE_TYPES = frozenset(
    {"str", "bytes", "int", "float", "bool", "complex", "tuple", "frozenset", "None"}
)
_TYPING_WRAPPERS = frozenset({"Optional", "Union", "Final", "Tuple", "FrozenSet"})
_MUTABLE_BUILTINS = frozenset({"dict", "list", "set", "bytearray", "object", "Any"})
# Annotations of class objects (``type[Connector]``): code, not data.
_CLASS_OBJECT_TYPES = frozenset({"type", "Type", "typing.Type"})
# Subscripted container annotations, and the position of their element (value) type.
_MAPPINGS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "defaultdict", "DefaultDict", "OrderedDict"}
    | {"WeakValueDictionary", "Cache", "LRUCache", "TTLCache", "LFUCache", "FIFOCache"}
    | {"MRUCache", "RRCache", "TLRUCache"}
)
_SEQUENCES = frozenset({"list", "List", "set", "Set", "deque", "Deque", "WeakSet", "Sequence"})
# Library modules whose objects change by use (a lock is acquired, an event set, a queue filled):
# a container of them is state, however rarely the project touches them.
_CHANGED_BY_USE_MODULES = frozenset(
    {"threading", "asyncio", "multiprocessing", "queue", "anyio", "trio", "gevent"}
)
# Standard-library modules of value types: a container of them holds data (a `datetime` per
# user), not a resource.
_VALUE_MODULES = frozenset(
    {"datetime", "decimal", "fractions", "uuid", "ipaddress", "pathlib", "email", "http"}
)


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


def _local_sources(func: cst.FunctionDef | cst.Lambda) -> dict[str, list[cst.CSTNode]]:
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
    func: cst.FunctionDef | cst.Lambda,
    value: cst.CSTNode,
    request_names: Iterable[str],
    *,
    parameters: bool = True,
) -> bool:
    """True if a parameter of ``func`` (other than a classmethod's ``cls``; only with
    ``parameters``) or a request-scoped name flows into ``value``, directly or through
    ``func``'s local variables."""
    params: set[str] = set()
    if parameters:
        params = {
            param.name.value
            for group in (
                func.params.posonly_params,
                func.params.params,
                func.params.kwonly_params,
            )
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


def container_annotation(annotation: cst.BaseExpression) -> bool:
    """True if every non-``None`` alternative of ``annotation`` is a builtin or ``typing``
    container (``dict[str, Spec] | None``, ``Optional[List[str]]``)."""
    found = False
    for alternative in _declared_types(annotation):
        if isinstance(alternative, cst.Name) and alternative.value == "None":
            continue
        head = alternative.value if isinstance(alternative, cst.Subscript) else alternative
        if (dotted_name(head) or "").rsplit(".", 1)[-1] not in _MAPPINGS | _SEQUENCES:
            return False
        found = True
    return found


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


def element_types(annotation: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The declared element types of a container annotation: ``V`` of ``dict[K, V]``
    (``Dict``, ``TTLCache``, ``defaultdict``...), ``T`` of ``list[T]`` / ``set[T]`` /
    ``deque[T]``, each alternative of a union separately (``None`` dropped); None when the
    annotation does not declare them (``dict``, ``Any``, a class)."""
    found: list[cst.BaseExpression] = []
    for alternative in _declared_types(annotation):
        if isinstance(alternative, cst.Name) and alternative.value == "None":
            continue
        if not isinstance(alternative, cst.Subscript):
            return None
        head = (dotted_name(alternative.value) or "").rsplit(".", 1)[-1]
        elements = [e.slice for e in alternative.slice]
        if head in _MAPPINGS and len(elements) == 2:
            element = elements[1]
        elif head in _SEQUENCES and len(elements) == 1:
            element = elements[0]
        else:
            return None
        if not isinstance(element, cst.Index):
            return None
        found.extend(
            t
            for t in _declared_types(element.value)
            if not (isinstance(t, cst.Name) and t.value == "None")
        )
    return found or None


def inert_element_classes(
    annotation: cst.BaseExpression, imports: ImportTable
) -> tuple[str, ...] | None:
    """If a container annotation declares its elements to be class objects (``type[X]``) or
    instances of named classes, the named classes as written (empty for class objects only),
    for the project phase to check (``inert_class``); None when an element may be data: a
    builtin or immutable value (``str``, ``tuple``, ``dict``), a standard-library value type
    (``datetime``, ``UUID``), an object that changes by use (``asyncio.Lock``,
    ``queue.Queue``), or an undeclared element type."""
    declared = element_types(annotation)
    if declared is None:
        return None
    classes: list[str] = []
    for element in declared:
        head = element.value if isinstance(element, cst.Subscript) else element
        written = dotted_name(head) or ""
        if isinstance(element, cst.Subscript) and written in _CLASS_OBJECT_TYPES:
            continue  # class objects: code, not data
        last = written.rsplit(".", 1)[-1]
        if not written or last in _MUTABLE_BUILTINS | _IMMUTABLE_TYPES | _TYPING_WRAPPERS:
            return None
        qualified = imports.qualified_name(head) or written
        if qualified.split(".", 1)[0] in _CHANGED_BY_USE_MODULES | _VALUE_MODULES:
            return None
        classes.append(written)
    return tuple(classes)


def _element_targets(root: cst.CSTNode, names: Collection[str]) -> set[str]:
    """Local names bound to an element of the container (spelled as one of ``names``): read
    from it (``v = X[k]``, ``X.get(k)``, ``X.setdefault(k, d)``, ``X.pop(k)``, ``for v in
    X.values()``) or stored into it (``X[k] = v``)."""
    out: set[str] = set()
    pending: list[cst.CSTNode] = [root]
    while pending:
        node = pending.pop()
        value: cst.BaseExpression | None = None
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            value, targets = node.value, [t.target for t in node.targets]
            for target in targets:
                if (
                    isinstance(target, cst.Subscript)
                    and dotted_name(target.value) in names
                    and isinstance(node.value, cst.Name)
                ):
                    out.add(node.value.value)
        elif isinstance(node, (cst.AnnAssign, cst.NamedExpr)) and node.value is not None:
            value, targets = node.value, [node.target]
        elif isinstance(node, (cst.For, cst.CompFor)):
            value, targets = node.iter, [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            value, targets = node.item, [node.asname.name]
        if value is not None and _reads_element(value, names):
            for target in targets:
                out |= {n for n in _names_read(target)}
        pending.extend(_code_children(node))
    return out


def _reads_element(value: cst.BaseExpression, names: Collection[str]) -> bool:
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Subscript):
        return dotted_name(value.value) in names
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        method = value.func.attr.value
        return dotted_name(value.func.value) in names and method in {
            "get",
            "setdefault",
            "pop",
            "values",
            "items",
        }
    return False


def _element_rooted(expr: cst.BaseExpression, names: Collection[str]) -> bool:
    """``expr`` reaches into an element of the container: ``X[k].attr``, ``X[k][j]`` (not
    ``X[k]`` itself)."""
    above = 0
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Subscript) and above and dotted_name(expr.value) in names:
            return True
        above += 1
        expr = expr.value
    return False


def elements_change(module: cst.Module, names: Collection[str]) -> bool:
    """True if code in ``module`` may change an element of a container spelled as one of
    ``names`` (``_CLIENTS``; ``cls._clients``, ``Pool._clients``): an attribute or item write
    rooted at ``X[k]``, a mutating call on ``X[k]``, or such a change (or a ``setattr``) on a
    local name that a function binds to an element, in that function (an element handed to
    another function that changes it is not seen)."""
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.FunctionDef) and any(
            changes(node.body, local, held=True) for local in _element_targets(node.body, names)
        ):
            return True
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.Del)):
            targets = [node.target]
        if any(_element_rooted(target, names) for target in targets):
            return True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            receiver = node.func.value
            if (
                node.func.attr.value in MUTATING_METHODS
                and isinstance(receiver, cst.Subscript)
                and dotted_name(receiver.value) in names
            ):
                return True
        pending.extend(_code_children(node))
    return False
