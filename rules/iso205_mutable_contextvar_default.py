"""ISO205: a ``ContextVar`` whose mutable default is changed in place and never ``.set()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from isolint.api import MODULE_SCOPE, Example, NodeNote, Rule, RuleContext
from isolint.rules._containers import MUTATING_METHODS, is_mutable_container, target_elements
from isolint.rules._singleton_patterns import makes_immutable

_CONTEXTVAR = frozenset({"contextvars.ContextVar"})


@dataclass
class _Var:
    """A module-level ``ContextVar`` with a mutable default, and what the module does with it."""

    node: cst.CSTNode
    default: str
    mutations: list[cst.CSTNode] = field(default_factory=list)
    is_set: bool = False


class MutableContextVarDefault(Rule):
    """
    ## What it does
    Finds module-level `ContextVar("name", default=<object>)` whose default is a mutable
    object (a container, or an instance built by a call) that the module changes in place
    through `.get()` (`var.get().append(x)`, `var.get()[key] = x`, `var.get().attr = x`, also
    through a local: `buffer = var.get(); buffer.add(x)`) while it never calls `var.set(...)`.

    ## Why is this bad?
    A `ContextVar` keeps per-request values only for what is `.set()` in the request's context.
    Until then `.get()` returns the default, and the default is one object created at import
    time: every request of every user that mutates it mutates the same object. The variable
    looks request-scoped and is in fact process-wide state, so one user's messages, items or
    settings show up in another user's request.

    Default to `None` and `.set()` a fresh object at the start of each request (a middleware or
    dependency), or use an immutable default (a tuple, a frozen value).

    ## Known problems
    Only the module defining the variable is read: a variable `.set()` only in another module
    is reported, and in-place changes made only by other modules are not seen.

    ## Options
    None.
    """

    code: ClassVar[str] = "ISO205"
    name: ClassVar[str] = "mutable-contextvar-default"
    summary: ClassVar[str] = (
        "`ContextVar` default is a mutable object changed in place and never set per request"
    )
    message: ClassVar[str] = (
        "`{name}` is a `ContextVar` whose default `{default}` is created once and changed in "
        "place, and the module never calls `{name}.set(...)`: every request shares that one "
        "object; default to `None` and set a fresh object per request"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        from contextvars import ContextVar

        buffer = ContextVar("buffer", default=SessionBuffer())

        def record(message):
            buffer.get().add(message)
        """,
        """
        import contextvars

        _events: contextvars.ContextVar[list] = contextvars.ContextVar("events", default=[])

        def emit(event):
            events = _events.get()
            events.append(event)
        """,
        """
        from contextvars import ContextVar

        request_state = ContextVar("request_state", default={})

        def remember_user(user_id):
            request_state.get()["user_id"] = user_id
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        from contextvars import ContextVar

        _events = ContextVar("events", default=[])

        async def middleware(request, call_next):
            _events.set([])
            return await call_next(request)

        def emit(event):
            _events.get().append(event)
        """,
        """
        from contextvars import ContextVar

        tags = ContextVar("tags", default=())
        settings = ContextVar("settings", default={})

        def add_tag(tag):
            tags.set((*tags.get(), tag))

        def timeout():
            return settings.get().get("timeout", 30)
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        from contextvars import ContextVar

        buffer = ContextVar("buffer", default=None)

        def start_request():
            buffer.set(SessionBuffer())

        def record(message):
            buffer.get().add(message)
        """,
        """
        from contextvars import ContextVar

        request_user_id = ContextVar("request_user_id", default=None)

        def remember_user(user_id):
            request_user_id.set(user_id)
        """,
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._vars: dict[str, _Var] = {}
        self._locals: dict[str, str] = {}  # local name -> the variable whose .get() it holds

    # -- definitions --------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.context.at_module_level():
            if len(node.targets) == 1:
                self._define(node, node.targets[0].target, node.value)
            return
        if not self._vars:
            return  # no variable to use yet (and so no local holding one)
        for target in node.targets:
            self._store(node, target.target)
        if len(node.targets) == 1:
            self._bind_local(node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        if self.context.at_module_level():
            self._define(node, node.target, node.value)
            return
        if not self._vars:
            return  # no variable to use yet (and so no local holding one)
        self._store(node, node.target)
        self._bind_local(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._vars and not self.context.at_module_level():
            self._store(node, node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._locals = {}

    def _define(
        self, node: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression
    ) -> None:
        if not isinstance(target, cst.Name) or not isinstance(value, cst.Call):
            return
        if self.context.imports.qualified_name(value.func) not in _CONTEXTVAR:
            return
        default = next(
            (a.value for a in value.args if a.keyword is not None and a.keyword.value == "default"),
            None,
        )
        if default is None or not self._mutable(default):
            return
        text = " ".join(self.context.code_for(default).split())
        self._vars[target.value] = _Var(node, text if len(text) <= 40 else text[:37] + "...")

    def _mutable(self, expr: cst.BaseExpression) -> bool:
        if is_mutable_container(expr, self.context.imports):
            return True
        return isinstance(expr, cst.Call) and not makes_immutable(expr, self.context.imports)

    # -- uses -----------------------------------------------------------------------------------

    def _got(self, expr: cst.BaseExpression) -> str | None:
        """The variable whose default ``expr`` reaches: ``var.get()`` or a local holding it."""
        while isinstance(expr, (cst.Subscript, cst.Attribute)):
            expr = expr.value
        if isinstance(expr, cst.Name):
            return self._locals.get(expr.value)
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "get"
            and not expr.args
            and isinstance(expr.func.value, cst.Name)
            and expr.func.value.value in self._vars
        ):
            return expr.func.value.value
        return None

    def _bind_local(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name):
            return
        held = self._got(value) if isinstance(value, cst.Call) else None
        if held is not None:
            self._locals[target.value] = held
        else:
            self._locals.pop(target.value, None)

    def _store(self, node: cst.CSTNode, target: cst.BaseExpression) -> None:
        """``var.get()[k] = v`` / ``var.get().attr = v`` / ``held.x += 1``: in-place changes."""
        for element in target_elements(target):
            if isinstance(element, (cst.Subscript, cst.Attribute)):
                name = self._got(element.value)
                if name is not None:
                    self._vars[name].mutations.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if not self._vars or not isinstance(node.func, cst.Attribute):
            return
        owner, method = node.func.value, node.func.attr.value
        if method == "set" and isinstance(owner, cst.Name) and owner.value in self._vars:
            self._vars[owner.value].is_set = True
            return
        if method in MUTATING_METHODS or method.startswith(("add", "append", "record", "push")):
            name = self._got(owner)
            if name is not None and not self.context.at_module_level():
                self._vars[name].mutations.append(node)

    def leave_Module(self, node: cst.Module) -> None:
        for name, var in self._vars.items():
            if var.is_set or not var.mutations:
                continue
            related = tuple(NodeNote(site, "changed in place here") for site in var.mutations[:3])
            self.report(
                var.node, scope=MODULE_SCOPE, related=related, name=name, default=var.default
            )
