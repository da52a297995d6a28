"""The warm project index: disk results from the cache, open buffers on top, one global phase
per change (no LSP types here: the engine side of ``isolint server``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from isolint.check import CheckRequest, default_jobs, lint_files
from isolint.config import find_config
from isolint.diagnostics import Diagnostic, FileError, FileResult
from isolint.discovery import discover
from isolint.errors import IsolintError
from isolint.facts import ModuleFacts, PackedFacts
from isolint.globs import Globs
from isolint.rule import Rule
from isolint.runner import LintOptions, content_digest, lint_many, relative_posix
from isolint.serial import Codec
from isolint.server.incremental import IncrementalPhase
from isolint.session import Options, prepare

CONFIG_NAMES = ("pyproject.toml", "isolint.toml", ".isolint.toml")


@dataclass(frozen=True)
class _WarmFacts(PackedFacts):
    """Packed facts that stay decoded once read: every change re-runs the global phase, and
    decoding the same modules again each time would dominate it (the CLI's index keeps only a
    bounded LRU of decoded modules; a server trades that memory for latency)."""

    decoded: list[ModuleFacts] = field(default_factory=list, compare=False, repr=False)

    def unpack(self, codec: Codec | None = None) -> ModuleFacts:
        if not self.decoded:
            self.decoded.append(super().unpack(codec))
        return self.decoded[0]


def _warm(result: FileResult) -> FileResult:
    facts = result.facts
    if not isinstance(facts, PackedFacts) or isinstance(facts, _WarmFacts):
        return result
    values = {f.name: getattr(facts, f.name) for f in fields(PackedFacts)}
    return replace(result, facts=_WarmFacts(**values))


@dataclass(frozen=True)
class Buffer:
    """An open document: its file and the (possibly unsaved) text the editor holds."""

    path: Path
    text: str
    version: int | None = None


@dataclass(frozen=True)
class Report:
    """What one open document shows after a run: the text that was linted and its results."""

    path: Path
    root: Path  # relative paths in diagnostics (related locations) are relative to it
    text: str
    version: int | None
    diagnostics: tuple[Diagnostic, ...] = ()
    errors: tuple[FileError, ...] = ()
    problem: str | None = None  # a configuration error: nothing was linted


@dataclass
class _Overlay:
    digest: str
    result: FileResult


@dataclass
class Project:
    """One configuration root: every file's disk result plus open buffers' results."""

    root: Path
    request: CheckRequest
    disk: dict[str, FileResult]
    overlays: dict[str, _Overlay] = field(default_factory=dict)
    phase: IncrementalPhase = field(init=False)

    def __post_init__(self) -> None:
        self.phase = IncrementalPhase(self.request)

    @classmethod
    def load(cls, root: Path, config: Path | None, rules: Sequence[type[Rule]]) -> Project:
        """Discover the project and read every file's result (the cache makes this warm)."""
        options = Options(paths=(root,), config_file=config, jobs=default_jobs(), root=root)
        request = prepare(options, rules).request
        results = lint_files(request)
        return cls(request.root, request, {r.path: _warm(r) for r in results})

    def relpath(self, path: Path) -> str:
        return relative_posix(path, self.root)

    def includes(self, relpath: str) -> bool:
        """Whether a file belongs to the project (discovered, or a new file no exclude names)."""
        if relpath in self.disk:
            return True
        excludes = self.request.settings.extend_exclude
        return not relpath.startswith("..") and not Globs(excludes).match(relpath)

    def _options(self) -> LintOptions:
        return LintOptions.create(self.request.settings, self.request.rules)

    def set_buffers(self, buffers: Mapping[str, bytes]) -> bool:
        """Lint the buffers whose text changed; drop overlays of closed ones. True if any changed."""
        changed = False
        for relpath in [r for r in self.overlays if r not in buffers]:
            del self.overlays[relpath]
            changed = True
        todo: list[tuple[str, bytes | str]] = []
        for relpath, data in buffers.items():
            overlay = self.overlays.get(relpath)
            if overlay is None or overlay.digest != content_digest(data):
                todo.append((relpath, data))
        for result in lint_many(todo, self._options()):
            self.overlays[result.path] = _Overlay(result.digest, _warm(result))
            changed = True
        return changed

    def refresh_disk(self, relpaths: Iterable[str]) -> None:
        """Re-read files changed on disk (saved, closed unsaved, changed by another program).

        Linted here with the enabled rules, as open buffers are; the cache is left to the CLI,
        whose entries may hold the results of more rules than this project enables."""
        todo: list[tuple[str, bytes | str]] = []
        for relpath in relpaths:
            path = self.root / relpath
            try:
                data = path.read_bytes()
            except OSError:
                self.disk.pop(relpath, None)  # deleted (or unreadable: the next check says so)
                continue
            if relpath not in self.disk and not discover([path], self.root, self._excludes()):
                continue  # a new file the configuration excludes
            overlay = self.overlays.get(relpath)
            if overlay is not None and overlay.digest == content_digest(data):
                self.disk[relpath] = overlay.result
                continue
            todo.append((relpath, data))
        for result in lint_many(todo, self._options()):
            self.disk[result.path] = _warm(result)

    def _excludes(self) -> tuple[str, ...]:
        return tuple(self.request.settings.extend_exclude)

    def run(self) -> tuple[dict[str, tuple[Diagnostic, ...]], dict[str, tuple[FileError, ...]]]:
        """The global phase over disk results with the open buffers' results in their place."""
        merged = dict(self.disk)
        for relpath, overlay in self.overlays.items():
            merged[relpath] = overlay.result
        results = [merged[k] for k in sorted(merged)]
        outcome = self.phase.run(results, self.overlays.keys())
        found: dict[str, list[Diagnostic]] = {r: [] for r in self.overlays}
        for diagnostic in outcome.diagnostics:
            if diagnostic.path in found:
                found[diagnostic.path].append(diagnostic)
        errors: dict[str, list[FileError]] = {r: [] for r in self.overlays}
        for error in outcome.errors:
            if error.path in errors:
                errors[error.path].append(error)
        return (
            {k: tuple(v) for k, v in found.items()},
            {k: tuple(v) for k, v in errors.items()},
        )


