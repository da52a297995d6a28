"""Shared by the ISO6 rules: request-scoped data, writes into state, and process-wide objects."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from isolint.api import (
    STRINGS,
    BindingKind,
    ClassRef,
    FunctionRef,
    ImportTable,
    ModuleFacts,
    NameBinding,
    Option,
    ProjectIndex,
    RuleContext,
    ScopeChain,
    VariableRef,
    dotted_name,
)
from isolint.rules._containers import target_elements

REQUEST_SCOPED_NAMES = Option(
    "request-scoped-names",
    STRINGS,
    (
        "user_id",
        "user",
        "current_user",
        "session",
        "db_session",
        "request",
        "thread_id",
        "run_id",
        "websocket",
        "context",
        "user_context",
        "tenant_id",
    ),
    "names of request-scoped values; a value matches by its own name or, for `a.b.c`, by its "
    "root or last name",
    expected="a list of names",
)
REQUEST_SCOPED_TYPES = Option(
    "request-scoped-types",
    STRINGS,
    (),
    "types whose annotated parameters are request-scoped "
    '(`["WebSocket", "app.context.UserExecutionContext"]`); a plain name matches the last '
    "component of the annotation, a dotted name the qualified one",
    expected="a list of type names",
)

# Methods that put a value (or a key) into a list, dict, set or deque.
INSERTING_METHODS = frozenset(
    {
        "__setitem__",
        "add",
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "setdefault",
        "update",
    }
)
# Methods that reach into a container on the way to the one being written:
# ``X.setdefault(k, []).append(v)`` and ``X.get(k).append(v)`` write into ``X``.
_ACCESS_METHODS = frozenset({"setdefault", "get", "__getitem__"})
# Constructors of objects whose attributes are per thread or per context, never shared.
LOCAL_STATE_FACTORIES = frozenset(
    {
        "threading.local",
        "_thread._local",
        "contextvars.ContextVar",
        "werkzeug.local.Local",
        "asgiref.local.Local",
    }
)


_EMPTY_MODULE = cst.Module(body=())  # an immutable node: only its code-generation settings are used


def code(node: cst.CSTNode) -> str:
    """Source of ``node`` on one line (for messages)."""
    return " ".join(_EMPTY_MODULE.code_for_node(node).split())


# --- writes into state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One write a statement or call makes: ``written`` is the expression written into
    (``self.user``, ``self._by_user[...]``, ``_sessions``), ``data`` the values stored."""

    written: cst.BaseExpression
    data: tuple[cst.BaseExpression, ...]
    keyed: bool  # keys met on the way are stored data too (for ``+=`` only on a subscript)


def writes(node: cst.CSTNode) -> Iterator[Write]:
    """``X.a = v``, ``X[k] = v``, ``X.a += v`` and ``X.append(v)``-style insertions."""
    if isinstance(node, cst.Assign):
        for target in node.targets:
            for element in target_elements(target.target):
                if isinstance(element, (cst.Attribute, cst.Subscript)):
                    yield Write(element, (node.value,), True)
    elif isinstance(node, cst.AnnAssign):
        if node.value is not None and isinstance(node.target, (cst.Attribute, cst.Subscript)):
            yield Write(node.target, (node.value,), True)
    elif isinstance(node, cst.AugAssign):
        if isinstance(node.target, (cst.Attribute, cst.Subscript)):
            # ``counts[user_id] += n`` stores under the key; ``self.total += n`` stores no key
            yield Write(node.target, (node.value,), isinstance(node.target, cst.Subscript))
    elif isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in INSERTING_METHODS:
            yield Write(func.value, tuple(arg.value for arg in node.args), True)


@dataclass(frozen=True)
class Chain:
    """``written`` taken apart: ``nodes`` from the outermost expression down to the root
    (``[self._by_user[k], self._by_user, self]``), ``keys`` the subscripts and access-method
    arguments met on the way, ``reached`` whether a subscript or access call was crossed."""

    nodes: tuple[cst.BaseExpression, ...]
    keys: tuple[cst.BaseExpression, ...]
    reached: bool

    @property
    def root(self) -> cst.BaseExpression:
        return self.nodes[-1]

    def calls(self) -> Iterator[cst.Call]:
        return (node for node in self.nodes if isinstance(node, cst.Call))


