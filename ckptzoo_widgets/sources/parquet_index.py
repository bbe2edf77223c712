"""A Parquet zoo index: columns for the grid, the card and the full entry read on demand.

Layout (docs/index-format.md): one row per model; the grid columns of
`columns.FIXED`, `metric:<name>` float64 columns, and three columns opening
never reads: `description` (the card), `card_words` (its distinct words, for
the word index) and `entry` (the whole entry as JSON, without the card). The
file's key-value metadata holds `ckptzoo_index = parquet-1` and the zoo's name.

Opening reads the footer, checks it (schema, row counts, declared sizes)
before reading a byte of data, then reads the grid columns row group by row
group with strings kept dictionary-encoded until their decoded size is known
to fit the budget, so a small file cannot make it allocate gigabytes. Values
are then checked as columns (id rule, text lengths, count ranges); a bad row
is reported and left out, the rest of the zoo opens.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from .. import safety
from ..columns import FIXED, METRIC_PREFIX, entries_to_batch, metric_columns, metric_names
from ..errors import ZooError
from ..schema import MAX_COUNT, IndexFormatError, ModelEntry, Problem
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
ID_RE2 = safety.MODEL_ID_PATTERN.replace(r"(?!.*\.\.)(?!.*--)", "")
assert "?!" not in ID_RE2
_CACHE_GROUPS = 8
_REMOTE_CACHE_GROUPS = 64  # over a network: a sorted page's cards span up to 24 row groups (~1.6 MB each)


class ParquetIndexError(IndexFormatError):
    """A Parquet file that is not a ckptzoo index, or one that declares more than it holds."""


def _fail(origin: str, why: str) -> ParquetIndexError:
    return ParquetIndexError(one_line(f"{origin}: {why}"))


# A Parquet index: a local path (memory-mapped), its bytes, or a function opening a seekable file and
# giving its size (an fsspec file on object storage: every read is a ranged read).
Opener = Callable[[], tuple[BinaryIO, int]]
Data = str | Path | bytes | Opener
REMOTE_READERS = 8  # row groups read at once from object storage (each read waits on the network)


class Pieces(Protocol):
    """Where the row-group columns read on demand are kept between sessions (a cache), so that a model
    opened once opens again offline."""

    def get(self, group: int, name: str) -> pa.ChunkedArray | None: ...

    def put(self, group: int, name: str, column: pa.ChunkedArray) -> None: ...


class ParquetIndex:
    """One Parquet index, read in place (a catalog part: see catalog/parts.py)."""

    pieces: Pieces | None = None  # set by a reader that keeps what it reads (sources/object_store.py)

    def __init__(self, data: Data, *, source: str, label: str, base: str, origin: str | None = None):
        self.source, self.label, self.base = source, label, base
        self.origin = origin or source
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self._opener: Opener | None = data if callable(data) else None
        self.remote = self._opener is not None  # read over a network: the catalog builds no word index unasked
        self._open(data)
        meta = self._metadata.metadata or {}
        self.title = meta.get(NAME_KEY, b"").decode("utf-8", "replace")[:200]
        self._starts = np.cumsum([0] + [self._metadata.row_group(i).num_rows for i in range(self._groups)])
        self._grid, self._keep = self._read_grid()
        self._cache: OrderedDict[tuple[int, str], pa.Array] = OrderedDict()

    @classmethod
    def from_grid(
        cls,
        grid: pa.Table,
        keep: np.ndarray,
        starts: np.ndarray,
        opener: Opener,
        *,
        source: str,
        label: str,
        base: str,
        origin: str,
        title: str = "",
        problems: Iterable[Problem] = (),
    ) -> ParquetIndex:
        """An index whose checked grid was kept (a cache); the file is opened by `opener` when a model is."""
        self = cls.__new__(cls)
        self.source, self.label, self.base, self.origin, self.title = source, label, base, origin, title
        self.problems, self.notes = list(problems), []
        self._grid, self._keep, self._starts, self._opener = grid, keep, starts, opener
        self.remote = True
        self._file = None
        self._cache = OrderedDict()
        return self

    def _open(self, data: Data) -> None:
        """Read and check the footer (nothing else)."""
        remote = callable(data)
        if isinstance(data, bytes):
            self._size, handle = len(data), pa.BufferReader(data)
        elif callable(data):
            handle, self._size = data()  # ranged reads: pyarrow coalesces a row group's grid columns
        else:
            self._size, handle = os.path.getsize(data), pa.memory_map(str(data))
        try:
            probe = pq.ParquetFile(handle)
        except Exception as error:  # pyarrow raises several types for a file that is not Parquet
            raise _fail(self.origin, f"not a readable Parquet file ({type(error).__name__})") from None
        self._metadata = probe.metadata
        self._check_footer()
        self._dictionary = [probe.schema.column(i).path for i in range(len(probe.schema)) if _is_text(probe.schema, i)]
        self._file = self._parquet_file(handle, remote)

    def _parquet_file(self, handle: Any, remote: bool) -> pq.ParquetFile:
        return pq.ParquetFile(handle, read_dictionary=self._dictionary, metadata=self._metadata, pre_buffer=remote)

    def _ensure_file(self) -> None:
        """The file behind a grid kept in the cache, opened when a model is (it must still be the same file)."""
        if self._file is not None or self._opener is None:
            return
        starts = self._starts
        self._open(self._opener)
        now = np.cumsum([0] + [self._metadata.row_group(i).num_rows for i in range(self._metadata.num_row_groups)])
        if len(now) != len(starts) or (now != starts).any():
            self._file = None
            raise _fail(self.origin, "the index changed since it was opened; open the zoo again")

    @property
    def keep(self) -> np.ndarray:
        """For each grid row, its row in the file (rows the rules refused are left out)."""
        return self._keep

    @property
    def starts(self) -> np.ndarray:
        """The first file row of each row group, and the row count at the end."""
        return self._starts

    # --- checks before reading ------------------------------------------------

    @property
    def _groups(self) -> int:
        return self._metadata.num_row_groups

    def _check_footer(self) -> None:
        metadata, origin = self._metadata, self.origin
        if (metadata.metadata or {}).get(FORMAT_KEY) != FORMAT:
            raise _fail(origin, "a Parquet file but not a ckptzoo index (no 'ckptzoo_index: parquet-1' metadata)")
        schema = metadata.schema.to_arrow_schema()
        for name, kind in {**FIXED, **STORED}.items():
            if schema.get_field_index(name) < 0:
                raise _fail(origin, f"not a ckptzoo index: column {name!r} is missing")
            if not _plain(schema.field(name).type).equals(kind):
                raise _fail(origin, f"column {name!r} is {schema.field(name).type}, expected {kind}")
        for name in metric_columns(schema):
            if not schema.field(name).type.equals(pa.float64()):
                raise _fail(origin, f"metric column {name[:60]!r} is {schema.field(name).type}, expected double")
        rows = sum(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
        if rows != metadata.num_rows or rows < 0:
            raise _fail(origin, f"declares {metadata.num_rows} rows but its row groups hold {rows}")
        if rows > min(MAX_ROWS, max(self._size, 1024)):  # every row costs at least a byte of id
            raise _fail(origin, f"declares {rows} rows in {self._size} bytes; refused")
        grid = set(self._grid_columns(schema))
        declared = 0
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for i in range(row_group.num_columns):
                chunk = row_group.column(i)
                top = chunk.path_in_schema.split(".", 1)[0]
                limit = row_group.num_rows * (MAX_LIST_ITEMS if top in ("datasets", "tags") else 1)
                if chunk.num_values > limit:
                    raise _fail(
                        origin, f"column {top!r} declares {chunk.num_values} values for {row_group.num_rows} rows"
                    )
                if top in grid:
                    declared += max(chunk.total_uncompressed_size, 0)
        if declared > MAX_GRID_BYTES:
            raise _fail(origin, f"its grid columns declare {declared} bytes; refused")

    @staticmethod
    def _grid_columns(schema: pa.Schema) -> list[str]:
        return [*FIXED, *metric_columns(schema)]

    # --- the grid ---------------------------------------------------------------

    def _read_grid(self) -> tuple[pa.Table, np.ndarray]:
        schema = self._metadata.schema.to_arrow_schema()
        names = self._grid_columns(schema)
        if not self._groups:
            return self._checked(pa.table({n: pa.array([], FIXED.get(n, pa.float64())) for n in names}))
        # strings arrive dictionary-encoded (read_dictionary), one chunk per row group
        table = pa.concat_tables(self._read_groups(names))
        budget = MAX_GRID_BYTES
        columns = {}
        for name in names:
            column, cost = self._decode(table[name], MAX_TEXT.get(name, 200), FIXED.get(name, pa.float64()))
            budget -= cost
            if budget < 0:
                raise _fail(self.origin, "its grid columns decode to more than the budget; refused")
            columns[name] = column.combine_chunks()  # one chunk per column: direct `take` for pages
            table = table.drop_columns([name])  # the encoded column goes as soon as it is decoded
        return self._checked(pa.table(columns))

    def _checked(self, grid: pa.Table) -> tuple[pa.Table, np.ndarray]:
        """Rows whose grid values break the index rules are reported and left out."""
        ids = grid["id"]
        good = pc.fill_null(pc.match_substring_regex(ids, ID_RE2), False)
        good = good.to_numpy(zero_copy_only=False) & ~_has_double(ids)
        for name in ("num_params", "num_checkpoints"):
            values = grid[name]
            bad = pc.fill_null(pc.or_(pc.less(values, 0), pc.greater(values, MAX_COUNT)), False)
            good &= ~bad.to_numpy(zero_copy_only=False)
        good &= pc.fill_null(pc.greater(grid["num_checkpoints"], 0), False).to_numpy(zero_copy_only=False)
        first = np.zeros(len(grid), dtype=bool)
        _, where = np.unique(
            pc.dictionary_encode(pc.fill_null(ids, "")).combine_chunks().indices.to_numpy(), return_index=True
        )
        first[where] = True
        for row in np.flatnonzero(~(good & first))[:20]:
            why = "a duplicate id" if good[row] else "an id or count the index rules refuse"
            self.problems.append(
                Problem(self.origin, f"row {row} (id {str(ids[int(row)])[:100]!r})", "", f"{why}; row skipped")
            )
        skipped = int((~(good & first)).sum())
        if skipped > 20:
            self.problems.append(Problem(self.origin, "rows", "", f"{skipped - 20} more rows skipped"))
        keep = np.flatnonzero(good & first)
        grid = grid.take(pa.array(keep)) if skipped else grid
        for name in metric_columns(grid.schema):
            try:
                safety.check_metric_name(name[len(METRIC_PREFIX) :])
            except ValueError:
                self.problems.append(Problem(self.origin, "columns", name[:60], "not a metric name; column skipped"))
                grid = grid.drop_columns([name])
        return grid, keep

    @property
    def grid(self) -> pa.Table:
        return self._grid

    def _read_groups(self, names: list[str]) -> list[pa.Table]:
        """Every row group's `names`; from object storage several at once, each reader with its own file."""
        if self._opener is None or self._groups < 2:
            return [self._read(group, names) for group in range(self._groups)]
        from concurrent.futures import ThreadPoolExecutor

        local = threading.local()

        def read(group: int) -> pa.Table:
            if not hasattr(local, "file"):
                local.file = self._parquet_file(self._opener()[0], True)  # type: ignore[misc]
            return self._read(group, names, local.file)

        with ThreadPoolExecutor(REMOTE_READERS, thread_name_prefix="ckptzoo-parquet") as pool:
            return list(pool.map(read, range(self._groups)))

    def _read(self, group: int, columns: list[str], file: pq.ParquetFile | None = None) -> pa.Table:
        self._ensure_file()
        try:
            return (file or self._file).read_row_group(group, columns=columns)
        except ZooError:
            raise
        except Exception as error:  # a damaged or lying file, a backend's error: one line, no traceback
            raise _fail(self.origin, f"row group {group} cannot be read ({_short(error)})") from None

    def _decode(self, column: pa.ChunkedArray, max_length: int, kind: pa.DataType) -> tuple[pa.ChunkedArray, int]:
        try:
            return _decoded(column, max_length, kind)
        except _TooLarge as error:
            raise _fail(
                self.origin, f"a column decodes to {error.args[0]} bytes; refused (a decompression bomb?)"
            ) from None

    # --- on demand ----------------------------------------------------------------

    def _column_of_group(self, group: int, name: str) -> pa.Array:
        key = (group, name)
        if key not in self._cache:
            kept = self.pieces.get(group, name) if self.pieces is not None else None
            if kept is None:
                self._ensure_file()
                chunk = self._metadata.row_group(group)
                size = sum(chunk.column(i).total_uncompressed_size for i in range(chunk.num_columns))
                if size > MAX_GRID_BYTES:
                    raise _fail(self.origin, f"row group {group} declares {size} bytes; refused")
                column = self._read(group, [name])[name]
                kept, _ = self._decode(column, 1 << 20 if name == "entry" else 200_000, pa.string())
                if self.pieces is not None:
                    self.pieces.put(group, name, kept)
            self._cache[key] = kept
            while len(self._cache) > (_REMOTE_CACHE_GROUPS if self.remote else _CACHE_GROUPS):
                self._cache.popitem(last=False)
        return self._cache[key]

    def _value(self, row: int, name: str) -> Any:
        file_row = int(self._keep[row])
        group = int(np.searchsorted(self._starts, file_row, side="right") - 1)
        return self._column_of_group(group, name)[file_row - int(self._starts[group])].as_py()

    def entry(self, row: int) -> ModelEntry:
        """One model, validated (pydantic at the edge): ZooError when its stored entry is bad."""
        text = self._value(row, "entry")
        try:
            data = json.loads(text or "null")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            data["description"] = self._value(row, "description") or ""
            model = ModelEntry.model_validate(data)
        except (ValueError, ValidationError, RecursionError) as error:
            raise ZooError(one_line(f"{self.origin}: row {row}: the stored entry is not valid ({error})")) from None
        if model.id != self._grid["id"][row].as_py():
            raise ZooError(one_line(f"{self.origin}: row {row}: the stored entry has another id"))
        return model.with_origin(self.source, self.base)

    def cards(self, rows: np.ndarray) -> list[str]:
        return [self._value(int(row), "description") or "" for row in rows]

    def card_words(self) -> Iterator[pa.Array]:
        keep = self._keep
        for group in range(len(self._starts) - 1):
            column, _ = self._decode(self._read(group, ["card_words"])["card_words"], 20_000, pa.string())
            start, end = self._starts[group], self._starts[group + 1]
            inside = keep[(keep >= start) & (keep < end)] - start
            yield column.take(pa.array(inside)) if len(inside) != len(column) else column


