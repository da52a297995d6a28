"""A worker process's guards: it never outlives its parent, ignores Ctrl-C, has a memory ceiling."""

from __future__ import annotations

import ctypes
import gc
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

GIB = 1 << 30
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_SECONDS = 0.5
_STATM = "/proc/self/statm"
_NEAR_LIMIT = 32 << 20  # a failed allocation of CPython's parser or AST is far smaller


def memory_limit_message(gib: float) -> str:
    return f"exceeds the memory limit of {gib:g} GiB"


def close_inherited(connections: Iterable[Connection]) -> None:
    """Close the parent's ends of every pipe this fork inherited (its own included).

    Otherwise the worker itself keeps its pipe's other end open and never sees EOF when the
    parent dies.
    """
    for connection in connections:
        connection.close()


def die_with_parent(parent_pid: int) -> None:
    """Exit when the parent process dies, whatever killed it.

    On Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``), even in the middle of a long
    native parse; elsewhere, and as a fallback, a thread polls the parent pid. The pool that
    forks workers runs in one thread for their whole life, as PDEATHSIG requires.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # it died before the prctl call
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="watch-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)


def leave_signals_to_the_parent() -> None:
    """Ctrl-C reaches the whole process group: the parent stops the run, workers ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# A file's trees are short-lived and acyclic (LibCST nodes hold no parent links): collections
# mostly scan objects that live for the whole process, so they run less often (as mypy does).
_GC_THRESHOLDS = (100_000, 50, 100)


def collect_less() -> None:
    """Exempt what the worker holds now (modules, rules) from collections, and collect less
    often: about 7 % of a worker's time otherwise (measured on saleor, 600 files)."""
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


@contextmanager
def collecting_less() -> Iterator[None]:
    """``collect_less`` for the length of a run in a process that outlives it (the parent,
    which holds every file's results: about 10 % of its time), then as before."""
    previous = gc.get_threshold()
    collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def redirect_stderr(fd: int) -> None:
    """Send the worker's stderr (a native parser's last words) where the parent can read it."""
    sys.stderr.flush()
    os.dup2(fd, 2)


def peak_address_space() -> int | None:
    """This process's peak address space in bytes (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            text = status.read()  # read before every parse: find the one line, split nothing else
        start = text.index("\nVmPeak:") + len("\nVmPeak:")
        return int(text[start : text.index("\n", start)].split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None


def reached_memory_limit(peak_before: int | None) -> bool:
    """Whether the address space grew to its ``RLIMIT_AS`` since ``peak_before`` was taken.

    Tells a MemoryError of the memory limit from one that only names a parser's own limit
    (CPython's parser reports its stack overflowing as a MemoryError).
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    peak = peak_address_space()
    if soft == resource.RLIM_INFINITY or peak is None or peak_before is None:
        return False
    return peak > peak_before and peak >= soft - _NEAR_LIMIT


def limit_memory(gib: float) -> bool:
    """Cap the address space at what is mapped now plus ``gib`` GiB; False where unsupported.

    Mapped now includes the big parser stack, so the limit is what one file's analysis may
    allocate. Python then raises MemoryError; LibCST's native parser aborts the process.
    """
    try:
        with open(_STATM, encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = mapped + int(gib * GIB)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (OSError, ValueError, IndexError):
        return False
    return True
