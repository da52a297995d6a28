"""One lean pre-order walk of a LibCST tree that dispatches every node to every rule at once."""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import libcst as cst

from isolint.context import RuleContext
from isolint.diagnostics import FileError
from isolint.faults import rule_failure
from isolint.positions import COMPOUND_TYPES, suites
from isolint.scopes import NOT_CODE_FIELDS

Handler = Callable[[cst.CSTNode], object]
# a handler's function, called with its visitor and the node
_Function = Callable[[Any, cst.CSTNode], object]
# node type name -> (the visitor's position among the walk's visitors, its handler's function)
_Table = dict[str, tuple[tuple[int, _Function], ...]]


def _calling(handler: Handler) -> _Function:
    """A bound handler as a table's function (its visitor argument is already bound)."""
    return lambda _visitor, node: handler(node)


class Visitor(Protocol):
    """A rule, or the engine's fact collector: anything with a code and visit_/leave_ methods."""

    @property
    def code(self) -> str: ...


# Fields that only hold whitespace, punctuation or comments: never interesting to a rule.
SKIPPED_FIELDS = NOT_CODE_FIELDS
# Fields walked last, in this order, so that decorators, bases and parameters come before bodies.
_BODY_FIELDS = ("body", "handlers", "orelse", "finalbody")
_SCOPE_TYPES = frozenset({cst.ClassDef, cst.FunctionDef, cst.Lambda})
_ENTER_SCOPE = object()
_EXIT_SCOPE = object()


