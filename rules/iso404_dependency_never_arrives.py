"""ISO404: a factory/constructor call with a keyword the callee lacks, or a missing parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import libcst as cst

from linter.api import Candidate, ClassRef, Example, ProjectFinding, ProjectIndex
from rules._calls import (
    CallShape,
    CallTrackingRule,
    bind,
    call_shape,
    describe,
    in_pytest_raises,
    matches_factory,
)
from rules.iso401_none_for_required_dependency import _NOTIFIER


class DependencyNeverArrives(CallTrackingRule):
    """
    ## What it does
    For calls resolved through imports to a project factory (a classmethod/staticmethod or a
    function) or constructor, reports keywords the callee does not accept (no such parameter and
    no `**kwargs`) and required parameters the call does not pass.

    ## Why is this bad?
    After a migration to per-user factories, old call sites keep passing the dependency under its
    old name (`websocket_manager=None`) while the factory now wants `emitter`: the dependency
    never arrives, and the call raises `TypeError` the first time a user hits that path.

    ## Known problems
    Functions are checked only when their name matches `factory-patterns`. Only callees
    reached through an import are checked, never by bare name: real codebases hold
    several functions of the same name. Calls with `*args`/`**kwargs` are not checked for
    missing parameters.
    """

    code: ClassVar[str] = "ISO404"
    name: ClassVar[str] = "dependency-never-arrives"
    summary: ClassVar[str] = (
        "A factory or constructor call passes an unknown keyword or omits a required parameter"
    )
    message: ClassVar[str] = ""
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Notifier

            def test_x():
                Notifier.create_for_user(websocket_manager=None)
            """,
            path="tests/integration/test_x.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            from app.notify import Notifier, Emitter

            def build():
                return Notifier(Emitter())
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            import app.notify

            def build(emitter):
                return app.notify.Notifier.create_optional("u1", emiter=emitter)
            """,
            files=(("app/notify.py", _NOTIFIER), ("app/__init__.py", "")),
        ),
    )
    good: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Notifier

            def build(emitter, **options):
                Notifier.create_for_user("u1", emitter)
                return Notifier.create_for_user(**options)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            class Notifier:
                @classmethod
                def create_for_user(cls, user_id): ...

            def build():
                return Notifier.create_for_user(websocket_manager=None)
            """,
        ),
        Example(
            code="""
            import pytest
            from app.notify import Notifier

            def test_old_keyword_is_rejected():
                with pytest.raises(TypeError):
                    Notifier.create_for_user(websocket_manager=None)
            """,
            files=(("app/notify.py", _NOTIFIER),),
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        shape = call_shape(node, self.context)
        if shape is None or not shape.imported:
            return
        last = shape.callee.rsplit(".", 1)[-1]
        head = shape.callee.split(".")[0]
        if self.locals.is_local(head) or in_pytest_raises(self.context):
            return
        parts = shape.callee.split(".")
        constructor_like = last[:1].isupper() or (len(parts) > 1 and parts[-2][:1].isupper())
        factory_named = matches_factory(last, self.context.settings.factory_patterns)
        if constructor_like or factory_named:
            self.add_candidate(node.func, (*shape.as_payload(), factory_named))

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            shape = CallShape.from_payload(candidate.payload)
            target = index.resolve_dotted(shape.module, shape.callee)
            if target is None:
                continue
            signature = index.signature(target)
            if signature is None:
                continue
            kind = signature.callable.function.kind
            is_factory = (
                isinstance(target, ClassRef)
                or kind in ("classmethod", "staticmethod")
                or (kind == "function" and bool(candidate.payload[7]))
            )
            if not is_factory:
                continue
            binding = bind(signature, shape)
            problems = []
            if binding.unknown_keywords:
                names = ", ".join(f"`{k}`" for k in binding.unknown_keywords)
                problems.append(f"passes unknown keyword {names}")
            if binding.missing:
                names = ", ".join(f"`{p.name}`" for p in binding.missing)
                problems.append(f"omits required {names}")
            if not problems:
                continue
            accepted = ", ".join(p.name for p in signature.params) or "no parameters"
            yield ProjectFinding(
                candidate,
                f"`{shape.callee}(...)` {' and '.join(problems)}: {describe(signature)} takes "
                f"({accepted}); the dependency never arrives and the call fails at run time — "
                "pass it under the parameter's current name",
            )
