"""Untrusted bytes decoded within budgets: gzip with a cap on what it expands to, JSON with a byte cap.

Every index, Hub answer, trainer_state.json or safetensors header is decoded
here, so a 600 KiB gzip body that expands to 1.3 GiB, a 100,000-deep
document or an integer of 5,000 digits is a clear `ParseError` (a ZooError),
never a MemoryError, a RecursionError or a bare ValueError.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

from .errors import ZooError
from .humanize import human_bytes

# JSON text one parse may read. Python turns JSON into objects at up to ~20x its
# size ("[[],[],...]"), so 64 MiB can still cost a GiB; a zoo larger than this
# is published as Parquet. CKPTZOO_MAX_JSON_MB raises it for one machine.
MAX_JSON_BYTES = 64 << 20
GZIP_MAGIC = b"\x1f\x8b"
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + zlib.MAX_WBITS}


class ParseError(ZooError, ValueError):
    """Bytes that cannot be decoded within the budget: not JSON, too large, too deep."""


def json_limit() -> int:
    """The JSON byte budget: MAX_JSON_BYTES, or CKPTZOO_MAX_JSON_MB when set."""
    value = os.environ.get("CKPTZOO_MAX_JSON_MB", "").strip()
    return int(value) << 20 if value.isdigit() and int(value) > 0 else MAX_JSON_BYTES


def decompress(data: bytes, limit: int, encoding: str = "gzip") -> bytes:
    """Inflate a gzip (or HTTP deflate) body, never producing more than `limit` bytes (ParseError beyond)."""
    wbits = ENCODINGS.get(encoding.strip().lower())
    if wbits is None:
        raise ParseError(f"compressed as {encoding[:40]!r}, which ckptzoo does not decode")
    inflater = zlib.decompressobj(wbits=wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise ParseError(f"not valid {encoding[:40]} data ({error})") from None
    if len(out) > limit:
        raise ParseError(f"expands to more than {human_bytes(limit)}; refused (a decompression bomb?)")
    return out


def load_json(data: bytes | str, *, limit: int | None = None) -> Any:
    """Decode JSON from a zoo (gzip when it starts with gzip's magic) within the byte budget.

    ParseError messages name no subject ("not valid JSON (...)"): the caller prefixes where.

    Nesting is bounded by the C decoder's own recursion guard (about 1,000
    levels): past it, a clear ParseError instead of a RecursionError.
    """
    limit = json_limit() if limit is None else limit
    if isinstance(data, bytes) and data[:2] == GZIP_MAGIC:  # a .json.gz index
        data = decompress(data, limit)
    if len(data) > limit:
        raise ParseError(f"larger than {human_bytes(limit)}; refused")
    try:
        return json.loads(data)
    except RecursionError:
        raise ParseError("not valid JSON (nested too deeply to read)") from None
    except (ValueError, UnicodeDecodeError) as error:
        # JSONDecodeError, and the plain ValueError of an integer with more than 4300 digits.
        raise ParseError(f"not valid JSON ({str(error)[:120]})") from None
