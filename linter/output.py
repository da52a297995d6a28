"""Write a report or baseline to a path the user named: through symlinks, into FIFOs and devices."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from isolint.errors import UsageError

# Paths here are (or resolve through) kernel "magic" links such as /dev/fd/N and /dev/stdout:
# they are opened as given, never resolved and replaced.
_SPECIAL_TREES = ("/dev/", "/proc/")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _write_in_place(path: str, data: bytes, create: bool) -> None:
    """Open ``path`` for writing (FIFOs, devices, files we must not replace) and write ``data``."""
    flags = os.O_WRONLY | os.O_TRUNC | (os.O_CREAT if create else 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _replace(target: str, data: bytes, existing: os.stat_result | None) -> None:
    """Atomically replace (or create) the regular file ``target``.

    The temp file is created with mode 0666, so a new file gets what the umask allows; an
    existing file keeps its mode and owner.
    """
    directory, name = os.path.split(target)
    # Bounded well below NAME_MAX (255), whatever the length of the target's name.
    tmp = os.path.join(directory, f".{name[:200]}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if existing is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
                if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
                    os.fchown(handle.fileno(), existing.st_uid, existing.st_gid)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write(given: str, data: bytes) -> None:
    try:
        existing: os.stat_result | None = os.stat(given)  # follows symlinks
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(21, "Is a directory")
    absolute = os.path.abspath(given)
    target = os.path.realpath(given)
    special = any(p.startswith(_SPECIAL_TREES) for p in (absolute + "/", target + "/"))
    if existing is not None and (
        special or not stat.S_ISREG(existing.st_mode) or existing.st_nlink > 1
    ):
        _write_in_place(given, data, create=False)  # FIFO, device, /dev/fd/N, hard link
        return
    if special:
        _write_in_place(given, data, create=True)
        return
    if existing is not None and not os.access(target, os.W_OK):
        raise PermissionError(13, "Permission denied (the file is read-only)")
    try:
        _replace(target, data, existing)
    except PermissionError:
        if existing is None:
            raise
        # The directory is read-only (or the owner cannot be kept) but the file is writable.
        _write_in_place(target, data, create=False)


def write_output(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path``; any failure is a UsageError naming the file (exit 2).

    A symlink stays a symlink (its target is written); FIFOs, character devices and
    ``/dev/fd/N`` are opened and written, never replaced; a regular file is replaced atomically
    keeping its mode and owner (hard-linked files are written in place); a new file gets the
    mode the umask allows.
    """
    try:
        _write(os.fspath(path), data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write {what}: {_reason(exc)}") from None
