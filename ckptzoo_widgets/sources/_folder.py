"""Reading a zoo's folder: the one walk and the one read every reader goes through.

The rule (docs/security.md, "Folders"):

- The folder the user names is theirs: links in the path they typed are
  resolved once. Everything found *inside* it belongs to the zoo's author.
- Inside, a symbolic link is followed only when its fully resolved target lies
  inside the folder too (Lightning's `last.ckpt -> epoch=9.ckpt`, a shard
  linked from a sibling run). A link that leaves the folder (to `~/.ssh/id_rsa`,
  to `/dev/zero`) is reported and skipped. Linked sub-folders are never
  descended, so a link loop cannot make the walk endless.
- Only regular files are read or indexed. The check is made on the opened
  descriptor (`O_NOFOLLOW | O_NONBLOCK`, then `fstat` and `S_ISREG`), so a FIFO
  cannot block the open and a file swapped for a link after the check is refused.
- Every read is capped by the bytes actually read (a file may lie about its
  size, or grow), and a whole walk has a budget of files, bytes and seconds.
  When the budget runs out the walk stops, says so, and what was found opens.

A folder on object storage (`s3://bucket/runs/`, any fsspec file system) is an
`ObjectFolder`: the same budget and the same capped reads; only listing and
opening differ (objects have no links, and anything that is not a file object
is refused). Reads are ranged: a capped read fetches about what it counts.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, BinaryIO

from ..errors import ZooError
from ..humanize import human_bytes

MAX_FILES = 200_000  # a walk stops here (someone opened their home folder)
MAX_WALK_BYTES = 512 << 20  # metadata (JSON, CSV, cards, headers) read in one walk
MAX_WALK_SECONDS = 120.0
CHUNK = 1 << 16

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FolderReadError(ZooError):
    """One file of a zoo folder that is not read: why, in a few words (the caller names the file)."""


class BudgetExhausted(FolderReadError):
    """The walk's budget of files, bytes or time ran out."""


@dataclass
class Budget:
    """What one walk of a folder may cost in total."""

    files: int = MAX_FILES
    bytes: int = MAX_WALK_BYTES
    seconds: float = MAX_WALK_SECONDS
    deadline: float = field(init=False)
    files_seen: int = field(init=False, default=0)
    bytes_read: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExhausted(f"the folder walk took longer than {self.seconds:g} s")

    def charge_files(self, count: int) -> None:
        self.files_seen += count
        if self.files_seen > self.files:
            raise BudgetExhausted(f"stopped after {self.files:,} files; open a smaller folder")
        self.check_time()

    def charge_bytes(self, count: int) -> None:
        self.bytes_read += count
        if self.bytes_read > self.bytes:
            raise BudgetExhausted(f"read more than {human_bytes(self.bytes)} of metadata in one walk")
        self.check_time()


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


class Folder:
    """A zoo's folder: walk it, and open, stat or read the files found in it under the rule above."""

    local = True  # on this machine's file system (an ObjectFolder is not)

    def __init__(self, root: str | Path, budget: Budget | None = None):
        self.given: Any = Path(root).expanduser()
        self.root: Any = Path(os.path.realpath(Path(root).expanduser()))
        self.budget = budget or Budget()

    @property
    def name(self) -> str:
        """The folder's own name (what a run at its top is called)."""
        return self.root.name

    def is_dir(self) -> bool:
        return bool(self.root.is_dir())

    def inside(self, path: str | PurePath, folder: str | PurePath | None = None) -> bool:
        """Whether `path` really lies inside the zoo's folder (or inside `folder`, one of its sub-folders)."""
        real, top = os.path.realpath(path), str(self.root) if folder is None else os.path.realpath(folder)
        return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

    def walk(self, on_error: object = None) -> Iterator[tuple[Path, list[str], list[str]]]:
        """`os.walk` without following linked folders, charging the budget (BudgetExhausted ends it).

        The caller may prune `dirnames` in place, as with `os.walk`.
        """
        for dirpath, dirnames, filenames in os.walk(self.given, onerror=on_error, followlinks=False):  # type: ignore[arg-type]
            self.budget.charge_files(len(filenames) + len(dirnames))
            # os.walk lists linked folders in dirnames; they are never entered.
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            yield Path(dirpath), dirnames, filenames

    def open(self, path: str | PurePath, within: str | PurePath | None = None) -> tuple[BinaryIO, int]:
        """An open regular file inside the folder (and inside its sub-folder `within`), and its size.

        The size comes from the descriptor.
        """
        real = os.path.realpath(path)
        if not self.inside(real):
            raise FolderReadError("a symbolic link to a place outside the zoo's folder; not followed")
        if within is not None and not self.inside(real, within):
            raise FolderReadError("a symbolic link to a place outside its run's folder; not followed")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(real, flags)
        except OSError as error:
            raise FolderReadError(f"cannot open ({error.strerror or type(error).__name__})") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FolderReadError(f"{_kind(info.st_mode)}, not a regular file; not read")
            return os.fdopen(fd, "rb"), info.st_size
        except BaseException:
            os.close(fd)
            raise

    def size(self, path: str | Path) -> int:
        """The size of a regular file inside the folder (FolderReadError otherwise)."""
        handle, size = self.open(path)
        handle.close()
        return size

    def read(self, path: str | Path, limit: int) -> bytes:
        """At most `limit` bytes, counted as read (FolderReadError when the file holds more)."""
        handle, size = self.open(path)
        with handle:
            if size > limit:  # said by the file system; the capped read below catches a file that grows
                raise FolderReadError(f"larger than {human_bytes(limit)}; not read")
            return self._read(handle, limit, strict=True)

    def head(self, path: str | Path, count: int) -> bytes:
        """The first `count` bytes (or fewer) of a regular file inside the folder."""
        handle, _size = self.open(path)
        with handle:
            return self._read(handle, count, strict=False)

    def read_exactly(self, handle: BinaryIO, count: int) -> bytes:
        """The next `count` bytes of a file opened with `open` (FolderReadError when it ends first)."""
        data = self._read(handle, count, strict=False)
        if len(data) < count:
            raise FolderReadError(f"ends {count - len(data)} bytes early")
        return data

    def _read(self, handle: BinaryIO, limit: int, *, strict: bool) -> bytes:
        # One byte past the limit tells a file that holds more from one that holds exactly `limit`.
        want = limit + 1 if strict else limit
        parts: list[bytes] = []
        total = 0
        while total < want:
            self.budget.check_time()
            block = handle.read(min(CHUNK, want - total))
            if not block:
                break
            total += len(block)
            self.budget.charge_bytes(len(block))
            parts.append(block)
        if total > limit:
            raise FolderReadError(f"larger than {human_bytes(limit)}; not read")
        return b"".join(parts)


