"""Bad input, one case per test: each becomes a precise file error (or is linted), never a crash.

Every test lints a small tree through the real CLI and checks three things: the exit code, the
exact error message and position of the bad file, and that the rest of the tree is still linted
(``pkg/fine.py`` always holds one known finding).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Completed, isolint_executable

Run = Callable[..., Completed]
Make = Callable[..., Path]

FINE = "def f(cache={}):\n    return cache\n"
FINE_FINDING = ("pkg/fine.py", 1, 13, "ISO204")
TEXT_LINE = re.compile(r"^[^:\n]+:\d+:\d+: ")
SLOW = pytest.mark.skipif(
    not os.environ.get("ISOLINT_SLOW"), reason="takes about a minute: set ISOLINT_SLOW=1"
)


def check(isolint: Run, root: Path, *args: str) -> tuple[int, dict[str, Any], Completed]:
    """``isolint check --format json`` and the text report of the same run (no cache)."""
    out = isolint("check", "--no-cache", "--format", "json", *args, cwd=root)
    assert "Traceback" not in out.stderr, out.stderr
    text = isolint("check", "--no-cache", *args, cwd=root)
    assert "Traceback" not in text.stderr, text.stderr
    assert text.returncode == out.returncode
    assert all(TEXT_LINE.match(line) for line in text.stdout.splitlines()), text.stdout
    return out.returncode, json.loads(out.stdout), text


def findings(doc: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(d["path"], d["line"], d["column"], d["code"]) for d in doc["diagnostics"]]


def errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["path"], e["message"]) for e in doc["errors"]]


def error_lines(text: Completed) -> list[str]:
    return [line for line in text.stdout.splitlines() if ": error: " in line]


# -- source that cannot be analysed: a file error with the position, the run goes on ----------


@pytest.mark.parametrize(
    ("source", "location", "message"),
    [
        ("a = 1\nb = 2\nc = (1,\n", "3:5", "syntax error: '(' was never closed"),
        (
            "def f():\nreturn 1\n",
            "2:1",
            "syntax error: expected an indented block after function definition on line 1",
        ),
        (
            'a = 1\nx = """abc\n',
            "2:5",
            "syntax error: unterminated triple-quoted string literal (detected at line 2)",
        ),
    ],
    ids=["unclosed-paren", "missing-indent", "unterminated-string"],
)
def test_syntax_error_is_reported_with_line_and_column(
    isolint: Run, make_project: Make, source: str, location: str, message: str
) -> None:
    root = make_project({"pkg/broken.py": source, "pkg/fine.py": FINE})
    code, doc, text = check(isolint, root)
    assert code == 1
    assert errors(doc) == [("pkg/broken.py", message)]
    assert error_lines(text) == [f"pkg/broken.py:{location}: error: {message}"]
    assert findings(doc) == [FINE_FINDING]


