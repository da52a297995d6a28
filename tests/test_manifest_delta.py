"""The manifest's delta (issue 13): a run that changed a few files writes only the rows that
differ from the stored manifest (``manifest-delta``), not every file's facts again; loading
applies it only to the manifest it names, and anything else is a miss, never a wrong hit."""

from __future__ import annotations

from pathlib import Path

from isolint.cache import Cache, Manifest, ManifestEntry
from isolint.rule import payload_classes

from tests.test_cache_decode import _RULES, _cache, _facts, _project, _run


def _entries(count: int, mtime: int = 1) -> dict[str, ManifestEntry]:
    return {
        f"pkg/m{i}.py": ManifestEntry(f"{i:064x}", mtime, 10 + i, stored=f"[{i}]".encode())
        for i in range(count)
    }


def _rows(manifest: Manifest) -> dict[str, tuple[str, int, int, bytes | None]]:
    return {p: (e.key, e.mtime_ns, e.size, e.encoded()) for p, e in manifest.entries.items()}


def _files(cache: Cache) -> tuple[Path, Path]:
    directory = cache.directory / cache.namespace
    return directory / "manifest", directory / "manifest-delta"


def test_a_few_changed_rows_are_stored_as_a_delta_of_the_manifest(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "delta-test", payload_classes(_RULES))
    whole, delta = _files(cache)
    cache.save_manifest(Manifest(_entries(100)))
    stored = whole.read_bytes()
    assert not delta.exists()

    loaded = cache.load_manifest()
    assert loaded.base and _rows(loaded) == _rows(Manifest(_entries(100)))
    changed = dict(loaded.entries)
    changed["pkg/m3.py"] = ManifestEntry("f" * 64, 7, 99, stored=b"[3,3]")
    changed["pkg/new.py"] = ManifestEntry("e" * 64, 8, 1, stored=b"[0]")
    del changed["pkg/m5.py"]
    cache.save_manifest(loaded.with_entries(changed))
    assert whole.read_bytes() == stored and delta.exists()  # the manifest is not rewritten
    again = cache.load_manifest()
    assert _rows(again) == _rows(Manifest(changed))

    # the next delta holds every change since the manifest, not only the last run's
    later = dict(again.entries)
    later["pkg/m9.py"] = ManifestEntry("d" * 64, 9, 2, stored=b"[9]")
    cache.save_manifest(again.with_entries(later))
    assert whole.read_bytes() == stored
    assert _rows(cache.load_manifest()) == _rows(Manifest(later))

    # many changes: the whole manifest again, and the delta (of the old one) is gone
    many = {p: ManifestEntry(e.key, 5, e.size, stored=e.encoded()) for p, e in later.items()}
    latest = cache.load_manifest()
    cache.save_manifest(latest.with_entries(many))
    assert whole.read_bytes() != stored and not delta.exists()
    assert _rows(cache.load_manifest()) == _rows(Manifest(many))


def test_a_delta_of_another_manifest_or_corrupt_is_left_out(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache", "delta-test", payload_classes(_RULES))
    whole, delta = _files(cache)
    cache.save_manifest(Manifest(_entries(100)))
    loaded = cache.load_manifest()
    changed = dict(loaded.entries)
    changed["pkg/m3.py"] = ManifestEntry("f" * 64, 7, 99, stored=b"[3,3]")
    cache.save_manifest(loaded.with_entries(changed))
    old_delta = delta.read_bytes()

    # another run writes the whole manifest (without m3's change); the old delta names the
    # manifest it replaced, so it no longer applies even if it is still there
    cache.save_manifest(Manifest(_entries(100, mtime=2)))
    delta.write_bytes(old_delta)
    assert _rows(cache.load_manifest()) == _rows(Manifest(_entries(100, mtime=2)))

    # a corrupt delta of the current manifest: left out, the manifest's rows stand
    current = cache.load_manifest()
    edited = {**current.entries, "pkg/m3.py": changed["pkg/m3.py"]}
    cache.save_manifest(current.with_entries(edited))
    assert delta.exists()
    raw = bytearray(delta.read_bytes())
    raw[-3] ^= 0x01
    delta.write_bytes(bytes(raw))
    assert _rows(cache.load_manifest()) == _rows(Manifest(_entries(100, mtime=2)))
    assert whole.exists()


def test_runs_over_a_delta_give_the_facts_of_a_full_manifest(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    whole, delta = _files(_cache(root))
    stored = whole.read_bytes()
    changed = files[-1]
    with open(root / changed, "a", encoding="utf-8") as handle:
        handle.write("\nEXTRA = 1\n")

    after = _run(root, _cache(root), files[-1:], files[:-1])
    assert whole.read_bytes() == stored and delta.exists()
    # the next run gets the unchanged files' facts and the edited one's from manifest + delta
    cache = _cache(root)
    one = _run(root, cache, files[:1], files[1:])
    assert _facts(one) == _facts(after)
    assert _facts(one)[files[0]] == _facts(cold)[files[0]]
    entries = cache.load_manifest().entries
    assert set(entries) == set(files)
    assert entries[changed].key != cache.load_manifest().base_entries[changed].key
