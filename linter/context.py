"""What a rule sees of the file being linted, and where its reports are collected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import libcst as cst

from isolint.config import Settings
from isolint.imports import ImportTable
from isolint.options import Option
from isolint.scopes import FunctionScope, ScopeBuilder, ScopeChain

if TYPE_CHECKING:
    from isolint.rule import NodeFix, NodeNote, Rule

MODULE_SCOPE = "<module>"
T = TypeVar("T")


@dataclass(frozen=True)
class Report:
    """A finding before positions are resolved (positions cost a second pass, so they come last)."""

    rule: type[Rule]
    node: cst.CSTNode
    message: str
    scope: str
    fix: NodeFix | None
    statement: cst.CSTNode | None = None
    related: tuple[NodeNote, ...] = ()
    sites: tuple[str, ...] = ()  # scopes of this file where the state changes (see Rule.report)
    causes: tuple[str, ...] = ()  # as ``Diagnostic.causes``
    cause_note: str = ""


@dataclass(frozen=True)
class PendingCandidate:
    """A candidate site before positions are resolved."""

    rule: type[Rule]
    node: cst.CSTNode
    payload: object  # an instance of the rule's ``payload`` class
    scope: str
    sites: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileInfo:
    """Facts about the linted file that do not depend on its contents."""

    path: str
    module_name: str
    is_package: bool
    is_test: bool
    is_integration_test: bool
    is_conftest: bool


def plain_code(node: cst.CSTNode) -> str | None:
    """The source of a name, dotted name, string, subscript of those or ``|`` of those written
    without parentheses and with plain spaces only (most annotations), without LibCST's
    codegen (slow: a context manager per node); None for anything else. Exact: the same text
    as ``Module.code_for_node``, told by exact node types (the parser makes no subclasses)."""
    if type(node) is cst.Name or type(node) is cst.SimpleString:
        return None if node.lpar else node.value
    if type(node) is cst.Attribute:
        if node.lpar or type(node.dot) is not cst.Dot:
            return None
        return _infix(node.value, node.dot, ".", node.attr)
    if type(node) is cst.Subscript:
        return _plain_subscript(node)
    if type(node) is cst.BinaryOperation:
        if node.lpar or type(node.operator) is not cst.BitOr:
            return None
        return _infix(node.left, node.operator, "|", node.right)
    return None


def _infix(
    left: cst.CSTNode, token: cst.Dot | cst.BitOr, text: str, right: cst.CSTNode
) -> str | None:
    """``left`` ``text`` ``right`` with the token's own plain spaces around it."""
    return _joined(
        [
            plain_code(left),
            _plain_space(token.whitespace_before),
            text,
            _plain_space(token.whitespace_after),
            plain_code(right),
        ]
    )


def _joined(parts: list[str | None]) -> str | None:
    text: list[str] = []
    for part in parts:
        if part is None:
            return None
        text.append(part)
    return "".join(text)


def _plain_space(whitespace: object) -> str | None:
    return whitespace.value if type(whitespace) is cst.SimpleWhitespace else None


def _plain_subscript(node: cst.Subscript) -> str | None:
    if node.lpar or type(node.lbracket) is not cst.LeftSquareBracket:
        return None
    parts = [
        plain_code(node.value),
        _plain_space(node.whitespace_after_value),
        "[",
        _plain_space(node.lbracket.whitespace_after),
    ]
    last = len(node.slice) - 1
    for index, element in enumerate(node.slice):
        item = element.slice
        if type(item) is not cst.Index or item.star is not None or item.whitespace_after_star:
            return None
        parts.append(plain_code(item.value))
        comma = element.comma
        if comma is cst.MaybeSentinel.DEFAULT:
            if index != last:
                parts.append(", ")
        elif type(comma) is cst.Comma:
            parts += [
                _plain_space(comma.whitespace_before),
                ",",
                _plain_space(comma.whitespace_after),
            ]
        else:
            return None
    parts += [_plain_space(node.rbracket.whitespace_before), "]"]
    return _joined(parts)


