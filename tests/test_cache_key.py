"""The per-file cache is keyed on what a file's analysis depends on, not on selection or limits."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from isolint.check import per_file_key, per_file_rules, run_check
from isolint.config import Settings
from isolint.diagnostics import RunResult
from isolint.selection import select_rules
from isolint.session import Options, prepare
from isolint.rules import load_rules

RULES = load_rules()

SERVICE = """
CACHE = {}


def remember(user_id, value):
    CACHE[user_id] = value


def handler(items=[]):
    return len(items)
"""


def _write(root: Path, config: str) -> None:
    (root / "pyproject.toml").write_text(
        "[tool.isolint]\n" + textwrap.dedent(config), encoding="utf-8"
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("service", "other", "third"):
        target = tmp_path / "app" / f"{name}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(SERVICE).lstrip("\n"), encoding="utf-8")
    _write(tmp_path, "")
    return tmp_path


def _run(root: Path, **options: object) -> tuple[RunResult, str, dict[Path, int]]:
    """A cached run: its result, the cache namespace and every cache file's mtime after it."""
    prepared = prepare(Options(paths=(root,), **options), RULES)  # type: ignore[arg-type]
    result = run_check(prepared.request)
    cache = prepared.request.cache
    assert cache is not None
    files = sorted(p for p in (cache.directory / cache.namespace).rglob("*") if p.is_file())
    return result, cache.namespace, {p: p.stat().st_mtime_ns for p in files}


def _entries(stamps: dict[Path, int]) -> dict[Path, int]:
    """The packs (of the per-file entries) among the cache's files."""
    return {p: t for p, t in stamps.items() if p.suffix == ".pack"}


def _codes(result: RunResult) -> set[str]:
    return {d.code for d in result.diagnostics}


@pytest.mark.parametrize(
    "config",
    [
        'ignore = ["ISO204"]',
        'per-file-ignores = { "app/other.py" = ["ISO204"] }',
        'select = ["ISO201"]',
        "timeout = 120",
        'extend-exclude = ["app/third.py"]',
    ],
)
def test_filtering_settings_reuse_the_per_file_cache(project: Path, config: str) -> None:
    before, namespace, stamps = _run(project)
    assert {"ISO201", "ISO204"} <= _codes(before)
    _write(project, config)
    after, namespace_after, stamps_after = _run(project)
    assert namespace_after == namespace
    entries = _entries(stamps)
    assert entries, "the first run wrote no cache entry"
    # no entry was written again: every file's result came from the cache
    assert {p: t for p, t in _entries(stamps_after).items() if p in entries} == entries
    assert set(_entries(stamps_after)) == set(entries)
    if "ignore = " in config and "per-file" not in config:
        assert _codes(after) == _codes(before) - {"ISO204"}
    if "per-file-ignores" in config:
        assert not any(d.code == "ISO204" and d.path == "app/other.py" for d in after.diagnostics)
        assert any(d.code == "ISO204" and d.path == "app/service.py" for d in after.diagnostics)
    if "select" in config:
        assert _codes(after) == {"ISO201"}


def test_ignore_on_the_command_line_reuses_the_cache_and_unignoring_restores_findings(
    project: Path,
) -> None:
    before, namespace, stamps = _run(project)
    ignored, namespace_ignored, _ = _run(project, ignore="ISO204")
    again, namespace_again, stamps_again = _run(project)
    assert namespace == namespace_ignored == namespace_again
    assert "ISO204" not in _codes(ignored)
    assert [(d.path, d.span, d.code, d.message) for d in again.diagnostics] == [
        (d.path, d.span, d.code, d.message) for d in before.diagnostics
    ]
    assert _entries(stamps_again) == _entries(stamps)


def test_settings_a_files_analysis_reads_change_the_key() -> None:
    analysed = per_file_rules(RULES, select_rules(RULES, None, (), ()))
    base = per_file_key(Settings(), analysed)
    assert (
        per_file_key(
            Settings(options=(("shared-state-classes", ("cachetools.TTLCache",)),)), analysed
        )
        != base
    )
    assert per_file_key(Settings(src=("lib",)), analysed) != base
    assert per_file_key(Settings(ignore=("ISO2",), timeout=5.0), analysed) == base
    # enabling an off-by-default rule runs one more rule per file: a new key
    extra = per_file_rules(RULES, select_rules(RULES, None, ("ISO402",), ()))
    assert per_file_key(Settings(), extra) != base


def test_narrowed_selection_still_analyses_every_default_rule() -> None:
    enabled = select_rules(RULES, ("ISO201",), (), ())
    analysed = per_file_rules(RULES, enabled)
    assert {r.code for r in analysed} == {r.code for r in RULES if r.default_enabled}
