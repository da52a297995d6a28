"""Per-module facts for the project index, collected during the one walk (plain, storable data)."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from isolint.context import RuleContext
from isolint.imports import ImportBinding, dotted_name
from isolint.serial import Codec, SerialError

MUTATING_METHODS = frozenset(
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
# Functions that change their first argument in place (``heapq.heappush(self._heap, x)``).
_MUTATING_FUNCTIONS = frozenset(
    {
        "bisect.insort",
        "bisect.insort_left",
        "bisect.insort_right",
        "heapq.heapify",
        "heapq.heappop",
        "heapq.heappush",
        "heapq.heappushpop",
        "heapq.heapreplace",
        "random.shuffle",
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
class CalleeRef:
    """How a call's callee can be found in the project index (``isolint.callees`` makes and
    resolves it; it lives here, with the other stored values, because candidates carry it).

    ``kind``: ``name`` (``name`` dotted, absolute when ``absolute``), ``self_method``,
    ``cls_method``, ``cls_call``, ``super_method`` (``owner``: the enclosing module-level class),
    ``attr_method`` (``self.<attribute>.<name>(...)`` in ``owner``), ``instance_method``
    (``owner``: the receiver's class as a dotted name, absolute when ``absolute``).
    """

    kind: str
    name: str
    owner: str = ""
    attribute: str = ""
    absolute: bool = False


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
    # "dataclass" / "attrs" when a decorator generates ``__init__`` from ``fields``; "none" when
    # one says not to (``init=False``); None otherwise (pydantic/NamedTuple come from the bases).
    init_style: str | None = None
    # Class-body fields as the generated ``__init__``'s parameters, in order (ClassVar and
    # ``init=False`` fields left out; attrs' leading underscores stripped).
    fields: tuple[ParamFacts, ...] = ()
    # Instance attributes whose class is known: (attribute, class as written in the module),
    # from class-body annotations, ``self.x: X = ...`` and ``self.x = X(...)`` in methods.
    attribute_types: tuple[tuple[str, str], ...] = ()
    # The (non-setup) methods that change the instance's state: where a shared instance changes.
    mutating_methods: tuple[str, ...] = ()

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
    is_test: bool  # pytest conventions or the integration-tests globs (e2e fixture apps)
    classes: tuple[ClassFacts, ...]
    functions: tuple[FunctionFacts, ...]
    variables: tuple[str, ...]
    imports: tuple[ImportBinding, ...]
    star_imports: tuple[str, ...]
    all_names: tuple[str, ...] | None = None
    shared_instances: tuple[SharedInstanceFacts, ...] = ()
    # (qualified name of another module's container, mutating function) for ISO201
    external_mutations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EntryPoint:
    """Where a request or a user's task starts (``kind="request"``), or startup code runs
    (``kind="startup"``), as the file shows it (``isolint.entrypoints`` recognises them).

    ``target`` is a function of this module by its qualified name in the module
    (``Class.method``) when ``local``; otherwise a name as written in this module (``views.index``,
    ``ItemView``) or an absolute dotted name (Django ``MIDDLEWARE`` strings), resolved in the
    global phase: a class stands for its request methods.
    """

    target: str
    kind: str
    label: str  # "POST /items", "Celery task", "Django URL 'items/'", "FastAPI lifespan"
    line: int
    local: bool = True


@dataclass(frozen=True)
class FunctionFlow:
    """The calls one function (or ``<module>``: import-time code) makes, for the call graph.

    ``calls`` are callees as written, rewritten where the file knows better (``self.save`` in
    class ``Repo`` -> ``Repo.save``, ``repo.save`` after ``repo = Repo()`` -> ``Repo.save``);
    ``=outer.inner`` names a function of this module by its qualified name (a nested def).
    """

    name: str
    line: int
    calls: tuple[str, ...]
    decorators: tuple[str, ...] = ()  # qualified through imports (``entry-points = ["@name"]``)
    returns: str = ""  # the class it returns as written (``-> Repo``, ``return Repo(...)``)


@dataclass(frozen=True)
class ClassFlow:
    """A module-level class as the entry-point search needs it (framework base classes)."""

    name: str
    bases: tuple[str, ...]  # qualified through imports where possible
    methods: tuple[str, ...]


@dataclass(frozen=True)
class FlowFacts:
    """What one file contributes to the project call graph and its roots."""

    functions: tuple[FunctionFlow, ...] = ()
    entries: tuple[EntryPoint, ...] = ()
    classes: tuple[ClassFlow, ...] = ()
    # (first, last) lines of ``if __name__ == "__main__":`` blocks: run only as a script
    scripts: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class PackedFacts:
    """ModuleFacts as they travel and sit in the cache: a small header read by every run, and the
    full facts as zlib-compressed typed JSON (``isolint.serial``, never pickle), decoded only when
    the index needs this module (a warm run over a large project touches few modules).

    Freshly packed facts also keep the facts themselves (``_facts``, not a field: neither
    stored in the cache nor compared), so a cold run's global phase, which reads most modules,
    gets them from the worker (they travel with the result) instead of decoding each again."""

    module: str
    path: str
    is_test: bool
    shared_instances: tuple[SharedInstanceFacts, ...]
    data: bytes
    external_mutations: tuple[tuple[str, str], ...] = ()
    flow: FlowFacts = FlowFacts()  # in the header: every run builds the call graph from it
    # sha256 of everything above (``pack`` computes it): the call graph's memo
    # (``isolint.graphmemo``) reuses what it resolved of this file while it is unchanged
    digest: str = ""
    # sha256 of the facts without their line numbers (what name resolution reads): what it
    # resolved of other files stays while the modules they read keep it (a shifted line does)
    shape: str = ""
    _facts: ClassVar[ModuleFacts | None] = None  # per instance: set by ``pack`` only

    @classmethod
    def pack(
        cls,
        facts: ModuleFacts,
        flow: FlowFacts | None = None,
        codec: Codec | None = None,
        shape_fields: dict[type, tuple[str, ...] | None] | None = None,
    ) -> PackedFacts:
        """``codec`` as for ``unpack``: a worker packs every file's facts with one, and one
        ``shape_fields`` (``_without_lines``'s, kept from file to file)."""
        data = zlib.compress((codec or Codec.create()).dumps(facts), 1)
        header = (facts.module, facts.path, facts.is_test, facts.shared_instances, data)
        packed = cls(*header, facts.external_mutations, flow if flow is not None else FlowFacts())
        header_facts = (facts.module, facts.path, facts.is_test, facts.external_mutations)
        fields = shape_fields if shape_fields is not None else {}
        shape = repr(
            (
                *header_facts,
                _without_lines(facts, fields),
                _without_lines(packed.flow, fields),
            )
        )
        packed = dataclasses.replace(
            packed,
            digest=packed.facts_digest(),
            shape=hashlib.sha256(shape.encode()).hexdigest(),
        )
        object.__setattr__(packed, "_facts", facts)
        return packed

    def shape_digest(self) -> str:
        """``shape``, or the full digest for facts packed without one (it changes whenever
        the shape does)."""
        return self.shape or self.facts_digest()

    def facts_digest(self) -> str:
        """``digest``, or computed now for facts packed without one."""
        if self.digest:
            return self.digest
        header = (self.module, self.path, self.is_test, self.shared_instances)
        digest = hashlib.sha256(repr((*header, self.external_mutations, self.flow)).encode())
        digest.update(self.data)
        return digest.hexdigest()

    def keep_unpacked(self, codec: Codec) -> None:
        """Decode the full facts now and keep them (``unpack`` then returns them): a cold
        run's parent does it as each result arrives, while the workers still run, instead of in
        the global phase, which reads nearly every module then. Facts that do not decode are left
        to ``unpack`` (and its caller's handling of the error)."""
        if self._facts is None:
            try:
                object.__setattr__(self, "_facts", self.unpack(codec))
            except (SerialError, zlib.error):
                pass

    def unpack(self, codec: Codec | None = None) -> ModuleFacts:
        """The full facts; ``codec`` (a ``Codec.create()``, which takes a while to make) lets a
        caller that unpacks many modules make it once."""
        if self._facts is not None:
            return self._facts
        facts = (codec or Codec.create()).loads(zlib.decompress(self.data))
        if not isinstance(facts, ModuleFacts):
            raise SerialError("packed facts do not hold a ModuleFacts")
        return facts


class StoredFacts:
    """A file's PackedFacts still encoded as the cache manifest keeps them: its module and
    path known, the rest decoded the first time anything reads it (``packed``). ``failed``
    once they did not decode (the run that deferred them must then read the file instead)."""

    def __init__(
        self,
        module: str,
        path: str,
        decode: Callable[[], PackedFacts],
        external_mutations: tuple[tuple[str, str], ...] | None = None,
    ) -> None:
        self.module = module
        self.path = path
        self.external_mutations = external_mutations  # when known without decoding
        self._decode = decode
        self._packed: PackedFacts | None = None
        self.failed = False

    def packed(self) -> PackedFacts:
        if self._packed is None:
            try:
                self._packed = self._decode()
            except Exception:
                self.failed = True
                raise
        return self._packed


_LINES = frozenset({"line", "scripts"})  # the facts' positions: no name resolution reads them


def _without_lines(value: object, fields: dict[type, tuple[str, ...] | None]) -> object:
    """Facts as nested tuples (each dataclass: its name and its fields) without ``_LINES``.
    ``fields``: by type, a dataclass's field names but those (None: not a dataclass), as found
    so far (``dataclasses.fields`` once per type, not per value)."""
    if isinstance(value, tuple):
        return tuple(
            [item if type(item) in _SCALARS else _without_lines(item, fields) for item in value]
        )
    kind = type(value)
    try:
        names = fields[kind]
    except KeyError:
        names = (
            tuple(f.name for f in dataclasses.fields(value) if f.name not in _LINES)
            if dataclasses.is_dataclass(value) and not isinstance(value, type)
            else None
        )
        fields[kind] = names
    if names is None:
        return value
    items = [getattr(value, name) for name in names]
    return (
        kind.__name__,
        *[item if type(item) in _SCALARS else _without_lines(item, fields) for item in items],
    )


# Values that are their own shape (no dataclass, no tuple): returned as they are, without a call.
_SCALARS = frozenset({str, int, bool, float, type(None)})


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


def strip_optional(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """``X`` for ``X``, ``Optional[X]``, ``X | None``, ``"X"``; None for anything else."""
    if isinstance(annotation, cst.SimpleString):
        text = annotation.evaluated_value
        if not isinstance(text, str):
            return None
        try:
            return strip_optional(cst.parse_expression(text))
        except (cst.ParserSyntaxError, TypeError, ValueError):
            return None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        left, right = annotation.left, annotation.right
        if dotted_name(right) == "None":
            return strip_optional(left)
        if dotted_name(left) == "None":
            return strip_optional(right)
        return None
    if isinstance(annotation, cst.Subscript):
        head = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        items = [el.slice.value for el in annotation.slice if isinstance(el.slice, cst.Index)]
        if head == "Optional" and len(items) == 1:
            return strip_optional(items[0])
        if head == "Union":
            rest = [item for item in items if dotted_name(item) != "None"]
            return strip_optional(rest[0]) if len(rest) == 1 else None
        if head == "Annotated" and items:
            return strip_optional(items[0])
        return None
    return annotation if dotted_name(annotation) is not None else None


_ATTRS_DECORATORS = frozenset(
    {
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
        "attr.dataclass",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
    }
)
_DATACLASS_DECORATORS = frozenset(
    {"dataclasses.dataclass", "dataclass", "pydantic.dataclasses.dataclass"}
)
_FIELD_CALLS = frozenset({"field", "ib", "attrib", "Field"})


def definition_lines(text: str, tree: ast.Module | None = None) -> dict[str, list[int]]:
    """name -> lines of its ``def``/``class`` statements, in the order the walk meets them
    (from ``tree``, CPython's tree of ``text``, when the caller has it)."""
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return {}
    out: dict[str, list[int]] = {}
    # Definitions are statements: only the statement lists are walked (expressions hold none;
    # lambdas are not counted), in the order ``ast.iter_child_nodes`` lists those fields.
    pending: list[ast.AST] = list(reversed(tree.body))
    while pending:
        node = pending.pop()
        node_type = type(node)
        if node_type in _DEFINITIONS:
            out.setdefault(node.name, []).append(node.lineno)  # type: ignore[attr-defined]
        nested: list[ast.AST] = []
        for field in _STATEMENT_LISTS:
            nested.extend(getattr(node, field, ()))
        pending.extend(reversed(nested))
    return out


_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
# The fields holding statements (or except handlers and match cases, which hold them), in the
# order of every node type's ``_fields`` that has them (none has both ``cases`` and another).
_STATEMENT_LISTS = ("body", "handlers", "orelse", "finalbody", "cases")


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _is_false(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _is_true(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def _init_style(node: cst.ClassDef, decorators: tuple[str, ...]) -> tuple[str | None, bool, bool]:
    """(init style, every field keyword-only, attrs without auto_attribs) from the decorators."""
    for decorator, name in zip(node.decorators, decorators):
        if name in _DATACLASS_DECORATORS:
            style = "dataclass"
        elif name in _ATTRS_DECORATORS:
            style = "attrs"
        else:
            continue
        call = decorator.decorator if isinstance(decorator.decorator, cst.Call) else None
        if call is not None and _is_false(_keyword(call, "init")):
            return "none", False, False
        kw_only = call is not None and _is_true(_keyword(call, "kw_only"))
        classic = name in ("attr.s", "attr.attrs") and not (
            call is not None and _is_true(_keyword(call, "auto_attribs"))
        )
        return style, kw_only, classic
    return None, False, False


def class_fields(
    node: cst.ClassDef, decorators: tuple[str, ...], context: RuleContext
) -> tuple[str | None, tuple[ParamFacts, ...], list[tuple[str, str]]]:
    """(init style, the generated ``__init__``'s fields, class-body annotated attribute types)."""
    style, all_kw_only, classic = _init_style(node, decorators)
    fields: list[ParamFacts] = []
    annotated: list[tuple[str, str]] = []
    if not isinstance(node.body, cst.IndentedBlock):
        return style, (), annotated
    kw_only = all_kw_only
    for statement in node.body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        annotation: cst.BaseExpression | None = None
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            target, annotation, value = small.target, small.annotation.annotation, small.value
        elif (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            target, value = small.targets[0].target, small.value
        else:
            continue
        field_call = (
            value
            if isinstance(value, cst.Call)
            and (dotted_name(value.func) or "").rsplit(".", 1)[-1] in _FIELD_CALLS
            else None
        )
        if annotation is None and field_call is None:
            continue
        if classic and field_call is None:
            continue
        head = (
            dotted_name(annotation.value if isinstance(annotation, cst.Subscript) else annotation)
            if annotation is not None
            else None
        )
        last = (head or "").rsplit(".", 1)[-1]
        if last == "ClassVar":
            continue
        if last == "KW_ONLY":
            kw_only = True
            continue
        if last == "InitVar" and isinstance(annotation, cst.Subscript) and annotation.slice:
            first = annotation.slice[0].slice
            annotation = first.value if isinstance(first, cst.Index) else None
        if annotation is not None:
            inner = strip_optional(annotation)
            written = dotted_name(inner) if inner is not None else None
            if written is not None:
                annotated.append((target.value, written))
        name = target.value
        has_default = value is not None
        default_is_none = isinstance(value, cst.Name) and value.value == "None"
        field_kw_only = kw_only
        if field_call is not None:
            if _is_false(_keyword(field_call, "init")):
                continue
            default = _keyword(field_call, "default")
            positional = [a.value for a in field_call.args if a.keyword is None and not a.star]
            if default is None and positional:
                default = positional[0]
            if isinstance(default, cst.Ellipsis):
                default = None
            factory = _keyword(field_call, "default_factory") or _keyword(field_call, "factory")
            has_default = default is not None or factory is not None
            default_is_none = isinstance(default, cst.Name) and default.value == "None"
            if _is_true(_keyword(field_call, "kw_only")):
                field_kw_only = True
            alias = _keyword(field_call, "alias")
            if isinstance(alias, cst.SimpleString) and isinstance(alias.evaluated_value, str):
                name = alias.evaluated_value
        if style == "attrs":
            name = name.lstrip("_") or name
        text = " ".join(context.code_for(annotation).split()) if annotation is not None else None
        fields.append(
            ParamFacts(
                name=name,
                kind="keyword_only" if field_kw_only else "positional",
                has_default=has_default,
                default_is_none=default_is_none,
                annotation=text,
                annotation_admits_none=annotation_admits_none(annotation)
                if annotation is not None
                else None,
            )
        )
    return style, tuple(fields), annotated


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


def _base_name(expr: cst.BaseExpression, context: RuleContext) -> str:
    """A base class as a dotted name (qualified through imports); ``Base[T]`` is ``Base``;
    ``?`` for an expression (``declarative_base()``): a base nothing can resolve."""
    if isinstance(expr, cst.Subscript):
        expr = expr.value
    return context.imports.qualified_name(expr) or dotted_name(expr) or "?"


def _is_parameter(function: cst.FunctionDef | cst.Lambda, name: str) -> bool:
    params = function.params
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    extra = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return any(p.name.value == name for p in (*every, *extra))


def _self_attribute(expr: cst.BaseExpression) -> bool:
    """``self.x`` / ``self.x[...]`` / ``self.x.y``: state reached through ``self``."""
    # exact types: isinstance() against LibCST's ABC-based classes is slow (on every assignment)
    while type(expr) is cst.Attribute or type(expr) is cst.Subscript:
        if type(expr) is cst.Attribute and type(expr.value) is cst.Name:
            return expr.value.value == "self"
        expr = expr.value
    return False


def _unset_test(test: cst.BaseExpression, attribute: str) -> bool:
    """``not self.<attribute>`` or ``self.<attribute> is None``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        subject = test.expression
    elif (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Is)
        and isinstance(test.comparisons[0].comparator, cst.Name)
        and test.comparisons[0].comparator.value == "None"
    ):
        subject = test.left
    else:
        return False
    return (
        isinstance(subject, cst.Attribute)
        and isinstance(subject.value, cst.Name)
        and subject.value.value == "self"
        and subject.attr.value == attribute
    )


def _names_read(node: cst.CSTNode) -> set[str]:
    """The plain names ``node`` reads (attribute names and keyword names excluded)."""
    out: set[str] = set()
    pending: list[cst.CSTNode] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            out.add(current.value)
        elif isinstance(current, cst.Attribute):
            pending.append(current.value)
        elif isinstance(current, cst.Arg):
            pending.append(current.value)
        else:
            pending.extend(current.children)
    return out


def _created_by(value: cst.BaseExpression) -> str | None:
    """The callee of ``X(...)``, ``await X(...)`` or ``_x or X(...)`` as written, else None."""
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        value = value.right
    if isinstance(value, cst.Await):
        value = value.expression
    return dotted_name(value.func) if isinstance(value, cst.Call) else None


def _rooted_in(expr: cst.BaseExpression, names: set[str]) -> bool:
    """``obj.x`` / ``obj[k]`` where ``obj`` is one of ``names``."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value in names


class _Singleton:
    """What the walk has learned about whether a module-level class shares one instance."""

    __slots__ = ("call_cache", "init_per_call", "name", "reason")

    def __init__(self, name: str) -> None:
        self.name = name
        self.reason: str | None = None
        self.init_per_call = False
        self.call_cache: str | None = None


class _Method:
    """How a method of a module-level class refers to its class, its instance and new objects."""

    __slots__ = ("class_refs", "created", "instances", "name", "owner", "self_name")

    def __init__(self, node: cst.FunctionDef, facts: FunctionFacts, owner: _Singleton) -> None:
        self.owner = owner
        self.name = node.name.value
        first = facts.params[0] if facts.params else None
        first_name = (
            first.name if first and first.kind in ("positional_only", "positional") else None
        )
        self.class_refs = {owner.name}
        self.self_name: str | None = None
        if (
            self.name == "__new__"
            or facts.kind == "classmethod"
            or self.name in _IMPLICIT_CLASSMETHODS
        ):
            if first_name is not None:
                self.class_refs.add(first_name)
        elif facts.kind == "method":
            self.self_name = first_name
        self.instances: set[str] = set()  # locals bound to an instance of the class
        self.created: set[str] = set()  # locals bound to ``super().__call__(...)`` (metaclasses)

    def is_class_ref(self, expr: cst.BaseExpression) -> bool:
        """``Cls``, ``cls``, ``type(self)`` or ``self.__class__``."""
        if isinstance(expr, cst.Name):
            return expr.value in self.class_refs
        if self.self_name is None:
            return False
        if isinstance(expr, cst.Attribute):
            return (
                expr.attr.value == "__class__"
                and isinstance(expr.value, cst.Name)
                and expr.value.value == self.self_name
            )
        return (
            isinstance(expr, cst.Call)
            and len(expr.args) == 1
            and isinstance(expr.func, cst.Name)
            and expr.func.value == "type"
            and isinstance(expr.args[0].value, cst.Name)
            and expr.args[0].value.value == self.self_name
        )

    def class_attribute(self, target: cst.BaseExpression) -> str | None:
        """``attr`` for ``cls.attr`` / ``cls.attr[key]``."""
        while isinstance(target, cst.Subscript):
            target = target.value
        if isinstance(target, cst.Attribute) and self.is_class_ref(target.value):
            return target.attr.value
        return None

    def is_instance(self, value: cst.BaseExpression) -> bool:
        """``cls(...)``, ``super().__new__(cls)``, ``self`` in an instance method, or a local of those."""
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Name):
            return value.value in self.instances or value.value == self.self_name
        if not isinstance(value, cst.Call):
            return False
        func = value.func
        if isinstance(func, cst.Attribute) and func.attr.value == "__new__":
            return True
        return self.is_class_ref(func)

    def is_created(self, value: cst.BaseExpression) -> bool:
        """``super().__call__(...)`` / ``type.__call__(cls, ...)`` or a local bound to one."""
        if isinstance(value, cst.Name):
            return value.value in self.created
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "__call__"
        )


class _Function:
    """A function being walked: module globals it binds, what it caches and what it returns."""

    __slots__ = (
        "alias_ok",
        "cached",
        "global_calls",
        "globals",
        "local_calls",
        "locals",
        "method",
        "node",
        "qualname",
        "returned_calls",
        "returned_globals",
        "returned_names",
        "track_locals",
    )

    def __init__(
        self,
        node: cst.FunctionDef,
        qualname: str,
        cached: str | None,
        alias_ok: bool,
        method: _Method | None,
    ) -> None:
        self.node = node
        self.qualname = qualname
        self.cached = cached  # the functools cache decorator of a zero-argument function
        self.alias_ok = alias_ok  # a zero-argument module-level function: may be a getter
        self.method = method
        self.globals: set[str] = set()
        self.global_calls: dict[str, str] = {}
        self.locals: set[str] = set()
        self.local_calls: dict[str, str] = {}
        self.returned_globals: set[str] = set()
        self.returned_calls: list[str] = []
        self.returned_names: list[str] = []
        self.track_locals = alias_ok or cached is not None


class FactCollector:
    """Runs in the engine's single walk beside the rules; builds the file's ModuleFacts."""

    code = "facts"

    def __init__(
        self, context: RuleContext, text: str | None = None, tree: ast.Module | None = None
    ) -> None:
        self.context = context
        self._text = text
        self._tree = tree  # CPython's tree of ``text``, if the caller parsed it already
        self._line = 0
        self._def_lines: dict[str, list[int]] | None = None
        self._class_lines: list[int] = []  # beside ``_class_stack``
        self._attribute_types: list[list[tuple[str, str]]] = []  # beside ``_class_stack``
        self.classes: list[ClassFacts] = []
        self.functions: list[FunctionFacts] = []
        self.variables: list[str] = []
        self.all_names: tuple[str, ...] | None = None
        # (class, its methods, [has mutable state, *the methods changing it])
        self._class_stack: list[tuple[cst.ClassDef, list[FunctionFacts], list[bool | str]]] = []
        self.shared: list[SharedInstanceFacts] = []
        self.external_mutations: list[tuple[str, str]] = []
        self._singletons: list[_Singleton] = []  # beside ``_class_stack``
        self._functions: list[_Function] = []  # every function being walked, innermost last

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
            line=self._line,
            decorators=decorators,
        )

    def _direct_class(self) -> tuple[cst.ClassDef, list[FunctionFacts], list[bool | str]] | None:
        scopes = self.context.scopes
        if self._class_stack and scopes and scopes[-1][1] is self._class_stack[-1][0]:
            return self._class_stack[-1]
        return None

    def _next_line(self, name: str) -> int:
        """The line of the next ``def``/``class`` named ``name`` (CPython's ``ast``, which visits
        definitions in the same order as the walk); 0 when unknown."""
        if self._def_lines is None:
            self._def_lines = (
                definition_lines(self._text, self._tree) if self._text is not None else {}
            )
        lines = self._def_lines.get(name)
        return lines.pop(0) if lines else 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts: FunctionFacts | None = None
        method: _Method | None = None
        self._line = self._next_line(node.name.value)
        if self.context.at_module_level():
            facts = self._function(node, in_class=False)
            self.functions.append(facts)
        else:
            owner = self._direct_class()
            if owner is not None:
                facts = self._function(node, in_class=True)
                owner[1].append(facts)
                method = _Method(node, facts, self._singletons[-1])
        self._begin_function(node, facts, method)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        line = self._next_line(node.name.value)
        if self.context.at_module_level():
            self._class_lines.append(line)
            self._attribute_types.append([])
            self._class_stack.append((node, [], [False]))
            self._singletons.append(_Singleton(node.name.value))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if not self._class_stack or self._class_stack[-1][0] is not node:
            return
        _, methods, mutable = self._class_stack.pop()
        singleton = self._singletons.pop()
        line = self._class_lines.pop()
        attribute_types = self._attribute_types.pop()
        decorators = _decorator_names(node, self.context)
        init_style, fields, annotated = class_fields(node, decorators, self.context)
        bases = tuple(_base_name(arg.value, self.context) for arg in node.bases)
        metaclass = next(
            (
                self.context.imports.qualified_name(arg.value) or dotted_name(arg.value)
                for arg in node.keywords
                if arg.keyword is not None and arg.keyword.value == "metaclass"
            ),
            None,
        )
        self.classes.append(
            ClassFacts(
                name=node.name.value,
                bases=tuple(b for b in bases if b),
                methods=tuple(methods),
                line=line,
                has_mutable_state=bool(mutable[0]),
                decorators=decorators,
                singleton_reason=singleton.reason,
                init_per_call=singleton.init_per_call,
                metaclass=metaclass,
                call_cache=singleton.call_cache,
                init_style=init_style,
                fields=fields,
                attribute_types=tuple(dict.fromkeys((*annotated, *attribute_types))),
                mutating_methods=tuple(str(m) for m in mutable[1:]),
            )
        )

    # -- module-level variables ---------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level():
            for target in node.targets:
                self._variable(target.target, node.value)
            if len(node.targets) == 1:
                self._module_instance(node.targets[0].target, node.value)
        else:
            for target in node.targets:
                self._maybe_state(target.target, node.value)
                self._external_mutation(target.target, subscript_only=True)
            if self._functions:
                self._bind_in_function([t.target for t in node.targets], node.value)
                if len(node.targets) == 1:
                    self._attribute_type(node.targets[0].target, node.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.context.at_module_level():
            self._variable(node.target, node.value)
            if node.value is not None:
                self._module_instance(node.target, node.value)
        elif node.value is not None:
            self._maybe_state(node.target, node.value)
            if self._functions:
                self._bind_in_function([node.target], node.value)
                self._attribute_type(node.target, node.value, node.annotation)

    def _attribute_type(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression,
        annotation: cst.Annotation | None,
    ) -> None:
        """``self.x: X = ...`` / ``self.x = X(...)`` in a method of the module-level class."""
        function = self._current_function()
        method = function.method if function is not None else None
        if (
            method is None
            or not self._attribute_types
            or not isinstance(target, cst.Attribute)
            or not isinstance(target.value, cst.Name)
            or target.value.value != method.self_name
        ):
            return
        written: str | None = None
        if annotation is not None:
            inner = strip_optional(annotation.annotation)
            written = dotted_name(inner) if inner is not None else None
        elif isinstance(value, cst.Call):
            written = dotted_name(value.func)
        if written is not None:
            self._attribute_types[-1].append((target.attr.value, written))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self.context.at_module_level():
            self._maybe_state(node.target)
            self._external_mutation(node.target, subscript_only=True)

    def visit_Del(self, node: cst.Del) -> None:
        if not self.context.at_module_level():
            self._external_mutation(node.target, subscript_only=True)

    def _external_mutation(self, target: cst.BaseExpression, *, subscript_only: bool) -> None:
        """A function mutating a container another module owns: ``CACHE[k] = v`` after
        ``from cfg import CACHE``, ``cfg.CACHE.append(x)`` (recorded for ISO201)."""
        if subscript_only:
            if type(target) is not cst.Subscript:  # exact types: isinstance() is slow on nodes
                return
            target = target.value
        root = target
        while type(root) is cst.Attribute:
            root = root.value
        if type(root) is not cst.Name:
            return
        function = self.context.enclosing_function()
        if function is None or _is_parameter(function, root.value):
            return
        qualified = self.context.imports.qualified_name(target)
        if qualified is not None and "." in qualified:
            self.external_mutations.append((qualified, self.context.scope_name()))

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
        return self._stateful_method() is not None

    def _stateful_method(self) -> str | None:
        """The (non-setup) method of the module-level class being collected we are inside."""
        if not self._class_stack:
            return None
        scopes = self.context.scopes
        cls = self._class_stack[-1][0]
        for index, (_, node) in enumerate(scopes):
            if node is cls and index + 1 < len(scopes):
                method = scopes[index + 1][1]
                if isinstance(method, cst.FunctionDef) and method.name.value not in _SETUP_METHODS:
                    return method.name.value
                return None
        return None

    def _state_changed(self) -> None:
        """The class has mutable state, changed in the current method (``mutable[1:]``)."""
        mutable = self._class_stack[-1][2]
        mutable[0] = True
        method = self._stateful_method()
        if method is not None and method not in mutable[1:]:
            mutable.append(method)

    def _maybe_state(
        self, target: cst.BaseExpression, value: cst.BaseExpression | None = None
    ) -> None:
        if _self_attribute(target) and self._in_stateful_method():
            if value is not None and self._lazy_resource(target, value):
                return
            self._state_changed()

    def _lazy_resource(self, target: cst.BaseExpression, value: cst.BaseExpression) -> bool:
        """``self.x = None`` (a reset), or ``self.x = ...`` under ``if not self.x:`` / ``if
        self.x is None:`` from nothing the method binds (no parameter or local: only ``self``'s
        own attributes and module names): a resource created lazily from the instance's
        construction-time attributes, the same whoever calls. Not a change of its state."""
        if not (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
        ):
            return False
        if isinstance(value, cst.Name) and value.value == "None":
            return True
        function = self._current_function()
        if function is None:
            return False
        ancestors = self.context.ancestors
        for index in range(len(ancestors) - 1, 0, -1):
            node = ancestors[index - 1]
            if node is function.node:
                return False
            if (
                isinstance(node, cst.If)
                and ancestors[index] is node.body
                and _unset_test(node.test, target.attr.value)
            ):
                scope = self.context.function_scope(function.node)
                return not any(scope.is_local(name) for name in _names_read(value) - {"self"})
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in MUTATING_METHODS:
            self._external_mutation(func.value, subscript_only=False)
        if not self._class_stack:
            return
        function = self._current_function()
        if function is not None and function.method is not None:
            self._call_cache_call(function.method, node)
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in MUTATING_METHODS
            and _self_attribute(func.value)
            and self._in_stateful_method()
        ) or self._mutates_through_function(node):
            self._state_changed()

    def _mutates_through_function(self, node: cst.Call) -> bool:
        """``heapq.heappush(self._heap, x)``, ``bisect.insort(self.xs, x)``, ``setattr(self, ..)``
        in a (non-setup) method: instance state changed through a function."""
        args = node.args
        if not args or args[0].keyword is not None or args[0].star:
            return False
        func = node.func
        first = args[0].value
        if isinstance(func, cst.Name) and func.value in ("setattr", "delattr"):
            is_self = isinstance(first, cst.Name) and first.value == "self"
            changes = func.value not in self.context.imports.bindings and (
                is_self or _self_attribute(first)
            )
        else:
            changes = (
                _self_attribute(first)
                and self.context.imports.qualified_name(func) in _MUTATING_FUNCTIONS
            )
        return changes and self._in_stateful_method()

    # -- process-wide instances: module-level, lazy globals, cached and aliased getters ------------
    def _module_instance(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if any(isinstance(a, cst.If) and _is_main_guard(a.test) for a in self.context.ancestors):
            return  # a local of the ``if __name__ == "__main__":`` script, not module state
        if isinstance(target, cst.Name) and isinstance(value, cst.Call):
            callee = dotted_name(value.func)
            if callee is not None and not target.value.startswith("__"):
                self.shared.append(SharedInstanceFacts("module", callee, target.value))

    def _begin_function(
        self, node: cst.FunctionDef, facts: FunctionFacts | None, method: _Method | None
    ) -> None:
        at_module_level = self.context.at_module_level()
        name = node.name.value
        qualname = name if at_module_level else f"{self.context.scope_name()}.{name}"
        cached = None
        if facts is not None and not facts.params:
            cached = next((d for d in facts.decorators if d in _CACHE_DECORATORS), None)
        alias_ok = at_module_level and facts is not None and not facts.params
        self._functions.append(_Function(node, qualname, cached, alias_ok, method))

    def _current_function(self) -> _Function | None:
        """The function whose own body (not a nested def or class) is being walked."""
        if not self._functions:
            return None
        function = self._functions[-1]
        scopes = self.context.scopes
        return function if scopes and scopes[-1][1] is function.node else None

    def _bind_in_function(
        self, targets: list[cst.BaseExpression], value: cst.BaseExpression
    ) -> None:
        function = self._current_function()
        if function is None:
            return
        if not function.globals and not function.track_locals and function.method is None:
            return  # nothing to learn from this function's assignments
        callee = _created_by(value) if function.globals or function.track_locals else None
        for target in targets:
            if isinstance(target, cst.Name):
                name = target.value
                if name in function.globals:
                    if callee is not None:
                        function.global_calls.setdefault(name, callee)
                elif function.track_locals:
                    function.locals.add(name)
                    if callee is not None:
                        function.local_calls[name] = callee
                    else:
                        function.local_calls.pop(name, None)
            if function.method is not None:
                self._singleton_store(function.method, target, value)

    def visit_Global(self, node: cst.Global) -> None:
        function = self._current_function()
        if function is not None:
            function.globals.update(item.name.value for item in node.names)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        function = self._current_function() if self._functions else None
        target = node.target
        if function is not None and isinstance(target, cst.Name):
            callee = _created_by(node.value)
            if target.value in function.globals and callee is not None:
                function.global_calls.setdefault(target.value, callee)

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        function = self._current_function() if value is not None else None
        if function is None or value is None:
            return
        first = value.left if isinstance(value, cst.BooleanOperation) else value
        name = first.value if isinstance(first, cst.Name) else None
        if name is not None and name in function.globals:
            function.returned_globals.add(name)
        elif function.cached is not None:
            callee = _created_by(value) or (function.local_calls.get(name) if name else None)
            if callee is not None:
                function.returned_calls.append(callee)
        elif function.alias_ok:
            dotted = dotted_name(value)
            if (
                dotted is not None
                and dotted not in _CONSTANT_NAMES
                and dotted.split(".", 1)[0] not in function.locals
            ):
                function.returned_names.append(dotted)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self._functions or self._functions[-1].node is not node:
            return
        function = self._functions.pop()
        qualname = function.qualname
        for name, callee in function.global_calls.items():
            returned = name in function.returned_globals
            self.shared.append(SharedInstanceFacts("global", callee, name, qualname, returned))
        for callee in dict.fromkeys(function.returned_calls):
            cache = function.cached or ""
            self.shared.append(SharedInstanceFacts("cached", callee, cache, qualname, True))
        if function.alias_ok:
            elsewhere = sorted(function.returned_globals - function.global_calls.keys())
            for dotted in dict.fromkeys([*elsewhere, *function.returned_names]):
                self.shared.append(SharedInstanceFacts("alias", dotted, "", qualname, True))

    # -- singleton shapes of a module-level class (ISO101 / ISO102 / ISO104) ---------------------
    def _singleton_store(
        self, method: _Method, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        owner = method.owner
        if (
            method.name == "__call__"
            and owner.call_cache is None
            and not isinstance(target, cst.Name)
            and method.is_created(value)
            and not _rooted_in(target, method.created)
        ):
            # a metaclass's ``__call__`` keeps the instance it made; its first parameter is the
            # class, so ``cls._instance = super().__call__()`` is a store on the class
            owner.call_cache = " ".join(self.context.code_for(target).split())
            return
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == method.self_name
            and target.attr.value != "__dict__"
        ):
            return  # ``self.x = ...``: instance state, the common case
        if isinstance(target, cst.Name):
            if method.is_instance(value):
                method.instances.add(target.value)
            if method.name == "__call__" and method.is_created(value):
                method.created.add(target.value)
            return
        if isinstance(target, cst.Attribute) and target.attr.value == "__dict__":
            shared = self._borg_source(method, value)
            if shared is not None and owner.reason is None:
                owner.reason = (
                    f"all its instances share one `__dict__` (`{shared}`, set in `{method.name}`)"
                )
                owner.init_per_call = True
            return
        if owner.reason is None and method.is_instance(value):
            attribute = method.class_attribute(target)
            if attribute is not None:
                owner.reason = f"caches its own instance in `{attribute}` in `{method.name}`"
                owner.init_per_call = method.name == "__new__"

    def _call_cache_call(self, method: _Method, node: cst.Call) -> None:
        """``setattr(cls, "_instance", created)`` / ``X.setdefault(cls, created)`` in a
        metaclass's ``__call__`` (the call forms ISO102 recognises)."""
        owner = method.owner
        if method.name != "__call__" or owner.call_cache is not None:
            return
        func, args = node.func, [arg.value for arg in node.args]
        if (
            isinstance(func, cst.Name)
            and func.value == "setattr"
            and len(args) == 3
            and method.is_created(args[2])
            and not _rooted_in(args[0], method.created)
        ):
            target, attribute = (" ".join(self.context.code_for(a).split()) for a in args[:2])
            owner.call_cache = f"setattr({target}, {attribute}, ...)"
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value == "setdefault"
            and len(args) == 2
            and method.is_created(args[1])
        ):
            owner.call_cache = " ".join(self.context.code_for(func.value).split())

    def _borg_source(self, method: _Method, value: cst.BaseExpression) -> str | None:
        """Source of a class attribute or module-level name installed as an instance ``__dict__``."""
        if isinstance(value, cst.Name):
            return value.value if value.value in self.variables else None
        if not isinstance(value, cst.Attribute) or value.attr.value == "__dict__":
            return None
        owner = value.value
        is_self = isinstance(owner, cst.Name) and owner.value == method.self_name
        if is_self or method.is_class_ref(owner):
            return " ".join(self.context.code_for(value).split())
        return None

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
            is_test=info.is_test or info.is_integration_test,  # integration tests and e2e apps too
            classes=tuple(self.classes),
            functions=tuple(self.functions),
            variables=tuple(dict.fromkeys(self.variables)),
            imports=table.module_bindings(),
            star_imports=tuple(table.star_modules),
            all_names=self.all_names,
            shared_instances=tuple(self.shared),
            external_mutations=tuple(self.external_mutations),
        )


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    names = [e.value for e in (test.left, target.comparator) if isinstance(e, cst.Name)]
    strings = [
        e.evaluated_value for e in (test.left, target.comparator) if isinstance(e, cst.SimpleString)
    ]
    return names == ["__name__"] and strings == ["__main__"]
