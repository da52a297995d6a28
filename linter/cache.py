"""Per-file result cache keyed by content: a marked directory of checksummed, data-only entries.

Layout of a cache directory (isolint creates it, and deletes only what is listed here)::

    CACHEDIR.TAG        the standard cache-directory tag (backup tools skip the directory)
    ISOLINT_CACHE       isolint's own marker: without it (and the tag) nothing here is touched
    .gitignore          ``*``: git ignores the directory
    <namespace>/        one per isolint version, Python, LibCST, engine code and configuration
        manifest        relpath -> (key, mtime, size, where its facts are in manifest-facts)
                        of the last run, and the checksum of the manifest-facts it goes with
        manifest-facts  each file's encoded facts, compressed one by one and concatenated
        manifest-delta  the rows changed since ``manifest`` was written (facts included), and
                        the paths gone
        packs/          the entries (one per file: its FileResult), many to a pack:
            <16 hex>.pack   the entries, their index, a footer locating the index
        callgraph       the call graph's memo (``isolint.graphmemo``): data-only JSON
        reached         what requests reach, and what from (``isolint.reachstore``): JSON

Every entry and the manifest are ``MAGIC``, the sha256 of the body, and the body: zlib-compressed
typed JSON (``isolint.serial``, never pickle); an entry's body holds the file's facts compressed on
their own (after their length), as ``manifest-facts`` stores them, then the rest of its result. A
missing, truncated, corrupt or foreign entry is a cache miss, replaced when the file is linted again.

A pack is its entries one after another (each sealed on its own, so each is checked when read),
then its index (for each entry: its key, a hash of its file's path, where it starts and its
length; sealed the same way), then a fixed-size footer saying where the index is. ``put`` keeps
entries in memory and ``flush`` writes them as one new pack (temp file + rename, as every file
here): every 1,000 entries or 8 MB, and at the end of the per-file pass even when it is
interrupted by Ctrl-C or an error, so a cold run creates a few files instead of one per file.
``get`` reads each pack's footer and index once per run and then each entry with one ``pread``.
A pack that is missing, truncated or damaged (footer, index or an entry) gives misses, never an
exception or a wrong hit; when a key is in several packs, the newest good copy is read. Packs
are merged when the manifest is saved and there are more than 8 of them: all but the 3 largest,
and any whose bytes are mostly dead, go into one new pack that leaves out the dead entries (the
manifest maps their file to another key), and are then deleted. A run that loses a pack it was
about to read to another run's merge has a miss, nothing worse.

The manifest keeps each file's facts as their own encoded text in ``manifest-facts`` (sealed the
same way, its body the compressed texts one after another), decoded only when a run needs the facts
without the file's entry (a file of the project that is not being linted): a run that finds every
file fresh reads only the small ``manifest``, ``manifest-facts`` is read (and its checksum checked
against the one ``manifest`` names) the first time a file's facts are asked for, a run that reads
the entries anyway never decodes the facts twice, and rewriting the manifest re-encodes only what
changed. A ``manifest-facts`` that is missing, corrupt or not the one ``manifest`` names gives no
facts: each file is read from its entry instead (a miss, never a wrong hit). A run that changed a
few files writes only ``manifest-delta`` (``Cache.save_manifest``): the rows that differ from the
manifest's, naming the manifest by the checksum of its body; a delta of another manifest is ignored
(its files are read again: a miss, never a wrong hit).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import stat
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from isolint import __version__
from isolint.diagnostics import FileResult
from isolint.errors import IsolintError
from isolint.serial import Codec, SerialError

CACHE_DIR_NAME = ".isolint_cache"
CACHEDIR_TAG = "CACHEDIR.TAG"
MARKER = "ISOLINT_CACHE"
TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_TAG_TEXT = (
    f"{TAG_SIGNATURE}\n"
    "# This file is a cache directory tag created by isolint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
_MARKER_TEXT = "isolint cache directory, format 2: `isolint cache clear` deletes its entries\n"
_GITIGNORE = ".gitignore"
_GITIGNORE_TEXT = "# created by isolint\n*\n"  # also what isolint 0.1.0 wrote (no marker then)
_MAGIC = b"ISOLINT-CACHE-2\n"
_FACTS_LENGTH = 8  # bytes: the length of an entry's facts (``Cache.seal``)
_MANIFEST = "manifest"
_MANIFEST_DELTA = "manifest-delta"  # the rows changed since the manifest (``save_manifest``)
_MANIFEST_FACTS = "manifest-facts"  # the manifest's facts texts (``FactsPart``)
_RACY_NS = 2_000_000_000  # files modified this close to the manifest's write are re-read
_VERSION = r"[0-9A-Za-z.+!_]+"
_NAMESPACE = re.compile(
    rf"[0-9]{_VERSION}-py[0-9]+\.[0-9]+(-libcst{_VERSION})?-[0-9a-f]{{12}}-[0-9a-f]{{16}}"
)
_SHARD = re.compile(r"[0-9a-f]{2}")  # entries one file each, as isolint 0.2 wrote them
_TMP = r"\.tmp-[0-9A-Za-z_]+"
_ENTRY = re.compile(rf"[0-9a-f]{{64}}|{_TMP}")
_KEY = re.compile(r"[0-9a-f]{64}")
_PACKS = "packs"  # the namespace's directory of packs
_PACK = re.compile(r"[0-9a-f]{16}\.pack")
_PACK_MEMBER = re.compile(rf"{_PACK.pattern}|{_TMP}")
_PACK_MAGIC = b"ISOLINT-PACK-01\n"
_FOOTER = struct.Struct(">16sQQ")  # magic, where the index starts, its length
_RECORD = struct.Struct(">32s8sQI")  # key, hash of the file's path, where the entry starts, length
_FLUSH_ENTRIES = 1000  # staged entries (or bytes) that make ``put`` write a pack
_FLUSH_BYTES = 8 << 20
_MAX_PACKS = 8  # more packs than this are merged when the manifest is saved ...
_KEEP_PACKS = 3  # ... all but the largest few (unless their bytes are mostly dead)
# namespace-wide files besides the manifest (``Cache.read_blob``): the call graph memo, its delta
_BLOBS = ("callgraph", "callgraph-delta", "reached", "decided")
_NAMESPACE_FILE = re.compile(
    rf"{_MANIFEST}|{_MANIFEST_DELTA}|{_MANIFEST_FACTS}|{'|'.join(_BLOBS)}|{_TMP}"
)
_TOP_FILE = re.compile(_TMP)
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)
_NOFOLLOW_FILE = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)


class CacheDirError(IsolintError):
    """``cache clear`` on a directory isolint did not create."""


def _rules_dir() -> Path:
    """The built-in rules' directory: ``isolint/rules`` in a wheel, the repository's ``rules/``
    in an editable install (pyproject.toml's ``package-dir`` maps ``isolint.rules`` to it)."""
    spec = importlib.util.find_spec("isolint.rules")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:  # pragma: no cover - isolint.rules is part of the distribution
        return Path(__file__).resolve().parent / "rules"
    return Path(locations[0]).resolve()


def _code_digest() -> str:
    """Hash of isolint's own source: any change to the engine or a rule invalidates the cache."""
    digest = hashlib.sha256()
    engine = Path(__file__).resolve().parent
    for package in (engine, _rules_dir()):
        for source in sorted(package.glob("*.py")):
            try:
                digest.update(source.name.encode() + source.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()[:12]


def _libcst_version() -> str:
    try:
        version = importlib.metadata.version("libcst")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - libcst is a dependency
        version = "unknown"
    return re.sub(r"[^0-9A-Za-z.+!_]", "_", version)


def _runtime_tag() -> str:
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return f"{__version__}-{python}-libcst{_libcst_version()}-{_code_digest()}"


def _seal(body: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body


def _unseal(raw: bytes) -> bytes | None:
    """The body of a sealed file, or None when its header or checksum is wrong."""
    header = len(_MAGIC) + 65
    if not raw.startswith(_MAGIC) or len(raw) < header or raw[header - 1 : header] != b"\n":
        return None
    body = raw[header:]
    if hashlib.sha256(body).hexdigest().encode("ascii") != raw[len(_MAGIC) : header - 1]:
        return None
    return body


class FactsPart:
    """A stored manifest's ``manifest-facts``, read on first use: each row's facts are the
    compressed bytes at (start, length) of its body. Gives nothing (None) when the file is
    missing, corrupt, or not the one the manifest names (``checksum``: its body's sha256)."""

    def __init__(self, path: Path, checksum: str) -> None:
        self.path = path
        self.checksum = checksum
        self._body: bytes | None = None
        self._read = False

    def _load(self) -> bytes | None:
        if not self._read:
            self._read = True
            try:
                raw = self.path.read_bytes()
            except OSError:
                return None
            body = _unseal(raw)
            if body is not None and raw[len(_MAGIC) : len(_MAGIC) + 64] == self.checksum.encode():
                self._body = body
        return self._body

    @property
    def failed(self) -> bool:
        """It was asked for and gave nothing (its rows' facts are lost: rewrite the manifest)."""
        return self._read and self._body is None

    def compressed(self, start: int, length: int) -> bytes | None:
        body = self._load()
        if body is None or start + length > len(body):
            return None
        return body[start : start + length]

    def text(self, start: int, length: int) -> bytes | None:
        """The encoded facts at (start, length); None when they cannot be read."""
        data = self.compressed(start, length)
        if data is None:
            return None
        try:
            return zlib.decompress(data)
        except zlib.error:
            return None


@dataclass(frozen=True)
class ManifestEntry:
    """What the cache knew of a file when the manifest was written: its facts (of a fresh
    result), or ``stored``, their encoding as read from a manifest delta, or ``where`` they are
    in the manifest's facts part (``part``); ``Cache.facts_result`` decodes them."""

    key: str
    mtime_ns: int
    size: int
    facts: object | None = None
    stored: bytes | None = None
    where: tuple[int, int] | None = None
    part: FactsPart | None = field(default=None, compare=False, repr=False)
    # ``facts`` compressed as the facts part stores them, when a worker sealed them so
    compressed: bytes | None = field(default=None, compare=False, repr=False)

    def encoded(self) -> bytes | None:
        """The facts' stored encoding (None for a fresh result's, or when they cannot be read)."""
        if self.stored is not None or self.part is None or self.where is None:
            return self.stored
        return self.part.text(*self.where)


@dataclass(frozen=True)
class Manifest:
    """relpath -> ManifestEntry, plus when it was written (to spot racy timestamps); ``base``:
    the id of the stored whole manifest it extends, ``base_entries`` that manifest's entries
    (``save_manifest`` stores only what differs from them) and ``part`` its facts part."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    written_ns: int = 0
    base: str = ""
    base_entries: dict[str, ManifestEntry] = field(default_factory=dict, compare=False, repr=False)
    part: FactsPart | None = field(default=None, compare=False, repr=False)

    def with_entries(self, entries: dict[str, ManifestEntry]) -> Manifest:
        """These entries, to be stored as a change of the same base."""
        return Manifest(entries, self.written_ns, self.base, self.base_entries, self.part)

    def fresh(self, relpath: str, mtime_ns: int, size: int) -> ManifestEntry | None:
        """The entry, if the file's stat is unchanged and was not racy when recorded."""
        entry = self.entries.get(relpath)
        if entry is None or entry.mtime_ns != mtime_ns or entry.size != size:
            return None
        if mtime_ns >= self.written_ns - _RACY_NS:
            return None
        return entry


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _has_text(path: Path, text: str) -> bool:
    if not _regular_file(path):
        return False
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        return False


def is_marked(directory: Path) -> bool:
    """The directory carries isolint's marker and the cache-directory tag (so isolint made it)."""
    if not _regular_file(directory / MARKER) or not _regular_file(directory / CACHEDIR_TAG):
        return False
    try:
        with open(directory / CACHEDIR_TAG, "rb") as handle:
            return handle.read(len(TAG_SIGNATURE)) == TAG_SIGNATURE.encode("ascii")
    except OSError:
        return False


def _is_legacy(directory: Path) -> bool:
    """A cache of isolint 0.1.0: only its ``.gitignore`` (exactly as isolint wrote it) marks it."""
    return _has_text(directory / _GITIGNORE, _GITIGNORE_TEXT)


def state(directory: Path) -> str:
    """``"absent"``, ``"ours"`` (marked or an isolint 0.1.0 cache), ``"empty"`` or ``"foreign"``."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "foreign"
    if is_marked(directory) or _is_legacy(directory):
        return "ours"
    return "foreign" if names else "empty"


def _mark(directory: Path) -> bool:
    """Create or adopt ``directory`` as a cache; False (write nothing) when it is someone else's."""
    if _regular_file(directory / MARKER):
        return True
    if state(directory) == "foreign":
        return False
    directory.mkdir(parents=True, exist_ok=True)
    # Each file appears whole (temp + rename), .gitignore first and the marker last, so a
    # concurrent run never sees a half-marked directory as someone else's.
    for name, text in ((_GITIGNORE, _GITIGNORE_TEXT), (CACHEDIR_TAG, _TAG_TEXT)):
        if not (directory / name).exists():
            _replace(directory / name, text.encode("utf-8"))
    _replace(directory / MARKER, _MARKER_TEXT.encode("utf-8"))
    return True


def _umask() -> int:
    """The process umask: from /proc on Linux (no change to process state), else by setting it
    and putting it back at once."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_NOT_TMP_CHARS = re.compile(r"[^0-9A-Za-z_]")  # a temp file's name matches ``_TMP``
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def _replace(target: Path, payload: bytes) -> None:
    """Temp file in the same directory, then rename: readers see all of it or nothing.

    The temp file is named after this process and the target and created with mode 0o666
    less the umask (what ``mkstemp`` and a ``chmod`` gave, for a fraction of the system calls:
    a cold run writes one entry per file); ``mkstemp`` when that name is taken.
    """
    _replace_in(os.fspath(target.parent), target.name, payload)


def _replace_in(directory: str, name: str, payload: bytes | Iterable[bytes]) -> None:
    """``_replace`` of ``directory``/``name``, on plain strings (no path objects per entry);
    ``payload`` may come in chunks (a pack is written as it is read)."""
    target = os.path.join(directory, name)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}_{_NOT_TMP_CHARS.sub('_', name)}")
    try:
        fd = os.open(tmp, _NEW_FILE, 0o666)
    except FileExistsError:
        _replace_via_mkstemp(Path(target), payload)
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines((payload,) if isinstance(payload, bytes) else payload)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def _replace_via_mkstemp(target: Path, payload: bytes | Iterable[bytes]) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines((payload,) if isinstance(payload, bytes) else payload)
            # mkstemp makes 0600 files; a cache (and its marker) follows the umask like any
            # file the user creates, so a teammate sharing the checkout can read it
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def _path_hash(relpath: str) -> bytes:
    """What a pack's index keeps of an entry's file path (to tell a superseded entry)."""
    return hashlib.sha256(relpath.encode("utf-8", "surrogateescape")).digest()[:8]


def _pack(entries: Iterable[tuple[bytes, bytes, bytes]]) -> Iterator[bytes]:
    """The chunks of a pack of ``entries`` (key, path hash, sealed entry), as they are read."""
    records: list[bytes] = []
    offset = 0
    for key, where, sealed in entries:
        records.append(_RECORD.pack(key, where, offset, len(sealed)))
        offset += len(sealed)
        yield sealed
    index = _seal(b"".join(records))
    yield index
    yield _FOOTER.pack(_PACK_MAGIC, offset, len(index))


def _read_index(fd: int) -> list[tuple[bytes, bytes, int, int]] | None:
    """The records of the pack open as ``fd``; None unless its footer and index are whole."""
    try:
        info = os.fstat(fd)
        size = info.st_size
        if not stat.S_ISREG(info.st_mode) or size < _FOOTER.size:
            return None
        footer = os.pread(fd, _FOOTER.size, size - _FOOTER.size)
        if len(footer) != _FOOTER.size:
            return None
        magic, start, length = _FOOTER.unpack(footer)
        if magic != _PACK_MAGIC or start + length + _FOOTER.size != size:
            return None
        raw = os.pread(fd, length, start)
    except OSError:
        return None
    body = _unseal(raw)
    if body is None or len(body) % _RECORD.size:
        return None
    records: list[tuple[bytes, bytes, int, int]] = list(_RECORD.iter_unpack(body))
    if any(offset + length > start for _, _, offset, length in records):
        return None
    return records


def _open_packs(directory: Path) -> tuple[int, list[tuple[str, int, int]]] | None:
    """The pack directory opened (without following a symlink), and each pack in it opened the
    same way: (name, fd, size), newest first. None when there is no such directory."""
    try:
        dir_fd = os.open(directory, _NOFOLLOW_DIR)
    except OSError:
        return None
    packs: list[tuple[int, str, int, int]] = []
    try:
        for entry in os.scandir(dir_fd):
            if not _PACK.fullmatch(entry.name):
                continue
            try:
                fd = os.open(entry.name, _NOFOLLOW_FILE, dir_fd=dir_fd)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
            except OSError:
                os.close(fd)
                continue
            packs.append((info.st_mtime_ns, entry.name, fd, info.st_size))
    except OSError:
        for _, _, fd, _ in packs:
            os.close(fd)
        os.close(dir_fd)
        return None
    packs.sort(reverse=True)
    return dir_fd, [(name, fd, size) for _, name, fd, size in packs]


def pack_index(path: Path) -> dict[str, tuple[int, int]] | None:
    """Where each entry of the pack at ``path`` is: key -> (start, length); None when the pack
    cannot be read or its footer or index is damaged."""
    try:
        fd = os.open(path, _NOFOLLOW_FILE)
    except OSError:
        return None
    try:
        records = _read_index(fd)
    finally:
        os.close(fd)
    if records is None:
        return None
    return {key.hex(): (offset, length) for key, _, offset, length in records}


class _Store:
    """A cache's changing part: the entries ``put`` keeps for the next pack (key -> path hash
    and sealed entry), and the packs ``get`` has read (key -> (fd, start, length) of each copy,
    newest pack first)."""

    def __init__(self) -> None:
        self.staged: dict[str, tuple[bytes, bytes]] = {}
        self.staged_bytes = 0
        self.index: dict[str, list[tuple[int, int, int]]] | None = None
        self.fds: list[int] = []

    def load(self, directory: Path) -> dict[str, list[tuple[int, int, int]]]:
        if self.index is not None:
            return self.index
        self.index = {}
        opened = _open_packs(directory)
        if opened is None:
            return self.index
        dir_fd, packs = opened
        os.close(dir_fd)
        for _, fd, _ in packs:
            records = _read_index(fd)
            if records is None:
                os.close(fd)
                continue
            self.fds.append(fd)
            for key, _, offset, length in records:
                self.index.setdefault(key.hex(), []).append((fd, offset, length))
        return self.index

    def release(self) -> None:
        """Close the packs read: the next ``load`` lists them again."""
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []
        self.index = None


@dataclass(frozen=True)
class Cache:
    """A directory of checksummed FileResults; ``namespace`` hashes everything results depend on."""

    directory: Path
    namespace: str
    codec: Codec = field(default_factory=Codec.create, compare=False, repr=False)
    # directories this instance made or found inside the marked cache directory: writes into
    # them skip re-checking the marker and creating the directory; one that has gone since
    # (``cache clear``) is marked and made again
    _made: set[str] = field(default_factory=set, compare=False, repr=False)
    # ``put`` writes a pack when this many entries, or bytes, wait for one
    flush_entries: int = field(default=_FLUSH_ENTRIES, compare=False, repr=False)
    flush_bytes: int = field(default=_FLUSH_BYTES, compare=False, repr=False)
    _store: _Store = field(default_factory=_Store, init=False, compare=False, repr=False)

    @classmethod
    def open(cls, directory: Path, configuration: str, payload_types: Iterable[type] = ()) -> Cache:
        """``configuration`` is a stable text of the rule-relevant settings and enabled rules;
        ``payload_types`` the classes the rules' candidate payloads hold (``payload_classes``):
        the only classes besides the engine's that entries may contain."""
        tag = _runtime_tag()
        digest = hashlib.sha256(f"{tag}\0{configuration}".encode()).hexdigest()[:16]
        codec = Codec.create(payload_types)
        return cls(directory, f"{tag}-{digest}", codec)

    def key(self, relpath: str, data: bytes) -> str:
        return self.key_for(relpath, hashlib.sha256(data).hexdigest())

    def key_for(self, relpath: str, digest: str) -> str:
        """The entry key of a file with content digest ``digest`` (sha256 hex)."""
        raw = f"{relpath}\0{digest}".encode("utf-8", "surrogateescape")
        return hashlib.sha256(raw).hexdigest()

    @property
    def _packs(self) -> Path:
        return self.directory / self.namespace / _PACKS

    def _read(self, path: Path) -> object | None:
        """The value stored at ``path``; None when absent, truncated, corrupt or foreign."""
        return self._read_sealed(path)[0]

    def _read_sealed(self, path: Path) -> tuple[object | None, str]:
        """``_read``'s value, and the checksum of the stored body (``""`` when there is none)."""
        try:
            raw = path.read_bytes()
        except OSError:
            return None, ""
        body = _unseal(raw)
        if body is None:
            return None, ""
        try:
            checksum = raw[len(_MAGIC) : len(_MAGIC) + 64].decode("ascii")
            return self.codec.loads(zlib.decompress(body)), checksum
        except (zlib.error, SerialError):
            return None, ""

    def get(self, key: str) -> FileResult | None:
        """The cached result, or None when absent, truncated, corrupt or foreign (an entry
        ``put`` has not written yet is found too)."""
        staged = self._store.staged.get(key)
        if staged is not None:
            return self.unseal(staged[1])
        for fd, offset, length in self._store.load(self._packs).get(key, ()):
            try:
                raw = os.pread(fd, length, offset)
            except OSError:
                continue
            value = self.unseal(raw)
            if value is not None:
                return value
        return None

    def facts_result(self, relpath: str, entry: ManifestEntry) -> FileResult | None:
        """A facts-only result from a manifest entry, for a project file that is not being
        linted this run; None when its stored facts do not decode."""
        if entry.stored is None and entry.part is None:
            return FileResult(relpath, facts=entry.facts)
        stored = entry.encoded()
        if stored is None:
            return None
        try:
            return FileResult(relpath, facts=self.codec.loads(stored))
        except SerialError:
            return None

    def put(self, key: str, result: FileResult) -> None:
        """Keep one entry for the next pack (not at all if the result holds a type the cache
        cannot store)."""
        sealed = self.seal(result)
        if sealed is not None:
            self.put_sealed(key, sealed, result.path)

    def seal(self, result: FileResult) -> bytes | None:
        """The bytes of ``result``'s entry (``put_sealed`` writes them), None if it holds a type
        the cache cannot store. A worker seals its results: the parent then opens each one
        (``unseal``) instead of unpickling it, and writes it without encoding it again.

        The body is the length of the compressed facts (8 bytes), the facts compressed as the
        manifest's facts part stores them (``sealed_facts`` gives them to the manifest: a cold
        run's parent never encodes a file's facts), then the rest of the result compressed."""
        try:
            if result.facts is None:
                facts, rest = b"", result
            else:
                facts = zlib.compress(self.codec.dumps(result.facts), 1)
                rest = dataclasses.replace(result, facts=None)
            body = zlib.compress(self.codec.dumps(rest), 1)
        except SerialError:
            return None
        return _seal(len(facts).to_bytes(_FACTS_LENGTH, "big") + facts + body)

    def unseal(self, payload: bytes) -> FileResult | None:
        """The result ``seal`` gave ``payload`` for; None if it is not one."""
        body = _unseal(payload)
        if body is None or len(body) < _FACTS_LENGTH:
            return None
        end = _FACTS_LENGTH + int.from_bytes(body[:_FACTS_LENGTH], "big")
        try:
            value = self.codec.loads(zlib.decompress(body[end:]))
            packed = body[_FACTS_LENGTH:end]
            facts = self.codec.loads(zlib.decompress(packed)) if packed else None
        except (zlib.error, SerialError):
            return None
        if not isinstance(value, FileResult) or value.facts is not None:
            return None
        return value if facts is None else dataclasses.replace(value, facts=facts)

    @staticmethod
    def sealed_facts(payload: bytes) -> bytes | None:
        """The compressed facts inside an entry ``seal`` gave (None when it holds none), for
        the manifest's facts part; ``unseal`` has checked the entry."""
        header = len(_MAGIC) + 65
        length = int.from_bytes(payload[header : header + _FACTS_LENGTH], "big")
        start = header + _FACTS_LENGTH
        return payload[start : start + length] if length else None

    def put_sealed(self, key: str, payload: bytes, relpath: str) -> None:
        """Keep an entry ``seal`` gave for file ``relpath``, as ``put`` does; a pack is written
        when enough wait (``flush``)."""
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        store = self._store
        previous = store.staged.get(key)
        store.staged[key] = (_path_hash(relpath), payload)
        store.staged_bytes += len(payload) - (len(previous[1]) if previous is not None else 0)
        if len(store.staged) >= self.flush_entries or store.staged_bytes >= self.flush_bytes:
            self.flush()

    def flush(self) -> None:
        """Write the entries ``put`` kept as one new pack, and close the packs read (the next
        ``get`` reads their indexes again, this pack's too)."""
        store = self._store
        staged = store.staged
        store.staged = {}
        store.staged_bytes = 0
        store.release()
        if staged:
            entries = ((bytes.fromhex(k), where, sealed) for k, (where, sealed) in staged.items())
            self._write(self._packs / f"{os.urandom(8).hex()}.pack", list(_pack(entries)))

    def _store_value(self, target: Path, value: object) -> None:
        try:
            body = zlib.compress(self.codec.dumps(value), 1)
        except SerialError:
            return  # an unregistered type: no entry, so the file is simply linted next time
        self._write(target, _seal(body))

    def _write(self, target: Path, payload: bytes | Sequence[bytes]) -> None:
        """Atomically, into a marked directory only (``payload`` whole or in chunks). A cache
        that cannot be written only costs speed, so OS errors are ignored."""
        parent = os.fspath(target.parent)
        try:
            if parent in self._made:
                try:
                    _replace_in(parent, target.name, payload)
                    return
                except FileNotFoundError:
                    self._made.discard(parent)
            if _mark(self.directory):
                target.parent.mkdir(parents=True, exist_ok=True)
                _replace_in(parent, target.name, payload)
                self._made.add(parent)
        except OSError:
            return

    def read_blob(self, name: str) -> bytes | None:
        """A namespace-wide file's data (``_BLOBS``); None when absent, truncated or corrupt."""
        try:
            raw = self._blob(name).read_bytes()
        except OSError:
            return None
        body = _unseal(raw)
        if body is None:
            return None
        try:
            return zlib.decompress(body)
        except zlib.error:
            return None

    def write_blob(self, name: str, data: bytes) -> None:
        """Write a namespace-wide file atomically: sealed and compressed like every entry."""
        self._write(self._blob(name), _seal(zlib.compress(data, 1)))

    def _blob(self, name: str) -> Path:
        if name not in _BLOBS:
            raise ValueError(f"not a cache file: {name}")
        return self.directory / self.namespace / name

    def load_manifest(self) -> Manifest:
        """The manifest of this namespace, with its delta applied when the delta names it;
        empty when absent, truncated, corrupt or foreign (a malformed delta is left out). Each
        entry's facts stay encoded (``ManifestEntry.stored``)."""
        directory = self.directory / self.namespace
        stored, base = self._read_sealed(directory / _MANIFEST)
        try:
            written = (directory / _MANIFEST).stat().st_mtime_ns
        except OSError:
            return Manifest()
        part = _facts_part(stored, directory / _MANIFEST_FACTS)
        entries = _stat_rows(stored, part) if part is not None else None
        if entries is None:
            return Manifest()
        merged = entries
        delta = self._read(directory / _MANIFEST_DELTA)
        if type(delta) is tuple and len(delta) == 3 and delta[0] == base:
            rows, gone = _manifest_rows(delta[1]), delta[2]
            try:
                delta_written = (directory / _MANIFEST_DELTA).stat().st_mtime_ns
            except OSError:
                rows = None
            if rows is not None and type(gone) is tuple and all(type(p) is str for p in gone):
                merged = {p: e for p, e in entries.items() if p not in gone}
                merged.update(rows)
                # one time for every row: the later write's judges more of them racy (re-read)
                written = max(written, delta_written)
        return Manifest(merged, written, base, entries, part)

    def save_manifest(self, manifest: Manifest) -> None:
        """Write the manifest; facts read from the last one are written back as they were
        (not decoded and encoded again), and an entry whose facts cannot be stored is left out
        (that file is read next time). When the rows that differ from the stored manifest the
        entries came from (``Manifest.base``) are few, only they are written (``manifest-delta``,
        which holds every change since that manifest, so only the last one is kept). Then the
        packs are merged if there are too many (``_compact``)."""
        self._write_manifest(manifest)
        self._compact(manifest.entries)

    def _write_manifest(self, manifest: Manifest) -> None:
        old = manifest.base_entries
        changed = {
            relpath: entry
            for relpath, entry in manifest.entries.items()
            if old.get(relpath) is not entry and old.get(relpath) != entry
        }
        gone = tuple(sorted(old.keys() - manifest.entries.keys()))
        directory = self.directory / self.namespace
        broken = manifest.part is not None and manifest.part.failed  # rows whose facts are lost
        if manifest.base and not broken and len(changed) + len(gone) <= max(32, len(old) // 16):
            self._store_value(
                directory / _MANIFEST_DELTA, (manifest.base, self._rows(changed), gone)
            )
            return
        # The facts part first: until the manifest naming it replaces the old one, the old
        # manifest names the old part's checksum and finds no facts (a miss, not a wrong hit).
        slices: list[bytes] = []
        rows: dict[str, tuple[str, int, int, int, int]] = {}
        start = 0
        for relpath, entry in manifest.entries.items():
            data = self._compressed_facts(entry)
            if data is None:
                continue
            rows[relpath] = (entry.key, entry.mtime_ns, entry.size, start, len(data))
            slices.append(data)
            start += len(data)
        body = b"".join(slices)
        self._write(directory / _MANIFEST_FACTS, _seal(body))
        self._store_value(directory / _MANIFEST, (hashlib.sha256(body).hexdigest(), rows))
        _unlink(directory / _MANIFEST_DELTA)  # of the manifest just replaced: it names that one

    def _compact(self, entries: dict[str, ManifestEntry]) -> None:
        """With more than ``_MAX_PACKS`` packs, merge all but the ``_KEEP_PACKS`` largest (and
        any whose bytes are mostly dead) into one new pack, then delete them. An entry is dead
        when ``entries`` maps its file to another key (it was superseded); entries of files the
        manifest does not know stay (a run on some files keeps the others' entries)."""
        try:
            if sum(1 for e in os.scandir(self._packs) if _PACK.fullmatch(e.name)) <= _MAX_PACKS:
                return  # the usual case: the packs are only counted, none is opened
        except OSError:
            return
        opened = _open_packs(self._packs)
        if opened is None:
            return
        dir_fd, packs = opened
        try:
            if len(packs) > _MAX_PACKS and is_marked(self.directory):
                current = {_path_hash(relpath): entry.key for relpath, entry in entries.items()}
                self._merge(dir_fd, packs, current)
        finally:
            for _, fd, _ in packs:
                os.close(fd)
            os.close(dir_fd)

    def _merge(
        self, dir_fd: int, packs: list[tuple[str, int, int]], current: dict[bytes, str]
    ) -> None:
        by_size = sorted(packs, key=lambda pack: -pack[2])
        merged: list[str] = []
        kept: set[bytes] = set()
        copies: dict[bytes, tuple[bytes, int, int, int]] = {}  # key -> path hash, fd, start, length
        for rank, (name, fd, _) in enumerate(by_size):
            records = _read_index(fd)
            if records is None:  # damaged: nothing in it can be read, so it only goes
                merged.append(name)
                continue
            live = [r for r in records if current.get(r[1], r[0].hex()) == r[0].hex()]
            total = sum(r[3] for r in records)
            if rank < _KEEP_PACKS and sum(r[3] for r in live) * 2 >= total:
                kept.update(r[0] for r in records)
                continue
            merged.append(name)
            for key, where, offset, length in live:
                copies.setdefault(key, (where, fd, offset, length))

        def entries() -> Iterator[tuple[bytes, bytes, bytes]]:
            for key, (where, fd, offset, length) in copies.items():
                try:
                    raw = os.pread(fd, length, offset)
                except OSError:
                    continue
                if _unseal(raw) is not None:  # a damaged entry is not copied
                    yield key, where, raw

        for key in kept:
            copies.pop(key, None)
        if copies:
            name = f"{os.urandom(8).hex()}.pack"
            try:
                _replace_in(os.fspath(self._packs), name, _pack(entries()))
            except OSError:
                return  # nothing is deleted unless its live entries are in the new pack
        for name in merged:
            try:
                _unlink_at(dir_fd, name)
            except OSError:
                continue

    def _compressed_facts(self, entry: ManifestEntry) -> bytes | None:
        """An entry's facts as the facts part stores them (None: they cannot be stored)."""
        if entry.compressed is not None:
            return entry.compressed  # as the worker sealed them
        if entry.stored is None and entry.part is not None and entry.where is not None:
            return entry.part.compressed(*entry.where)  # as they were: not decoded, not redone
        stored = entry.stored
        if stored is None:
            try:
                stored = self.codec.dumps(entry.facts)
            except SerialError:
                return None
        return zlib.compress(stored, 1)

    def _rows(self, entries: dict[str, ManifestEntry]) -> dict[str, tuple[str, int, int, str]]:
        rows: dict[str, tuple[str, int, int, str]] = {}
        for relpath, entry in entries.items():
            stored = entry.encoded()
            if stored is None:
                try:
                    stored = self.codec.dumps(entry.facts)
                except SerialError:
                    continue
            rows[relpath] = (entry.key, entry.mtime_ns, entry.size, stored.decode("ascii"))
        return rows


def _facts_part(stored: object, path: Path) -> FactsPart | None:
    """The facts part a stored manifest names (None when the manifest is malformed)."""
    if not (type(stored) is tuple and len(stored) == 2 and type(stored[0]) is str):
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", stored[0]):
        return None
    return FactsPart(path, stored[0])


def _stat_rows(stored: object, part: FactsPart) -> dict[str, ManifestEntry] | None:
    """The entries of a stored manifest (``_facts_part`` found its part); None unless every row
    is well formed."""
    rows = stored[1] if type(stored) is tuple and len(stored) == 2 else None
    if type(rows) is not dict:
        return None
    entries: dict[str, ManifestEntry] = {}
    for relpath, row in rows.items():
        if not (
            type(row) is tuple
            and len(row) == 5
            and type(row[0]) is str
            and all(type(n) is int for n in row[1:])
            and row[3] >= 0
            and row[4] >= 0
        ):
            return None
        entries[relpath] = ManifestEntry(row[0], row[1], row[2], where=(row[3], row[4]), part=part)
    return entries


def _manifest_rows(stored: object) -> dict[str, ManifestEntry] | None:
    """The entries of a stored manifest delta's rows; None unless every row is well formed."""
    if not isinstance(stored, dict):
        return None
    entries: dict[str, ManifestEntry] = {}
    for relpath, row in stored.items():
        if not (
            isinstance(row, tuple)
            and len(row) == 4
            and isinstance(row[0], str)
            and all(type(n) is int for n in row[1:3])
            and isinstance(row[3], str)
            and row[3].isascii()
        ):
            return None
        entries[relpath] = ManifestEntry(row[0], row[1], row[2], stored=row[3].encode("ascii"))
    return entries


@dataclass(frozen=True)
class Cleared:
    """What ``clear`` did: entries removed, and names it left because isolint did not make them."""

    removed: int
    kept: tuple[str, ...]
    existed: bool = True


def clear(directory: Path) -> Cleared:
    """Delete isolint's own entries in a cache directory, never following symlinks.

    Raises CacheDirError (nothing deleted) for a directory without isolint's marker. Files
    isolint did not create stay, and so do the marker and the directory that holds them.
    """
    kind = state(directory)
    if kind == "absent":
        return Cleared(0, (), existed=False)
    if not directory.is_dir():
        raise CacheDirError(f"'{directory}' is not a directory; nothing deleted")
    if kind != "ours":
        raise CacheDirError(
            f"'{directory}' is not an isolint cache directory (no {MARKER} and {CACHEDIR_TAG} "
            "markers); nothing deleted"
        )
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        removed, kept = _clear_top(fd)
    finally:
        os.close(fd)
    own = {MARKER, CACHEDIR_TAG, _GITIGNORE}
    if set(kept) <= own:
        for name in kept:
            _unlink(directory / name)
        try:
            directory.rmdir()
        except OSError:
            pass
        kept = []
    else:
        kept = [name for name in kept if name not in own]
    return Cleared(removed, tuple(sorted(kept)))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _clear_top(fd: int) -> tuple[int, list[str]]:
    removed = 0
    kept: list[str] = []
    for entry in os.scandir(fd):
        if _NAMESPACE.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            count, rest = _clear_dir(fd, entry.name, _namespace_member)
            removed += count
            if rest:
                kept.append(entry.name)
        elif _TOP_FILE.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
            removed += _unlink_at(fd, entry.name)
        else:
            kept.append(entry.name)
    return removed, kept


def _namespace_member(fd: int, name: str, is_dir: bool) -> tuple[int, bool]:
    """Remove one member of a namespace; (entries removed, whether something was left)."""
    if is_dir and (name == _PACKS or _SHARD.fullmatch(name)):
        count, rest = _clear_dir(fd, name, _pack_member if name == _PACKS else _shard_member)
        return count, bool(rest)
    if not is_dir and _NAMESPACE_FILE.fullmatch(name):
        return _unlink_at(fd, name), False
    return 0, True


def _pack_member(fd: int, name: str, is_dir: bool) -> tuple[int, bool]:
    if not is_dir and _PACK_MEMBER.fullmatch(name):
        return _unlink_at(fd, name), False
    return 0, True


def _shard_member(fd: int, name: str, is_dir: bool) -> tuple[int, bool]:
    if not is_dir and _ENTRY.fullmatch(name):
        return _unlink_at(fd, name), False
    return 0, True


def _unlink_at(fd: int, name: str) -> int:
    """Unlink a file or a symlink (never its target) named ``name`` in directory ``fd``."""
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        return 0
    return 1


def _clear_dir(
    parent: int, name: str, member: Callable[[int, str, bool], tuple[int, bool]]
) -> tuple[int, list[str]]:
    """Clear directory ``name`` of ``parent`` (opened without following a symlink), remove it if
    empty; (entries removed, names left)."""
    try:
        fd = os.open(name, _NOFOLLOW_DIR, dir_fd=parent)
    except OSError:
        return 0, [name]
    removed = 0
    left: list[str] = []
    try:
        for entry in os.scandir(fd):
            count, rest = member(fd, entry.name, entry.is_dir(follow_symlinks=False))
            removed += count
            if rest:
                left.append(entry.name)
    finally:
        os.close(fd)
    if not left:
        try:
            os.rmdir(name, dir_fd=parent)
        except OSError:
            left.append(name)
    return removed, left
