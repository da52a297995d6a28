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
        if not self.scopes:
            return MODULE_SCOPE
        return ".".join(name for name, _ in self.scopes)

    def enclosing_function(self) -> cst.FunctionDef | cst.Lambda | None:
        """The innermost function whose body is being walked, if any."""
        for _, node in reversed(self.scopes):
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                return node
        return None

    def enclosing_class(self) -> cst.ClassDef | None:
        """The innermost class whose body is being walked, if any."""
        for _, node in reversed(self.scopes):
            if isinstance(node, cst.ClassDef):
                return node
        return None

    def at_module_level(self) -> bool:
        return not self.scopes

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

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
