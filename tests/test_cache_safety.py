"""The cache never deletes or hides what isolint did not create, and never trusts its own files.

Regressions of issue 11 (items 1, 9 and the cache part of 10), each through the real CLI on real
files: ``cache clear`` on a project directory, a foreign directory or through symlinks; a
cache directory that is or holds the sources; flipped bytes in entries; no pickle on disk; an
interrupted run keeps the entries of the files it finished.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from isolint.cache import CACHEDIR_TAG, MARKER, TAG_SIGNATURE, Cache, clear, pack_index
from isolint.check import CheckRequest, lint_files
from isolint.config import Settings
from isolint.diagnostics import FileResult, Severity
from isolint.discovery import SourceFile
from isolint.facts import PackedFacts
from isolint.rule import Rule, payload_classes
from isolint.runner import LintOptions, lint_many
from isolint.serial import Codec, SerialError
from isolint.rules import load_rules
from tests.conftest import FIXTURES, REPO, Completed, isolint_executable

Run = Callable[..., Completed]
_MAGIC = b"ISOLINT-CACHE-2\n"


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root`` (symlinks as their target text, files as their bytes)."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
        else:
            out[rel] = "dir"
    return out


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package", root, ignore=shutil.ignore_patterns(".isolint_cache")
    )
    return root


def _entries(cache_dir: Path) -> list[Path]:
    """The packs, manifests and other files of every namespace of a cache directory."""
    return sorted(
        p
        for p in cache_dir.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and p.parent != cache_dir
        and not p.name.startswith(".tmp-")
    )


def _packed(cache_dir: Path, besides: set[Path] | None = None) -> dict[str, tuple[Path, int, int]]:
    """Every entry in the packs of a cache directory (but those in ``besides``): key -> (pack,
    start, length)."""
    found: dict[str, tuple[Path, int, int]] = {}
    for pack in _entries(cache_dir):
        if pack.suffix == ".pack" and pack not in (besides or set()):
            index = pack_index(pack)
            assert index is not None, pack
            found.update({key: (pack, *where) for key, where in index.items()})
    return found


def _entry_of(where: tuple[Path, int, int]) -> bytes:
    pack, start, length = where
    return pack.read_bytes()[start : start + length]


def _documents(cache_dir: Path) -> list[bytes]:
    """Each sealed document of a cache: every file but the packs, and each entry in a pack."""
    files = [p.read_bytes() for p in _entries(cache_dir) if p.suffix != ".pack"]
    return files + [_entry_of(where) for where in _packed(cache_dir).values()]


def _one_line_error(out: Completed) -> str:
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


# --- item 1: clear deletes only what isolint created -----------------------------------------


def test_clear_with_cache_dir_dot_keeps_the_repository(isolint: Run, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("*.pyc\n")
    (repo / "app.py").write_text("def f(x=[]):\n    return x\n")
    (repo / "pkg").mkdir()
    (repo / "pkg/mod.py").write_text("X = 1\n")
    before = _tree(repo)
    out = isolint("cache", "clear", "--cache-dir", ".", cwd=repo)
    line = _one_line_error(out)
    assert "'.'" in line and "not an isolint cache directory" in line
    assert _tree(repo) == before
    # Using the repository itself as the cache is refused too, before anything is written.
    checked = isolint("check", "--cache-dir", ".", ".", cwd=repo)
    assert "--cache-dir" in _one_line_error(checked)
    assert _tree(repo) == before


def test_foreign_directory_is_refused_and_untouched(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "notes.txt").write_text("mine\n")
    (other / "sub/data.bin").write_bytes(b"\x00\x01")
    (other / ".gitignore").write_text("*\n")  # looks like a cache to a careless check
    before = _tree(other)
    cleared = isolint("cache", "clear", "--cache-dir", str(other), cwd=root)
    assert str(other) in _one_line_error(cleared)
    checked = isolint("check", "--cache-dir", str(other), ".", cwd=root)
    assert "--cache-dir" in _one_line_error(checked)
    assert _tree(other) == before


def test_clear_removes_its_entries_and_markers(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert isolint("check", ".", cwd=root).returncode in (0, 1)
    cache_dir = root / ".isolint_cache"
    assert (cache_dir / CACHEDIR_TAG).read_text().startswith(TAG_SIGNATURE + "\n")
    assert (cache_dir / MARKER).is_file()
    assert _entries(cache_dir)
    cleared = isolint("cache", "clear", cwd=root)
    assert cleared.returncode == 0, cleared.stderr
    assert not cache_dir.exists()


def test_clear_keeps_what_it_did_not_create_and_follows_no_symlink(
    isolint: Run, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    assert isolint("check", ".", cwd=root).returncode in (0, 1)
    cache_dir = root / ".isolint_cache"
    namespace = next(p for p in cache_dir.iterdir() if p.is_dir())
    outside = tmp_path / "outside"
    (outside / "ab").mkdir(parents=True)
    (outside / "precious.py").write_text("KEEP = 1\n")
    (outside / "ab" / ("c" * 64)).write_text("looks like an entry\n")
    # Links named as isolint names its own things: a namespace, a shard (entries as isolint
    # 0.2 wrote them, one file each), a pack, an entry.
    (cache_dir / "0.0.0-py3.0-000000000000-0000000000000000").symlink_to(outside)
    (namespace / "ab").symlink_to(outside / "ab")
    packs = namespace / "packs"
    assert packs.is_dir() and list(packs.glob("*.pack"))
    (packs / ("d" * 16 + ".pack")).symlink_to(outside / "precious.py")
    shard = namespace / "cd"  # an old cache's entry files go too
    shard.mkdir()
    (shard / ("c" * 64)).write_bytes(_MAGIC + b"old entry")
    (shard / ("d" * 64)).symlink_to(outside / "precious.py")
    (cache_dir / "user-notes.txt").write_text("not isolint's\n")
    before = _tree(outside)
    cleared = isolint("cache", "clear", cwd=root)
    assert cleared.returncode == 0, cleared.stderr
    assert _tree(outside) == before
    assert "user-notes.txt" in cleared.stderr
    assert (cache_dir / "user-notes.txt").read_text() == "not isolint's\n"
    assert (cache_dir / MARKER).is_file()  # the directory stays marked while it holds others' files
    assert not any(p.is_file() and not p.is_symlink() for p in namespace.rglob("*"))
    # a link at a pack's or an entry's name: the link only goes
    assert not (packs / ("d" * 16 + ".pack")).is_symlink() and not packs.exists()
    assert not (shard / ("d" * 64)).is_symlink() and not shard.exists()


def test_clear_of_a_missing_path_is_an_error(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert isolint("check", ".", cwd=root).returncode in (0, 1)
    before = _tree(root)
    out = isolint("cache", "clear", "missing/path", cwd=root)
    assert "missing/path" in _one_line_error(out)
    assert _tree(root) == before


@pytest.mark.parametrize(
    ("config", "option", "named"),
    [
        ('cache-dir = "src"\n', (), "cache-dir"),
        ('cache-dir = "."\n', (), "cache-dir"),
        ("", ("--cache-dir", "src"), "--cache-dir"),
        ("", ("--cache-dir", ".."), "--cache-dir"),
        ("", ("--cache-dir", "src/app"), "--cache-dir"),
    ],
)
def test_cache_dir_holding_sources_is_a_configuration_error(
    isolint: Run, tmp_path: Path, config: str, option: tuple[str, ...], named: str
) -> None:
    root = tmp_path / "project"
    (root / "src/app").mkdir(parents=True)
    (root / "src/app/state.py").write_text("def f(x=[]):\n    return x\n")
    (root / "pyproject.toml").write_text("[tool.isolint]\n" + config)
    before = _tree(tmp_path)
    out = isolint("check", *option, ".", cwd=root)
    assert named in _one_line_error(out)
    assert _tree(tmp_path) == before  # no .gitignore written into the sources


# --- item 9: checksummed, data-only entries ---------------------------------------------------


def test_a_flipped_byte_in_any_entry_is_a_miss_and_is_replaced(
    isolint: Run, tmp_path: Path
) -> None:
    root = _project(tmp_path)
    clean = isolint("check", "--no-cache", "--format", "json", ".", cwd=root)
    cold = isolint("check", "--format", "json", ".", cwd=root)
    assert cold.stdout == clean.stdout and cold.returncode == clean.returncode
    cache_dir = root / ".isolint_cache"
    files = [p for p in _entries(cache_dir) if p.suffix != ".pack"]  # manifests, memos
    packs = {p for p in _entries(cache_dir) if p.suffix == ".pack"}
    packed = _packed(cache_dir)
    assert len(files) > 3 and len(packed) > 5
    originals = {entry: entry.read_bytes() for entry in files}
    entries = {key: _entry_of(where) for key, where in packed.items()}
    for number, entry in enumerate(files):
        data = bytearray(originals[entry])
        where = [len(_MAGIC) + 3, len(data) // 2, len(data) - 1][number % 3]  # checksum, body
        data[where] ^= 0x20
        entry.write_bytes(bytes(data))
    for number, (pack, start, length) in enumerate(sorted(packed.values())):  # each entry
        data = bytearray(pack.read_bytes())
        data[start + [len(_MAGIC) + 3, length // 2, length - 1][number % 3]] ^= 0x20
        pack.write_bytes(bytes(data))
    again = isolint("check", "--format", "json", ".", cwd=root)
    assert again.stderr.count("Traceback") == 0
    assert again.stdout == clean.stdout and again.returncode == clean.returncode
    for entry in files:  # each bad file was replaced by a good one
        assert entry.read_bytes() == originals[entry], entry
    # and each bad entry by a good one, in a new pack (the damaged one's copies are misses)
    written = {key: _entry_of(where) for key, where in _packed(cache_dir, packs).items()}
    assert written == entries


def _walk_bytes(value: object) -> list[bytes]:
    """Every ``[4, base64]`` (bytes) value in a decoded JSON document, also inside the
    documents the manifest holds as text (each file's facts)."""
    if isinstance(value, list):
        if len(value) == 2 and value[0] == 4 and isinstance(value[1], str):
            return [base64.b64decode(value[1])]
        return [b for item in value for b in _walk_bytes(item)]
    if isinstance(value, dict):
        return [b for item in value.values() for b in _walk_bytes(item)]
    if isinstance(value, str) and value.startswith("[["):
        return _walk_bytes(json.loads(value))
    return []


def test_cache_holds_checksummed_json_and_no_pickle(isolint: Run, tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert isolint("check", ".", cwd=root).returncode in (0, 1)
    cache_dir = root / ".isolint_cache"
    entries = {_entry_of(where) for where in _packed(cache_dir).values()}
    documents = _documents(cache_dir)
    assert len(entries) == len(list(root.rglob("*.py")))  # every file's entry
    assert len(documents) > len(entries)  # and the manifests
    packed = 0
    for raw in documents:
        assert raw.startswith(_MAGIC)
        checksum, body = raw[len(_MAGIC) :].split(b"\n", 1)
        assert hashlib.sha256(body).hexdigest().encode() == checksum
        parts = [body]
        if raw in entries:  # an entry: its facts (after their length), then the rest
            end = 8 + int.from_bytes(body[:8], "big")
            parts = [body[8:end], body[end:]] if end > 8 else [body[end:]]
        for part in parts:
            document = json.loads(zlib.decompress(part))
            for data in _walk_bytes(document):  # the packed module facts: JSON too
                json.loads(zlib.decompress(data))
                packed += 1
    assert packed > 0
    for module in ("cache.py", "facts.py", "serial.py"):
        source = (REPO / "linter" / module).read_text()
        assert "pickle" not in source.replace("never pickle", "").replace("no pickle", "")


def _real_results() -> list[FileResult]:
    options = LintOptions.create(Settings(), tuple(load_rules()))
    files = sorted((FIXTURES / "multi_package").rglob("*.py"))
    root = FIXTURES / "multi_package"
    return lint_many([(p.relative_to(root).as_posix(), str(p)) for p in files], options)


def test_serial_round_trip_is_exact_on_real_results() -> None:
    codec = Codec.create(payload_classes(load_rules()))
    results = _real_results()
    assert any(r.diagnostics for r in results) and any(r.candidates for r in results)
    for result in results:
        back = codec.loads(codec.dumps(result))
        assert back == result and hash(repr(back)) == hash(repr(result))
        assert isinstance(back, FileResult)
        for diagnostic in back.diagnostics:
            assert type(diagnostic.severity) is Severity
        for candidate in back.candidates:  # typed payloads (tests/test_typed_payloads.py)
            assert dataclasses.is_dataclass(candidate.payload)
        if isinstance(result.facts, PackedFacts):
            assert isinstance(back.facts, PackedFacts)
            assert back.facts.unpack() == result.facts.unpack()
    odd = (("a", 1), [1.5, None, True], {"k": (b"\x00", frozenset({"x"}))}, "\udcff")
    assert codec.loads(codec.dumps(odd)) == odd


def test_a_sealed_result_opens_as_itself_and_is_the_entry_put_writes(tmp_path: Path) -> None:
    """Workers send each result sealed as its cache entry (``Cache.seal``): the parent opens it
    (``unseal``) and writes it as is; a damaged or foreign payload opens as nothing."""
    cache = Cache.open(tmp_path / "cache", "configuration", payload_classes(load_rules()))
    for result in _real_results():
        sealed = cache.seal(result)
        assert sealed is not None and cache.unseal(sealed) == result
        key = cache.key(result.path, result.digest.encode())
        cache.put(key, result)
        cache.flush()
        assert _entry_bytes(tmp_path / "cache", key) == sealed
        assert cache.unseal(sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
    body = zlib.compress(json.dumps([[], [0, 1]]).encode())  # valid, but not a FileResult
    assert cache.unseal(_MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body) is None
    assert cache.seal(FileResult("x.py", facts=object())) is None


def _entry_bytes(directory: Path, key: str) -> bytes:
    return _entry_of(_packed(directory)[key])


@pytest.mark.parametrize(
    "document",
    [
        [["os.system"], [5, "true"]],
        [["builtins.eval"], [5]],
        [["subprocess.Popen"], [5, 1]],
        [["isolint.diagnostics.Span"], [5, 1]],  # missing fields
        [["isolint.diagnostics.Span"], [5, 1, 2, 3, 4, 5]],  # too many
        [["isolint.diagnostics.Span"], [6, 1, 2, 3, 4]],  # no such class in the table
        [["isolint.diagnostics.Severity"], [5, "no such member"]],
        [[], [0, {"a": 1}]],  # a JSON object outside a dict
        [[], [-1, 1]],
        [[], [9]],
        [[], [2, [1, 1]]],  # unhashable in a frozenset
        [[], [4, "not base64!"]],
        [[], [0, [True]]],
        [[1], [0]],
        {"C": "os.system", "v": {"command": "true"}},
        [1, 2],
    ],
)
def test_unknown_or_malformed_tags_fail_closed(document: object) -> None:
    codec = Codec.create()
    with pytest.raises(SerialError):
        codec.loads(json.dumps(document).encode())


def test_values_outside_the_allowlist_are_not_stored(tmp_path: Path) -> None:
    codec = Codec.create()
    with pytest.raises(SerialError):
        codec.dumps(FileResult("x.py", facts=Path("x")))
    cache = Cache.open(tmp_path / "cache", "configuration")
    key = cache.key("x.py", b"x = 1\n")
    cache.put(key, FileResult("x.py", facts=object()))
    assert cache.get(key) is None  # nothing written rather than something unreadable
    cache.put(key, FileResult("x.py"))
    assert cache.get(key) == FileResult("x.py")


def test_entries_written_after_a_clear_mid_run_are_marked_again(tmp_path: Path) -> None:
    """Writes skip the marker check in a directory the cache already made; once ``cache clear``
    has removed it (and the namespace), the next write marks and makes it again."""
    directory = tmp_path / "cache"
    cache = Cache.open(directory, "configuration")
    first = cache.key("x.py", b"x = 1\n")
    cache.put(first, FileResult("x.py"))
    cache.flush()
    assert _packed(directory).keys() == {first}
    clear(directory)
    assert not directory.exists()
    again = cache.key("x.py", b"x = 2\n")
    cache.put(again, FileResult("x.py"))
    cache.flush()  # into the same (now gone) pack directory
    assert _packed(directory).keys() == {again}
    assert Cache.open(directory, "configuration").get(again) == FileResult("x.py")
    assert (directory / MARKER).is_file() and (directory / CACHEDIR_TAG).is_file()


def test_a_foreign_entry_with_a_valid_checksum_is_a_miss(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "configuration")
    key = cache.key("x.py", b"x = 1\n")
    body = zlib.compress(json.dumps([["os.system"], [5, "touch pwned"]]).encode())
    foreign = _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    cache.put_sealed(key, foreign, "x.py")  # as if a worker had sent it
    assert cache.get(key) is None
    cache.flush()
    assert _entry_bytes(tmp_path / "cache", key) == foreign  # a pack holds it, checksum and all
    assert Cache.open(tmp_path / "cache", "configuration").get(key) is None
    assert not (tmp_path / "pwned").exists()


# --- item 10: an interrupted run keeps what it finished ---------------------------------------


def _kill_after_first_pack(root: Path, jobs: str) -> bool:
    """Start a cold run in its own process group and SIGKILL it (workers included) once its
    first pack is on disk; False if the run ended first."""
    cache_dir = root / ".isolint_cache"
    process = subprocess.Popen(
        [isolint_executable(), "check", "-j", jobs, "."],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches its workers too
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if list(cache_dir.glob("*/packs/*.pack")):
                break
            time.sleep(0.01)
        finished_first = process.poll() is not None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    return not finished_first


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupted_run_keeps_finished_entries(isolint: Run, tmp_path: Path, jobs: str) -> None:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.isolint]\n")
    total = 1500  # entries are written 1,000 to a pack, and the rest at the end
    for index in range(total):
        (root / f"pkg/m{index:03d}.py").write_text(
            f"import os\n\n\ndef f{index}(x=[]):\n    return x\n\n\nclass C{index}:\n    pass\n"
        )
    cache_dir = root / ".isolint_cache"
    # On a loaded machine the kill can land after the last pack (the run was all but done):
    # that proves nothing, so the run is repeated on a fresh cache, up to three times.
    for _attempt in range(3):
        shutil.rmtree(cache_dir, ignore_errors=True)
        assert _kill_after_first_pack(root, jobs), "the run ended before any entry was written"
        kept_keys = _packed(cache_dir).keys()
        if len(kept_keys) < total:
            break
    kept = {p: p.stat().st_mtime_ns for p in cache_dir.glob("*/packs/*.pack")}
    assert 1000 <= len(kept_keys) < total, "the entries of the finished files did not survive"
    again = isolint("check", "--format", "json", ".", cwd=root)
    assert again.returncode == 1
    assert len(json.loads(again.stdout)["diagnostics"]) == total
    assert all(p.exists() and p.stat().st_mtime_ns == mtime for p, mtime in kept.items())
    # the next run read those entries: it linted (and wrote entries for) only the other files
    written = set(_packed(cache_dir, set(kept)))
    assert written and not written & kept_keys, "the next run did not read the entries"
    assert len(written) + len(kept_keys) == total


class _Stall(Rule):
    """A fake rule: the last file never finishes (until the run is killed)."""

    code = "ISO098"
    name = "stall-here"
    summary = "never reported"
    severity = Severity.WARNING

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.path.endswith("zz_last.py"):
            time.sleep(600)


def _lint_in_own_group(request: CheckRequest) -> None:
    os.setsid()  # the test kills this process and its workers as one group
    lint_files(request)


@pytest.mark.parametrize("jobs", [1, 2])
def test_entries_are_written_while_a_file_is_still_running(tmp_path: Path, jobs: int) -> None:
    """Deterministic twin of the kill test: the run is stuck on its last file, the others'
    entries are on disk already (they used to be written only after the whole pass); here a
    pack is written every 10 entries, so all 40 are."""
    (tmp_path / "pkg").mkdir()
    files = [f"pkg/m{index:02d}.py" for index in range(40)] + ["pkg/zz_last.py"]
    for relpath in files:
        (tmp_path / relpath).write_text("def f(x=[]):\n    return x\n")
    cache_dir = tmp_path / ".isolint_cache"
    request = CheckRequest(
        tmp_path,
        Settings(timeout=900),
        (_Stall,),
        tuple(SourceFile(tmp_path / relpath, relpath) for relpath in files),
        jobs=jobs,
        cache=dataclasses.replace(Cache.open(cache_dir, "stalled"), flush_entries=10),
    )
    child = multiprocessing.get_context("fork").Process(target=_lint_in_own_group, args=(request,))
    child.start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(_packed(cache_dir)) < len(files) - 1:
            time.sleep(0.05)
        assert child.is_alive()  # still stuck on the last file
        assert len(_packed(cache_dir)) == len(files) - 1
        assert len(list(cache_dir.glob("*/packs/*.pack"))) == 4
    finally:
        assert child.pid is not None
        os.killpg(child.pid, signal.SIGKILL)
        child.join(30)


def test_cache_files_follow_the_umask_so_teammates_can_read_them(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/m.py").write_text("X = []\n", encoding="utf-8")
    out = subprocess.run(
        ["sh", "-c", f"umask 022 && exec {isolint_executable()} check ."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    files = [p for p in (tmp_path / ".isolint_cache").rglob("*") if p.is_file()]
    assert files
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in files), [
        (p.name, oct(p.stat().st_mode & 0o777)) for p in files
    ]
