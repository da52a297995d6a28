"""The server's incremental global phase gives the open documents exactly what a full run gives
them, after every step of a sequence of unsaved edits (engine level, in process)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest

from isolint.check import finish, global_phase, lint_files
from isolint.cli import load_rules
from isolint.diagnostics import Candidate, Diagnostic, FileError
from isolint.facts import PackedFacts
from isolint.graphmemo import GraphMemo
from isolint.project import ProjectIndex
from isolint.rule import ProjectFinding, Rule
from isolint.server.engine import Buffer, Engine, Project
from isolint.server.incremental import TrackedIndex
from isolint.session import Options, prepare
from tests.conftest import FIXTURES

A = """\
class Notifier:
    def __init__(self, emitter):
        self.emitter = emitter


def create_notifier(emitter):
    return Notifier(emitter)


REGISTRY = {}


class Cache:
    items = []

    def add(self, item):
        self.items.append(item)


class Borg:
    _shared = {}

    def __init__(self):
        self.__dict__ = self._shared
"""
B = """\
from app.a import REGISTRY, Borg, Cache, create_notifier

CACHE = Cache()


class Settings(Borg):
    pass


def build(sender):
    return create_notifier(emitter=sender)


def remember(request):
    REGISTRY[request.id] = request
    CACHE.add(request)
    return build(request.user)
"""
VIEWS = """\
from fastapi import FastAPI

from app.b import remember

app = FastAPI()


@app.get("/")
def index(request):
    return remember(request)
"""
C = """\
from app.a import Cache, create_notifier

SHARED = Cache()


def make():
    return create_notifier(sink=None)
"""

Shown = tuple[dict[str, tuple[Diagnostic, ...]], dict[str, tuple[FileError, ...]]]


def full_run(project: Project) -> Shown:
    """What ``global_phase`` + ``finish`` over the whole project give the open documents."""
    merged = dict(project.disk)
    merged.update({relpath: overlay.result for relpath, overlay in project.overlays.items()})
    results = [merged[relpath] for relpath in sorted(merged)]
    diagnostics, warnings, reachability, failures = global_phase(
        results,
        project.request,
        memo=GraphMemo(),  # from scratch, not the cache's memo
    )
    outcome = finish(results, project.request, diagnostics, warnings, reachability, failures)
    return (
        {p: tuple(d for d in outcome.diagnostics if d.path == p) for p in project.overlays},
        {p: tuple(e for e in outcome.errors if e.path == p) for p in project.overlays},
    )


def codes(shown: Shown, relpath: str) -> list[str]:
    return sorted(d.code for d in shown[0][relpath])


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Project:
    root = make_project(
        {"app/__init__.py": "", "app/a.py": A, "app/b.py": B, "app/views.py": VIEWS}
    )
    return Project.load(root, root / "pyproject.toml", load_rules())


def step(project: Project, buffers: dict[str, str]) -> Shown:
    project.set_buffers({relpath: text.encode() for relpath, text in buffers.items()})
    got = project.run()
    assert got == full_run(project), f"incremental != full run with {sorted(buffers)} open"
    return got


def test_incremental_equals_full_run_after_each_edit(project: Project) -> None:
    renamed = A.replace("emitter", "sink")
    shown = step(project, {"app/a.py": A, "app/b.py": B})
    assert codes(shown, "app/a.py") == ["ISO104", "ISO201", "ISO203"]  # ISO106 folded into ISO203
    assert codes(shown, "app/b.py") == ["ISO104"]
    total = project.phase.decided

    shown = step(project, {"app/a.py": renamed, "app/b.py": B})  # B calls A's factory
    assert codes(shown, "app/b.py") == ["ISO104", "ISO404"]
    assert 0 < project.phase.decided < total  # only what the edit can change was decided again

    shown = step(project, {"app/a.py": A, "app/b.py": B})  # undo
    assert codes(shown, "app/b.py") == ["ISO104"]
    graphs = project.phase.graphs_built

    step(
        project, {"app/a.py": A.replace("_shared = {}", "_shared = {}  # one dict"), "app/b.py": B}
    )
    assert project.phase.graphs_built == graphs  # no fact changed: the call graph is kept
    assert project.phase.decided < total
    step(project, {"app/a.py": A.replace("(self, item)", "(self, entry)"), "app/b.py": B})
    assert project.phase.graphs_built == graphs + 1

    step(project, {"app/a.py": A.replace("class Borg:", "class Borg(:"), "app/b.py": B})
    step(project, {"app/a.py": A, "app/b.py": B.replace("    CACHE.add(request)\n", "")})
    shown = step(project, {"app/a.py": A.replace("    items = []\n", ""), "app/b.py": B})
    assert "ISO203" not in codes(shown, "app/a.py")
    step(project, {"app/a.py": A, "app/b.py": B, "app/views.py": VIEWS.replace("@app", "# @")})
    step(project, {"app/b.py": B})  # a.py closed: its disk content is back
    step(project, {"app/b.py": B, "app/c.py": C})  # a new file (not on disk) joins the project
    step(project, {"app/b.py": B, "app/c.py": C, "app/a.py": renamed})
    step(project, {"app/b.py": B.replace("Cache()", "Cache(1)")})


def test_every_index_method_reading_all_modules_is_tracked() -> None:
    """A ProjectIndex method that reads ``_packed`` directly (bypassing the module mapping the
    server records) must be overridden by TrackedIndex, or edits would reuse stale decisions."""
    direct = [
        name
        for name, member in vars(ProjectIndex).items()
        if callable(member) and name != "__init__" and "self._packed" in inspect.getsource(member)
    ]
    assert direct  # the header views
    assert [name for name in direct if name not in vars(TrackedIndex)] == []


@dataclass(frozen=True)
class _Defined:
    name: str


class FailsOnBad(Rule):
    """Decides each function on its own, and raises on one named ``bad``: a full run then loses
    all of this rule's findings, so the server must not keep the ones it decided earlier."""

    code = "ISO297"
    name = "fails-on-bad"
    summary = "Test rule"
    message = "test finding"
    payload = _Defined
    independent_candidates = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.add_candidate(node, _Defined(node.name.value))

    @classmethod
    def check_project(
        cls, candidates: Iterable[Candidate], index: ProjectIndex
    ) -> Iterable[ProjectFinding]:
        for candidate in candidates:
            if candidate.payload_as(_Defined).name == "bad":
                raise KeyError("boom")
            yield ProjectFinding(candidate, "decided")


