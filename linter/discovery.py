"""Turn path arguments into the list of Python files to lint (gitignore and excludes applied)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from isolint.errors import UsageError
from isolint.globs import Globs

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
    """A file to lint: where it is, and its POSIX path relative to the project root.

    ``problem`` is set for a directory that could not be listed (it is reported as a file
    that could not be analysed, never skipped silently).
    """

    path: Path
    relpath: str
    problem: str | None = None


def _relpath(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _gitignore(directory: str) -> Globs | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return Globs.gitignore(lines)


class _Ignores:
    """The .gitignore files that apply, each matching paths relative to its own directory."""

    def __init__(
        self, root: Path, extend_exclude: Sequence[str], skip: Sequence[Path] = ()
    ) -> None:
        self.root = str(root)
        self.under_root = self.root + os.sep
        self.exclude = Globs(extend_exclude) if extend_exclude else None
        self.skip = frozenset(os.path.abspath(d) for d in skip)  # nested projects' roots
        self.gitignores: dict[str, Globs | None] = {}
        self.chains: dict[str, tuple[tuple[str, Globs], ...]] = {}

    def _spec_for(self, directory: str) -> Globs | None:
        if directory not in self.gitignores:
            self.gitignores[directory] = _gitignore(directory)
        return self.gitignores[directory]

    def _chain(self, directory: str) -> tuple[tuple[str, Globs], ...]:
        """(directory, spec) of every .gitignore from ``directory`` up to the project root or
        the enclosing repository's top, nearest first."""
        cached = self.chains.get(directory)
        if cached is None:
            chain: list[tuple[str, Globs]] = []
            current = directory
            while True:
                spec = self._spec_for(current)
                if spec is not None:
                    chain.append((current, spec))
                parent = os.path.dirname(current)
                if current == self.root or os.path.exists(os.path.join(current, ".git")):
                    break
                if parent == current:
                    break
                current = parent
            cached = tuple(chain)
            self.chains[directory] = cached
        return cached

    def excluded(self, directory: str, name: str, is_dir: bool) -> bool:
        path = os.path.join(directory, name)
        suffix = "/" if is_dir else ""
        if is_dir and path in self.skip:
            return True
        if self.exclude is not None and path.startswith(self.under_root):
            rel = path[len(self.under_root) :].replace(os.sep, "/")
            if self.exclude.match(rel + suffix):
                return True
        for base, spec in self._chain(directory):
            inner = (
                path[len(base) + 1 :].replace(os.sep, "/")
                if path.startswith(base + os.sep)
                else name
            )
            if spec.match(inner + suffix):
                return True
        return False


