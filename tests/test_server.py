"""``isolint server`` driven over stdio by pygls' own LanguageClient (a real LSP client)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.conftest import FIXTURES, isolint_executable

SERVER_CMD = [isolint_executable(), "server"]
WAIT = 60.0  # generous: a timeout only bounds a broken test, it never measures speed

A_SOURCE = """\
class Notifier:
    def __init__(self, sender):
        self.sender = sender
"""
B_SOURCE = """\
from app.a import Notifier


def build():
    return Notifier(sender="x")
"""


class Client(LanguageClient):
    """Records every publishDiagnostics; ``diagnostics_for`` waits for one that matches."""

    def __init__(self) -> None:
        super().__init__("isolint-test", "1")
        self.latest: dict[str, list[types.Diagnostic]] = {}
        self.changed = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.latest[params.uri] = list(params.diagnostics)
            self.changed.set()

    async def diagnostics_for(
        self, uri: str, wanted: Callable[[list[types.Diagnostic]], bool]
    ) -> list[types.Diagnostic]:
        async def until() -> list[types.Diagnostic]:
            while True:
                self.changed.clear()
                found = self.latest.get(uri)
                if found is not None and wanted(found):
                    return found
                await self.changed.wait()

        return await asyncio.wait_for(until(), WAIT)


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def start(root: Path, folders: list[Path] | None = None) -> Client:
    client = Client()
    await client.start_io(*SERVER_CMD, cwd=str(root))
    roots = folders or [root]
    await asyncio.wait_for(
        client.initialize_async(
            types.InitializeParams(
                process_id=os.getpid(),
                root_uri=uri_of(roots[0]),
                workspace_folders=[
                    types.WorkspaceFolder(uri=uri_of(f), name=f.name) for f in roots
                ],
                capabilities=types.ClientCapabilities(),
                initialization_options={"debounce": 0.15},
            )
        ),
        WAIT,
    )
    client.initialized(types.InitializedParams())
    return client


async def stop(client: Client) -> int | None:
    await asyncio.wait_for(client.shutdown_async(None), WAIT)
    client.exit(None)
    await asyncio.wait_for(client.stop(), WAIT)
    return client._server.returncode if client._server is not None else None


def open_doc(client: Client, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = uri_of(path)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=version,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    return uri


def replace_all(client: Client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def run(scenario: Awaitable[Any]) -> Any:
    return asyncio.run(scenario)


def apply_edit(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """Apply a workspace edit's text edits (this test's documents are ASCII)."""
    edits: list[types.TextEdit] = []
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        edits.extend(e for e in change.edits if isinstance(e, types.TextEdit))
    edits.extend((edit.changes or {}).get(uri, []))
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        return sum(len(line) for line in lines[: position.line]) + position.character

    for item in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(item.range.start)] + item.new_text + text[offset(item.range.end) :]
    return text


@pytest.fixture
def two_files(make_project: Callable[..., Path]) -> Path:
    return make_project({"app/__init__.py": "", "app/a.py": A_SOURCE, "app/b.py": B_SOURCE})


@pytest.mark.slow
def test_unsaved_signature_change_updates_the_dependent_open_file(two_files: Path) -> None:
    a, b = two_files / "app/a.py", two_files / "app/b.py"

    async def scenario() -> None:
        client = await start(two_files)
        a_uri, b_uri = open_doc(client, a), open_doc(client, b)
        assert codes(await client.diagnostics_for(b_uri, lambda d: True)) == []
        renamed = A_SOURCE.replace("sender", "emitter")
        replace_all(client, a_uri, renamed, 2)  # unsaved: the file on disk is unchanged
        found = await client.diagnostics_for(b_uri, lambda d: "ISO404" in codes(d))
        iso404 = next(d for d in found if d.code == "ISO404")
        assert "sender" in iso404.message
        assert iso404.range.start.line == 4
        assert iso404.severity == types.DiagnosticSeverity.Error
        assert iso404.source == "isolint"
        assert iso404.code_description is not None
        assert iso404.code_description.href.endswith("#iso404")
        assert a.read_text(encoding="utf-8") == A_SOURCE
        replace_all(client, a_uri, A_SOURCE, 3)  # undo
        assert await client.diagnostics_for(b_uri, lambda d: "ISO404" not in codes(d)) == []
        assert await stop(client) == 0

    run(scenario())


SSOT_IMPORT = "from app.agents.execution_engine import ExecutionEngine\n"


@pytest.fixture
def ssot_project(tmp_path: Path) -> Path:
    """fixtures/ssot_migration, where ISO502/ISO503 fire, copied so fixes can be applied."""
    root = tmp_path / "ssot"
    for source in (FIXTURES / "ssot_migration").rglob("*"):
        if source.is_file() and source.suffix in (".py", ".toml"):
            target = root / source.relative_to(FIXTURES / "ssot_migration")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return root


@pytest.mark.slow
def test_code_actions_fix_ignore_and_fix_all_and_hover(ssot_project: Path) -> None:
    path = ssot_project / "app/new_module.py"
    text = "from app.legacy_ws import get_websocket_manager\n\n\nmanager = get_websocket_manager\n"

    async def scenario() -> None:
        client = await start(ssot_project)
        uri = open_doc(client, path, text)
        found = await client.diagnostics_for(uri, lambda d: "ISO502" in codes(d))
        iso502 = next(d for d in found if d.code == "ISO502")
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=iso502.range,
                context=types.CodeActionContext(diagnostics=[iso502]),
            )
        )
        assert actions is not None
        by_title = {a.title: a for a in actions if isinstance(a, types.CodeAction)}
        fix = next(a for t, a in by_title.items() if t.endswith("(ISO502)"))
        assert fix.kind == types.CodeActionKind.QuickFix and fix.edit is not None
        fixed = apply_edit(text, fix.edit, uri)
        assert fixed.startswith("from app.ws.manager import get_websocket_manager\n")
        ignore = by_title["Ignore ISO502 on this line"]
        assert ignore.edit is not None
        ignored = apply_edit(text, ignore.edit, uri)
        assert ignored.splitlines()[0].endswith("  # isolint: ignore[ISO502]")
        fix_all = [a for a in by_title.values() if a.kind == "source.fixAll.isolint"]
        assert len(fix_all) == 1 and fix_all[0].edit is not None
        assert apply_edit(text, fix_all[0].edit, uri) == fixed

        only = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                context=types.CodeActionContext(
                    diagnostics=[], only=[types.CodeActionKind.SourceFixAll]
                ),
            )
        )
        assert only is not None
        assert [a.kind for a in only if isinstance(a, types.CodeAction)] == [
            "source.fixAll.isolint"
        ]

        # applying the ignore edit as the editor would: the finding goes away
        replace_all(client, uri, ignored, 2)
        await client.diagnostics_for(uri, lambda d: "ISO502" not in codes(d))

        replace_all(client, uri, text, 3)
        found = await client.diagnostics_for(uri, lambda d: "ISO502" in codes(d))
        iso502 = next(d for d in found if d.code == "ISO502")
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=iso502.range.start,
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        value = hover.contents.value
        assert "ISO502" in value and "non-canonical-import" in value
        assert "## Why is this bad?" in value and "**Fix:**" in value
        nothing = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=0),
            )
        )
        assert nothing is None
        assert await stop(client) == 0

    run(scenario())


@pytest.mark.slow
def test_bad_input_becomes_a_diagnostic(two_files: Path) -> None:
    a = two_files / "app/a.py"

    async def scenario() -> None:
        client = await start(two_files)
        uri = open_doc(client, a, "def broken(:\n    pass\n")
        found = await client.diagnostics_for(uri, lambda d: bool(d))
        assert [d.code for d in found] == ["syntax"]
        assert found[0].range.start.line == 0
        assert found[0].severity == types.DiagnosticSeverity.Error
        replace_all(client, uri, A_SOURCE, 2)
        assert await client.diagnostics_for(uri, lambda d: not d) == []
        replace_all(client, uri, "x = '\udcff'\n", 3)  # a lone surrogate cannot be encoded
        await client.diagnostics_for(uri, lambda d: bool(d))
        assert await stop(client) == 0

    run(scenario())


@pytest.mark.slow
def test_config_change_and_multi_root(tmp_path: Path) -> None:
    """Each folder uses its own nearest config; saving a config re-lints its open documents."""
    one, two = tmp_path / "one", tmp_path / "two"
    source = "def handler(items=[]):\n    items.append(1)\n    return items\n"
    for folder, config in (
        (one, "[tool.isolint]\n"),
        (two, '[tool.isolint]\nignore = ["ISO204"]\n'),
    ):
        (folder / "pkg").mkdir(parents=True)
        (folder / "pyproject.toml").write_text(config, encoding="utf-8")
        (folder / "pkg/__init__.py").write_text("", encoding="utf-8")
        (folder / "pkg/mod.py").write_text(source, encoding="utf-8")

    async def scenario() -> None:
        client = await start(one, [one, two])
        one_uri, two_uri = (
            open_doc(client, one / "pkg/mod.py"),
            open_doc(client, two / "pkg/mod.py"),
        )
        assert "ISO204" in codes(await client.diagnostics_for(one_uri, lambda d: bool(d)))
        assert await client.diagnostics_for(two_uri, lambda d: True) == []
        (one / "pyproject.toml").write_text('[tool.isolint]\nignore = ["ISO204"]\n', "utf-8")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=uri_of(one / "pyproject.toml"), type=types.FileChangeType.Changed
                    )
                ]
            )
        )
        assert await client.diagnostics_for(one_uri, lambda d: not d) == []
        (two / "pyproject.toml").write_text("[tool.isolint]\n", "utf-8")
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri_of(two / "pyproject.toml"))
            )
        )
        assert "ISO204" in codes(await client.diagnostics_for(two_uri, lambda d: bool(d)))
        assert await stop(client) == 0

    run(scenario())


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii")
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.slow
def test_exits_when_the_client_dies(two_files: Path) -> None:
    """stdin closed without shutdown/exit: the server and every process it started go away."""
    for index in range(20):  # enough files for the first load to use worker processes
        (two_files / f"app/m{index}.py").write_text(f"VALUE = {index}\n", encoding="utf-8")

    async def scenario() -> tuple[int, set[int], int | None]:
        client = await start(two_files)
        uri = open_doc(client, two_files / "app/b.py")
        await client.diagnostics_for(uri, lambda d: True)
        server = client._server
        assert server is not None and server.stdin is not None
        started = _descendants(server.pid)
        server.stdin.close()  # the editor died
        code = await asyncio.wait_for(server.wait(), WAIT)
        await asyncio.wait_for(client.stop(), WAIT)
        return server.pid, started, code

    pid, started, code = run(scenario())
    assert code == 1  # exit without shutdown, as the LSP specifies
    for process in {pid, *started}:
        assert not _alive(process)


@pytest.mark.slow
def test_shutdown_and_exit_leave_no_process(two_files: Path) -> None:
    async def scenario() -> int:
        client = await start(two_files)
        open_doc(client, two_files / "app/b.py")
        await client.diagnostics_for(uri_of(two_files / "app/b.py"), lambda d: True)
        assert client._server is not None
        pid = client._server.pid
        assert await stop(client) == 0
        return pid

    pid = run(scenario())
    assert not _alive(pid)


def test_without_pygls_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "block" / "pygls"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named pygls')\n", "utf-8")
    env = dict(os.environ, PYTHONPATH=str(blocker.parent))
    proc = subprocess.run(
        [isolint_executable(), "server"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "isolint[lsp]" in lines[0]


def test_a_rule_failure_becomes_a_diagnostic(tmp_path: Path) -> None:
    """A rule crash is a file error of kind ``internal``: shown at its line, never raised."""
    from pygls.workspace.position_codec import PositionCodec

    from isolint.diagnostics import FileError
    from isolint.server.convert import Positions, split_lines, to_lsp
    from isolint.server.engine import Report

    text = "import os\n\nvalue = os.environ\n"
    crash = FileError("m.py", "rule ISO201 failed: ValueError: boom", line=3, kind="internal")
    report = Report(tmp_path / "m.py", tmp_path, text, 1, errors=(crash,))
    positions = Positions(split_lines(text), PositionCodec())
    [shown] = to_lsp(report, positions, lambda path: None, "https://example.invalid/README.md")
    assert shown.severity == types.DiagnosticSeverity.Error
    assert shown.range.start == types.Position(line=2, character=0)
    assert shown.range.end == types.Position(line=2, character=len("value = os.environ"))
    assert "ISO201 failed: ValueError: boom" in shown.message
    assert shown.code == "internal"


def test_positions_count_utf16_units_and_python_lines() -> None:
    from pygls.workspace.position_codec import PositionCodec

    from isolint.server.convert import Positions, split_lines

    text = "s = '😋'; x = 1\r\ny = 2\x0cz = 3\n"
    positions = Positions(split_lines(text), PositionCodec())
    assert len(positions.lines) == 2  # a form feed does not end a line for Python
    assert positions.position(1, 11) == types.Position(line=0, character=11)  # 😋: 2 units
    assert positions.offset(types.Position(line=0, character=11)) == (1, 10 + 1)


def test_readme_editor_snippets_start_the_server() -> None:
    """Each editor snippet of the README's LSP section runs `isolint server`; TOML/JSON parse."""
    import json
    import re

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Editor integration (LSP)", 1)[1].split("\n## ", 1)[0]
    blocks = {
        language: body for language, body in re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    }
    assert set(blocks) == {"json", "lua", "elisp", "toml"}
    settings = json.loads(blocks["json"])
    assert [settings["glspc.server.command"], *settings["glspc.server.commandArguments"]] == [
        "isolint",
        "server",
    ]
    assert '{ "isolint", "server" }' in blocks["lua"]
    assert '("isolint" "server")' in blocks["elisp"]
    helix = tomllib.loads(blocks["toml"])["language-server"]["isolint"]
    assert [helix["command"], *helix["args"]] == ["isolint", "server"]
