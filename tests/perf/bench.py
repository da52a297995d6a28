"""Benchmark isolint against the LibCST parse floor, all figures measured in the same run.

Not part of the test suite. Usage::

    python tests/perf/bench.py [TREE ...] [--runs 3] [--jobs 2] [--scaling]

Each TREE is a directory, optionally suffixed ``:app`` (without directories named ``tests`` or
``test``) or ``:tests`` (only the files under such directories, with their packages'
``__init__.py``). Without TREE: the real projects unpacked under ``--audit-root`` (default
``/work/audit``) that exist -- saleor's ``saleor/`` package without its tests (an application
tree), saleor's test directories (a test-heavy tree) and onyx's ``backend/`` without its tests
(another application tree) -- else the running Python's standard library.

Each tree is copied to a temporary directory first (so caches and edits never touch it).
Printed per tree, each the median of ``--runs``: the LibCST floor (read + ``parse_module`` of
every file, same job count), isolint cold (empty cache), isolint warm (nothing changed), isolint
on 5 changed files of the tree with a warm cache, the same 5 files copied into an otherwise empty
project, their ratios, optionally Fixit and ruff when installed, and with ``--scaling`` cold time
per file and parent peak memory on 1x/2x/4x copies of the tree. isolint runs from compiled
bytecode, as a wheel installs it. The floor and the cold run
alternate (floor, cold, floor, cold, ...) so both see the same machine load; ``cold / floor`` is
the median of the per-round ratios, in wall time and in CPU time of all processes (the CPU
ratio hardly moves with the machine's load, the wall ratio does). A summary table of every
tree ends the output. Downloads nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_PARENT_RSS = (
    "import resource, sys\n"
    "from isolint.cli import main\n"
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


def cpu_seconds() -> float:
    """CPU time of this process and of every child process waited for (their workers too)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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


_SKIPPED = ("__pycache__", "site-packages", ".git", "node_modules")
_TEST_DIRS = ("tests", "test")


@dataclass(frozen=True)
class Tree:
    """A directory to benchmark and which of its files: all, ``app`` or ``tests``."""

    path: Path
    part: str = "all"

    @classmethod
    def parse(cls, spec: str) -> Tree:
        path, _, part = spec.rpartition(":")
        if part in ("app", "tests") and path:
            return cls(Path(path), part)
        return cls(Path(spec))

    @property
    def label(self) -> str:
        return str(self.path) if self.part == "all" else f"{self.path}:{self.part}"

    def selected(self, relpath: Path) -> bool:
        in_tests = any(part in _TEST_DIRS for part in relpath.parts[:-1])
        return self.part == "all" or in_tests == (self.part == "tests")


def default_trees(audit_root: Path) -> list[Tree]:
    wanted = [
        Tree(audit_root / "saleor" / "saleor", "app"),
        Tree(audit_root / "saleor" / "saleor", "tests"),
        Tree(audit_root / "onyx" / "backend", "app"),
    ]
    found = [tree for tree in wanted if tree.path.is_dir()]
    return found or [Tree(Path(sysconfig.get_paths()["stdlib"]))]


def copy_tree(source: Tree | Path, target: Path) -> list[Path]:
    tree = source if isinstance(source, Tree) else Tree(source)
    for path in sorted(tree.path.rglob("*.py")):
        relpath = path.relative_to(tree.path)
        if any(part in _SKIPPED for part in relpath.parts) or path.is_symlink():
            continue
        if not path.is_file() or not tree.selected(relpath):
            continue
        # a test file's packages keep their ``__init__.py`` (same module names as in the tree)
        for parent in relpath.parents:
            init = tree.path / parent / "__init__.py"
            if parent != Path(".") and init.is_file() and not (target / parent).exists():
                (target / parent).mkdir(parents=True, exist_ok=True)
                shutil.copy(init, target / parent / "__init__.py")
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / relpath)
    (target / "pyproject.toml").write_text("[tool.isolint]\n")
    return sorted(p for p in target.rglob("*.py") if p.is_file())


def touch(files: Sequence[Path], round_: int) -> None:
    for path in files:
        with path.open("ab") as handle:
            handle.write(f"\n# bench edit {round_}\n".encode())


