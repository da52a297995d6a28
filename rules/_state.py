"""Shared by the ISO1 rules: is the object a call creates one whose state can change?"""

from __future__ import annotations

from isolint.api import ClassRef, ProjectIndex

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
            found = index.resolve_dotted(current.module, base) or index.resolve_absolute(base)
            if not isinstance(found, ClassRef):
                return False  # a library base may carry state we cannot see
            pending.append(found)
    return True
