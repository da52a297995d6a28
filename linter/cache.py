"""Per-file result cache keyed by content: atomic writes, corrupt or foreign entries ignored."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from linter import __version__
from linter.diagnostics import FileResult

CACHE_DIR_NAME = ".isolint_cache"
_MAGIC = b"ISOLINT-CACHE-1\n"


def _code_digest() -> str:
    """Hash of isolint's own source: any change to the engine or a rule invalidates the cache."""
    digest = hashlib.sha256()
    engine = Path(__file__).resolve().parent
    for package in (engine, engine.parent / "rules"):
        for source in sorted(package.glob("*.py")):
            try:
                digest.update(source.name.encode() + source.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()[:12]


def _runtime_tag() -> str:
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return f"{__version__}-{python}-{_code_digest()}"


_MANIFEST = "manifest"
_RACY_NS = 2_000_000_000  # files modified this close to the manifest's write are re-read


@dataclass(frozen=True)
class ManifestEntry:
    """What the cache knew of a file when the manifest was written."""

    key: str
    mtime_ns: int
    size: int
    facts: object | None

    def as_result(self, relpath: str) -> FileResult:
        """A facts-only result, for a project file that is not being linted this run."""
        return FileResult(relpath, facts=self.facts)


@dataclass(frozen=True)
class Manifest:
    """relpath -> ManifestEntry, plus when it was written (to spot racy timestamps)."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    written_ns: int = 0

    def fresh(self, relpath: str, mtime_ns: int, size: int) -> ManifestEntry | None:
        """The entry, if the file's stat is unchanged and was not racy when recorded."""
        entry = self.entries.get(relpath)
        if entry is None or entry.mtime_ns != mtime_ns or entry.size != size:
            return None
        if mtime_ns >= self.written_ns - _RACY_NS:
            return None
        return entry


@dataclass(frozen=True)
class Cache:
    """A directory of pickled FileResults; ``namespace`` hashes everything results depend on."""

    directory: Path
    namespace: str

    @classmethod
    def open(cls, directory: Path, configuration: str) -> Cache:
        """``configuration`` is a stable text of the rule-relevant settings and enabled rules."""
        tag = _runtime_tag()
        digest = hashlib.sha256(f"{tag}\0{configuration}".encode()).hexdigest()[:16]
        return cls(directory, f"{tag}-{digest}")

    def key(self, relpath: str, data: bytes) -> str:
        return self.key_for(relpath, hashlib.sha256(data).hexdigest())

    def key_for(self, relpath: str, digest: str) -> str:
        """The entry key of a file with content digest ``digest`` (sha256 hex)."""
        raw = f"{relpath}\0{digest}".encode("utf-8", "surrogateescape")
        return hashlib.sha256(raw).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / self.namespace / key[:2] / key

    def get(self, key: str) -> FileResult | None:
        """The cached result, or None when absent, truncated, corrupt or foreign."""
        try:
            raw = self._entry(key).read_bytes()
        except OSError:
            return None
        if not raw.startswith(_MAGIC):
            return None
        try:
            value = pickle.loads(raw[len(_MAGIC) :])
        except Exception:  # noqa: BLE001 - any undecodable entry is a cache miss
            return None
        return value if isinstance(value, FileResult) else None

    def put(self, key: str, result: FileResult) -> None:
        """Write one entry atomically."""
        payload = _MAGIC + pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        self._write(self._entry(key), payload)

    def _write(self, target: Path, payload: bytes) -> None:
        """Temp file in the same directory, then rename: readers see all of it or nothing.
        A cache that cannot be written only costs speed, so OS errors are ignored."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._ensure_gitignore()
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return

    def load_manifest(self) -> Manifest:
        """The manifest of this namespace; empty when absent, truncated or foreign."""
        path = self.directory / self.namespace / _MANIFEST
        try:
            raw = path.read_bytes()
            written = path.stat().st_mtime_ns
        except OSError:
            return Manifest()
        if not raw.startswith(_MAGIC):
            return Manifest()
        try:
            entries = pickle.loads(raw[len(_MAGIC) :])
        except Exception:  # noqa: BLE001 - any undecodable manifest is simply not used
            return Manifest()
        if not isinstance(entries, dict) or not all(
            isinstance(v, ManifestEntry) for v in entries.values()
        ):
            return Manifest()
        return Manifest(entries, written)

    def save_manifest(self, manifest: Manifest) -> None:
        payload = _MAGIC + pickle.dumps(manifest.entries, protocol=pickle.HIGHEST_PROTOCOL)
        self._write(self.directory / self.namespace / _MANIFEST, payload)

    def _ensure_gitignore(self) -> None:
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by isolint\n*\n", encoding="utf-8")


def clear(directory: Path) -> bool:
    """Remove a cache directory; True if there was one."""
    if not (directory / ".gitignore").exists() and directory.name != CACHE_DIR_NAME:
        return False  # never delete a directory isolint did not create
    if directory.exists():
        shutil.rmtree(directory)
        return True
    return False
