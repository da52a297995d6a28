"""The call graph's memo (isolint.graphmemo): a graph built from reused parts is exactly the
graph a full rebuild gives, after edits that change what other, unedited files resolve to."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from isolint.callgraph import CallGraph, build_graph
from isolint.config import Settings
from isolint.facts import PackedFacts
from isolint.graphmemo import GraphMemo
from isolint.project import ProjectIndex
from isolint.reachability import Reachability
from isolint.runner import LintOptions, lint_many
from isolint.server.incremental import TrackedIndex  # the server's index: its own module map
from tests.conftest import Completed

Run = Callable[..., Completed]

_BASE = {
    "app/__init__.py": "",
    "app/wallets.py": """
        class Wallet:
            def pay(self, amount):
                return amount

            def refund(self):
                pass


        class Connector:
            def close(self):
                pass
    """,
    "app/cards.py": """
        from app.wallets import Wallet


        class Card(Wallet):
            def pay(self, amount):
                return record(amount)


        def record(amount):
            return amount
    """,
    "app/helpers.py": """
        from app.util import *


        def compute(value):
            return normalise(value)
    """,
    "app/util.py": """
        def normalise(value):
            return value
    """,
    "app/main.py": """
        from fastapi import FastAPI
        from app import helpers
        from app.wallets import Connector, Wallet
        from app.helpers import compute

        app = FastAPI()


        @app.get("/pay")
        def pay(wallet: Wallet):
            wallet.pay(compute(1))
            return helpers.compute(2)


        @app.get("/poll")
        def poll(connector: Connector):
            connector.poll()
            load = import_string("app.jobs.run")
            return load


        @app.get("/refund")
        def refund(wallet: Wallet):
            wallet.refund()
    """,
    "app/jobs.py": """
        def run():
            return 1
    """,
}

# Each edit changes files other than the ones whose calls it changes the resolution of.
_EDITS: dict[str, dict[str, str | None]] = {
    "renamed function": {
        "app/helpers.py": """
            def compute_value(value):
                return value
        """,
    },
    "new subclass override": {
        "app/cash.py": """
            from app.wallets import Wallet


            class Cash(Wallet):
                def refund(self):
                    return audit()


            def audit():
                pass
        """,
    },
    "method only a new subclass defines": {
        "app/sockets.py": """
            from app.wallets import Connector


            class Socket(Connector):
                def poll(self):
                    return 1
        """,
    },
    "base class changed": {
        "app/cards.py": """
            class Card:
                def pay(self, amount):
                    return amount
        """,
    },
    "module deleted": {"app/util.py": None},
    "star import's module gains the name": {
        "app/util.py": """
            def normalise(value):
                return value


            def compute(value):
                return value
        """,
        "app/helpers.py": """
            from app.util import *
        """,
    },
    "string-named module moves": {
        "app/jobs.py": None,
        "app/tasks/jobs.py": """
            def run():
                return 2
        """,
        "app/tasks/__init__.py": "",
    },
    "edited body only": {  # its facts change (lines), no file's resolution does
        "app/jobs.py": """
            # jobs


            def run():
                return 3
        """,
    },
}


def _write(root: Path, files: dict[str, str | None]) -> None:
    for relpath, source in files.items():
        path = root / relpath
        if source is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def _facts(root: Path) -> list[PackedFacts]:
    relpaths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    results = lint_many([(r, str(root / r)) for r in relpaths], LintOptions.create(Settings(), ()))
    return [r.facts for r in results if isinstance(r.facts, PackedFacts)]


def _build(
    facts: list[PackedFacts], memo: GraphMemo | None, index: type[ProjectIndex] = ProjectIndex
) -> CallGraph:
    settings = Settings()
    return build_graph(facts, index(facts, settings), settings, memo)


def _same(incremental: CallGraph, full: CallGraph) -> None:
    assert list(incremental.edges.items()) == list(full.edges.items())  # order too
    assert incremental.places == full.places
    assert incremental.roots == full.roots
    assert incremental.class_bodies == full.class_bodies
    assert incremental.test_paths == full.test_paths
    assert incremental.scripts == full.scripts
    mine, theirs = Reachability(incremental), Reachability(full)
    for node in {*full.places, *full.edges, *(t for ts in full.edges.values() for t in ts)}:
        assert mine.classify(node) == theirs.classify(node), node


@pytest.mark.parametrize("index", [ProjectIndex, TrackedIndex], ids=["index", "server"])
@pytest.mark.parametrize("edit", sorted(_EDITS))
def test_incremental_graph_is_the_full_rebuild(
    tmp_path: Path, edit: str, index: type[ProjectIndex]
) -> None:
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    first = _build(_facts(tmp_path), memo, index)
    assert memo.stats == (0, 2 * len(memo))  # everything resolved
    again = GraphMemo.loads(memo.dumps())  # through its stored form, as the CLI keeps it
    _same(_build(_facts(tmp_path), again, index), first)
    assert again.stats == (2 * len(again), 0) and not again.changed  # nothing resolved
    _write(tmp_path, _EDITS[edit])
    facts = _facts(tmp_path)
    incremental = _build(facts, again, index)
    full = _build(facts, None)
    _same(incremental, full)
    assert incremental.edges != first.edges or edit == "edited body only"
    reused, resolved = again.stats
    assert reused > 0 and resolved > 0 and again.changed
    assert GraphMemo.loads(again.dumps()).dumps() == again.dumps()


def test_a_rename_re_resolves_the_unedited_caller(tmp_path: Path) -> None:
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    _build(_facts(tmp_path), memo)
    _write(tmp_path, _EDITS["renamed function"])
    graph = _build(_facts(tmp_path), memo)
    assert "app.helpers.compute" not in graph.edges.get("app.main.pay", ())
    assert "app.helpers.compute" not in graph.places


def test_edges_into_a_new_override_and_a_new_subclass_method(tmp_path: Path) -> None:
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    before = _build(_facts(tmp_path), memo)
    assert "app.main.poll" in before.edges
    assert "app.sockets.Socket.poll" not in before.edges["app.main.poll"]
    _write(
        tmp_path,
        {**_EDITS["new subclass override"], **_EDITS["method only a new subclass defines"]},
    )
    graph = _build(_facts(tmp_path), memo)
    assert "app.cash.Cash.refund" in graph.edges["app.wallets.Wallet.refund"]
    assert "app.sockets.Socket.poll" in graph.edges["app.main.poll"]
    reach = Reachability(graph).classify("app.cash.audit")
    assert reach.path == (
        "app.main.refund",
        "app.wallets.Wallet.refund",
        "app.cash.Cash.refund",
        "app.cash.audit",
    )


def test_a_shifted_line_re_resolves_only_its_own_file(tmp_path: Path) -> None:
    """What other files resolved does not depend on where a module's names are defined."""
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    before = _build(_facts(tmp_path), memo)
    wallets = textwrap.dedent(_BASE["app/wallets.py"])
    _write(tmp_path, {"app/wallets.py": f"# moved down\n\n\n{wallets}"})
    facts = _facts(tmp_path)
    graph = _build(facts, memo)
    assert memo.stats == (2 * len(memo) - 2, 2)  # the file's two parts, nothing that reads it
    _same(graph, _build(facts, None))
    assert (
        graph.places["app.wallets.Wallet.pay"][1] == before.places["app.wallets.Wallet.pay"][1] + 3
    )


