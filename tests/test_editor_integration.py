"""The editor snippets in the README parse isolint's real output (stdin mode, as editors run it)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, run_isolint

README = (REPO / "README.md").read_text(encoding="utf-8")
TARGET = "tests/integration/test_notifications.py"


def _block(language: str, contains: str) -> str:
    for match in re.finditer(rf"```{language}\n(.*?)```", README, re.S):
        if contains in match.group(1):
            return match.group(1)
    raise AssertionError(f"README has no {language} block containing {contains!r}")


def _lua_to_regex(pattern: str) -> str:
    """The subset of Lua patterns the nvim-lint snippet uses."""
    return pattern.replace("%d", r"\d").replace("%w", r"\w").replace("%.", r"\.")


@pytest.fixture(scope="module")
def outputs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[str], list[tuple[str, int, int, str]]]:
    root = tmp_path_factory.mktemp("editor") / "project"
    shutil.copytree(
        FIXTURES / "multi_package", root, ignore=shutil.ignore_patterns(".isolint_cache")
    )
    source = (root / TARGET).read_text()
    text = run_isolint("check", "--quiet", "--stdin-filename", TARGET, "-", cwd=root, stdin=source)
    data = run_isolint(
        "check",
        "--quiet",
        "--format",
        "json",
        "--stdin-filename",
        TARGET,
        "-",
        cwd=root,
        stdin=source,
    )
    expected = [
        (d["path"], d["line"], d["column"], d["code"])
        for d in json.loads(data.stdout)["diagnostics"]
    ]
    assert expected, "the fixture file must have findings"
    return text.stdout.splitlines(), expected


def _check(
    regex: str,
    outputs: tuple[list[str], list[tuple[str, int, int, str]]],
    groups: tuple[int, int, int, int],
) -> None:
    lines, expected = outputs
    pattern = re.compile(regex)
    parsed = []
    for line in lines:
        match = pattern.match(line)
        assert match, f"{regex!r} does not parse {line!r}"
        f, l, c, code = (match.group(i) for i in groups)
        parsed.append((f, int(l), int(c), code))
    assert parsed == expected


def test_vscode_problem_matcher(outputs: tuple[list[str], list[tuple[str, int, int, str]]]) -> None:
    tasks = json.loads(_block("json", '"problemMatcher"'))
    pattern = tasks["tasks"][0]["problemMatcher"]["pattern"]
    groups = (pattern["file"], pattern["line"], pattern["column"], pattern["code"])
    _check(pattern["regexp"], outputs, groups)


def test_nvim_lint_pattern(outputs: tuple[list[str], list[tuple[str, int, int, str]]]) -> None:
    block = _block("lua", "from_pattern")
    lua = re.search(r'from_pattern\(\s*"([^"]+)"', block)
    assert lua
    _check("^" + _lua_to_regex(lua.group(1)) + "$", outputs, (1, 2, 3, 4))


def test_ale_unix_handler(outputs: tuple[list[str], list[tuple[str, int, int, str]]]) -> None:
    assert "ale#handlers#unix#HandleAsWarning" in _block("vim", "ale#linter#Define")
    # ALE's unix handler pattern (ale/autoload/ale/handlers/unix.vim), in Python syntax:
    unix = re.compile(r"^[a-zA-Z]?:?[^:]+:(\d+):?(\d+)?:? ?(.+)$")
    lines, expected = outputs
    for line, (_, number, column, code) in zip(lines, expected):
        match = unix.match(line)
        assert match and int(match.group(1)) == number and int(match.group(2)) == column
        assert match.group(3).startswith(code)


def test_flycheck_error_pattern(outputs: tuple[list[str], list[tuple[str, int, int, str]]]) -> None:
    block = _block("elisp", "flycheck-define-checker")
    rx = '(error line-start (file-name) ":" line ":" column ": " (id "ISO" (= 3 digit)) " " (message) line-end)'
    assert rx in block
    # The rx form above, translated to a Python regex.
    _check(r"^(.+?):(\d+):(\d+): (ISO\d{3}) (.*)$", outputs, (1, 2, 3, 4))


def test_stdin_fix_writes_source_to_stdout(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.isolint]\n")
    source = "def handler(user_id):\n    return user_id\n"
    out = run_isolint("check", "--fix", "--stdin-filename", "app/x.py", "-", cwd=root, stdin=source)
    assert out.returncode == 0
    assert out.stdout == source
