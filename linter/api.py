"""The rule API: the only engine module that rule modules import."""

from __future__ import annotations

from linter.callees import (
    CallResolvingVisitor,
    LocalTypes,
    ResolvedCallee,
    call_signatures,
    callee_ref,
    describe_signature,
    implementation_signature,
    mro,
    resolve_call,
    resolve_callee,
)
from linter.context import MODULE_SCOPE, RuleContext
from linter.diagnostics import Candidate, Category, Edit, Fix, Related, Severity, Span
from linter.facts import (
    MUTATING_METHODS,
    CalleeRef,
    ClassFacts,
    FunctionFacts,
    ModuleFacts,
    ParamFacts,
)
from linter.imports import ImportTable, dotted_name
from linter.project import ClassRef, FunctionRef, ModuleRef, ProjectIndex, Signature, VariableRef
from linter.rule import Example, NodeEdit, NodeFix, NodeNote, ProjectFinding, Rule
from linter.walk import SKIPPED_FIELDS

__all__ = [
    "MODULE_SCOPE",
    "MUTATING_METHODS",
    "SKIPPED_FIELDS",
    "CallResolvingVisitor",
    "CalleeRef",
    "Candidate",
    "Category",
    "ClassFacts",
    "ClassRef",
    "Edit",
    "Example",
    "Fix",
    "FunctionFacts",
    "FunctionRef",
    "ImportTable",
    "LocalTypes",
    "ModuleFacts",
    "ModuleRef",
    "NodeEdit",
    "NodeFix",
    "NodeNote",
    "ParamFacts",
    "ProjectFinding",
    "ProjectIndex",
    "Related",
    "ResolvedCallee",
    "Rule",
    "RuleContext",
    "Severity",
    "Signature",
    "Span",
    "VariableRef",
    "call_signatures",
    "callee_ref",
    "describe_signature",
    "dotted_name",
    "implementation_signature",
    "mro",
    "resolve_call",
    "resolve_callee",
]
