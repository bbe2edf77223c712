"""The Parquet index layout, the checks made on a file's footer before any data is read, and the budgets.

Layout (docs/index-format.md): one row per model; the grid columns of
`columns.FIXED`, `metric:<name>` float64 columns, and three columns opening
never reads: `description` (the card), `card_words` (its distinct words, for
the word index) and `entry` (the whole entry as JSON, without the card). The
file's key-value metadata holds `ckptzoo_index = parquet-1` and the zoo's name.

The footer is checked (schema, row counts, declared sizes) before a byte of
data is read, and strings stay dictionary-encoded until their decoded size is
known to fit a budget (`decode`), so a small file cannot make a reader
allocate gigabytes. What decoding a column chunk takes is known from the footer
before it is read (`declared_bytes`: its values at their width, numbers too, so
a constant column run-length encoded into a few bytes declares its real cost);
`check_declared` holds every chunk, and the columns read together, to the
budgets of `decode` (`within_budget`). The first layout (`legacy_rows`) is read
under the same checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import safety
from ..columns import FIXED, metric_columns
from ..decode import MAX_DECODED_COLUMN, BudgetError, grid_budget, json_limit, within_budget
from ..humanize import human_bytes
from ..schema import IndexFormatError
from ..text import one_line

FORMAT_KEY, FORMAT = b"ckptzoo_index", b"parquet-1"
# The first layout: list-valued and nested fields stored as JSON text.
LEGACY_JSON_COLUMNS = ("datasets", "tags", "metrics", "checkpoints", "curves")
NAME_KEY = b"ckptzoo_name"
STORED = {"description": pa.string(), "card_words": pa.string(), "entry": pa.string()}
ROW_GROUP_ROWS = 4096  # a model opened reads one row group of `entry` (~2 MB)
MAX_ROWS = 20_000_000
MAX_TEXT = {"id": 193, "default_checkpoint": 96}  # other grid strings: schema.ShortText (200)
MAX_LIST_ITEMS = 256
# Bytes per value a decoded Arrow column takes, by Parquet physical type; a byte array read
# dictionary-encoded takes a 4-byte index and a 4-byte offset per value, plus its stored bytes.
VALUE_WIDTH = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8, "BYTE_ARRAY": 8}
# The id rule for Arrow's RE2 (no look-arounds); `..` and `--` are refused separately.
ID_RE2 = safety.re2_form(safety.MODEL_ID_PATTERN)


class ParquetIndexError(IndexFormatError):
    """A Parquet file that is not a ckptzoo index, or one that declares more than it holds."""


def fail(origin: str, why: str) -> ParquetIndexError:
    return ParquetIndexError(one_line(f"{origin}: {why}"))


def grid_columns(schema: pa.Schema) -> list[str]:
    """The columns opening reads: the fixed grid and the metrics."""
    return [*FIXED, *metric_columns(schema)]


def text_columns(schema: pq.ParquetSchema) -> list[str]:
    """The columns stored as byte arrays: read dictionary-encoded, decoded within a budget."""
    return [schema.column(i).path for i in range(len(schema)) if schema.column(i).physical_type == "BYTE_ARRAY"]


def check_footer(metadata: pq.FileMetaData, size: int, origin: str) -> None:
    """Refuse a file that is not a ckptzoo index, or that declares more than its size or the budgets allow."""
    if (metadata.metadata or {}).get(FORMAT_KEY) != FORMAT:
        raise fail(origin, "a Parquet file but not a ckptzoo index (no 'ckptzoo_index: parquet-1' metadata)")
    schema = metadata.schema.to_arrow_schema()
    for name, kind in {**FIXED, **STORED}.items():
        if schema.get_field_index(name) < 0:
            raise fail(origin, f"not a ckptzoo index: column {name!r} is missing")
        if not _plain(schema.field(name).type).equals(kind):
            raise fail(origin, f"column {name!r} is {schema.field(name).type}, expected {kind}")
    for name in metric_columns(schema):
        if not schema.field(name).type.equals(pa.float64()):
            raise fail(origin, f"metric column {name[:60]!r} is {schema.field(name).type}, expected double")
    check_declared(metadata, size, origin, set(grid_columns(schema)), grid_budget(size), ("datasets", "tags"))


def declared_bytes(metadata: pq.FileMetaData, group: int, column: int) -> int:
    """What reading one column chunk takes at least, decoded, from the footer alone (nothing read).

    Every value at its width (a constant double column of 262,144 rows run-length
    encoded into a few bytes still takes 2 MiB), a byte array dictionary-encoded
    as read here (index and offset per value, plus the bytes the chunk stores),
    a list's offsets per row and the validity bitmaps.
    """
    row_group = metadata.row_group(group)
    chunk = row_group.column(column)
    values, rows = max(chunk.num_values, 0), max(row_group.num_rows, 0)
    kind = chunk.physical_type
    fixed = kind == "FIXED_LEN_BYTE_ARRAY"
    width = (metadata.schema.column(column).length or 16) if fixed else VALUE_WIDTH.get(kind, 8)
    stored = max(chunk.total_uncompressed_size, 0) if kind == "BYTE_ARRAY" else 0
    nested = 4 * rows if chunk.path_in_schema.count(".") else 0
    return values * width + stored + nested + (values + rows) // 8


def check_declared(
    metadata: pq.FileMetaData,
    size: int,
    origin: str,
    together: set[str],
    budget: int,
    lists: Collection[str] = (),
) -> None:
    """Refuse a footer that declares more than the file or a budget allows, before any data is read.

    Row counts against the row groups and the file's size; per column chunk its
    value count against its rows (MAX_LIST_ITEMS per row for the `lists`), its
    bytes inside the file, and its decoded size (`declared_bytes`) within
    MAX_DECODED_COLUMN; the columns `together` (read at once), within `budget`.
    """
    rows = sum(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
    if (
        rows != metadata.num_rows
        or rows < 0
        or any(metadata.row_group(i).num_rows < 0 for i in range(metadata.num_row_groups))
    ):
        raise fail(origin, f"declares {metadata.num_rows} rows but its row groups hold {rows}")
    if rows > min(MAX_ROWS, max(size, 1024)):  # every row costs at least a byte of id
        raise fail(origin, f"declares {rows} rows in {size} bytes; refused")
    declared = 0
    try:
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for i in range(row_group.num_columns):
                chunk = row_group.column(i)
                top = chunk.path_in_schema.split(".", 1)[0]
                limit = row_group.num_rows * (MAX_LIST_ITEMS if top in lists else 1)
                if chunk.num_values > limit:
                    why = f"column {top[:60]!r} declares {chunk.num_values} values for {row_group.num_rows} rows"
                    raise fail(origin, why)
                offsets = [o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o is not None]
                start = min(offsets, default=0)
                if start < 0 or chunk.total_compressed_size < 0 or start + chunk.total_compressed_size > size:
                    raise fail(origin, f"column {top[:60]!r} of row group {group} lies outside the file; refused")
                cost = declared_bytes(metadata, group, i)
                within_budget(f"column {top[:60]!r} of row group {group}", cost, MAX_DECODED_COLUMN)
                if top in together:
                    declared += cost
        within_budget(f"what opening reads ({len(together)} columns)", declared, budget)
    except BudgetError as error:
        raise fail(origin, str(error)) from None


def decode(column: pa.ChunkedArray, max_length: int, kind: pa.DataType, origin: str) -> tuple[pa.ChunkedArray, int]:
    """`_decoded` (the column and its decoded size), a refusal as one line naming the index."""
    try:
        return _decoded(column, max_length, kind)
    except _TooLarge as error:
        raise fail(origin, f"a column decodes to {error.args[0]} bytes; refused (a decompression bomb?)") from None


def _plain(kind: pa.DataType) -> pa.DataType:
    """A dictionary-encoded string type counts as a string (a writer may keep Arrow's dictionary)."""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind


class _TooLarge(Exception):
    """Decoding a column would take more bytes than its budget."""


def _decoded(
    column: pa.ChunkedArray, max_length: int, kind: pa.DataType, budget: int = MAX_DECODED_COLUMN
) -> tuple[pa.ChunkedArray, int]:
    """A column with dictionary-encoded strings decoded, after checking what decoding costs.

    Values longer than `max_length` become null (a schema field could not hold them);
    `_TooLarge` when the decoded strings would exceed `budget` bytes (a few kB of
    dictionary and run-length indices can stand for gigabytes). Returns the column
    and its decoded size in bytes.
    """
    chunks = []
    for chunk in column.chunks:
        values = chunk.values if isinstance(chunk, pa.ListArray) else chunk
        if isinstance(values, pa.DictionaryArray):
            dictionary = values.dictionary
            lengths = pc.binary_length(dictionary)
            if (pc.max(lengths).as_py() or 0) > max_length:  # too long for the field: gone before decoding
                too_long = pc.greater(lengths, max_length)
                dictionary = pa.array(pc.if_else(too_long, None, dictionary).to_pylist(), pa.string())
                lengths = pc.if_else(too_long, 0, lengths)
            cost = pc.sum(pc.take(lengths, values.indices)).as_py() or 0
            budget -= cost
            if budget < 0:
                raise _TooLarge(cost)
            values = pc.take(dictionary, values.indices)
        elif pa.types.is_string(values.type):
            values = pc.if_else(pc.greater(pc.binary_length(values), max_length), None, values)
        if isinstance(chunk, pa.ListArray):
            chunk = pa.ListArray.from_arrays(chunk.offsets, values, mask=chunk.is_null())
        else:
            chunk = values
        chunks.append(chunk.cast(kind))
    result = pa.chunked_array(chunks, kind)
    return result, result.nbytes


def read_legacy(data: pa.NativeFile, size: int, origin: str, budget: int) -> pa.Table:
    """The whole table of an index in the first layout (nested fields as JSON text), within `budget`.

    It becomes Python objects as a JSON index does, so it has the JSON budget:
    the footer is checked first (`check_declared`, every column read together),
    strings are read dictionary-encoded and decoded only once their decoded size
    is known to fit (a 34 kB file whose rows share one 1 MB value is refused
    before the gigabytes are taken).
    """
    try:
        probe = pq.ParquetFile(data)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise fail(origin, f"not a readable Parquet file ({type(error).__name__})") from None
    schema = probe.schema_arrow
    check_declared(probe.metadata, size, origin, set(schema.names), budget, lists=schema.names)
    try:
        file = pq.ParquetFile(data, read_dictionary=text_columns(probe.schema), metadata=probe.metadata)
        table = file.read()
    except Exception as error:  # a damaged or lying file: one line
        raise fail(origin, f"not a readable Parquet file ({type(error).__name__})") from None
    columns, left = {}, budget
    for name in table.column_names:
        try:
            column, cost = _decoded(table[name], budget, _plain(table.schema.field(name).type), left)
        except _TooLarge as error:
            left = -1 - error.args[0]
        else:
            left -= cost
        if left < 0:
            why = f"its columns decode to more than {human_bytes(budget)}, the budget of a JSON index; refused"
            raise fail(origin, why)
        columns[name] = column
        table = table.drop_columns([name])
    return pa.table(columns)


def is_legacy(data: bytes | str) -> bool:
    """A Parquet file (its bytes or path) in the first layout: nested fields as JSON text, no format key."""
    try:
        schema = pq.read_schema(pa.BufferReader(data) if isinstance(data, bytes) else data)
    except Exception:  # noqa: BLE001
        return False
    return "checkpoints" in schema.names and FORMAT_KEY not in (schema.metadata or {})


def legacy_rows(path: Path | bytes, origin: str) -> list[dict[str, Any]]:
    """Rows of an index in the first layout (a file or its bytes) as dicts, nested columns decoded from JSON."""
    if isinstance(path, bytes):
        source, size = pa.BufferReader(path), len(path)
    else:
        try:
            source, size = pa.memory_map(str(path)), os.path.getsize(path)
        except OSError as error:
            raise IndexFormatError(f"{origin}: cannot read ({error.strerror or type(error).__name__})") from None
    # the footer's declared sizes and the decoded strings within the JSON budget, before any is decoded
    table = read_legacy(source, size, origin, json_limit())
    rows = []
    for row in table.to_pylist():
        clean = {k: v for k, v in row.items() if v is not None}
        for column in LEGACY_JSON_COLUMNS:
            if isinstance(clean.get(column), str):
                try:
                    clean[column] = json.loads(clean[column])
                except json.JSONDecodeError:
                    pass  # left as text: validation names the field
        rows.append(clean)
    return rows