def test_each_file_s_share_of_the_graph_is_kept_while_its_facts_and_calls_are(
    tmp_path: Path,
) -> None:
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    _build(_facts(tmp_path), memo)
    before = dict(memo.shares)
    _write(tmp_path, _EDITS["renamed function"])
    facts = _facts(tmp_path)
    _same(_build(facts, memo), _build(facts, None))
    kept = {path for path, share in memo.shares.items() if before.get(path) is share}
    assert kept and kept != set(memo.shares)  # some files' shares made again, others kept
    # another configuration's entry points and startup roots: every share made again
    configured = Settings(entry_points=("app.*",), startup_roots=("@*",))
    index = ProjectIndex(facts, configured)
    again = build_graph(facts, index, configured, memo)
    assert again == build_graph(facts, index, configured, None)
    assert again.roots != _build(facts, None).roots


@pytest.mark.parametrize("edit", ["string-named module moves", "module deleted"])
def test_a_delta_of_the_stored_memo_restores_the_memo(tmp_path: Path, edit: str) -> None:
    _write(tmp_path, _BASE)
    memo = GraphMemo()
    _build(_facts(tmp_path), memo)
    base = memo.dumps()
    assert not memo.compact_due() and memo.dumps_delta().count(b"app/") == 0  # nothing since
    _write(tmp_path, _EDITS[edit])  # files changed, added and gone
    facts = _facts(tmp_path)
    _build(facts, memo)
    delta = memo.dumps_delta()
    assert memo.changed and len(delta) < len(base)
    restored = GraphMemo.loads(base, delta)
    assert restored.dumps_delta() == delta  # still a delta of that base
    assert GraphMemo.loads(base, delta).dumps() == memo.dumps()  # the same parts and answers
    _same(_build(facts, restored), _build(facts, None))
    assert restored.stats[1] == 0 and not restored.changed  # nothing resolved again
    # a delta of another base, or malformed, is left out: its files are resolved again
    other = delta.replace(restored.base.encode(), b"0" * len(restored.base))
    for stale in (other, b"junk", delta[:-1], b'["isolint-call-graph-memo-delta"]'):
        partial = GraphMemo.loads(base, stale)
        assert len(partial) == len(GraphMemo.loads(base))
        _same(_build(facts, partial), _build(facts, None))
        assert partial.stats[1] > 0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'["isolint-call-graph-memo", 1, [], [], [[0, 0, [], []]]]',
        # unresolved calls out of order (a build finds them in order; the graph reads the last)
        b'["isolint-call-graph-memo",3,"x",["a.py","d","m"],[],'
        b'[[0,1,[[],[],[],[]],[[],[[],[]],[[1,0],[2,2]],[]]]]]',
        b'["isolint-call-graph-memo",3,"x",["a.py","d","m"],[],'
        b'[[0,1,[[],[],[],[]],[[],[[],[]],[[-1,0],[2,2]],[]]]]]',
        b'["isolint-call-graph-memo",3,"x",["a.py","d","m"],[],'
        b'[[0,1,[[],[],[],[]],[[],[[],[]],[[0,true],[2,2]],[]]]]]',
        b'["isolint-call-graph-memo",3,"x",["a.py","d","m"],[],'
        b'[[0,1,[[],[],[],[]],[[],[[],[]],[[0,1],[2]],[]]]]]',
        b"[1, 2]",
    ],
)
def test_malformed_memo_is_empty(data: bytes) -> None:
    assert len(GraphMemo.loads(data)) == 0


def test_cli_keeps_the_memo_in_the_cache_and_a_warm_run_reports_the_same(
    isolint: Run, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    _write(root, {**_BASE, "pyproject.toml": "[tool.isolint]\n"})
    cold = isolint("check", "--format", "json", ".", cwd=root)
    memos = list((root / ".isolint_cache").rglob("callgraph"))
    assert len(memos) == 1
    stored = memos[0].read_bytes()
    warm = isolint("check", "--format", "json", ".", cwd=root)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    assert memos[0].read_bytes() == stored  # nothing changed: not rewritten
    _write(root, _EDITS["renamed function"])
    edited = isolint("check", "--format", "json", ".", cwd=root)
    clean = isolint("check", "--no-cache", "--format", "json", ".", cwd=root)
    assert (edited.returncode, edited.stdout) == (clean.returncode, clean.stdout)
    assert memos[0].read_bytes() == stored  # a few files changed: only a delta is written
    assert memos[0].with_name("callgraph-delta").is_file()
    again = isolint("check", "--format", "json", ".", cwd=root)  # from the memo and its delta
    assert (again.returncode, again.stdout) == (clean.returncode, clean.stdout)
