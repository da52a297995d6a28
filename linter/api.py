"""The rule API: the only engine module that rule modules import."""

from __future__ import annotations

from isolint.callees import (
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
from isolint.context import MODULE_SCOPE, RuleContext
from isolint.diagnostics import Candidate, Category, Edit, Fix, Related, Severity, Span
from isolint.facts import (
    MUTATING_METHODS,
    CalleeRef,
    ClassFacts,
    FunctionFacts,
    ModuleFacts,
    ParamFacts,
)
from isolint.imports import ImportTable, dotted_name
from isolint.options import (
    BOOLEAN,
    IDENTIFIER_GLOBS,
    INTEGER,
    NAME_GLOBS,
    STRING,
    STRING_TABLE,
    STRINGS,
    Option,
    OptionType,
)
from isolint.project import ClassRef, FunctionRef, ModuleRef, ProjectIndex, Signature, VariableRef
from isolint.rule import Example, NodeEdit, NodeFix, NodeNote, ProjectFinding, Rule
from isolint.scopes import (
    BindingKind,
    FunctionScope,
    NameBinding,
    Resolved,
    ScopeChain,
    bound_names,
    comprehension_names,
)
from isolint.walk import SKIPPED_FIELDS

__all__ = [
    "BOOLEAN",
    "IDENTIFIER_GLOBS",
    "INTEGER",
    "MODULE_SCOPE",
    "MUTATING_METHODS",
    "NAME_GLOBS",
    "SKIPPED_FIELDS",
    "STRING",
    "STRINGS",
    "STRING_TABLE",
    "BindingKind",
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
    "FunctionScope",
    "FunctionRef",
    "ImportTable",
    "LocalTypes",
    "ModuleFacts",
    "ModuleRef",
    "NameBinding",
    "NodeEdit",
    "NodeFix",
    "NodeNote",
    "Option",
    "OptionType",
    "ParamFacts",
    "ProjectFinding",
    "ProjectIndex",
    "Related",
    "Resolved",
    "ResolvedCallee",
    "Rule",
    "RuleContext",
    "ScopeChain",
    "Severity",
    "Signature",
    "Span",
    "VariableRef",
    "bound_names",
    "call_signatures",
    "callee_ref",
    "comprehension_names",
    "describe_signature",
    "dotted_name",
    "implementation_signature",
    "mro",
    "resolve_call",
    "resolve_callee",
]