class RuleContext:
    """Per-file state shared by the engine and the rules: tree, imports, scope stack, reports."""

    def __init__(
        self, info: FileInfo, module: cst.Module, settings: Settings, imports: ImportTable
    ) -> None:
        self.info = info
        self.module = module
        self.settings = settings
        self.imports = imports
        self.ancestors: list[cst.CSTNode] = []
        self.current: cst.CSTNode | None = None
        # id(node) -> the innermost statement of a module, class or function body holding it, as
        # indices down those bodies (``isolint.positions.Unit``): what positions generate
        self.top_of: dict[int, tuple[int, ...]] = {}
        self.scopes: list[tuple[str, cst.CSTNode]] = []
        # the innermost scope's owner when ``scope_name`` last joined the names, and the name
        # (rules ask for it at most calls and assignments: a scope's is joined once)
        self._named_scope: cst.CSTNode | None = None
        self._scope_name = MODULE_SCOPE
        self.reports: list[Report] = []
        self.candidates: list[PendingCandidate] = []
        self._function_scopes: dict[int, FunctionScope] = {}
        self._scope_builder = ScopeBuilder()

    @property
    def path(self) -> str:
        return self.info.path

    def function_scope(self, node: cst.FunctionDef | cst.Lambda) -> FunctionScope:
        """What function ``node`` binds and declares, for the whole function whatever the walk
        has reached (``isolint.scopes``); computed once per function and file."""
        found = self._function_scopes.get(id(node))
        if found is None or found.node is not node:
            found = self._scope_builder.function_scope(node)
            self._function_scopes[id(node)] = found
        return found

    def scope_chain(self) -> ScopeChain:
        """The functions, lambdas and comprehensions around the node being visited, to resolve
        a name read there (``isolint.scopes.ScopeChain``)."""
        node = self.current if self.current is not None else self.module
        return ScopeChain.enclosing(node, self.ancestors, self.function_scope)

    def option(self, option: Option[T]) -> T:
        """The configured value of a rule option (one the rule declares), else its default."""
        return self.settings.option(option)

    @property
    def parent(self) -> cst.CSTNode | None:
        """The parent of the node being visited (or left)."""
        return self.ancestors[-1] if self.ancestors else None

    def scope_name(self) -> str:
        """Qualified name of the current scope, e.g. ``Manager.connect``; ``<module>`` at top level."""
        scopes = self.scopes
        if not scopes:
            return MODULE_SCOPE
        owner = scopes[-1][1]  # a node has one place in the tree: one scope path
        if owner is not self._named_scope:
            self._scope_name = ".".join([name for name, _ in scopes])
            self._named_scope = owner
        return self._scope_name

    def enclosing_function(self) -> cst.FunctionDef | cst.Lambda | None:
        """The innermost function whose body is being walked, if any."""
        for _, node in reversed(self.scopes):
            if type(node) is cst.FunctionDef or type(node) is cst.Lambda:  # isinstance(): slow
                return node
        return None

    def enclosing_class(self) -> cst.ClassDef | None:
        """The innermost class whose body is being walked, if any."""
        for _, node in reversed(self.scopes):
            if type(node) is cst.ClassDef:  # not isinstance(): slow on LibCST's classes
                return node
        return None

    def at_module_level(self) -> bool:
        return not self.scopes

    def code_for(self, node: cst.CSTNode) -> str:
        text = plain_code(node)
        return text if text is not None else self.module.code_for_node(node)

    def report(
        self,
        rule: Rule,
        node: cst.CSTNode,
        message: str,
        *,
        scope: str | None = None,
        fix: NodeFix | None = None,
        related: tuple[NodeNote, ...] = (),
        sites: tuple[str, ...] = (),
        causes: tuple[str, ...] = (),
        cause_note: str = "",
    ) -> None:
        self.reports.append(
            Report(
                type(rule),
                node,
                message,
                scope if scope is not None else self.scope_name(),
                fix,
                self._statement(),
                related,
                sites,
                causes,
                cause_note,
            )
        )

    def _statement(self) -> cst.CSTNode | None:
        """The innermost statement around the node being walked (checked against the report)."""
        chain = [self.current, *reversed(self.ancestors)] if self.current is not None else []
        for node in chain:
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return node
        return None

    def add_candidate(
        self,
        rule: Rule,
        node: cst.CSTNode,
        payload: object,
        *,
        scope: str | None = None,
        sites: tuple[str, ...] = (),
    ) -> None:
        self.candidates.append(
            PendingCandidate(
                type(rule),
                node,
                payload,
                scope if scope is not None else self.scope_name(),
                sites,
            )
        )
