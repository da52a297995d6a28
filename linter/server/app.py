"""The pygls language server: document sync, debounced linting, diagnostics, actions, hover."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from isolint import __version__
from isolint.diagnostics import Diagnostic
from isolint.rule import Rule
from isolint.server.actions import FIX_ALL, code_actions
from isolint.server.convert import DEFAULT_DOCS_URL, Positions, split_lines, to_lsp
from isolint.server.engine import CONFIG_NAMES, Buffer, Engine, Report
from isolint.server.hover import hover_markdown

DEFAULT_DEBOUNCE = 0.2  # seconds of quiet after an edit before linting
_WATCHED = ("**/*.py", *(f"**/{name}" for name in CONFIG_NAMES))

T = TypeVar("T")
log = logging.getLogger("isolint.server")


@dataclass(frozen=True)
class Shown:
    """What a document's published diagnostics were computed from (for actions and hover)."""

    report: Report
    positions: Positions
    pairs: tuple[tuple[types.Diagnostic, Diagnostic], ...]


def _path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


def _is_python(uri: str) -> bool:
    path = _path(uri)
    return path is not None and path.suffix in (".py", ".pyi")


class IsolintServer(LanguageServer):
    """One engine, touched only from its own thread; the event loop only schedules and publishes."""

    def __init__(self, rules: Sequence[type[Rule]]) -> None:
        super().__init__(
            "isolint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.rules = tuple(rules)
        self.engine = Engine((), self.rules)
        self.engine_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="isolint-engine")
        self.debounce = DEFAULT_DEBOUNCE
        self.docs_url = DEFAULT_DOCS_URL
        self.pending: asyncio.TimerHandle | None = None
        self.prelinting: asyncio.TimerHandle | None = None
        self.lint_lock = asyncio.Lock()
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.shown: dict[str, Shown] = {}
        self.shutdown_requested = False

    async def on_engine(self, function: object, *args: object) -> object:
        loop = asyncio.get_running_loop()
        assert callable(function)
        return await loop.run_in_executor(self.engine_thread, function, *args)

    def folders(self) -> list[Path]:
        paths = [_path(f.uri) for f in self.workspace.folders.values()]
        found = [p for p in paths if p is not None]
        root = self.workspace.root_path
        if not found and root:
            found.append(Path(root))
        return found

    def schedule(self, delay: float | None = None) -> None:
        """Lint after ``delay`` seconds of quiet (each new event restarts the wait). The
        changed buffers themselves are linted after half the wait already, so that when it
        ends only the project phase remains."""
        for timer in (self.pending, self.prelinting):
            if timer is not None:
                timer.cancel()
        loop = asyncio.get_running_loop()
        wait = self.debounce if delay is None else delay
        self.pending = loop.call_later(wait, lambda: loop.create_task(self.lint()))
        self.prelinting = None
        if wait > 0:
            self.prelinting = loop.call_later(wait / 2, lambda: loop.create_task(self.prelint()))

    async def prelint(self) -> None:
        try:
            await self.on_engine(self.engine.prelint, self.buffers())
        except Exception:  # noqa: BLE001 - update() lints the buffers again and reports it
            log.exception("isolint engine failure while linting buffers")

    def buffers(self) -> list[Buffer]:
        out: list[Buffer] = []
        for uri, document in list(self.workspace.text_documents.items()):
            path = _path(uri)
            if path is not None and _is_python(uri):
                out.append(Buffer(path, document.source, document.version))
        return out

    async def lint(self) -> None:
        async with self.lint_lock:  # runs in order, so results are published in order
            buffers = self.buffers()
            try:
                reports = await self.on_engine(self.engine.update, buffers)
            except Exception as exc:
                log.exception("isolint engine failure")
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Error,
                        message=f"isolint: internal error: {type(exc).__name__}: {exc}",
                    )
                )
                return
            assert isinstance(reports, list)
            for report in reports:
                self.publish(report)

    def positions_for(self, path: Path, text: str | None = None) -> Positions | None:
        if text is None:
            uri = from_fs_path(str(path))
            document = self.workspace.text_documents.get(uri or "")
            if document is not None:
                text = document.source
            else:
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    return None
        return Positions(split_lines(text), self.workspace.position_codec)

    def publish(self, report: Report) -> None:
        uri = from_fs_path(str(report.path))
        if uri is None or uri not in self.workspace.text_documents:
            return  # closed meanwhile
        positions = Positions(split_lines(report.text), self.workspace.position_codec)
        diagnostics = to_lsp(report, positions, self.positions_for, self.docs_url)
        pairs = tuple(zip(diagnostics[-len(report.diagnostics) :], report.diagnostics))
        self.shown[uri] = Shown(report, positions, pairs if report.diagnostics else ())
        if self.published.get(uri) == diagnostics:
            return
        self.published[uri] = diagnostics
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=report.version)
        )

    def clear(self, uri: str) -> None:
        self.shown.pop(uri, None)
        if self.published.pop(uri, None):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def current(self, uri: str) -> Shown | None:
        """The shown results, if they were computed from the document's current text."""
        shown = self.shown.get(uri)
        document = self.workspace.text_documents.get(uri)
        if shown is None or document is None or document.source != shown.report.text:
            return None
        return shown


