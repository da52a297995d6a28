"""Shared call analysis for the ISO4 rules: argument shapes, local names, binding to signatures."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from isolint.api import (
    IDENTIFIER_GLOBS,
    STRINGS,
    CallResolvingVisitor,
    CalleeRef,
    ClassRef,
    FunctionRef,
    LocalTypes,
    ModuleRef,
    Option,
    ParamFacts,
    ProjectIndex,
    Related,
    ResolvedCallee,
    Rule,
    RuleContext,
    Signature,
    VariableRef,
    call_signatures,
    callee_ref,
    describe_signature,
    dotted_name,
    implementation_signature,
    mro,
)
from isolint.api import resolve_call as resolve_target


def is_none(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Name and expr.value == "None"  # isinstance(): slow (a hot path)


@dataclass(frozen=True)
class CallShape:
    """The arguments of a call as plain data: how many positional arguments come before any
    ``*`` splat, the keywords' names in order, the splats (what binding to a signature reads:
    every resolvable call of every file is one, so they stay small)."""

    callee: str
    module: str
    imported: bool
    positional: int
    keywords: tuple[str, ...]
    star: bool
    double_star: bool
    ref: CalleeRef | None = None  # how the callee resolves (``isolint.callees``)


@dataclass(frozen=True)
class NoneArgument:
    """An ISO401/ISO402 candidate: the call ``shape`` passes ``None`` for argument ``key`` (its
    keyword, or its positional index)."""

    shape: CallShape
    key: str | int


@dataclass(frozen=True)
class NoneVariableArgument:
    """An ISO403 candidate: the call ``shape`` passes local ``variable``, always ``None`` there,
    for argument ``key`` (its keyword, or its positional index)."""

    shape: CallShape
    key: str | int
    variable: str


def call_shape(
    call: cst.Call, context: RuleContext, local: LocalTypes | None = None
) -> CallShape | None:
    """The call's shape; with ``local``, only when its callee can be resolved (``shape.ref``)."""
    ref = callee_ref(call, context, local) if local is not None else None
    if local is not None and ref is None:
        return None
    return shape_of(call, context, ref)


