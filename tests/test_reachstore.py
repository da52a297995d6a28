"""The stored reachability (issue 13, ``isolint.reachstore``): a cached run whose edits leave the
call graph the same but for lines reuses what requests reached instead of building the graph,
and gives exactly what a run without cache gives; any other edit builds the graph again.

Each step edits the Flask fixture, then compares the cached CLI's JSON with ``--no-cache``'s,
for a partial run (the edited files, the rest as context) and a whole one. Whether the stored
result was reused is seen on disk: a run that builds the graph writes it again."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Completed

Run = Callable[..., Completed]


def _old(root: Path) -> None:
    """Every file looks old: the manifest trusts its stat (only edited files are read)."""
    past = time.time() - 3600
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))


def _reached(cache: Path) -> bytes:
    [found] = cache.glob("*/reached")
    return found.read_bytes()


def _same(isolint: Run, root: Path, cache: Path, *targets: str) -> str:
    """Cached and uncached runs of ``targets`` print the same JSON; it is returned."""
    cached = isolint("check", "--format", "json", "--cache-dir", str(cache), *targets, cwd=root)
    clean = isolint("check", "--format", "json", "--no-cache", *targets, cwd=root)
    assert cached.returncode == clean.returncode, cached.stderr
    assert cached.stdout == clean.stdout
    return cached.stdout


def _edit(root: Path, relpath: str, change: Callable[[str], str]) -> None:
    path = root / relpath
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def test_edits_give_what_a_run_without_cache_gives(isolint: Run, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "flask_app", root, ignore=shutil.ignore_patterns(".isolint_cache"))
    cache = tmp_path / "cache"
    _old(root)
    first = _same(isolint, root, cache, ".")
    assert "reached from" in first
    stored = _reached(cache)

    # (a) a comment: nothing in the graph changes; the stored result is reused
    _edit(root, "shop/views.py", lambda text: text + "# a comment\n")
    _same(isolint, root, cache, "shop/views.py")
    _same(isolint, root, cache, ".")
    assert _reached(cache) == stored

    # (b) lines shift in the files of the request path: the path shows the new lines
    for relpath in ("shop/views.py", "shop/cart.py"):
        _edit(root, relpath, lambda text: "# a first line\n\n" + text)
    shifted = _same(isolint, root, cache, "shop/views.py", "shop/cart.py")
    assert shifted != first
    _same(isolint, root, cache, ".")
    assert _reached(cache) == stored

    # (c) a new call makes a function request-reachable: the graph is built again
    _edit(
        root,
        "shop/views.py",
        lambda text: text.replace(
            "    remember_cart(cart_id)\n",
            "    remember_cart(cart_id)\n    from shop.cart import warm\n\n    warm()\n",
        ),
    )
    reachable = _same(isolint, root, cache, "shop/views.py")
    whole = _same(isolint, root, cache, ".")
    assert "_warm_keys" in whole and "_warm_keys" not in first
    assert _reached(cache) != stored
    stored = _reached(cache)

    # and a comment after it reuses the new result
    _edit(root, "shop/cart.py", lambda text: text + "# another comment\n")
    assert _same(isolint, root, cache, "shop/views.py") == reachable
    _same(isolint, root, cache, ".")
    assert _reached(cache) == stored

    # (d) an entry point removed: what only it reached is no longer reported
    _edit(
        root,
        "shop/views.py",
        lambda text: text.replace('@bp.route("/carts/<cart_id>", methods=["POST"])\n', ""),
    )
    _same(isolint, root, cache, "shop/views.py", "shop/cart.py")
    removed = _same(isolint, root, cache, ".")
    assert "_recent_carts" not in removed and "_recent_carts" in first
    assert _reached(cache) != stored


def test_a_corrupt_stored_result_is_a_miss(isolint: Run, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "flask_app", root, ignore=shutil.ignore_patterns(".isolint_cache"))
    cache = tmp_path / "cache"
    _old(root)
    _same(isolint, root, cache, ".")
    [stored] = cache.glob("*/reached")
    raw = bytearray(stored.read_bytes())
    raw[-2] ^= 0x01
    stored.write_bytes(bytes(raw))
    _edit(root, "shop/views.py", lambda text: text + "# a comment\n")
    _same(isolint, root, cache, "shop/views.py")
    assert stored.read_bytes() != bytes(raw)  # built again and stored whole


@pytest.mark.parametrize(
    "fixture",
    ["celery_worker", "django_app", "example_project", "fastapi_app", "request_bleed"],
)
def test_shifted_lines_in_every_file_give_the_new_paths(
    isolint: Run, tmp_path: Path, fixture: str
) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / fixture, root, ignore=shutil.ignore_patterns(".isolint_cache"))
    cache = tmp_path / "cache"
    _old(root)
    first = _same(isolint, root, cache, ".")
    stored = _reached(cache)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    for number, relpath in enumerate(files):
        _edit(root, relpath, lambda text, n=number: "# shifted\n" * (1 + n % 3) + text)
    assert _same(isolint, root, cache, *files[:2]) is not None
    shifted = _same(isolint, root, cache, ".")
    assert _reached(cache) == stored  # reused
    assert shifted != first or "reached from" not in first
