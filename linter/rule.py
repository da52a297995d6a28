"""The ``Rule`` base class and ``Example`` value type that every rule module builds on."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from linter.diagnostics import Candidate, Category, Related, Severity, category_for

if TYPE_CHECKING:
    from linter.context import RuleContext
    from linter.project import ProjectIndex


@dataclass(frozen=True)
class Example:
    """A code sample in a rule's docs, and a test: ``bad`` ones must be reported, ``good`` ones not.

    ``path`` is the file's project-relative path (it decides e.g. integration-test status);
    ``files`` are other project files the example needs; ``config`` holds ``[tool.isolint]`` keys.
    """

    code: str
    path: str = "app/service.py"
    files: tuple[tuple[str, str], ...] = ()
    config: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class NodeEdit:
    """Replace the source of ``node`` with ``content``; ``whole_lines`` also takes its lines' ends
    (use it with ``content=""`` to delete a statement's lines)."""

    node: cst.CSTNode
    content: str
    whole_lines: bool = False


@dataclass(frozen=True)
class NodeFix:
    """A fix as rules write it, on nodes; the engine turns it into a positioned ``Fix``."""

    title: str
    edits: tuple[NodeEdit, ...]


@dataclass(frozen=True)
class NodeNote:
    """A related location as rules write it: a node of the linted file and what it shows."""

    node: cst.CSTNode
    note: str


@dataclass(frozen=True)
class ProjectFinding:
    """A diagnostic decided in the global phase, from a candidate the per-file pass recorded.

    ``replacement``, when set, is a fix: the candidate node's source is replaced with it.
    ``sites``, when set, replaces the candidate's sites: qualified names of the functions
    (``pkg.mod.func``, ``pkg.mod.<module>``) where the state changes (request-path analysis).
    """

    candidate: Candidate
    message: str
    replacement: str | None = None
    fix_title: str | None = None
    related: tuple[Related, ...] = ()
    sites: tuple[str, ...] | None = None


class Rule:
    """Base class of every rule. One instance is created per linted file.

    Subclasses set the metadata class variables and define LibCST-style ``visit_<Node>`` /
    ``leave_<Node>`` methods; the engine walks each tree once and calls them. The class docstring
    holds the ruff-style doc sections (``## What it does``, ``## Why is this bad?``...).
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    message: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    default_enabled: ClassVar[bool] = True
    fix_title: ClassVar[str | None] = None
    bad: ClassVar[tuple[Example | str, ...]] = ()
    good: ClassVar[tuple[Example | str, ...]] = ()

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    @classmethod
    def category(cls) -> Category:
        return category_for(cls.code)

    @classmethod
    def examples(cls, kind: str) -> tuple[Example, ...]:
        raw = cls.bad if kind == "bad" else cls.good
        return tuple(e if isinstance(e, Example) else Example(code=e) for e in raw)

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    def report(
        self,
        node: cst.CSTNode,
        *,
        scope: str | None = None,
        fix: NodeFix | None = None,
        related: tuple[NodeNote, ...] = (),
        sites: Iterable[str] | None = None,
        **fields: object,
    ) -> None:
        """Report ``node`` with this rule's message template filled from ``fields``.

        ``related`` are other nodes of this file that explain the finding (another copy, the
        import a mock comes from), each with a note; they become ``Related`` locations.
        ``sites`` are the scopes of this file (``Class.method``, ``<module>``; see
        ``RuleContext.scope_name``) whose code changes the state: the global phase keeps the
        finding only where a request reaches one of them. None or empty: not classified, always
        reported.
        """
        self.context.report(
            self,
            node,
            self.message.format(**fields),
            scope=scope,
            fix=fix,
            related=related,
            sites=tuple(sites or ()),
        )

    def add_candidate(
        self,
        node: cst.CSTNode,
        payload: tuple[object, ...],
        *,
        scope: str | None = None,
        sites: Iterable[str] | None = None,
    ) -> None:
        """Record a site that the global phase decides on with the project index.

        ``sites`` as in ``report``; ``check_project`` may replace them with
        ``ProjectFinding(sites=...)`` (qualified names, for sites in other modules).
        """
        self.context.add_candidate(self, node, payload, scope=scope, sites=tuple(sites or ()))

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        """Decide this rule's candidates against the merged project index (global phase)."""
        return ()

    @classmethod
    def check_configuration(cls, index: ProjectIndex) -> Iterable[str]:
        """Warnings about this rule's configuration (e.g. a configured module that is missing)."""
        return ()