class Engine:
    """Projects of a (multi-root) workspace, each file under its nearest configuration."""

    def __init__(self, folders: Sequence[Path], rules: Sequence[type[Rule]]) -> None:
        self.folders = tuple(f.resolve() for f in folders)
        self.rules = tuple(rules)
        self._projects: dict[tuple[Path, Path | None], Project] = {}
        self._problems: dict[tuple[Path, Path | None], str] = {}
        self._homes: dict[Path, tuple[Path, Path | None]] = {}
        self._dirty: set[tuple[Path, Path | None]] = set()

    def set_folders(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(f.resolve() for f in folders)
        self.reload()

    def reload(self) -> None:
        """Forget every project (a configuration file changed): the next run reloads them."""
        self._projects.clear()
        self._problems.clear()
        self._homes.clear()

    def _home(self, path: Path) -> tuple[Path, Path | None]:
        """(root, configuration file) of a file: the nearest config, as the CLI finds it."""
        directory = path.parent
        home = self._homes.get(directory)
        if home is None:
            try:
                config = find_config(directory)
            except IsolintError:
                config = None  # reported when the project loads
            if config is not None:
                home = (config.parent.resolve(), config.resolve())
            else:
                inside = [f for f in self.folders if directory == f or f in directory.parents]
                root = max(inside, key=lambda f: len(f.parts)) if inside else directory
                home = (root, None)
            self._homes[directory] = home
        return home

    def _project(self, home: tuple[Path, Path | None]) -> Project | str:
        project = self._projects.get(home)
        if project is not None:
            return project
        problem = self._problems.get(home)
        if problem is not None:
            return problem
        try:
            project = Project.load(home[0], home[1], self.rules)
        except IsolintError as exc:
            self._problems[home] = str(exc)
            return str(exc)
        self._projects[home] = project
        self._dirty.add(home)
        return project

    def files_changed(self, paths: Iterable[Path]) -> None:
        """Python files created, changed or deleted on disk (saved, or changed elsewhere)."""
        by_home: dict[tuple[Path, Path | None], list[str]] = {}
        for path in paths:
            home = self._home(path.absolute())
            project = self._projects.get(home)
            if project is not None:
                by_home.setdefault(home, []).append(project.relpath(path.absolute()))
        for home, relpaths in by_home.items():
            self._projects[home].refresh_disk(relpaths)
            self._dirty.add(home)

    def _grouped(self, buffers: Sequence[Buffer]) -> dict[tuple[Path, Path | None], list[Buffer]]:
        grouped: dict[tuple[Path, Path | None], list[Buffer]] = {}
        for buffer in buffers:
            grouped.setdefault(self._home(buffer.path.absolute()), []).append(buffer)
        return grouped

    @staticmethod
    def _mine(project: Project, members: Sequence[Buffer]) -> dict[str, Buffer]:
        """The buffers that belong to the project, by project-relative path."""
        return {
            project.relpath(b.path.absolute()): b
            for b in members
            if project.includes(project.relpath(b.path.absolute()))
        }

    @staticmethod
    def _data(mine: Mapping[str, Buffer]) -> dict[str, bytes]:
        return {r: b.text.encode("utf-8", "surrogatepass") for r, b in mine.items()}

    def prelint(self, buffers: Sequence[Buffer]) -> None:
        """Lint the changed buffers of loaded projects, without the project phase: run while
        the editor is still quiet, so ``update`` finds them linted. Loads nothing."""
        for home, members in self._grouped(buffers).items():
            project = self._projects.get(home)
            if project is not None and project.set_buffers(
                self._data(self._mine(project, members))
            ):
                self._dirty.add(home)

    def update(self, buffers: Sequence[Buffer]) -> list[Report]:
        """Bring the index in step with the open buffers: a report for each open document of
        every project whose results may have changed."""
        grouped = self._grouped(buffers)
        for home, project in self._projects.items():
            if home not in grouped and project.overlays:
                project.set_buffers({})  # its documents were all closed
                self._dirty.add(home)
        reports: list[Report] = []
        for home, members in grouped.items():
            loaded = self._project(home)
            if isinstance(loaded, str):
                reports.extend(
                    Report(b.path, home[0], b.text, b.version, problem=loaded) for b in members
                )
                continue
            project = loaded
            mine = self._mine(project, members)
            if project.set_buffers(self._data(mine)):
                self._dirty.add(home)
            if home not in self._dirty:
                continue
            found, errors = project.run()
            for relpath, buffer in mine.items():
                reports.append(
                    Report(
                        buffer.path,
                        project.root,
                        buffer.text,
                        buffer.version,
                        found.get(relpath, ()),
                        errors.get(relpath, ()),
                    )
                )
            excluded = [b for b in members if b not in mine.values()]
            reports.extend(Report(b.path, project.root, b.text, b.version) for b in excluded)
        self._dirty.clear()
        return reports

    def mark_all_dirty(self) -> None:
        self._dirty.update(self._projects)
