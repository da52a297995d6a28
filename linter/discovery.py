"""Turn path arguments into the list of Python files to lint (gitignore and excludes applied)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from linter.errors import UsageError
from linter.globs import Globs

DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".env",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        "node_modules",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".isolint_cache",
        ".eggs",
    }
)


@dataclass(frozen=True)
class SourceFile:
    """A file to lint: where it is, and its POSIX path relative to the project root."""

    path: Path
    relpath: str


def _relpath(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _gitignore(directory: Path) -> Globs | None:
    ignore_file = directory / ".gitignore"
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return Globs(lines)


class _Ignores:
    """The .gitignore files met on the way down, each matching paths relative to its directory."""

    def __init__(self, root: Path, extend_exclude: Sequence[str]) -> None:
        self.root = root
        self.exclude = Globs(extend_exclude)
        self.gitignores: dict[Path, Globs | None] = {}

    def _spec_for(self, directory: Path) -> Globs | None:
        if directory not in self.gitignores:
            self.gitignores[directory] = _gitignore(directory)
        return self.gitignores[directory]

    def excluded(self, path: Path, is_dir: bool) -> bool:
        rel = _relpath(path, self.root)
        suffix = "/" if is_dir else ""
        if not rel.startswith("..") and self.exclude.match(rel + suffix):
            return True
        for directory in (path.parent, *path.parent.parents):
            spec = self._spec_for(directory)
            if spec is not None:
                inner = _relpath(path, directory) + suffix
                if spec.match(inner):
                    return True
            if directory == self.root or (directory / ".git").exists():
                break
        return False


def discover(paths: Sequence[Path], root: Path, extend_exclude: Sequence[str]) -> list[SourceFile]:
    """Python files under ``paths`` (explicit files always count unless excluded by config)."""
    ignores = _Ignores(root, extend_exclude)
    found: dict[str, SourceFile] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise UsageError(f"path '{given}' does not exist")
        absolute = Path(os.path.abspath(given))
        if absolute.is_dir():
            for item in _walk(absolute, ignores):
                found.setdefault(_relpath(item, root), SourceFile(item, _relpath(item, root)))
        else:
            rel = _relpath(absolute, root)
            if rel.startswith("..") or not ignores.exclude.match(rel):
                found.setdefault(rel, SourceFile(absolute, rel))
    return [found[key] for key in sorted(found)]


def _walk(top: Path, ignores: _Ignores) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        directory = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            sub = directory / name
            if name in DEFAULT_EXCLUDED_DIRS or name.endswith(".egg-info"):
                continue
            if ignores.excluded(sub, is_dir=True):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            item = directory / name
            if not ignores.excluded(item, is_dir=False):
                out.append(item)
    return out
