"""Output does not depend on the job count or on the state of the cache."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from isolint.cache import Cache
from isolint.diagnostics import Diagnostic, FileResult, Severity, Span
from tests.conftest import FIXTURES, Completed

Run = Callable[..., Completed]


def _big_project(tmp_path: Path) -> Path:
    """The multi-package fixture plus enough copies of a module to make the pool split work."""
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "multi_package", root, ignore=shutil.ignore_patterns(".isolint_cache")
    )
    source = (root / "services/registry.py").read_text()
    for index in range(40):
        (root / f"services/copy_{index}.py").write_text(
            source + f"\n\ndef f{index}(x=[]):\n    return x\n"
        )
    return root


def _json(out: Completed) -> dict[str, object]:
    assert out.returncode in (0, 1), out.stderr
    document: dict[str, object] = json.loads(out.stdout)
    return document


def test_jobs_one_and_two_give_identical_json(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    one = isolint("check", "--no-cache", "--jobs", "1", "--format", "json", ".", cwd=root)
    two = isolint("check", "--no-cache", "--jobs", "2", "--format", "json", ".", cwd=root)
    assert one.stdout == two.stdout
    assert len(_json(one)["diagnostics"]) > 40  # type: ignore[arg-type]


def test_warm_cache_gives_identical_output(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    cold = isolint("check", "--format", "json", ".", cwd=root)
    assert (root / ".isolint_cache/.gitignore").read_text().strip().endswith("*")
    warm = isolint("check", "--format", "json", ".", cwd=root)
    assert cold.stdout == warm.stdout


def test_truncated_and_corrupt_cache_entries_are_ignored(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    cold = isolint("check", "--format", "json", ".", cwd=root)
    entries = [
        p for p in (root / ".isolint_cache").rglob("*") if p.is_file() and p.name != ".gitignore"
    ]
    assert entries
    for number, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if number % 2 else b"garbage")
    again = isolint("check", "--format", "json", ".", cwd=root)
    assert again.stdout == cold.stdout


def test_cache_of_another_version_is_not_read(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    cold = isolint("check", "--format", "json", ".", cwd=root)
    # Poison the entries of a different isolint version: a bogus finding for every file.
    current = next(p for p in (root / ".isolint_cache").iterdir() if p.is_dir())
    foreign = Cache(
        root / ".isolint_cache", "0.0.0-py3.0-000000000000-" + current.name.rsplit("-", 1)[-1]
    )
    bogus = Diagnostic(
        "services/registry.py", Span(1, 1, 1, 2), "ISO101", "x", Severity.ERROR, "bogus", "f"
    )
    keys = [
        e.key for e in Cache(root / ".isolint_cache", current.name).load_manifest().entries.values()
    ]
    assert len(keys) > 40
    for key in keys:
        foreign.put(key, FileResult("services/registry.py", diagnostics=(bogus,)))
    foreign.flush()
    assert foreign.get(keys[0]) is not None  # the poison is there, under every file's key
    shutil.rmtree(current)
    again = isolint("check", "--format", "json", ".", cwd=root)
    assert again.stdout == cold.stdout
    assert "bogus" not in again.stdout


def test_cache_key_depends_on_version_and_configuration(tmp_path: Path) -> None:
    a = Cache.open(tmp_path, "select=ISO1")
    b = Cache.open(tmp_path, "select=ISO2")
    assert a.namespace != b.namespace
    result = FileResult("x.py")
    a.put(a.key("x.py", b"x = 1\n"), result)
    assert a.get(a.key("x.py", b"x = 1\n")) == result
    assert b.get(b.key("x.py", b"x = 1\n")) is None
    assert a.get(a.key("x.py", b"x = 2\n")) is None


def test_no_cache_and_cache_clear(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    isolint("check", "--no-cache", ".", cwd=root)
    assert not (root / ".isolint_cache").exists()
    isolint("check", "--cache-dir", "elsewhere", ".", cwd=root)
    assert (root / "elsewhere/.gitignore").exists()
    isolint("check", ".", cwd=root)
    cleared = isolint("cache", "clear", cwd=root)
    assert cleared.returncode == 0
    assert not (root / ".isolint_cache").exists()


def test_editing_a_callee_re_reports_callers_from_cache(isolint: Run, tmp_path: Path) -> None:
    root = _big_project(tmp_path)
    first = _json(isolint("check", "--format", "json", ".", cwd=root))
    codes = [d["code"] for d in first["diagnostics"]]  # type: ignore[union-attr,index]
    assert "ISO401" in codes
    notifier = root / "src/notify/notifier.py"
    notifier.write_text(
        notifier.read_text().replace("emitter: Emitter,", "emitter: Optional[Emitter],")
    )
    second = _json(isolint("check", "--format", "json", ".", cwd=root))
    after = [d for d in second["diagnostics"] if d["code"] == "ISO401"]  # type: ignore[union-attr,index]
    assert len(after) < codes.count("ISO401")
