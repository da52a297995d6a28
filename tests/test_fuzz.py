"""Fuzzing: generated and mutated source never crashes the linter, and fixes never break code.

Bounded by default (a few seconds). For a longer run, raise the number of examples per test
(also the number of mutants per fixture file), or use the registered ``slow`` profile:

    ISOLINT_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py
    ISOLINT_FUZZ_PROFILE=slow pytest tests/test_fuzz.py
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from isolint.config import Settings
from isolint.diagnostics import FileError, FileResult
from isolint.fixes import fix_source
from isolint.parsing import parse
from isolint.runner import LintOptions, lint_guarded
from isolint.testing import run_project
from isolint.walk import Walker
from isolint.rules import load_rules
from tests.conftest import FIXTURES, run_isolint

settings.register_profile(
    "isolint-fuzz",
    max_examples=40,
    deadline=None,
    database=None,  # no example database in the checkout; a failure prints its example
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile("slow", settings.get_profile("isolint-fuzz"), max_examples=2000)
_PROFILE = settings.get_profile(os.environ.get("ISOLINT_FUZZ_PROFILE", "isolint-fuzz"))
EXAMPLES = int(os.environ.get("ISOLINT_FUZZ_EXAMPLES") or _PROFILE.max_examples)
FUZZ = settings(_PROFILE, max_examples=EXAMPLES)
# CPython's compiler warns about odd but valid generated code (``1()``, ``"\\p"``): expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
    pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning"),
]

RULES = load_rules()
# Every rule, the off-by-default ones (ISO000, ISO504) included, and the SSOT rules configured
# so that ISO502/ISO503 run (and fix) on the names the strategies below generate.
SSOT = (
    (
        "ssot.canonical",
        (("ExecutionEngine", "app.engine"), ("get_websocket_manager", "app.ws.manager")),
    ),
    (
        "ssot.deprecated-modules",
        (
            ("app.agents.execution_engine", "app.agents.user_execution_engine"),
            ("app.legacy_ws", ""),
            ("app.old_auth", "app.auth"),
        ),
    ),
)
OPTIONS = LintOptions.create(Settings(options=SSOT), RULES)
WALKER = Walker()
# What lint_guarded may report for a file: it could not be decoded or parsed. Anything else is
# an engine or rule bug (``internal``), never an acceptable outcome.
ALLOWED_KINDS = frozenset({"syntax", "decode"})
PATHS = st.sampled_from(
    [
        "pkg/mod.py",
        "pkg/__init__.py",
        "src/pkg/service.py",
        "tests/test_mod.py",
        "tests/integration/test_flow.py",
        "conftest.py",
        "app/service.py",
    ]
)
TEXT_LINE = re.compile(r"^[^:\n]+:\d+:\d+: (ISO\d{3} |error: )")


def assert_robust(result: FileResult, data: bytes, relpath: str) -> None:
    """The per-file contract: a result for this path; file errors exactly when it cannot parse."""
    assert result.path == relpath
    for error in result.errors:
        assert error.kind in ALLOWED_KINDS, error
        assert error.path == relpath
        assert error.message and "\n" not in error.message
        assert error.line is None or error.line >= 1
    parsed = parse(data, relpath)
    assert bool(result.errors) == isinstance(parsed, FileError), (result.errors, parsed)
    if result.errors:
        assert not result.diagnostics
        return
    enabled = {rule.code for rule in RULES}
    last_line = data.count(b"\n") + data.count(b"\r") + 1
    for diagnostic in result.diagnostics:
        span = diagnostic.span
        assert diagnostic.path == relpath and diagnostic.code in enabled
        assert 1 <= span.line <= span.end_line <= last_line, diagnostic
        assert span.column >= 1 and span.end_column >= 1, diagnostic
        assert (span.line, span.column) <= (span.end_line, span.end_column), diagnostic


def test_every_rule_is_fuzzed() -> None:
    codes = {rule.code for rule in OPTIONS.rules}
    assert {"ISO000", "ISO504"} <= codes
    assert codes == {rule.code for rule in RULES}


# -- generated modules ----------------------------------------------------------------------


@FUZZ
@given(source=hypothesmith.from_grammar(), relpath=PATHS)
def test_grammar_generated_modules_never_crash(source: str, relpath: str) -> None:
    data = source.encode("utf-8", "surrogatepass")
    assert_robust(lint_guarded(data, relpath, OPTIONS, WALKER), data, relpath)


@FUZZ
@given(source=hypothesmith.from_node(), relpath=PATHS)
def test_node_generated_modules_never_crash(source: str, relpath: str) -> None:
    data = source.encode("utf-8")
    result = lint_guarded(data, relpath, OPTIONS, WALKER)
    assert_robust(result, data, relpath)
    fixable = [d for d in result.diagnostics if d.fix is not None]
    outcome = fix_source(relpath, data, fixable)
    if outcome.fixed is not None:
        cst.parse_module(outcome.fixed)


# -- fixes: imports the ISO502/ISO503 fixes rewrite, in every shape, among generated code -----

_NAMES = ("ExecutionEngine", "get_websocket_manager", "RETRIES", "LIMIT", "get_user", "helper")
_FROM_MODULES = (
    "app.legacy",
    "app.engine",
    "app.ws.manager",
    "app.agents.execution_engine",
    "app.old_auth",
    ".legacy",
    ".agents.execution_engine",
    ".old_auth",
    ".",
    "app",
    "app.agents",
)
_MODULE_NAMES = ("execution_engine", "old_auth", "legacy_ws", "legacy", "engine")
_IMPORTS = ("app.old_auth", "app.legacy_ws", "app.agents.execution_engine", "app.engine", "os")


@st.composite
def import_statement(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        module = draw(st.sampled_from(_IMPORTS))
        alias = draw(st.sampled_from(["", " as auth", " as m"]))
        return f"import {module}{alias}"
    source = draw(st.sampled_from(_FROM_MODULES))
    pool = _MODULE_NAMES if source in (".", "app", "app.agents") else _NAMES
    names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    aliased = [name + draw(st.sampled_from(["", "", " as Alias", f" as {name}"])) for name in names]
    if draw(st.booleans()):
        separator = draw(st.sampled_from([", ", ",", ",\n    ", " , ", ",  # note\n    "]))
        opening = draw(st.sampled_from(["", "\n    ", "  # head\n    "]))
        closing = draw(st.sampled_from(["", ",", ",\n", "\n", "  # tail\n"]))
        body = f"({opening}{separator.join(aliased)}{closing})"
    else:
        body = draw(st.sampled_from([", ", ",", ", \\\n    "])).join(aliased)
    statement = f"from {source} import {body}"
    statement = draw(st.sampled_from(["", "import os; "])) + statement
    statement += draw(st.sampled_from(["", "; x = 1", "  # trailing", "  # noqa: ISO502"]))
    return statement


def _indented(text: str, indent: str) -> str:
    return "\n".join(indent + line for line in text.split("\n"))


@st.composite
def placed_statement(draw: st.DrawFn) -> str:
    statement = draw(import_statement())
    place = draw(st.sampled_from(["module", "if", "def", "class", "try", "nested", "tabs"]))
    if place == "module":
        return statement
    if place == "if":
        return "if TYPE_CHECKING:\n" + _indented(statement, "    ")
    if place == "def":
        return "def run(user_context):\n" + _indented(statement, "    ") + "\n    return 1"
    if place == "class":
        return "class Service:\n" + _indented(statement, "  ")
    if place == "try":
        return "try:\n" + _indented(statement, "    ") + "\nexcept ImportError:\n    pass"
    if place == "nested":
        return "def f():\n    if x:\n" + _indented(statement, "        ")
    return "if cond:\n" + _indented(statement, "\t")


@st.composite
def module_with_imports(draw: st.DrawFn) -> str:
    chunks = draw(st.lists(placed_statement(), min_size=1, max_size=5))
    if draw(st.integers(0, 3)) == 0:
        generated = draw(hypothesmith.from_node())
        chunks.insert(draw(st.integers(0, len(chunks))), generated.rstrip("\\\n"))
    return "\n\n".join(chunks) + "\n"


_SSOT_PROJECT = {
    "pyproject.toml": (
        "[tool.isolint]\n[tool.isolint.ssot]\n"
        'canonical = { ExecutionEngine = "app.engine", get_websocket_manager = "app.ws.manager" }\n'
        "[tool.isolint.ssot.deprecated-modules]\n"
        '"app.agents.execution_engine" = "app.agents.user_execution_engine"\n'
        '"app.legacy_ws" = ""\n"app.old_auth" = "app.auth"\n'
    ),
    "app/__init__.py": "",
    "app/engine.py": "class ExecutionEngine:\n    pass\n\n\ndef helper():\n    pass\n",
    "app/ws/__init__.py": "",
    "app/ws/manager.py": "def get_websocket_manager(user_context):\n    return None\n",
    "app/legacy.py": "from app.engine import ExecutionEngine, helper\n\nRETRIES = 3\n",
    "app/agents/__init__.py": "",
    "app/agents/execution_engine.py": "class ExecutionEngine:\n    pass\n\nLIMIT = 1\n",
    "app/agents/user_execution_engine.py": (
        "from app.engine import ExecutionEngine\n\nLIMIT = 2\nRETRIES = 1\n"
    ),
    "app/legacy_ws.py": "MANAGERS = {}\n",
    "app/old_auth.py": "def get_user(token):\n    return token\n",
    "app/auth.py": "def get_user(token):\n    return token\n\n\nhelper = get_user\n",
}


@pytest.fixture(scope="module")
def ssot_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ssot")
    for relpath, text in _SSOT_PROJECT.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    return root


def _bound_names(source: str) -> set[str]:
    tree = ast.parse(source)
    imports = (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return {(a.asname or a.name).split(".")[0] for n in imports for a in n.names}


@FUZZ
@given(
    source=module_with_imports(),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    relpath=st.sampled_from(["app/service.py", "app/agents/worker.py", "app/ws/__init__.py"]),
)
def test_fixes_on_generated_modules_are_valid_code(
    ssot_project: Path, source: str, newline: str, relpath: str
) -> None:
    """ISO502 (per file) and ISO503 (global phase) fixes: valid code, same names imported."""
    source = source.replace("\n", newline)
    try:
        compile(source, relpath, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        assume(False)
    data = source.encode("utf-8")
    target = ssot_project / relpath
    original = target.read_bytes() if target.exists() else None
    target.write_bytes(data)
    try:
        result = run_project(ssot_project, RULES, ["ISO502", "ISO503"])
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_bytes(original)
    assert result.errors == ()
    fixable = [d for d in result.diagnostics if d.path == relpath and d.fix is not None]
    outcome = fix_source(relpath, data, fixable)
    assert outcome.problem is None, outcome.problem
    if outcome.fixed is None:
        return
    fixed = outcome.fixed.decode("utf-8")
    cst.parse_module(fixed)
    compile(fixed, relpath, "exec", dont_inherit=True)
    assert _bound_names(fixed) == _bound_names(source)


def test_the_fix_strategy_reaches_both_fixes(ssot_project: Path) -> None:
    """Guard against a vacuous fuzz: the shapes above do produce ISO502 and ISO503 fixes."""
    source = (
        "from app.legacy import ExecutionEngine, RETRIES\n"
        "from app.agents.execution_engine import LIMIT\n"
    )
    target = ssot_project / "app/service.py"
    target.write_text(source, encoding="utf-8")
    try:
        result = run_project(ssot_project, RULES, ["ISO502", "ISO503"])
    finally:
        target.unlink()
    assert sorted(d.code for d in result.diagnostics if d.fix is not None) == ["ISO502", "ISO503"]


# -- mutants of the fixture projects -------------------------------------------------------

_SPECIAL = (b"\0", b"\xff", b"\r", b"\r\n", b"\n", b"\t", b"\\", b"(", b"]", b":", b"'", b'"""')
_MORE = (b"#", b" ", b"\xef\xbb\xbf", b"\xc3", b"\x0c", b"@", b"\x1a", b"\xe2\x80\xa8", b"\x85")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Delete, duplicate or swap lines; flip, insert or delete bytes (1-4 mutations)."""
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(rng.randint(1, 4)):
        operation = rng.randrange(7)
        if operation == 0 and len(lines) > 1:
            del lines[rng.randrange(len(lines))]
        elif operation == 1:
            index = rng.randrange(len(lines))
            lines.insert(index, lines[index])
        elif operation == 2:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            blob = bytearray(b"".join(lines))
            at = rng.randrange(len(blob) + 1)
            if operation == 3 and blob:
                blob[min(at, len(blob) - 1)] ^= 1 << rng.randrange(8)
            elif operation == 4:
                blob[at:at] = rng.choice(_SPECIAL + _MORE)
            elif operation == 5:
                del blob[at : at + rng.randint(1, 8)]
            else:
                blob[at:at] = bytes([rng.randrange(256)])
            lines = bytes(blob).splitlines(keepends=True) or [b""]
    return b"".join(lines)


def _fixture_files() -> Iterator[Path]:
    for path in sorted(FIXTURES.rglob("*.py")):
        if ".isolint_cache" not in path.parts:
            yield path


FIXTURE_FILES = [p.relative_to(FIXTURES).as_posix() for p in _fixture_files()]


def test_there_are_fixtures_to_mutate() -> None:
    assert len(FIXTURE_FILES) >= 10


@pytest.mark.parametrize("fixture_file", FIXTURE_FILES)
def test_mutated_fixture_files_never_crash(fixture_file: str) -> None:
    data = (FIXTURES / fixture_file).read_bytes()
    relpath = fixture_file.split("/", 1)[1]
    for seed in range(EXAMPLES):
        mutant = mutate(data, random.Random(f"{fixture_file}:{seed}"))
        result = lint_guarded(mutant, relpath, OPTIONS, WALKER)
        try:
            assert_robust(result, mutant, relpath)
            fixable = [d for d in result.diagnostics if d.fix is not None]
            outcome = fix_source(relpath, mutant, fixable)
            if outcome.fixed is not None:
                cst.parse_module(outcome.fixed)
        except Exception as exc:
            raise AssertionError(f"mutant {seed} of {fixture_file}: {mutant!r}") from exc


def test_cli_on_a_tree_of_mutants(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package",
        root,
        ignore=shutil.ignore_patterns(".isolint_cache", "expected.json"),
    )
    sources = sorted(p for p in root.rglob("*.py"))
    rng = random.Random(20240601)
    mutated = rng.sample(sources, 6)
    for path in mutated:
        path.write_bytes(mutate(path.read_bytes(), rng))
    (root / "pkg_nul.py").write_bytes(b"x = 1\n\0\n")
    (root / "pkg_ff.py").write_bytes(b'\xff\xfe = "\r"\n')
    relpaths = {p.relative_to(root).as_posix() for p in [*mutated]} | {"pkg_nul.py", "pkg_ff.py"}

    text = run_isolint("check", "--no-cache", ".", cwd=root)
    assert text.returncode in (0, 1), text.stderr
    assert "Traceback" not in text.stderr
    assert all(TEXT_LINE.match(line) for line in text.stdout.splitlines()), text.stdout

    out = run_isolint("check", "--no-cache", "--jobs", "2", "--format", "json", ".", cwd=root)
    assert out.returncode == text.returncode
    assert "Traceback" not in out.stderr
    doc = json.loads(out.stdout)
    assert {"pkg_nul.py", "pkg_ff.py"} <= {e["path"] for e in doc["errors"]}
    assert {e["path"] for e in doc["errors"]} <= relpaths
    assert not any(e["message"].startswith("internal error") for e in doc["errors"])
    assert len(text.stdout.splitlines()) == len(doc["diagnostics"]) + len(doc["errors"])

    diff = run_isolint("check", "--no-cache", "--diff", ".", cwd=root)
    assert diff.returncode in (0, 1) and "Traceback" not in diff.stderr
