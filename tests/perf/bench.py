"""Benchmark isolint against the LibCST parse floor, all figures measured in the same run.

Not part of the test suite. Usage::

    python tests/perf/bench.py [TREE] [--runs 3] [--jobs 2] [--scaling]

TREE defaults to the running Python's standard library. The tree is copied to a temporary
directory first (so caches and edits never touch it). Printed, each the median of ``--runs``:
the LibCST floor (read + ``parse_module`` of every file, same job count), isolint cold (empty
cache), isolint warm (nothing changed), isolint on 5 changed files of the tree with a warm cache,
the same 5 files copied into an otherwise empty project, their ratios, optionally Fixit and ruff
when installed, and with ``--scaling`` cold time per file and parent peak memory on 1x/2x/4x
copies of the tree. Downloads nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PARENT_RSS = (
    "import resource, sys\n"
    "from linter.cli import main\n"
    "sys.argv = ['isolint', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _parse_chunk(paths: Sequence[str]) -> int:
    import libcst

    parsed = 0
    for path in paths:
        try:
            libcst.parse_module(Path(path).read_bytes())
            parsed += 1
        except Exception:  # noqa: BLE001 - the floor counts what LibCST can parse
            pass
    return parsed


def libcst_floor(files: Sequence[Path], jobs: int) -> float:
    paths = [str(p) for p in files]
    start = time.perf_counter()
    if jobs <= 1:
        _parse_chunk(paths)
    else:
        size = max(1, len(paths) // (jobs * 8))
        chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            pool.map(_parse_chunk, chunks)
    return time.perf_counter() - start


def run(command: Sequence[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed, proc.stderr


def median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def isolint(*args: str) -> list[str]:
    return [_isolint_exe(), *args]


def _isolint_exe() -> str:
    beside = Path(sys.executable).parent / "isolint"
    return str(beside) if beside.exists() else "isolint"


def copy_tree(source: Path, target: Path) -> list[Path]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in ("__pycache__", "site-packages", ".git")}

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    (target / "pyproject.toml").write_text("[tool.isolint]\n")
    return sorted(p for p in target.rglob("*.py") if p.is_file() and not p.is_symlink())


def touch(files: Sequence[Path], round_: int) -> None:
    for path in files:
        with path.open("ab") as handle:
            handle.write(f"\n# bench edit {round_}\n".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scaling", action="store_true", help="also measure 1x/2x/4x copies")
    args = parser.parse_args()
    jobs = str(args.jobs)
    with tempfile.TemporaryDirectory(prefix="isolint-bench-") as tmp:
        root = Path(tmp) / "tree"
        files = copy_tree(Path(args.tree), root)
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        print(
            f"tree: {args.tree} ({len(files)} files, {lines:,} lines), jobs={jobs}, runs={args.runs}"
        )

        floor = median(args.runs, lambda: libcst_floor(files, args.jobs))

        def cold() -> float:
            shutil.rmtree(root / ".isolint_cache", ignore_errors=True)
            return run(isolint("check", "-q", "--jobs", jobs, "."), root)[0]

        cold_time = median(args.runs, cold)
        warm_time = median(
            args.runs, lambda: run(isolint("check", "-q", "--jobs", jobs, "."), root)[0]
        )

        five = files[:: max(1, len(files) // 5)][:5]
        rel5 = [str(p.relative_to(root)) for p in five]
        rounds = iter(range(1000))

        def five_in_tree() -> float:
            touch(five, next(rounds))
            return run(isolint("check", "-q", "--jobs", jobs, *rel5), root)[0]

        five_time = median(args.runs, five_in_tree)
        alone = Path(tmp) / "alone"
        for path, rel in zip(five, rel5):
            (alone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, alone / rel)
        (alone / "pyproject.toml").write_text("[tool.isolint]\n")
        alone_time = median(
            args.runs,
            lambda: run(isolint("check", "-q", "--no-cache", "--jobs", jobs, *rel5), alone)[0],
        )

        rows = [
            ("LibCST floor (read + parse)", floor, 1.0),
            ("isolint cold (empty cache)", cold_time, cold_time / floor),
            ("isolint warm (no change)", warm_time, warm_time / floor),
            ("isolint 5 changed files, warm", five_time, five_time / floor),
            ("isolint same 5 files, alone", alone_time, alone_time / floor),
        ]
        for name, command in (
            ("fixit", ["fixit", "lint", "."]),
            ("ruff", ["ruff", "check", "--no-cache", "--exit-zero", "-q", "."]),
        ):
            if shutil.which(command[0]):
                measured = median(args.runs, lambda: run(command, root)[0])
                rows.append((f"{name} (for comparison)", measured, measured / floor))
        print(f"{'':34}{'seconds':>10}{'x floor':>10}")
        for name, seconds, ratio in rows:
            print(f"{name:34}{seconds:10.2f}{ratio:10.2f}")
        print(
            f"warm / cold: {warm_time / cold_time:.3f}   5 files in tree / alone: {five_time / alone_time:.2f}"
        )

        if args.scaling:
            scaling(Path(args.tree), Path(tmp), args.runs, jobs)


def scaling(tree: Path, tmp: Path, runs: int, jobs: str) -> None:
    print("\nscaling (cold, empty cache):")
    print(f"{'copies':>7}{'files':>8}{'seconds':>10}{'ms/file':>10}{'parent MB':>11}")
    for copies in (1, 2, 4):
        root = tmp / f"scale{copies}"
        count = 0
        for index in range(copies):
            count += len(copy_tree(tree, root / f"copy{index}"))
        (root / "pyproject.toml").write_text("[tool.isolint]\n")

        def cold_rss() -> tuple[float, int]:
            shutil.rmtree(root / ".isolint_cache", ignore_errors=True)
            elapsed, stderr = run(
                [sys.executable, "-c", _PARENT_RSS, "check", "-q", "--jobs", jobs, "."], root
            )
            rss = int(
                next(line.split()[1] for line in stderr.splitlines() if line.startswith("MAXRSS"))
            )
            return elapsed, rss

        measured = [cold_rss() for _ in range(runs)]
        seconds = statistics.median(m[0] for m in measured)
        rss = statistics.median(m[1] for m in measured)
        print(
            f"{copies:>7}{count:>8}{seconds:10.2f}{1000 * seconds / count:10.2f}{rss / 1024:11.1f}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