READ_BLOCK = 256 << 10  # ranged reads of an object: a capped read fetches at most this much past its cap


class ObjectFolder(Folder):
    """A folder on object storage, read in place through fsspec, under the same budget and caps.

    Objects are regular files by nature and there are no links; a key with `.`
    or `..` segments, or a name found outside the folder, is refused. The sizes
    the listing gave are used for `open`, so reading a run costs no extra
    requests per file.
    """

    local = False

    def __init__(self, url: str, budget: Budget | None = None, storage_options: dict[str, Any] | None = None):
        from .. import storage

        self.url = url.rstrip("/") + "/"
        self.options = storage_options
        self.fs, path = storage.filesystem(url, storage_options)
        self.given = self.root = PurePosixPath(path.rstrip("/") or "/")
        self.budget = budget or Budget()
        self._infos: dict[str, dict[str, Any]] = {}

    @property
    def name(self) -> str:
        return self.root.name or "runs"

    def url_of(self, path: str | PurePosixPath) -> str:
        """The URL of a file found in the folder."""
        return self.url + PurePosixPath(path).relative_to(self.root).as_posix()

    def is_dir(self) -> bool:
        from .. import storage

        try:
            return bool(self.fs.isdir(str(self.root)))
        except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
            why = storage.error_message(error, self.options)
            raise ZooError(f"{storage.shown(self.url)}: cannot list ({why})") from None

    def inside(self, path: str | PurePath, folder: str | PurePath | None = None) -> bool:
        parts = PurePosixPath(path).parts
        top = self.root.parts if folder is None else PurePosixPath(folder).parts
        return parts[: len(top)] == top and not {".", ".."} & set(parts[len(top) :])

    def walk(self, on_error: object = None) -> Iterator[tuple[Any, list[str], list[str]]]:
        def failed(error: OSError) -> None:
            if callable(on_error):
                on_error(error)

        for dirpath, dirs, files in self.fs.walk(str(self.root), detail=True, topdown=True, on_error=failed):
            self.budget.charge_files(len(files) + len(dirs))
            folder = PurePosixPath(dirpath)
            names = [name for name, info in files.items() if name and info.get("type") == "file"]
            for name in names:
                self._infos[str(folder / name)] = files[name]
            dirnames = list(dirs)
            yield folder, dirnames, names
            for name in [d for d in dirs if d not in dirnames]:  # pruned by the caller, as with os.walk
                del dirs[name]

    def open(self, path: str | PurePath, within: str | PurePath | None = None) -> tuple[BinaryIO, int]:
        from .. import storage
        from .object_read import ObjectFile

        key = str(PurePosixPath(path))
        if not self.inside(key) or (within is not None and not self.inside(key, within)):
            raise FolderReadError("a name outside the zoo's folder; not read")
        try:
            info = self._infos.get(key) or self.fs.info(key)
            if info.get("type") != "file":
                raise FolderReadError(f"{info.get('type') or 'not a file'}, not a regular file; not read")
            size = int(info.get("size") or 0)
            # every ranged read cut at what it asked while the body streams (a GET that ignores Range)
            shown = storage.shown(self.url_of(key))
            handle = ObjectFile(self.fs, key, size, shown, block=READ_BLOCK, error=FolderReadError)
        except FolderReadError:
            raise
        except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
            raise FolderReadError(f"cannot open ({storage.error_message(error, self.options)})") from None
        return handle, size  # type: ignore[return-value]
