"""Copy one response body into the partial file, under every bound.

``BodyCopy.run`` reads the body (an opener's reader: ``transfer.BodyReader`` for
http(s), ``object_opener`` for object storage), hands full buffers to
the writer and hasher threads (``transfer.Writer``), updates the progress bar,
and stops the transfer when a bound is passed: more bytes than expected or
than the cap, a compressed body that decodes into far more than was sent, the
total deadline, or a speed below the minimum over the last window.
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any

from ..errors import DownloadTimeoutError, IntegrityError, SizeLimitError
from ..humanize import human_bytes
from .transfer import CHUNK, MAX_DECODE_RATIO, RATIO_FROM, BodyBroken, Retry, Writer


@dataclasses.dataclass
class Bounds:
    shown: str  # the URL as messages quote it
    total: int | None  # the file's full size when known (index, Content-Length, Content-Range)
    limit: int  # no file grows past this (its size from the index, else the byte cap)
    size_known: bool  # the index gave the size
    t_end: float  # monotonic time of the total deadline
    deadline: float  # its length in seconds, for messages
    min_speed: float  # bytes/s averaged over `window` seconds
    window: float


class BodyCopy:
    """One body appended to ``part`` from byte ``offset``; ``written`` counts the bytes
    both on disk and in ``hasher``, also after a failure (so a resume can continue)."""

    def __init__(self, part: pathlib.Path, offset: int, hasher: Any, bar: Any, bounds: Bounds):
        self.part, self.offset, self.hasher, self.bar, self.b = part, offset, hasher, bar, bounds
        self.written = 0

    def run(self, reader: Any, body_len: int | None, encoded: bool) -> None:
        """Copy the body ``reader`` gives (``opener.Reader``); raise ``Retry`` on a broken
        transfer, a ``FetchError`` past a bound."""
        offset, b = self.offset, self.b
        expect = body_len if body_len is not None else (b.total or CHUNK) - offset
        bufsize = min(CHUNK, max(1 << 16, expect))  # small files: small buffers
        writer = Writer(self.part, "ab" if offset else "wb", self.hasher, bufsize=bufsize)
        received = 0
        t_start = time.monotonic()
        window: list[tuple[float, int]] = [(t_start, 0)]  # (time, received) samples
        shown = 0
        try:
            buf = writer.buffer()
            mv = memoryview(buf)
            filled = 0
            t_flush = t_start
            while True:
                n = reader.readinto(mv[filled:])
                if not n:
                    break
                filled += n
                received += n
                self._check_size(offset + received, received, reader, encoded)
                now = time.monotonic()
                if filled == len(buf) or now - t_flush >= 0.1:
                    mv.release()
                    writer.submit(buf, filled)
                    buf = writer.buffer()
                    mv = memoryview(buf)
                    filled = 0
                    t_flush = now
                if now - window[-1][0] >= 0.1:
                    self.bar.update(received - shown)
                    shown = received
                    self._check_pace(now, received, window)
            mv.release()
            if filled:
                writer.submit(buf, filled)
            self.bar.update(received - shown)
        except BodyBroken as e:
            writer.close()
            self.written = writer.written
            raise Retry(f"connection broke mid-body ({e})", progressed=writer.written > 0) from None
        except BaseException:
            writer.close(discard_errors=True)
            self.written = writer.written
            raise
        writer.close()
        self.written = writer.written
        if body_len is not None and received < body_len:
            raise Retry(f"connection closed after {received} of {body_len} bytes", progressed=received > 0)

    def _check_size(self, have: int, received: int, reader: Any, encoded: bool) -> None:
        b = self.b
        if b.total is not None and have > b.total:
            raise IntegrityError(f"size mismatch for {b.shown}: server sent more than the expected {b.total} bytes")
        if have > b.limit:
            raise SizeLimitError(
                f"gave up on {b.shown}: more than the cap of {human_bytes(b.limit)} for a file "
                "the index gives no size for (CKPTZOO_MAX_BYTES)"
            )
        if encoded and not b.size_known and received > RATIO_FROM:
            wire = reader.wire_bytes()
            if wire and received > MAX_DECODE_RATIO * wire:
                raise SizeLimitError(
                    f"gave up on {b.shown}: the server compressed it although asked not to, and "
                    f"{human_bytes(wire)} sent decode into more than {human_bytes(received)}"
                )

    def _check_pace(self, now: float, received: int, window: list[tuple[float, int]]) -> None:
        """The total deadline, and the minimum average speed over the last window."""
        b = self.b
        if now > b.t_end:
            raise DownloadTimeoutError(
                f"gave up on {b.shown}: total deadline of {b.deadline:.0f} s passed "
                f"after {human_bytes(self.offset + received)}"
            )
        window.append((now, received))
        while len(window) > 2 and now - window[1][0] >= b.window:
            window.pop(0)
        t0, r0 = window[0]
        if now - t0 >= b.window:
            rate = (received - r0) / (now - t0)
            if rate < b.min_speed:
                raise DownloadTimeoutError(
                    f"gave up on {b.shown}: too slow ({human_bytes(rate)}/s over "
                    f"{now - t0:.0f} s, minimum {human_bytes(b.min_speed)}/s)"
                )