@dataclass(frozen=True)
class Figures:
    """One tree's medians, in seconds, and the median per-round cold/floor ratio."""

    label: str
    files: int
    floor: float
    cold: float
    cold_ratio: float
    cold_cpu_ratio: float
    warm: float
    five: float
    alone: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", metavar="TREE", help="DIR, DIR:app or DIR:tests")
    parser.add_argument("--audit-root", type=Path, default=Path("/work/audit"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scaling", action="store_true", help="also measure 1x/2x/4x copies")
    args = parser.parse_args()
    trees = [Tree.parse(spec) for spec in args.trees] or default_trees(args.audit_root)
    with tempfile.TemporaryDirectory(prefix="isolint-bench-pyc-") as pycache:
        from_bytecode(Path(pycache))
        bench(trees, args)


def from_bytecode(pycache: Path) -> None:
    """Run isolint from compiled bytecode, as installed from a wheel (pip compiles it): an
    editable install under ``PYTHONDONTWRITEBYTECODE`` compiles every module of isolint in
    every run (about 0.1 s of CPU each). The bytecode goes to a temporary prefix, never beside
    the sources; one run on a tiny project writes it before anything is measured."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(pycache)
    project = pycache / "warm-up"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.isolint]\n")
    (project / "m.py").write_text("CACHE = {}\n\n\ndef put(k, v):\n    CACHE[k] = v\n")
    run(isolint("check", "-q", "--no-cache", "--jobs", "1", "."), project)


def bench(trees: Sequence[Tree], args: argparse.Namespace) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average {load:.1f}")
    summary = []
    for tree in trees:
        with tempfile.TemporaryDirectory(prefix="isolint-bench-") as tmp:
            summary.append(bench_tree(tree, Path(tmp), args.runs, args.jobs))
            if args.scaling:
                scaling(tree, Path(tmp), args.runs, str(args.jobs))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nsummary (jobs={args.jobs}, runs={args.runs}, load average now {load:.1f}):")
    print(
        f"{'tree':40}{'files':>7}{'floor s':>9}{'cold s':>9}{'cold/floor':>12}"
        f"{'(CPU)':>7}{'warm/cold':>11}"
    )
    for row in summary:
        print(
            f"{row.label[-40:]:40}{row.files:>7}{row.floor:9.2f}{row.cold:9.2f}"
            f"{row.cold_ratio:12.2f}{row.cold_cpu_ratio:7.2f}{row.warm / row.cold:11.3f}"
        )


def bench_tree(tree: Tree, tmp: Path, runs: int, job_count: int) -> Figures:
    jobs = str(job_count)
    root = tmp / "tree"
    files = copy_tree(tree, root)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    print(f"\ntree: {tree.label} ({len(files)} files, {lines:,} lines), jobs={jobs}, runs={runs}")

    def cold() -> float:
        shutil.rmtree(root / ".isolint_cache", ignore_errors=True)
        return run(isolint("check", "-q", "--jobs", jobs, "."), root)[0]

    floors: list[float] = []
    colds: list[float] = []
    cpu_ratios: list[float] = []  # CPU seconds, all processes: far less sensitive to load
    for _ in range(runs):  # interleaved: each cold run has a floor measured beside it
        before = cpu_seconds()
        floors.append(libcst_floor(files, job_count))
        middle = cpu_seconds()
        colds.append(cold())
        cpu_ratios.append((cpu_seconds() - middle) / (middle - before))
    floor = statistics.median(floors)
    cold_time = statistics.median(colds)
    cold_ratio = statistics.median(c / f for c, f in zip(colds, floors))
    warm_time = median(runs, lambda: run(isolint("check", "-q", "--jobs", jobs, "."), root)[0])

    five = files[:: max(1, len(files) // 5)][:5]
    rel5 = [str(p.relative_to(root)) for p in five]
    rounds = iter(range(1000))

    def five_in_tree() -> float:
        touch(five, next(rounds))
        return run(isolint("check", "-q", "--jobs", jobs, *rel5), root)[0]

    five_time = median(runs, five_in_tree)
    alone = tmp / "alone"
    for path, rel in zip(five, rel5):
        (alone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, alone / rel)
    (alone / "pyproject.toml").write_text("[tool.isolint]\n")
    alone_time = median(
        runs, lambda: run(isolint("check", "-q", "--no-cache", "--jobs", jobs, *rel5), alone)[0]
    )

    rows = [
        ("LibCST floor (read + parse)", floor, 1.0),
        ("isolint cold (empty cache)", cold_time, cold_ratio),
        ("isolint warm (no change)", warm_time, warm_time / floor),
        ("isolint 5 changed files, warm", five_time, five_time / floor),
        ("isolint same 5 files, alone", alone_time, alone_time / floor),
    ]
    for name, command in (
        ("fixit", ["fixit", "lint", "."]),
        ("ruff", ["ruff", "check", "--no-cache", "--exit-zero", "-q", "."]),
    ):
        if shutil.which(command[0]):
            measured = median(runs, lambda: run(command, root)[0])
            rows.append((f"{name} (for comparison)", measured, measured / floor))
    print(f"{'':34}{'seconds':>10}{'x floor':>10}")
    for name, seconds, ratio in rows:
        print(f"{name:34}{seconds:10.2f}{ratio:10.2f}")
    print(
        f"cold / floor per round: {', '.join(f'{c / f:.2f}' for c, f in zip(colds, floors))}"
        f" (CPU time: {', '.join(f'{r:.2f}' for r in cpu_ratios)})   "
        f"warm / cold: {warm_time / cold_time:.3f}   "
        f"5 files in tree / alone: {five_time / alone_time:.2f}"
    )
    return Figures(
        tree.label,
        len(files),
        floor,
        cold_time,
        cold_ratio,
        statistics.median(cpu_ratios),
        warm_time,
        five_time,
        alone_time,
    )


def scaling(tree: Tree, tmp: Path, runs: int, jobs: str) -> None:
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