def test_invalid_utf8_names_the_byte_and_its_position(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/binary.py": b'a = 1\nb = 2\nname = "\xc3("\n', "pkg/fine.py": FINE})
    code, doc, text = check(isolint, root)
    assert code == 1
    message = "cannot decode: invalid utf-8 byte 0xc3 (invalid continuation byte)"
    assert errors(doc) == [("pkg/binary.py", message)]
    assert error_lines(text) == [f"pkg/binary.py:3:9: error: {message}"]
    assert findings(doc) == [FINE_FINDING]


def test_nul_byte_is_a_file_error_on_its_line(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/nul.py": b'x = 1\ny = "\0"\n', "pkg/fine.py": FINE})
    code, doc, text = check(isolint, root)
    assert code == 1
    assert errors(doc) == [("pkg/nul.py", "source contains a NUL byte")]
    [line] = error_lines(text)
    assert line.startswith("pkg/nul.py:2:")
    assert line.endswith(": error: source contains a NUL byte")
    assert findings(doc) == [FINE_FINDING]


def test_nul_byte_error_points_at_the_byte(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/nul.py": b'x = 1\ny = "\0"\n', "pkg/fine.py": FINE})
    _, _, text = check(isolint, root)
    assert error_lines(text) == ["pkg/nul.py:2:6: error: source contains a NUL byte"]


@pytest.mark.parametrize(
    ("source", "location", "message"),
    [
        (
            b'print "x"\n',
            "1:1",
            "syntax error: Missing parentheses in call to 'print'. Did you mean print(...)?",
        ),
        (
            b'exec "code"\n',
            "1:1",
            "syntax error: Missing parentheses in call to 'exec'. Did you mean exec(...)?",
        ),
        (b"x = `1`\n", "1:5", "syntax error: invalid syntax"),
        (b"x = 1 <> 2\n", "1:7", "syntax error: invalid syntax"),
    ],
    ids=["print-statement", "exec-statement", "backticks", "diamond-operator"],
)
def test_python2_syntax_is_a_syntax_error(
    isolint: Run, make_project: Make, source: bytes, location: str, message: str
) -> None:
    root = make_project({"pkg/legacy.py": source, "pkg/fine.py": FINE})
    code, doc, text = check(isolint, root)
    assert code == 1
    assert errors(doc) == [("pkg/legacy.py", message)]
    assert error_lines(text) == [f"pkg/legacy.py:{location}: error: {message}"]
    assert findings(doc) == [FINE_FINDING]


# -- encodings and line endings: decoded as Python does, findings at the right place ---------


def test_latin1_coding_cookie_is_decoded_and_linted(isolint: Run, make_project: Make) -> None:
    source = (
        b'# -*- coding: latin-1 -*-\nGREETING = "h\xe9"\n\n\ndef \xe9t\xe9(x=[]):\n    return x\n'
    )
    root = make_project({"pkg/latin.py": source, "pkg/fine.py": FINE})
    code, doc, _ = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [FINE_FINDING, ("pkg/latin.py", 5, 11, "ISO204")]
    assert "`x` of `\u00e9t\u00e9`" in doc["diagnostics"][1]["message"]


def test_bom_with_a_conflicting_cookie_names_the_conflict(isolint: Run, make_project: Make) -> None:
    source = b"\xef\xbb\xbf# coding: latin-1\nx = 1\n"
    root = make_project({"pkg/conflict.py": source, "pkg/fine.py": FINE})
    code, doc, _ = check(isolint, root)
    assert code == 1
    [(path, message)] = errors(doc)
    assert path == "pkg/conflict.py"
    assert message.startswith("cannot decode: ")
    assert "latin-1" in message and "BOM" in message


def test_utf8_bom_is_skipped_and_columns_count_from_the_first_character(
    isolint: Run, make_project: Make
) -> None:
    source = "\ufeffdef g(x=[]):\n    return x\n\n\ndef h(\u00e9, y=[]):\n    return y\n"
    root = make_project({"pkg/bom.py": source.encode("utf-8"), "pkg/fine.py": FINE})
    code, doc, text = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [
        ("pkg/bom.py", 1, 9, "ISO204"),
        ("pkg/bom.py", 5, 12, "ISO204"),
        FINE_FINDING,
    ]
    assert [(d["end_line"], d["end_column"]) for d in doc["diagnostics"][:2]] == [(1, 11), (5, 14)]
    assert text.stdout.startswith("pkg/bom.py:1:9: ISO204 ")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_line_endings_give_findings_on_the_right_lines(
    isolint: Run, make_project: Make, newline: str
) -> None:
    lines = ['"""Doc."""', "", "", "def g(x=[]):", "    return x", "", "", "def h(y={}):", "    y"]
    source = newline.join(lines) + newline
    root = make_project({"pkg/endings.py": source.encode(), "pkg/fine.py": FINE})
    code, doc, _ = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [
        ("pkg/endings.py", 4, 9, "ISO204"),
        ("pkg/endings.py", 8, 9, "ISO204"),
        FINE_FINDING,
    ]


@pytest.mark.parametrize(
    "newline",
    [
        "\n",
        "\r\n",
        pytest.param(
            "\r",
        ),
    ],
    ids=["lf", "crlf", "lone-cr"],
)
def test_suppression_comments_work_with_every_line_ending(
    isolint: Run, make_project: Make, newline: str
) -> None:
    lines = ["x = 1", "def g(x=[]):  # isolint: ignore[ISO204]", "    return x", "def h(y=[]):"]
    source = newline.join([*lines, "    return y", ""])
    root = make_project({"pkg/endings.py": source.encode(), "pkg/fine.py": FINE})
    code, doc, _ = check(isolint, root, "--extend-select", "ISO000")
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [("pkg/endings.py", 4, 9, "ISO204"), FINE_FINDING]


_SSOT_PYPROJECT = (
    '[tool.isolint]\n[tool.isolint.ssot]\ncanonical = { ExecutionEngine = "app.engine" }\n'
)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "lone-cr"])
def test_fix_keeps_the_line_endings_of_the_file(
    isolint: Run, make_project: Make, newline: str
) -> None:
    lines = [
        "import os",
        "from app.legacy import (",
        "    RETRIES,",
        "    ExecutionEngine,",
        ")",
        "",
        "",
        "def run(user_context):",
        "    from app.legacy import ExecutionEngine as E",
        "    return E(user_context), ExecutionEngine(os), RETRIES",
        "",
    ]
    root = make_project(
        {
            "app/__init__.py": "",
            "app/engine.py": "class ExecutionEngine:\n    pass\n",
            "app/legacy.py": "from app.engine import ExecutionEngine\n\nRETRIES = 3\n",
            "app/service.py": newline.join(lines).encode(),
        },
        pyproject=_SSOT_PYPROJECT,
    )
    out = isolint("check", "--no-cache", "--fix", ".", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    fixed = (root / "app/service.py").read_bytes().decode()
    assert "from app.legacy import (" in fixed and "from app.engine import" in fixed
    endings = set(re.findall(r"\r\n|\r|\n", fixed))
    assert endings == {newline}


@pytest.mark.parametrize(
    "source",
    [b"", b"\n", b"\xef\xbb\xbf", b"   \n\n\t\n", b"# only a comment", b"\r\n\r\n"],
    ids=["empty", "newline", "bom-only", "blank-lines", "comment-no-newline", "crlf-only"],
)
def test_empty_file_is_clean(isolint: Run, make_project: Make, source: bytes) -> None:
    root = make_project({"pkg/__init__.py": b"", "pkg/empty.py": source})
    code, doc, text = check(isolint, root)
    assert code == 0
    assert doc["errors"] == [] and doc["diagnostics"] == []
    assert doc["summary"]["files"] == 2
    assert text.stdout == ""


# -- size and depth ------------------------------------------------------------------------


def _ten_megabytes_of_data() -> str:
    row = 'BLOB_{i:05d} = "' + "x" * 1000 + '"\n'
    data = "".join(row.format(i=i) for i in range(10_000))
    return f"def first(cache={{}}):\n    return cache\n\n\n{data}\n\ndef last(items=[]):\n    return items\n"


def test_ten_megabyte_file_is_linted(isolint: Run, make_project: Make) -> None:
    source = _ten_megabytes_of_data()
    assert len(source) > 10_000_000
    root = make_project({"pkg/big.py": source, "pkg/fine.py": FINE})
    code, doc, _ = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [
        ("pkg/big.py", 1, 17, "ISO204"),
        ("pkg/big.py", 10_007, 16, "ISO204"),
        FINE_FINDING,
    ]


@SLOW
def test_ten_megabytes_of_functions_are_linted(isolint: Run, make_project: Make) -> None:
    unit = "def function_{i:06d}(value, other=None):\n    return value\n\n\n"
    count = 10_000_000 // len(unit.format(i=0)) + 1
    source = "".join(unit.format(i=i) for i in range(count)) + "def last(items=[]):\n    pass\n"
    # 10 MB of dense code: about 4 GB and minutes in LibCST, past the default limits
    limits = "[tool.isolint]\ntimeout = 3600\nmemory-limit = 8\n"
    root = make_project({"pkg/big.py": source, "pkg/fine.py": FINE}, pyproject=limits)
    out = isolint("check", "--no-cache", "--jobs", "1", "--format", "json", ".", cwd=root)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["errors"] == []
    assert findings(doc) == [("pkg/big.py", 4 * count + 1, 16, "ISO204"), FINE_FINDING]


_DEEP = 3000
_NESTED = "syntax error: too many nested parentheses"
_TOO_DEEP = "too deeply nested to analyse: nested more than 1,000 levels deep"
DEEP_SOURCES = {  # source, the file error and where it is, or None: linted
    "parentheses": ("x = " + "(" * _DEEP + "1" + ")" * _DEEP + "\n", (_NESTED, "3:205")),
    "brackets": ("x = " + "[" * _DEEP + "]" * _DEEP + "\n", (_NESTED, "3:205")),
    "binary-operators": ("x = " + "+".join(["1"] * _DEEP) + "\n", (_TOO_DEEP, "3:1")),
    "binary-operators-within-limit": ("x = " + "+".join(["1"] * 200) + "\n", None),
}


@pytest.mark.parametrize("kind", sorted(DEEP_SOURCES))
def test_deep_nesting_in_worker_processes(isolint: Run, make_project: Make, kind: str) -> None:
    """3,000 levels: CPython's nesting limit or isolint's depth limit (checked with CPython's
    parser before LibCST, so it takes no time: no time budget is involved), or linted."""
    deep, expected_error = DEEP_SOURCES[kind]
    files: dict[str, str | bytes] = {f"pkg/other_{i:02d}.py": FINE for i in range(22)}
    files.update({"pkg/deep.py": FINE + deep, "pkg/fine.py": FINE})
    root = make_project(files, pyproject="[tool.isolint]\ntimeout = 1000\n")
    code, doc, text = check(isolint, root, "--jobs", "2")
    assert code == 1
    expected = [(f"pkg/other_{i:02d}.py", 1, 13, "ISO204") for i in range(22)]
    if expected_error is not None:
        message, location = expected_error
        assert errors(doc) == [("pkg/deep.py", message)]
        assert error_lines(text) == [f"pkg/deep.py:{location}: error: {message}"]
    else:
        assert doc["errors"] == []
        expected.append(("pkg/deep.py", 1, 13, "ISO204"))
    assert sorted(findings(doc)) == sorted([*expected, FINE_FINDING])


# -- the file system: links, permissions, directories, paths ------------------------------


def test_symlink_loop_is_not_followed(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE, "pkg/sub/inner.py": FINE})
    (root / "pkg/sub/loop").symlink_to("..", target_is_directory=True)
    code, doc, _ = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [FINE_FINDING, ("pkg/sub/inner.py", 1, 13, "ISO204")]


def test_symlink_loop_given_as_argument_is_not_followed_twice(
    isolint: Run, make_project: Make
) -> None:
    root = make_project({"pkg/fine.py": FINE, "pkg/sub/inner.py": FINE})
    (root / "pkg/sub/loop").symlink_to("..", target_is_directory=True)
    code, doc, _ = check(isolint, root, "pkg/sub/loop")
    assert code in (0, 1)
    assert doc["errors"] == []
    assert not any("loop/sub/loop" in path for path, *_ in findings(doc))


def test_symlinked_directory_given_as_argument_is_linted(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE, "shared/inner.py": FINE})
    (root / "pkg/linked").symlink_to("../shared", target_is_directory=True)
    code, doc, _ = check(isolint, root, "pkg/linked")
    assert code == 1
    assert doc["errors"] == []
    assert [(line, col, rule) for _, line, col, rule in findings(doc)] == [(1, 13, "ISO204")]
    assert findings(doc)[0][0] in ("pkg/linked/inner.py", "shared/inner.py")


@pytest.mark.parametrize("explicit", [False, True], ids=["discovered", "named"])
def test_dangling_symlink_is_a_file_error(isolint: Run, make_project: Make, explicit: bool) -> None:
    root = make_project({"pkg/fine.py": FINE})
    (root / "pkg/x.py").symlink_to("missing.py")
    code, doc, text = check(isolint, root, *(["pkg/x.py", "pkg/fine.py"] if explicit else []))
    assert code == 1
    message = "cannot read: No such file or directory"
    assert errors(doc) == [("pkg/x.py", message)]
    assert error_lines(text) == [f"pkg/x.py:1:1: error: {message}"]
    assert findings(doc) == [FINE_FINDING]


def test_symlink_cycle_between_files_is_a_file_error(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE})
    (root / "pkg/a.py").symlink_to("b.py")
    (root / "pkg/b.py").symlink_to("a.py")
    code, doc, _ = check(isolint, root)
    assert code == 1
    message = "cannot read: Too many levels of symbolic links"
    assert errors(doc) == [("pkg/a.py", message), ("pkg/b.py", message)]
    assert findings(doc) == [FINE_FINDING]


