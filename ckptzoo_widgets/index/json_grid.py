"""The grid of a JSON index read as columns: rows the rules proved valid straight from Arrow,
the others as the exact validator accepted them, in file order, duplicates reported."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import FIXED, MAX_METRIC_COLUMNS, METRIC_PREFIX, entries_to_batch, model_metrics
from ..schema import ModelEntry, Problem, Problems, _entry_label, validate_models
from .json_rules import Columns, as_numpy, numeric_metric, struct_field


def assemble(parsed: Columns) -> tuple[pa.Table, list[bytes], pa.Array, list[Problem]]:
    """The grid of the valid rows, their lines and cards, and the problems of the others (in file order)."""
    exact = parsed.exact_rows()
    problems: dict[int, list[Problem]] = {}
    accepted: dict[int, ModelEntry] = {}
    for row in np.flatnonzero(exact).tolist():
        log = Problems(limit=1 << 30)
        raw = json.loads(parsed.lines[row])
        models = validate_models([(parsed.origin, _entry_label(row, raw), raw)], log)
        if models:
            accepted[row] = models[0]
        problems[row] = log.as_list()
    valid = ~exact
    valid[list(accepted)] = True
    ids = parsed.column["id"]
    kept = np.flatnonzero(valid)
    codes = pc.dictionary_encode(ids.take(pa.array(kept))).indices.to_numpy()
    _, first = np.unique(codes, return_index=True)
    for position in np.setdiff1d(np.arange(len(kept)), first).tolist():
        row = int(kept[position])
        model_id = ids[row].as_py()
        label_ = _entry_label(row, {"id": model_id})
        message = f"duplicate model id {model_id!r}; entry skipped"
        problems.setdefault(row, []).append(Problem(parsed.origin, label_, "id", message))
        valid[row] = False
        accepted.pop(row, None)
    log = Problems()
    for row in sorted(problems):
        log.extend(problems[row])
    kept = np.flatnonzero(valid)
    grid = _grid(parsed, kept, exact, accepted)
    lines = [parsed.lines[row] for row in kept.tolist()]
    cards = parsed.column["description"].take(pa.array(kept))
    return grid, lines, cards, log.as_list()


def _effective_metrics(parsed: Columns) -> dict[str, pa.Array]:
    """Per row, the metrics a card shows: the model's own, else its default checkpoint's (one array per name)."""
    own = parsed.column.get("metrics")
    names: dict[str, None] = {}
    has_own = np.zeros(parsed.size, dtype=bool)
    if own is not None and pa.types.is_struct(own.type):
        for field in own.type:
            has_own |= as_numpy(pc.is_valid(own.field(field.name)))
            if numeric_metric(field):  # the others are only in rows the exact check took
                names[field.name] = None
    ck_metrics = struct_field(parsed.ck, "metrics")
    default = parsed.default_index()
    chosen = None
    if ck_metrics is not None and len(parsed.ck):
        chosen = ck_metrics.take(pa.array(np.maximum(default, 0)))
    if chosen is not None and pa.types.is_struct(chosen.type):
        names.update(dict.fromkeys(f.name for f in chosen.type if numeric_metric(f)))
    use_own = pa.array(has_own)
    out = {}
    for name in names:
        mine = struct_field(own, name) if own is not None else None
        theirs = struct_field(chosen, name) if chosen is not None else None
        mine = pa.nulls(parsed.size, pa.float64()) if mine is None else mine.cast(pa.float64())
        theirs = pa.nulls(parsed.size, pa.float64()) if theirs is None else theirs.cast(pa.float64())
        out[name] = pc.if_else(use_own, mine, theirs)
    return out


def _grid(parsed: Columns, kept: np.ndarray, exact: np.ndarray, accepted: dict[int, ModelEntry]) -> pa.Table:
    col = parsed.column
    fast = kept[~exact[kept]]
    metrics = {name: values.take(pa.array(fast)) for name, values in _effective_metrics(parsed).items()}
    # metric columns: the most frequent names, ties in first-seen order (columns.metric_names)
    first_row = {}
    counts: dict[str, int] = {}
    for name, values in metrics.items():
        present = np.flatnonzero(as_numpy(pc.is_valid(values)))
        counts[name] = len(present)
        first_row[name] = int(fast[present[0]]) if len(present) else 1 << 62
    order = {name: i for i, name in enumerate(metrics)}
    for row, model in accepted.items():
        for i, name in enumerate(model_metrics(model)):
            counts[name] = counts.get(name, 0) + 1
            if row < first_row.get(name, 1 << 62):
                first_row[name], order[name] = row, i
    ranked = sorted((n for n in counts if counts[n]), key=lambda n: (-counts[n], first_row[n], order.get(n, 0)))
    names = ranked[:MAX_METRIC_COLUMNS]

    take = pa.array(fast)
    arrays: dict[str, Any] = {}
    for name in FIXED:
        if name in col and name not in ("name", "default_checkpoint", "num_checkpoints", "headline_metric"):
            arrays[name] = col[name].take(take)
    name = col["name"].take(take)
    named = pc.fill_null(pc.not_equal(name, ""), False)  # display_name: `name or id`
    arrays["name"] = pc.if_else(named, name, arrays["id"])
    arrays["num_checkpoints"] = pc.list_value_length(col["checkpoints"].take(take)).cast(pa.int64())
    default = parsed.default_index()[fast]
    arrays["default_checkpoint"] = parsed.ck.field("name").take(pa.array(default))
    for name in ("datasets", "tags"):
        values = arrays[name]
        arrays[name] = pc.if_else(pc.is_null(values), pa.scalar([], values.type), values)
    headline, value = _headline(parsed, fast, metrics)
    arrays["headline_metric"], arrays["headline_value"] = headline, value
    for name in names:
        arrays[METRIC_PREFIX + name] = metrics.get(name, pa.nulls(len(fast), pa.float64()))
    columns = [*FIXED, *(METRIC_PREFIX + n for n in names)]
    table = pa.table({name: arrays[name].cast(FIXED.get(name, pa.float64())) for name in columns})
    if not accepted:
        return table
    rows = sorted(accepted)
    slow = pa.Table.from_batches([entries_to_batch([accepted[r] for r in rows], metrics=names)])
    both = pa.concat_tables([table, slow.select(columns).cast(table.schema)])
    where = np.argsort(np.concatenate([fast, np.array(rows, dtype=fast.dtype)]), kind="stable")
    return both.take(pa.array(where)).combine_chunks()


def _headline(parsed: Columns, fast: np.ndarray, metrics: dict[str, pa.Array]) -> tuple[pa.Array, pa.Array]:
    """The metric a card shows first (headline_metric, else the first metric) and its value."""
    size = len(fast)
    chosen = parsed.column["headline_metric"].take(pa.array(fast)).to_pylist()
    named = np.array([name or None for name in chosen], dtype=object)  # `headline_metric or first`
    present = {name: as_numpy(pc.is_valid(values)) for name, values in metrics.items()}
    count = sum((p.astype(np.int32) for p in present.values()), np.zeros(size, dtype=np.int32))
    for name, here in present.items():  # one metric: it is the first
        named = np.where((named == None) & (count == 1) & here, name, named)  # noqa: E711
    for i in np.flatnonzero((named == None) & (count > 1)).tolist():  # noqa: E711 - key order: from the line
        raw = json.loads(parsed.lines[int(fast[i])])
        own = raw.get("metrics") or {}
        if not own:
            checkpoints = raw["checkpoints"]
            wanted = raw.get("default_checkpoint") or checkpoints[-1]["name"]
            own = next(c for c in checkpoints if c["name"] == wanted).get("metrics") or {}
        named[i] = next(iter(own))
    value = np.full(size, np.nan)
    valid = np.zeros(size, dtype=bool)
    for name, values in metrics.items():
        rows = named == name
        if rows.any():
            numbers = values.to_numpy(zero_copy_only=False)
            value[rows] = numbers[rows]
            valid[rows] = present[name][rows]
    headline = pa.array([None if n is None else n for n in named.tolist()], pa.string())
    return headline, pa.array(value, mask=~valid)
