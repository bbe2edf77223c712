"""The Parquet index layout, the checks made on a file's footer before any data is read, and the budgets.

Layout (docs/index-format.md): one row per model; the grid columns of
`columns.FIXED`, `metric:<name>` float64 columns, and three columns opening
never reads: `description` (the card), `card_words` (its distinct words, for
the word index) and `entry` (the whole entry as JSON, without the card). The
file's key-value metadata holds `ckptzoo_index = parquet-1` and the zoo's name.

The footer is checked (schema, row counts, declared sizes) before a byte of
data is read, and strings stay dictionary-encoded until their decoded size is
known to fit a budget (`decode`), so a small file cannot make a reader
allocate gigabytes.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import safety
from ..columns import FIXED, metric_columns
from ..schema import IndexFormatError
from ..text import one_line

FORMAT_KEY, FORMAT = b"ckptzoo_index", b"parquet-1"
NAME_KEY = b"ckptzoo_name"
STORED = {"description": pa.string(), "card_words": pa.string(), "entry": pa.string()}
ROW_GROUP_ROWS = 4096  # a model opened reads one row group of `entry` (~2 MB)
MAX_ROWS = 20_000_000
MAX_GRID_BYTES = 3 << 30  # decoded grid columns of one index (a 1M zoo needs ~0.3 GiB)
MAX_TEXT = {"id": 193, "default_checkpoint": 96}  # other grid strings: schema.ShortText (200)
MAX_LIST_ITEMS = 256
MAX_DECODED_COLUMN = 512 << 20  # one column of one row group, decoded
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
    rows = sum(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
    if rows != metadata.num_rows or rows < 0:
        raise fail(origin, f"declares {metadata.num_rows} rows but its row groups hold {rows}")
    if rows > min(MAX_ROWS, max(size, 1024)):  # every row costs at least a byte of id
        raise fail(origin, f"declares {rows} rows in {size} bytes; refused")
    grid = set(grid_columns(schema))
    declared = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for i in range(row_group.num_columns):
            chunk = row_group.column(i)
            top = chunk.path_in_schema.split(".", 1)[0]
            limit = row_group.num_rows * (MAX_LIST_ITEMS if top in ("datasets", "tags") else 1)
            if chunk.num_values > limit:
                raise fail(origin, f"column {top!r} declares {chunk.num_values} values for {row_group.num_rows} rows")
            if top in grid:
                declared += max(chunk.total_uncompressed_size, 0)
    if declared > MAX_GRID_BYTES:
        raise fail(origin, f"its grid columns declare {declared} bytes; refused")


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
