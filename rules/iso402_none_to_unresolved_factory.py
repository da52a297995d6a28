"""ISO402: ``None`` passed to a factory-named callee that the index cannot resolve."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import libcst as cst

from linter.api import Candidate, Example, ProjectFinding, ProjectIndex, Severity
from rules._calls import (
    CallShape,
    CallTrackingRule,
    argument_key,
    call_shape,
    in_pytest_raises,
    is_none,
    matches_factory,
    resolve_call,
)


class NoneToUnresolvedFactory(CallTrackingRule):
    """
    ## What it does
    Reports a literal `None` passed to a callee whose name looks like a factory
    (`create_*`, `make_*`, `build_*`, `*_factory`, `for_user`, `from_*`) when isolint cannot
    resolve the callee's definition (it lives outside the project, or is reached through an
    object) and so cannot check its signature.

    ## Why is this bad?
    Factories exist to hand each user's request its own, fully wired object. Passing `None` for
    one of their inputs usually means a dependency (emitter, session, user context) was skipped
    to make a test or a call site "work": the object is built without it, and per-user
    behaviour silently degrades or fails later, far from the cause.

    ## Options
    `factory-patterns` (list of name globs, matched against the callee's last name).
    """

    code: ClassVar[str] = "ISO402"
    name: ClassVar[str] = "none-to-factory"
    summary: ClassVar[str] = "`None` passed to an unresolved factory-like callee"
    message: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
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
        from vendor.ws import WebSocketNotifier

        def test_notify(emitter):
            WebSocketNotifier.create_for_user(emitter=emitter)
        """,
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

    def visit_Call(self, node: cst.Call) -> None:
        if not any(is_none(arg.value) for arg in node.args):
            return
        shape = call_shape(node, self.context)
        if shape is None or not matches_factory(
            shape.callee, self.context.settings.factory_patterns
        ):
            return
        if in_pytest_raises(self.context):
            return
        for arg in node.args:
            if is_none(arg.value):
                key = argument_key(node, arg)
                local = self.locals.is_local(shape.callee.split(".")[0])
                if key is not None:
                    self.add_candidate(arg.value, (*shape.as_payload(), key, local))

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            shape = CallShape.from_payload(candidate.payload)
            key, local = candidate.payload[7], candidate.payload[8]
            if not local and resolve_call(index, shape) is not None:
                continue  # resolved: ISO401 checks it against the real signature
            where = f"argument {key + 1}" if isinstance(key, int) else f"`{key}`"
            yield ProjectFinding(
                candidate,
                f"`{shape.callee}(...)` looks like a factory and receives `None` for {where}; "
                "isolint cannot see its signature: pass the real dependency (or a test fixture "
                "that builds one) so each user's object is fully wired",
            )
