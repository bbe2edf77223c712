"""The numbers: per-tensor norm, mean and std, and the change between two checkpoints' tensors.

Values are decoded from the file's bytes chunk by chunk (`CHUNK_ELEMENTS` at a
time) into float64, so memory stays at the bytes read plus one chunk, and sums
are float64 whatever the stored dtype. For a sampled tensor (plan.py) the mean
and std are those of the elements read and the norm and distance are scaled to
the whole tensor (`sqrt(sum of squares * numel / elements read)`), an estimate;
ratios (relative change, cosine) need no scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

NUMPY_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
READABLE_DTYPES = frozenset(NUMPY_DTYPES) | {"BF16"}
CHUNK_ELEMENTS = 1 << 20


def readable(dtype: str) -> bool:
    return dtype in READABLE_DTYPES


def refusal(name: str, dtype: str) -> str:
    """The one line said for a tensor whose dtype is not read."""
    return f"tensor {name!r} is {dtype}; weight statistics read F64, F32, F16, BF16, integer and bool tensors"


def values(raw: bytes | memoryview, dtype: str) -> np.ndarray:
    """The elements of `raw` (little-endian, safetensors' order) as float64."""
    if dtype == "BF16":
        halves = np.frombuffer(raw, dtype="<u2")
        return (halves.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return np.frombuffer(raw, dtype=NUMPY_DTYPES[dtype]).astype(np.float64)


def chunks(raw: bytes, dtype: str, itemsize: int) -> list[tuple[int, int]]:
    step = CHUNK_ELEMENTS * itemsize
    return [(i, min(i + step, len(raw))) for i in range(0, len(raw), step)]


@dataclass
class TensorStats:
    """One tensor of one checkpoint."""

    norm: float
    mean: float
    std: float
    elements: int  # elements read
    numel: int

    @property
    def sampled(self) -> bool:
        return self.elements < self.numel


@dataclass
class TensorChange:
    """One tensor from checkpoint a to checkpoint b."""

    relative: float  # ||b - a|| / ||a||  (NaN when ||a|| = 0)
    cosine: float  # <a, b> / (||a|| ||b||)  (NaN when either is 0)
    distance: float  # ||b - a||
    identical: bool  # every element read has the same bytes in both
    elements: int
    numel: int

    @property
    def sampled(self) -> bool:
        return self.elements < self.numel


def _scale(numel: int, elements: int) -> float:
    return numel / elements if elements else 0.0


def tensor_stats(blocks: list[bytes], dtype: str, itemsize: int, numel: int) -> TensorStats:
    """Norm, mean and std of the elements in `blocks` (Chan's combination of chunk means and squares)."""
    count, mean, m2, squares = 0, 0.0, 0.0, 0.0
    for raw in blocks:
        for start, end in chunks(raw, dtype, itemsize):
            x = values(memoryview(raw)[start:end], dtype)
            n = x.size
            if not n:
                continue
            chunk_mean = float(x.mean())
            centred = x - chunk_mean
            chunk_m2 = float(np.dot(centred, centred))
            squares += float(np.dot(x, x))
            total = count + n
            delta = chunk_mean - mean
            mean += delta * n / total
            m2 += chunk_m2 + delta * delta * count * n / total
            count = total
    if not count:
        return TensorStats(0.0, math.nan, math.nan, 0, numel)
    return TensorStats(math.sqrt(squares * _scale(numel, count)), mean, math.sqrt(m2 / count), count, numel)


def tensor_change(
    before: list[bytes], before_dtype: str, after: list[bytes], after_dtype: str, itemsizes: tuple[int, int], numel: int
) -> TensorChange:
    """The change from `before` to `after`: the same elements of the same tensor in two checkpoints."""
    aa = bb = ab = dd = 0.0
    count = 0
    identical = before_dtype == after_dtype
    for raw_a, raw_b in zip(before, after, strict=True):
        identical = identical and raw_a == raw_b
        for (sa, ea), (sb, eb) in zip(
            chunks(raw_a, before_dtype, itemsizes[0]), chunks(raw_b, after_dtype, itemsizes[1]), strict=True
        ):
            a = values(memoryview(raw_a)[sa:ea], before_dtype)
            b = values(memoryview(raw_b)[sb:eb], after_dtype)
            diff = b - a
            aa += float(np.dot(a, a))
            bb += float(np.dot(b, b))
            ab += float(np.dot(a, b))
            dd += float(np.dot(diff, diff))
            count += a.size
    relative = math.sqrt(dd) / math.sqrt(aa) if aa > 0 else (0.0 if dd == 0 and count else math.nan)
    cosine = ab / math.sqrt(aa * bb) if aa > 0 and bb > 0 else math.nan
    return TensorChange(
        relative,
        max(-1.0, min(1.0, cosine)) if not math.isnan(cosine) else cosine,
        math.sqrt(dd * _scale(numel, count)),
        identical,
        count,
        numel,
    )