def test_unreadable_file_is_a_file_error(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE, "pkg/secret.py": FINE})
    secret = root / "pkg/secret.py"
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("this user can read a mode-000 file (running as root)")
        code, doc, text = check(isolint, root)
    finally:
        secret.chmod(0o644)
    assert code == 1
    message = "cannot read: Permission denied"
    assert errors(doc) == [("pkg/secret.py", message)]
    assert error_lines(text) == [f"pkg/secret.py:1:1: error: {message}"]
    assert findings(doc) == [FINE_FINDING]


def test_fifo_named_like_a_python_file_does_not_hang(make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE})
    os.mkfifo(root / "pkg/pipe.py")
    try:
        proc = subprocess.run(
            [isolint_executable(), "check", "--no-cache", "--jobs", "1", "--format", "json", "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,  # a hang guard: generous on a loaded machine, where startup takes seconds
            check=False,
        )
    except subprocess.TimeoutExpired:
        proc = None
    assert proc is not None, "isolint hung on a FIFO named pkg/pipe.py"
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert findings(doc) == [FINE_FINDING]
    assert all(path == "pkg/pipe.py" for path, _ in errors(doc))


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_non_utf8_file_name_is_linted(isolint: Run, make_project: Make, cache: bool) -> None:
    root = make_project({"pkg/fine.py": FINE})
    with open(os.path.join(os.fsencode(root), b"pkg", b"caf\xe9.py"), "wb") as handle:
        handle.write(b"def g(x=[]):\n    pass\n")
    out = isolint("check", "--format", "json", *([] if cache else ["--no-cache"]), cwd=root)
    assert "internal error" not in out.stderr
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["errors"] == []
    assert [(d["line"], d["column"], d["code"]) for d in doc["diagnostics"]] == [
        (1, 9, "ISO204"),
        (1, 13, "ISO204"),
    ]
    assert doc["diagnostics"][0]["path"].startswith("pkg/caf")


def test_directory_named_like_a_python_file_is_walked(isolint: Run, make_project: Make) -> None:
    root = make_project({"pkg/fine.py": FINE, "pkg/x.py/inner.py": FINE})
    (root / "pkg/empty.py").mkdir()
    code, doc, _ = check(isolint, root)
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [FINE_FINDING, ("pkg/x.py/inner.py", 1, 13, "ISO204")]
    code, doc, _ = check(isolint, root, "pkg/x.py", "pkg/empty.py", "pkg/fine.py")
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [FINE_FINDING, ("pkg/x.py/inner.py", 1, 13, "ISO204")]


@pytest.mark.parametrize("missing", ["missing.py", "pkg/nothere.py", "no/such/dir"])
def test_nonexistent_path_is_a_usage_error(isolint: Run, make_project: Make, missing: str) -> None:
    root = make_project({"pkg/fine.py": FINE})
    out = isolint("check", "--no-cache", "pkg", missing, cwd=root)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == f"isolint: error: path '{missing}' does not exist\n"


def test_path_outside_the_project_is_reported_relative(isolint: Run, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.isolint]\n", encoding="utf-8")
    (project / "pkg/fine.py").write_text(FINE, encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/other.py").write_text("def g(x=[]):\n    return x\n", encoding="utf-8")
    code, doc, text = check(isolint, project, ".", "../outside/other.py")
    assert code == 1
    assert doc["errors"] == []
    assert findings(doc) == [("../outside/other.py", 1, 9, "ISO204"), FINE_FINDING]
    assert text.stdout.startswith("../outside/other.py:1:9: ISO204 ")
