"""Call resolution: what a call's callee is, recorded per file as plain data, resolved with the index.

Two halves, matching the engine's two phases:

* Per file (during the one walk): ``LocalTypes`` follows the bindings of the enclosing functions
  (parameters and their annotations, ``x = Class(...)``, ``self``/``cls``), and
  ``callee_ref(call, context, local_types)`` turns a ``cst.Call`` into a ``CalleeRef`` (or None
  when the callee is not something a type checker could name statically). A ``CalleeRef`` is a
  frozen, picklable value: put it in a candidate payload.

* Global phase: ``resolve_call(index, module, ref)`` gives a ``ResolvedCallee`` (the
  ``FunctionRef``/``ClassRef`` plus whether ``self``/``cls`` is bound), ``resolve_callee`` just the
  target (for the call graph), and ``call_signatures(index, resolved)`` the signatures the call
  may bind to (several for ``@overload``; synthesized ``__init__`` of dataclasses, attrs, pydantic
  models and NamedTuples), or None when the call cannot be checked (``*args``-style decorators,
  unknown decorators, metaclasses, ``__new__``, external bases that may define the method).

Resolution never guesses: every step must be provable from the project's facts, else None.

Kinds of ``CalleeRef`` (``module`` is the calling module, given to the resolver separately):

=================  =========================================================================
``name``           ``f(...)``, ``mod.f(...)``, ``Cls(...)``, ``Cls.m(...)``, ``instance.m(...)`` of a
                   module-level instance; ``name`` is dotted, absolute when ``absolute``
``self_method``    ``self.m(...)`` in a method of module-level class ``owner``
``cls_method``     ``cls.m(...)`` in a classmethod of ``owner``
``cls_call``       ``cls(...)``, ``type(self)(...)``, ``self.__class__(...)`` in ``owner``
``super_method``   ``super().m(...)`` in a method of ``owner`` (looked up after ``owner`` in its MRO)
``attr_method``    ``self.<attribute>.m(...)``, the attribute's class known from ``owner``'s facts
``instance_method``  ``x.m(...)`` where ``x``'s class ``owner`` (dotted, absolute when
                   ``absolute``) is known: ``x = Owner(...)``, ``x: Owner``, ``Owner().m(...)``
=================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from isolint.context import RuleContext
from isolint.facts import CalleeRef, ClassFacts, FunctionFacts, ParamFacts, strip_optional
from isolint.imports import dotted_name
from isolint.project import ClassRef, FunctionRef, ModuleRef, ProjectIndex, Signature, VariableRef
from isolint.scopes import comprehension_names

NAME = "name"
SELF_METHOD = "self_method"
CLS_METHOD = "cls_method"
CLS_CALL = "cls_call"
SUPER_METHOD = "super_method"
ATTR_METHOD = "attr_method"
INSTANCE_METHOD = "instance_method"

_MAX_DEPTH = 30


# -- per file: local bindings -------------------------------------------------------------------
@dataclass(frozen=True)
class _Local:
    """What a local name is: ``unknown``, ``instance`` of ``owner``, or ``self``/``cls`` of ``owner``."""

    kind: str
    owner: str = ""
    absolute: bool = False


_UNKNOWN = _Local("unknown")
_CLASSMETHOD_NAMES = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
# Node types are told by ``type() is`` below, not isinstance() (slow on LibCST's classes; this
# runs for every call and binding of the walk): the parser makes no subclasses of them.


def class_name_of(annotation: cst.BaseExpression, context: RuleContext) -> tuple[str, bool] | None:
    """The dotted class an annotation names (through imports when possible), or None."""
    inner = strip_optional(annotation)
    if inner is None:
        return None
    qualified = context.imports.qualified_name(inner)
    if qualified is not None:
        return qualified, True
    dotted = dotted_name(inner)
    return (dotted, False) if dotted is not None else None


class LocalTypes:
    """Bindings of the enclosing functions, innermost last: parameters, ``self``/``cls``, locals.

    Drive it from a visitor: ``push(node)`` in ``visit_FunctionDef``/``visit_Lambda`` (before the
    body: the walk has not entered the function's scope yet), ``pop()`` in the matching leave,
    ``enter(node)``/``leave(node)`` around a comprehension, and ``bind(target, value)`` for every
    assignment, loop target, ``with ... as`` and walrus. ``CallResolvingVisitor`` (below) does
    all of this.

    A local holds what the last binding the walk has met gave it (source order, as
    ``isolint.scopes.FunctionScope.preceding``). As in the shared scope model, a comprehension's
    ``for`` targets live in the comprehension's own scope (its first iterable is read outside
    it), and a walrus in a comprehension binds in the enclosing function.
    """

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.frames: list[dict[str, _Local]] = []
        # comprehensions being walked: (node, the names its ``for`` clauses bind, how many
        # function frames were open when it was entered)
        self.comprehensions: list[tuple[cst.BaseComp, frozenset[str], int]] = []

    def push(self, node: cst.FunctionDef | cst.Lambda) -> None:
        if self.frames and type(node) is cst.FunctionDef:
            self.frames[-1][node.name.value] = _UNKNOWN  # a nested def is a local name
        frame: dict[str, _Local] = {}
        params = node.params
        ordered = (*params.posonly_params, *params.params)
        for param in (*ordered, *params.kwonly_params):
            frame[param.name.value] = self._annotated(param.annotation)
        for extra in (params.star_arg, params.star_kwarg):
            if type(extra) is cst.Param:
                frame[extra.name.value] = _UNKNOWN
        owner = self._method_owner(node)
        if owner is not None and ordered and type(node) is cst.FunctionDef:
            first = ordered[0].name.value
            decorators = {
                (dotted_name(d.decorator) or "").rsplit(".", 1)[-1] for d in node.decorators
            }
            if "staticmethod" in decorators:
                pass
            elif "classmethod" in decorators or node.name.value in _CLASSMETHOD_NAMES:
                frame[first] = _Local("cls", owner)
            else:
                frame[first] = _Local("self", owner)
        self.frames.append(frame)

    def pop(self) -> None:
        if self.frames:
            self.frames.pop()

    def enter(self, node: cst.BaseComp) -> None:
        self.comprehensions.append((node, comprehension_names(node), len(self.frames)))

    def leave(self, node: cst.BaseComp) -> None:
        if self.comprehensions and self.comprehensions[-1][0] is node:
            self.comprehensions.pop()

    def _method_owner(self, node: cst.FunctionDef | cst.Lambda) -> str | None:
        scopes = self.context.scopes
        if type(node) is cst.FunctionDef and len(scopes) == 1:
            name, owner = scopes[0]
            if type(owner) is cst.ClassDef:
                return name
        return None

    def _annotated(self, annotation: cst.Annotation | None) -> _Local:
        if annotation is None:
            return _UNKNOWN
        found = class_name_of(annotation.annotation, self.context)
        return _Local("instance", found[0], found[1]) if found is not None else _UNKNOWN

    def bind(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression | None = None,
        annotation: cst.Annotation | None = None,
    ) -> None:
        """Record ``target = value`` (``value`` None: bound to something unknown)."""
        if not self.frames:
            return
        if type(target) is cst.Name:
            local = _UNKNOWN
            if annotation is not None:
                local = self._annotated(annotation)
            elif type(value) is cst.Call:
                built = self._constructed(value)
                if built is not None:
                    local = built
            self.frames[-1][target.value] = local
        elif type(target) is cst.Tuple or type(target) is cst.List:
            for element in target.elements:
                self.bind(element.value)
        elif type(target) is cst.StarredElement:
            self.bind(target.value)

    def _constructed(self, call: cst.Call) -> _Local | None:
        """``Owner(...)`` as an instance of the dotted name ``Owner`` (proved a class later)."""
        dotted = dotted_name(call.func)
        if dotted is None:
            return None
        head = dotted.split(".", 1)[0]
        if self.lookup(head) is not None:
            return None  # a local callable: not a class the index knows
        qualified = self.context.imports.qualified_name(call.func)
        if qualified is not None:
            return _Local("instance", qualified, True)
        return _Local("instance", dotted, False)

    def lookup(self, name: str) -> _Local | None:
        """The innermost local binding of ``name``; None when it is not local (module level)."""
        comprehensions = self.comprehensions
        inner = len(comprehensions) - 1
        for depth in range(len(self.frames), -1, -1):
            while inner >= 0 and comprehensions[inner][2] == depth:
                node, names, _ = comprehensions[inner]
                if name in names and not self._in_first_iterable(node):
                    return _UNKNOWN
                inner -= 1
            if depth:
                found = self.frames[depth - 1].get(name)
                if found is not None:
                    return found
        return None

    def _in_first_iterable(self, node: cst.BaseComp) -> bool:
        """Is the walk in the iterable of ``node``'s first ``for`` (read outside ``node``)?"""
        iterable = node.for_in.iter
        return self.context.current is iterable or any(
            ancestor is iterable for ancestor in reversed(self.context.ancestors)
        )