def _prefixes(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def excluded_by(rel: str, extend_exclude: Sequence[str], is_dir: bool) -> str | None:
    """The first pattern of ``extend_exclude`` that excludes the root-relative ``rel`` (itself or
    a directory it is in), or None."""
    if rel == "." or rel.startswith(".."):
        return None
    prefixes = _prefixes(rel)
    for pattern in extend_exclude:
        if pattern.startswith("!"):
            continue
        globs = Globs([pattern])
        if any(globs.match(p + "/") for p in prefixes[:-1]) or globs.match(
            rel + ("/" if is_dir else "")
        ):
            return pattern
    return None


def relaxed(rel: str, extend_exclude: Sequence[str]) -> tuple[str, ...]:
    """The patterns that still apply inside a directory named on the command line: those that
    exclude the directory itself (or one it is in) do not (ruff's rule for explicit paths)."""
    return tuple(p for p in extend_exclude if excluded_by(rel, (p,), is_dir=True) is None)


def discover(
    paths: Sequence[Path],
    root: Path,
    extend_exclude: Sequence[str],
    force_exclude: bool = False,
    skip: Sequence[Path] = (),
) -> list[SourceFile]:
    """Python files under ``paths``. A path named here is linted even if excluded, unless
    ``force_exclude``; ``skip`` are directories (nested projects) never entered."""
    found: dict[str, SourceFile] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise UsageError(f"path '{given}' does not exist")
        absolute = Path(os.path.abspath(given))
        rel = _relpath(absolute, root)
        is_dir = absolute.is_dir()
        excluded = excluded_by(rel, extend_exclude, is_dir) is not None
        if excluded and force_exclude:
            continue
        if is_dir:
            patterns = relaxed(rel, extend_exclude) if excluded else extend_exclude
            under_root = os.path.join(os.path.abspath(root), "")
            for item, problem in _walk(str(absolute), _Ignores(root, patterns, skip)):
                path = Path(item)
                # a walked path is absolute and normal: under the root, its relpath is its tail
                item_rel = (
                    item[len(under_root) :].replace(os.sep, "/")
                    if item.startswith(under_root)
                    else _relpath(path, root)
                )
                found.setdefault(item_rel, SourceFile(path, item_rel, problem))
        else:
            found.setdefault(rel, SourceFile(absolute, rel))
    return [found[key] for key in sorted(found)]


def select(
    paths: Sequence[Path],
    root: Path,
    project: Sequence[SourceFile],
    extend_exclude: Sequence[str],
    force_exclude: bool = False,
    skip: Sequence[Path] = (),
) -> list[SourceFile]:
    """The files of ``paths``, taken from an already discovered project where possible."""
    wanted: dict[str, SourceFile] = {}
    elsewhere: list[Path] = []
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise UsageError(f"path '{given}' does not exist")
        absolute = Path(os.path.abspath(given))
        rel = _relpath(absolute, root)
        if (
            not absolute.is_dir()
            or rel.startswith("..")
            or os.path.realpath(absolute) != str(absolute)
            or excluded_by(rel, extend_exclude, is_dir=True) is not None
        ):
            # files, paths outside the project, symlinked or excluded directories
            elsewhere.append(given)
        elif rel == ".":
            wanted.update((f.relpath, f) for f in project)
        else:
            prefix = rel + "/"
            wanted.update(
                (f.relpath, f)
                for f in project
                if f.relpath.startswith(prefix) or f.relpath == rel  # == : unreadable itself
            )
    for file in discover(elsewhere, root, extend_exclude, force_exclude, skip):
        wanted.setdefault(file.relpath, file)
    return [wanted[key] for key in sorted(wanted)]


def config_dirs(
    top: Path, root: Path, extend_exclude: Sequence[str], is_config: Callable[[Path], bool]
) -> list[Path]:
    """The outermost directories under ``top`` (not ``top`` itself) that hold a configuration of
    their own (``is_config``): nested projects, each linted with its own settings."""
    ignores = _Ignores(root, extend_exclude)
    found: list[Path] = []
    start = os.path.abspath(top)
    for dirpath, dirnames, _ in os.walk(start, followlinks=False):
        if dirpath != start and is_config(Path(dirpath)):
            found.append(Path(dirpath))
            dirnames[:] = []
            continue
        dirnames[:] = [
            name
            for name in sorted(dirnames)
            if name not in DEFAULT_EXCLUDED_DIRS
            and not name.endswith(".egg-info")
            and not ignores.excluded(dirpath, name, is_dir=True)
        ]
    return found


def _walk(top: str, ignores: _Ignores) -> list[tuple[str, str | None]]:
    """(path, None) per Python file; (directory, reason) per directory that cannot be listed."""
    out: list[tuple[str, str | None]] = []

    def unreadable(exc: OSError) -> None:
        if exc.filename is not None:
            reason = exc.strerror or type(exc).__name__
            out.append((os.fspath(exc.filename), f"cannot list directory: {reason}"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=unreadable, followlinks=False):
        kept = []
        for name in sorted(dirnames):
            if name in DEFAULT_EXCLUDED_DIRS or name.endswith(".egg-info"):
                continue
            if ignores.excluded(dirpath, name, is_dir=True):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.endswith(".py") and not ignores.excluded(dirpath, name, is_dir=False):
                out.append((os.path.join(dirpath, name), None))
    return out
