"""The Weights view's numbers and every decision it shows, computed in the kernel.

The page draws a heatmap of tensors (rows, grouped by layer) by checkpoints
(columns): each cell is a tensor's relative change ``‖W_b - W_a‖ / ‖W_a‖`` from
the column's reference checkpoint (the previous one, or the first). Everything
the page must not guess is decided here and sent with the numbers:

- **rows**: the tensors of the first checkpoint in natural order (``layers.2``
  before ``layers.10``), grouped by layer (the name without its last part), at
  most `MAX_WEIGHT_ROWS` (the rest counted);
- **columns**: the checkpoints with weight files in the model's order, at most
  `MAX_WEIGHT_COLUMNS` + 1 spread over the run (`widget.payload.shown_checkpoints`),
  each with its reference and which ones carry a label (`MAX_LABELS` at most);
- **the colour scale**: linear, or logarithmic when the values span more than
  `LOG_SPAN`; its top at the 95th percentile when there are enough values (a few
  large changes do not wash the rest out); each cell's level 0..`LEVELS`-1 and
  the legend's edges and labels;
- **what a missing value means** (a tensor zero at the reference), which rows
  are sampled (plan.py), which columns repeat their reference.

Payloads are bounded (`MAX_WEIGHT_ROWS` x `MAX_WEIGHT_COLUMNS` cells, values at
four significant digits, names clipped) and JSON-safe (`widget.payload.plain`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from ..decode import WEIGHTS_READ_BYTES
from ..weights.files import Cost, checkpoint_files
from ..weights.measure import Checkpoint, Opened, Result, select
from ..weights.plan import plan_tensors
from .payload import clip, plain, shown_checkpoints

MAX_WEIGHT_ROWS = 160  # tensors drawn (a 7B transformer has about 290: the rest are counted)
MAX_WEIGHT_COLUMNS = 64  # changes drawn (checkpoints - 1); more are spread over the run
MAX_LABELS = 16  # column labels written under the heatmap
LEVELS = 8  # colour levels of the scale
LOG_SPAN = 50.0  # values spanning more than this factor get a logarithmic scale
ROBUST_COUNT = 20  # with this many values or more, the scale's top is their 95th percentile

AGAINST_OPTIONS = [
    {"value": "previous", "label": "From the previous checkpoint"},
    {"value": "start", "label": "From the start"},
]
METRIC_LABEL = "Relative change ‖W_b − W_a‖ / ‖W_a‖"
MISSING_NOTE = "— no value: the tensor is zero at the reference checkpoint (a bias initialised to zero)"


def short(value: float | None) -> float | None:
    """Four significant digits (a heatmap's hover), None for NaN and infinities."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


def natural_key(name: str) -> list[Any]:
    """``layers.10.weight`` after ``layers.2.weight``: digit runs compared as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def layer_of(name: str) -> str:
    """The group of a tensor: its name without the last dotted part (``hidden.weight`` -> ``hidden``)."""
    head, dot, _ = name.rpartition(".")
    return head if dot else name


def row_label(name: str) -> str:
    """What a row says under its group's heading: the name's last part (``weight``)."""
    return name.rpartition(".")[2] or name


@dataclass
class Grid:
    """One model's grid: the located checkpoints, rows, columns and the values found so far."""

    model: str
    against: str
    checkpoints: list[Checkpoint]  # located (with weight files), the reference first
    tensors: list[str]  # rows, in the kernel's order
    dtypes: dict[str, str]
    shapes: dict[str, list[int]]
    sampled: set[str]
    refs: list[int]  # per column: index (in `checkpoints`) of its reference
    identical_to: dict[str, str]
    rows_left_out: int = 0
    columns_left_out: int = 0
    skipped: list[str] = field(default_factory=list)
    without_weights: list[str] = field(default_factory=list)
    values: list[list[float | None]] = field(default_factory=list)  # [row][column]
    cosines: list[list[float | None]] = field(default_factory=list)
    done: int = 0  # columns computed
    state: str = "running"  # running, complete, stopped, error
    error: str = ""
    cost: Cost = field(default_factory=Cost)

    @property
    def columns(self) -> int:
        return len(self.checkpoints) - 1

    def reference(self, column: int) -> Checkpoint:
        return self.checkpoints[self.refs[column]]

    def column_of(self, name: str) -> int | None:
        for column, c in enumerate(self.checkpoints[1:]):
            if c.name == name:
                return column
        return None

    def fill(self, column: int, result: Result) -> None:
        """Put one measured column in (its pair is (0, 1) of `result`)."""
        for row, name in enumerate(self.tensors):
            change = result.changes.get((0, 1, name))
            self.values[row][column] = short(change.relative) if change else None
            self.cosines[row][column] = short(change.cosine) if change else None
        for f in fields(Cost):
            setattr(self.cost, f.name, getattr(self.cost, f.name) + getattr(result.cost, f.name))
        self.done = column + 1


def build_grid(entry: Any, against: str) -> Grid:
    """The grid of `entry` (a catalog ModelEntry): checkpoints located, the first one's header read
    (from its record when seen before), rows ordered and grouped; no tensor read yet."""
    from ..weights import WeightsError, known_duplicates

    checkpoints: list[Checkpoint] = []
    without: list[str] = []
    for c in entry.checkpoints:
        files = checkpoint_files(entry, c)
        if files:
            checkpoints.append(Checkpoint(str(c.name), files, c.step))
        else:
            without.append(str(c.name))
    if len(checkpoints) < 2:
        raise WeightsError(f"{entry.id}: fewer than two checkpoints have a safetensors file to compare")
    chosen = shown_checkpoints(checkpoints, limit=MAX_WEIGHT_COLUMNS + 1)
    columns_left_out = len(checkpoints) - len(chosen)
    checkpoints = [checkpoints[i] for i in chosen]
    cost = Cost()
    first = Opened(checkpoints[0], cost, {})
    try:
        infos, skipped = select({n: info for n, (_, info) in first.where.items()}, None)
    finally:
        first.close()
    infos.sort(key=lambda t: natural_key(t.name))
    kept = infos[:MAX_WEIGHT_ROWS]
    plans = plan_tensors(kept, WEIGHTS_READ_BYTES)  # the same plan `measure` makes for these tensors
    names = [t.name for t in kept]
    refs = [i if against == "previous" else 0 for i in range(len(checkpoints) - 1)]
    columns = len(checkpoints) - 1
    return Grid(
        model=str(entry.id),
        against=against,
        checkpoints=checkpoints,
        tensors=names,
        dtypes={t.name: t.dtype for t in kept},
        shapes={t.name: list(t.shape) for t in kept},
        sampled={n for n in names if plans[n].sampled},
        refs=refs,
        identical_to={d.checkpoint: d.same_as for d in known_duplicates(entry)},
        rows_left_out=len(infos) - len(kept),
        columns_left_out=columns_left_out,
        skipped=skipped,
        without_weights=without,
        values=[[None] * columns for _ in names],
        cosines=[[None] * columns for _ in names],
        cost=cost,
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def _label(value: float) -> str:
    return f"{value:.2g}" if value < 0.01 else f"{value:.3g}"


def colour_scale(values: list[float | None]) -> dict[str, Any]:
    """The scale of the heatmap: kind, domain, `LEVELS` bins (edges and labels), whether its top clips."""
    finite = sorted(v for v in values if v is not None and math.isfinite(v) and v >= 0)
    positive = [v for v in finite if v > 0]
    if not positive:
        return {"kind": "linear", "levels": 1, "edges": [0.0, 0.0], "labels": ["0"], "clipped": False}
    top = _percentile(finite, 0.95) if len(finite) >= ROBUST_COUNT else finite[-1]
    top = top if top > 0 else positive[-1]
    low = positive[0]
    if top / low > LOG_SPAN:
        kind = "log"
        edges = [low * (top / low) ** (i / LEVELS) for i in range(LEVELS + 1)]
    else:
        kind = "linear"
        edges = [top * i / LEVELS for i in range(LEVELS + 1)]
    labels = [_label(e) for e in edges]
    return {
        "kind": kind,
        "levels": LEVELS,
        "edges": [short(e) for e in edges],
        "labels": labels,
        "clipped": finite[-1] > top,  # the top level holds everything above its edge
    }


def level(value: float | None, scale: dict[str, Any]) -> int | None:
    """The colour level of one value on `scale` (None: no value)."""
    if value is None:
        return None
    edges = scale["edges"]
    inner = edges[1:-1]
    return min(scale["levels"] - 1, sum(1 for e in inner if value >= e))


def _column_labels(count: int) -> set[int]:
    if count <= MAX_LABELS:
        return set(range(count))
    return {round(i * (count - 1) / (MAX_LABELS - 1)) for i in range(MAX_LABELS)}


def grid_payload(grid: Grid) -> dict[str, Any]:
    """What the page draws of `grid` now (partial while running): bounded, JSON-safe."""
    flat = [v for row in grid.values for v in row]
    scale = colour_scale(flat)
    labelled = _column_labels(grid.columns)
    groups: list[dict[str, Any]] = []
    for row, name in enumerate(grid.tensors):
        layer = layer_of(name)
        if not groups or groups[-1]["name"] != clip(layer, 200):
            groups.append({"name": clip(layer, 200), "rows": []})
        groups[-1]["rows"].append(row)
    columns = []
    for column, c in enumerate(grid.checkpoints[1:]):
        columns.append(
            {
                "checkpoint": clip(c.name, 300),
                "reference": clip(grid.reference(column).name, 300),
                "step": plain(c.step),
                "label": column in labelled,
                "identical_to": clip(grid.identical_to.get(c.name), 300),
                "done": column < grid.done,
            }
        )
    return {
        "model": clip(grid.model, 300),
        "against": grid.against,
        "against_options": AGAINST_OPTIONS,
        "metric_label": METRIC_LABEL,
        "start": clip(grid.checkpoints[0].name, 300),
        "rows": [
            {
                "tensor": clip(name, 300),
                "label": clip(row_label(name), 200),
                "dtype": grid.dtypes[name],
                "shape": grid.shapes[name][:8],
                "sampled": name in grid.sampled,
            }
            for name in grid.tensors
        ],
        "groups": groups,
        "columns": columns,
        "values": [list(row) for row in grid.values],
        "cosines": [list(row) for row in grid.cosines],
        "levels": [[level(v, scale) for v in row] for row in grid.values],
        "scale": scale,
        "missing_note": MISSING_NOTE if any(v is None for v in flat[: len(grid.tensors) * grid.done]) else "",
        "progress": {"done": grid.done, "total": grid.columns},
        "state": grid.state,
        "error": clip(grid.error, 500),
        "rows_left_out": grid.rows_left_out,
        "columns_left_out": grid.columns_left_out,
        "skipped": [clip(s, 300) for s in grid.skipped[:20]],
        "without_weights": [clip(s, 300) for s in grid.without_weights[:20]],
        "cost": grid.cost.as_dict(),
    }


def pair_payload(grid: Grid, column: int, result: Result) -> dict[str, Any]:
    """Two checkpoints side by side, per tensor: norm, mean, std of each, relative change, cosine."""
    a, b = grid.reference(column), grid.checkpoints[column + 1]
    rows = []
    for name in grid.tensors:
        sa, sb = result.stats.get((0, name)), result.stats.get((1, name))
        change = result.changes.get((0, 1, name))
        rows.append(
            {
                "tensor": clip(name, 300),
                "group": clip(layer_of(name), 200),
                "a": {k: short(getattr(sa, k)) if sa else None for k in ("norm", "mean", "std")},
                "b": {k: short(getattr(sb, k)) if sb else None for k in ("norm", "mean", "std")},
                "relative": short(change.relative) if change else None,
                "cosine": short(change.cosine) if change else None,
                "identical": bool(change and change.identical and not change.sampled),
                "sampled": name in grid.sampled,
            }
        )
    return {
        "model": clip(grid.model, 300),
        "against": grid.against,
        "a": {"checkpoint": clip(a.name, 300), "step": plain(a.step)},
        "b": {"checkpoint": clip(b.name, 300), "step": plain(b.step)},
        "rows": rows,
    }