def chain(expr: cst.BaseExpression) -> Chain:
    nodes = [expr]
    keys: list[cst.BaseExpression] = []
    reached = False
    while True:
        if isinstance(expr, cst.Subscript):
            keys.extend(el.slice.value for el in expr.slice if isinstance(el.slice, cst.Index))
            expr, reached = expr.value, True
        elif isinstance(expr, cst.Attribute):
            expr = expr.value
        elif (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in _ACCESS_METHODS
        ):
            keys.extend(arg.value for arg in expr.args)
            expr, reached = expr.func.value, True
        else:
            break
        nodes.append(expr)
    return Chain(tuple(nodes), tuple(keys), reached)


# --- request-scoped data -------------------------------------------------------------------------

# Fields that hold punctuation, operators or whitespace: never a value.
_SKIPPED_FIELDS = frozenset(
    {"lpar", "rpar", "comma", "colon", "equal", "dot", "operator", "semicolon", "star", "lbracket"}
    | {"rbracket", "lbrace", "rbrace", "whitespace", "header", "footer", "newline"}
)
_LEAVES = (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)


@functools.cache
def _value_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of a node type that can hold sub-expressions (``CSTNode.children`` is slow)."""
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
    )


def _sub_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Child nodes in source order, without punctuation and whitespace."""
    for name in _value_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from (item for item in value if isinstance(item, cst.CSTNode))


@dataclass(frozen=True)
class Datum:
    """A request-scoped value found in an expression: its source and where it comes from."""

    text: str
    origin: str | None = None  # "a `WebSocket`", "from `user_id`"; None when its name says it

    def __str__(self) -> str:
        return f"`{self.text}`" + (f" ({self.origin})" if self.origin else "")


def _annotation_names(annotation: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """Every Name/Attribute chain in an annotation, string annotations parsed."""
    stack: list[cst.CSTNode] = [annotation]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) is not None:
            yield node
        elif isinstance(node, cst.SimpleString):
            text = node.evaluated_value
            if isinstance(text, str):
                try:
                    stack.append(cst.parse_expression(text))
                except (cst.ParserSyntaxError, ValueError):
                    continue
        else:
            stack.extend(node.children)