def build(rules: Sequence[type[Rule]]) -> IsolintServer:
    """The server with every feature registered (no module-level server object)."""
    server = IsolintServer(rules)

    @server.feature(types.INITIALIZE)
    def initialize(ls: IsolintServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            debounce = options.get("debounce")
            if isinstance(debounce, (int, float)) and 0 <= debounce <= 10:
                ls.debounce = float(debounce)
            docs_url = options.get("docsUrl")
            if isinstance(docs_url, str) and docs_url:
                ls.docs_url = docs_url
        ls.engine = Engine(ls.folders(), ls.rules)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: IsolintServer, params: types.InitializedParams) -> None:
        capabilities = ls.client_capabilities.workspace
        watched = capabilities.did_change_watched_files if capabilities else None
        if watched is not None and watched.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=glob) for glob in _WATCHED]
            registration = types.Registration(
                id="isolint-watched-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
            )
            try:
                await ls.client_register_capability_async(
                    types.RegistrationParams(registrations=[registration])
                )
            except Exception:  # noqa: BLE001 - a client that refuses only loses file watching
                log.warning("the client refused to watch files; config changes need a save")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: IsolintServer, params: types.DidOpenTextDocumentParams) -> None:
        if _is_python(params.text_document.uri):
            ls.schedule(0.0 if not ls.shown else None)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: IsolintServer, params: types.DidChangeTextDocumentParams) -> None:
        if _is_python(params.text_document.uri):
            ls.schedule()

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: IsolintServer, params: types.DidSaveTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is None:
            return
        if path.name in CONFIG_NAMES:
            await ls.on_engine(ls.engine.reload)
        elif _is_python(params.text_document.uri):
            await ls.on_engine(ls.engine.files_changed, [path])
        else:
            return
        ls.schedule(0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: IsolintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.clear(uri)
        path = _path(uri)
        if path is not None and _is_python(uri):
            await ls.on_engine(ls.engine.files_changed, [path])  # disk replaces the buffer
            ls.schedule()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls: IsolintServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [p for p in (_path(change.uri) for change in params.changes) if p is not None]
        if any(p.name in CONFIG_NAMES for p in paths):
            await ls.on_engine(ls.engine.reload)
        else:
            await ls.on_engine(ls.engine.files_changed, [p for p in paths if p.suffix == ".py"])
        ls.schedule(0.0)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(
        ls: IsolintServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        await ls.on_engine(ls.engine.set_folders, ls.folders())
        ls.schedule(0.0)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL],
        ),
    )
    async def code_action(
        ls: IsolintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        shown = ls.current(uri)
        if shown is None or not shown.pairs:
            return None
        report = shown.report
        relpath = shown.pairs[0][1].path
        only = [str(kind) for kind in params.context.only] if params.context.only else None
        actions = await ls.on_engine(
            code_actions,
            uri,
            relpath,
            report.text,
            report.version,
            shown.positions,
            shown.pairs,
            params.range,
            only,
        )
        assert isinstance(actions, list)
        return actions or None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: IsolintServer, params: types.HoverParams) -> types.Hover | None:
        shown = ls.current(params.text_document.uri)
        if shown is None:
            return None
        line, column = shown.positions.offset(params.position)
        found = [
            (lsp, d)
            for lsp, d in shown.pairs
            if (d.span.line, d.span.column)
            <= (line, column)
            <= (d.span.end_line, d.span.end_column)
        ]
        text = hover_markdown([d for _, d in found], ls.rules, ls.docs_url)
        if text is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=found[0][0].range,
        )

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: IsolintServer, params: None) -> None:
        for timer in (ls.pending, ls.prelinting):
            if timer is not None:
                timer.cancel()
        ls.shutdown_requested = True
        ls.engine_thread.shutdown(wait=False, cancel_futures=True)

    return server


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """The client's pipes as private file objects; fds 0 and 1 become /dev/null and stderr.

    Worker processes are forked while the reader thread blocks inside a read, and a forked
    child closes ``sys.stdin`` (multiprocessing does) and flushes ``sys.stdout``: on the
    protocol's own objects that would wait forever for a lock held by a thread that does not
    exist in the child. A stray ``print`` cannot corrupt the protocol either.
    """
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return reader, writer


def serve(rules: Sequence[type[Rule]]) -> int:
    """Run the server on stdin/stdout until the client says exit or goes away: 0 after a
    ``shutdown`` request, 1 otherwise (as the LSP specifies for ``exit``)."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="isolint server: %(message)s"
    )
    reader, writer = _protocol_streams()
    server = build(rules)
    try:
        server.start_io(reader, writer)
    finally:
        server.engine_thread.shutdown(wait=False, cancel_futures=True)
    return 0 if server.shutdown_requested else 1
