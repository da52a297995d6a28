"""Rule options: declared by the rules, checked by the config loader, shown by ``explain``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

from isolint.config import settings_from_table
from isolint.errors import ConfigError, RuleDefinitionError
from isolint.options import BOOLEAN, STRING_TABLE, STRINGS, Option
from isolint.rule import Rule, rule_options
from isolint.rules import load_rules
from tests.conftest import Completed, run_isolint

RULES = load_rules()
DECLARED = rule_options(RULES)


def _problems(table: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_table(table, "pyproject.toml", DECLARED)
    return str(caught.value)


def test_a_declared_option_is_read_with_its_type_and_default() -> None:
    (factory,) = [o for o in DECLARED if o.name == "factory-patterns"]
    settings = settings_from_table({"factory-patterns": ["new_*"]}, declared=DECLARED)
    assert settings.option(factory) == ("new_*",)
    assert settings_from_table({}, declared=DECLARED).option(factory) == factory.default
    (canonical,) = [o for o in DECLARED if o.name == "ssot.canonical"]
    ssot = settings_from_table({"ssot": {"canonical": {"A": "m"}}}, declared=DECLARED)
    assert ssot.option(canonical) == (("A", "m"),)


def test_wrong_types_and_unknown_keys_are_each_reported_with_file_and_key() -> None:
    message = _problems(
        {
            "factory-patterns": "make_*",
            "request-scoped-nams": ["user"],
            "ssot": {"canonicl": {}, "deprecated-modules": ["x"]},
        }
    )
    assert (
        "pyproject.toml: [tool.isolint] key 'factory-patterns' must be a list of name globs, "
        "got 'make_*'" in message
    )
    assert (
        "pyproject.toml: [tool.isolint] unknown key 'request-scoped-nams' "
        "(did you mean 'request-scoped-names'?)" in message
    )
    assert "[tool.isolint.ssot] unknown key 'canonicl' (did you mean 'canonical'?)" in message
    assert "[tool.isolint.ssot] key 'deprecated-modules' must be a table" in message
    assert "[tool.isolint] key 'ssot' must be a table" in _problems({"ssot": 1})


def test_before_the_rules_are_known_only_engine_keys_are_checked() -> None:
    """``rule-paths`` names rules, so the first reading of the file cannot know their keys."""
    settings = settings_from_table({"acme-anything": 1, "select": ["ISO1"]})
    assert settings.select == ("ISO1",) and settings.options == ()
    with pytest.raises(ConfigError, match="key 'timeout' must be a positive number"):
        settings_from_table({"acme-anything": 1, "timeout": -1})


def _rule_with(*options: Option[Any]) -> type[Rule]:
    class Declares(Rule):
        code: ClassVar[str] = "ACME900"
        name: ClassVar[str] = "declares"
        summary: ClassVar[str] = "Declares options"
        message: ClassVar[str] = "x"

    Declares.options = options
    return Declares


def test_conflicting_or_reserved_declarations_are_rule_errors() -> None:
    other = Option("factory-patterns", STRINGS, ("x_*",), "another default")
    with pytest.raises(RuleDefinitionError, match="'factory-patterns' is declared by ISO402"):
        rule_options([*RULES, _rule_with(other)])
    same = Option("factory-patterns", STRINGS, ("x_*",), "doc")
    assert rule_options([_rule_with(same), _rule_with(same)]) == (same,)
    with pytest.raises(RuleDefinitionError, match="'timeout' is an engine setting"):
        rule_options([_rule_with(Option("timeout", BOOLEAN, False, "doc"))])
    with pytest.raises(RuleDefinitionError, match="must be a kebab-case key"):

        class Bad(Rule):  # checked when the class is defined
            code: ClassVar[str] = "ACME901"
            options: ClassVar[tuple[Option[Any], ...]] = (
                Option("Bad_Name", STRING_TABLE, (), "doc"),
            )


TEAM_RULE = '''
"""ACME201: calls of functions a team bans, named in its own option."""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from isolint.api import STRINGS, Example, Option, Rule, dotted_name

BANNED = Option(
    "acme-banned-calls",
    STRINGS,
    ("eval",),
    "dotted names of the functions this team bans",
    expected="a list of dotted names",
)


class BannedCall(Rule):
    """
    ## What it does
    Finds calls of banned functions.

    ## Why is this bad?
    The team said so.
    """

    code: ClassVar[str] = "ACME201"
    name: ClassVar[str] = "banned-call"
    summary: ClassVar[str] = "Call of a banned function"
    message: ClassVar[str] = "`{call}` is banned here"
    options: ClassVar[tuple[Option[Any], ...]] = (BANNED,)
    bad: ClassVar[tuple[Example | str, ...]] = (
        Example(code="eval('1')\\n", expected_line=1),
        Example(code="import os\\nos.system('x')\\n", config=(("acme-banned-calls", ["os.system"]),)),
    )
    good: ClassVar[tuple[Example | str, ...]] = ("print('1')\\n",)

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted_name(node.func)
        if name is not None and name in self.context.option(BANNED):
            self.report(node, call=name)
'''


def _project(root: Path, config: str) -> Path:
    files = {
        "pyproject.toml": '[tool.isolint]\nrule-paths = ["team_rules"]\n' + config,
        "team_rules/acme201_banned_call.py": TEAM_RULE,
        "app/__init__.py": "",
        "app/a.py": "import os\n\neval('1')\nos.system('ls')\n",
    }
    for relpath, content in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def _run(cwd: Path, *args: str) -> Completed:
    return run_isolint(*args, cwd=cwd)


def test_a_team_rule_declares_reads_and_documents_its_option(tmp_path: Path) -> None:
    default = _run(_project(tmp_path / "a", ""), "check", "--no-cache", "--select", "ACME", "app")
    assert default.returncode == 1, default.stderr
    assert "app/a.py:3:1: ACME201 `eval` is banned here" in default.stdout
    assert "os.system" not in default.stdout
    root = _project(tmp_path / "b", 'acme-banned-calls = ["os.system"]\n')
    configured = _run(root, "check", "--no-cache", "--select", "ACME", "app")
    assert "app/a.py:4:1: ACME201 `os.system` is banned here" in configured.stdout
    assert "eval" not in configured.stdout
    explained = _run(root, "explain", "ACME201")
    assert explained.returncode == 0, explained.stderr
    assert (
        '- `acme-banned-calls` (list of strings, default `["eval"]`): dotted names of the '
        "functions this team bans." in explained.stdout
    )
    shown = _run(root, "check", "--show-settings", "app/a.py")
    assert 'acme-banned-calls = ["os.system"]    # pyproject.toml' in shown.stdout
    assert "factory-patterns = [" in shown.stdout and "# default" in shown.stdout
    tested = _run(root, "test-rule", "team_rules")
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            'acme-baned-calls = ["x"]\n',
            "pyproject.toml: [tool.isolint] unknown key 'acme-baned-calls' "
            "(did you mean 'acme-banned-calls'?)",
        ),
        (
            'acme-banned-calls = "x"\n',
            "pyproject.toml: [tool.isolint] key 'acme-banned-calls' must be a list of dotted "
            "names, got 'x'",
        ),
    ],
)
def test_a_team_rules_option_is_validated_exit_two(
    tmp_path: Path, config: str, expected: str
) -> None:
    out = _run(_project(tmp_path, config), "check", "--no-cache", "app")
    assert out.returncode == 2, out
    assert expected in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
