"""One computation in a forked child process, beside the parent's own work.

A cold run's global phase is serial: the workers are done and one core idles. The project rules
read the finished project index but not the call graph, so they can run in a child (a copy of
the parent, index included, by ``fork``) while the parent builds the graph. The child sends its
result back pickled through a pipe (between two processes of the same run; nothing is stored)
and exits. Whatever goes wrong in the child (an exception, a crash, an undecodable result), the
parent computes the result itself, so the outcome is the same as without a child; a parent that
stops early (Ctrl-C, an error) kills and reaps the child. The child ignores Ctrl-C, as workers
do, and dies with the parent.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from isolint.worker import die_with_parent, leave_signals_to_the_parent

T = TypeVar("T")


@dataclass
class Forked(Generic[T]):
    """A computation started in a child (``pid``, read from ``reader``), or not (both None)."""

    compute: Callable[[], T]
    pid: int | None = None
    reader: int | None = None

    def result(self) -> T:
        """The child's result; computed here when there is no child or it failed."""
        if self.pid is None or self.reader is None:
            return self.compute()
        pid, reader = self.pid, self.reader
        self.pid = self.reader = None
        data = b""
        try:
            with os.fdopen(reader, "rb") as pipe:
                data = pipe.read()
        except OSError:
            data = b""
        finally:
            _, status = _reap(pid)
        if status == 0 and data:
            try:
                value: T = pickle.loads(data)  # our own child's, through our own pipe
                return value
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
                pass
        return self.compute()

    def cancel(self) -> None:
        """Kill and reap the child, if there is one still."""
        if self.pid is None or self.reader is None:
            return
        pid, reader = self.pid, self.reader
        self.pid = self.reader = None
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(reader)
        _reap(pid)


def start(compute: Callable[[], T]) -> Forked[T]:
    """Run ``compute`` in a forked child; without ``fork`` (or when it fails), ``result``
    computes it in this process."""
    if not hasattr(os, "fork"):
        return Forked(compute)
    parent = os.getpid()
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return Forked(compute)
    if pid == 0:  # the child: compute, send, and leave without running the parent's exit code
        status = 1
        try:
            os.close(reader)
            leave_signals_to_the_parent()
            die_with_parent(parent)
            data = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(data)
            status = 0
        except BaseException:  # noqa: BLE001, S110 - the parent computes it again, and reports
            pass
        finally:
            os._exit(status)
    os.close(writer)
    return Forked(compute, pid, reader)


def _reap(pid: int) -> tuple[int, int]:
    """Wait for the child; its exit status (-1 when it cannot be waited for)."""
    while True:
        try:
            waited, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return pid, -1
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
        return waited, os.waitstatus_to_exitcode(status)
