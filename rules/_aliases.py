"""ISO601 through aliases: request data written onto an object taken from a process-wide one.

Per file, ``AliasScan`` follows every function's locals bound to an access of a module-level
object (``plugin = plugins.get(slug)``, ``plugins[slug]``, ``app.state``, ``Cls.get_instance()``,
``get_manager()``) and records the writes of request-scoped data onto them
(``plugin.configuration = ...``), or onto an attribute of a module-level name itself
(``manager.current_user = user``), as ``AliasWrite`` candidates. The global phase
(``shared_reason``) decides with the project index whether the root is process-wide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from isolint.api import (
    ClassRef,
    FunctionRef,
    ModuleFacts,
    ProjectIndex,
    VariableRef,
    dotted_name,
)
from isolint.rules._bleed import ProcessWide, RequestScope, chain, code, writes

# Accessors that hand out a value a container keeps (``__getitem__`` is the subscript).
_ITEM_METHODS = frozenset({"get", "setdefault", "__getitem__"})
# Module-level objects whose attributes are per thread, per context or per request.
_LOCAL_FACTORY_NAMES = frozenset(
    {"local", "Local", "LocalProxy", "LocalStack", "ContextVar", "scoped_session"}
)


@dataclass(frozen=True)
class Origin:
    """Where a local's object comes from: ``root`` (a dotted name as written, not a local of the
    function) accessed as ``kind``: ``"item"`` (``root.get(k)``, ``root[k]``), ``"attr"``
    (``root.a``), ``"direct"`` (the write is on ``root`` itself), ``"new"`` (``root()``),
    ``"call"`` (``root()`` where ``root`` is ``Cls.method``) or ``"getter"``
    (``get_manager()``). ``args`` is the accessor's argument count; ``text`` its source."""

    root: str
    kind: str
    text: str
    args: int = 0


@dataclass(frozen=True)
class AliasWrite:
    """A candidate: request data ``datum`` written into ``target`` (source) on ``origin``."""

    module: str
    origin: Origin
    datum: str
    target: str
    inserting: bool  # written by a method call (``x.items.append(v)``), not an assignment


class _Frame:
    __slots__ = ("aliases", "globals", "locals", "node")

    def __init__(self, node: cst.FunctionDef) -> None:
        self.node = node
        params = node.params
        every = (*params.posonly_params, *params.params, *params.kwonly_params)
        stars = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        self.locals: set[str] = {p.name.value for p in (*every, *stars)}
        self.globals: set[str] = set()
        self.aliases: dict[str, Origin] = {}