def _short(error: BaseException) -> str:
    """A reader's or a backend's error as a few words on one line (no credentials: see storage.error_message)."""
    from .. import storage

    return storage.error_message(error)[:160]


def _plain(kind: pa.DataType) -> pa.DataType:
    """A dictionary-encoded string type counts as a string (a writer may keep Arrow's dictionary)."""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind


def _is_text(schema: pq.ParquetSchema, i: int) -> bool:
    column = schema.column(i)
    return column.physical_type == "BYTE_ARRAY"


def _has_double(ids: pa.ChunkedArray) -> np.ndarray:
    double = pc.or_(pc.match_substring(ids, ".."), pc.match_substring(ids, "--"))
    return pc.fill_null(double, False).to_numpy(zero_copy_only=False)


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


# --- writing ------------------------------------------------------------------------


class ParquetWriter:
    """Writes entries to a Parquet index batch by batch (bounded memory).

    Metric columns are fixed by the first batch written: its most frequent
    names (up to columns.MAX_METRIC_COLUMNS). Later metrics stay in `entry`.
    """

    def __init__(self, out: str | Path, *, name: str | None = None):
        self.out = Path(out)
        self.name = name
        self._writer: pq.ParquetWriter | None = None
        self._metrics: list[str] = []
        self.rows = 0

    def write(self, models: list[ModelEntry]) -> None:
        if not models:
            return
        if self._writer is None:
            self._metrics = metric_names(models)
        batch = entries_to_batch(models, metrics=self._metrics, stored=True)
        if self._writer is None:
            schema = batch.schema.with_metadata({FORMAT_KEY: FORMAT, NAME_KEY: (self.name or "").encode()[:200]})
            self._writer = pq.ParquetWriter(str(self.out), schema, compression="zstd")
        self._writer.write_batch(
            batch.replace_schema_metadata(self._writer.schema.metadata), row_group_size=ROW_GROUP_ROWS
        )
        self.rows += len(models)

    def close(self) -> None:
        if self._writer is None:  # an empty zoo still gets a valid file
            empty = entries_to_batch([], metrics=[], stored=True)
            schema = empty.schema.with_metadata({FORMAT_KEY: FORMAT, NAME_KEY: (self.name or "").encode()[:200]})
            self._writer = pq.ParquetWriter(str(self.out), schema, compression="zstd")
        self._writer.close()