class Walker:
    """Walks trees; caches, per node type, which fields hold child nodes and in what order."""

    def __init__(self) -> None:
        self._fields: dict[type[cst.CSTNode], tuple[str, ...]] = {}
        # str: a star's or an operator's text; MaybeSentinel: a default comma
        self._node_types: dict[type, bool] = {str: False, cst.MaybeSentinel: False}
        self._handler_names: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        # the visitors' classes, in order -> node type name -> (visitor's position, function)
        # for visits and for leaves: a file's walk only looks its visitors' table up
        self._tables: dict[tuple[type, ...], tuple[_Table, _Table] | None] = {}

    def _handlers(self, visitor_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The ``visit_``/``leave_`` method names of a visitor class (``dir()`` is slow: once
        per class, not per file)."""
        cached = self._handler_names.get(visitor_type)
        if cached is None:
            names = dir(visitor_type)
            cached = (
                tuple(a for a in names if a.startswith("visit_")),
                tuple(a for a in names if a.startswith("leave_")),
            )
            self._handler_names[visitor_type] = cached
        return cached

    def _dispatch(self, visitor_types: tuple[type, ...]) -> tuple[_Table, _Table] | None:
        """The visit and leave tables of visitors of these classes, in this order (handlers
        are methods: looked up on the class, as rules are validated); None when a handler is
        not a plain function of its class (each file's visitors are then asked for their bound
        handlers, as ``getattr`` gives them)."""
        if visitor_types in self._tables:
            return self._tables[visitor_types]
        visits: dict[str, list[tuple[int, _Function]]] = {}
        leaves: dict[str, list[tuple[int, _Function]]] = {}
        for position, visitor_type in enumerate(visitor_types):
            visit_names, leave_names = self._handlers(visitor_type)
            for names, table in ((visit_names, visits), (leave_names, leaves)):
                for attr in names:
                    function = inspect.getattr_static(visitor_type, attr)
                    if type(function) is not types.FunctionType:
                        self._tables[visitor_types] = None  # a staticmethod, a callable...
                        return None
                    table.setdefault(attr[6:], []).append((position, function))
        tables = (
            {name: tuple(entries) for name, entries in visits.items()},
            {name: tuple(entries) for name, entries in leaves.items()},
        )
        self._tables[visitor_types] = tables
        return tables

    def _child_fields(self, node_type: type[cst.CSTNode]) -> tuple[str, ...]:
        """The fields of ``node_type`` that may hold child nodes, bodies last (a field typed
        ``str``, a name's or a string's value, never holds one: a leaf type has none)."""
        cached = self._fields.get(node_type)
        if cached is None:
            names = [
                f.name
                for f in dataclasses.fields(node_type)
                if f.name not in SKIPPED_FIELDS
                and not f.name.startswith("whitespace")
                and f.type is not str
            ]
            head = [n for n in names if n not in _BODY_FIELDS]
            tail = [n for n in _BODY_FIELDS if n in names]
            cached = tuple(head + tail)
            self._fields[node_type] = cached
        return cached

    def _is_node(self, value: object) -> bool:
        # isinstance() against LibCST's abstract base classes is slow; cache per concrete type
        value_type = type(value)
        known = self._node_types.get(value_type)
        if known is None:
            known = isinstance(value, cst.CSTNode)
            self._node_types[value_type] = known
        return known

    def children(self, node: cst.CSTNode) -> list[object]:
        """Child nodes in lexical order, with scope markers around class and function bodies."""
        out: list[object] = []
        node_type = type(node)
        fields = self._fields.get(node_type)
        if fields is None:
            fields = self._child_fields(node_type)
        is_scope = node_type in _SCOPE_TYPES
        known = self._node_types
        for name in fields:
            value = getattr(node, name)
            if is_scope and name == "body":
                out.append(_ENTER_SCOPE)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                out.extend([v for v in value if known.get(type(v)) or self._is_node(v)])
            elif value is not None and (known.get(value_type) or self._is_node(value)):
                out.append(value)
            if is_scope and name == "body":
                out.append(_EXIT_SCOPE)
        return out

    def walk(self, context: RuleContext, rules: Sequence[Visitor]) -> list[FileError]:
        """Walk ``context.module`` once, calling each rule's visit_/leave_ methods on the way.

        A node without children and without leave handlers is left right after its visit (it
        is never pushed to be left, nor put among the ancestors: nothing could see it there).
        Each node's statement path (``top_of``) is recorded as its parent's children are pushed:
        a statement of a body gets its own, any other node its parent's."""
        visits, leaves = self._tables_for(rules)
        failed: dict[str, FileError] = {}
        ancestors = context.ancestors
        scopes = context.scopes
        imports = context.imports
        top_of = context.top_of  # id(node) -> its statement's path (``isolint.positions.Unit``)
        module = context.module
        # id(body) -> (the path of its class, function or module, id(statement) -> index)
        bodies: dict[int, tuple[tuple[int, ...], dict[int, int]]] = {
            id(module): ((), {id(s): i for i, s in enumerate(module.body)})
        }
        top_of[id(module)] = ()
        children = self.children
        child_fields = self._fields  # a leaf type's is empty: not worth a call of children()
        # a node to visit, a 1-tuple holding a node to leave, or a scope marker
        stack: list[object] = [module]
        pop = stack.pop
        push = stack.append
        while stack:
            item = pop()
            if type(item) is tuple:
                node: cst.CSTNode = item[0]
                ancestors.pop()
                handlers = leaves.get(type(node).__name__)
                if handlers:
                    self._leave(context, node, rules, handlers, failed)
                continue
            if item is _ENTER_SCOPE:
                owner = ancestors[-1]
                name = (
                    owner.name.value
                    if type(owner) is cst.ClassDef or type(owner) is cst.FunctionDef
                    else "<lambda>"
                )
                scopes.append((name, owner))
                imports.enter_scope()
                continue
            if item is _EXIT_SCOPE:
                scopes.pop()
                imports.exit_scope()
                continue
            node = item  # type: ignore[assignment]  # not isinstance(): an ABC, slow
            type_name = type(node).__name__
            handlers = visits.get(type_name)
            if handlers:
                context.current = node
                for position, function in handlers:
                    rule = rules[position]
                    if rule.code in failed:
                        continue
                    try:
                        function(rule, node)
                    except MemoryError:  # the file's, not the rule's: past the worker's ceiling
                        raise
                    except Exception as exc:  # noqa: BLE001 - a broken rule must not take the file down with it
                        failed[rule.code] = rule_failure(context.path, rule.code, exc)
            fields = child_fields.get(type(node))
            below = children(node) if fields is None or fields else ()
            if not below:
                handlers = leaves.get(type_name)
                if handlers:
                    self._leave(context, node, rules, handlers, failed)
                continue
            push((node,))
            ancestors.append(node)
            key = id(node)
            body = bodies.get(key)
            if body is None:
                unit = top_of[key]
                for child in below:
                    top_of[id(child)] = unit
                if type(node) in _SCOPE_TYPES:  # not nodes: the scope markers
                    del top_of[id(_ENTER_SCOPE)], top_of[id(_EXIT_SCOPE)]
            else:
                path, statements = body
                for child in below:
                    index = statements.get(id(child))
                    if index is None:
                        top_of[id(child)] = top_of[key]
                        continue
                    child_unit = top_of[id(child)] = (*path, index)
                    # exact types (isinstance() is slow on LibCST's classes, and the parser
                    # makes no subclasses)
                    child_type = type(child)
                    if child_type is cst.ClassDef or child_type is cst.FunctionDef:
                        suite = child.body  # type: ignore[attr-defined]
                        if type(suite) is cst.IndentedBlock:
                            inner = {id(s): i for i, s in enumerate(suite.body)}
                            bodies[id(suite)] = (child_unit, inner)
                    elif child_type in COMPOUND_TYPES:
                        for number, suite in enumerate(suites(cast(cst.CSTNode, child))):
                            if type(suite) is cst.IndentedBlock:
                                inner = {id(s): i for i, s in enumerate(suite.body)}
                                bodies[id(suite)] = ((*child_unit, number), inner)
            stack.extend(reversed(below))
        return list(failed.values())

    def _tables_for(self, rules: Sequence[Visitor]) -> tuple[_Table, _Table]:
        """The visit and leave tables of these visitors: their classes' cached ones, else (a
        handler that is not a plain function) one made for this file from the handlers as
        ``getattr`` gives them."""
        tables = self._dispatch(tuple(type(rule) for rule in rules))
        if tables is not None:
            return tables
        visits: dict[str, list[tuple[int, _Function]]] = {}
        leaves: dict[str, list[tuple[int, _Function]]] = {}
        for position, rule in enumerate(rules):
            visit_names, leave_names = self._handlers(type(rule))
            for names, table in ((visit_names, visits), (leave_names, leaves)):
                for attr in names:
                    table.setdefault(attr[6:], []).append((position, _calling(getattr(rule, attr))))
        return (
            {name: tuple(entries) for name, entries in visits.items()},
            {name: tuple(entries) for name, entries in leaves.items()},
        )

    @staticmethod
    def _leave(
        context: RuleContext,
        node: cst.CSTNode,
        rules: Sequence[Visitor],
        handlers: tuple[tuple[int, _Function], ...],
        failed: dict[str, FileError],
    ) -> None:
        """Call ``node``'s leave handlers (its visit handlers are called in the loop itself,
        which saves a call on the many nodes that have some)."""
        context.current = node
        for position, function in handlers:
            rule = rules[position]
            if rule.code in failed:
                continue
            try:
                function(rule, node)
            except MemoryError:  # the file's, not the rule's: past the worker's ceiling
                raise
            except Exception as exc:  # noqa: BLE001 - a broken rule must not take the file down with it
                failed[rule.code] = rule_failure(context.path, rule.code, exc)
