"""Per-file result cache keyed by content: atomic writes, corrupt or foreign entries ignored."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from dataclasses import dataclass
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
        content = hashlib.sha256(data).hexdigest()
        return hashlib.sha256(f"{relpath}\0{content}".encode()).hexdigest()

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
        """Write atomically (temp file in the same directory, flush, fsync-free rename)."""
        entry = self._entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._ensure_gitignore()
            payload = _MAGIC + pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                os.replace(tmp, entry)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return  # a cache that cannot be written only costs speed

    def _ensure_gitignore(self) -> None:
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by isolint\n*\n", encoding="utf-8")


def clear(directory: Path) -> bool:
    """Remove a cache directory; True if there was one."""
    if not (directory / ".gitignore").exists() and not directory.name == CACHE_DIR_NAME:
        return False  # never delete a directory isolint did not create
    if directory.exists():
        shutil.rmtree(directory)
        return True
    return False
