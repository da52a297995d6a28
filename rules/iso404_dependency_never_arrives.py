"""ISO404: a factory/constructor call with a keyword the callee lacks, or a missing parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import libcst as cst

from isolint.api import Candidate, Example, Option, ProjectFinding, ProjectIndex, callee_ref
from isolint.rules._calls import (
    DEPENDENCY_NAMES,
    FACTORY_PATTERNS,
    CallShape,
    CallTrackingRule,
    CalleeSignatures,
    call_type_error,
    definition,
    describe,
    in_pytest_raises,
    is_dependency,
    matches_factory,
    matches_name,
    shape_of,
)
from isolint.rules.iso401_none_for_required_dependency import _NOTIFIER


class DependencyNeverArrives(CallTrackingRule):
    """
    ## What it does
    For constructor calls (`Class(...)`, `cls(...)`) and calls of factory-named callables
    (`factory-patterns`), resolved to their definition in the project as a type checker would
    (imports, `self`/`cls`, instances, annotated parameters and attributes, module-level
    instances; synthesized `__init__` of dataclasses, attrs, pydantic models and NamedTuples),
    reports calls that raise `TypeError` when they run: keywords the callee does not accept (no
    such parameter and no `**kwargs`), required parameters the call does not pass, too many
    positional arguments, an argument given twice. A call that matches any `@overload` is fine.

    ## Why is this bad?
    After a migration to per-user factories, old call sites keep passing the dependency under its
    old name (`websocket_manager=None`) while the factory now wants `emitter`: the dependency
    never arrives, and the call raises `TypeError` the first time a user hits that path. Call
    the factory with its current parameters, passing the real dependency under its new name.

    ## Known problems
    Calls with `*args`/`**kwargs` are not checked for missing parameters. Callees that cannot be
    checked (outside the project, decorated with anything that may change the signature, with
    a custom metaclass or `__new__`, or methods an external base class could define) are never
    reported. Pydantic models are checked only for positional arguments: they ignore unknown
    keywords and reject missing fields with a `ValidationError`.
    """

    code: ClassVar[str] = "ISO404"
    name: ClassVar[str] = "dependency-never-arrives"
    options: ClassVar[tuple[Option[Any], ...]] = (DEPENDENCY_NAMES, FACTORY_PATTERNS)
    summary: ClassVar[str] = (
        "A factory or constructor call that raises `TypeError`: an unknown keyword or a missing"
        " parameter"
    )
    message: ClassVar[str] = (
        "`{callee}(...)` {problems}: calling {signature} this way raises `TypeError` at the "
        "call; {remedy}"
    )
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
            class Notifier:
                @classmethod
                def create_for_user(cls, user_id): ...

            def build():
                return Notifier.create_for_user(websocket_manager=None)
            """,
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
            from typing import overload

            class Notifier:
                @overload
                def __init__(self, *, href: str) -> None: ...
                @overload
                def __init__(self, *, href_route_name: str) -> None: ...
                def __init__(self, *, href=None, href_route_name=None) -> None: ...

            def build():
                return Notifier(href_route_name="home")
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
    fixed: ClassVar[tuple[Example | str, ...]] = (
        Example(
            code="""
            from app.notify import Emitter, Notifier

            def test_x():
                Notifier.create_for_user("u1", emitter=Emitter())
            """,
            path="tests/integration/test_x.py",
            files=(("app/notify.py", _NOTIFIER),),
        ),
        Example(
            code="""
            import app.notify

            def build(emitter):
                return app.notify.Notifier.create_optional("u1", emitter=emitter)
            """,
            files=(("app/notify.py", _NOTIFIER), ("app/__init__.py", "")),
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        # cheapest first: the callee's name, then the ancestors, then the shape (its source)
        ref = callee_ref(node, self.context, self.local_types)
        if ref is None:
            return
        parts = (ref.name or ref.owner).split(".")
        last = parts[-1]
        constructor_like = (
            ref.kind == "cls_call"
            or last[:1].isupper()
            or (ref.kind == "name" and len(parts) > 1 and parts[-2][:1].isupper())
        )
        if not constructor_like and not matches_factory(
            last, self.context.option(FACTORY_PATTERNS)
        ):
            return
        if in_pytest_raises(self.context):
            return
        shape = shape_of(node, self.context, ref)
        if shape is not None:
            self.add_candidate(node.func, shape)

    payload = CallShape
    independent_candidates = True

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        names = index.option(DEPENDENCY_NAMES)
        callees = CalleeSignatures(index)
        for candidate in candidates:
            shape = candidate.payload_as(CallShape)
            failed = call_type_error(index, shape, callees)
            if failed is None:
                continue
            signature, binding = failed
            module = signature.callable.module
            problems = []
            dependencies = [p.name for p in binding.missing if is_dependency(index, module, p)] + [
                k for k in binding.unknown_keywords if matches_name(k, names)
            ]
            if binding.unknown_keywords:
                listed = ", ".join(f"`{k}`" for k in binding.unknown_keywords)
                problems.append(f"passes unknown keyword {listed}")
            if binding.missing:
                listed = ", ".join(f"`{p.name}`" for p in binding.missing)
                problems.append(f"omits required {listed}")
            if binding.too_many:
                problems.append(f"passes {binding.too_many} positional argument(s) too many")
            if binding.repeated:
                listed = ", ".join(f"`{k}`" for k in binding.repeated)
                problems.append(f"passes {listed} twice")
            if dependencies:
                listed = ", ".join(f"`{d}`" for d in dependencies)
                remedy = (
                    f"the dependency {listed} never arrives: pass it under the parameter's "
                    "current name"
                )
            else:
                remedy = "pass the arguments the signature asks for"
            message = cls.message.format(
                callee=shape.callee,
                problems=" and ".join(problems),
                signature=describe(signature),
                remedy=remedy,
            )
            yield ProjectFinding(candidate, message, related=definition(signature))
