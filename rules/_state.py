"""Shared by the ISO1 rules: is the object a call creates one whose state can change?"""

from __future__ import annotations

import libcst as cst

from isolint.api import ClassFacts, ClassRef, ProjectIndex
from isolint.rules._constants import immutable_annotation

# Bases that add no per-instance state of their own.
_STATELESS_BASES = frozenset(
    {
        "object",
        "abc.ABC",
        "ABC",
        "typing.Generic",
        "Generic",
        "typing.Protocol",
        "Protocol",
        "typing_extensions.Protocol",
    }
)
# Record bases: fields set at construction, no state of the base's own changed afterwards. A
# class on one counts as stateless only if every field is declared immutable (`str | None`,
# `float`, `tuple[str, ...]`): a `dict` field is state any holder of the shared object can fill.
_RECORD_BASES = frozenset(
    {
        "typing.NamedTuple",
        "NamedTuple",
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.v1.BaseModel",
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
    }
)


def _immutable_fields(cls: ClassFacts) -> bool:
    """Every class-body field of ``cls`` is annotated with an immutable type."""
    for param in cls.fields:
        if not param.annotation:
            return False
        try:
            annotation = cst.parse_expression(param.annotation)
        except cst.ParserSyntaxError:
            return False
        if not immutable_annotation(annotation):
            return False
    return True


def is_stateless_class(index: ProjectIndex, module: str, callee: str) -> bool:
    """True if ``callee`` (as written in ``module``) is a project class that nothing changes
    after construction: neither it nor any base assigns or mutates instance state outside
    the setup methods, and every base is a project class or a known stateless one.

    Unknown callees (third-party classes, functions) are not known to be stateless.
    """
    resolved = index.resolve_dotted(module, callee)
    if not isinstance(resolved, ClassRef):
        return False
    pending = [resolved]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current.qualname in seen:
            continue
        seen.add(current.qualname)
        if current.cls.has_mutable_state:
            return False
        for base in current.cls.bases:
            if base in _STATELESS_BASES:
                continue
            if base in _RECORD_BASES:
                if not _immutable_fields(current.cls):
                    return False
                continue
            found = index.resolve_dotted(current.module, base) or index.resolve_absolute(base)
            if not isinstance(found, ClassRef):
                return False  # a library base may carry state we cannot see
            pending.append(found)
    return True


def _subclasses(index: ProjectIndex, cls: ClassRef) -> list[ClassRef]:
    """The project classes that inherit from ``cls`` (transitively)."""
    out: list[ClassRef] = []
    for module, facts in index.modules.items():
        for candidate in facts.classes:
            ref = ClassRef(module, candidate)
            if ref != cls and cls in index.base_classes(ref):
                out.append(ref)
    return out


def _is_record(cls: ClassRef) -> bool:
    """A class that holds data rather than behaviour: a generated ``__init__`` from fields
    (dataclass, attrs), or no methods but dunder ones (``__init__``, ``__repr__``)."""
    if cls.cls.init_style is not None:
        return True
    return all(m.name.startswith("__") and m.name.endswith("__") for m in cls.cls.methods)


def unchanged_class(index: ProjectIndex, module: str, written: str) -> bool:
    """True if ``written`` (as written in ``module``) is a project class that, like every
    project subclass of it, nothing changes after construction (``is_stateless_class``)."""
    resolved = index.resolve_dotted(module, written)
    if not isinstance(resolved, ClassRef):
        return False
    return all(
        is_stateless_class(index, cls.module, cls.cls.name)
        for cls in (resolved, *_subclasses(index, resolved))
    )


def inert_class(index: ProjectIndex, module: str, written: str) -> bool:
    """True if instances of ``written`` (a class as written in ``module``) carry no data a
    request could leave on them: a class from outside the project (the caller has excluded
    value types and objects that change by use; isolint cannot see a library class's state, so
    it stays silent), or a project class that is not a record and that, like every project
    subclass of it, nothing changes after construction (``is_stateless_class``)."""
    resolved = index.resolve_dotted(module, written)
    if resolved is None:
        return True
    if not isinstance(resolved, ClassRef):
        return False
    for cls in (resolved, *_subclasses(index, resolved)):
        if _is_record(cls) or not is_stateless_class(index, cls.module, cls.cls.name):
            return False
    return True
