"""Shared call analysis for the ISO4 rules: argument shapes, local names, binding to signatures."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from linter.api import (
    ClassRef,
    FunctionRef,
    ParamFacts,
    ProjectIndex,
    Rule,
    RuleContext,
    Signature,
    dotted_name,
)

NONE = "none"
OTHER = "other"


def is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


@dataclass(frozen=True)
class CallShape:
    """The arguments of a call as plain data: positional kinds, keyword kinds, splats."""

    callee: str
    module: str
    imported: bool
    positional: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...]
    star: bool
    double_star: bool

    def as_payload(self) -> tuple[object, ...]:
        return (
            self.callee,
            self.module,
            self.imported,
            self.positional,
            self.keywords,
            self.star,
            self.double_star,
        )

    @classmethod
    def from_payload(cls, payload: Sequence[object]) -> CallShape:
        callee, module, imported, positional, keywords, star, double_star = payload[:7]
        assert isinstance(callee, str) and isinstance(module, str)
        assert isinstance(positional, tuple) and isinstance(keywords, tuple)
        return cls(
            callee, module, bool(imported), positional, keywords, bool(star), bool(double_star)
        )


def arg_kind(expr: cst.BaseExpression) -> str:
    if is_none(expr):
        return NONE
    if isinstance(expr, cst.Name):
        return f"name:{expr.value}"
    return OTHER


def call_shape(call: cst.Call, context: RuleContext) -> CallShape | None:
    """The call's shape when its callee is a plain dotted name, else None."""
    callee = dotted_name(call.func)
    if callee is None:
        return None
    positional: list[str] = []
    keywords: list[tuple[str, str]] = []
    star = double_star = False
    for arg in call.args:
        if arg.star == "*":
            star = True
        elif arg.star == "**":
            double_star = True
        elif arg.keyword is not None:
            keywords.append((arg.keyword.value, arg_kind(arg.value)))
        elif not star:
            positional.append(arg_kind(arg.value))
    head = callee.split(".")[0]
    return CallShape(
        callee=callee,
        module=context.info.module_name,
        imported=head in context.imports.bindings,
        positional=tuple(positional),
        keywords=tuple(keywords),
        star=star,
        double_star=double_star,
    )


def argument_key(call: cst.Call, arg: cst.Arg) -> str | int | None:
    """The keyword of ``arg``, or its positional index (None after a ``*`` splat)."""
    index = 0
    for item in call.args:
        if item.star:
            if item is arg:
                return None
            if item.star == "*":
                return None if arg.keyword is None else arg.keyword.value
            continue
        if item.keyword is not None:
            if item is arg:
                return item.keyword.value
            continue
        if item is arg:
            return index
        index += 1
    return None


def in_pytest_raises(context: RuleContext) -> bool:
    """True inside ``with pytest.raises(...)``: a test asserting the failure is correct."""
    for ancestor in context.ancestors:
        if isinstance(ancestor, cst.With):
            for item in ancestor.items:
                call = item.item
                if isinstance(call, cst.Call):
                    name = context.imports.qualified_name(call.func) or dotted_name(call.func)
                    if name in ("pytest.raises", "raises"):
                        return True
    return False


def matches_factory(name: str, patterns: Sequence[str]) -> bool:
    last = name.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(last, pattern) for pattern in patterns)


class LocalNames:
    """Names bound in each enclosing function so far (parameters, assignments, loops, imports)."""

    def __init__(self) -> None:
        self.frames: list[set[str]] = []

    def push(self, node: cst.FunctionDef | cst.Lambda) -> None:
        params = node.params
        names = {
            p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)
        }
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                names.add(extra.name.value)
        self.frames.append(names)

    def pop(self) -> None:
        if self.frames:
            self.frames.pop()

    def bind(self, target: cst.BaseExpression) -> None:
        if not self.frames:
            return
        if isinstance(target, cst.Name):
            self.frames[-1].add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value)

    def is_local(self, name: str) -> bool:
        return any(name in frame for frame in self.frames)


class CallTrackingRule(Rule):
    """Base of the ISO4 rules: keeps ``LocalNames`` up to date during the walk."""

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.locals = LocalNames()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.locals.push(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.locals.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.locals.push(node)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.locals.pop()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.locals.bind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.locals.bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.locals.bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.locals.bind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.locals.bind(node.target)


@dataclass(frozen=True)
class Binding:
    """How a call's arguments land on a signature."""

    by_argument: dict[str | int, ParamFacts]
    unknown_keywords: tuple[str, ...]
    missing: tuple[ParamFacts, ...]


def bind(signature: Signature, shape: CallShape) -> Binding:
    params = signature.params
    positional_params = [p for p in params if p.kind in ("positional_only", "positional")]
    has_varkw = any(p.kind == "varkw" for p in params)
    mapping: dict[str | int, ParamFacts] = {}
    bound: set[str] = set()
    for index in range(len(shape.positional)):
        if index < len(positional_params):
            mapping[index] = positional_params[index]
            bound.add(positional_params[index].name)
    unknown: list[str] = []
    for keyword, _ in shape.keywords:
        param = next(
            (p for p in params if p.name == keyword and p.kind in ("positional", "keyword_only")),
            None,
        )
        if param is not None:
            mapping[keyword] = param
            bound.add(param.name)
        elif not has_varkw:
            unknown.append(keyword)
    missing: tuple[ParamFacts, ...] = ()
    if not shape.star and not shape.double_star:
        missing = tuple(
            p
            for p in params
            if p.kind in ("positional_only", "positional", "keyword_only")
            and not p.has_default
            and p.name not in bound
        )
    return Binding(mapping, tuple(unknown), missing)


def resolve_call(index: ProjectIndex, shape: CallShape) -> Signature | None:
    """The signature a call binds to, through the calling module's imports and definitions."""
    target = index.resolve_dotted(shape.module, shape.callee)
    if isinstance(target, (ClassRef, FunctionRef)):
        return index.signature(target)
    return None


def describe(signature: Signature) -> str:
    return f"`{signature.qualname}` ({signature.path})"


def none_rejecting_parameter(
    index: ProjectIndex, shape: CallShape, key: object
) -> tuple[Signature, ParamFacts] | None:
    """The resolved signature and the parameter argument ``key`` binds to, when that parameter
    does not admit None (ISO401/ISO403); None when unresolvable or the parameter admits None."""
    if not isinstance(key, (str, int)):
        return None
    signature = resolve_call(index, shape)
    if signature is None:
        return None
    param = bind(signature, shape).by_argument.get(key)
    if param is None or param.admits_none or param.kind in ("vararg", "varkw"):
        return None
    return signature, param
