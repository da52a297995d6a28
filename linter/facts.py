"""Per-module facts for the project index, collected during the one walk (plain, picklable data)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from linter.context import RuleContext
from linter.imports import ImportBinding, dotted_name

_MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "add",
        "update",
        "setdefault",
        "pop",
        "popitem",
        "clear",
        "remove",
        "discard",
        "appendleft",
        "popleft",
        "extendleft",
    }
)
_SETUP_METHODS = frozenset(
    {"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"}
)
_NONE_ADMITTING = frozenset({"Optional", "Any", "object", "None", "NoneType"})
_CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache"})
# Methods whose first parameter is the class without a decorator saying so (``__new__`` aside).
_IMPLICIT_CLASSMETHODS = frozenset({"__init_subclass__", "__class_getitem__"})
# Names that are constants, never a shared object a getter hands out.
_CONSTANT_NAMES = frozenset({"None", "True", "False", "NotImplemented", "Ellipsis"})


@dataclass(frozen=True)
class ParamFacts:
    """One parameter of a callable."""

    name: str
    kind: str  # "positional_only" | "positional" | "vararg" | "keyword_only" | "varkw"
    has_default: bool
    default_is_none: bool
    annotation: str | None
    annotation_admits_none: bool | None  # None when unannotated

    @property
    def admits_none(self) -> bool:
        """False only for an annotated, non-Optional parameter without a ``= None`` default."""
        if self.default_is_none or self.annotation is None:
            return True
        return bool(self.annotation_admits_none)


@dataclass(frozen=True)
class FunctionFacts:
    """A module-level function or a method."""

    name: str
    kind: str  # "function" | "method" | "classmethod" | "staticmethod"
    params: tuple[ParamFacts, ...]
    line: int
    decorators: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassFacts:
    """A module-level class."""

    name: str
    bases: tuple[str, ...]
    methods: tuple[FunctionFacts, ...]
    line: int
    has_mutable_state: bool
    decorators: tuple[str, ...] = ()
    # Why every use of the class gets one shared instance, from its own code (ISO101/ISO104
    # shapes): "caches its own instance in `_instance` in `__new__`"; None if it does not.
    singleton_reason: str | None = None
    # True when each construction re-runs ``__init__`` on the shared state (``__new__`` caching,
    # Borg), so even ``__init__`` writes to it.
    init_per_call: bool = False
    metaclass: str | None = None  # the ``metaclass=`` keyword, qualified through imports
    # For a metaclass whose ``__call__`` keeps the instances it creates: where (``cls._instances``).
    call_cache: str | None = None

    def method(self, name: str) -> FunctionFacts | None:
        for method in self.methods:
            if method.name == name:
                return method
        return None


@dataclass(frozen=True)
class SharedInstanceFacts:
    """An object the module keeps for the life of the process, so every request shares it.

    ``kind`` says how: ``"module"``, ``name = value(...)`` at module level; ``"global"``,
    ``function`` binds module global ``name`` (declared ``global``) to ``value(...)``;
    ``"cached"``, ``function`` takes no arguments, is decorated with the ``functools`` cache
    ``name`` and returns ``value(...)``; ``"alias"``, ``function`` takes no arguments and
    returns the module-level name ``value`` (defined in this module or imported).
    ``value`` is written as in the source (``Manager``, ``ws.Manager``): resolve it with
    ``ProjectIndex.resolve_dotted`` in this module. ``returned`` says ``function`` returns it.
    """

    kind: str
    value: str
    name: str = ""
    function: str | None = None
    returned: bool = False


@dataclass(frozen=True)
class ModuleFacts:
    """What one file contributes to the project index."""

    module: str
    path: str
    is_package: bool
    is_test: bool
    classes: tuple[ClassFacts, ...]
    functions: tuple[FunctionFacts, ...]
    variables: tuple[str, ...]
    imports: tuple[ImportBinding, ...]
    star_imports: tuple[str, ...]
    all_names: tuple[str, ...] | None = None
    shared_instances: tuple[SharedInstanceFacts, ...] = ()


def annotation_admits_none(annotation: cst.BaseExpression) -> bool:
    """``Optional[X]``, ``X | None``, ``Union[..., None]``, ``None``, ``Any``, ``object``."""
    if isinstance(annotation, cst.SimpleString):
        text = annotation.evaluated_value
        if not isinstance(text, str):
            return True
        try:
            inner = cst.parse_expression(text)
        except (cst.ParserSyntaxError, TypeError, ValueError):
            return True  # cannot tell: assume it admits None (precision first)
        return annotation_admits_none(inner)
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return annotation_admits_none(annotation.left) or annotation_admits_none(annotation.right)
    if isinstance(annotation, cst.Subscript):
        head = dotted_name(annotation.value) or ""
        last = head.rsplit(".", 1)[-1]
        if last == "Optional":
            return True
        if last == "Union":
            return any(
                isinstance(el.slice, cst.Index) and annotation_admits_none(el.slice.value)
                for el in annotation.slice
            )
        if last == "Literal":
            return any(
                isinstance(el.slice, cst.Index) and dotted_name(el.slice.value) == "None"
                for el in annotation.slice
            )
        if last == "Annotated" and annotation.slice:
            first = annotation.slice[0].slice
            return isinstance(first, cst.Index) and annotation_admits_none(first.value)
        return False
    name = dotted_name(annotation)
    if name is None:
        return True  # an expression we do not understand: do not claim it rejects None
    return name.rsplit(".", 1)[-1] in _NONE_ADMITTING


def _param(param: cst.Param, kind: str, code_for: RuleContext) -> ParamFacts:
    annotation = param.annotation.annotation if param.annotation is not None else None
    default = param.default
    return ParamFacts(
        name=param.name.value,
        kind=kind,
        has_default=default is not None,
        default_is_none=isinstance(default, cst.Name) and default.value == "None",
        annotation=" ".join(code_for.code_for(annotation).split())
        if annotation is not None
        else None,
        annotation_admits_none=annotation_admits_none(annotation)
        if annotation is not None
        else None,
    )


def params_of(node: cst.Parameters, context: RuleContext) -> tuple[ParamFacts, ...]:
    out = [_param(p, "positional_only", context) for p in node.posonly_params]
    out += [_param(p, "positional", context) for p in node.params]
    if isinstance(node.star_arg, cst.Param):
        out.append(_param(node.star_arg, "vararg", context))
    out += [_param(p, "keyword_only", context) for p in node.kwonly_params]
    if node.star_kwarg is not None:
        out.append(_param(node.star_kwarg, "varkw", context))
    return tuple(out)


def _decorator_names(node: cst.FunctionDef | cst.ClassDef, context: RuleContext) -> tuple[str, ...]:
    names = []
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        qualified = context.imports.qualified_name(expr) or dotted_name(expr)
        if qualified:
            names.append(qualified)
    return tuple(names)


def _self_attribute(expr: cst.BaseExpression) -> bool:
    """``self.x`` / ``self.x[...]`` / ``self.x.y``: state reached through ``self``."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            return expr.value.value == "self"
        expr = expr.value
    return False


