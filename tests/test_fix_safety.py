"""``--fix``/``--diff`` never write a wrong fix and never change what kind of file they fix.

Regression tests for issue 11, items 2 (form feeds: positions and a wrong-but-valid rewrite),
5 (symlinks, hard links, mode, owner, read-only files, unwritable directories) and 11 (``--diff``
and stdin exit codes, closed stdin). Real CLI on real files, except the position and binding
checks, which are also tested on their own.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isolint.diagnostics import Diagnostic, Edit, Fix, Severity, Span
from isolint.fixes import fix_source
from isolint.positions import positions
from tests.conftest import FIXTURES, Completed, isolint_executable, run_isolint

LEGACY = "from app.agents import execution_engine as legacy  # expect: ISO503"
LEGACY_FIXED = "import app.agents.user_execution_engine as legacy  # expect: ISO503"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "ssot_migration"
    shutil.copytree(
        FIXTURES / "ssot_migration",
        root,
        ignore=shutil.ignore_patterns(".isolint_cache", "expected.json", "expected.diff"),
    )
    return root


def _jobs_with_form_feed(project: Path) -> Path:
    jobs = project / "app/jobs.py"
    text = jobs.read_text(encoding="utf-8")
    assert LEGACY in text
    jobs.write_text(text.replace(LEGACY, "\f" + LEGACY), encoding="utf-8")
    return jobs


# -- item 2: form feeds -------------------------------------------------------------------
def test_form_feed_line_has_the_right_column(project: Path) -> None:
    _jobs_with_form_feed(project)
    out = run_isolint("check", "--no-cache", ".", cwd=project)
    assert out.returncode == 1, out.stderr
    assert re.search(r"^app/jobs\.py:11:2: ISO503 ", out.stdout, re.MULTILINE), out.stdout


def test_fix_on_a_form_feed_line_writes_the_right_code(project: Path) -> None:
    jobs = _jobs_with_form_feed(project)
    out = run_isolint("check", "--no-cache", "--fix", ".", cwd=project)
    assert out.returncode == 1, out.stderr  # unfixable findings remain elsewhere
    assert "could not be analysed" in out.stderr and "error" not in out.stdout
    lines = jobs.read_text(encoding="utf-8").split("\n")  # splitlines() breaks at \f
    assert "\f" + LEGACY_FIXED in lines
    assert not any("legacyy" in line or "enginee" in line for line in lines)
    ast.parse(jobs.read_text(encoding="utf-8"))


def test_diff_of_a_form_feed_line_keeps_it_on_one_line(project: Path) -> None:
    _jobs_with_form_feed(project)
    out = run_isolint("check", "--no-cache", "--diff", "app/jobs.py", cwd=project)
    assert out.returncode == 1, out.stderr
    assert "-\f" + LEGACY + "\n" in out.stdout
    assert "+\f" + LEGACY_FIXED + "\n" in out.stdout


def _diagnostic(text_edits: tuple[Edit, ...]) -> Diagnostic:
    return Diagnostic(
        path="app/x.py",
        span=text_edits[0].span,
        code="ISO503",
        name="deprecated-module-import",
        severity=Severity.ERROR,
        message="m",
        fingerprint="f",
        fix=Fix("Import from the replacement module", text_edits),
    )


def test_a_misaligned_import_rewrite_is_refused() -> None:
    # the edit LibCST's positions used to give: one column too far left on a form feed line
    source = b"import os\n\x0cfrom app.agents import execution_engine as legacy\n"
    edit = Edit(Span(2, 1, 2, 50), "import app.agents.user_execution_engine as legacy")
    outcome = fix_source("app/x.py", source, [_diagnostic((edit,))])
    assert outcome.fixed is None
    assert outcome.problem is not None and "does not line up" in outcome.problem


def test_a_wrong_but_valid_rewrite_is_refused() -> None:
    # the module rewrite lines up, but a second edit renames the binding: valid code that
    # imports something else than the fix means to
    source = b"from app.old import Engine\n"
    edits = (Edit(Span(1, 6, 1, 13), "app.new"), Edit(Span(1, 27, 1, 27), " as Motor"))
    outcome = fix_source("app/x.py", source, [_diagnostic(edits)])
    assert outcome.fixed is None
    assert outcome.problem is not None
    assert "would not import what the fix intends (Motor -> app.new.Engine)" in outcome.problem


def test_an_aligned_rewrite_is_applied() -> None:
    source = b"from ..old import Engine as E\nimport app.old as legacy\n"
    edits = (
        Edit(Span(1, 6, 1, 7), ""),
        Edit(Span(1, 7, 1, 8), ""),
        Edit(Span(1, 8, 1, 11), "app.new"),
        Edit(Span(2, 8, 2, 15), "app.new"),
    )
    outcome = fix_source("app/x.py", source, [_diagnostic(edits)])
    assert outcome.problem is None
    assert outcome.fixed == b"from app.new import Engine as E\nimport app.new as legacy\n"


# -- positions count every character CPython counts --------------------------------------
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.While,
    ast.With,
    ast.Try,
)


def _cpython_spans(text: str) -> list[tuple[int, int, int, int]]:
    """Simple statements as CPython places them, columns converted from UTF-8 bytes to chars."""
    lines = re.split(r"\r\n|\r|\n", text)

    def chars(line: int, column: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:column].decode("utf-8"))

    return sorted(
        (
            node.lineno,
            chars(node.lineno, node.col_offset),
            node.end_lineno or 0,
            chars(node.end_lineno or 0, node.end_col_offset or 0),
        )
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND)
    )


class _Small(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []
        self.units: dict[int, tuple[int, int]] = {}
        self.unit = (-1, -1)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseSmallStatement):
            self.nodes.append(node)
            self.units[id(node)] = self.unit
        return True


def _our_spans(text: str, data: bytes, by_unit: bool) -> list[tuple[int, int, int, int]]:
    module = cst.parse_module(data)
    visitor = _Small()
    for index, statement in enumerate(module.body):
        visitor.unit = (index, -1)
        statement.visit(visitor)
        if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for member_index, member in enumerate(statement.body.body):
                members = _Small()
                members.unit = (index, member_index)
                member.visit(members)
                visitor.units.update(members.units)
    found = positions(module, visitor.nodes, text, visitor.units if by_unit else None)
    return sorted(
        (r.start.line, r.start.column, r.end.line, r.end.column)
        for r in (found[node] for node in visitor.nodes)
    )


def _assert_positions_match_cpython(text: str, encoding: str = "utf-8") -> None:
    data = text.encode(encoding)
    decoded = text.removeprefix("\ufeff")
    expected = _cpython_spans(decoded)
    for by_unit in (False, True):
        assert _our_spans(decoded, data, by_unit) == expected, (text, by_unit)


POSITION_CASES = [
    "import os\n\x0cfrom a import b as c\nx = 1\n",
    "\x0cx = 1\n",
    "x=1\n\x0c\x0cfrom a import b\n",
    "x=1\n \x0cfrom a import b\n",
    "if x:\n\x0c    y = 1\n",
    "class A:\n    x = 1\n\x0c    y = 2\n",
    "class A:\n\x0c    def f(self):\n\x0c        return 1\n",
    "if x:\n    pass\n\x0celse:\n    pass\n",
    "@d\n\x0cdef f(): pass\n",
    "x = 1 \x0c+ 2\n",
    "x = 1;\x0cy = 2\n",
    "if x:\n\ty = 1\n",
    "x = 1\ry = (2,\r 3)\rz = 4\r",
    "x = 1\r",
    "x = 1\r\ny = 2\r\n",
    "\ufeffx = 1\ny = 2\n",
    "x = '😀'; y = 1\n",
    "x = '中文'; y = 1\n",
    "x = 1 + \\\n    2\ny = 3\n",
    "x = 1 + \\\n\x0c2\n",
    "x = 1",
]


@pytest.mark.parametrize("text", POSITION_CASES)
def test_positions_match_cpython(text: str) -> None:
    _assert_positions_match_cpython(text)


_PREFIXES = st.sampled_from(["", "", "\x0c", "\x0c\x0c", " \x0c", "\x0c "])
_STATEMENTS = st.sampled_from(
    [
        "from a.b import c as d",
        "import a.b",
        "x = '😀' + \"中\"",
        "y = 1 + \\\n    2",
        "z = (1,\n     2)",
        "w = 1; v = 2",
        "class K:\n    a = 1\n{p}    b = 2",
        "def f():\n{p}    return 1",
        "if x:\n\tpass",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    body=st.lists(st.tuples(_PREFIXES, _STATEMENTS, _PREFIXES), min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
)
def test_positions_match_cpython_on_generated_sources(
    body: list[tuple[str, str, str]], newline: str, bom: bool
) -> None:
    lines = [prefix + statement.format(p=inner) for prefix, statement, inner in body]
    text = ("\ufeff" if bom else "") + newline.join(lines).replace("\n", newline) + newline
    try:
        ast.parse(text.removeprefix("\ufeff"))
        cst.parse_module(text.encode("utf-8"))
    except (SyntaxError, cst.ParserSyntaxError):
        return  # e.g. a form feed inside an indented block's indentation
    _assert_positions_match_cpython(text)


# -- item 5: what --fix writes into ------------------------------------------------------
def _fix(root: Path, *paths: str) -> Completed:
    return run_isolint("check", "--no-cache", "--fix", *(paths or (".",)), cwd=root)


def test_symlinked_file_fixes_its_target_and_stays_a_link(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "jobs.py"
    shutil.move(project / "app/jobs.py", target)
    (project / "app/jobs.py").symlink_to(target)
    out = _fix(project)
    assert out.returncode == 1, out.stderr
    assert (project / "app/jobs.py").is_symlink()
    assert os.readlink(project / "app/jobs.py") == str(target)
    assert LEGACY_FIXED in target.read_text(encoding="utf-8")
    assert not list(elsewhere.glob(".*tmp")) and not list(project.rglob("*.tmp"))


def test_symlink_to_a_file_in_the_tree_is_fixed_once(project: Path) -> None:
    (project / "app/jobs_alias.py").symlink_to("jobs.py")
    out = _fix(project)
    assert out.returncode == 1
    assert "error" not in out.stdout, out.stdout
    assert (project / "app/jobs_alias.py").is_symlink()
    assert LEGACY_FIXED in (project / "app/jobs.py").read_text(encoding="utf-8")


def test_hard_linked_file_is_refused_and_keeps_its_inode(project: Path, tmp_path: Path) -> None:
    jobs = project / "app/jobs.py"
    other = tmp_path / "jobs_link.py"
    os.link(jobs, other)
    before = jobs.read_bytes()
    out = _fix(project)
    assert out.returncode == 1
    assert re.search(r"^app/jobs\.py:.*has 2 hard links; not fixed", out.stdout, re.MULTILINE), (
        out.stdout
    )
    assert jobs.read_bytes() == before == other.read_bytes()
    assert jobs.stat().st_ino == other.stat().st_ino and jobs.stat().st_nlink == 2
    assert LEGACY_FIXED not in jobs.read_text(encoding="utf-8")
    assert "from app.ws.manager import" in (project / "app/chat.py").read_text()  # others fixed


def test_mode_is_kept(project: Path) -> None:
    jobs = project / "app/jobs.py"
    jobs.chmod(0o751)
    assert _fix(project).returncode == 1
    assert LEGACY_FIXED in jobs.read_text(encoding="utf-8")
    assert stat.S_IMODE(jobs.stat().st_mode) == 0o751


def test_a_killed_runs_temporary_file_is_removed_by_the_next_fix(project: Path) -> None:
    finished = subprocess.Popen(["true"])  # its pid no longer exists once it has been waited for
    finished.wait()
    app = project / "app"
    leftover = app / f".jobs.py.{finished.pid}.0.isolint.tmp"
    leftover.write_bytes(b"half")
    theirs = app / ".jobs.py.notours.isolint.tmp"
    theirs.write_bytes(b"kept")
    assert _fix(project).returncode == 1
    assert LEGACY_FIXED in (app / "jobs.py").read_text(encoding="utf-8")
    assert not leftover.exists()
    assert theirs.read_bytes() == b"kept"


def test_read_only_file_is_refused_unchanged(project: Path) -> None:
    jobs = project / "app/jobs.py"
    before = jobs.read_bytes()
    jobs.chmod(0o444)
    out = _fix(project)
    assert out.returncode == 1
    assert re.search(r"^app/jobs\.py:1:1: error: read-only file", out.stdout, re.MULTILINE), (
        out.stdout
    )
    assert jobs.read_bytes() == before
    assert stat.S_IMODE(jobs.stat().st_mode) == 0o444
    assert "from app.ws.manager import" in (project / "app/chat.py").read_text()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_owner_is_kept_when_run_as_root(project: Path) -> None:
    jobs = project / "app/jobs.py"
    os.chown(jobs, 12345, 23456)
    assert _fix(project).returncode == 1
    assert LEGACY_FIXED in jobs.read_text(encoding="utf-8")
    assert (jobs.stat().st_uid, jobs.stat().st_gid) == (12345, 23456)


@contextmanager
def _unwritable(directory: Path) -> Iterator[None]:
    """No new entries in ``directory``: mode 0555, or (root ignores modes) the immutable flag."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if (
        chattr is None
        or subprocess.run([chattr, "+i", str(directory)], check=False).returncode != 0
    ):
        pytest.skip("as root, an unwritable directory needs chattr +i")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)


