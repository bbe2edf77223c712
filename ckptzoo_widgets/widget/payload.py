"""What the browser's kernel side sends the page: JSON-safe, bounded payloads.

Cards of the grid, the sparkline of a card, the open model's detail (with its
logged training curves, thinned), and the one-line message of an error. Every value is converted to plain JSON types
(numpy and pandas scalars, NaN, dates) and bounded in size, so one hostile
entry cannot make the widget state large (docs/security.md).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

from .. import pickle_verdicts
from ..credentials import presentable
from ..downsample import MAX_DRAWN_POINTS, curve_points, downsample
from ..errors import ZooError
from ..metrics import axis_x, checkpoint_axis
from ..safety import render_markdown
from ..text import one_line
from ..weights.duplicates import known_duplicates

log = logging.getLogger(__name__)

MAX_CARD_CHARS = 100_000  # markdown rendered for one model card
MAX_CURVES = 100  # logged curves of one model sent to the page (the rest are counted)
MAX_CURVE_BUDGET = 10_000  # points of all of one model's curves together (at most about 200 KB of JSON)
MIN_CURVE_POINTS = 100  # a curve is never thinner than this, however many there are
SPARK_POINTS = 32  # a card's sparkline of a logged curve (96 pixels wide)
MAX_DUPLICATES = 100  # repeated checkpoints listed in the detail payload (the rest are counted)
MAX_DETAIL_CHECKPOINTS = 500  # checkpoints of the open model sent to the page (about 80 KB of JSON)


def plain(value: Any) -> Any:
    """A JSON-safe copy: numpy scalars to Python, NaN/NaT to None, dates to ISO text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    # numpy / pandas scalars
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        try:
            return None if str(value) == "NaT" else isoformat()
        except (TypeError, ValueError):
            pass
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)


def clip(value: Any, text: int = 1000, items: int = 100) -> Any:
    """Bound what one value can put in the widget state: long strings and lists are cut."""
    if isinstance(value, str):
        return value if len(value) <= text else value[: text - 1] + "…"
    if isinstance(value, list):
        return [clip(v, text, items) for v in value[:items]]
    if isinstance(value, dict):
        return {clip(k, 200): clip(v, text, items) for k, v in list(value.items())[:items]}
    return value


def error_line(exc: BaseException) -> str:
    """One bounded line a user can act on; ZooError already carries one."""
    if isinstance(exc, ZooError):
        return one_line(presentable(exc), 500) or "the zoo reported an error"
    text = presentable(exc).strip()
    text = one_line(text.splitlines()[0], 500) if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def card_payload(row: dict, zoo: Any, sort: str) -> dict:
    """One card of the grid: the fields a card shows, bounded, JSON-safe."""
    card = {
        key: clip(plain(row.get(key)), 300)
        for key in (
            "id",
            "name",
            "task",
            "library",
            "license",
            "num_params",
            "headline_metric",
            "headline_value",
            "num_checkpoints",
            "created",
            "source",
            "match",  # where the query matched: id, name, tag or card (catalog's relevance search)
            "snippet",  # plain text around a card-only match
        )
    }
    if not card.get("name"):
        card["name"] = card["id"]
    key = sort.lstrip("-")
    if key and key in row and key not in ("name", "num_params", "created", card.get("headline_metric")):
        card["sort_value"] = clip(plain(row.get(key)), 300)  # a value the card does not show already
    # A live source's row is not opened for its sparkline (that would be requests per card):
    # its checkpoints are unknown (None) until the user opens it.
    opened = card.get("num_checkpoints") is not None
    card["spark"] = spark_points(zoo, card["id"], card.get("headline_metric")) if opened else []
    return card


def spark_points(zoo: Any, model_id: Any, metric: Any) -> list:
    """The headline metric across training, [[x, y], ...]; [] with fewer than two.

    The curve the run logged when it has one (thinned to `SPARK_POINTS`, spikes kept),
    else the values at its checkpoints.
    """
    if not model_id or not metric:
        return []
    try:
        entry = zoo.model(model_id)
    except Exception:  # noqa: BLE001 - a card without a sparkline is fine
        return []
    logged = (getattr(entry, "curves", None) or {}).get(metric)
    if isinstance(logged, list):
        line = curve_points(logged, SPARK_POINTS)
        if len(line) >= 2:
            return line
    points = []
    axis = checkpoint_axis(entry.checkpoints)  # the model's chart axis (metrics.py), as in its detail
    for i, ckpt in enumerate(entry.checkpoints):
        y = (ckpt.metrics or {}).get(metric)
        x = axis_x(ckpt, i, axis)
        if x is not None and isinstance(y, (int, float)) and math.isfinite(y):
            points.append([plain(x), float(y)])
    if len(points) > SPARK_POINTS:  # 20,000 checkpoints: 32 points, each stretch's lowest and highest kept
        points = [points[i] for i, _ in downsample(((i, p[1]) for i, p in enumerate(points)), SPARK_POINTS)]
    return points if len(points) >= 2 else []


