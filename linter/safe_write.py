"""Replace a source file's content with a fix: crash-safe, and still the same file afterwards.

The promise: after a crash or a SIGKILL at any moment, the file holds either its old or its new
full content, and isolint never makes it a different kind of file. How:

- **Symlinks** are resolved: the file the link points to is fixed, the link stays a link.
- **Rename, not rewrite.** The new content goes to a fully written, fsynced temporary file in
  the target's own directory, which is then renamed over the target (``rename`` is atomic;
  the directory is fsynced after). Writing into the file itself would keep its inode, but a kill
  in the middle of ``write``/``truncate`` leaves a half-written file, and no journal can repair
  it before the next run; so the rename is the only way to keep the promise.
- **What the rename would lose is kept or the file is refused**, never silently changed:
  the mode is copied and the owner and group are set to the old ones (a non-root user who
  cannot do that, e.g. for a group-writable file owned by someone else, gets a refusal rather
  than a file that changed hands); a file with several hard links is refused (a rename would
  detach this name from the others, which would keep the old content); a read-only file
  (no write permission for us, or no write bit at all, as root too) is refused.
- **No stray temporary files**: on Linux the temporary file is created unnamed (``O_TMPFILE``)
  and only linked to a name (``.<file>.<pid>.<n>.isolint.tmp``) just before the rename, so a
  kill leaves a name behind only in the microseconds between two system calls, and the next
  fix of that file removes such a leftover once its process is gone (it is isolint's own: the
  name says so, and its process no longer exists); elsewhere a named temporary file is removed
  on every error.
- Every refusal is a ``WriteRefused`` whose message names the problem, for a per-file error
  naming the file being fixed (never the temporary file); other files go on being fixed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class WriteRefused(Exception):
    """The fix was not written; the message says why (the file is unchanged)."""


class ChangedOnDisk(WriteRefused):
    """The file no longer holds the content the fix was computed from."""


def replace_content(path: Path, data: bytes, expected: bytes | None = None) -> None:
    """Make ``path`` (or the file it links to) hold ``data``; see the module docstring.

    With ``expected``, only if the file still holds exactly those bytes. Raises WriteRefused.
    """
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteRefused(f"cannot write the fix: {exc.strerror or exc}") from exc
    if info is not None:
        _check_replaceable(target, info)
    if expected is not None:
        try:
            current = target.read_bytes()
        except OSError as exc:
            raise ChangedOnDisk("changed on disk (cannot read it back); not fixed") from exc
        if current != expected:
            raise ChangedOnDisk("changed on disk; not fixed")
    try:
        _replace(target, data, info)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError):
            reason = f"its directory {target.parent} is not writable ({reason})"
        raise WriteRefused(f"cannot write the fix: {reason}") from exc


def _check_replaceable(target: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("not a regular file; not fixed")
    if not info.st_mode & _WRITE_BITS or not os.access(target, os.W_OK):
        raise WriteRefused("read-only file (no write permission); not fixed")
    if info.st_nlink > 1:
        raise WriteRefused(
            f"has {info.st_nlink} hard links; not fixed (replacing it would detach this name "
            "from the others)"
        )
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        mine = info.st_uid == os.geteuid()
        if not mine:
            raise WriteRefused(
                f"owned by uid {info.st_uid}; not fixed (the fixed file would be owned by you)"
            )


def _replace(target: Path, data: bytes, info: os.stat_result | None) -> None:
    directory = target.parent
    _remove_leftovers(directory, target.name)
    fd, named = _temporary(directory, target.name)
    try:
        with os.fdopen(fd, "wb", closefd=True) as handle:
            handle.write(data)
            handle.flush()
            if info is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
                _keep_owner(handle.fileno(), info)
            os.fsync(handle.fileno())
            if named is None:
                named = _link_unnamed(handle.fileno(), directory, target.name)
        os.replace(named, target)
        named = None
        _fsync_directory(directory)
    finally:
        if named is not None:
            try:
                os.unlink(named)
            except OSError:
                pass


def _keep_owner(fd: int, info: os.stat_result) -> None:
    stats = os.fstat(fd)
    if (stats.st_uid, stats.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except PermissionError as exc:
        raise WriteRefused(
            f"owned by group {info.st_gid}, which the fixed file could not keep; not fixed"
        ) from exc


def _temporary(directory: Path, name: str) -> tuple[int, str | None]:
    """An open temporary file in ``directory``: unnamed where the system allows (None)."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is not None and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(directory, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600), None
        except OSError as exc:
            if isinstance(exc, PermissionError):
                raise
            # the file system has no O_TMPFILE: use a named temporary file
    fd, named = tempfile.mkstemp(dir=directory, prefix=f".{name[:100]}.", suffix=".isolint.tmp")
    return fd, named


def _remove_leftovers(directory: Path, name: str) -> None:
    """Delete ``.<name>.<pid>.<n>.isolint.tmp`` files left by a killed isolint (pid gone)."""
    prefix = f".{name[:100]}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".isolint.tmp")):
            continue
        parts = entry[len(prefix) : -len(".isolint.tmp")].split(".")
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            continue
        if _alive(int(parts[0])):
            continue
        try:
            if stat.S_ISREG(os.lstat(directory / entry).st_mode):
                os.unlink(directory / entry)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _link_unnamed(fd: int, directory: Path, name: str) -> str:
    """Give the unnamed temporary file a name next to the target, for the rename."""
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        for attempt in range(100):
            candidate = f".{name[:100]}.{os.getpid()}.{attempt}.isolint.tmp"  # < NAME_MAX
            try:
                # with a directory fd CPython calls linkat(AT_SYMLINK_FOLLOW): the magic link
                # to the open file is followed (plain link() would try to link the symlink)
                os.link(
                    f"/proc/self/fd/{fd}", candidate, dst_dir_fd=directory_fd, follow_symlinks=True
                )
            except FileExistsError:
                continue
            return str(directory / candidate)
    finally:
        os.close(directory_fd)
    raise FileExistsError(f"no free temporary name for {name} in {directory}")


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