def test_unwritable_directory_does_not_stop_the_others(project: Path) -> None:
    scheduler = project / "app/agents/scheduler.py"
    before = scheduler.read_bytes()
    with _unwritable(project / "app/agents"):
        out = _fix(project)
        listing = sorted(p.name for p in (project / "app/agents").iterdir())
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if ": error: " in line]
    assert errors and all(line.startswith("app/agents/scheduler.py:") for line in errors), errors
    assert "is not writable" in errors[0] and ".tmp" not in errors[0]
    assert scheduler.read_bytes() == before
    assert not any(name.endswith(".tmp") for name in listing)
    assert LEGACY_FIXED in (project / "app/jobs.py").read_text(encoding="utf-8")
    assert "from app.ws.manager import" in (project / "app/chat.py").read_text()


# -- item 11: --diff, stdin, exit codes ------------------------------------------------------
def test_diff_with_stdin_diffs_the_buffer(project: Path) -> None:
    on_disk = (project / "app/jobs.py").read_text(encoding="utf-8")
    buffer = "# edited in the editor\n\n\n" + on_disk
    out = run_isolint(
        "check", "--no-cache", "--diff", "--stdin-filename", "app/jobs.py", "-",
        cwd=project, stdin=buffer,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "\n-" + LEGACY + "\n" in out.stdout and "\n+" + LEGACY_FIXED + "\n" in out.stdout
    assert "@@ -7," in out.stdout and "@@ -4," not in out.stdout  # the buffer's line numbers
    # every context line of the diff comes from the buffer
    buffer_lines = set(buffer.splitlines())
    context = [line[1:] for line in out.stdout.splitlines() if line.startswith(" ")]
    assert context and all(line in buffer_lines for line in context)
    assert (project / "app/jobs.py").read_text(encoding="utf-8") == on_disk


def test_diff_exit_codes(project: Path, tmp_path: Path) -> None:
    pending = run_isolint("check", "--no-cache", "--diff", ".", cwd=project)
    assert pending.returncode == 1, pending.stderr
    quiet = run_isolint("check", "--no-cache", "--diff", "--exit-zero", ".", cwd=project)
    assert quiet.returncode == 0 and quiet.stdout == pending.stdout
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "pyproject.toml").write_text("[tool.isolint]\n")
    (clean / "ok.py").write_text("x = 1\n")
    assert run_isolint("check", "--no-cache", "--diff", ".", cwd=clean).returncode == 0
    (clean / "broken.py").write_text("def broken(:\n")
    broken = run_isolint("check", "--no-cache", "--diff", ".", cwd=clean)
    assert broken.returncode == 1 and "broken.py" in broken.stderr
    zero = run_isolint("check", "--no-cache", "--diff", "--exit-zero", ".", cwd=clean)
    assert zero.returncode == 0


