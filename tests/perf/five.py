"""Five changed files in a large tree against the same five files alone, A/B over isolint copies.

Not part of the test suite. Usage::

    python tests/perf/five.py [--tree DIR[:app]] [--rounds 5] [--jobs 2] [PKGDIR ...]

Each PKGDIR holds an importable ``isolint/`` (``/work/ref/snap.sh`` makes one); without any, the
installed isolint. The tree (default: this Python's standard library) is copied once per
PKGDIR; each copy gets a cold run, then the rounds alternate between the PKGDIRs: a warm run
with nothing changed, then a comment appended to five files and ``isolint check`` on them in the
tree (warm cache), then the same five files copied alone into an otherwise empty project
(``--no-cache``). Printed: the medians of CPU seconds of all processes (parent and workers),
and the ratios bench.py prints (5 files in tree / alone, warm / cold).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import Tree, copy_tree, touch


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(pkg: str, args: list[str], cwd: Path) -> float:
    """CPU seconds of one isolint run (its workers included)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a snapshot's modules compile once, not every run
    if pkg != "installed":
        env["PYTHONPATH"] = pkg
    before = _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "isolint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"isolint {' '.join(args)}: {proc.stderr.decode()[-800:]}")
    return _children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pkgs", nargs="*", default=["installed"])
    parser.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", default="2")
    args = parser.parse_args()
    tree = Tree.parse(args.tree)
    with tempfile.TemporaryDirectory(prefix="isolint-five-") as tmp:
        base = Path(tmp)
        setups = []
        for number, pkg in enumerate(args.pkgs):
            root = base / f"tree{number}"
            files = copy_tree(tree, root)
            five = files[:: max(1, len(files) // 5)][:5]
            rel5 = [str(p.relative_to(root)) for p in five]
            alone = base / f"alone{number}"
            for path, rel in zip(five, rel5):
                (alone / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, alone / rel)
            (alone / "pyproject.toml").write_text("[tool.isolint]\n")
            cold = _run(pkg, ["check", "-q", "--jobs", args.jobs, "."], root)
            setups.append((pkg, root, five, rel5, alone, cold, {"warm": [], "in": [], "al": []}))
            print(f"{pkg}: {len(files)} files, cold {cold:.2f} s CPU", flush=True)
        for round_ in range(args.rounds):
            for pkg, root, five, rel5, alone, _, times in setups:
                times["warm"].append(_run(pkg, ["check", "-q", "--jobs", args.jobs, "."], root))
                touch(five, round_)
                times["in"].append(_run(pkg, ["check", "-q", "--jobs", args.jobs, *rel5], root))
                times["al"].append(
                    _run(pkg, ["check", "-q", "--no-cache", "--jobs", args.jobs, *rel5], alone)
                )
        for pkg, _, _, _, _, cold, times in setups:
            warm, in_tree, alone_t = (statistics.median(times[k]) for k in ("warm", "in", "al"))
            print(
                f"{pkg}: warm {warm:.3f} in-tree {in_tree:.3f} alone {alone_t:.3f} s CPU; "
                f"in tree / alone {in_tree / alone_t:.2f}, warm / cold {warm / cold:.3f}; "
                f"in-tree runs {', '.join(f'{t:.2f}' for t in times['in'])}",
                flush=True,
            )


if __name__ == "__main__":
    main()
