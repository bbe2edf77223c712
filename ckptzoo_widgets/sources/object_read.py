"""Index reads from object storage, cut at their cap while the body streams.

A listing or HEAD says how large an object is; the GET that follows is the
server's to answer, and one that ignores `Range` (or sends more than the
object's size) would otherwise be read whole into memory by the file system's
client before anyone counts it. Every index read on object storage (a JSON
index, the ranged reads of a Parquet index read in place, the files of a runs
folder) goes through `read_range`:

- the cap is the range asked for (never more than the size the listing gave);
- on S3 the body is streamed: an announced `Content-Length` over the cap is
  refused before the body is read, and a body that keeps coming past the cap
  is cut there (the connection closed) and refused;
- other file systems' clients read a range whole; what they return is checked
  against the cap before it is used.

A refusal is one `BudgetError` (a ZooError) naming the object, or the caller's
error class (`ObjectFile(error=...)`: a runs folder reports `FolderReadError`).
"""

from __future__ import annotations

import io
from typing import Any

from .. import storage
from ..decode import BudgetError, within_budget
from ..errors import ZooError

PIECE = 1 << 16  # bytes taken from a streamed body at a time


def _over(shown: str, want: int, error: type[ZooError]) -> ZooError:
    return error(f"{shown}: the server sent more than the {want:,} bytes asked (a range it ignored?); cut there")


def _s3_range(fs: Any, path: str, start: int, end: int, shown: str, error: type[ZooError]) -> bytes:
    """Bytes [start, end) of an S3 object, its GetObject body streamed and cut at `end - start`."""
    from fsspec.asyn import sync

    want = end - start
    bucket, key, version = fs.split_path(path)
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes={start}-{end - 1}"}
    if version:
        request["VersionId"] = version

    async def read() -> bytes:
        response = await fs._call_s3("get_object", **request)
        body = response["Body"]
        try:
            announced = response.get("ContentLength")
            if isinstance(announced, int) and announced > want:  # before a byte of the body is read
                raise _over(shown, want, error)
            parts, have = [], 0
            while have < want:
                piece = await body.read(min(PIECE, want - have))
                if not piece:
                    break
                parts.append(piece)
                have += len(piece)
            if have >= want and await body.read(1):  # still coming: a body longer than asked
                raise _over(shown, want, error)
            return b"".join(parts)
        finally:
            body.close()  # a body cut short: the connection goes with it

    try:
        data: bytes = sync(fs.loop, read)
    except ZooError:
        raise
    except Exception as failure:  # noqa: BLE001 - every backend raises its own kinds
        raise error(f"{shown}: cannot read ({storage.error_message(failure)})") from None
    return data


def read_range(fs: Any, path: str, start: int, end: int, shown: str, error: type[ZooError] = BudgetError) -> bytes:
    """Bytes [start, end) of an object, never holding more than `end - start` of what the server sends (S3)."""
    if end <= start:
        return b""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    if "s3" in protocols:
        return _s3_range(fs, path, start, end, shown, error)
    try:
        data = fs.cat_file(path, start=start, end=end)
    except Exception as failure:  # noqa: BLE001
        raise error(f"{shown}: cannot read ({storage.error_message(failure)})") from None
    if len(data) > end - start:
        raise _over(shown, end - start, error)
    return bytes(data)


def read_object(fs: Any, path: str, size: int, limit: int, shown: str) -> bytes:
    """A whole object of `size` bytes (from its HEAD or listing), refused when `size` exceeds `limit`."""
    within_budget(shown, size, limit)
    return read_range(fs, path, 0, size, shown)


class ObjectFile(io.RawIOBase):
    """A read-only, seekable object of a known size whose every read is one `read_range` (with read-ahead).

    Handed to pyarrow (a Parquet index read in place) and to the folder rule's
    capped reads (`ObjectFolder.open`): no read asks past the size the listing
    gave, and none holds more than it asked.
    """

    def __init__(
        self,
        fs: Any,
        path: str,
        size: int,
        shown: str,
        *,
        block: int = 0,
        error: type[ZooError] = BudgetError,
    ):
        super().__init__()
        self.fs, self.path, self.size, self.shown, self.block, self.error = fs, path, size, shown, block, error
        self.position = 0
        self._buffer, self._buffer_start = b"", 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, count: int | None = -1) -> bytes:
        end = self.size if count is None or count < 0 else min(self.size, self.position + count)
        if end <= self.position:
            return b""
        buffered_end = self._buffer_start + len(self._buffer)
        if not (self._buffer_start <= self.position and end <= buffered_end):
            fetch_end = min(self.size, max(end, self.position + self.block))
            self._buffer = read_range(self.fs, self.path, self.position, fetch_end, self.shown, self.error)
            self._buffer_start = self.position
        offset = self.position - self._buffer_start
        data = self._buffer[offset : offset + end - self.position]
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)
