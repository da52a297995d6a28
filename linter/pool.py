"""Worker processes for the per-file pass, with a per-file time budget and crash isolation.

The parent hands each worker a chunk of (relpath, source) pairs; the worker sends back each
FileResult as soon as it is done, in the chunk's order, so results stream and no worker holds
more than one tree at a time. The file a worker is on is the first of its chunk it has not
answered yet (it starts the next file as soon as it sends a result), timed from that result:
no message per file start. A worker that exceeds the time budget on a file
is killed and replaced (the file becomes a ``timed out`` file error); a worker that dies (a
native crash in the parser) is replaced too, and the rest of its chunk is redistributed.

Each worker has a memory ceiling (a file past it is a ``exceeds the memory limit`` file error),
ignores Ctrl-C (the parent stops the run and kills its workers at once), and dies with its
parent whatever killed it (see isolint.worker).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import IO, Protocol

from isolint.diagnostics import FileError, FileResult
from isolint.runner import LintOptions, Source, in_big_stack, lint_item
from isolint.walk import Walker
from isolint.worker import (
    close_inherited,
    collect_less,
    die_with_parent,
    leave_signals_to_the_parent,
    limit_memory,
    memory_limit_message,
    redirect_stderr,
)

Item = Source
Progress = Callable[[int], None]
# sees each result as it arrives, with its cache entry's bytes when a worker sealed it
OnResult = Callable[[FileResult, bytes | None], None]


class Entries(Protocol):
    """How results travel as cache entries (``isolint.cache.Cache``): a worker seals each result
    (the parent then neither encodes it for the cache nor unpickles it), the parent opens it."""

    def seal(self, result: FileResult) -> bytes | None: ...

    def unseal(self, payload: bytes) -> FileResult | None: ...


_CHUNK = 16
_LAST_WORDS = 4096  # bytes of a dead worker's stderr read to tell why it died
_NATIVE_OUT_OF_MEMORY = b"memory allocation of"  # Rust's message before it aborts


def _worker(
    connection: Connection,
    options: LintOptions,
    inherited: list[Connection],
    parent_pid: int,
    stderr_fd: int,
    entries: Entries | None = None,
) -> None:
    """Worker main loop: receive chunks, report 'start' and the result for each file (sealed
    as its cache entry when ``entries`` is given and the result can be stored)."""
    leave_signals_to_the_parent()
    close_inherited(inherited)
    die_with_parent(parent_pid)
    redirect_stderr(stderr_fd)

    def serve() -> None:
        limit_memory(options.settings.memory_limit)  # here: the big stack is already mapped
        walker = Walker()
        collect_less()
        while True:
            try:
                chunk: list[Item] | None = connection.recv()
            except EOFError:
                return
            if chunk is None:
                return
            for item in chunk:
                result = lint_item(item, options, walker)
                payload = _sealed(entries, result) if entries is not None else None
                if payload is None:
                    connection.send(("done", result))
                else:
                    connection.send(("sealed", payload))
                if any(error.kind == "memory" for error in result.errors):
                    return  # a fresh worker takes the rest: this one's heap is fragmented
            connection.send(("idle", None))

    in_big_stack(serve)


def _sealed(entries: Entries, result: FileResult) -> bytes | None:
    try:
        return entries.seal(result)
    except MemoryError:  # the result as it is, then
        return None


@dataclass
class _Slot:
    """One live worker: its process, its pipe, and the files it still owes us."""

    process: multiprocessing.process.BaseProcess
    connection: Connection
    stderr: IO[bytes]
    pending: deque[Item] = field(default_factory=deque)
    current: str | None = None
    started: float = 0.0


def _how(exitcode: int | None) -> str:
    """`` (SIGSEGV)`` for a worker killed by a signal."""
    if exitcode is None or exitcode >= 0:
        return ""
    try:
        return f" ({signal.Signals(-exitcode).name})"
    except ValueError:
        return f" (signal {-exitcode})"


class WorkerPool:
    """Runs the per-file pass over items in ``jobs`` processes."""

    def __init__(
        self,
        options: LintOptions,
        jobs: int,
        timeout: float,
        on_result: OnResult | None = None,
        entries: Entries | None = None,
    ) -> None:
        self.options = options
        self.jobs = jobs
        self.timeout = timeout
        self.on_result = on_result  # sees each worker's result as it arrives (cache writes)
        self.entries = entries
        self.context = multiprocessing.get_context("fork")

    def _spawn(self, others: Sequence[_Slot]) -> _Slot:
        parent, child = self.context.Pipe()
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        inherited = [parent, *(slot.connection for slot in others)]
        args = (child, self.options, inherited, os.getpid(), stderr.fileno(), self.entries)
        process = self.context.Process(target=_worker, args=args, daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent, stderr)

    def _assign(self, slot: _Slot, queue: deque[Item]) -> None:
        # smaller chunks as the queue runs out, so the workers finish together (guided)
        size = min(len(queue), max(1, min(_CHUNK, len(queue) // (2 * self.jobs))))
        chunk = [queue.popleft() for _ in range(size)]
        if not slot.pending and chunk:  # an idle worker starts on the chunk's first file now
            slot.current = chunk[0][0]
            slot.started = time.monotonic()
        slot.pending.extend(chunk)
        slot.connection.send(chunk)

    def run(self, items: Sequence[Item], progress: Progress | None = None) -> list[FileResult]:
        queue: deque[Item] = deque(items)
        results: list[FileResult] = []
        slots: list[_Slot] = []
        try:
            for _ in range(min(self.jobs, max(1, len(items)))):
                slots.append(self._spawn(slots))
            for slot in slots:
                if queue:
                    self._assign(slot, queue)
            while any(slot.pending for slot in slots) or queue:
                self._step(slots, queue, results, progress)
        except BaseException:  # Ctrl-C, SIGTERM or a bug: no worker outlives the run
            for slot in slots:
                self._kill(slot)
            raise
        for slot in slots:
            self._stop(slot)
        return results

    def _step(
        self,
        slots: list[_Slot],
        queue: deque[Item],
        results: list[FileResult],
        progress: Progress | None,
    ) -> None:
        busy = [s for s in slots if s.pending]
        if not busy:  # every worker idle but work left: hand it out
            for slot in slots:
                if queue:
                    self._assign(slot, queue)
            return
        ready = wait([s.connection for s in busy], timeout=0.2)
        now = time.monotonic()
        for index, slot in enumerate(slots):
            if slot.connection in ready:
                if not self._receive(slot, results, progress):
                    slots[index] = self._replace(slots, index, queue, results, None, progress)
                    continue
                if not slot.pending and queue:
                    self._assign(slot, queue)
            elif slot.current is not None and now - slot.started > self.timeout:
                reason = f"timed out after {self.timeout:g} s"
                slots[index] = self._replace(slots, index, queue, results, reason, progress)

    def _receive(self, slot: _Slot, results: list[FileResult], progress: Progress | None) -> bool:
        """Drain one worker's messages; False if it died."""
        while slot.connection.poll():
            try:
                kind, value = slot.connection.recv()
            except (EOFError, OSError):
                return False
            if kind in ("done", "sealed"):
                payload = value if kind == "sealed" else None
                result = self._opened(slot, payload) if payload is not None else value
                assert isinstance(result, FileResult)
                results.append(result)
                if self.on_result is not None:
                    self.on_result(result, payload)
                if slot.pending:
                    slot.pending.popleft()
                # the worker is on its next file now, unless it leaves after a memory error
                leaving = any(error.kind == "memory" for error in result.errors)
                slot.current = slot.pending[0][0] if slot.pending and not leaving else None
                slot.started = time.monotonic()
                if progress is not None:
                    progress(1)
        return slot.process.is_alive() or not slot.pending

    def _opened(self, slot: _Slot, payload: bytes) -> FileResult:
        """The result a worker sealed (a file error, should it not open: never seen)."""
        result = self.entries.unseal(payload) if self.entries is not None else None
        if result is not None:
            return result
        relpath = slot.pending[0][0] if slot.pending else "<unknown>"
        return FileResult(
            relpath,
            errors=(
                FileError(
                    relpath, "internal error: a worker's result did not decode", kind="internal"
                ),
            ),
        )

    def _replace(
        self,
        slots: list[_Slot],
        index: int,
        queue: deque[Item],
        results: list[FileResult],
        reason: str | None,
        progress: Progress | None,
    ) -> _Slot:
        """Kill a worker, charge its current file with ``reason``, requeue the rest.

        ``reason`` None: the worker died on its own, and how it died says why.
        """
        slot = slots[index]
        slot.process.kill()
        slot.process.join(5)
        if slot.pending and slot.current == slot.pending[0][0]:
            relpath, _ = slot.pending.popleft()
            error = self._error(relpath, reason, slot)
            results.append(FileResult(relpath, errors=(error,)))
            if progress is not None:
                progress(1)
        self._kill(slot)
        queue.extendleft(reversed(slot.pending))
        replacement = self._spawn([s for s in slots if s is not slot])
        if queue:
            self._assign(replacement, queue)
        return replacement

    def _error(self, relpath: str, reason: str | None, slot: _Slot) -> FileError:
        if reason is not None:
            return FileError(relpath, reason, kind="timeout")
        slot.stderr.seek(0, os.SEEK_END)
        slot.stderr.seek(max(0, slot.stderr.tell() - _LAST_WORDS))
        last_words = slot.stderr.read()
        if _NATIVE_OUT_OF_MEMORY in last_words or b"MemoryError" in last_words:
            message = memory_limit_message(self.options.settings.memory_limit)
            return FileError(relpath, message, kind="memory")
        return FileError(relpath, f"the parser crashed{_how(slot.process.exitcode)}", kind="crash")

    @staticmethod
    def _kill(slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join(5)
        slot.connection.close()
        slot.stderr.close()

    @staticmethod
    def _stop(slot: _Slot) -> None:
        try:
            slot.connection.send(None)
        except (OSError, ValueError):
            pass
        slot.process.join(2)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(2)
        slot.connection.close()
        slot.stderr.close()
