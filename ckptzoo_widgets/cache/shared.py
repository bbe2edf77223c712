"""The machine's shared answer cache (``CKPTZOO_SHARED_CACHE``): writes group-readable under the
shared folder's group, reads of regular files only within a cap, and one lock per answer asked
(the package's docstring describes its layout and why what is read stays untrusted)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import stat
import time
from collections.abc import Iterator

from .layout import lock_path

# --------------------------------------------------------- the shared answer cache

SHARED_DIR_MODE = 0o2770  # setgid (new files take the folder's group), rwx for owner and group
SHARED_FILE_MODE = 0o640  # rw for its writer, r for the group: nobody edits another's file in place
SHARED_POLL_S = 0.05


def _shared_folder(folder: pathlib.Path, root: pathlib.Path) -> None:
    """``folder`` (under ``root``) made with the shared modes and the root's group; the root itself is not made."""
    group = root.stat().st_gid
    path = root
    for part in folder.relative_to(root).parts:
        path = path / part
        try:
            os.mkdir(path, SHARED_DIR_MODE)
        except FileExistsError:
            continue
        try:
            os.chown(path, -1, group)
            os.chmod(path, SHARED_DIR_MODE)  # what the umask took away
        except OSError:
            pass


def write_shared(root: pathlib.Path, path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in the shared cache ``root``: atomically, group-readable, the root's group.

    The temporary name is random and made with ``O_EXCL | O_NOFOLLOW`` (a link another user put
    there is refused, never written through). OSError when the folder cannot be written.
    """
    _shared_folder(path.parent, root)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, SHARED_FILE_MODE)
    try:
        try:
            os.fchmod(fd, SHARED_FILE_MODE)
            group = root.stat().st_gid
            if os.fstat(fd).st_gid != group:
                os.fchown(fd, -1, group)  # a folder without setgid: the file still gets the class's group
        except OSError:
            pass
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_shared(path: pathlib.Path, limit: int) -> tuple[bytes, os.stat_result] | None:
    """The bytes of a shared file and its status, or None: missing, not a regular file, a link,
    more than one name (a hard link planted to another file), larger than ``limit``, unreadable."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1 or status.st_size > limit:
            return None
        with open(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return (data, status) if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def shared_lock(root: pathlib.Path, key: str, wait: float) -> Iterator[bool]:
    """Hold ``<root>/locks/<key>.lock`` (flock) while one user asks, for at most ``wait`` seconds of waiting.

    Yields True when held, False when it could not be had in time or at all (a lock another user
    holds for ever, a file that is not one, no ``fcntl``): the caller then asks anyway, so a lock
    is only ever a saving, never a wait without end.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield False
        return
    path = lock_path(root, key)
    fd: int | None = None
    try:
        _shared_folder(path.parent, root)
        fd = os.open(
            path,
            os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
            SHARED_FILE_MODE,
        )
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            fd = None
        elif status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) != SHARED_FILE_MODE:
            os.fchmod(fd, SHARED_FILE_MODE)
    except OSError:
        if fd is not None:
            os.close(fd)
        fd = None
    held = False
    if fd is not None:
        ends = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= ends:
                    break
                time.sleep(SHARED_POLL_S)
            except OSError:
                break
    try:
        yield held
    finally:
        if fd is not None:
            os.close(fd)  # the lock goes with it