class AliasScan:
    """Follows the functions of one file (the ISO601 rule drives it from its visitors)."""

    def __init__(self, scope: RequestScope, module: str) -> None:
        self._scope = scope
        self._module = module
        self._frames: list[_Frame] = []
        self._covered: set[int] = set()  # inner calls of a chain already recorded with it

    # -- functions and their local names -----------------------------------------------------
    def push(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame(node))

    def pop(self, node: cst.FunctionDef) -> None:
        if self._frames and self._frames[-1].node is node:
            self._frames.pop()

    @property
    def active(self) -> bool:
        return bool(self._frames)

    def declare_global(self, names: list[str]) -> None:
        if self._frames:
            self._frames[-1].globals.update(names)

    def bind_names(self, target: cst.BaseExpression) -> None:
        """``for x in ...``, ``with ... as x``, ``x := ...``, ``x += ...``: plain locals."""
        if not self._frames:
            return
        frame = self._frames[-1]
        for name in _names(target):
            if name not in frame.globals:
                frame.locals.add(name)
                frame.aliases.pop(name, None)

    def bind(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        """``x = <value>``: ``x`` is a local; an alias of a shared object if ``value`` is one."""
        if not self._frames:
            return
        frame = self._frames[-1]
        origin = self.origin(value) if len(targets) == 1 else None
        for target in targets:
            if isinstance(target, cst.Name) and target.value not in frame.globals:
                frame.locals.add(target.value)
                if origin is not None:
                    frame.aliases[target.value] = origin
                else:
                    frame.aliases.pop(target.value, None)
            else:
                self.bind_names(target)

    def _lookup(self, name: str) -> tuple[bool, Origin | None]:
        """Is ``name`` a local of an enclosing function, and the object it aliases, if shared."""
        for frame in reversed(self._frames):
            if name in frame.globals:
                return False, None
            if name in frame.locals:
                return True, frame.aliases.get(name)
        return False, None

    # -- where an object comes from ----------------------------------------------------------
    def _root(
        self,
        expr: cst.BaseExpression,
        kind: str,
        value: cst.BaseExpression,
        args: int,
        keys: Sequence[cst.BaseExpression] = (),
    ) -> Origin | None:
        """The origin of ``value`` taken from ``expr``; None as well when one of the ``keys``
        it is taken with is request data (``sessions[user_id]``: this user's own entry;
        storing it is ISO602's). The keys are looked at last: that costs the scope model."""
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head = dotted.split(".", 1)[0]
        is_local, aliased = self._lookup(head)
        if is_local and aliased is None:
            return None
        if keys and self._scope.find(keys, frozenset()) is not None:
            return None
        if aliased is not None:
            return Origin(aliased.root, aliased.kind, aliased.text, aliased.args)
        return Origin(dotted, kind, code(value), args)  # its source: only when it is shared

    def origin(self, value: cst.BaseExpression) -> Origin | None:
        """The process-wide root ``value`` is taken from, as far as this file shows it."""
        # (``type() is``, not isinstance(): slow on LibCST's classes, and this runs per binding)
        if type(value) is cst.Await:
            value = value.expression
        if type(value) is cst.Subscript:
            keys = [e.slice.value for e in value.slice if isinstance(e.slice, cst.Index)]
            return self._root(value.value, "item", value, 1, keys)
        if type(value) is cst.Attribute:
            return self._root(value, "attr", value, 0)
        if type(value) is cst.Name:
            is_local, aliased = self._lookup(value.value)
            return aliased if is_local else None
        if type(value) is not cst.Call:
            return None
        func, count = value.func, len(value.args)
        if isinstance(func, cst.Attribute) and func.attr.value in _ITEM_METHODS:
            keys = [arg.value for arg in value.args[:1]]  # by request data: the user's own entry
            return self._root(func.value, "item", value, count, keys)
        if count:
            return None
        if isinstance(func, cst.Name):
            return self._root(func, "new", value, 0)
        if isinstance(func, cst.Attribute):
            return self._root(func, "call", value, 0)
        return None

    # -- writes ------------------------------------------------------------------------------
    def check(
        self, node: cst.Assign | cst.AnnAssign | cst.AugAssign | cst.Call, own: frozenset[str]
    ) -> AliasWrite | None:
        """A write of request data onto an aliased or module-level object; ``own`` are the
        class references of the method being walked (ISO601 checks those writes itself)."""
        if not self._frames or id(node) in self._covered:
            return None
        module = self._module
        for write in writes(node):
            parts = chain(write.written)
            root = parts.root
            if not isinstance(root, cst.Name) or root.value in own:
                continue
            is_local, origin = self._lookup(root.value)
            if origin is None and (is_local or len(parts.nodes) < 2):
                continue
            inserting = isinstance(node, cst.Call)
            if inserting and (origin is None or origin.kind == "attr"):
                continue  # ``db.session.add(x)``: a method of an object the module holds
            if origin is None:
                # a module-level name itself: only attribute writes (``x[k] = v`` and
                # ``x.append(v)`` on a module-level container are ISO602's)
                step = parts.nodes[-2]
                if not isinstance(step, cst.Attribute) or step.value is not root:
                    continue
                written = _attribute_prefix(write.written)
                if written is None or "." not in written:
                    continue
                origin = Origin(written, "direct", written)
            data = (*write.data, *parts.keys) if write.keyed else write.data
            datum = self._scope.find(data, own)
            if datum is None:
                continue
            if isinstance(node, cst.Call):
                self._covered.update(id(call) for call in parts.calls())
            return AliasWrite(module, origin, str(datum), code(write.written), inserting)
        return None


def _names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names(el.value)]
    if isinstance(target, cst.StarredElement):
        return _names(target.value)
    return []


