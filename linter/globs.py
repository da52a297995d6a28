"""Gitignore-style path matching (pathspec), the one way isolint matches paths against globs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pathspec


def invalid_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns git would not accept (``!`` alone, a trailing backslash, ...)."""
    bad = []
    for pattern in patterns:
        try:
            pathspec.PathSpec.from_lines("gitignore", [pattern])
        except ValueError:
            bad.append(pattern)
    return bad


def _git_accepts(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


class Globs:
    """A compiled set of gitignore-style patterns matched against POSIX relative paths.

    Configured patterns are validated when the configuration is read (``invalid_patterns``);
    ``Globs.gitignore`` reads a ``.gitignore`` file's lines as git does.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self._spec: pathspec.PathSpec[Any] = pathspec.PathSpec.from_lines("gitignore", patterns)

    @classmethod
    def gitignore(cls, lines: Sequence[str]) -> Globs:
        """Git's semantics (``/`` alone matches nothing, the last match wins); lines git
        ignores as invalid are skipped, never an error."""
        globs = cls(())
        try:
            globs._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        except ValueError:
            globs._spec = pathspec.GitIgnoreSpec.from_lines([p for p in lines if _git_accepts(p)])
        return globs

    def match(self, relpath: str) -> bool:
        return self._spec.match_file(relpath)
