"""One validator for safetensors files: every reader of the project goes through `read_header`.

A safetensors file is an 8-byte little-endian header length N, N bytes of
JSON, then the tensor data. A stranger's file can declare anything, so the
header is read with a byte cap (counting the bytes actually read) and checked
against the file before any tensor is touched:

- N at most `MAX_HEADER_BYTES` and within the file;
- the header UTF-8 JSON, an object, no duplicate keys (deep nesting is a
  clear error, not a RecursionError);
- `__metadata__` a flat map of strings;
- each tensor: a known dtype, a shape of non-negative integers, two data
  offsets with `end - begin == product(shape) * itemsize`;
- the tensors tile the data section exactly: they start at 0, neither overlap
  nor leave holes, and the last one ends at the end of the file (the rules of
  the safetensors format itself, so a file that passes here is one the
  `safetensors` library reads as declared).

Failures raise `SafetensorsFormatError` (a `ZooError`) naming the file and the
reason, never RecursionError, MemoryError or a KeyError from deep inside.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ZooError
from .text import one_line

MAX_HEADER_BYTES = 16 << 20  # ~100k tensors; the safetensors library allows 100 MB
MAX_DIMENSIONS = 64
DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "U16": 2,
    "I16": 2,
    "F16": 2,
    "BF16": 2,
    "U32": 4,
    "I32": 4,
    "F32": 4,
    "C64": 8,
    "U64": 8,
    "I64": 8,
    "F64": 8,
}

# The dtypes numpy has (safetensors' numpy reader raises AttributeError or TypeError for the others:
# bfloat16 and the float8 kinds), so `cz.load`, which reads with numpy, refuses those first.
NUMPY_DTYPES = frozenset(DTYPE_SIZES) - {"BF16", "F8_E5M2", "F8_E4M3", "F8_E8M0"}


class SafetensorsFormatError(ZooError):
    """A file that is not a valid safetensors file, with the reason."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int  # offsets within the data section
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]
    data_start: int  # file offset of the data section (8 + header length)

    @property
    def num_params(self) -> int:
        return sum(info.numel for info in self.tensors.values())


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {one_line(key, 80)!r}")
        result[key] = value
    return result


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_header(path: str | Path, *, max_header_bytes: int = MAX_HEADER_BYTES) -> SafetensorsHeader:
    """The validated header of the safetensors file at `path` (see the module notes for the rules)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return read_header_from(handle, os.fstat(handle.fileno()).st_size, str(path), max_header_bytes)
    except OSError as error:
        raise SafetensorsFormatError(
            f"{one_line(str(path))}: not a readable safetensors file "
            f"(cannot read it: {error.strerror or type(error).__name__})"
        ) from None


def read_header_from(
    handle: BinaryIO, size: int, label: str, max_header_bytes: int = MAX_HEADER_BYTES
) -> SafetensorsHeader:
    """`read_header` for a file a reader already opened its own way (a runs folder's bounded open):
    `handle` at offset 0, `size` the file's size, `label` names the file in messages."""

    def fail(reason: str) -> SafetensorsFormatError:
        return SafetensorsFormatError(f"{one_line(label)}: not a readable safetensors file ({reason})")

    prefix = handle.read(8)
    if len(prefix) < 8:
        raise fail("shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", prefix)
    if length > max_header_bytes:
        raise fail(f"declares a header of {length} bytes (at most {max_header_bytes} read)")
    if length > size - 8:
        raise fail(f"declares a header of {length} bytes, longer than the file ({size} bytes)")
    raw = handle.read(length)
    if len(raw) != length:
        raise fail(f"the header ends after {len(raw)} of {length} bytes")
    if not raw.startswith(b"{"):
        raise fail("the header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise fail(f"the header is not UTF-8 JSON ({one_line(error, 120)})") from None
    if not isinstance(header, dict):
        raise fail("the header is not a JSON object")
    data_length = size - 8 - length
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail("__metadata__ must map names to strings")
    tensors = {name: _tensor(name, info, fail) for name, info in header.items()}
    cursor = 0
    for info in sorted(tensors.values(), key=lambda t: (t.begin, t.end)):
        if info.begin != cursor:
            where = "overlaps the tensor before it" if info.begin < cursor else f"leaves a gap at byte {cursor}"
            raise fail(f"tensor {one_line(info.name, 80)!r} at bytes {info.begin}-{info.end} {where}")
        cursor = info.end
    if cursor != data_length:
        reason = "lie beyond" if cursor > data_length else "do not fill"
        raise fail(f"the tensors take {cursor} bytes but {reason} the {data_length} bytes of data in the file")
    return SafetensorsHeader(tensors, dict(metadata), 8 + length)


def _tensor(name: str, info: Any, fail: Any) -> TensorInfo:
    label = f"tensor {one_line(name, 80)!r}"
    if not isinstance(info, dict):
        raise fail(f"{label} is not an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
        raise fail(f"{label} has an unknown dtype {one_line(repr(dtype), 40)}")
    if not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS or not all(_int(d) and d >= 0 for d in shape):
        raise fail(f"{label} has a shape that is not a list of at most {MAX_DIMENSIONS} non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_int(o) for o in offsets)):
        raise fail(f"{label} needs data_offsets [begin, end]")
    begin, end = offsets
    if not 0 <= begin <= end:
        raise fail(f"{label} has data offsets {begin}-{end} out of order")
    nbytes = math.prod(shape) * DTYPE_SIZES[dtype]
    if end - begin != nbytes:
        raise fail(f"{label} of shape {shape[:8]} {dtype} needs {nbytes} bytes, its offsets give {end - begin}")
    return TensorInfo(name, dtype, tuple(shape), begin, end)
