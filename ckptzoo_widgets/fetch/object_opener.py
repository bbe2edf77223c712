"""Opening an object-storage body through fsspec (``s3://``, ``gs://``, ``az://``, ``hf://``).

Each attempt asks the file system for the object's size and version (ETag,
generation ...), then reads from the partial file's end:

- S3 (``s3fs``): one ``GetObject`` with ``Range: bytes=<offset>-`` and ``If-Match``
  on the ETag, its body streamed (the same single request ``s3fs.get`` makes);
- any other file system: one file object per attempt, opened without fsspec's
  read-ahead cache (``cache_type="none"``), so each buffer is one ranged read of
  exactly its bytes (``cat_file(start=, end=)`` of a file system that keeps fsspec's
  default, such as ``HfFileSystem``, opens a read-ahead file per call: 1.7 times the
  bytes of the file came over the wire).

Credentials and the endpoint come from ``storage.filesystem`` (environment,
profiles, ``storage_options``). Backend errors become one line through
``storage.error_message``: a missing object or access denied is final, a
connection error, a timeout or a 5xx answer is retried by the state machine.
"""

from __future__ import annotations

import time
from typing import Any

from .. import storage
from ..errors import FetchError, HTTPStatusError, ZooError
from .opener import Opened
from .settings import Settings
from .transfer import BodyBroken, Restart, Retry

# Metadata keys that name an object's version, by file system (first found wins).
_VERSION_KEYS = ("ETag", "etag", "generation", "VersionId", "version_id", "blob_id")
_MODIFIED_KEYS = ("LastModified", "last_modified", "updated", "mtime")
#: how long one readinto may wait to fill its buffer before handing back what it has
#: (so the state machine's deadline and minimum speed see a slow server)
FILL_FOR = 0.1
READ_SIZE = 1 << 16


class ObjectOpener:
    def __init__(
        self, url: str, settings: Settings, storage_options: dict[str, Any] | None = None, *, hashed: bool = False
    ):
        self.url = url
        self.shown = storage.shown(url)
        self.s = settings
        self.options = dict(storage_options or {})
        self.s3 = storage.protocol(url) in ("s3", "s3a")
        # One try per request: retries (and their budget) are the state machine's. Only
        # when the caller left botocore's config to us: then the file system instance
        # (fsspec caches one per set of options) is used by downloads alone.
        own_config = self.s3 and "config_kwargs" not in self.options
        if own_config:
            self.options["config_kwargs"] = {
                "connect_timeout": settings.connect_timeout,
                "read_timeout": settings.read_timeout,
                "retries": {"total_max_attempts": 1, "mode": "standard"},
            }
            if hashed:
                # the sha256 checked before the file appears is stronger than S3's CRC of the
                # body, which costs 0.6 CPU s/GiB more here: botocore checks it only when asked
                self.options["config_kwargs"]["response_checksum_validation"] = "when_required"
        try:
            self.fs, self.path = storage.filesystem(url, self.options)
        except (FetchError, storage.MissingExtraError):
            raise
        except ZooError as e:
            raise FetchError(str(e)) from None
        if own_config:
            self.fs.retries = 1  # s3fs's own retry loop around each call

    def close(self) -> None:
        pass

    def _fail(self, e: BaseException) -> Exception:
        """The exception an attempt raises for a backend error ``e``."""
        message = storage.error_message(e, self.options)
        if isinstance(e, (FileNotFoundError, IsADirectoryError)) or storage.error_code(e) in ("404", "410"):
            code = storage.error_code(e) or ""
            return HTTPStatusError(f"{self.shown} does not exist" + (f" ({code})" if code.isalpha() else ""), 404)
        if isinstance(e, PermissionError) or storage.error_code(e) in (*storage.CREDENTIAL_CODES, "401", "403"):
            return HTTPStatusError(f"access denied to {self.shown}: {message}", 403)
        if storage.is_transient(e):
            return Retry(message)
        return FetchError(f"could not download {self.shown}: {message}")

    def open(self, offset: int, validator: str | None, remaining: float) -> Opened:
        try:
            self.fs.invalidate_cache(self.path)  # a fresh size and version on every attempt
            info = self.fs.info(self.path)
        except Exception as e:
            raise self._fail(e) from None
        if info.get("type") == "directory":
            raise FetchError(f"{self.shown} is a folder, not a file")
        total = info.get("size")
        total = int(total) if isinstance(total, int) or (isinstance(total, str) and total.isdigit()) else None
        etag = next((str(info[k]) for k in _VERSION_KEYS if info.get(k)), None)
        modified = next((str(info[k]) for k in _MODIFIED_KEYS if info.get(k)), None)
        start = offset
        if offset and ((validator and validator not in (etag, modified)) or (total is not None and offset > total)):
            start = 0  # the object changed since the partial file was written: all of it again
        reader: _S3Body | _RangeReader
        if self.s3:
            reader = _S3Body(self, start, etag, remaining)
        else:
            reader = _RangeReader(self, start, total)
        return Opened(
            start=start,
            length=None if total is None else total - start,
            total=total,
            etag=etag,
            last_modified=modified,
            encoded=False,
            reader=reader,
            close=reader.close,
        )