def shape_of(call: cst.Call, context: RuleContext, ref: CalleeRef | None) -> CallShape | None:
    """The call's shape with ``ref``, its callee as already resolved (``callee_ref``)."""
    dotted = dotted_name(call.func)
    if ref is None and dotted is None:
        return None
    callee = dotted or " ".join(context.code_for(call.func).split())  # source: only when needed
    positional = 0
    keywords: list[str] = []
    star = double_star = False
    for arg in call.args:
        if arg.star == "*":
            star = True
        elif arg.star == "**":
            double_star = True
        elif arg.keyword is not None:
            keywords.append(arg.keyword.value)
        elif not star:
            positional += 1
    head = callee.split(".")[0]
    return CallShape(
        callee=callee,
        module=context.info.module_name,
        imported=head in context.imports.bindings,
        positional=positional,
        keywords=tuple(keywords),
        star=star,
        double_star=double_star,
        ref=ref,
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


_ASSERT_RAISES = frozenset(
    {"assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "assertRaisesMessage"}
)
_RAISES_LAST = _ASSERT_RAISES | {"raises"}


def _asserts_error(call: cst.BaseExpression, context: RuleContext) -> bool:
    """``pytest.raises(...)``, ``self.assertRaises(...)``, ``assertRaisesRegex(...)``."""
    if type(call) is not cst.Call:
        return False
    func = call.func  # (``type() is``, not isinstance: slow on LibCST's classes)
    if type(func) is cst.Attribute and func.attr.value not in _RAISES_LAST:
        return False  # the qualified or dotted name of an attribute ends with its ``attr``
    name = context.imports.qualified_name(func) or dotted_name(func) or ""
    return name in ("pytest.raises", "raises") or name.rsplit(".", 1)[-1] in _ASSERT_RAISES


def in_pytest_raises(context: RuleContext) -> bool:
    """True where a test asserts the call fails: inside ``with pytest.raises(...)`` /
    ``with self.assertRaises(...)`` (and ``assertRaisesRegex``), or in the arguments of their
    callable forms (``self.assertRaises(TypeError, lambda: f(None))``)."""
    for ancestor in context.ancestors:  # ``type() is``: isinstance() is slow on LibCST's classes
        if type(ancestor) is cst.With:
            if any(_asserts_error(item.item, context) for item in ancestor.items):
                return True
        elif type(ancestor) is cst.Call and _asserts_error(ancestor, context):
            return True
    return False


def matches_name(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


FACTORY_PATTERNS = Option(
    "factory-patterns",
    STRINGS,
    ("create_*", "make_*", "build_*", "*_factory", "for_user", "from_*"),
    "name globs of callees treated as factories, matched against the callee's last name",
    expected="a list of name globs",
)
# Unannotated parameters with these names (globs) take a collaborator object.
DEPENDENCY_NAMES = Option(
    "dependency-names",
    IDENTIFIER_GLOBS,
    (
        "*_client",
        "*_service",
        "*_manager",
        "*_emitter",
        "*_notifier",
        "*_session",
        "*_engine",
        "*_context",
        "*_repository",
        "*_repo",
        "*_store",
        "*_provider",
        "*_gateway",
        "*_publisher",
        "emitter",
        "notifier",
        "client",
        "db",
        "engine",
        "llm",
        "repository",
        "publisher",
    ),
    "globs of unannotated parameter names that take a collaborator object (an annotated "
    "parameter counts by its class)",
    expected="a list of parameter-name globs (e.g. '*_client')",
)


def matches_factory(name: str, patterns: Sequence[str]) -> bool:
    last = name.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(last, pattern) for pattern in patterns)


class CallTrackingRule(CallResolvingVisitor, Rule):
    """Base of the ISO4 rules: keeps the enclosing functions' bindings (``LocalTypes``) current,
    so ``call_shape(node, self.context, self.local_types)`` can say how a callee resolves (the
    engine's ``CallResolvingVisitor`` does the tracking)."""

    def __init__(self, context: RuleContext) -> None:
        Rule.__init__(self, context)
        CallResolvingVisitor.__init__(self, context)


@dataclass(frozen=True)
class Binding:
    """How a call's arguments land on a signature."""

    by_argument: dict[str | int, ParamFacts]
    unknown_keywords: tuple[str, ...]
    missing: tuple[ParamFacts, ...]
    too_many: int = 0  # positional arguments beyond the parameters (no ``*args``)
    repeated: tuple[str, ...] = ()  # parameters given both by position and by keyword

    @property
    def clean(self) -> bool:
        """The call binds without a ``TypeError``."""
        return not (self.unknown_keywords or self.missing or self.too_many or self.repeated)


def bind(signature: Signature, shape: CallShape) -> Binding:
    params = signature.params
    positional_params = [p for p in params if p.kind in ("positional_only", "positional")]
    has_varargs = any(p.kind == "vararg" for p in params)
    has_varkw = any(p.kind == "varkw" for p in params)
    mapping: dict[str | int, ParamFacts] = {}
    bound: set[str] = set()
    too_many = 0
    for index in range(shape.positional):
        if index < len(positional_params):
            mapping[index] = positional_params[index]
            bound.add(positional_params[index].name)
        elif not has_varargs:
            too_many += 1
    unknown: list[str] = []
    repeated: list[str] = []
    for keyword in shape.keywords:
        param = next(
            (p for p in params if p.name == keyword and p.kind in ("positional", "keyword_only")),
            None,
        )
        if param is not None:
            if param.name in bound and not shape.star:
                repeated.append(keyword)
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
    if shape.star or shape.double_star:
        too_many = 0
    return Binding(mapping, tuple(unknown), missing, too_many, tuple(repeated))


def resolve_call(index: ProjectIndex, shape: CallShape) -> Signature | None:
    """The signature a plain dotted call binds to (constructors and functions, by name)."""
    target = index.resolve_dotted(shape.module, shape.callee)
    if isinstance(target, (ClassRef, FunctionRef)):
        return index.signature(target)
    return None


def resolved(index: ProjectIndex, shape: CallShape) -> ResolvedCallee | None:
    """The project definition the call reaches (``isolint.callees``), or None."""
    ref = shape.ref if shape.ref is not None else CalleeRef("name", shape.callee)
    return resolve_target(index, shape.module, ref)


def describe(signature: Signature) -> str:
    """```app.mod.Class.method` (app/mod.py:12), `method(a: A, b: B)```."""
    line = signature.callable.function.line
    where = f"{signature.path}:{line}" if line else signature.path
    return f"`{signature.qualname}` ({where}), `{describe_signature(signature)}`"


def definition(signature: Signature) -> tuple[Related, ...]:
    """The callee's definition as a related location."""
    line = signature.callable.function.line
    note = f"`{signature.qualname}` is defined here: `{describe_signature(signature)}`"
    return (Related(signature.path, max(line, 1), 1, note),)


# -- what is a dependency --------------------------------------------------------------------
_VALUE_TYPES = frozenset(
    {
        "str",
        "bytes",
        "bytearray",
        "int",
        "float",
        "bool",
        "complex",
        "Decimal",
        "datetime",
        "date",
        "time",
        "timedelta",
        "timezone",
        "UUID",
        "Path",
        "PurePath",
        "PosixPath",
        "Enum",
        "IntEnum",
        "StrEnum",
        "Flag",
        "IntFlag",
        "Literal",
        "LiteralString",
        "TypedDict",
        "NamedTuple",
        "object",
        "Any",
        "type",
        "Type",
    }
)
_CONTAINERS = frozenset(
    {
        "list",
        "List",
        "dict",
        "Dict",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "tuple",
        "Tuple",
        "Sequence",
        "MutableSequence",
        "Mapping",
        "MutableMapping",
        "Iterable",
        "Iterator",
        "Collection",
        "AbstractSet",
        "DefaultDict",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "Deque",
        "Generator",
        "AsyncIterator",
        "AsyncIterable",
        "AsyncGenerator",
        "Awaitable",
        "Coroutine",
    }
)
_VALUE_MODULES = frozenset(
    {
        "builtins",
        "typing",
        "typing_extensions",
        "collections",
        "collections.abc",
        "enum",
        "datetime",
        "decimal",
        "uuid",
        "pathlib",
        "numbers",
        "re",
        "types",
    }
)
_CALLABLES = frozenset({"Callable"})
# Modules that hold type aliases (which may admit None) rather than classes.
_ALIAS_MODULES = frozenset({"types", "typing", "typedefs", "type_defs", "typings"})


def is_dependency(index: ProjectIndex, module: str, param: ParamFacts) -> bool:
    """Does ``param`` take a collaborator object (not a plain value)? Unannotated parameters
    count by name (``dependency-names``); annotated ones by their class, resolved in ``module``."""
    if param.annotation is None:
        return any(
            fnmatch.fnmatchcase(param.name, pattern) for pattern in index.option(DEPENDENCY_NAMES)
        )
    try:
        expr = cst.parse_expression(param.annotation)
    except (cst.ParserSyntaxError, TypeError, ValueError, RecursionError):
        return False
    return _collaborator(index, module, expr, 0)


def _collaborator(index: ProjectIndex, module: str, expr: cst.BaseExpression, depth: int) -> bool:
    if depth > 10:
        return False
    if isinstance(expr, cst.SimpleString):
        text = expr.evaluated_value
        if not isinstance(text, str):
            return False
        try:
            return _collaborator(index, module, cst.parse_expression(text), depth + 1)
        except (cst.ParserSyntaxError, TypeError, ValueError, RecursionError):
            return False
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        members = [m for m in _union_members(expr) if dotted_name(m) != "None"]
        return bool(members) and all(_collaborator(index, module, m, depth + 1) for m in members)
    if isinstance(expr, cst.Subscript):
        head = dotted_name(expr.value) or ""
        last = head.rsplit(".", 1)[-1]
        items = [el.slice.value for el in expr.slice if isinstance(el.slice, cst.Index)]
        if last in ("Optional", "Annotated") and items:
            return _collaborator(index, module, items[0], depth + 1)
        if last == "Union":
            members = [m for m in items if dotted_name(m) != "None"]
            return bool(members) and all(
                _collaborator(index, module, m, depth + 1) for m in members
            )
        if last in _CALLABLES:
            return True
        if last in _CONTAINERS or last in _VALUE_TYPES:
            return False
        return _collaborator(index, module, expr.value, depth + 1)
    name = dotted_name(expr)
    if name is None or name == "None":
        return False
    last = name.rsplit(".", 1)[-1]
    if last in _CALLABLES:
        return True
    if last in _VALUE_TYPES or last in _CONTAINERS:
        return False
    target = index.resolve_dotted(module, name)
    if isinstance(target, ClassRef):
        return _project_class_is_collaborator(index, target)
    if isinstance(target, (VariableRef, FunctionRef, ModuleRef)):
        return False  # a type alias, NewType or TypeVar: cannot tell
    qualified = _imported_as(index, module, name)
    if qualified is None:
        return False  # a builtin or an unknown name
    owner = qualified.rsplit(".", 1)[0] if "." in qualified else ""
    if owner.rsplit(".", 1)[-1].strip("_") in _ALIAS_MODULES:
        return False  # ``opentelemetry.util.types.Attributes``: likely an alias, not a class
    return owner not in _VALUE_MODULES and qualified.split(".", 1)[0] not in _VALUE_MODULES


def _union_members(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        return [*_union_members(expr.left), *_union_members(expr.right)]
    return [expr]


def _imported_as(index: ProjectIndex, module: str, name: str) -> str | None:
    facts = index.module(module)
    if facts is None:
        return None
    head, _, rest = name.partition(".")
    for binding in facts.imports:
        if binding.local == head:
            return f"{binding.target}.{rest}" if rest else binding.target
    return None


def _project_class_is_collaborator(index: ProjectIndex, cls: ClassRef) -> bool:
    """A project class is a collaborator unless it is an enum, a str/int subclass, a
    TypedDict or a NamedTuple (values)."""
    classes, external = mro(index, cls)
    bases = [*external]
    for current in classes:
        bases.extend(current.cls.bases)
    return not any(base.rsplit(".", 1)[-1] in _VALUE_TYPES for base in bases)


# -- the ISO401/ISO403 decision ----------------------------------------------------------------
def none_rejecting_parameter(
    index: ProjectIndex, shape: CallShape, key: object
) -> tuple[Signature, ParamFacts] | None:
    """The signature and the dependency parameter argument ``key`` binds to, when the call binds
    cleanly to every applicable signature (any ``@overload``) and in each of them that
    parameter is a dependency that does not admit None; None otherwise (unresolvable,
    uncheckable, accepted by some overload, or not a dependency)."""
    if not isinstance(key, (str, int)):
        return None
    callee = resolved(index, shape)
    signatures = call_signatures(index, callee) if callee is not None else None
    if not signatures:
        return None
    found: list[tuple[Signature, ParamFacts]] = []
    for signature in signatures:
        binding = bind(signature, shape)
        if not binding.clean:
            continue
        param = binding.by_argument.get(key)
        if param is None or param.kind in ("vararg", "varkw") or param.default_is_none:
            return None
        if param.annotation is not None and param.annotation_admits_none:
            return None
        if not is_dependency(index, signature.callable.module, param):
            return None
        found.append((signature, param))
    return found[0] if found else None


class CalleeSignatures:
    """What each callee of calls in a module resolves to and its signatures, worked out once per
    (module, callee) for one ``check_project`` (many calls have the same callee)."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._callees: dict[
            tuple[str, CalleeRef], tuple[ResolvedCallee, tuple[Signature, ...]] | None
        ] = {}
        self._runtime: dict[tuple[str, CalleeRef], Signature | None] = {}

    def of(self, shape: CallShape) -> tuple[ResolvedCallee, tuple[Signature, ...]] | None:
        """The call's callee (``resolved``) and its signatures (``call_signatures``), when
        both are known."""
        ref = shape.ref if shape.ref is not None else CalleeRef("name", shape.callee)
        key = (shape.module, ref)
        try:
            return self._callees[key]
        except KeyError:
            pass
        callee = resolve_target(self.index, shape.module, ref)
        signatures = call_signatures(self.index, callee) if callee is not None else None
        found = (callee, signatures) if callee is not None and signatures else None
        self._callees[key] = found
        return found

    def runtime(self, shape: CallShape, callee: ResolvedCallee) -> Signature | None:
        """``implementation_signature`` of the call's callee (``of`` gave it)."""
        ref = shape.ref if shape.ref is not None else CalleeRef("name", shape.callee)
        key = (shape.module, ref)
        if key not in self._runtime:
            self._runtime[key] = implementation_signature(self.index, callee)
        return self._runtime[key]


def call_type_error(
    index: ProjectIndex, shape: CallShape, signatures: CalleeSignatures | None = None
) -> tuple[Signature, Binding] | None:
    """The implementation signature and the failing binding when the call raises ``TypeError``
    at run time and matches no ``@overload`` either; None when it binds or cannot be checked.
    ``signatures``: a memo of the callees (one for every call a rule checks)."""
    known = (signatures or CalleeSignatures(index)).of(shape)
    if known is None:
        return None
    callee, found = known
    if any(bind(s, shape).clean for s in found):
        return None
    runtime = (signatures or CalleeSignatures(index)).runtime(shape, callee)
    if runtime is None:
        return None
    binding = bind(runtime, shape)
    return None if binding.clean else (runtime, binding)
