"""The manifest's two parts (issue 13): ``manifest`` holds each file's stat row and names the
``manifest-facts`` it goes with by checksum; the facts are read only when a run asks for them.
A facts part that is missing, truncated, corrupt or another manifest's gives no facts: the
files are read from their entries (a miss), never decoded from the wrong bytes, and the next
manifest written holds their facts again. A file that does not parse is cached like any other
(its result depends only on its bytes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from isolint.cache import Cache, Manifest, ManifestEntry
from isolint.diagnostics import FileResult
from isolint.serial import type_tag

from tests.test_cache_decode import _cache, _facts, _project, _run


def _parts(cache: Cache) -> tuple[Path, Path]:
    directory = cache.directory / cache.namespace
    return directory / "manifest", directory / "manifest-facts"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))


def _planted(path: Path) -> None:
    """A well-sealed facts part of another manifest (the same rows, other files' facts)."""
    cache = Cache(path.parent.parent, path.parent.name)
    entries = cache.load_manifest().entries
    texts = [e.encoded() for e in reversed(entries.values())]
    other = Cache(path.parent.parent, f"{path.parent.name}-other")
    other.save_manifest(
        Manifest(
            {
                relpath: ManifestEntry(e.key, e.mtime_ns, e.size, stored=text)
                for (relpath, e), text in zip(entries.items(), texts)
            }
        )
    )
    path.write_bytes((path.parent.parent / other.namespace / "manifest-facts").read_bytes())


def test_the_stat_part_names_the_facts_part_and_rows_decode_lazily(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    stats, facts = _parts(_cache(root))
    assert stats.is_file() and facts.is_file()
    assert stats.stat().st_size < facts.stat().st_size  # stat rows only, no facts text

    reader = _cache(root)
    entries = reader.load_manifest().entries
    assert all(e.stored is None and e.where is not None for e in entries.values())
    for relpath, entry in entries.items():
        result = reader.facts_result(relpath, entry)
        assert result is not None and result.facts == _facts(cold)[relpath]


@pytest.mark.parametrize("damage", [Path.unlink, _truncate, _flip, _planted])
def test_a_broken_facts_part_is_a_miss_and_is_written_again(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    _, facts = _parts(_cache(root))
    damage(facts)

    reader = _cache(root)
    entries = reader.load_manifest().entries
    assert len(entries) == len(files)  # the stat part alone is fine
    assert all(reader.facts_result(p, e) is None for p, e in entries.items())

    # files not linted get their facts from their entries instead, and the whole manifest is
    # written again (the linted file's row, whose facts were lost with the part, left out)
    one = _run(root, _cache(root), files[:1], files[1:])
    assert _facts(one) == _facts(cold)
    again = _cache(root)
    rows = again.load_manifest().entries
    assert set(rows) >= set(files[1:])
    for relpath, entry in rows.items():
        result = again.facts_result(relpath, entry)
        assert result is not None and result.facts == _facts(cold)[relpath]
    # and the next run has them all again
    assert _facts(_run(root, _cache(root), files[:1], files[1:])) == _facts(cold)
    rows = _cache(root).load_manifest().entries
    assert set(rows) == set(files)
    assert all(_cache(root).facts_result(p, e) is not None for p, e in rows.items())


def test_a_full_rewrite_keeps_facts_read_from_the_old_part(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    cache = _cache(root)
    loaded = cache.load_manifest()
    cache.save_manifest(Manifest(dict(loaded.entries)))  # no base: the whole manifest again
    reader = _cache(root)
    for relpath, entry in reader.load_manifest().entries.items():
        result = reader.facts_result(relpath, entry)
        assert result is not None and result.facts == _facts(cold)[relpath]


def test_a_file_that_does_not_parse_is_cached_like_any_other(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    broken = "services/broken.py"
    (root / broken).write_text("def broken(:\n    pass\n", encoding="utf-8")
    past = (root / files[0]).stat().st_mtime
    os.utime(root / broken, (past, past))
    files = sorted([*files, broken])
    cold = _run(root, _cache(root), files, [])
    assert [e.kind for r in cold if r.path == broken for e in r.errors] == ["syntax"]

    warm_cache = _cache(root)
    assert _run(root, warm_cache, files, []) == cold
    # every result, the broken file's too, came from its entry: none was linted again
    assert warm_cache.codec.rebuilt[type_tag(FileResult)] == len(files)