class RequestScope:
    """Which names hold request-scoped data where a rule is walking.

    A name is request-scoped if it is in ``request-scoped-names``, if it is a parameter annotated
    with a type in ``request-scoped-types``, or if it is a local whose last value assigned before
    the read uses request-scoped data (``key = f"{user_id}:{thread_id}"``). Names are resolved
    with the shared scope model (``RuleContext.scope_chain``), lazily, when a write stores them.
    """

    def __init__(self, context: RuleContext) -> None:
        self.names = frozenset(context.option(REQUEST_SCOPED_NAMES))
        self.types = tuple(context.option(REQUEST_SCOPED_TYPES))
        self.imports: ImportTable = context.imports
        self.context = context
        self._typed: dict[int, str | None] = {}  # id(Param) -> "a `T`" for a request-scoped T

    def scoped_type(self, annotation: cst.BaseExpression) -> str | None:
        """The configured request-scoped type an annotation names, if any."""
        for expr in _annotation_names(annotation):
            written = dotted_name(expr) or ""
            qualified = self.imports.qualified_name(expr) or written
            for wanted in self.types:
                if "." in wanted:
                    if wanted in (qualified, written):
                        return wanted
                elif written.rsplit(".", 1)[-1] == wanted:
                    return wanted
        return None

    def _typed_parameter(self, binding: NameBinding) -> str | None:
        """Why a parameter is request-scoped by its annotation (``a `WebSocket```), if it is."""
        param = binding.node
        if not self.types or not isinstance(param, cst.Param) or param.annotation is None:
            return None
        key = id(param)
        if key not in self._typed:
            matched = self.scoped_type(param.annotation.annotation)
            self._typed[key] = f"a `{matched}`" if matched is not None else None
        return self._typed[key]

    def _lookup(
        self, name: str, chain: ScopeChain, exclude: frozenset[str], seen: frozenset[int]
    ) -> tuple[bool, str | None]:
        """Is ``name``, read where ``chain`` is, request-scoped, and where from (None when its
        name says it)."""
        if name in self.names and not self.types:
            return True, None
        resolved = chain.resolve(name)
        if name in self.names:
            scope = chain.scope(resolved.frame) if resolved is not None else None
            params = scope.bound(name, _PARAMETER) if scope is not None else ()
            return True, self._typed_parameter(params[0]) if params else None
        binding = resolved.binding if resolved is not None else None
        if resolved is None or binding is None:
            return False, None
        if binding.kind is BindingKind.PARAMETER:
            typed = self._typed_parameter(binding)
            return typed is not None, typed
        statement = binding.node
        value = _assigned_value(statement, name) if binding.kind in _ASSIGNED else None
        if value is None or id(statement) in seen:
            return False, None
        before = chain.at(resolved.frame, statement)
        datum = self._find([value], before, exclude, seen | {id(statement)})
        if datum is not None:
            return True, f"from `{datum.text}`"
        if binding.kind is BindingKind.AUGMENTED:  # ``key += ...`` keeps what ``key`` held
            return self._lookup(name, before, exclude, seen | {id(statement)})
        return False, None

    def find(self, exprs: Sequence[cst.BaseExpression], exclude: frozenset[str]) -> Datum | None:
        """The first request-scoped value used in ``exprs``, parts of the node being visited;
        chains rooted in ``exclude`` (``self``, ``cls``: reads of the object's own state) do not
        count."""
        return self._find(exprs, self.context.scope_chain(), exclude, frozenset())

    def _find(
        self,
        exprs: Sequence[cst.BaseExpression],
        chain: ScopeChain,
        exclude: frozenset[str],
        seen: frozenset[int],
    ) -> Datum | None:
        # each node with the scopes it is read in: a comprehension or lambda met on the way
        # has its own (``{c: 1 for c in names}`` reads the comprehension's ``c``)
        stack: list[tuple[cst.CSTNode, ScopeChain]] = [(e, chain) for e in reversed(exprs)]
        while stack:
            node, chain = stack.pop()
            if isinstance(node, cst.Name):
                if node.value not in exclude:
                    scoped, origin = self._lookup(node.value, chain, exclude, seen)
                    if scoped:
                        return Datum(node.value, origin)
                continue
            if isinstance(node, cst.Attribute):
                dotted = dotted_name(node)
                if dotted is None:
                    stack.append((node.value, chain))
                    continue
                head = dotted.split(".", 1)[0]
                if head in exclude:
                    continue
                scoped, origin = self._lookup(head, chain, exclude, seen)
                if scoped or node.attr.value in self.names:
                    return Datum(dotted, origin)
                continue
            if isinstance(node, cst.Arg):
                stack.append((node.value, chain))
                continue
            if isinstance(node, _LEAVES):
                continue
            if isinstance(node, cst.Lambda):
                params = node.params
                every = (*params.posonly_params, *params.params, *params.kwonly_params)
                defaults = [p.default for p in every if p.default is not None]
                stack.append((node.body, chain.entering(node)))
                stack.extend((default, chain) for default in reversed(defaults))
                continue
            if isinstance(node, _COMPREHENSIONS):
                chain = chain.entering(node)
            first_iterable = None  # the first ``for``'s iterable is read outside the comprehension
            if isinstance(node, cst.CompFor) and chain.first_iterable(node):
                first_iterable = node.iter
            stack.extend(
                (sub, chain.outside() if sub is first_iterable else chain)
                for sub in reversed(list(_sub_nodes(node)))
            )
        return None


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_PARAMETER = frozenset({BindingKind.PARAMETER})
_ASSIGNED = frozenset({BindingKind.ASSIGN, BindingKind.ANNOTATED, BindingKind.AUGMENTED})


