#!/usr/bin/env python3
"""mypy --strict on the ``isolint`` package, from the repository's layout.

The repository keeps the engine in ``linter/`` and the rules in ``rules/``; installed, they are
``isolint`` and ``isolint.rules`` (``package-dir`` in pyproject.toml). The default editable
install maps that name with an import hook, which mypy does not follow, so this script builds a
tree of symlinks (``isolint/*`` -> ``linter/*``, ``isolint/rules`` -> ``rules/``) under
``.mypy_cache/``, rebuilt on every run (new modules need no reinstall), and runs
``mypy --strict -p isolint`` over it with ``MYPYPATH``. Reported paths are mapped back to
``linter/`` and ``rules/``. Extra arguments go to mypy. Then the import-linter contracts of
pyproject.toml (``lint-imports``) run over the same tree: import-linter finds a package's modules
under one directory, and ``isolint.rules`` lives in another. The exit status is non-zero if
either fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = Path(".mypy_cache") / "isolint-tree"  # relative to REPO: mypy prints relative paths


def build_tree(root: Path) -> None:
    """``root/isolint``: a symlink per entry of linter/ and ``rules`` -> rules/."""
    shutil.rmtree(root, ignore_errors=True)
    package = root / "isolint"
    package.mkdir(parents=True)
    for entry in sorted((REPO / "linter").iterdir()):
        if entry.name != "__pycache__" and entry.name != "rules":
            (package / entry.name).symlink_to(entry)
    (package / "rules").symlink_to(REPO / "rules")


def main() -> int:
    os.chdir(REPO)
    build_tree(TREE)
    env = {**os.environ, "MYPYPATH": str(TREE)}
    command = [sys.executable, "-m", "mypy", "--strict", "-p", "isolint", *sys.argv[1:]]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    prefix = f"{TREE.as_posix()}/isolint/"
    for stream, text in ((sys.stdout, proc.stdout), (sys.stderr, proc.stderr)):
        text = text.replace(prefix + "rules/", "rules/").replace(prefix, "linter/")
        stream.write(text)
    contracts = subprocess.run(
        ["lint-imports", "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=TREE,
        env={**os.environ, "PYTHONPATH": str(REPO / TREE)},
        check=False,
    )
    return proc.returncode or contracts.returncode


if __name__ == "__main__":
    sys.exit(main())