def _stdin_fix(project: Path, path: str, buffer: str, *extra: str) -> tuple[int, str, str]:
    out = run_isolint(
        "check", "--no-cache", "--fix", *extra, "--stdin-filename", path, "-",
        cwd=project, stdin=buffer,
    )  # fmt: skip
    return out.returncode, out.stdout, out.stderr


def test_stdin_fix_exits_as_check_does(project: Path) -> None:
    fixable_only = "from app.agents.execution_engine import create_engine_for_user\n"
    code, stdout, stderr = _stdin_fix(project, "app/new.py", fixable_only)
    assert code == 0, stderr
    assert stdout == "from app.agents.user_execution_engine import create_engine_for_user\n"

    remaining = fixable_only + "import app.legacy_ws  # deprecated without a replacement\n"
    code, stdout, stderr = _stdin_fix(project, "app/new.py", remaining)
    assert code == 1, stderr
    assert stdout.startswith("from app.agents.user_execution_engine import")
    assert _stdin_fix(project, "app/new.py", remaining, "--exit-zero")[0] == 0

    broken = "def broken(:\n"
    code, stdout, stderr = _stdin_fix(project, "app/new.py", broken)
    assert code == 1 and stdout == broken
    assert "app/new.py" in stderr and "syntax" in stderr


def test_closed_stdin_is_a_one_line_error(project: Path) -> None:
    out = subprocess.run(
        f"exec '{isolint_executable()}' check --no-cache --stdin-filename x.py - <&-",
        shell=True,
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "stdin" in out.stderr and "Traceback" not in out.stderr
