"""A Parquet zoo index read in place: the checked grid at once, a model's card and entry when it is opened.

The layout, the footer checks and the budgets are in `parquet_format`, the file
and its row groups in `parquet_file`, the grid read and its row checks in
`parquet_grid`, writing in `parquet_write`. Here: the catalog part (`ParquetIndex`,
with the row-group columns read on demand, cached, and kept between sessions
through `Pieces`). The reader of a Parquet source string is
`sources/index_file.read_parquet_source`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from ..errors import ZooError
from ..schema import ModelEntry, Problem
from ..text import one_line
from .parquet_file import Data, IndexFile, Opener
from .parquet_format import FORMAT, FORMAT_KEY, NAME_KEY, ParquetIndexError, decode, fail
from .parquet_grid import read_grid
from .parquet_write import ParquetWriter, write_parquet

__all__ = ["FORMAT", "FORMAT_KEY", "ParquetIndex", "ParquetIndexError", "ParquetWriter", "Pieces", "write_parquet"]

_CACHE_GROUPS = 8
_ENTRIES = 8  # validated entries kept: 20,000 checkpoints take a quarter of a second to validate
_REMOTE_CACHE_GROUPS = 64  # over a network: a sorted page's cards span up to 24 row groups (~1.6 MB each)


# One stored entry, decoded: 55,000 checkpoints with a file each take about 5 MB of JSON (the JSON
# form's whole-document budget is 64 MiB); the row group's decode budget still holds all of them.
MAX_ENTRY = 16 << 20


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
        self.notes: list[str] = []
        self._opener: Opener | None = data if callable(data) else None
        self.remote = self._opener is not None  # read over a network: the catalog builds no word index unasked
        self._file: IndexFile | None = IndexFile(data, self.origin)
        meta = self._file.metadata.metadata or {}
        self.title = meta.get(NAME_KEY, b"").decode("utf-8", "replace")[:200]
        self._starts = self._file.starts()
        self._grid, self._keep, self.problems = read_grid(self._file)
        self._cache: OrderedDict[tuple[int, str], pa.Array] = OrderedDict()
        # the last few entries validated (selecting a checkpoint reads its model four times)
        self._entries: OrderedDict[int, ModelEntry] = OrderedDict()

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
        self._entries = OrderedDict()
        return self

    def _opened(self) -> IndexFile:
        """The file, opened again for a grid kept in the cache when a model is (it must still be the same file)."""
        if self._file is not None:
            return self._file
        assert self._opener is not None
        file = IndexFile(self._opener, self.origin)
        now = file.starts()
        if len(now) != len(self._starts) or (now != self._starts).any():
            raise fail(self.origin, "the index changed since it was opened; open the zoo again")
        self._file = file
        return file

    @property
    def keep(self) -> np.ndarray:
        """For each grid row, its row in the file (rows the rules refused are left out)."""
        return self._keep

    @property
    def starts(self) -> np.ndarray:
        """The first file row of each row group, and the row count at the end."""
        return self._starts

    @property
    def grid(self) -> pa.Table:
        return self._grid

    # --- on demand ----------------------------------------------------------------

    def _column_of_group(self, group: int, name: str) -> pa.Array:
        key = (group, name)
        if key not in self._cache:
            kept = self.pieces.get(group, name) if self.pieces is not None else None
            if kept is None:
                file = self._opened()  # its footer passed check_declared: every chunk within its budget
                column = file.read(group, [name])[name]
                kept, _ = decode(column, MAX_ENTRY if name == "entry" else 200_000, pa.string(), self.origin)
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
        if row in self._entries:
            self._entries.move_to_end(row)
            return self._entries[row]
        text = self._value(row, "entry")
        if text is None:  # longer than MAX_ENTRY: left out when decoded
            raise ZooError(
                one_line(f"{self.origin}: row {row}: the stored entry is missing or over {MAX_ENTRY:,} bytes")
            )
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
        self._entries[row] = model.with_origin(self.source, self.base)
        while len(self._entries) > _ENTRIES:
            self._entries.popitem(last=False)
        return self._entries[row]

    def cards(self, rows: np.ndarray) -> list[str]:
        return [self._value(int(row), "description") or "" for row in rows]

    def card_words(self) -> Iterator[pa.Array]:
        keep = self._keep
        for group in range(len(self._starts) - 1):
            words = self._opened().read(group, ["card_words"])["card_words"]
            column, _ = decode(words, 20_000, pa.string(), self.origin)
            start, end = self._starts[group], self._starts[group + 1]
            inside = keep[(keep >= start) & (keep < end)] - start
            yield column.take(pa.array(inside)) if len(inside) != len(column) else column
