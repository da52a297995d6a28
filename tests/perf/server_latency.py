"""Diagnostics latency of ``isolint server`` for an edited 500-line file in a 2,000-file project.

Not part of the test suite. Usage::

    python tests/perf/server_latency.py [--files 2000] [--edits 15] [--debounce 0.15]

Generates a project (packages of services, factories and callers across modules) in a temporary
directory, warms the cache with ``isolint check``, starts ``isolint server`` with pygls' own
LanguageClient, opens the 500-line file and a caller of it, and then, ``--edits`` times, changes
a factory's parameter name in the unsaved buffer. Each edit changes the diagnostics of the edited
file, so each produces a publishDiagnostics; the time from sending didChange to receiving it,
minus the debounce, is the latency (median, min, max printed), and the server process's CPU
time for each edit (from ``/proc``, so a loaded machine does not inflate it) is printed too.
Downloads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

_MODULE = '''\
"""Generated module {index}."""

from pkg{pkg}.base import Base{pkg}


class Service{index}(Base{pkg}):
    def __init__(self, repository, timeout=5):
        self.repository = repository
        self.timeout = timeout

    def fetch(self, key):
        return self.repository.get(key)


def create_service{index}(repository):
    return Service{index}(repository)


def handler{index}(request):
    service = create_service{index}(request.repo)
    return service.fetch(request.key)
'''

_BASE = '''\
class Base{pkg}:
    """Base of package {pkg}."""

    def close(self):
        return None
'''


def _big_module(parameter: str) -> str:
    """About 500 lines: helpers, one factory whose parameter the benchmark renames, and a
    mutable default that is reported or not depending on the parameter's name."""
    lines = ['"""The edited 500-line module."""', "", "from pkg0.base import Base0", ""]
    for index in range(40):
        lines += [
            "",
            f"class Helper{index}(Base0):",
            "    def __init__(self, store):",
            "        self.store = store",
            "",
            "    def get(self, key):",
            "        value = self.store.get(key)",
            "        if value is None:",
            "            return None",
            "        return value",
            "",
        ]
    lines += [
        "",
        "class Notifier:",
        f"    def __init__(self, {parameter}):",
        f"        self.{parameter} = {parameter}",
        "",
        "",
        f"def create_notifier({parameter}):",
        f"    return Notifier({parameter})",
        "",
    ]
    if parameter == "emitter":
        lines += ["", "def collect(items=[]):", "    items.append(1)", "    return items", ""]
    while len(lines) < 500:
        lines.append(f"CONSTANT_{len(lines)} = {len(lines)}")
    return "\n".join(lines) + "\n"


_CALLER = """\
from pkg0.big import create_notifier


def build(sender):
    return create_notifier(emitter=sender)
"""


def generate(root: Path, files: int) -> Path:
    (root / "pyproject.toml").write_text("[tool.isolint]\n", encoding="utf-8")
    per_package = 50
    for index in range(files - 2):
        pkg = index // per_package
        directory = root / f"pkg{pkg}"
        if not directory.exists():
            directory.mkdir()
            (directory / "__init__.py").write_text("", encoding="utf-8")
            (directory / "base.py").write_text(_BASE.format(pkg=pkg), encoding="utf-8")
        (directory / f"mod{index}.py").write_text(
            _MODULE.format(index=index, pkg=pkg), encoding="utf-8"
        )
    big = root / "pkg0" / "big.py"
    big.write_text(_big_module("emitter"), encoding="utf-8")
    (root / "pkg0" / "caller.py").write_text(_CALLER, encoding="utf-8")
    return big


class _Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("isolint-bench", "1")
        self.arrived: asyncio.Queue[tuple[float, str, int]] = asyncio.Queue()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.arrived.put_nowait((time.perf_counter(), params.uri, len(params.diagnostics)))


async def _wait_for(client: _Client, uri: str, timeout: float = 600) -> float:
    while True:
        when, got, _ = await asyncio.wait_for(client.arrived.get(), timeout)
        if got == uri:
            return when


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere): unlike
    the latency, a loaded machine does not inflate it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    root: Path, big: Path, edits: int, debounce: float
) -> tuple[list[float], list[float]]:
    client = _Client()
    server = Path(sys.executable).parent / "isolint"
    await client.start_io(str(server), "server", cwd=str(root))
    await client.initialize_async(
        types.InitializeParams(
            process_id=os.getpid(),
            root_uri=root.as_uri(),
            capabilities=types.ClientCapabilities(),
            initialization_options={"debounce": debounce},
        )
    )
    client.initialized(types.InitializedParams())
    uri = big.resolve().as_uri()
    text = big.read_text(encoding="utf-8")
    started = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    await _wait_for(client, uri)
    print(
        f"first diagnostics after open (loads the project): {time.perf_counter() - started:.2f} s"
    )
    latencies: list[float] = []
    cpu: list[float] = []
    pid = client._server.pid if client._server is not None else 0
    for version in range(2, edits + 2):
        parameter = "sender" if version % 2 == 0 else "emitter"
        before = _cpu_seconds(pid)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(text=_big_module(parameter))
                ],
            )
        )
        arrived = await _wait_for(client, uri)
        latencies.append(arrived - sent - debounce)
        await asyncio.sleep(0.3)  # the server is idle again: what it used is this edit's
        after = _cpu_seconds(pid)
        if before is not None and after is not None:
            cpu.append(after - before)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--debounce", type=float, default=0.15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="isolint-server-bench-"))
    try:
        big = generate(root, args.files)
        print(
            f"project: {args.files} files in {root}; edited file: {len(big.read_text().splitlines())} lines"
        )
        warm = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "isolint"), "check", "--quiet", "."],
            cwd=root,
            check=False,
            capture_output=True,
        )
        print(f"cache warmed by `isolint check`: {time.perf_counter() - warm:.1f} s")
        latencies, cpu = asyncio.run(measure(root, big, args.edits, args.debounce))
        ms = sorted(1000 * value for value in latencies)
        print(
            f"latency after the {args.debounce * 1000:.0f} ms debounce over {len(ms)} edits: "
            f"median {statistics.median(ms):.0f} ms, min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms"
        )
        if cpu:
            used = sorted(1000 * value for value in cpu)
            print(
                f"server CPU time per edit: median {statistics.median(used):.0f} ms, "
                f"min {used[0]:.0f} ms, max {used[-1]:.0f} ms"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
