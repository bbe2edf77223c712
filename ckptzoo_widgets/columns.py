"""Model entries as Arrow columns: the one place that knows how a model becomes a grid row.

Both the catalog (entries a reader produced) and the Parquet writer go through
`entries_to_batch`, so a zoo opened from JSON and the same zoo converted to
Parquet have the same columns. The grid holds what the cards, filters and
sorts need; the card text and the full entry stay out of it (read on demand).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .schema import ModelEntry

# Fixed grid columns and their Arrow types (metric columns follow as float64).
FIXED: dict[str, pa.DataType] = {
    "id": pa.string(),
    "name": pa.string(),
    "task": pa.string(),
    "library": pa.string(),
    "framework": pa.string(),
    "architecture": pa.string(),
    "license": pa.string(),
    "num_params": pa.int64(),
    "num_checkpoints": pa.int64(),
    "default_checkpoint": pa.string(),
    "headline_metric": pa.string(),
    "headline_value": pa.float64(),
    "created": pa.string(),
    "updated": pa.string(),
    "datasets": pa.list_(pa.string()),
    "tags": pa.list_(pa.string()),
}
# The columns a search filters on by exact value (`Zoo.search(task=..., library=..., license=...)`).
FILTERS = ("task", "library", "license")
# Metric columns kept in the grid: the most frequent names (a Hub-sized zoo has thousands).
MAX_METRIC_COLUMNS = 64
METRIC_PREFIX = "metric:"
# Card text the word index reads: the first CARD_WORD_CHARS characters, lower-cased,
# every run of characters that are not letters or digits turned into one space.
CARD_WORD_CHARS = 4000


def grid_row(model: ModelEntry) -> dict[str, Any]:
    """The fixed grid values of one model (metrics separately: `model_metrics`)."""
    headline_name, headline_value = model.headline
    return {
        "id": model.id,
        "name": model.display_name,
        "task": model.task,
        "library": model.library,
        "framework": model.framework,
        "architecture": model.architecture,
        "license": model.license,
        "num_params": model.num_params,
        "num_checkpoints": len(model.checkpoints),
        "default_checkpoint": model.checkpoint().name,
        "headline_metric": headline_name,
        "headline_value": headline_value,
        "created": model.created,
        "updated": model.updated,
        "datasets": list(model.datasets),
        "tags": list(model.tags),
    }


def model_metrics(model: ModelEntry) -> dict[str, float | None]:
    """The metrics a grid row shows: the model's own, else its default checkpoint's."""
    return model.metrics or model.checkpoint().metrics


def card_words(cards: pa.Array) -> pa.Array:
    """The words of each card, lower-case and space-separated (vectorised: no Python loop per card)."""
    text = pc.utf8_slice_codeunits(pc.fill_null(cards, ""), 0, CARD_WORD_CHARS)
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(text), r"[^\pL\pN]+", " "))


def column(values: list[Any], kind: pa.DataType, problems: list[str], name: str) -> pa.Array:
    """An Arrow array of `values`; a value the type cannot hold becomes null and is reported.

    One bad value (a count past int64, a non-number) must not empty the whole
    zoo: the column is built value by value only when the fast path fails.
    """
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        pass
    kept = []
    for value in values:
        try:
            pa.array([value], kind)
            kept.append(value)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            problems.append(f"column {name!r}: a value the catalog cannot hold was left out ({str(value)[:40]!r})")
            kept.append(None)
    return pa.array(kept, kind)


def metric_names(models: Sequence[ModelEntry], limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    counts: Counter[str] = Counter()
    for model in models:
        counts.update(model_metrics(model).keys())  # keys: a mapping would add its values
    # most frequent first, ties in first-seen order (Counter keeps insertion order)
    return [name for name, _ in counts.most_common(limit)]


def entries_to_batch(
    models: Sequence[ModelEntry],
    *,
    metrics: Sequence[str] | None = None,
    stored: bool = False,
    problems: list[str] | None = None,
) -> pa.RecordBatch:
    """Grid columns (+ `metric:<name>` columns) of `models`.

    With `stored`, also the columns a Parquet index keeps out of the grid:
    `description` (the card), `card_words` and `entry` (the full entry as JSON).
    """
    problems = problems if problems is not None else []
    rows = [grid_row(m) for m in models]
    arrays = {name: column([r[name] for r in rows], kind, problems, name) for name, kind in FIXED.items()}
    names = metric_names(models) if metrics is None else list(metrics)
    values = [model_metrics(m) for m in models]
    for name in names:
        arrays[METRIC_PREFIX + name] = column([v.get(name) for v in values], pa.float64(), problems, name)
    if stored:
        arrays["description"] = pa.array([m.description for m in models], pa.string())
        arrays["card_words"] = card_words(arrays["description"])
        arrays["entry"] = pa.array([entry_json(m) for m in models], pa.string())
    return pa.RecordBatch.from_pydict(arrays)


def entry_json(model: ModelEntry) -> str:
    """The full entry without its card (the card has its own column)."""
    data = model.model_dump(mode="json", exclude_none=True, exclude={"description"})
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def metric_columns(schema: pa.Schema, limit: int = MAX_METRIC_COLUMNS) -> list[str]:
    """The `metric:<name>` columns a grid keeps: the first `limit` in the schema's order.

    The one cap on metric columns for every form: a JSON index and the readers keep
    the `limit` most frequent names (`metric_names`), the Parquet writer stores them
    in that order, and a Parquet index read in place keeps its first `limit` (a file
    with 8,000 metric columns opens as one with 64; every metric stays in the entry).
    """
    return [name for name in schema.names if name.startswith(METRIC_PREFIX)][: max(limit, 0)]
