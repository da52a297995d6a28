"""Map project-relative file paths to dotted module names, honouring ``src`` roots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath


def module_name(relpath: str, src_roots: Sequence[str]) -> tuple[str, bool]:
    """``src/app/x.py`` -> (``app.x``, False); ``app/__init__.py`` -> (``app``, True).

    The longest matching ``src`` root is stripped, so ``src/`` layouts and namespace packages
    (directories without ``__init__.py``) both map to the names their imports use.
    """
    path = PurePosixPath(relpath)
    parts = list(path.parts)
    best: list[str] = []
    for root in src_roots:
        root_parts = [p for p in PurePosixPath(root).parts if p != "."]
        if len(root_parts) > len(best) and parts[: len(root_parts)] == root_parts:
            best = root_parts
    parts = parts[len(best) :]
    if not parts:
        return "", False
    stem = parts[-1]
    stem = stem.removesuffix(".py")
    is_package = stem == "__init__"
    dotted = parts[:-1] if is_package else [*parts[:-1], stem]
    return ".".join(p for p in dotted if p not in ("", "..")), is_package


def is_test_path(relpath: str) -> bool:
    """Test modules by pytest's conventions: ``test_*.py``, ``*_test.py``, ``conftest.py``, tests/."""
    path = PurePosixPath(relpath)
    name = path.name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in ("tests", "test") for part in path.parts[:-1])
