"""Gitignore-style path matching (pathspec), the one way isolint matches paths against globs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pathspec


class Globs:
    """A compiled set of gitignore-style patterns matched against POSIX relative paths."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._spec: pathspec.PathSpec[Any] = pathspec.PathSpec.from_lines("gitignore", patterns)

    def match(self, relpath: str) -> bool:
        return self._spec.match_file(relpath)
