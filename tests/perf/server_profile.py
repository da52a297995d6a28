"""Where the CPU time of one ``isolint server`` edit goes, measured in process (no LSP, no timers).

Not part of the test suite. Usage::

    python tests/perf/server_profile.py [--files 2000] [--edits 8] [--profile]

Generates the project of ``server_latency.py``, warms its cache with ``isolint check``, opens the
500-line file in an ``Engine`` and renames its factory's parameter ``--edits`` times, as the
server does after the debounce (``Engine.update``). Prints the CPU time (``time.process_time``,
which a loaded machine does not inflate) per edit of each part: linting the buffer, the project
index, the call graph, reachability, the project rules and the final filters. ``--profile`` also
prints the cProfile functions by cumulative time. Downloads nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server_latency  # noqa: E402

from isolint.cli import load_rules  # noqa: E402
from isolint.server import engine, incremental  # noqa: E402

PARTS = (
    (engine.Project, "set_buffers", "lint the buffer"),
    (incremental, "TrackedIndex", "project index"),
    (incremental, "build_graph", "call graph"),
    (incremental, "Reachability", "reachability"),
    (incremental.IncrementalPhase, "_findings", "project rules"),
    (incremental, "finish", "filters (finish)"),
)


def _timed(spent: Counter[str], label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    spent: Counter[str] = Counter()
    for owner, name, label in PARTS:
        setattr(owner, name, _timed(spent, label, getattr(owner, name)))
    root = Path(tempfile.mkdtemp(prefix="isolint-server-profile-"))
    try:
        big = server_latency.generate(root, args.files).resolve()
        subprocess.run(
            [str(Path(sys.executable).parent / "isolint"), "check", "--quiet", "."],
            cwd=root,
            check=False,
            capture_output=True,
        )
        server = engine.Engine([root], load_rules())
        server.update([engine.Buffer(big, server_latency._big_module("emitter"), 1)])
        spent.clear()
        profile = cProfile.Profile()
        total = 0.0
        for version in range(2, args.edits + 2):
            text = server_latency._big_module("sender" if version % 2 == 0 else "emitter")
            started = time.process_time()
            if args.profile:
                profile.enable()
            server.update([engine.Buffer(big, text, version)])
            if args.profile:
                profile.disable()
            total += time.process_time() - started
        print(f"{args.files} files, {args.edits} edits: CPU time per edit")
        for _, _, label in PARTS:
            print(f"  {label:18} {1000 * spent[label] / args.edits:6.1f} ms")
        print(f"  {'total':18} {1000 * total / args.edits:6.1f} ms")
        if args.profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
