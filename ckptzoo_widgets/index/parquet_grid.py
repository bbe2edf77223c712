"""The grid of a Parquet index: its grid columns read row group by row group, decoded within the
budget, and checked as columns (id rule, counts, unique ids); a bad row is reported and left out."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import safety
from ..columns import FIXED, METRIC_PREFIX, metric_columns
from ..decode import grid_budget
from ..schema import MAX_COUNT, Problem
from .parquet_file import IndexFile
from .parquet_format import ID_RE2, MAX_TEXT, decode, fail, grid_columns


def read_grid(file: IndexFile) -> tuple[pa.Table, np.ndarray, list[Problem]]:
    """The checked grid, for each of its rows its row in the file, and the problems of the rows left out."""
    origin = file.origin
    names = grid_columns(file.metadata.schema.to_arrow_schema())
    if not file.groups:
        return _checked(pa.table({n: pa.array([], FIXED.get(n, pa.float64())) for n in names}), origin)
    # strings arrive dictionary-encoded (read_dictionary), one chunk per row group
    table = pa.concat_tables(file.read_groups(names))
    budget = grid_budget(file.size)
    columns = {}
    for name in names:
        column, cost = decode(table[name], MAX_TEXT.get(name, 200), FIXED.get(name, pa.float64()), origin)
        budget -= cost
        if budget < 0:
            raise fail(origin, "its grid columns decode to more than the budget; refused")
        columns[name] = column.combine_chunks()  # one chunk per column: direct `take` for pages
        table = table.drop_columns([name])  # the encoded column goes as soon as it is decoded
    return _checked(pa.table(columns), origin)


def _checked(grid: pa.Table, origin: str) -> tuple[pa.Table, np.ndarray, list[Problem]]:
    """Rows whose grid values break the index rules are reported and left out."""
    problems: list[Problem] = []
    ids = grid["id"]
    good = pc.fill_null(pc.match_substring_regex(ids, ID_RE2), False)
    good = good.to_numpy(zero_copy_only=False) & ~_has_double(ids)
    for name in ("num_params", "num_checkpoints"):
        values = grid[name]
        bad = pc.fill_null(pc.or_(pc.less(values, 0), pc.greater(values, MAX_COUNT)), False)
        good &= ~bad.to_numpy(zero_copy_only=False)
    good &= pc.fill_null(pc.greater(grid["num_checkpoints"], 0), False).to_numpy(zero_copy_only=False)
    # Metric values follow the JSON form's rule (schema.FiniteFloat): a NaN or an infinity refuses the row.
    for name in ("headline_value", *metric_columns(grid.schema)):
        good &= pc.fill_null(pc.is_finite(grid[name]), True).to_numpy(zero_copy_only=False)
    first = np.zeros(len(grid), dtype=bool)
    _, where = np.unique(
        pc.dictionary_encode(pc.fill_null(ids, "")).combine_chunks().indices.to_numpy(), return_index=True
    )
    first[where] = True
    for row in np.flatnonzero(~(good & first))[:20]:
        why = "a duplicate id" if good[row] else "an id, count or metric value the index rules refuse"
        problems.append(Problem(origin, f"row {row} (id {str(ids[int(row)])[:100]!r})", "", f"{why}; row skipped"))
    skipped = int((~(good & first)).sum())
    if skipped > 20:
        problems.append(Problem(origin, "rows", "", f"{skipped - 20} more rows skipped"))
    keep = np.flatnonzero(good & first)
    grid = grid.take(pa.array(keep)) if skipped else grid
    for name in metric_columns(grid.schema):
        try:
            safety.check_metric_name(name[len(METRIC_PREFIX) :])
        except ValueError:
            problems.append(Problem(origin, "columns", name[:60], "not a metric name; column skipped"))
            grid = grid.drop_columns([name])
    return grid, keep, problems


def _has_double(ids: pa.ChunkedArray) -> np.ndarray:
    double = pc.or_(pc.match_substring(ids, ".."), pc.match_substring(ids, "--"))
    return pc.fill_null(double, False).to_numpy(zero_copy_only=False)