def _receiver(expr: cst.BaseExpression, context: RuleContext, local: LocalTypes) -> _Local | None:
    """What the object a method is called on is, when provable."""
    if type(expr) is cst.Name:
        return local.lookup(expr.value)
    if type(expr) is cst.Call:
        if type(expr.func) is cst.Name and expr.func.value == "super" and not expr.args:
            owner = _enclosing_owner(local)
            return _Local("super", owner) if owner else None
        return local._constructed(expr)
    return None


def _enclosing_owner(local: LocalTypes) -> str:
    for frame in reversed(local.frames):
        for value in frame.values():
            if value.kind in ("self", "cls"):
                return value.owner
    return ""


def callee_ref(call: cst.Call, context: RuleContext, local: LocalTypes) -> CalleeRef | None:
    """How the callee of ``call`` can be resolved, or None when no static name reaches it."""
    func = call.func
    if type(func) is cst.Name:
        found = local.lookup(func.value)
        if found is not None:
            return CalleeRef(CLS_CALL, "", found.owner) if found.kind == "cls" else None
        qualified = context.imports.qualified_name(func)
        if qualified is not None:
            return CalleeRef(NAME, qualified, absolute=True)
        return CalleeRef(NAME, func.value)
    if type(func) is cst.Call:
        # type(self)(...)
        if (
            type(func.func) is cst.Name
            and func.func.value == "type"
            and len(func.args) == 1
            and isinstance(func.args[0].value, cst.Name)
        ):
            found = local.lookup(func.args[0].value.value)
            if found is not None and found.kind == "self":
                return CalleeRef(CLS_CALL, "", found.owner)
        return None
    if type(func) is not cst.Attribute:
        return None
    method = func.attr.value
    receiver = func.value
    # self.attr.m(...)
    if type(receiver) is cst.Attribute and type(receiver.value) is cst.Name:
        found = local.lookup(receiver.value.value)
        if found is not None:
            if found.kind == "self":
                if receiver.attr.value == "__class__":
                    return None
                return CalleeRef(ATTR_METHOD, method, found.owner, receiver.attr.value)
            return None
    if type(receiver) is cst.Name:
        found = local.lookup(receiver.value)
        if found is None:
            pass  # a module-level name: resolved as a dotted name below
        elif found.kind == "self":
            if method == "__class__":
                return None
            return CalleeRef(SELF_METHOD, method, found.owner)
        elif found.kind == "cls":
            return CalleeRef(CLS_METHOD, method, found.owner)
        elif found.kind == "instance":
            return CalleeRef(INSTANCE_METHOD, method, found.owner, absolute=found.absolute)
        else:
            return None
    if type(receiver) is cst.Attribute and receiver.attr.value == "__class__":
        return None
    if type(receiver) is cst.Call:
        built = _receiver(receiver, context, local)
        if built is None:
            return None
        if built.kind == "super":
            return CalleeRef(SUPER_METHOD, method, built.owner)
        return CalleeRef(INSTANCE_METHOD, method, built.owner, absolute=built.absolute)
    dotted = dotted_name(func)
    if dotted is None:
        return None
    head = dotted.split(".", 1)[0]
    if local.lookup(head) is not None:
        return None
    qualified = context.imports.qualified_name(func)
    if qualified is not None:
        return CalleeRef(NAME, qualified, absolute=True)
    return CalleeRef(NAME, dotted)


