"""ISO403: a local name bound only to ``None`` passed for a parameter that does not admit None."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Candidate, Example, Option, ProjectFinding, ProjectIndex, RuleContext
from isolint.rules._calls import (
    DEPENDENCY_NAMES,
    CallShape,
    CallTrackingRule,
    NoneVariableArgument,
    argument_key,
    call_shape,
    definition,
    describe,
    in_pytest_raises,
    is_none,
    none_rejecting_parameter,
)
from isolint.rules.iso401_none_for_required_dependency import _NOTIFIER


class _Frame:
    """The `None` assignments of one function, and the calls in it that pass a bare name
    (what else binds those names comes from the shared scope model)."""

    def __init__(self) -> None:
        self.none_assigned: dict[str, int] = {}  # name -> index of the top-level statement
        self.calls: list[tuple[CallShape, cst.Arg, str, int, str, str | int]] = []
        self.statement = 0


class NoneVariableForDependency(CallTrackingRule):
    """
    ## What it does
    Like ISO401, for a local variable whose only binding in the function is `name = None`
    (straight-line code at the top level of the function body, before the call) and which is
    then passed for a parameter whose annotation does not admit None.

    ## Why is this bad?
    `emitter = None` followed by `Notifier.create_for_user(user_id, emitter)` is the same missing
    dependency as passing `None` directly, only harder to see in review: the per-user object is
    built without what it needs, and the failure shows up for a real user later. Take the
    dependency as a parameter and pass the object the caller injects.

    ## Known problems
    No flow analysis: a name bound more than once anywhere in the function is never reported.
    """

    code: ClassVar[str] = "ISO403"
    name: ClassVar[str] = "none-variable-for-dependency"
    options: ClassVar[tuple[Option[Any], ...]] = (DEPENDENCY_NAMES,)
    summary: ClassVar[str] = "A variable that is always `None` passed for a required dependency"
    message: ClassVar[str] = (
        "`{variable}` is always `None` here and is passed to `{callee}(...)` for dependency "
        "`{parameter}` of {signature}, which does not admit None: build or inject a real "
        "{wanted} before the call"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Notifier

            def build(user_id):
                emitter = None
                return Notifier.create_for_user(user_id, emitter)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Notifier

            def test_x():
                emitter = None
                user = "u1"
                Notifier(emitter=emitter, user_id=user)
            """,
            path="tests/integration/test_x.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app import notify

            def build():
                em: notify.Emitter | None = None
                return notify.Notifier(em, "u1")
            """,
            files=(("app/notify.py", _NOTIFIER), ("app/__init__.py", "")),
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Emitter, Notifier

            def build(user_id, ready):
                emitter = None
                if ready:
                    emitter = Emitter()
                return Notifier.create_for_user(user_id, emitter)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Notifier

            def build(user_id):
                emitter = None
                return Notifier.create_optional(user_id, emitter)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Notifier

            def build(user_id, emitter=None):
                return Notifier.create_for_user(user_id, emitter)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Emitter, Notifier

            def build(user_id, emitter: Emitter):
                return Notifier.create_for_user(user_id, emitter)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.frames: list[tuple[cst.FunctionDef, _Frame]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        self.frames.append((node, _Frame()))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(node)
        if not self.frames or self.frames[-1][0] is not node:
            return
        _, frame = self.frames.pop()
        if not frame.calls:
            return
        bindings = self.context.function_scope(node)
        for shape, arg, name, statement, scope, key in frame.calls:
            assigned_at = frame.none_assigned.get(name)
            if assigned_at is None or assigned_at >= statement:
                continue
            if not bindings.is_local(name) or len(bindings.bound(name)) != 1:
                continue  # bound again somewhere in the function (or not its own variable)
            self.add_candidate(arg.value, NoneVariableArgument(shape, key, name), scope=scope)

    def _frame(self) -> _Frame | None:
        function = self.context.enclosing_function()
        if self.frames and function is self.frames[-1][0]:
            return self.frames[-1][1]
        return None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if not self.frames:
            return
        function, frame = self.frames[-1]  # the innermost function (every def pushes one)
        if self.context.parent is not function.body:
            return  # not a statement of its body (so not in a nested scope either)
        frame.statement += 1
        for small in node.body:
            value = None
            targets: list[cst.BaseExpression] = []
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                value, targets = small.value, [small.targets[0].target]
            elif isinstance(small, cst.AnnAssign):
                value, targets = small.value, [small.target]
            if value is not None and is_none(value) and isinstance(targets[0], cst.Name):
                frame.none_assigned.setdefault(targets[0].value, frame.statement)

    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frame()
        if frame is None or not frame.none_assigned:
            return
        names = [a for a in node.args if isinstance(a.value, cst.Name) and not a.star]
        if not any(
            isinstance(a.value, cst.Name) and a.value.value in frame.none_assigned for a in names
        ):
            return
        if in_pytest_raises(self.context):
            return
        shape = call_shape(node, self.context, self.local_types)
        if shape is None:
            return
        for arg in names:
            key = argument_key(node, arg)
            if isinstance(arg.value, cst.Name) and key is not None:
                frame.calls.append(
                    (shape, arg, arg.value.value, frame.statement, self.context.scope_name(), key)
                )

    payload = NoneVariableArgument
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            argument = candidate.payload_as(NoneVariableArgument)
            shape = argument.shape
            found = none_rejecting_parameter(index, shape, argument.key)
            if found is None:
                continue
            signature, param = found
            variable = argument.variable
            declared = f"{param.name}: {param.annotation}" if param.annotation else param.name
            message = cls.message.format(
                variable=variable,
                callee=shape.callee,
                parameter=declared,
                signature=describe(signature),
                wanted=param.annotation or "object",
            )
            yield ProjectFinding(candidate, message, related=definition(signature))