def curves_payload(curves: Any) -> tuple[list[dict], int]:
    """A model's logged curves, each thinned so all of them stay within `MAX_CURVE_BUDGET` points.

    Returns ``([{"metric", "points", "logged"}, ...], how many curves were left out)``;
    names are plain text (the page sets them as text), a name longer than 200 characters is left out.
    """
    if not isinstance(curves, dict):
        return [], 0
    named = [(k, v) for k, v in curves.items() if isinstance(k, str) and 0 < len(k) <= 200 and isinstance(v, list)]
    kept = named[:MAX_CURVES]
    limit = min(MAX_DRAWN_POINTS, max(MIN_CURVE_POINTS, MAX_CURVE_BUDGET // max(1, len(kept))))
    out = []
    for name, points in kept:
        drawn = curve_points(points, limit)
        if drawn:
            out.append({"metric": name, "points": drawn, "logged": len(points)})
    return out, len(curves) - len(kept)


def shown_checkpoints(
    checkpoints: Sequence[Any], keep: Iterable[str] = (), limit: int = MAX_DETAIL_CHECKPOINTS
) -> list[int]:
    """Positions of the checkpoints a detail payload sends: all of them up to `limit`, else
    `limit` spread evenly from the first to the last (the chart keeps the whole run), the
    checkpoints named in `keep` (the default, the selected one) always among them. Linear."""
    count = len(checkpoints)
    if count <= limit:
        return list(range(count))
    wanted = set(keep)
    kept = {i for i, c in enumerate(checkpoints) if c.name in wanted} if wanted else set()
    room = max(limit - len(kept), 2)
    kept.update(round(i * (count - 1) / (room - 1)) for i in range(room))
    return sorted(kept)


META_KEYS = (
    "id",
    "task",
    "library",
    "framework",
    "architecture",
    "license",
    "datasets",
    "tags",
    "num_params",
    "base_model",
    "repo",
    "created",
    "updated",
    "source",
)


def detail_payload(entry: Any, keep: Iterable[str] = ()) -> dict:
    """The open model: sanitised card HTML, metadata rows, checkpoints; bounded, JSON-safe.

    At most `MAX_DETAIL_CHECKPOINTS` checkpoints are sent (`shown_checkpoints`: spread over
    the run, the default and those named in `keep` among them); ``num_checkpoints`` says how
    many the model has, so the page can say "500 of 20,000"."""

    default_name = entry.default_checkpoint or (entry.checkpoints[-1].name if entry.checkpoints else None)
    chosen = shown_checkpoints(entry.checkpoints, [*keep, *([default_name] if default_name else [])])
    repeats = known_duplicates(entry)  # the same weights under another name, known without a request
    identical_to = {d.checkpoint: d.same_as for d in repeats}
    ckpts = [_checkpoint_row(entry.checkpoints[i], identical_to) for i in chosen]
    curves, curves_left_out = curves_payload(getattr(entry, "curves", None))
    return {
        "id": entry.id,
        "name": clip(entry.name or entry.id, 300),
        "task": clip(plain(entry.task), 300),
        "library": clip(plain(entry.library), 300),
        "license": clip(plain(entry.license), 300),
        "headline_metric": clip(plain(entry.headline_metric), 300),
        "default_checkpoint": default_name,
        "card_html": _card_html(entry),
        "metadata": _metadata(entry),
        "checkpoints": ckpts,
        "num_checkpoints": len(entry.checkpoints),  # more than len(checkpoints) when the list was cut
        "curves": curves,  # logged training curves (TensorBoard, MLflow), thinned: the chart's lines
        "curves_left_out": curves_left_out,
        # "step 98000 is identical to main": the same files (sha256) or every tensor unchanged
        "duplicates": [clip(d.as_dict(), 300) for d in repeats[:MAX_DUPLICATES]],
        "num_duplicates": len(repeats),
    }


def _checkpoint_row(c: Any, identical_to: dict[str, str]) -> dict[str, Any]:
    """One row of the detail's checkpoint table: bounded, JSON-safe."""
    sizes = [f.size for f in c.files]
    formats = []
    for f in c.files:
        fmt = plain(getattr(f, "format", None))
        if fmt and fmt not in formats:
            formats.append(fmt)
    return {
        "name": clip(c.name, 300),
        "step": plain(c.step),
        "epoch": plain(c.epoch),
        "date": plain(c.date),
        "metrics": clip(plain(dict(c.metrics or {})), 300),
        "size": sum(sizes) if sizes and all(s is not None for s in sizes) else None,
        "format": clip(", ".join(map(str, formats[:10])), 200),
        "revision": clip(plain(getattr(c, "revision", None)), 300),
        "pickle_warning": clip(pickle_verdicts.checkpoint_warning(c), 300),  # None: not marked
        "identical_to": clip(identical_to.get(c.name), 300),  # None: not known to repeat another
    }


def _card_html(entry: Any) -> str:
    """The model card as sanitised HTML, cut at `MAX_CARD_CHARS`; empty when it does not render."""
    try:
        text = entry.description or ""
        if len(text) > MAX_CARD_CHARS:
            text = text[:MAX_CARD_CHARS] + "\n\n*(model card cut at 100,000 characters)*"
        return render_markdown(text)
    except Exception as exc:  # noqa: BLE001 - a card that does not render is shown as missing
        log.debug("card rendering failed", exc_info=exc)
        return ""


def _metadata(entry: Any) -> list[list[Any]]:
    """The detail's metadata rows (`META_KEYS`, then at most 100 model-level metrics), each `[key, value]`."""
    metadata = []
    for key in META_KEYS:
        value = getattr(entry, key, None)
        if key == "source" and not value:
            value = getattr(entry, "_source", None)
        metadata.append([key, clip(plain(value))])
    for name, value in list((entry.metrics or {}).items())[:100]:
        metadata.append([clip(name, 200), clip(plain(value))])
    return metadata


def source_label(source: Any, zoo: Any) -> str:
    """The name of the source shown in the widget's header: presentable (no ``user:pw@``,
    no secret parameter's value), so never a secret in synced state or the saved view."""
    return presentable(_source_name(source, zoo))


def _source_name(source: Any, zoo: Any) -> str:
    if zoo is not None and source is zoo:
        for attr in ("source", "sources", "name"):
            value = getattr(zoo, attr, None)
            if value:
                return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        return "zoo"
    if source is None:
        return "builtin"
    if isinstance(source, (list, tuple)):
        return ", ".join(map(str, source))
    return str(source)
