"""Worker processes for the per-file pass, with a per-file time budget and crash isolation.

The parent hands each worker a chunk of (relpath, source) pairs; the worker reports when it
starts each file and sends back each FileResult as soon as it is done, so results stream and
no worker holds more than one tree at a time. A worker that exceeds the time budget on a file
is killed and replaced (the file becomes a ``timed out`` file error); a worker that dies (a
native crash in the parser) is replaced too, and the rest of its chunk is redistributed.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from linter.diagnostics import FileError, FileResult
from linter.runner import LintOptions, Source, in_big_stack, lint_item
from linter.walk import Walker

Item = Source
Progress = Callable[[int], None]
_CHUNK = 16


def _worker(connection: Connection, options: LintOptions) -> None:
    """Worker main loop: receive chunks, report 'start' and the result for each file."""

    def serve() -> None:
        walker = Walker()
        while True:
            try:
                chunk: list[Item] | None = connection.recv()
            except EOFError:
                return
            if chunk is None:
                return
            for item in chunk:
                connection.send(("start", item[0]))
                connection.send(("done", lint_item(item, options, walker)))
            connection.send(("idle", None))

    in_big_stack(serve)


@dataclass
class _Slot:
    """One live worker: its process, its pipe, and the files it still owes us."""

    process: multiprocessing.process.BaseProcess
    connection: Connection
    pending: deque[Item] = field(default_factory=deque)
    current: str | None = None
    started: float = 0.0


class WorkerPool:
    """Runs the per-file pass over items in ``jobs`` processes."""

    def __init__(
        self,
        options: LintOptions,
        jobs: int,
        timeout: float,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> None:
        self.options = options
        self.jobs = jobs
        self.timeout = timeout
        self.on_result = on_result  # sees each worker's result as it arrives (cache writes)
        self.context = multiprocessing.get_context("fork")

    def _spawn(self) -> _Slot:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(child, self.options), daemon=True)
        process.start()
        child.close()
        return _Slot(process, parent)

    def _assign(self, slot: _Slot, queue: deque[Item]) -> None:
        chunk = [queue.popleft() for _ in range(min(_CHUNK, len(queue)))]
        slot.pending.extend(chunk)
        slot.connection.send(chunk)

    def run(self, items: Sequence[Item], progress: Progress | None = None) -> list[FileResult]:
        queue: deque[Item] = deque(items)
        results: list[FileResult] = []
        slots = [self._spawn() for _ in range(min(self.jobs, max(1, len(items))))]
        try:
            for slot in slots:
                if queue:
                    self._assign(slot, queue)
            while any(slot.pending for slot in slots) or queue:
                self._step(slots, queue, results, progress)
        finally:
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
                    slots[index] = self._replace(
                        slot, queue, results, "the parser crashed", progress
                    )
                    continue
                if not slot.pending and queue:
                    self._assign(slot, queue)
            elif slot.current is not None and now - slot.started > self.timeout:
                reason = f"timed out after {self.timeout:g} s"
                slots[index] = self._replace(slot, queue, results, reason, progress)

    def _receive(self, slot: _Slot, results: list[FileResult], progress: Progress | None) -> bool:
        """Drain one worker's messages; False if it died."""
        while slot.connection.poll():
            try:
                kind, value = slot.connection.recv()
            except (EOFError, OSError):
                return False
            if kind == "start":
                slot.current = str(value)
                slot.started = time.monotonic()
            elif kind == "done":
                assert isinstance(value, FileResult)
                results.append(value)
                if self.on_result is not None:
                    self.on_result(value)
                if slot.pending:
                    slot.pending.popleft()
                slot.current = None
                if progress is not None:
                    progress(1)
        return slot.process.is_alive() or not slot.pending

    def _replace(
        self,
        slot: _Slot,
        queue: deque[Item],
        results: list[FileResult],
        reason: str,
        progress: Progress | None,
    ) -> _Slot:
        """Kill a worker, charge its current file with ``reason``, requeue the rest."""
        self._kill(slot)
        if slot.pending and slot.current == slot.pending[0][0]:
            relpath, _ = slot.pending.popleft()
            kind = "timeout" if reason.startswith("timed out") else "crash"
            results.append(FileResult(relpath, errors=(FileError(relpath, reason, kind=kind),)))
            if progress is not None:
                progress(1)
        queue.extendleft(reversed(slot.pending))
        replacement = self._spawn()
        if queue:
            self._assign(replacement, queue)
        return replacement

    @staticmethod
    def _kill(slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join(5)
        slot.connection.close()

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