def _assigned_value(statement: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """The value ``statement`` gives ``name`` when it is a whole target (``name = v``,
    ``a = name = v``, ``name: T = v``, ``name += v``); None for an unpacked one."""
    if isinstance(statement, cst.Assign):
        for target in statement.targets:
            if isinstance(target.target, cst.Name) and target.target.value == name:
                return statement.value
        return None
    if isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
        written = statement.target
        if isinstance(written, cst.Name) and written.value == name:
            return statement.value
    return None


# --- process-wide objects (global phase) ---------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """Why an object is process-wide, in words (with the path that shows it)."""

    reason: str
    init_per_call: bool = False  # each construction re-runs ``__init__`` on the shared state
    by_metaclass: bool = False  # a caching metaclass's ``__call__`` returns the shared instance


class ProcessWide:
    """Which project classes have process-wide instances, and which getters hand them out."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._instances: dict[str, Shared] | None = None

    def _path(self, module: str) -> str:
        facts = self.index.module(module)
        return facts.path if facts is not None else module

    def _resolve(self, module: str, dotted: str) -> object:
        return self.index.resolve_dotted(module, dotted) or self.index.resolve_absolute(dotted)

    def singleton(self, cls: ClassRef, *, constructed: bool = False) -> str | None:
        """Why ``cls`` keeps one shared instance (its own caching, a base's, a caching
        metaclass), or None; module-level instances do not count here. ``constructed``: only
        if calling the class itself returns (or, for a Borg, shares) that instance."""
        why = self.of_class(cls, instances=False)
        if why is None or (constructed and not (why.init_per_call or why.by_metaclass)):
            return None
        return why.reason

    def of_class(self, cls: ClassRef, *, instances: bool = True) -> Shared | None:
        """Why the instances of ``cls`` are process-wide, or None (``instances``: also when
        one instance is kept for the life of the process, at module level or by a getter)."""
        if cls.cls.singleton_reason is not None:
            reason = f"it {cls.cls.singleton_reason}, {self._path(cls.module)}"
            return Shared(reason, cls.cls.init_per_call)
        lineage = [cls, *self.index.base_classes(cls)]
        for base in lineage[1:]:
            if base.cls.singleton_reason is not None:
                reason = (
                    f"it inherits from `{base.qualname}`, which {base.cls.singleton_reason}, "
                    f"{self._path(base.module)}"
                )
                return Shared(reason, base.cls.init_per_call)
        for owner in lineage:
            if owner.cls.metaclass is None:
                continue
            meta = self._resolve(owner.module, owner.cls.metaclass)
            if isinstance(meta, ClassRef) and meta.cls.call_cache is not None:
                reason = (
                    f"it uses the instance-caching metaclass `{meta.qualname}` "
                    f"(`{meta.cls.call_cache}` in `__call__`, {self._path(meta.module)})"
                )
                return Shared(reason, by_metaclass=True)
        return self.instances().get(cls.qualname) if instances else None

    def instances(self) -> dict[str, Shared]:
        """Class qualname -> why it has a process-wide instance (module, lazy global, cache)."""
        if self._instances is None:
            direct: dict[str, Shared] = {}
            inherited: dict[str, Shared] = {}
            for module, path, is_test, sites in self.index.shared_instance_sites():
                if is_test:
                    continue
                for shared in sites:
                    if shared.kind == "alias":
                        continue
                    target = self._resolve(module, shared.value)
                    if not isinstance(target, ClassRef):
                        continue
                    where = _instance_reason(shared.kind, shared.name, shared.function)
                    direct.setdefault(target.qualname, Shared(f"{where} in {path}"))
                    for base in self.index.base_classes(target):
                        reason = f"{where} of its subclass `{target.cls.name}` in {path}"
                        inherited.setdefault(base.qualname, Shared(reason))
            self._instances = {**inherited, **direct}
        return self._instances

    def provided_by(self, function: FunctionRef) -> tuple[ClassRef, str] | None:
        """The class of the process-wide object a getter returns, and why it is shared."""
        facts = self.index.module(function.module)
        if facts is None or function.owner is not None:
            return None
        path = facts.path
        for shared in facts.shared_instances:
            if shared.function != function.function.name or not shared.returned:
                continue
            name = f"`{function.function.name}()`"
            if shared.kind == "alias":
                found = self._aliased(function.module, shared.value)
                if found is not None:
                    cls, variable, where = found
                    return cls, f"{name} returns the module-level `{variable}`, {where}"
                continue
            target = self._resolve(function.module, shared.value)
            if not isinstance(target, ClassRef):
                continue
            if shared.kind == "global":
                reason = (
                    f"{name} creates it once and keeps it in module global `{shared.name}`, {path}"
                )
            else:
                reason = f"{name} takes no arguments and is cached with `@{shared.name}`, {path}"
            return target, reason
        return None

    def _aliased(self, module: str, dotted: str) -> tuple[ClassRef, str, str] | None:
        """What a getter's ``return name`` refers to: a module-level or global instance."""
        variable = self._resolve(module, dotted)
        if not isinstance(variable, VariableRef):
            return None
        owner: ModuleFacts | None = self.index.module(variable.module)
        if owner is None:
            return None
        for shared in owner.shared_instances:
            if shared.kind in ("module", "global") and shared.name == variable.name:
                target = self._resolve(variable.module, shared.value)
                if isinstance(target, ClassRef):
                    return target, variable.name, owner.path
        return None

    def is_mutable(self, cls: ClassRef) -> bool:
        """Do the methods of ``cls`` (or of a base) change its instances after construction?"""
        return any(c.cls.has_mutable_state for c in (cls, *self.index.base_classes(cls)))


def _instance_reason(kind: str, name: str, function: str | None) -> str:
    if kind == "module":
        return f"module-level instance `{name}`"
    if kind == "global":
        return f"kept in module global `{name}` by `{function}()`"
    return f"returned by the `@{name}` provider `{function}()`"
