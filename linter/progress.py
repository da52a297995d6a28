"""A progress bar on stderr for long runs: only on a terminal, never in --quiet or CI logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MIN_FILES = 200
_WIDTH = 30
_EVERY = 0.1


@contextmanager
def progress_bar(total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callback; draws ``[####   ] done/total files, N files/s, ETA``."""
    stream = sys.stderr
    if not enabled or total <= MIN_FILES or not stream.isatty():
        yield lambda count: None
        return
    start = time.monotonic()
    done = 0
    last = 0.0

    def draw() -> None:
        elapsed = max(time.monotonic() - start, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        filled = int(_WIDTH * done / total)
        bar = "#" * filled + " " * (_WIDTH - filled)
        stream.write(f"\r[{bar}] {done}/{total} files  {rate:,.0f} files/s  ETA {eta:,.0f}s ")
        stream.flush()

    def advance(count: int) -> None:
        nonlocal done, last
        done += count
        now = time.monotonic()
        if now - last >= _EVERY or done >= total:
            last = now
            draw()

    try:
        yield advance
    finally:
        stream.write("\r" + " " * (_WIDTH + 60) + "\r")
        stream.flush()
