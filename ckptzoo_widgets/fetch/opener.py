"""Openers: how one attempt of a download gets a body, from byte ``offset`` on.

The download state machine (``download.Download``) is the same for every kind of
URL; only opening the body differs. ``download.opener_for(url)`` picks one:

- ``http_opener.HttpOpener``: requests, ``Range`` + ``If-Range``, HTTP statuses;
- ``object_opener.ObjectOpener``: fsspec (``s3://``, ``gs://``, ``az://``, ``hf://``),
  ranged reads, the object's ETag as validator.

``open(offset, validator, remaining)`` returns an :class:`Opened` body or raises
``transfer.Retry`` (transient), ``transfer.Restart`` (the partial file cannot be
continued) or a ``FetchError`` (final).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol


class Reader(Protocol):
    def readinto(self, mv: memoryview) -> int:
        """Some bytes of the body into ``mv`` (0 at its end); ``transfer.BodyBroken`` when it breaks."""

    def wire_bytes(self) -> int:
        """Bytes received so far before decoding (for the decode-ratio bound)."""


@dataclasses.dataclass
class Opened:
    """One body, ready to be read."""

    start: int  # the byte of the file the body starts at: 0 (the whole file) or the offset asked for
    length: int | None  # bytes in the body, when known
    total: int | None  # the file's full size, when known
    etag: str | None  # validators recorded for a later resume
    last_modified: str | None
    encoded: bool  # the body is compressed (byte offsets do not map to the file)
    reader: Reader
    close: Callable[[], Any]

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Opener(Protocol):
    shown: str  # the URL as messages quote it (no credentials)

    def open(self, offset: int, validator: str | None, remaining: float) -> Opened: ...

    def close(self) -> None: ...
