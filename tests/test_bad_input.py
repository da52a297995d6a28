"""Files that cannot be analysed become file errors; the run goes on and exits 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Completed

Run = Callable[..., Completed]
Make = Callable[..., Path]


def test_syntax_utf8_and_deep_nesting_are_file_errors(isolint: Run, make_project: Make) -> None:
    root = make_project(
        {
            "pkg/syntax.py": "def f(:\n    pass\n",
            "pkg/binary.py": b'name = "\xff\xfe"\n',
            "pkg/deep.py": "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
            "pkg/fine.py": "def f(cache={}):\n    return cache\n",
        }
    )
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    doc = json.loads(out.stdout)
    errors = {e["path"]: e["message"] for e in doc["errors"]}
    assert errors == {
        "pkg/binary.py": "cannot decode: invalid utf-8 byte 0xff (invalid start byte)",
        "pkg/deep.py": "syntax error: too many nested parentheses",
        "pkg/syntax.py": "syntax error: invalid syntax",
    }
    assert [d["path"] for d in doc["diagnostics"]] == ["pkg/fine.py"]
    text = isolint("check", ".", cwd=root)
    assert "pkg/syntax.py:1:7: error: syntax error: invalid syntax" in text.stdout
    assert "(3 files could not be analysed)" in text.stderr


def test_deep_non_bracket_nesting_does_not_crash(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/chain.py": "x = " + "+".join(["1"] * 3000) + "\n"})
    out = isolint("check", ".", cwd=root)
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 1)
