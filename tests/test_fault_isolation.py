"""Fault injection: a rule that raises anywhere (or a worker that dies) costs only its own results.

The broken rules below are injected through the in-process API (``CheckRequest.rules``); they are
module-level classes so that the forked workers unpickle them by name.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from isolint import cli
from isolint.cache import Cache
from isolint.check import CheckRequest, run_check
from isolint.config import load_config
from isolint.diagnostics import Candidate, RunResult
from isolint.discovery import discover
from isolint.faults import PROJECT_PATH
from isolint.project import ProjectIndex
from isolint.rule import ProjectFinding, Rule, payload_classes
from isolint.selection import select_rules
from isolint.rules import load_rules

RULES = load_rules()
DEFAULT = select_rules(RULES, None, (), ())

SERVICE = """
CACHE = {}


def remember(user_id, value):
    CACHE[user_id] = value


def handler(items=[]):
    return len(items)
"""
OTHER = """
def collect(seen=set()):
    return seen
"""


class _TestRule(Rule):
    name = "test-rule"
    summary = "Test rule"
    message = "test finding"


class CrashInVisitor(_TestRule):
    """Reports the module, then raises on the first call it sees."""

    code = "ISO291"

    def visit_Module(self, node: cst.Module) -> None:
        self.report(node)

    def visit_Call(self, node: cst.Call) -> None:
        raise ValueError("boom in a visitor")


class CrashInInit(_TestRule):
    code = "ISO292"

    def __init__(self, context: object) -> None:
        raise RuntimeError("boom in __init__")


@dataclass(frozen=True)
class _Function:
    name: str


class CrashInCheckProject(_TestRule):
    code = "ISO293"
    payload = _Function

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.add_candidate(node, _Function(node.name.value))

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            yield ProjectFinding(candidate, "decided")
            raise KeyError("boom in check_project")


class CrashInCheckConfiguration(_TestRule):
    code = "ISO294"

    @classmethod
    def check_configuration(cls, index: ProjectIndex) -> Iterable[str]:
        yield "a first warning"
        raise LookupError("boom in check_configuration")


class ReportsForeignNode(_TestRule):
    """Reports a node that is not in the linted tree: positions cannot place it."""

    code = "ISO295"

    def visit_Module(self, node: cst.Module) -> None:
        self.report(cst.Name("nowhere"))


class ExitsAbruptly(_TestRule):
    """Ends its worker process without a word on one file."""

    code = "ISO296"

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.path.endswith("exit_here.py"):
            os._exit(3)


def _project(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text("[tool.isolint]\n", encoding="utf-8")
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    return root


def _run(root: Path, extra: tuple[type[Rule], ...] = (), cache: Cache | None = None) -> RunResult:
    loaded = load_config(None, root)
    files = discover([root], loaded.root, loaded.settings.extend_exclude)
    request = CheckRequest(
        loaded.root, loaded.settings, (*DEFAULT, *extra), tuple(files), jobs=1, cache=cache
    )
    return run_check(request)


def _findings(result: RunResult) -> list[tuple[str, int, str, str]]:
    return [(d.path, d.span.line, d.code, d.message) for d in result.diagnostics]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path, {"app/service.py": SERVICE, "app/other.py": OTHER})


@pytest.fixture
def healthy(project: Path) -> RunResult:
    result = _run(project)
    assert result.errors == () and {d.code for d in result.diagnostics} >= {"ISO201", "ISO204"}
    return result


def test_a_rule_raising_in_a_visitor_loses_only_its_own_results(
    project: Path, healthy: RunResult
) -> None:
    result = _run(project, (CrashInVisitor,))
    # it reported on every module before raising: those reports are dropped, on both files
    assert _findings(result) == _findings(healthy)
    assert [(e.path, e.kind, e.rule) for e in result.errors] == [
        ("app/other.py", "internal", "ISO291"),
        ("app/service.py", "internal", "ISO291"),
    ]
    error = result.errors[0]
    assert error.message == "internal error in ISO291: ValueError: boom in a visitor"
    assert "Traceback" in error.detail and "visit_Call" in error.detail


def test_a_rule_raising_in_init_loses_only_its_own_results(
    project: Path, healthy: RunResult
) -> None:
    result = _run(project, (CrashInInit,))
    assert _findings(result) == _findings(healthy)
    assert (
        sorted(e.message for e in result.errors)
        == ["internal error in ISO292: RuntimeError: boom in __init__"] * 2
    )


def test_a_rule_reporting_a_node_outside_the_tree_loses_only_its_own_results(
    project: Path, healthy: RunResult
) -> None:
    result = _run(project, (ReportsForeignNode,))
    assert _findings(result) == _findings(healthy)
    assert {(e.rule, e.kind) for e in result.errors} == {("ISO295", "internal")}
    assert all(e.message.startswith("internal error in ISO295: ") for e in result.errors)


def test_a_rule_raising_in_check_project_is_one_error_and_the_run_goes_on(
    project: Path, healthy: RunResult
) -> None:
    result = _run(project, (CrashInCheckProject,))
    # the finding it yielded before raising is not reported either
    assert _findings(result) == _findings(healthy)
    assert [(e.path, e.message) for e in result.errors] == [
        (
            PROJECT_PATH,
            "internal error in ISO293 (check_project): KeyError: 'boom in check_project'",
        )
    ]
    assert "check_project" in result.errors[0].detail


def test_a_rule_raising_in_check_configuration_is_one_error_and_the_run_goes_on(
    project: Path, healthy: RunResult
) -> None:
    result = _run(project, (CrashInCheckConfiguration,))
    assert _findings(result) == _findings(healthy)
    assert "a first warning" not in result.warnings
    assert [(e.path, e.rule, e.message) for e in result.errors] == [
        (
            PROJECT_PATH,
            "ISO294",
            "internal error in ISO294 (check_configuration): LookupError: boom in "
            + "check_configuration",
        )
    ]


def test_every_kind_of_failure_at_once(project: Path, healthy: RunResult) -> None:
    broken = (CrashInVisitor, CrashInInit, CrashInCheckProject, CrashInCheckConfiguration)
    result = _run(project, broken)
    assert _findings(result) == _findings(healthy)
    assert sorted({e.rule for e in result.errors}) == ["ISO291", "ISO292", "ISO293", "ISO294"]


def test_a_worker_that_exits_abruptly_costs_its_file_only(tmp_path: Path) -> None:
    files = {"app/service.py": SERVICE, "app/exit_here.py": SERVICE, "app/other.py": OTHER}
    root = _project(tmp_path, files)
    baseline = _run(root)
    result = _run(root, (ExitsAbruptly,))
    assert [(e.path, e.kind) for e in result.errors] == [("app/exit_here.py", "crash")]
    expected = [f for f in _findings(baseline) if f[0] != "app/exit_here.py"]
    assert [f for f in _findings(result) if f[0] != "app/exit_here.py"] == expected
    assert result.files == 3


def test_a_rule_failure_is_not_cached(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("cache")
    cache = Cache.open(directory, "test", payload_classes(RULES))  # so only the failure stops it
    first = _run(project, (CrashInVisitor,), cache)
    second = _run(project, (CrashInVisitor,), cache)
    assert [e.detail != "" for e in second.errors] == [True, True]
    assert _findings(first) == _findings(second)
    packs = list((directory / cache.namespace).rglob("*.pack"))  # where entries are written
    assert packs == []


def test_debug_prints_the_traceback_of_a_rule_failure(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "load_rules", lambda: (*RULES, CrashInVisitor))
    monkeypatch.chdir(project)
    args = ["check", "--no-cache", "--extend-select", "ISO291", "app/service.py"]
    plain = CliRunner().invoke(cli.main, args)
    assert plain.exit_code == 1, plain.output
    assert "app/service.py:1:1: error: internal error in ISO291: ValueError: boom" in plain.stdout
    assert "Traceback" not in plain.stderr
    debug = CliRunner().invoke(cli.main, [*args, "--debug"])
    assert debug.exit_code == 1
    assert "isolint: debug: app/service.py: internal error in ISO291" in debug.stderr
    assert "Traceback (most recent call last)" in debug.stderr and "visit_Call" in debug.stderr
    assert "ISO204" in debug.stdout  # the other rules' findings are reported as usual
