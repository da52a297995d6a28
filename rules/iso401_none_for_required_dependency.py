"""ISO401: the literal ``None`` passed for a parameter whose annotation does not admit None."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Candidate, Example, Option, ProjectFinding, ProjectIndex
from isolint.rules._calls import (
    DEPENDENCY_NAMES,
    CallTrackingRule,
    NoneArgument,
    argument_key,
    call_shape,
    definition,
    describe,
    in_pytest_raises,
    is_none,
    none_rejecting_parameter,
)

_NOTIFIER = """
from typing import Optional


class Emitter:
    def send(self, user_id: str, event: dict) -> None: ...


class Notifier:
    def __init__(self, emitter: Emitter, user_id: str) -> None:
        self.emitter = emitter
        self.user_id = user_id

    @classmethod
    def create_for_user(cls, user_id: str, emitter: Emitter) -> "Notifier":
        if emitter is None:
            raise ValueError("Notifier requires valid emitter")
        return cls(emitter, user_id)

    @classmethod
    def create_optional(cls, user_id: str, emitter: Optional[Emitter] = None) -> "Notifier":
        return cls(emitter or Emitter(), user_id)
"""


class NoneForRequiredDependency(CallTrackingRule):
    """
    ## What it does
    Resolves calls through the project index to the function, method or class they call (as a
    type checker would: imports, `self`/`cls` methods, `cls(...)`, methods of instances built in
    scope, of parameters and attributes annotated with a project class, and of module-level
    instances; dataclass, attrs, pydantic and NamedTuple constructors), and reports a literal
    `None` passed (by keyword or by position) for a *dependency* parameter that does not admit
    None. A dependency takes a collaborator object: it is annotated with a class that is not a
    plain value type (`str`, numbers, dates, `UUID`, `Path`, enums, `Literal`, containers), or
    it is unannotated and its name matches `dependency-names` (`emitter`, `*_client`,
    `*_session`...). An annotation admits None when it is `Optional[X]`, `X | None`,
    `Union[..., None]` or `Any`, or the default is `None`. With `@overload`s, a call is fine when
    any overload accepts it.

    ## Why is this bad?
    Per-user factories take their dependencies (an emitter, a session, a user context) so that
    every request gets its own. Handing them `None` either crashes at run time or, worse, takes a
    silent fallback path in which events are never delivered to the right user or a shared
    default object is used instead. A test that does it is green while production is not.
    Pass the real dependency: take it as a parameter and let the caller inject the user's own
    (a test builds one, or a fake with the same interface).

    ## Known problems
    Calls that cannot be checked are never reported: callees outside the project or not
    reachable statically, callees with decorators that may change their signature (anything
    but `classmethod`, `staticmethod`, `overload`, `abstractmethod`, the `functools` caches,
    `contextmanager`...), classes with a custom metaclass or `__new__`, and methods an external
    base class could define. `None` for a plain value (`block_id: str`) is a type error, but not
    a missing dependency: it is left to the type checker.
    """

    code: ClassVar[str] = "ISO401"
    name: ClassVar[str] = "none-for-required-dependency"
    options: ClassVar[tuple[Option[Any], ...]] = (DEPENDENCY_NAMES,)
    summary: ClassVar[str] = "`None` passed for a dependency parameter that does not admit None"
    message: ClassVar[str] = (
        "`{callee}(...)` passes `None` for dependency `{parameter}` of {signature}, which does "
        "not admit None: pass a real {wanted} (inject it, or build it with a per-request factory "
        "or a test fixture)"
    )
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Notifier

            def test_notifies():
                notifier = Notifier.create_for_user("u1", emitter=None)
            """,
            path="tests/integration/test_notify.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Notifier

            def build(user_id):
                return Notifier(None, user_id)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app import notify

            def build(user_id):
                return notify.Notifier.create_for_user(user_id, None)
            """,
            files=(("app/notify.py", _NOTIFIER), ("app/__init__.py", "")),
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Notifier

            def build(user_id):
                return Notifier.create_optional(user_id, emitter=None)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            import pytest
            from app.notify import Notifier

            def test_rejects_missing_emitter():
                with pytest.raises(ValueError):
                    Notifier.create_for_user("u1", emitter=None)
            """,
            path="tests/unit/test_notify.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from thirdparty import Client

            def build(Notifier):
                Notifier.create_for_user("u1", None)
                return Client(None)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Emitter, Notifier

            def test_notifies():
                notifier = Notifier.create_for_user("u1", emitter=Emitter())
            """,
            path="tests/integration/test_notify.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Emitter, Notifier

            def build(user_id, emitter: Emitter):
                return Notifier(emitter, user_id)  # the caller injects this user's emitter
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not any(is_none(arg.value) for arg in node.args):
            return
        shape = call_shape(node, self.context, self.local_types)
        if shape is None or in_pytest_raises(self.context):
            return
        for arg in node.args:
            if is_none(arg.value):
                key = argument_key(node, arg)
                if key is not None:
                    self.add_candidate(arg.value, NoneArgument(shape, key))

    payload = NoneArgument
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            argument = candidate.payload_as(NoneArgument)
            shape = argument.shape
            found = none_rejecting_parameter(index, shape, argument.key)
            if found is None:
                continue
            signature, param = found
            declared = f"{param.name}: {param.annotation}" if param.annotation else param.name
            wanted = param.annotation or "object"
            message = cls.message.format(
                callee=shape.callee,
                parameter=declared,
                signature=describe(signature),
                wanted=wanted,
            )
            yield ProjectFinding(candidate, message, related=definition(signature))
