"""Moving bytes: the socket reader, the writer and hasher threads, HTTP details.

The body is read on the calling thread straight into a small pool of buffers;
two threads behind it append each buffer to the partial file and feed it to
sha256 (both release the GIL), so receiving, writing and hashing overlap.
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import pathlib
import queue
import threading
import time
from typing import Any

from ..errors import DiskFullError, FetchError

CHUNK = 4 << 20  # buffer size handed from the network reader to the hasher/writer
#: a compressed body (sent despite ``Accept-Encoding: identity``) of a file with no
#: expected size may decode into at most this many times the bytes sent...
MAX_DECODE_RATIO = 100
RATIO_FROM = 1 << 20  # ...once it has decoded more than this


class Retry(Exception):
    """A transient failure; ``after``: seconds the server asked us to wait."""

    def __init__(self, reason: str, after: float | None = None, progressed: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.progressed = progressed


class Restart(Exception):
    """Discard the partial file and start again from byte 0."""


def is_identity(resp: Any) -> bool:
    """The body is sent as the file's bytes (no Content-Encoding such as gzip)."""
    return resp.headers.get("Content-Encoding", "identity").strip().lower() in ("", "identity")


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def is_name_resolution_error(exc: BaseException) -> bool:
    import urllib3

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, urllib3.exceptions.NameResolutionError):
            return True
        if isinstance(e, BaseException):
            stack += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return False


class BodyBroken(Exception):
    """Internal: the body stream failed (connection reset, timeout, short read)."""


class BodyReader:
    """Reads a response body into caller buffers, one socket read at a time.

    For a plain body of known length it reads the connection's buffered stream
    directly (``readinto1``: no copies, no allocations; returns as soon as some
    bytes arrived, so a dripping server cannot hide inside one big read).
    Otherwise (chunked, compressed, no length) it goes through urllib3.
    """

    def __init__(self, resp: Any, body_len: int | None):
        self.raw = resp.raw
        fp = getattr(self.raw, "_fp", None)  # http.client.HTTPResponse
        stream = getattr(fp, "fp", None)  # its buffered socket reader
        self.stream = (
            stream
            if body_len is not None
            and is_identity(resp)
            and isinstance(fp, http.client.HTTPResponse)
            and not fp.chunked
            and hasattr(stream, "readinto1")
            else None
        )
        self.left = body_len if body_len is not None else -1

    def wire_bytes(self) -> int:
        """Bytes read from the connection so far (before decoding)."""
        try:
            return int(self.raw.tell())
        except (AttributeError, TypeError, ValueError, OSError):
            return 0

    def readinto(self, mv: memoryview) -> int:
        import requests
        import urllib3

        try:
            if self.stream is not None:
                if self.left <= 0:
                    return 0
                n = self.stream.readinto1(mv[: min(len(mv), self.left)])
                self.left -= n
                return n
            if hasattr(self.raw, "read1"):  # (urllib3 >= 2)
                data = self.raw.read1(len(mv), decode_content=True)
            else:
                data = self.raw.read(min(len(mv), 1 << 16), decode_content=True)
            mv[: len(data)] = data
            return len(data)
        except (
            OSError,
            ValueError,  # a read on a connection closed underneath
            http.client.HTTPException,
            urllib3.exceptions.HTTPError,
            requests.exceptions.RequestException,
        ) as e:
            raise BodyBroken(type(e).__name__) from None


class Writer:
    """Two threads behind the network reader: one appends buffers to the partial
    file, one feeds them to sha256 (both release the GIL), so reading, writing and
    hashing overlap. A buffer returns to the pool once both are done with it."""

    def __init__(self, path: pathlib.Path, mode: str, hasher: Any, nbuf: int = 6, bufsize: int = CHUNK):
        self.path = path
        self.hasher = hasher
        self.n_written = 0
        self.n_hashed = 0
        self.error: BaseException | None = None
        try:
            self.f = open(path, mode, buffering=0)
        except OSError as e:
            raise disk_error(e, path) from None
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(nbuf):
            self.free.put(bytearray(bufsize))
        self._users: dict[int, int] = {}
        self._lock = threading.Lock()
        self.hash_q: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self.write_q: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(
                target=self._loop, args=(self.write_q, self._write), daemon=True, name="ckptzoo-fetch-write"
            ),
            threading.Thread(target=self._loop, args=(self.hash_q, self._hash), daemon=True, name="ckptzoo-fetch-hash"),
        ]
        for t in self.threads:
            t.start()

    @property
    def written(self) -> int:
        """Bytes both on disk and in the hash."""
        return min(self.n_written, self.n_hashed)

    def buffer(self) -> bytearray:
        while True:
            if self.error is not None:
                raise self.error
            try:
                return self.free.get(timeout=0.1)
            except queue.Empty:
                continue

    def submit(self, buf: bytearray, n: int) -> None:
        if self.error is not None:
            raise self.error
        with self._lock:
            self._users[id(buf)] = 2
        self.write_q.put((buf, n))
        self.hash_q.put((buf, n))

    def _write(self, chunk: memoryview) -> None:
        done = 0
        while done < len(chunk):
            done += self.f.write(chunk[done:]) or 0
        self.n_written += len(chunk)

    def _hash(self, chunk: memoryview) -> None:
        self.hasher.update(chunk)
        self.n_hashed += len(chunk)

    def _loop(self, q: queue.SimpleQueue[tuple[bytearray, int] | None], work: Any) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            buf, n = item
            if self.error is None:
                try:
                    with memoryview(buf) as mv:
                        work(mv[:n])
                except OSError as e:
                    self.error = disk_error(e, self.path)
                except BaseException as e:  # pragma: no cover - defensive
                    self.error = e
            with self._lock:
                self._users[id(buf)] -= 1
                last = self._users[id(buf)] == 0
                if last:
                    del self._users[id(buf)]
            if last:
                self.free.put(buf)

    def close(self, discard_errors: bool = False) -> None:
        self.write_q.put(None)
        self.hash_q.put(None)
        for t in self.threads:
            t.join()
        try:
            self.f.close()
        except OSError as e:
            if self.error is None:
                self.error = disk_error(e, self.path)
        if self.error is not None and not discard_errors:
            raise self.error


def disk_error(e: OSError, path: pathlib.Path) -> FetchError:
    where = e.filename or path
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        return DiskFullError(f"no space left while writing {where} ({e.strerror})")
    return FetchError(f"cannot write {where}: {e.strerror or e}")