def write_parquet(models: Iterable[ModelEntry], out: str | Path, *, name: str | None = None) -> int:
    """Write a Parquet index of `models` (any iterable: written ROW_GROUP_ROWS at a time)."""
    writer = ParquetWriter(out, name=name)
    batch: list[ModelEntry] = []
    try:
        for model in models:
            batch.append(model)
            if len(batch) >= ROW_GROUP_ROWS * 4:
                writer.write(batch)
                batch = []
        writer.write(batch)
    finally:
        writer.close()
    return writer.rows


def is_parquet_index(data: bytes | str | Path) -> bool:
    """True when the file (or bytes) is a Parquet file carrying the ckptzoo marker."""
    try:
        source = pa.BufferReader(data) if isinstance(data, bytes) else str(data)
        return (pq.read_metadata(source).metadata or {}).get(FORMAT_KEY) == FORMAT
    except Exception:  # noqa: BLE001 - not Parquet at all
        return False


# --- the source reader --------------------------------------------------------------


def _path_of(source: str) -> str:
    return source.split("?", 1)[0].split("#", 1)[0]


def is_parquet_source(source: str) -> bool:
    """A path or URL ending in .parquet, or a folder whose index is index.parquet (and no index.json)."""
    if _path_of(source).endswith(".parquet"):
        return True
    folder = Path(source)
    return not safety.is_url(source) and (folder / "index.parquet").is_file() and not (folder / "index.json").is_file()


