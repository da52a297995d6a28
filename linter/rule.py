"""The ``Rule`` base class and ``Example`` value type that every rule module builds on."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import inspect
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from isolint.config import engine_keys
from isolint.diagnostics import Candidate, Category, Related, Severity, category_for
from isolint.errors import RuleDefinitionError
from isolint.options import Option, declared_options

if TYPE_CHECKING:
    from isolint.context import RuleContext
    from isolint.project import ProjectIndex


# The node types the walk dispatches on (``type(node).__name__``): LibCST's concrete classes.
NODE_TYPES = frozenset(
    name
    for name, value in vars(cst).items()
    if isinstance(value, type) and issubclass(value, cst.CSTNode) and not inspect.isabstract(value)
)
_HANDLER_PREFIXES = ("visit_", "leave_")


def handler_problems(visitor: type) -> list[str]:
    """Each ``visit_X``/``leave_X`` method of ``visitor`` whose ``X`` no node type is called:
    the walk would never call it (``visit_FunctionDefn``, ``visit_BaseExpression``)."""
    problems = []
    for attr in dir(visitor):
        prefix, _, node_type = attr.partition("_")
        if f"{prefix}_" not in _HANDLER_PREFIXES or node_type in NODE_TYPES:
            continue
        if not callable(getattr(visitor, attr, None)):
            continue
        guess = difflib.get_close_matches(node_type, NODE_TYPES, n=1, cutoff=0.8)
        hint = f" (did you mean `{prefix}_{guess[0]}`?)" if guess else ""
        problems.append(
            f"`{attr}`: `{node_type}` is not a concrete LibCST node type, so the walk never "
            f"calls it{hint}"
        )
    return problems


def _declared(payload: type | tuple[type, ...] | None) -> tuple[type, ...]:
    if payload is None:
        return ()
    return payload if isinstance(payload, tuple) else (payload,)


def payload_problems(payload: object) -> list[str]:
    """What keeps a rule's ``payload`` declaration from working: each class must be a frozen
    dataclass defined at module level (workers pickle it, the cache rebuilds it by its name)."""
    if payload is None:
        return []
    classes = payload if isinstance(payload, tuple) else (payload,)
    problems = []
    for cls in classes:
        if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
            problems.append(f"`payload`: {cls!r} is not a dataclass")
        elif not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            problems.append(f"`payload`: {cls.__qualname__} is not a frozen dataclass")
        elif "<locals>" in cls.__qualname__:
            problems.append(f"`payload`: {cls.__qualname__} is not defined at module level")
    if not classes:
        problems.append("`payload`: an empty tuple (use None for a rule without candidates)")
    return problems


def _payload_mismatch(rule: type[Rule], payload: object) -> str:
    name = getattr(rule, "code", None) or rule.__qualname__
    declared = _declared(rule.payload)
    if not declared:
        expected = "declares no `payload` class (set `payload = YourDataclass` on the rule)"
    else:
        expected = "declares `payload = " + " | ".join(c.__qualname__ for c in declared) + "`"
    return (
        f"rule {name} ({rule.__module__}.{rule.__qualname__}) passed a "
        f"{type(payload).__qualname__} to add_candidate, but {expected}"
    )


def _named_classes(annotation: object, found: list[type]) -> None:
    """The dataclasses and enums an annotation names (``X | None``, ``tuple[X, ...]``...)."""
    if isinstance(annotation, type):
        if (dataclasses.is_dataclass(annotation) or issubclass(annotation, enum.Enum)) and (
            annotation not in found
        ):
            found.append(annotation)
            if dataclasses.is_dataclass(annotation):
                _field_classes(annotation, found)
        return
    for argument in typing.get_args(annotation):
        _named_classes(argument, found)


def _field_classes(cls: type, found: list[type]) -> None:
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: such values are not cached
        return
    for field in dataclasses.fields(cls):
        if field.name in hints:
            _named_classes(hints[field.name], found)


def payload_classes(rules: Iterable[type[Rule]]) -> tuple[type, ...]:
    """Every class the candidates of ``rules`` may hold: each declared ``payload`` class and the
    dataclasses and enums its fields name, recursively. The cache's codec rebuilds exactly
    these (and the engine's own value types); a stored tag outside them is a cache miss."""
    found: list[type] = []
    for rule in rules:
        for cls in _declared(rule.payload):
            _named_classes(cls, found)
    return tuple(found)


@dataclass(frozen=True)
class Example:
    """A code sample in a rule's docs, and a test: ``bad`` ones must be reported, ``good`` ones not.

    ``path`` is the file's project-relative path (it decides e.g. integration-test status);
    ``files`` are other project files the example needs; ``config`` holds ``[tool.isolint]`` keys.

    A bad example may state what it expects, as Fixit's ``Invalid`` does (lines count from the
    first line of the dedented ``code``): ``expected_line``, the line(s) of ``path`` the rule
    reports, exactly; ``expected_message``, a fragment every one of those messages contains;
    ``expected_fix``, the code of ``path`` once the rule's fixes are applied.
    """

    code: str
    path: str = "app/service.py"
    files: tuple[tuple[str, str], ...] = ()
    config: tuple[tuple[str, object], ...] = ()
    expected_line: int | tuple[int, ...] | None = None
    expected_message: str | None = None
    expected_fix: str | None = None

    def expected_lines(self) -> tuple[int, ...] | None:
        line = self.expected_line
        return (line,) if isinstance(line, int) else line


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
    ``causes`` and ``cause_note``: as in ``Rule.report``.
    """

    candidate: Candidate
    message: str
    replacement: str | None = None
    fix_title: str | None = None
    related: tuple[Related, ...] = ()
    sites: tuple[str, ...] | None = None
    causes: tuple[str, ...] = ()
    cause_note: str = ""


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
    # True when ``check_project`` decides each candidate on its own (its findings for a
    # candidate depend only on that candidate and the index, not on the other candidates):
    # the server then re-decides only the candidates whose modules an edit changed.
    independent_candidates: ClassVar[bool] = False
    # The family shown by ``isolint rules``/``explain`` and in SARIF tags: team rules may name
    # their own (``"acme-security"``); empty means the code's family (``custom`` outside ISO).
    family: ClassVar[str] = ""
    fix_title: ClassVar[str | None] = None
    bad: ClassVar[tuple[Example | str, ...]] = ()
    good: ClassVar[tuple[Example | str, ...]] = ()
    # The fixed version of the bad examples: shown under "Use instead" in the docs, and tested
    # as good examples (``examples("good")`` includes them). ``good`` holds the hard negatives.
    fixed: ClassVar[tuple[Example | str, ...]] = ()
    # What this rule's candidates carry to ``check_project``: a frozen dataclass defined at
    # module level (a tuple of them when candidates come in several shapes). ``add_candidate``
    # accepts instances of it only; the cache stores it as typed data (``payload_classes``).
    payload: ClassVar[type | tuple[type, ...] | None] = None
    # The ``[tool.isolint]`` keys this rule reads (``isolint.options.Option``), read with
    # ``self.context.option(OPTION)``: the config loader checks them, ``explain`` shows them.
    options: ClassVar[tuple[Option[Any], ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Handler names and the payload class are checked when the rule class is defined
        (that is, when rules load)."""
        super().__init_subclass__(**kwargs)
        problems = [*handler_problems(cls), *payload_problems(cls.payload)]
        try:
            declared_options([("", cls.options)], engine_keys())
        except RuleDefinitionError as exc:
            problems.append(str(exc).replace("rule : ", ""))
        if problems:
            name = getattr(cls, "code", None) or cls.__qualname__
            raise RuleDefinitionError(
                f"rule {name} ({cls.__module__}.{cls.__qualname__}): " + "; ".join(problems)
            )

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    @classmethod
    def category(cls) -> Category:
        return category_for(cls.code)

    @classmethod
    def family_name(cls) -> str:
        return cls.family or cls.category().value

    @classmethod
    def examples(cls, kind: str) -> tuple[Example, ...]:
        if kind == "bad":
            raw = cls.bad
        elif kind == "fixed":
            raw = cls.fixed
        elif kind == "negatives":  # the hard negatives only
            raw = cls.good
        else:  # "good": everything that must not be reported
            raw = (*cls.fixed, *cls.good)
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
        causes: Iterable[str] = (),
        cause_note: str = "",
        **fields: object,
    ) -> None:
        """Report ``node`` with this rule's message template filled from ``fields``.

        ``related`` are other nodes of this file that explain the finding (another copy, the
        import a mock comes from), each with a note; they become ``Related`` locations.
        ``sites`` are the scopes of this file (``Class.method``, ``<module>``; see
        ``RuleContext.scope_name``) whose code changes the state: the global phase keeps the
        finding only where a request reaches one of them. None or empty: not classified, always
        reported.
        ``causes`` name the shared objects the finding is about (``pkg.mod.Class``), so that
        several rules' findings on one root cause are reported once (``isolint.causes``): a
        finding with a ``cause_note`` is a symptom that becomes a related location, with that
        note, of a root-cause finding (no ``cause_note``) naming one of its causes, when one is
        reported; otherwise it is reported as usual.
        """
        self.context.report(
            self,
            node,
            self.message.format(**fields),
            scope=scope,
            fix=fix,
            related=related,
            sites=tuple(sites or ()),
            causes=tuple(causes),
            cause_note=cause_note,
        )

    def add_candidate(
        self,
        node: cst.CSTNode,
        payload: object,
        *,
        scope: str | None = None,
        sites: Iterable[str] | None = None,
    ) -> None:
        """Record a site that the global phase decides on with the project index.

        ``payload`` is an instance of the rule's ``payload`` class (anything else raises
        ``RuleDefinitionError``); ``check_project`` reads it back with
        ``candidate.payload_as(ThatClass)``.
        ``sites`` as in ``report``; ``check_project`` may replace them with
        ``ProjectFinding(sites=...)`` (qualified names, for sites in other modules).
        """
        declared = type(self).payload
        if declared is None or not isinstance(payload, declared):
            raise RuleDefinitionError(_payload_mismatch(type(self), payload))
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


def rule_options(rules: Iterable[type[Rule]]) -> tuple[Option[Any], ...]:
    """The options ``rules`` declare, one per key, sorted (RuleDefinitionError when two rules
    declare one key differently, or a rule takes an engine key's name)."""
    return declared_options(((rule.code, rule.options) for rule in rules), engine_keys())
