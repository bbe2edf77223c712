"""Atomic writes and hashing of the cache: the one atomic write every index, pack file and cache
record lands through, the one file hasher, and reading a JSON record back."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import re
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import FetchError
from ..text import one_line

SHA_RE = re.compile(r"[0-9a-f]{64}")
CHUNK = 4 << 20  # read size when hashing a file


def read_json(path: pathlib.Path) -> dict[str, Any] | None:
    """A JSON object from a record, or None when missing or damaged."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


TEMPORARY_GLOB = ".*.tmp"  # what an interrupted atomic write leaves (`ckptzoo cache prune` removes it)


def temporary_name(path: pathlib.Path) -> pathlib.Path:
    """The name ``path`` is written under before it appears: hidden, in its folder, per process and thread."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def is_temporary(name: str) -> bool:
    """A file name `temporary_name` (or `write_shared`) makes."""
    return name.startswith(".") and name.endswith(".tmp")


@contextlib.contextmanager
def atomic_write(path: pathlib.Path) -> Iterator[pathlib.Path]:
    """The one atomic write: a temporary name beside ``path`` to write (a file, a link) inside the block.

    When the block ends without an error the temporary replaces ``path`` in one step,
    so readers see the old file or the new one; either way nothing is left under the
    temporary name. ``path``'s folder is made when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_atomic(path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_json_atomic(path: pathlib.Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True).encode("utf-8"))


def touch(path: pathlib.Path) -> None:
    """Record a use (prune --older-than looks at it); harmless on a read-only cache."""
    try:
        os.utime(path)
    except OSError:
        pass


# --------------------------------------------------------------------------- hashing


def sha256_file(path: pathlib.Path, limit: int | None = None) -> tuple[Any, int]:
    """(sha256 object, bytes read) over the file, or over its first ``limit`` bytes.

    The one file hasher: verification, ``cache verify`` and resuming a partial
    download all use it. Fewer bytes than ``limit`` means the file is shorter.
    """
    h = hashlib.sha256()
    buf = bytearray(min(CHUNK, limit) if limit is not None else CHUNK)
    mv = memoryview(buf)
    done = 0
    with open(path, "rb", buffering=0) as f:
        while limit is None or done < limit:
            want = len(buf) if limit is None else min(len(buf), limit - done)
            n = f.readinto(mv[:want])
            if not n:
                break
            h.update(mv[:n])
            done += n
    return h, done


def hash_file(path: pathlib.Path) -> str:
    """The sha256 hex digest of a whole file."""
    return sha256_file(path)[0].hexdigest()


def normalise_sha(sha256: str | None) -> str | None:
    """A sha256 as stored (lowercase hex, no ``sha256:`` prefix); FetchError when it is not one."""
    if sha256 is None:
        return None
    s = str(sha256).strip().lower().removeprefix("sha256:")
    if not SHA_RE.fullmatch(s):
        raise FetchError(f"not a sha256 hex digest: {one_line(repr(sha256), 80)}")
    return s