class FactCollector:
    """Runs in the engine's single walk beside the rules; builds the file's ModuleFacts."""

    code = "facts"

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.classes: list[ClassFacts] = []
        self.functions: list[FunctionFacts] = []
        self.variables: list[str] = []
        self.all_names: tuple[str, ...] | None = None
        self._class_stack: list[tuple[cst.ClassDef, list[FunctionFacts], list[bool]]] = []

    # -- definitions -------------------------------------------------------------------------
    def _function(self, node: cst.FunctionDef, in_class: bool) -> FunctionFacts:
        decorators = _decorator_names(node, self.context)
        kind = "function"
        if in_class:
            kind = "method"
            for name in decorators:
                last = name.rsplit(".", 1)[-1]
                if last in ("classmethod", "staticmethod"):
                    kind = last
        return FunctionFacts(
            name=node.name.value,
            kind=kind,
            params=params_of(node.params, self.context),
            line=0,
            decorators=decorators,
        )

    def _direct_class(self) -> tuple[cst.ClassDef, list[FunctionFacts], list[bool]] | None:
        scopes = self.context.scopes
        if self._class_stack and scopes and scopes[-1][1] is self._class_stack[-1][0]:
            return self._class_stack[-1]
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.context.at_module_level():
            self.functions.append(self._function(node, in_class=False))
            return
        owner = self._direct_class()
        if owner is not None:
            owner[1].append(self._function(node, in_class=True))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.context.at_module_level():
            self._class_stack.append((node, [], [False]))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if not self._class_stack or self._class_stack[-1][0] is not node:
            return
        _, methods, mutable = self._class_stack.pop()
        bases = tuple(
            self.context.imports.qualified_name(arg.value) or dotted_name(arg.value) or ""
            for arg in node.bases
        )
        self.classes.append(
            ClassFacts(
                name=node.name.value,
                bases=tuple(b for b in bases if b),
                methods=tuple(methods),
                line=0,
                has_mutable_state=mutable[0],
                decorators=_decorator_names(node, self.context),
            )
        )

    # -- module-level variables ---------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level():
            for target in node.targets:
                self._variable(target.target, node.value)
        else:
            for target in node.targets:
                self._maybe_state(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.context.at_module_level():
            self._variable(node.target, node.value)
        elif node.value is not None:
            self._maybe_state(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self.context.at_module_level():
            self._maybe_state(node.target)

    def _variable(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.variables.append(target.value)
            if target.value == "__all__" and isinstance(value, (cst.List, cst.Tuple)):
                names = [
                    el.value.evaluated_value
                    for el in value.elements
                    if isinstance(el.value, cst.SimpleString)
                    and isinstance(el.value.evaluated_value, str)
                ]
                self.all_names = tuple(n for n in names if isinstance(n, str))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._variable(element.value, None)

    # -- does a class carry per-instance mutable state? ----------------------------------------
    def _in_stateful_method(self) -> bool:
        """Inside a (non-setup) method of the module-level class being collected."""
        if not self._class_stack:
            return False
        scopes = self.context.scopes
        cls = self._class_stack[-1][0]
        for index, (_, node) in enumerate(scopes):
            if node is cls and index + 1 < len(scopes):
                method = scopes[index + 1][1]
                return (
                    isinstance(method, cst.FunctionDef) and method.name.value not in _SETUP_METHODS
                )
        return False

    def _maybe_state(self, target: cst.BaseExpression) -> None:
        if _self_attribute(target) and self._in_stateful_method():
            self._class_stack[-1][2][0] = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self._class_stack
            and isinstance(func, cst.Attribute)
            and func.attr.value in _MUTATING_METHODS
            and _self_attribute(func.value)
            and self._in_stateful_method()
        ):
            self._class_stack[-1][2][0] = True

    # -- imports inside functions bind names too (module-level ones come from the pre-pass) -----
    def visit_Import(self, node: cst.Import) -> None:
        if not self.context.at_module_level():
            self.context.imports.add(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self.context.at_module_level():
            self.context.imports.add(node)

    def facts(self) -> ModuleFacts:
        info = self.context.info
        table = self.context.imports
        return ModuleFacts(
            module=info.module_name,
            path=info.path,
            is_package=info.is_package,
            is_test=info.is_test,
            classes=tuple(self.classes),
            functions=tuple(self.functions),
            variables=tuple(dict.fromkeys(self.variables)),
            imports=tuple(table.bindings.values()),
            star_imports=tuple(table.star_modules),
            all_names=self.all_names,
        )