class _RangeReader:
    """Any fsspec file system: one ranged read per buffer, through one unbuffered file."""

    def __init__(self, opener: ObjectOpener, start: int, total: int | None):
        self.o, self.pos, self.total, self.received = opener, start, total, 0
        self.file: Any = None  # opened at the first read

    def readinto(self, mv: memoryview) -> int:
        end = self.pos + len(mv) if self.total is None else min(self.total, self.pos + len(mv))
        if end <= self.pos:
            return 0
        try:
            if self.file is None:
                self.file = self.o.fs.open(self.o.path, "rb", cache_type="none")
                self.file.seek(self.pos)
            data = self.file.read(end - self.pos)
        except Exception as e:
            failure = self.o._fail(e)
            if isinstance(failure, Retry):
                raise BodyBroken(failure.reason) from None
            raise failure from None
        mv[: len(data)] = data
        self.pos += len(data)
        self.received += len(data)
        return len(data)

    def wire_bytes(self) -> int:
        return self.received

    def close(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except Exception:  # closing after a broken read: nothing left to do
                pass


class _S3Body:
    """S3: one GetObject from ``start`` to the end, its body streamed on s3fs's event loop.

    The request is sent at the first read, so a size the state machine refuses
    (known from the HEAD) costs no body."""

    def __init__(self, opener: ObjectOpener, start: int, etag: str | None, remaining: float):
        from fsspec.asyn import sync

        self.o, self.sync, self.received = opener, sync, 0
        bucket, key, version = opener.fs.split_path(opener.path)
        self.request: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version:
            self.request["VersionId"] = version
        if start:
            self.request["Range"] = f"bytes={start}-"
        if etag:
            self.request["IfMatch"] = etag  # changed between info and this request: 412, start over
        self.t_end = time.monotonic() + remaining
        self.stream: Any = None

    def _open(self) -> None:
        fs = self.o.fs
        try:
            body = self.sync(fs.loop, fs._call_s3, "get_object", timeout=self.t_end - time.monotonic(), **self.request)
        except Exception as e:
            if storage.error_code(e) == "PreconditionFailed":
                raise Restart() from None
            raise self.o._fail(e) from None
        self.stream = body["Body"]

    async def _fill(self, mv: memoryview) -> int:
        """Read until ``mv`` is full, the body ends, or FILL_FOR seconds passed; at most
        the read timeout without a byte (one timer per call, not per chunk: it is cheaper)."""
        import asyncio

        return await asyncio.wait_for(self._fill_for(mv), self.o.s.read_timeout + FILL_FOR)

    async def _fill_for(self, mv: memoryview) -> int:
        n, t_end = 0, time.monotonic() + FILL_FOR
        while n < len(mv):
            # what arrived, 64 KiB at most: a larger read makes aiohttp join its chunks first
            chunk = await self.stream.read(min(len(mv) - n, READ_SIZE))
            if not chunk:
                break
            mv[n : n + len(chunk)] = chunk
            n += len(chunk)
            if time.monotonic() >= t_end:
                break
        return n

    def readinto(self, mv: memoryview) -> int:
        if self.stream is None:
            self._open()
        try:
            n: int = self.sync(self.o.fs.loop, self._fill, mv)
        except Exception as e:
            raise BodyBroken(storage.error_message(e, self.o.options)) from None
        self.received += n
        return n

    def wire_bytes(self) -> int:
        return self.received

    def close(self) -> None:
        if self.stream is None:
            return
        try:
            self.stream.close()
        except Exception:  # closing a broken stream: nothing left to do
            pass
