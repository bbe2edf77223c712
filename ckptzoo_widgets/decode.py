"""Untrusted bytes decoded within budgets: gzip with a cap on what it expands to, JSON with a byte cap,
and the budgets of every decoder that allocates what a file declares.

Every index, Hub answer, trainer_state.json or safetensors header is decoded
here, so a 600 KiB gzip body that expands to 1.3 GiB, a 100,000-deep
document or an integer of 5,000 digits is a clear `ParseError` (a ZooError),
never a MemoryError, a RecursionError or a bare ValueError.

Decoders that read a size from the data before allocating it (a TensorBoard
tensor's shape, a Parquet column chunk's or page's value count and size, a
remote index read) check that declared size with `within_budget` against one
of the budgets below first: over it is one `BudgetError`, raised before the
memory is taken (docs/security.md, "Budgets").
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

# Budgets of what a file declares, checked before decoding it (`within_budget`).
MAX_TENSOR_BYTES = 1 << 20  # one TensorBoard scalar's tensor, decoded (a scalar needs 8 bytes)
MAX_DECODED_COLUMN = 512 << 20  # one Parquet column of one row group, decoded
MAX_GRID_BYTES = 3 << 30  # the decoded grid columns of one Parquet index (a 1M zoo needs ~0.3 GiB)
GRID_RATIO = 64  # ... and at most this many times the index file's size
MIN_GRID_BUDGET = 64 << 20  # ... but never less than this
# Weight statistics read in place (ckptzoo_widgets.weights): the tensor bytes one checkpoint file may
# have read per request (past it, large tensors are sampled), the speculative first read that usually
# holds the whole safetensors header, the tensor bytes held in memory at once while comparing, and the
# most of one tensor ever read (a larger one is sampled whatever the budget: memory holds three of them).
WEIGHTS_READ_BYTES = 64 << 20
WEIGHTS_TENSOR_BYTES = 128 << 20
WEIGHTS_HEADER_PREFIX = 64 << 10
WEIGHTS_GROUP_BYTES = 8 << 20
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + zlib.MAX_WBITS}


class ParseError(ZooError, ValueError):
    """Bytes that cannot be decoded within the budget: not JSON, too large, too deep."""


class BudgetError(ParseError):
    """A size declared by untrusted data over its budget, refused before anything of that size is allocated."""


def within_budget(what: str, declared: int, budget: int) -> int:
    """`declared` when `0 <= declared <= budget`; otherwise BudgetError, one line naming `what`.

    Called with the size a file or a server declares, before allocating it.
    """
    if declared < 0:
        raise BudgetError(f"{what} declares a negative size ({declared}); refused")
    if declared > budget:
        raise BudgetError(
            f"{what} declares {human_bytes(declared)} ({declared:,} bytes), over its budget of "
            f"{human_bytes(budget)}; refused"
        )
    return declared


def grid_budget(file_size: int) -> int:
    """The decoded-grid budget of a Parquet index of `file_size` bytes: GRID_RATIO times it, within bounds."""
    return min(MAX_GRID_BYTES, max(MIN_GRID_BUDGET, GRID_RATIO * max(file_size, 0)))


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
