"""Cache entries live in pack files (``isolint.cache``): a cold run creates a few files, not one
per linted file, and every kind of damage to a pack is a miss, never a crash or a wrong hit.

Through the real CLI on real files: the damage is done to the bytes on disk (an entry inside a
pack, the index, the footer, a truncated or deleted pack), and each damaged run must print what
a run without cache prints. Merging keeps the number of packs bounded over many small runs.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from isolint.cache import Cache, ManifestEntry, clear, pack_index
from isolint.check import CheckRequest, lint_files
from isolint.config import Settings
from isolint.diagnostics import FileResult, Severity
from isolint.discovery import SourceFile
from isolint.rule import Rule
from tests.conftest import FIXTURES, Completed

Run = Callable[..., Completed]
_MODULE = "import os\n\n\ndef f{n}(x=[]):\n    return x\n\n\nclass C{n}:\n    pass\n"


def _project(tmp_path: Path, modules: int = 60) -> Path:
    """The multi-package fixture plus ``modules`` small modules with a finding each."""
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package", root, ignore=shutil.ignore_patterns(".isolint_cache")
    )
    (root / "extra").mkdir()
    for n in range(modules):
        (root / f"extra/m{n:03d}.py").write_text(_MODULE.format(n=n))
    return root


def _packs(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*/packs/*.pack"))


def _keys(cache_dir: Path) -> set[str]:
    """The keys of every readable entry in every pack."""
    found: set[str] = set()
    for pack in _packs(cache_dir):
        index = pack_index(pack)
        assert index is not None, pack
        found |= index.keys()
    return found


def _same(isolint: Run, root: Path, clean: Completed) -> Completed:
    out = isolint("check", "--format", "json", ".", cwd=root)
    assert "Traceback" not in out.stderr
    assert out.stdout == clean.stdout and out.returncode == clean.returncode, out.stderr
    return out


def _clean(isolint: Run, root: Path) -> Completed:
    clean = isolint("check", "--no-cache", "--format", "json", ".", cwd=root)
    assert clean.returncode == 1, clean.stderr
    return clean


def test_a_cold_run_writes_one_pack_not_a_file_per_entry(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    clean = _clean(isolint, root)
    _same(isolint, root, clean)
    cache_dir = root / ".isolint_cache"
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    linted = len(list(root.rglob("*.py")))
    assert linted > 60
    assert len(files) <= 12, sorted(p.name for p in files)  # markers, manifest, blobs, a pack
    [pack] = _packs(cache_dir)
    assert len(_keys(cache_dir)) == linted
    assert not [p for p in cache_dir.rglob(".tmp-*")]
    stamp = pack.stat().st_mtime_ns
    _same(isolint, root, clean)  # warm: read from the pack, nothing written again
    assert _packs(cache_dir) == [pack] and pack.stat().st_mtime_ns == stamp


def _damage_entries(pack: Path) -> None:
    """Flip a byte in every entry of ``pack``: in its checksum, its middle or its last byte."""
    index = pack_index(pack)
    assert index is not None
    data = bytearray(pack.read_bytes())
    for number, (start, length) in enumerate(sorted(index.values())):
        where = [start + 20, start + length // 2, start + length - 1][number % 3]
        data[where] ^= 0x20
    pack.write_bytes(bytes(data))


def _truncate(pack: Path) -> None:
    pack.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])


def _damage_index(pack: Path) -> None:
    index = pack_index(pack)
    assert index is not None
    end = max(start + length for start, length in index.values())  # the index starts here
    data = bytearray(pack.read_bytes())
    data[end + (len(data) - end) // 2] ^= 0x01
    pack.write_bytes(bytes(data))


def _damage_footer(pack: Path) -> None:
    data = bytearray(pack.read_bytes())
    data[-3] ^= 0x40  # the index's length
    pack.write_bytes(bytes(data))


def _garbage(pack: Path) -> None:
    pack.write_bytes(b"garbage")


@pytest.mark.parametrize(
    "damage",
    [_damage_entries, _truncate, _damage_index, _damage_footer, _garbage, Path.unlink],
    ids=["entries", "truncated", "index", "footer", "garbage", "deleted"],
)
def test_a_damaged_pack_is_a_miss_and_its_entries_are_written_again(
    isolint: Run, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    root = _project(tmp_path, modules=20)
    clean = _clean(isolint, root)
    _same(isolint, root, clean)
    cache_dir = root / ".isolint_cache"
    [pack] = _packs(cache_dir)
    keys = _keys(cache_dir)
    # the manifest too, so that every file's entry is looked up (none is taken on its stat)
    [manifest] = cache_dir.glob("*/manifest")
    manifest.write_bytes(b"damaged")
    damage(pack)
    _same(isolint, root, clean)
    again = [p for p in _packs(cache_dir) if p != pack]
    assert len(again) == 1  # every entry missed and was written again, in one new pack
    assert pack_index(again[0]) is not None and _keys_of(again[0]) == keys
    assert not pack.exists() or pack_index(pack) is None or damage is _damage_entries
    _same(isolint, root, clean)  # and is read from there: nothing written again
    assert sorted(p for p in _packs(cache_dir) if p != pack) == again


def _keys_of(pack: Path) -> set[str]:
    index = pack_index(pack)
    assert index is not None
    return set(index)


def test_a_key_in_several_packs_reads_as_its_good_copy(tmp_path: Path) -> None:
    """A damaged copy in one pack and a good one in another: the good one is read."""
    cache = Cache.open(tmp_path / "cache", "configuration")
    key = cache.key("x.py", b"x = 1\n")
    good = FileResult("x.py", digest="d" * 64)
    cache.put(key, good)
    cache.flush()
    [first] = _packs(tmp_path / "cache")
    _damage_entries(first)
    assert cache.get(key) is None
    cache.put(key, good)
    assert cache.get(key) == good  # before it is written: kept in memory
    cache.flush()
    assert len(_packs(tmp_path / "cache")) == 2
    assert Cache.open(tmp_path / "cache", "configuration").get(key) == good


def test_put_writes_a_pack_every_so_many_entries(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    cache = dataclasses.replace(Cache.open(directory, "configuration"), flush_entries=10)
    results = {cache.key(f"m{n}.py", b"x"): FileResult(f"m{n}.py") for n in range(35)}
    for key, result in results.items():
        cache.put(key, result)
    assert len(_packs(directory)) == 3  # 30 written, 5 waiting for the next pack
    assert len(_keys(directory)) == 30
    assert all(cache.get(key) == result for key, result in results.items())
    cache.flush()
    assert len(_packs(directory)) == 4 and _keys(directory) == set(results)
    fresh = Cache.open(directory, "configuration")
    assert all(fresh.get(key) == result for key, result in results.items())


def test_merging_bounds_the_packs_and_drops_superseded_entries(tmp_path: Path) -> None:
    """Twelve small runs, each writing a pack: saving the manifest merges the small packs
    into one and leaves out the entries the manifest has replaced by a newer key."""
    directory = tmp_path / "cache"
    cache = Cache.open(directory, "configuration")
    big = {cache.key(f"big{n}.py", b"x"): FileResult(f"big{n}.py") for n in range(40)}
    for key, result in big.items():
        cache.put(key, result)
    cache.flush()
    facts = b"[[],[0,null]]"
    manifest = {r.path: ManifestEntry(key, 1, 1, stored=facts) for key, r in big.items()}
    other = {cache.key("other.py", b"x"): FileResult("other.py")}  # a file the manifest lacks
    cache.put(*next(iter(other.items())))
    dead: set[str] = set()
    merges = 0
    for version in range(12):
        key = cache.key("edited.py", str(version).encode())
        if "edited.py" in manifest:
            dead.add(manifest["edited.py"].key)
        cache.put(key, FileResult("edited.py", digest=str(version)))
        cache.flush()
        before = len(_packs(directory))
        manifest["edited.py"] = ManifestEntry(key, 1, 1, stored=facts)
        cache.save_manifest(cache.load_manifest().with_entries(dict(manifest)))
        after = len(_packs(directory))
        assert after <= 8
        if after < before:  # merged: every superseded entry is gone, the others are kept
            merges += 1
            keys = _keys(directory)
            assert {entry.key for entry in manifest.values()} | set(other) <= keys
            assert not dead & keys
    assert merges >= 1
    fresh = Cache.open(directory, "configuration")
    assert all(fresh.get(key) == result for key, result in {**big, **other}.items())
    assert fresh.get(manifest["edited.py"].key) == FileResult("edited.py", digest="11")


@pytest.mark.slow
def test_many_small_runs_keep_few_packs_and_the_same_output(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path, modules=10)
    cache_dir = root / ".isolint_cache"
    isolint("check", ".", cwd=root)
    for run in range(12):
        target = root / f"extra/m{run % 10:03d}.py"
        target.write_text(target.read_text() + f"\n\ndef g{run}(y={{}}):\n    return y\n")
        if run % 4 == 3:
            _same(isolint, root, _clean(isolint, root))
        else:
            assert isolint("check", ".", cwd=root).returncode == 1
        assert 1 <= len(_packs(cache_dir)) <= 8
    _same(isolint, root, _clean(isolint, root))


def test_clear_removes_the_packs_and_nothing_else(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path, modules=5)
    assert isolint("check", ".", cwd=root).returncode == 1
    cache_dir = root / ".isolint_cache"
    [pack] = _packs(cache_dir)
    packs = pack.parent
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.py").write_text("KEEP = 1\n")
    (packs / ("e" * 16 + ".pack")).symlink_to(outside / "precious.py")  # a pack's name
    (packs / "notes.txt").write_text("mine\n")
    (packs / ".tmp-1_x_pack").write_bytes(b"half a pack")  # a temp file a killed run left
    cleared = isolint("cache", "clear", cwd=root)
    assert cleared.returncode == 0, cleared.stderr
    assert (outside / "precious.py").read_text() == "KEEP = 1\n"
    assert sorted(os.listdir(packs)) == ["notes.txt"]
    assert (packs / "notes.txt").read_text() == "mine\n"
    assert not pack.exists()


def test_a_pack_written_after_a_clear_marks_the_directory_again(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    cache = Cache.open(directory, "configuration")
    cache.put(cache.key("x.py", b"1"), FileResult("x.py"))
    cache.flush()
    clear(directory)
    assert not directory.exists()
    cache.put(cache.key("x.py", b"2"), FileResult("x.py"))
    cache.flush()
    assert len(_packs(directory)) == 1
    assert Cache.open(directory, "configuration").get(cache.key("x.py", b"2")) == FileResult("x.py")


class _StallAndSay(Rule):
    """A fake rule: on ``zz_last.py`` it creates the file the module's ``MARKER`` names, then
    never finishes (until the run is stopped)."""

    code = "ISO097"
    name = "stall-and-say"
    summary = "never reported"
    severity = Severity.WARNING

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.path.endswith("zz_last.py"):
            found = re.search(r'MARKER = "(.*)"', node.code)
            assert found is not None
            Path(found.group(1)).touch()
            time.sleep(600)


def _lint_until_interrupted(request: CheckRequest) -> None:
    os.setsid()  # the test can kill this process and its workers as one group
    try:
        lint_files(request)
    except KeyboardInterrupt:
        os._exit(130)


def test_ctrl_c_writes_the_entries_of_the_files_done(tmp_path: Path) -> None:
    """Entries wait in memory for a pack (1,000 of them); Ctrl-C still writes those of the files
    finished, as the run unwinds."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    marker = tmp_path / "stalled"
    sources = {f"pkg/m{n:02d}.py": f"def f{n}(x=[]):\n    return x\n" for n in range(40)}
    sources["pkg/zz_last.py"] = f'MARKER = "{marker}"\n'
    for relpath, text in sources.items():
        (root / relpath).write_text(text)
    cache = Cache.open(tmp_path / "cache", "interrupted")
    request = CheckRequest(
        root,
        Settings(timeout=900),
        (_StallAndSay,),
        tuple(SourceFile(root / relpath, relpath) for relpath in sources),
        jobs=1,
        cache=cache,
    )
    child = multiprocessing.get_context("fork").Process(
        target=_lint_until_interrupted, args=(request,)
    )
    child.start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not marker.exists():
            time.sleep(0.05)
        assert marker.exists() and child.is_alive()
        assert _packs(tmp_path / "cache") == []  # nothing written yet: the entries wait
        assert child.pid is not None
        os.kill(child.pid, signal.SIGINT)
        child.join(120)
        assert child.exitcode == 130
    finally:
        if child.is_alive():
            assert child.pid is not None
            os.killpg(child.pid, signal.SIGKILL)
            child.join(30)
    done = {cache.key(relpath, text.encode()) for relpath, text in sources.items()}
    done.discard(cache.key("pkg/zz_last.py", sources["pkg/zz_last.py"].encode()))
    [pack] = _packs(tmp_path / "cache")
    written = _keys_of(pack)
    # the results that reached the parent before the signal (in practice all 40)
    assert written and written <= done