class CallResolvingVisitor:
    """Mixin for walk visitors: keeps ``self.local_types`` current; call ``self.callee_ref(call)``.

    Subclasses that override a hook must call ``super()``'s.
    """

    context: RuleContext

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.local_types = LocalTypes(context)

    def callee_ref(self, call: cst.Call) -> CalleeRef | None:
        return callee_ref(call, self.context, self.local_types)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.local_types.push(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.local_types.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.local_types.push(node)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.local_types.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.local_types.bind(target.target, node.value if len(node.targets) == 1 else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.local_types.bind(node.target, node.value, node.annotation)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.local_types.bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.local_types.bind(node.target)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self.local_types.enter(node)

    def leave_ListComp(self, node: cst.ListComp) -> None:
        self.local_types.leave(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self.local_types.enter(node)

    def leave_SetComp(self, node: cst.SetComp) -> None:
        self.local_types.leave(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self.local_types.enter(node)

    def leave_DictComp(self, node: cst.DictComp) -> None:
        self.local_types.leave(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.local_types.enter(node)

    def leave_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.local_types.leave(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.local_types.bind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.local_types.bind(node.target, node.value)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.local_types.bind(node.name.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.local_types.frames:
            self.local_types.bind(node.name)

    def visit_Import(self, node: cst.Import) -> None:
        pass  # function-level imports are in the import table (the fact collector adds them)


# -- global phase: resolution -------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedCallee:
    """A callee found in the project; ``bound`` when ``self``/``cls`` is supplied by the call."""

    target: FunctionRef | ClassRef
    bound: bool


# Decorators that keep a function's signature (anything else makes the call uncheckable).
_SAFE_DECORATORS = frozenset(
    {
        "classmethod",
        "staticmethod",
        "overload",
        "abstractmethod",
        "final",
        "override",
        "cache",
        "lru_cache",
        "contextmanager",
        "asynccontextmanager",
        "deprecated",
    }
)
_SAFE_DECORATOR_MODULES = frozenset(
    {"typing", "typing_extensions", "abc", "functools", "contextlib", "warnings", ""}
)
_SAFE_CLASS_DECORATORS = frozenset({"final", "total_ordering", "runtime_checkable", "unique"})
# External bases with no ``__init__`` or methods of their own worth stopping for.
_HARMLESS_BASES = frozenset(
    {
        "object",
        "abc.ABC",
        "ABC",
        "typing.Generic",
        "typing.Protocol",
        "typing_extensions.Protocol",
    }
)
_PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
_NAMEDTUPLE_BASES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
_SAFE_METACLASSES = frozenset({"abc.ABCMeta", "ABCMeta"})


def _safe_decorator(name: str) -> bool:
    module, _, last = name.rpartition(".")
    return last in _SAFE_DECORATORS and module in _SAFE_DECORATOR_MODULES


def is_overload(function: FunctionFacts) -> bool:
    return any(d.rsplit(".", 1)[-1] == "overload" for d in function.decorators)


def _class_ref(index: ProjectIndex, module: str, dotted: str, absolute: bool) -> ClassRef | None:
    target = index.resolve_absolute(dotted) if absolute else index.resolve_dotted(module, dotted)
    if target is None and not absolute:
        target = index.resolve_absolute(dotted)
    return target if isinstance(target, ClassRef) else None


def _owner_class(index: ProjectIndex, module: str, name: str) -> ClassRef | None:
    facts = index.module(module)
    if facts is None:
        return None
    found = [cls for cls in facts.classes if cls.name == name]
    return ClassRef(module, found[-1]) if found else None


def mro(index: ProjectIndex, cls: ClassRef) -> tuple[list[ClassRef], list[str]]:
    """The project classes of ``cls``'s MRO (depth-first, left to right, as C3 for simple
    hierarchies) up to the first external base that could define anything, and the external
    bases met (absolute names when known) in order."""
    out: list[ClassRef] = []
    external: list[str] = []

    def visit(current: ClassRef, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            external.append("<too deep>")
            return False
        if current in out:
            return True
        out.append(current)
        for base in current.cls.bases:
            resolved = index.resolve_dotted(current.module, base) or index.resolve_absolute(base)
            if isinstance(resolved, ClassRef):
                if not visit(resolved, depth + 1):
                    return False
            elif base not in _HARMLESS_BASES:
                external.append(_absolute_base(index, current.module, base))
                return False
        return True

    visit(cls, 0)
    return out, external


def _absolute_base(index: ProjectIndex, module: str, base: str) -> str:
    facts = index.module(module)
    if facts is not None:
        head, _, rest = base.partition(".")
        for binding in facts.imports:
            if binding.local == head:
                return f"{binding.target}.{rest}" if rest else binding.target
    return base


def _defined(cls: ClassFacts, name: str) -> list[FunctionFacts]:
    return [method for method in cls.methods if method.name == name]


def lookup_method(
    index: ProjectIndex, cls: ClassRef, name: str, *, after: bool = False
) -> FunctionRef | None:
    """``name`` as attribute lookup finds it on ``cls`` (``after``: skip ``cls`` itself, as
    ``super()``); None when not provably a project method."""
    classes, _ = mro(index, cls)
    for current in classes[1:] if after else classes:
        defined = _defined(current.cls, name)
        if defined:
            return FunctionRef(current.module, _implementation(defined), current.cls)
    return None


def _implementation(defined: list[FunctionFacts]) -> FunctionFacts:
    plain = [f for f in defined if not is_overload(f)]
    return plain[-1] if plain else defined[-1]


def _instance_class(index: ProjectIndex, variable: VariableRef) -> ClassRef | None:
    """The class of a module-level ``name = Class(...)`` (one such assignment only)."""
    facts = index.module(variable.module)
    if facts is None:
        return None
    values = {
        s.value for s in facts.shared_instances if s.kind == "module" and s.name == variable.name
    }
    if len(values) != 1:
        return None
    return _class_ref(index, variable.module, values.pop(), False)


def _step(index: ProjectIndex, current: object, attr: str) -> object | None:
    """One attribute step of a dotted callee; instances are ``("instance", ClassRef)``."""
    if isinstance(current, ModuleRef):
        found = index.member(current, attr)
        if isinstance(found, VariableRef):
            instance = _instance_class(index, found)
            return ("instance", instance) if instance is not None else None
        return found
    if isinstance(current, ClassRef):
        return lookup_method(index, current, attr)
    if isinstance(current, tuple) and isinstance(current[1], ClassRef):
        method = lookup_method(index, current[1], attr)
        return ("bound", method) if method is not None else None
    return None


def _resolve_dotted(index: ProjectIndex, module: str, ref: CalleeRef) -> ResolvedCallee | None:
    parts = ref.name.split(".")
    start: object | None = None
    rest: list[str] = []
    if ref.absolute:
        for cut in range(len(parts), 0, -1):
            head = index.resolve_absolute(".".join(parts[:cut]))
            if head is not None:
                start, rest = head, parts[cut:]
                break
    else:
        start, rest = index.resolve_name(module, parts[0]), parts[1:]
    if isinstance(start, VariableRef):
        instance = _instance_class(index, start)
        start = ("instance", instance) if instance is not None else None
    current = start
    for attr in rest:
        if current is None:
            return None
        current = _step(index, current, attr)
    if isinstance(current, ClassRef):
        return ResolvedCallee(current, False)
    if isinstance(current, FunctionRef):
        return ResolvedCallee(current, False)
    if isinstance(current, tuple) and isinstance(current[1], FunctionRef):
        return ResolvedCallee(current[1], True)
    return None


def resolve_call(index: ProjectIndex, module: str, ref: CalleeRef) -> ResolvedCallee | None:
    """The project definition a call in ``module`` reaches, or None when not provable."""
    if ref.kind == NAME:
        return _resolve_dotted(index, module, ref)
    if ref.kind == INSTANCE_METHOD:
        cls = _class_ref(index, module, ref.owner, ref.absolute)
        method = lookup_method(index, cls, ref.name) if cls is not None else None
        return ResolvedCallee(method, True) if method is not None else None
    owner = _owner_class(index, module, ref.owner)
    if owner is None:
        return None
    if ref.kind == CLS_CALL:
        return ResolvedCallee(owner, False)
    if ref.kind in (SELF_METHOD, CLS_METHOD, SUPER_METHOD):
        method = lookup_method(index, owner, ref.name, after=ref.kind == SUPER_METHOD)
        if method is None:
            return None
        if ref.kind == CLS_METHOD and method.function.kind == "method":
            return ResolvedCallee(method, False)
        return ResolvedCallee(method, True)
    if ref.kind == ATTR_METHOD:
        cls = attribute_class(index, owner, ref.attribute)
        method = lookup_method(index, cls, ref.name) if cls is not None else None
        return ResolvedCallee(method, True) if method is not None else None
    return None


def resolve_callee(
    index: ProjectIndex, module: str, ref: CalleeRef
) -> FunctionRef | ClassRef | None:
    """Just the target of ``resolve_call`` (for the call graph)."""
    resolved = resolve_call(index, module, ref)
    return resolved.target if resolved is not None else None


def attribute_class(index: ProjectIndex, cls: ClassRef, attribute: str) -> ClassRef | None:
    """The class of instance attribute ``attribute`` of ``cls`` (from annotations or
    ``self.attribute = Class(...)``), looked up along the MRO; None unless one class is proved."""
    classes, _ = mro(index, cls)
    for current in classes:
        types = {t for name, t in current.cls.attribute_types if name == attribute}
        if len(types) == 1:
            return _class_ref(index, current.module, types.pop(), False)
        if types:
            return None
    return None


# -- global phase: signatures -------------------------------------------------------------------
def _decorators_ok(function: FunctionFacts) -> bool:
    return all(_safe_decorator(d) for d in function.decorators)


def _bound_params(function: FunctionFacts, bound: bool) -> tuple[ParamFacts, ...]:
    params = function.params
    if function.kind == "staticmethod":
        return params
    if function.kind == "classmethod" or bound:
        return (
            params[1:] if params and params[0].kind in ("positional", "positional_only") else params
        )
    return params


def _function_signatures(
    index: ProjectIndex, ref: FunctionRef, bound: bool
) -> tuple[Signature, ...] | None:
    siblings = (
        _defined(ref.owner, ref.function.name)
        if ref.owner is not None
        else [
            f for f in (index.module(ref.module) or _EMPTY).functions if f.name == ref.function.name
        ]
    ) or [ref.function]
    overloads = [f for f in siblings if is_overload(f)]
    plain = [f for f in siblings if not is_overload(f)]
    chosen = overloads or plain
    if not overloads and len({f.params for f in plain}) > 1:
        return None  # conditional definitions with different signatures
    path = _path(index, ref.module)
    out = []
    for function in chosen:
        if not _decorators_ok(function):
            return None
        out.append(Signature(replace(ref, function=function), _bound_params(function, bound), path))
    return tuple(out)


class _Empty:
    functions: tuple[FunctionFacts, ...] = ()


_EMPTY = _Empty()


def _path(index: ProjectIndex, module: str) -> str:
    facts = index.module(module)
    return facts.path if facts is not None else module


def implementation_signature(index: ProjectIndex, resolved: ResolvedCallee) -> Signature | None:
    """The signature the call meets at run time (the implementation, not the overloads)."""
    target = resolved.target
    if isinstance(target, ClassRef):
        sigs = constructor_signatures(index, target, implementation=True)
        return sigs[0] if sigs else None
    if not _decorators_ok(target.function):
        return None
    path = _path(index, target.module)
    return Signature(target, _bound_params(target.function, resolved.bound), path)


def call_signatures(index: ProjectIndex, resolved: ResolvedCallee) -> tuple[Signature, ...] | None:
    """The signatures a call may bind to (the ``@overload`` ones when there are, else the
    implementation's); None when the call cannot be checked statically."""
    target = resolved.target
    if isinstance(target, ClassRef):
        return constructor_signatures(index, target)
    return _function_signatures(index, target, resolved.bound)


def constructor_signatures(
    index: ProjectIndex, cls: ClassRef, *, implementation: bool = False
) -> tuple[Signature, ...] | None:
    """What ``Cls(...)`` binds to: ``__init__`` along the MRO or a synthesized one."""
    if cls.cls.metaclass is not None and cls.cls.metaclass not in _SAFE_METACLASSES:
        return None
    if any(
        d.rsplit(".", 1)[-1] not in _SAFE_CLASS_DECORATORS
        for d in cls.cls.decorators
        if not _dataclass_like(d)
    ):
        return None
    classes, external = mro(index, cls)
    for current in classes:
        if current.cls.metaclass is not None and current.cls.metaclass not in _SAFE_METACLASSES:
            return None
        if _defined(current.cls, "__new__"):
            return None
        init = _defined(current.cls, "__init__")
        if init:
            ref = FunctionRef(current.module, _implementation(init), current.cls)
            if implementation:
                if not _decorators_ok(ref.function):
                    return None
                return (
                    Signature(ref, _bound_params(ref.function, True), _path(index, ref.module)),
                )
            return _function_signatures(index, ref, True)
        if current.cls.init_style in ("dataclass", "attrs"):
            return _synthesized(index, cls, classes, current.cls.init_style)
    if external and external[-1] in _PYDANTIC_BASES:
        return _synthesized(index, cls, classes, "pydantic")
    if external and external[-1] in _NAMEDTUPLE_BASES and len(classes) == 1:
        return _synthesized(index, cls, classes, "namedtuple")
    return None


def _dataclass_like(decorator: str) -> bool:
    return decorator.split(".", 1)[0] in ("dataclasses", "attr", "attrs") or decorator in (
        "dataclass",
    )


def _synthesized(
    index: ProjectIndex, cls: ClassRef, classes: list[ClassRef], style: str
) -> tuple[Signature, ...] | None:
    """The ``__init__`` a dataclass/attrs/pydantic/NamedTuple machinery generates."""
    fields: dict[str, ParamFacts] = {}
    for current in reversed(classes):
        current_style = current.cls.init_style
        if style in ("dataclass", "attrs") and current_style not in ("dataclass", "attrs"):
            continue
        for field in current.cls.fields:
            fields[field.name] = field  # a redefined field keeps its place, as in dataclasses
    params = list(fields.values())
    if style == "pydantic":
        # pydantic ignores unknown keywords and raises ValidationError (not TypeError) for
        # missing ones: only what is passed is checked.
        params = [replace(p, kind="keyword_only", has_default=True) for p in params] + [
            ParamFacts("data", "varkw", False, False, None, None)
        ]
    elif style == "namedtuple":
        params = [replace(p, kind="positional") for p in params]
    else:
        positional = [p for p in params if p.kind != "keyword_only"]
        keyword = [p for p in params if p.kind == "keyword_only"]
        params = positional + keyword
    function = FunctionFacts("__init__", "method", tuple(params), cls.cls.line, (f"<{style}>",))
    ref = FunctionRef(cls.module, function, cls.cls)
    return (Signature(ref, tuple(params), _path(index, cls.module)),)


def describe_signature(signature: Signature) -> str:
    """``name(a: A, b=...)`` for messages."""
    parts = []
    star_done = False
    for param in signature.params:
        text = param.name
        if param.kind == "vararg":
            text = f"*{text}"
            star_done = True
        elif param.kind == "varkw":
            text = f"**{text}"
        elif param.kind == "keyword_only" and not star_done:
            parts.append("*")
            star_done = True
        if param.annotation is not None:
            text += f": {param.annotation}"
        if param.has_default:
            text += " = None" if param.default_is_none else " = ..."
        parts.append(text)
    return f"{signature.callable.function.name}({', '.join(parts)})"


def definition_line(signature: Signature) -> int:
    return signature.callable.function.line