def _attribute_prefix(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for ``a.b.c[k].d`` (the dotted part from the root)."""
    while not isinstance(expr, (cst.Name, cst.Attribute)) or dotted_name(expr) is None:
        if isinstance(expr, (cst.Subscript, cst.Attribute)):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        else:
            return None
    return dotted_name(expr)


# --- global phase: is the root process-wide? ------------------------------------------------------


def _path(index: ProjectIndex, module: str) -> str:
    facts = index.module(module)
    return facts.path if facts is not None else module


def _module_value(index: ProjectIndex, variable: VariableRef) -> tuple[str, ModuleFacts] | None:
    """The callee a module-level variable is bound to (``Manager`` for ``x = Manager()``)."""
    facts = index.module(variable.module)
    if facts is None:
        return None
    for shared in facts.shared_instances:
        if shared.kind == "module" and shared.name == variable.name:
            return shared.value, facts
    return None


def shared_reason(write: AliasWrite, index: ProjectIndex, shared: ProcessWide) -> str | None:
    """Why the object ``write`` writes onto is process-wide, or None if it is not (or unknown)."""
    origin, module = write.origin, write.module
    root = origin.root
    if origin.kind in ("new", "call"):
        target = index.resolve_dotted(module, root)
        if isinstance(target, FunctionRef) and target.owner is None:
            provided = shared.provided_by(target)
            return provided[1] if provided is not None else None
        if isinstance(target, FunctionRef):  # ``Cls.get_instance()``
            owner_name = root.rpartition(".")[0]
            owner = index.resolve_dotted(module, owner_name)
            why = shared.singleton(owner) if isinstance(owner, ClassRef) else None
            return f"`{origin.text}` returns `{owner_name}`'s one instance ({why})" if why else None
        if isinstance(target, ClassRef):
            why = shared.singleton(target, constructed=True)
            return f"`{origin.text}` returns `{root}`'s one instance ({why})" if why else None
        return None
    parts = root.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        target = index.resolve_dotted(module, prefix)
        if target is None:
            continue
        if origin.kind == "direct" and cut == len(parts):
            return None  # ``mod.var = x`` rebinds a module variable (ISO202's business)
        if isinstance(target, ClassRef):
            if origin.kind == "direct":
                return f"`{prefix}` is a class: one class object serves every request"
            return None  # ``Model.objects.get(...)``: a manager's query, not a stored object
        if not isinstance(target, VariableRef):
            return None
        return _variable_reason(write, target, prefix, index)
    return None


def _variable_reason(
    write: AliasWrite, variable: VariableRef, written: str, index: ProjectIndex
) -> str | None:
    origin = write.origin
    where = _path(index, variable.module)
    bound = _module_value(index, variable)
    if bound is None:
        what = "value"  # a display or a constant: ``plugins = {}`` (a container the module keeps)
    else:
        callee, facts = bound
        if callee.rsplit(".", 1)[-1] in _LOCAL_FACTORY_NAMES:
            return None
        made = index.resolve_dotted(facts.module, callee)
        if isinstance(made, ClassRef):
            if origin.kind == "item" and origin.text.endswith(")") and made.cls.method("get"):
                # a project class's own ``get``: a lookup with one key hands out what it keeps,
                # more arguments (``crud.get(db, id)``) mean a query that builds a new object
                if origin.args != 1:
                    return None
            what = f"instance of `{made.qualname}`"
        else:
            if write.inserting:
                return None  # ``db.session.add(obj)``: a library object's own method
            what = f"`{callee}(...)` object"
    if origin.kind == "direct":
        return f"`{written}` is a module-level {what}, {where}"
    return f"`{origin.text}` is taken from `{written}`, a module-level {what}, {where}"


MESSAGE = (
    "Request-scoped {data} is stored in `{target}`, but {reason}: that object is process-wide, "
    "so the next user's request served by this process reads it; work on a per-request copy "
    "(`copy.copy(...)`) or a new object, or pass the data per call"
)
