"""The catalog's grid: one Arrow table for every part of a zoo (`public_grid`), and the cached
queries on it that a page of results is cut from (`GridQuery`: sort orders, filters, ranges)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import FIXED, METRIC_PREFIX
from ..errors import ZooError
from .ids import prefixed
from .live import count_range
from .parts import Part

_UNSORTABLE = {"datasets", "tags", "source", "headline_metric", "default_checkpoint"}


def public_grid(parts: Sequence[Part]) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """One table for all parts (ids kept unique), and each row's part and row inside it."""
    metrics: dict[str, None] = {}
    for part in parts:
        metrics.update(dict.fromkeys(n for n in part.grid.schema.names if n.startswith(METRIC_PREFIX)))
    tables, seen = [], None
    for part in parts:
        grid = part.grid
        ids = grid["id"]
        if seen is not None and len(grid):
            duplicate = pc.is_in(ids, value_set=seen).to_numpy(zero_copy_only=False)
            if duplicate.any():  # only the clashing rows are touched one by one
                renamed = ids.to_numpy(zero_copy_only=False).astype(object)
                for row in np.flatnonzero(duplicate):
                    renamed[row] = prefixed(renamed[row], part.label)
                ids = pa.chunked_array([pa.array(renamed, pa.string())])
        seen = ids.combine_chunks() if seen is None else pa.concat_arrays([seen, ids.combine_chunks()])
        columns: dict[str, Any] = {"id": ids}
        for name in FIXED:
            if name == "id":
                continue
            column = grid[name] if name in grid.schema.names else pa.nulls(len(grid), FIXED[name])
            if name in ("datasets", "tags"):
                column = pc.fill_null(pc.binary_join(column, ", "), "")
            columns[name] = column
        columns["source"] = pa.repeat(pa.scalar(part.source, pa.string()), len(grid))
        for metric in metrics:
            columns[metric] = grid[metric] if metric in grid.schema.names else pa.nulls(len(grid), pa.float64())
        tables.append(pa.table(columns))
    if not tables:  # a zoo of live sources only: no local rows, the columns all the same
        empty = {n: pa.array([], pa.string() if n in ("datasets", "tags") else t) for n, t in FIXED.items()}
        tables.append(pa.table({**empty, "source": pa.array([], pa.string())}))
    table = pa.concat_tables(tables)
    # A metric named like a fixed column loses; the rest drop their prefix.
    names = [n[len(METRIC_PREFIX) :] if n.startswith(METRIC_PREFIX) else n for n in table.schema.names]
    table = table.rename_columns(names)
    keep = [i for i, name in enumerate(names) if names.index(name) == i]
    table = table.select(keep)
    if any(column.num_chunks > 1 for column in table.columns):  # a merge: one chunk per column for direct `take`
        table = table.combine_chunks()
    part_of = np.concatenate(
        [np.full(len(p.grid), i, dtype=np.int32) for i, p in enumerate(parts)] or [np.zeros(0, np.int32)]
    )
    local = np.concatenate([np.arange(len(p.grid), dtype=np.int64) for p in parts] or [np.zeros(0, np.int64)])
    return table, part_of, local


def to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    if "num_params" in frame:
        frame["num_params"] = frame["num_params"].astype("Int64")
    return frame


class GridQuery:
    """Sort orders, filter masks and ranges over one grid, each computed once and kept."""

    def __init__(self, grid: pa.Table) -> None:
        self.grid = grid
        self._orders: dict[str, np.ndarray] = {}
        self._filters: dict[tuple[str, str], np.ndarray] = {}

    def sort_keys(self) -> list[str]:
        """Columns a search sorts by (prefix '-' for descending)."""
        return [c for c in self.grid.schema.names if c not in _UNSORTABLE]

    def sort_order(self, sort: str) -> np.ndarray:
        """Row positions in `sort` order, missing values last in both directions (cached per key)."""
        if sort in self._orders:
            return self._orders[sort]
        descending = sort.startswith("-")
        column = sort[1:] if descending else sort
        if column not in self.sort_keys():
            close = difflib.get_close_matches(column, self.sort_keys(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ZooError(f"unknown sort column {column!r}{hint}; sortable: {', '.join(self.sort_keys())}")
        values = self.grid[column].combine_chunks()
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            values = pc.utf8_lower(values)
        missing = values.is_null(nan_is_null=True) if pa.types.is_floating(values.type) else values.is_null()
        missing = missing.to_numpy(zero_copy_only=False)
        present = np.flatnonzero(~missing)
        keyed = pa.table({"key": values.take(pa.array(present)), "id": self.grid["id"].take(pa.array(present))})
        ranked = pc.sort_indices(
            keyed, sort_keys=[("key", "descending" if descending else "ascending"), ("id", "ascending")]
        )
        order = np.concatenate([present[ranked.to_numpy()], np.flatnonzero(missing)])
        self._orders[sort] = order
        return order

    def filter(self, name: str, value: str) -> np.ndarray:
        key = (name, value)
        if key not in self._filters:
            if len(self._filters) > 64:
                self._filters.clear()
            self._filters[key] = pc.fill_null(pc.equal(self.grid[name], value), False).to_numpy(zero_copy_only=False)
        return self._filters[key]

    def in_range(self, name: str, text: str) -> np.ndarray:
        low, high = count_range(text)
        values = self.grid[name]
        keep = pc.is_valid(values)
        if low is not None:
            keep = pc.and_(keep, pc.greater_equal(values, low))
        if high is not None:
            keep = pc.and_(keep, pc.less_equal(values, high))
        return pc.fill_null(keep, False).to_numpy(zero_copy_only=False)

    def position(self, sort: str) -> np.ndarray:
        key = "@" + sort
        if key not in self._orders:
            order = self.sort_order(sort)
            position = np.empty(len(order), dtype=np.int64)
            position[order] = np.arange(len(order))
            self._orders[key] = position
        return self._orders[key]
