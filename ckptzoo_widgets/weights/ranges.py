"""Byte ranges of one file, wherever it is: a local path, http(s) (a Hub resolve URL too), object storage.

`open_ranges(location)` gives a `Ranges`: `size` (learnt from the first answer)
and `read(start, end)`, one ranged request per call that returns exactly
`end - start` bytes or raises `WeightsError` (one line). Every reader counts the
bytes it received (`received`) and the requests it sent (`requests`), so a
caller can say what a statistic cost.

Over http(s):

- each read is one GET with `Range: bytes=a-b` and `Accept-Encoding: identity`;
  a server that answers 200 (no ranges) or a range other than the one asked is
  refused after at most the bytes asked were taken from it, never read whole;
- the first answer's strong ETag is sent as `If-Range` with every later read and
  the total size must stay the same: a file replaced while it is read is an error,
  not a mix of two files;
- a redirect (the Hub's resolve URL to its storage) is followed once and the
  final URL reused for the next reads (requests drops the Authorization header
  when the redirect leaves the origin);
- credentials only as everywhere else: `credentials.auth_for` for the origin
  they were given for.

On object storage each read is one `cat_file(path, start, end)` through
`storage.filesystem` (credentials from the environment or `storage_options`);
what comes back is checked against the length asked.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any, BinaryIO, cast

from .. import credentials, storage
from ..decode import WEIGHTS_HEADER_PREFIX
from ..errors import ZooError
from ..safetensors_check import SafetensorsHeader, read_header_from
from ..text import one_line

TIMEOUT = (10.0, 30.0)  # connect, read (seconds)
PIECE = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)")


class WeightsError(ZooError):
    """Weight statistics that cannot be computed: an unreadable file, a refused dtype, a server without ranges."""


class Ranges:
    """Ranged reads of one file (see the module notes). Subclasses implement `_read`."""

    def __init__(self, shown: str):
        self.shown = shown
        self.size: int | None = None
        self.received = 0
        self.requests = 0

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file, exactly; WeightsError otherwise."""
        if end <= start:
            return b""
        if self.size is not None and end > self.size:
            raise WeightsError(f"{self.shown}: bytes {start}-{end} lie past the end of the file ({self.size} bytes)")
        self.requests += 1
        data = self._read(start, end)
        self.received += len(data)
        if len(data) != end - start:
            raise WeightsError(f"{self.shown}: asked for {end - start} bytes at {start}, got {len(data)}")
        return data

    def _read(self, start: int, end: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def header(self, expected_size: int | None = None) -> SafetensorsHeader:
        """The file's validated safetensors header (`safetensors_check.read_header_from`): one ranged read
        of the first `WEIGHTS_HEADER_PREFIX` bytes, a second only for a header longer than that."""
        prefix = self.read(0, self.first_read_length())
        if self.size is None:  # pragma: no cover - every reader knows the size after its first read
            raise WeightsError(f"{self.shown}: the size of the file is unknown")
        if expected_size is not None and expected_size != self.size:
            raise WeightsError(f"{self.shown}: the file has {self.size} bytes, the index says {expected_size}")
        return read_header_from(cast(BinaryIO, _PrefixHandle(self, prefix)), self.size, self.shown)

    def first_read_length(self) -> int:
        return WEIGHTS_HEADER_PREFIX if self.size is None else min(WEIGHTS_HEADER_PREFIX, self.size)


class _PrefixHandle(io.RawIOBase):
    """A file handle over what the first read brought; anything past it is one more ranged read."""

    def __init__(self, ranges: Ranges, prefix: bytes):
        super().__init__()
        self.ranges, self.prefix, self.position = ranges, prefix, 0

    def readable(self) -> bool:
        return True

    def read(self, count: int | None = -1) -> bytes:
        size = self.ranges.size or 0
        end = size if count is None or count < 0 else min(size, self.position + count)
        if end <= self.position:
            return b""
        if end <= len(self.prefix):
            data = self.prefix[self.position : end]
        else:
            data = self.prefix[self.position :] + self.ranges.read(max(self.position, len(self.prefix)), end)
        self.position += len(data)
        return data


class LocalRanges(Ranges):
    def __init__(self, path: Path):
        super().__init__(one_line(str(path)))
        try:
            self.handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
            self.size = os.fstat(self.handle.fileno()).st_size
        except OSError as error:
            raise WeightsError(f"{self.shown}: cannot read it ({error.strerror or type(error).__name__})") from None

    def _read(self, start: int, end: int) -> bytes:
        self.handle.seek(start)
        return self.handle.read(end - start)

    def close(self) -> None:
        self.handle.close()


class HttpRanges(Ranges):
    def __init__(self, url: str):
        import requests

        super().__init__(one_line(credentials.presentable(url)))
        self.url = url
        self.current = url  # after a redirect, its target
        self.etag: str | None = None
        self.session = requests.Session()

    def _get(self, url: str, start: int, end: int) -> Any:
        import requests

        headers = {"Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"}
        if self.etag:
            headers["If-Range"] = self.etag
        try:
            return self.session.get(
                url, headers=headers, auth=credentials.auth_for(self.url), stream=True, timeout=TIMEOUT
            )
        except requests.RequestException as error:
            raise WeightsError(f"{self.shown}: cannot read it ({type(error).__name__})") from None

    def _read(self, start: int, end: int) -> bytes:
        response = self._get(self.current, start, end)
        if response.status_code in (401, 403, 404) and self.current != self.url:  # an expired storage link
            response.close()
            self.current = self.url
            response = self._get(self.url, start, end)
        try:
            return self._body(response, start, end)
        finally:
            response.close()

    def _body(self, response: Any, start: int, end: int) -> bytes:
        status = response.status_code
        if status in (401, 403):
            raise WeightsError(f"{self.shown}: HTTP {status}: access denied (the file needs credentials)")
        if status == 404:
            raise WeightsError(f"{self.shown}: HTTP 404: no such file")
        if status == 200:
            if self.etag is not None:
                raise WeightsError(f"{self.shown}: the file changed while it was read (its ETag is not {self.etag})")
            raise WeightsError(
                f"{self.shown}: the server does not serve byte ranges (HTTP 200 to a Range request); "
                "download the file with cz.fetch to read its weights"
            )
        if status != 206:
            raise WeightsError(f"{self.shown}: HTTP {status} to a ranged read")
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match.group(1)) != start or int(match.group(2)) != end - 1:
            raise WeightsError(f"{self.shown}: the server answered another range than bytes {start}-{end - 1}")
        total = int(match.group(3))
        if self.size is not None and total != self.size:
            raise WeightsError(f"{self.shown}: the file changed while it was read ({self.size} -> {total} bytes)")
        self.size = total
        if response.url and response.url != self.current:
            self.current = response.url  # reuse the redirect's target for the next reads
        etag = response.headers.get("ETag")
        if self.etag is None and etag and not etag.startswith("W/"):
            self.etag = etag
        want, parts, have = end - start, [], 0
        for piece in response.iter_content(PIECE):
            parts.append(piece)
            have += len(piece)
            if have > want:
                raise WeightsError(f"{self.shown}: the server sent more than the {want} bytes asked; cut there")
        return b"".join(parts)

    def close(self) -> None:
        self.session.close()


class ObjectRanges(Ranges):
    def __init__(self, url: str, storage_options: dict[str, Any] | None):
        super().__init__(one_line(storage.shown(url)))
        self.fs, self.path = storage.filesystem(url, storage_options)
        try:
            self.size = int(self.fs.size(self.path))
        except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
            raise WeightsError(f"{self.shown}: cannot read it ({storage.error_message(error)})") from None
        self.requests += 1  # the size asked first

    def _read(self, start: int, end: int) -> bytes:
        try:
            data = self.fs.cat_file(self.path, start=start, end=end)
        except Exception as error:  # noqa: BLE001
            raise WeightsError(f"{self.shown}: cannot read it ({storage.error_message(error)})") from None
        if len(data) > end - start:
            raise WeightsError(f"{self.shown}: the server sent more than the {end - start} bytes asked")
        return bytes(data)


def open_ranges(location: str | Path, storage_options: dict[str, Any] | None = None) -> Ranges:
    """A `Ranges` for a local path (or `file://`), an http(s) URL or an object-storage URL."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        return HttpRanges(text)
    if storage.is_object_url(text):
        return ObjectRanges(storage.check_destination(text), storage_options)
    return LocalRanges(Path(text.removeprefix("file://")))
