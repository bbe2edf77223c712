"""Reading a JSON index written one model entry per line into Arrow columns (no Python object per model).

What `ckptzoo index convert` and the benchmarks write: the header and `"models": [`
on line 1, one entry per line, the closing `]` on a line of its own. Arrow's JSON
reader (C++) parses the entry lines as newline-delimited JSON against `MODEL`.
Anything else (another layout, a `null`, a type Arrow will not read as written)
gives None: the caller opens the file on the exact path.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.json as pj

from ..decode import GZIP_MAGIC, ParseError, decompress, json_limit
from ..errors import ZooError
from ..schema import parse_index_text

FILE = pa.struct(
    [
        ("path", pa.string()),
        ("url", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("format", pa.string()),
    ]
)
_CHECKPOINT = pa.struct(
    [
        ("name", pa.string()),
        ("step", pa.int64()),
        ("epoch", pa.float64()),
        ("date", pa.string()),
        ("files", pa.list_(FILE)),
        ("revision", pa.string()),
        ("uri", pa.string()),
        ("notes", pa.string()),
    ]
)  # and `metrics`, whose fields Arrow infers
TEXT_FIELDS = ("name", "task", "library", "framework", "architecture", "license", "repo", "base_model")
MODEL = pa.schema(
    [
        ("id", pa.string()),
        *((name, pa.string()) for name in TEXT_FIELDS),
        ("datasets", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("num_params", pa.int64()),
        ("description", pa.string()),
        ("headline_metric", pa.string()),
        ("default_checkpoint", pa.string()),
        ("created", pa.string()),
        ("updated", pa.string()),
        ("checkpoints", pa.list_(_CHECKPOINT)),
    ]
)  # and `metrics`, `curves`
SPACE = frozenset(b" \t\r\n")


def read_lines(data: bytes, origin: str) -> tuple[str, list[bytes], pa.Table] | None:
    """(title, one line per entry, their Arrow table), or None when the file is not laid out that way."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = decompress(data, json_limit())
        except ParseError:
            return None  # the exact path says why
    if len(data) > json_limit() or _has_null(data):
        return None
    split = _split(data, origin)
    if split is None:
        return None
    title, lines = split
    try:
        table = pj.read_json(
            pa.BufferReader(b"\n".join(lines)),
            parse_options=pj.ParseOptions(explicit_schema=MODEL, unexpected_field_behavior="infer"),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(lines):
        return None
    table = table.combine_chunks()
    return title, lines, table


def _has_null(data: bytes) -> bool:
    """Whether a `null` may stand as a value: Arrow cannot tell it from a missing key, pydantic can.

    From each literal `null`, back over whitespace to a `:`, `[` or `,` (a card that says
    "null" in its text costs one look back; one that says ", null" is read the exact way).
    """
    at = data.find(b"null")
    while at >= 0:
        before = at - 1
        while before >= 0 and data[before] in SPACE:
            before -= 1
        if before >= 0 and data[before] in b":[,":
            return True
        at = data.find(b"null", at + 4)
    return False


def _split(data: bytes, origin: str) -> tuple[str, list[bytes]] | None:
    """(title, one line per entry) when the file opens its models on line 1 and closes them on a line of its own."""
    end = data.find(b"\n", 0, 1 << 16)
    head = data[: max(end, 0)].rstrip()
    if not head.endswith(b"[") or b'"models"' not in head:
        return None  # before splitting: a one-line index stays one copy in memory
    lines = data.split(b"\n")
    close = len(lines) - 1
    while close > 0 and not lines[close].lstrip().startswith(b"]"):
        close -= 1
    if close <= 0:
        return None
    entries = []
    for line in lines[1:close]:
        line = line.strip(b" \t\r,")
        if not line:
            continue
        if not (line.startswith(b"{") and line.endswith(b"}")):
            return None
        entries.append(line)
    if not entries:
        return None
    try:  # the header through the exact path: version, name, no other key
        index, problems = parse_index_text(head + b"\n" + b"\n".join(lines[close:]), origin)
    except ZooError:
        return None
    if problems or index.models:
        return None
    return index.name or "", entries