def test_a_rule_failing_on_another_file_drops_its_findings_as_a_full_run_does(
    make_project: Callable[..., Path],
) -> None:
    root = make_project({"a.py": "def good():\n    pass\n", "b.py": "def bad():\n    pass\n"})
    project = Project.load(root, root / "pyproject.toml", (*load_rules(), FailsOnBad))
    fine = "def fine():\n    pass\n"
    assert codes(step(project, {"a.py": "def good():\n    pass\n"}), "a.py") == []
    assert codes(step(project, {"a.py": "def good():\n    pass\n", "b.py": fine}), "a.py") == [
        "ISO297"
    ]
    assert (
        codes(step(project, {"a.py": "def good():\n    pass\n", "b.py": "def bad(): ..."}), "a.py")
        == []
    )


def test_buffers_linted_during_the_quiet_interval_are_reported_by_the_next_update(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        {"app/__init__.py": "", "app/a.py": A, "app/b.py": B, "app/views.py": VIEWS}
    )
    a, b = root / "app" / "a.py", root / "app" / "b.py"
    engine = Engine([root], load_rules())
    engine.prelint([Buffer(a, A), Buffer(b, B)])  # no project loaded yet: loads nothing
    first = {
        r.path.name: sorted(d.code for d in r.diagnostics)
        for r in engine.update([Buffer(a, A), Buffer(b, B)])
    }
    assert first["b.py"] == ["ISO104"]
    renamed = A.replace("emitter", "sink")
    engine.prelint([Buffer(a, renamed, 2), Buffer(b, B)])
    reports = engine.update([Buffer(a, renamed, 2), Buffer(b, B)])
    assert {r.path.name: sorted(d.code for d in r.diagnostics) for r in reports}["b.py"] == [
        "ISO104",
        "ISO404",
    ]
    assert {r.path.name: r.version for r in reports}["a.py"] == 2


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_rules_that_decide_candidates_one_at_a_time_really_do(fixture: str) -> None:
    """``independent_candidates``: deciding each candidate alone gives what deciding them
    all at once gives (the server relies on it), on every fixture project."""
    root = FIXTURES / fixture
    request = prepare(Options(paths=(root,), root=root, use_cache=False), load_rules()).request
    results = lint_files(request)
    index = ProjectIndex(
        [r.facts for r in results if isinstance(r.facts, PackedFacts)], request.settings
    )
    checked = 0
    for rule in request.rules:
        if not rule.independent_candidates:
            continue
        candidates = [c for r in results for c in r.candidates if c.code == rule.code]
        together = list(rule.check_project(candidates, index))
        alone = [f for c in candidates for f in rule.check_project([c], index)]
        assert together == alone, rule.code
        checked += len(candidates)
    assert checked


def test_the_first_call_graph_reuses_what_isolint_check_cached(
    make_project: Callable[..., Path], isolint: Callable[..., object]
) -> None:
    root = make_project(
        {"app/__init__.py": "", "app/a.py": A, "app/b.py": B, "app/views.py": VIEWS}
    )
    isolint("check", "--exit-zero", ".", cwd=root)
    project = Project.load(root, root / "pyproject.toml", load_rules())
    step(project, {"app/b.py": B})
    reused, resolved = project.phase.graph_stats
    assert reused > 0 and resolved == 0  # every file's resolution from the cached memo
    step(project, {"app/b.py": B.replace("sender", "user")})
    assert project.phase.graph_stats[1] >= 1  # the edited file is resolved again


def test_decision_reads_the_modules_a_remembered_resolution_read(
    make_project: Callable[..., Path],
) -> None:
    """The second call's decision resolves ``create_notifier`` from the index's memo (the call
    graph and the first call worked it out): it still depends on the re-exporting module."""
    impl = "class N:\n    def __init__(self, emitter):\n        self.emitter = emitter\n\n\n"
    impl += "def create_notifier(emitter):\n    return N(emitter)\n"
    api = "from app.impl import create_notifier\n"
    user = "from app.api import create_notifier\n\n\ndef build(sender):\n"
    user += "    return create_notifier(sink=sender)\n\n\ndef other(sender):\n"
    user += "    return create_notifier(sink=sender)\n"
    root = make_project(
        {"app/__init__.py": "", "app/impl.py": impl, "app/api.py": api, "app/b.py": user}
    )
    project = Project.load(root, root / "pyproject.toml", load_rules())
    assert codes(step(project, {"app/api.py": api, "app/b.py": user}), "app/b.py") == [
        "ISO404",
        "ISO404",
    ]
    redefined = "def create_notifier(sink):\n    return None\n"
    assert codes(step(project, {"app/api.py": redefined, "app/b.py": user}), "app/b.py") == []
