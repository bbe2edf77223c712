"""Byte streams the opcode walker reads: a region of a file, or a zip member decompressed a chunk at a time."""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

from .budget import _BudgetSpent, _CannotTell, _Meter

_CHUNK = 64 << 10
_LINE_LIMIT = 64 << 10  # a newline-terminated argument (GLOBAL, INT, ...) longer than this: cannot tell


class _Stream:
    """Buffered bytes of one pickle source, read without holding more than a chunk."""

    def __init__(self) -> None:
        self._buf = b""
        self._at = 0
        self.offset = 0  # position in the stream of the next byte

    def _more(self) -> bytes:
        raise NotImplementedError

    def _skip_raw(self, n: int) -> None:
        while n > 0:
            chunk = self._more()
            if not chunk:
                raise _CannotTell("truncated data")
            if len(chunk) > n:
                self._buf, self._at = chunk[n:], 0
                return
            n -= len(chunk)

    def _have(self, n: int) -> bool:
        while len(self._buf) - self._at < n:
            chunk = self._more()
            if not chunk:
                return False
            self._buf = self._buf[self._at :] + chunk
            self._at = 0
        return True

    def at_end(self) -> bool:
        return not self._have(1)

    def remaining(self) -> int | None:
        """Bytes left, when known without reading them."""
        return None

    def read(self, n: int) -> bytes:
        if not self._have(n):
            raise _CannotTell(f"truncated data at offset {self.offset}")
        data = self._buf[self._at : self._at + n]
        self._at += n
        self.offset += n
        return data

    def readline(self) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._at)
            if end >= 0:
                return self.read(end + 1 - self._at)
            if len(self._buf) - self._at > _LINE_LIMIT:
                raise _CannotTell(f"a line longer than {_LINE_LIMIT} bytes at offset {self.offset}")
            if not self._have(len(self._buf) - self._at + 1):
                raise _CannotTell(f"truncated line at offset {self.offset}")

    def skip(self, n: int) -> None:
        buffered = len(self._buf) - self._at
        if n <= buffered:
            self._at += n
        else:
            self._buf, self._at = b"", 0
            self._skip_raw(n - buffered)
        self.offset += n


class _FileRegion(_Stream):
    """Bytes `start`..`end` of an open file; skipping seeks, so raw data costs nothing."""

    def __init__(self, handle: BinaryIO, start: int, end: int, meter: _Meter) -> None:
        super().__init__()
        self._handle, self._pos, self._end, self._meter = handle, start, end, meter

    def _more(self) -> bytes:
        n = min(_CHUNK, self._end - self._pos)
        if n <= 0:
            return b""
        self._meter.clock()
        self._handle.seek(self._pos)
        data = self._handle.read(n)
        self._pos += len(data)
        self._meter.read(len(data))
        return data

    def remaining(self) -> int | None:
        return self._end - self._pos + len(self._buf) - self._at

    def _skip_raw(self, n: int) -> None:
        if self._pos + n > self._end:
            raise _CannotTell(f"truncated data: {n} bytes to skip, {self._end - self._pos} left")
        self._pos += n


class _Member(_Stream):
    """A compressed zip member, decompressed a chunk at a time under the member and total budgets."""

    def __init__(self, handle: BinaryIO, start: int, size: int, method: int, meter: _Meter, name: str) -> None:
        super().__init__()
        self._raw = _FileRegion(handle, start, start + size, meter)
        self._meter, self._name, self._out = meter, name, 0
        self._decompress: Callable[[bytes], bytes] | None
        if method == 0:
            self._decompress = None
        elif method == 8:
            inflater = zlib.decompressobj(-15)
            self._decompress = lambda data: inflater.decompress(inflater.unconsumed_tail + data, _CHUNK)
            self._pending = lambda: bool(inflater.unconsumed_tail)
        elif method in (12, 14):
            # bzip2 / lzma: Python's zipfile reads them (torch's reader does not).
            unpacker: Any = bz2.BZ2Decompressor() if method == 12 else _ZipLzma()
            self._decompress = lambda data: unpacker.decompress(data, _CHUNK)
            self._pending = lambda: not unpacker.needs_input and not unpacker.eof
        else:
            raise _CannotTell(f"{name} uses compression method {method}, which the scan does not read")

    def _more(self) -> bytes:
        if self._decompress is None:
            data = self._raw._more()
        else:
            data = b""
            for _ in range(1 << 20):  # each round either consumes input or gives output
                pending = self._pending()
                compressed = b"" if pending else self._raw._more()
                if not pending and not compressed:
                    break
                try:
                    data = self._decompress(compressed)
                except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as error:
                    raise _CannotTell(f"{self._name} does not decompress ({error})") from None
                if data:
                    break
                self._meter.clock()
        self._out += len(data)
        if self._out > self._meter.budget.member_bytes:
            raise _BudgetSpent(
                f"could not scan: {self._name} decompresses to more than {self._meter.budget.member_bytes} bytes"
            )
        if self._decompress is not None:
            self._meter.read(len(data))
        return data


class _ZipLzma:
    """Zip's LZMA members carry a 4-byte version and a 2-byte properties length first."""

    def __init__(self) -> None:
        self._head = b""
        self._inner: Any = None
        self.needs_input = True
        self.eof = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            (size,) = struct.unpack("<H", self._head[2:4])
            if len(self._head) < 4 + size:
                return b""
            props = lzma._decode_filter_properties(lzma.FILTER_LZMA1, self._head[4 : 4 + size])  # type: ignore[attr-defined]
            self._inner = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[props])
            data, self._head = self._head[4 + size :], b""
        out = self._inner.decompress(data, max_length)
        self.needs_input, self.eof = self._inner.needs_input, self._inner.eof
        return out
