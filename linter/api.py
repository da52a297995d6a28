"""The rule API: the only engine module that rule modules import."""

from __future__ import annotations

from linter.context import MODULE_SCOPE, RuleContext
from linter.diagnostics import Candidate, Category, Edit, Fix, Severity, Span
from linter.imports import ImportTable, dotted_name
from linter.project import ProjectIndex
from linter.rule import Example, ProjectFinding, Rule

__all__ = [
    "MODULE_SCOPE",
    "Candidate",
    "Category",
    "Edit",
    "Example",
    "Fix",
    "ImportTable",
    "ProjectFinding",
    "ProjectIndex",
    "Rule",
    "RuleContext",
    "Severity",
    "Span",
    "dotted_name",
]
