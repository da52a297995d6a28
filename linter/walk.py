"""One lean pre-order walk of a LibCST tree that dispatches every node to every rule at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Protocol

import libcst as cst

from isolint.context import RuleContext
from isolint.diagnostics import FileError
from isolint.faults import rule_failure
from isolint.positions import COMPOUND_TYPES, suites
from isolint.scopes import NOT_CODE_FIELDS

Handler = Callable[[cst.CSTNode], object]


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
        self._node_types: dict[type, bool] = {}
        self._handler_names: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}

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

    def _child_fields(self, node_type: type[cst.CSTNode]) -> tuple[str, ...]:
        cached = self._fields.get(node_type)
        if cached is None:
            names = [
                f.name
                for f in dataclasses.fields(node_type)
                if f.name not in SKIPPED_FIELDS and not f.name.startswith("whitespace")
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
        is_scope = type(node) in _SCOPE_TYPES
        is_node = self._is_node
        for name in self._child_fields(type(node)):
            value = getattr(node, name)
            if is_scope and name == "body":
                out.append(_ENTER_SCOPE)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                out.extend([v for v in value if is_node(v)])
            elif value is not None and is_node(value):
                out.append(value)
            if is_scope and name == "body":
                out.append(_EXIT_SCOPE)
        return out

    def walk(self, context: RuleContext, rules: Sequence[Visitor]) -> list[FileError]:
        """Walk ``context.module`` once, calling each rule's visit_/leave_ methods on the way."""
        visits: dict[str, list[tuple[Visitor, Handler]]] = {}
        leaves: dict[str, list[tuple[Visitor, Handler]]] = {}
        for rule in rules:
            visit_names, leave_names = self._handlers(type(rule))
            for attr in visit_names:
                visits.setdefault(attr[6:], []).append((rule, getattr(rule, attr)))
            for attr in leave_names:
                leaves.setdefault(attr[6:], []).append((rule, getattr(rule, attr)))
        failed: dict[str, FileError] = {}
        ancestors = context.ancestors
        scopes = context.scopes
        imports = context.imports
        top_of = context.top_of  # id(node) -> its statement's path (``isolint.positions.Unit``)
        # id(body) -> (the path of its class, function or module, id(statement) -> index)
        bodies: dict[int, tuple[tuple[int, ...], dict[int, int]]] = {
            id(context.module): ((), {id(s): i for i, s in enumerate(context.module.body)})
        }
        unit: tuple[int, ...] = ()
        stack: list[tuple[object, bool]] = [(context.module, False)]
        while stack:
            item, leaving = stack.pop()
            if item is _ENTER_SCOPE:
                owner = ancestors[-1]
                name = (
                    owner.name.value
                    if isinstance(owner, (cst.ClassDef, cst.FunctionDef))
                    else "<lambda>"
                )
                scopes.append((name, owner))
                imports.enter_scope()
                continue
            if item is _EXIT_SCOPE:
                scopes.pop()
                imports.exit_scope()
                continue
            node: cst.CSTNode = item  # type: ignore[assignment]  # not isinstance(): an ABC, slow
            type_name = type(node).__name__
            if leaving:
                ancestors.pop()
                handlers = leaves.get(type_name)
            else:
                if ancestors:
                    parent = id(ancestors[-1])
                    body = bodies.get(parent)
                    index = body[1].get(id(node)) if body is not None else None
                    if body is None or index is None:
                        unit = top_of[parent]
                    else:  # a statement of the module or of an indented block
                        unit = (*body[0], index)
                        if isinstance(node, (cst.ClassDef, cst.FunctionDef)):
                            if isinstance(node.body, cst.IndentedBlock):
                                statements = {id(s): i for i, s in enumerate(node.body.body)}
                                bodies[id(node.body)] = (unit, statements)
                        elif type(node) in COMPOUND_TYPES:
                            for number, suite in enumerate(suites(node)):
                                if isinstance(suite, cst.IndentedBlock):
                                    statements = {id(s): i for i, s in enumerate(suite.body)}
                                    bodies[id(suite)] = ((*unit, number), statements)
                top_of[id(node)] = unit
                handlers = visits.get(type_name)
            if handlers:
                context.current = node
                for rule, handler in handlers:
                    if rule.code in failed:
                        continue
                    try:
                        handler(node)
                    except MemoryError:  # the file's, not the rule's: past the worker's ceiling
                        raise
                    except Exception as exc:  # noqa: BLE001 - a broken rule must not take the file down with it
                        failed[rule.code] = rule_failure(context.path, rule.code, exc)
            if not leaving:
                stack.append((node, True))
                ancestors.append(node)
                stack.extend([(child, False) for child in reversed(self.children(node))])
        return list(failed.values())
