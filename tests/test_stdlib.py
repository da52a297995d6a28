"""Lint the running Python's standard library: no internal error, and every file error is a file
that CPython itself rejects or a known, listed LibCST parser gap. Slow (about a minute)."""

from __future__ import annotations

import json
import shutil
import sysconfig
import warnings
from pathlib import Path

import pytest

from tests.conftest import run_isolint

# Files CPython compiles but LibCST 1.x cannot parse, each with the construct it rejects.
LIBCST_GAPS = {
    # `(no_such_global): int` - an annotated assignment to a parenthesised name
    "test/test_grammar.py": "parenthesised annotated assignment target",
    # `(pars): bool = True` - the same construct at module level
    "test/typinganndata/ann_module.py": "parenthesised annotated assignment target",
}


def _cpython_rejects(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return True
    return False


@pytest.mark.slow
def test_standard_library(tmp_path: Path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "stdlib"
    shutil.copytree(
        stdlib, root, ignore=shutil.ignore_patterns("site-packages", "__pycache__"), symlinks=True
    )
    (root / "pyproject.toml").write_text("[tool.isolint]\n")
    out = run_isolint("check", "--format", "json", "--no-cache", ".", cwd=root)
    assert out.returncode in (0, 1), out.stderr
    assert "Traceback" not in out.stderr
    document = json.loads(out.stdout)
    assert document["summary"]["files"] > 1000
    for error in document["errors"]:
        assert not error["message"].startswith("internal error"), error
        path = error["path"]
        if path in LIBCST_GAPS:
            assert error["message"].startswith("syntax not supported by LibCST"), error
            continue
        assert _cpython_rejects(root / path), f"CPython compiles {path}, isolint said {error}"
