"""ISO402: ``None`` passed to a factory-named callee that the index cannot resolve."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

import libcst as cst

from isolint.api import (
    Candidate,
    Example,
    Option,
    ProjectFinding,
    ProjectIndex,
    Severity,
    callee_ref,
)
from isolint.rules._calls import (
    FACTORY_PATTERNS,
    CallTrackingRule,
    NoneArgument,
    argument_key,
    call_shape,
    in_pytest_raises,
    is_none,
    matches_factory,
    resolved,
)


class NoneToUnresolvedFactory(CallTrackingRule):
    """
    ## What it does
    Off by default (select it with `--select ISO402` or `extend-select`). Lists the calls that
    ISO401 could not check: a literal `None` passed to a callee whose name looks like a factory
    (`create_*`, `make_*`, `build_*`, `*_factory`, `for_user`, `from_*`) when isolint cannot
    resolve the callee's definition (it lives outside the project, or is reached through an
    object of unknown type), so nobody knows whether `None` is allowed there.

    ## Why is this bad?
    Factories exist to hand each user's request its own, fully wired object. Passing `None` for
    one of their inputs usually means a dependency (emitter, session, user context) was skipped
    to make a test or a call site "work": the object is built without it, and per-user
    behaviour silently degrades or fails later, far from the cause. Pass the real dependency
    (in a test, from a fixture).

    ## Known problems
    An unresolvable callee is not evidence of a bug: `None` is the normal argument of many
    library factories (Alembic's `op.create_foreign_key(None, ...)`), so most findings are
    harmless. That is why the rule is not in the default set: use it to review what the
    checked rules cannot see.
    """

    code: ClassVar[str] = "ISO402"
    name: ClassVar[str] = "none-to-factory"
    options: ClassVar[tuple[Option[Any], ...]] = (FACTORY_PATTERNS,)
    summary: ClassVar[str] = "`None` passed to a factory-like callee isolint could not check"
    message: ClassVar[str] = (
        "isolint could not check this call: `{callee}(...)` looks like a factory and receives "
        "`None` for {argument}, but its definition is not in the project or not reachable "
        "statically; check that `None` is allowed there"
    )
    severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = False
    bad: ClassVar[tuple[Example | str, ...]] = (
        """
        from vendor.ws import WebSocketNotifier

        def test_notify():
            WebSocketNotifier.create_for_user(emitter=None)
        """,
        """
        def handler(container, user_id):
            return container.make_session(user_id, None)
        """,
        """
        import vendor

        engine = vendor.engine_factory(None)
        """,
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        """
        def lookup(cache, key):
            return cache.get(key, None)
        """,
        """
        import pytest
        from vendor.ws import WebSocketNotifier

        def test_rejects_none():
            with pytest.raises(ValueError):
                WebSocketNotifier.create_for_user(emitter=None)
        """,
    )
    fixed: ClassVar[tuple[Example | str, ...]] = (
        """
        from vendor.ws import WebSocketNotifier

        def test_notify(emitter):
            WebSocketNotifier.create_for_user(emitter=emitter)
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not any(is_none(arg.value) for arg in node.args):
            return
        shape = call_shape(node, self.context)
        if shape is None or not matches_factory(
            shape.callee, self.context.option(FACTORY_PATTERNS)
        ):
            return
        if in_pytest_raises(self.context):
            return
        shape = replace(shape, ref=callee_ref(node, self.context, self.local_types))
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
            shape, key = argument.shape, argument.key
            if shape.ref is not None and resolved(index, shape) is not None:
                continue  # resolved: ISO401 checks it against the real signature
            where = f"argument {key + 1}" if isinstance(key, int) else f"`{key}`"
            message = cls.message.format(callee=shape.callee, argument=where)
            yield ProjectFinding(candidate, message)
