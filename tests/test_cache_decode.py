"""What a run decodes from the cache (issue 13: warm runs must stay cheap).

The codec counts every instance it rebuilds (``Codec.rebuilt``, a real counter: no mocks), so
these tests hold a warm run to decoding each file's cached result once: the manifest keeps
each file's facts encoded and decodes them only for a file the run does not lint (its entry is
not read), and rewriting the manifest passes the unchanged files' facts through untouched.
A warm run that decoded the facts from both the manifest and the entries (as isolint did
before) rebuilt every ``PackedFacts`` twice.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from isolint.cache import Cache, Manifest, ManifestEntry
from isolint.check import CheckRequest, lint_files
from isolint.config import Settings
from isolint.diagnostics import FileResult
from isolint.discovery import SourceFile
from isolint.facts import PackedFacts
from isolint.rule import Rule, payload_classes
from isolint.rules import load_rules
from isolint.serial import Codec, type_tag
from tests.conftest import FIXTURES

_PACKED = type_tag(PackedFacts)
_RESULT = type_tag(FileResult)
_RULES: tuple[type[Rule], ...] = tuple(rule for rule in load_rules() if rule.default_enabled)


def _project(tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of a fixture project whose files look old (the manifest trusts their stat)."""
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package", root, ignore=shutil.ignore_patterns(".isolint_cache")
    )
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    past = time.time() - 3600
    for relpath in files:
        os.utime(root / relpath, (past, past))
    return root, files


def _cache(root: Path) -> Cache:
    """A cache with a fresh codec (its counter starts at zero), as each run opens it."""
    return Cache.open(root.parent / "cache", "decode-test", payload_classes(_RULES))


def _run(root: Path, cache: Cache, targets: list[str], context: list[str]) -> list[FileResult]:
    request = CheckRequest(
        root,
        Settings(),
        _RULES,
        tuple(SourceFile(root / relpath, relpath) for relpath in targets),
        cache=cache,
        context_files=tuple(SourceFile(root / relpath, relpath) for relpath in context),
    )
    return lint_files(request)


def _facts(results: list[FileResult]) -> dict[str, object]:
    return {r.path: r.facts for r in results}


def test_a_warm_run_decodes_each_cached_result_once(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    assert sum(isinstance(r.facts, PackedFacts) for r in cold) == len(files)
    assert any(r.diagnostics for r in cold) and any(r.candidates for r in cold)

    warm_cache = _cache(root)
    warm = _run(root, warm_cache, files, [])
    assert warm == cold
    # one FileResult and one PackedFacts per file, from its entry; none from the manifest
    assert warm_cache.codec.rebuilt[_RESULT] == len(files)
    assert warm_cache.codec.rebuilt[_PACKED] == len(files)


def test_files_not_linted_get_their_facts_from_the_manifest_only(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    target, context = files[:1], files[1:]

    cache = _cache(root)
    one = _run(root, cache, target, context)
    assert cache.codec.rebuilt[_RESULT] == 1  # the target's entry; the others' are not read
    assert cache.codec.rebuilt[_PACKED] == len(files)  # the target's, and each other file's
    assert _facts(one) == _facts(cold)
    assert [r for r in one if r.path in target] == [r for r in cold if r.path in target]


def test_rewriting_the_manifest_keeps_unchanged_facts_as_they_were(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    before = _cache(root).load_manifest().entries
    changed = files[-1]
    with open(root / changed, "a", encoding="utf-8") as handle:
        handle.write("\nEXTRA = 1\n")

    cache = _cache(root)
    after = _run(root, cache, files, [])
    # the others come from their entries; the edited file is linted, and its worker's result
    # arrives sealed as its cache entry (``Cache.seal``): opened once, the manifest's not read
    assert cache.codec.rebuilt[_PACKED] == len(files)
    assert cache.codec.rebuilt[_RESULT] == len(files)
    entries = _cache(root).load_manifest().entries
    assert set(entries) == set(files)
    for relpath in files:
        if relpath != changed:
            assert entries[relpath] == before[relpath]  # same key, stat and stored bytes
    assert entries[changed].key != before[changed].key
    # and what it stores decodes to the facts a run without cache finds
    reader = _cache(root)
    for relpath, entry in entries.items():
        result = reader.facts_result(relpath, entry)
        assert result is not None
        assert result.facts == _facts(after)[relpath]
    assert _facts(after)[files[0]] == _facts(cold)[files[0]]


def test_corrupt_facts_in_the_manifest_are_a_miss(tmp_path: Path) -> None:
    root, files = _project(tmp_path)
    cold = _run(root, _cache(root), files, [])
    cache = _cache(root)
    entries = dict(cache.load_manifest().entries)
    broken = files[1]
    good = entries[broken]
    entries[broken] = ManifestEntry(good.key, good.mtime_ns, good.size, stored=b"[[1],[5]]")
    cache.save_manifest(Manifest(entries))

    reader = _cache(root)
    assert reader.facts_result(broken, reader.load_manifest().entries[broken]) is None
    one = _run(root, reader, files[:1], files[1:])
    assert _facts(one) == _facts(cold)  # the broken file was read again, its entry used


@dataclass(frozen=True)
class Defaults:
    """Fields with plain defaults, one of them ``0`` (which ``False`` equals)."""

    name: str
    count: object = 0
    tags: tuple[str, ...] = ()
    note: str = ""


def test_trailing_defaults_are_not_stored_and_come_back_exactly() -> None:
    codec = Codec.create((Defaults,))
    values = [
        Defaults("a"),
        Defaults("a", False),  # equal to the default 0, but not the same value
        Defaults("a", 0.0),
        Defaults("a", 0, ("x",)),
        Defaults("a", 0, (), "n"),
        Defaults("a", 1, (), ""),
    ]
    for value in values:
        back = codec.loads(codec.dumps(value))
        assert back == value and isinstance(back, Defaults)
        assert type(back.count) is type(value.count)
    assert len(codec.dumps(Defaults("a"))) < len(codec.dumps(Defaults("a", 1, ("x",), "n")))
    assert b'"a"]]' in codec.dumps(Defaults("a"))  # nothing after the one required field