def read_parquet_source(source: str) -> Any:
    """Open a Parquet index in place (a local file is memory-mapped; a URL is fetched into the cache)."""
    from ._http import cached_get
    from .base import LoadedSource
    from .index_file import MAX_PARQUET_BYTES, _label_for, read_http_index, read_local_index

    if safety.is_url(source):
        data: bytes | str = cached_get(source, limit=MAX_PARQUET_BYTES)[0]
        base, origin = source.split("?", 1)[0].rsplit("/", 1)[0] + "/", source
    else:
        path = Path(source)
        if path.is_dir():  # an index inside a zoo folder obeys the folder rule: a regular file, no link out
            inside = Path(os.path.realpath(path / "index.parquet"))
            if inside.parent != Path(os.path.realpath(path)) or not inside.is_file():
                raise ZooError(f"{path / 'index.parquet'}: not a regular file inside the zoo's folder")
            path = inside
        elif not path.is_file():
            raise ZooError(f"{path}: no such index file")
        data, base, origin = str(path.resolve()), str(path.resolve().parent), str(path)
    label = _label_for(source)
    try:
        index = ParquetIndex(data, source=source, label=label, base=base, origin=origin)
    except ParquetIndexError:
        if _legacy(data):  # the first Parquet layout (one row per model, nested fields as JSON text)
            return read_http_index(source) if safety.is_url(source) else read_local_index(source)
        raise
    return LoadedSource(source, label, [], list(index.problems), index.title or Path(_path_of(source)).stem, index)


def _legacy(data: bytes | str) -> bool:
    try:
        schema = pq.read_schema(pa.BufferReader(data) if isinstance(data, bytes) else data)
    except Exception:  # noqa: BLE001
        return False
    return "checkpoints" in schema.names and FORMAT_KEY not in (schema.metadata or {})
