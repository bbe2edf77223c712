"""Small parsers every reader shares: JSON with budgets, numbers, steps and epochs.

Each reader used to carry its own `_number`, with three different ideas of
what a number is; this module is the one place. JSON from a zoo is decoded
here with a byte budget (also on what a gzip body expands to) and its nesting
bounded, so a bomb or a 100,000-deep document is a clear error, not a
MemoryError or a RecursionError.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from typing import Any

from ..errors import ZooError
from ..humanize import human_bytes

MAX_JSON_BYTES = 256 << 20  # decoded JSON text one parse may read
GZIP_MAGIC = b"\x1f\x8b"

STEP = re.compile(r"(?:^|[^a-z])(?:global_step|step|steps|iter|iteration|checkpoint|ckpt)[=_-]?(\d+)", re.I)
EPOCH = re.compile(r"(?:^|[^a-z])(?:epoch|ep)[=_-]?(\d+(?:\.\d+)?)", re.I)
MAX_STEP_DIGITS = 15  # below 2**53: what int64 columns and the browser hold exactly


class ParseError(ZooError, ValueError):
    """Bytes that cannot be decoded within the budget: not JSON, too large, too deep."""


def gunzip(data: bytes, limit: int, what: str = "gzip data") -> bytes:
    """Decompress a gzip body, never producing more than `limit` bytes (ParseError beyond)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise ParseError(f"{what} is not valid gzip ({error})") from None
    if len(out) > limit:
        raise ParseError(f"{what} expands to more than {human_bytes(limit)}; refused (a decompression bomb?)")
    return out


def load_json(data: bytes | str, what: str, *, limit: int = MAX_JSON_BYTES) -> Any:
    """Decode JSON from a zoo (gzip when it starts with gzip's magic) within the byte budget.

    Nesting is bounded by the C decoder's own recursion guard (about 1,000
    levels): past it, a clear ParseError instead of a RecursionError.
    """
    if isinstance(data, bytes) and data[:2] == GZIP_MAGIC:
        data = gunzip(data, limit, what)
    if len(data) > limit:
        raise ParseError(f"{what} is larger than {human_bytes(limit)}; refused")
    try:
        return json.loads(data)
    except RecursionError:
        raise ParseError(f"{what} is nested too deeply to read") from None
    except (ValueError, UnicodeDecodeError) as error:
        # JSONDecodeError, and the plain ValueError of an integer with more than 4300 digits.
        raise ParseError(f"{what} is not valid JSON ({str(error)[:120]})") from None


def number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric text (`"1,014.45"`, `"91.2%"`); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%").replace(",", "").replace("_", "")
        if not value or len(value) > 64:
            return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def whole(value: float | None) -> int | None:
    """A non-negative whole number (a step, a count) from a float, else None."""
    if value is None or value < 0 or not float(value).is_integer() or value >= 2**53:
        return None
    return int(value)


def step_of(name: str) -> int | None:
    """The training step a name says (`checkpoint-500`, `step=1000`, `global_step_20`), if any."""
    match = STEP.search(name)
    if not match or len(match.group(1)) > MAX_STEP_DIGITS:
        return None
    return int(match.group(1))


def epoch_of(name: str) -> float | None:
    """The epoch a name says (`epoch=3`, `ep_2.5`), if any."""
    match = EPOCH.search(name)
    if not match or len(match.group(1)) > 32:
        return None
    return float(match.group(1))
