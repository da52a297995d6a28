"""The project rules' stored decisions (``isolint.decided``): a cached run in which no input
changed reuses what the project rules decided instead of deciding again; any change of a file,
of the settings or of the selection decides again, and every run prints what a run without
cache prints. Whether the stored decisions were reused is shown by tampering with them."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from isolint import decided
from isolint.cache import Cache
from isolint.config import Settings
from isolint.diagnostics import FileError
from isolint.serial import Codec

from tests.conftest import FIXTURES, Completed
from tests.test_reporters import diagnostic

Run = Callable[..., Completed]
PROJECT_CODES = {"ISO401", "ISO403", "ISO404"}  # decided by check_project in multi_package


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns(".isolint_cache")
    shutil.copytree(FIXTURES / "multi_package", root, ignore=ignore)
    past = time.time() - 3600  # old files: the manifest trusts their stat
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))
    return root


def _codes(isolint: Run, root: Path, *args: str) -> list[str]:
    out = isolint("check", "--format", "json", *args, ".", cwd=root)
    assert out.returncode in (0, 1), out.stderr
    return sorted(d["code"] for d in json.loads(out.stdout)["diagnostics"])


def _stored(cache_dir: Path) -> tuple[Cache, str]:
    [blob] = cache_dir.glob(f"*/{decided.DECIDED}")
    cache = Cache(cache_dir, blob.parent.name)
    data = cache.read_blob(decided.DECIDED)
    assert data is not None
    digest = json.loads(data)[0]
    assert isinstance(digest, str)
    return cache, digest


def test_unchanged_inputs_reuse_the_decisions_any_change_decides_again(
    isolint: Run, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    cache_dir = tmp_path / "cache"
    cached = ("--cache-dir", str(cache_dir))
    clean = _codes(isolint, root, "--no-cache")
    assert PROJECT_CODES <= set(clean)
    assert _codes(isolint, root, *cached) == clean  # cold: decides, stores
    assert _codes(isolint, root, *cached) == clean  # warm: reuses

    # stored decisions with no finding, for the same inputs: a warm run shows they are reused
    cache, digest = _stored(cache_dir)
    empty = decided.dumps(digest, decided.Decisions((), (), ()), cache.codec)
    assert empty is not None
    cache.write_blob(decided.DECIDED, empty)
    reused = _codes(isolint, root, *cached)
    assert not PROJECT_CODES & set(reused)
    assert set(reused) <= set(clean) and len(reused) < len(clean)  # per-file findings stay

    # another selection is another input: decided again
    assert _codes(isolint, root, *cached, "--ignore", "ISO106") == _codes(
        isolint, root, "--no-cache", "--ignore", "ISO106"
    )
    cache.write_blob(decided.DECIDED, empty)  # (that run stored its own decisions)
    # an edited file is another input: decided again, and stored for the next run
    module = next(p for p in sorted(root.rglob("*.py")) if p.read_text(encoding="utf-8"))
    module.write_text(module.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert _codes(isolint, root, *cached) == clean
    assert _codes(isolint, root, *cached) == clean


def test_damaged_decisions_are_ignored(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    cache_dir = tmp_path / "cache"
    cached = ("--cache-dir", str(cache_dir))
    clean = _codes(isolint, root, "--no-cache")
    assert _codes(isolint, root, *cached) == clean
    [blob] = cache_dir.glob(f"*/{decided.DECIDED}")
    blob.write_bytes(blob.read_bytes()[:-7])  # truncated: its seal no longer holds
    assert _codes(isolint, root, *cached) == clean
    cache, digest = _stored(cache_dir)  # rewritten by that run
    cache.write_blob(decided.DECIDED, json.dumps([digest, [], ["not a result"]]).encode())
    assert _codes(isolint, root, *cached) == clean


def test_blob_round_trip_and_mismatches() -> None:
    codec = Codec.create()
    decisions = decided.Decisions(
        (diagnostic(code="ISO404"),), ("a warning",), (FileError("<project>", "internal error"),)
    )
    data = decided.dumps("d1", decisions, codec)
    assert data is not None
    assert decided.loads(data, "d1", codec) == decisions
    assert decided.loads(data, "d2", codec) is None  # other inputs
    assert decided.loads(b'["d1", [], [[], 1]]', "d1", codec) is None  # not a codec document
    assert decided.loads(b'["d1", [1], []]', "d1", codec) is None
    assert decided.loads(b'["d1"]', "d1", codec) is None
    assert decided.loads(b"not json", "d1", codec) is None
    assert decided.loads(b"\xff", "d1", codec) is None


def test_digest_covers_keys_requested_files_settings_and_rules() -> None:
    keys = {"a.py": "k1", "b.py": "k2"}
    base = decided.inputs_digest(keys, ["a.py"], Settings(), ["ISO404"])
    assert base is not None
    assert (
        decided.inputs_digest(dict(reversed(keys.items())), ["a.py"], Settings(), ["ISO404"])
        == base
    )
    assert decided.inputs_digest({**keys, "b.py": "k3"}, ["a.py"], Settings(), ["ISO404"]) != base
    assert decided.inputs_digest(keys, ["a.py", "b.py"], Settings(), ["ISO404"]) != base
    assert (
        decided.inputs_digest(keys, ["a.py"], Settings(report_unreached=True), ["ISO404"]) != base
    )
    assert decided.inputs_digest(keys, ["a.py"], Settings(), ["ISO401"]) != base
    assert decided.inputs_digest({**keys, "c.py": ""}, ["a.py"], Settings(), ["ISO404"]) is None
