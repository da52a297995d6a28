"""Value types produced by a lint run: diagnostics, file errors, per-file and whole-run results."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeVar

from isolint.suppressions import FileSuppressions

_P = TypeVar("_P")


class Severity(str, enum.Enum):
    """How a finding is reported; errors and warnings both fail a run."""

    ERROR = "error"
    WARNING = "warning"


class Category(str, enum.Enum):
    """The rule family; the digit after ``ISO`` in a code selects it (team rules: ``custom``)."""

    SINGLETON = "singleton"
    MODULE_STATE = "module-state"
    MOCK_IN_INTEGRATION = "mock-in-integration"
    NONE_DEPENDENCY = "none-dependency"
    SSOT = "ssot"
    REQUEST_BLEED = "request-bleed"
    META = "meta"
    CUSTOM = "custom"


FAMILY_CATEGORIES: tuple[tuple[str, Category], ...] = (
    ("ISO0", Category.META),
    ("ISO1", Category.SINGLETON),
    ("ISO2", Category.MODULE_STATE),
    ("ISO3", Category.MOCK_IN_INTEGRATION),
    ("ISO4", Category.NONE_DEPENDENCY),
    ("ISO5", Category.SSOT),
    ("ISO6", Category.REQUEST_BLEED),
)


def category_for(code: str) -> Category:
    """The family of a rule code: ``ISO201`` is module-state; a code in no built-in family (a
    team rule's ``ACME101``, a drop-in ``ISO901``) is ``custom``."""
    for prefix, category in FAMILY_CATEGORIES:
        if code.startswith(prefix):
            return category
    return Category.CUSTOM


class ExitCode(enum.IntEnum):
    """Process exit codes, as ruff and flake8 use them."""

    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    INTERRUPTED = 130  # SIGINT (Ctrl-C), as shells report it: 128 + 2
    TERMINATED = 143  # SIGTERM: 128 + 15


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based source range; ``end_column`` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based positions (end exclusive) with ``content``."""

    span: Span
    content: str


@dataclass(frozen=True)
class Fix:
    """A safe, self-contained rewrite that resolves one diagnostic."""

    title: str
    edits: tuple[Edit, ...]


# How a request path's first related location begins (``entry point POST /items: `create```).
ENTRY_POINT_NOTE = "entry point "


@dataclass(frozen=True, order=True)
class Related:
    """Another location that explains a finding: a request path step, another copy, a use."""

    path: str
    line: int
    column: int
    note: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding of one rule at one place."""

    path: str
    span: Span
    code: str
    name: str
    severity: Severity
    message: str
    fingerprint: str
    fix: Fix | None = None
    statement_line: int | None = None  # first line of the reported statement (suppressions)
    related: tuple[Related, ...] = ()
    # Qualified names (``pkg.mod.Class.method``, ``pkg.mod.<module>``) of the functions whose
    # code makes the finding harmful (a mutation, a state-changing use): the global phase
    # reports the finding only where a request can reach one of them (request-path analysis).
    sites: tuple[str, ...] = ()
    # One finding per root cause (``isolint.causes``): the shared objects this finding is about
    # (``pkg.mod.Class``). With an empty ``cause_note`` the finding is a root cause; with one, it
    # is a symptom: when a root-cause finding names one of its causes, it becomes a related
    # location of that finding with this note instead of a finding of its own.
    causes: tuple[str, ...] = ()
    cause_note: str = ""

    @property
    def category(self) -> Category:
        return category_for(self.code)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed (or a rule that failed on it), with the reason."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    kind: str = "error"
    rule: str = ""  # the code of the rule that failed (kind "internal"), or ""
    detail: str = ""  # the traceback of an internal error (shown with ``--debug``)

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.message)


@dataclass(frozen=True)
class Candidate:
    """A site found in the per-file pass that needs the project index to become a diagnostic.

    The location and fingerprint are resolved already; ``payload`` is an instance of the rule's
    ``payload`` class (a frozen dataclass, ``Rule.payload``): read it with ``payload_as``.
    """

    code: str
    path: str
    span: Span
    fingerprint: str
    payload: object
    sites: tuple[str, ...] = ()  # as ``Diagnostic.sites``: where the candidate's state changes

    def payload_as(self, cls: type[_P]) -> _P:
        """The payload, typed as ``cls``; TypeError (naming the rule) when it is something else."""
        payload = self.payload
        if not isinstance(payload, cls):
            raise TypeError(
                f"{self.code} candidate at {self.path}:{self.span.line} carries a "
                f"{type(payload).__qualname__}, not a {cls.__qualname__}"
            )
        return payload


@dataclass(frozen=True)
class FileResult:
    """Everything the per-file pass learned about one file: plain, picklable, cacheable."""

    path: str
    diagnostics: tuple[Diagnostic, ...] = ()
    errors: tuple[FileError, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    facts: object | None = None
    suppressions: FileSuppressions = field(default_factory=FileSuppressions)
    digest: str = ""  # sha256 of the bytes that were linted (the cache checks it)


@dataclass(frozen=True)
class RunResult:
    """The outcome of a whole run, ready for a reporter."""

    files: int
    diagnostics: tuple[Diagnostic, ...]
    errors: tuple[FileError, ...]
    suppressed: int = 0
    known: tuple[Diagnostic, ...] = ()
    fixed_in_baseline: tuple[str, ...] = ()
    fixes_applied: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def files_with_findings(self) -> int:
        return len({d.path for d in self.diagnostics})
