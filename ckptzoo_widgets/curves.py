"""Compare training curves: one metric, several models, the best checkpoint of each.

    import ckptzoo_widgets as cz
    view = cz.compare(["digits-mlp", "digits-cnn"])              # the built-in zoo, a shared metric
    view = cz.compare(["EleutherAI/pythia-v1.1-70m", "EleutherAI/pythia-v1.1-160m"],
                      metric="lambada_openai.acc", zoo="path/to/pythia-evals")
    view.table      # one row per model: its best checkpoint and the last one
    view.curves     # one row per (model, checkpoint): the values on the chart

`comparison()` builds the data (pandas tables) and `payload()` its JSON for the
page; `widget/compare_view.py` holds `CompareView`, the anywidget that draws it
(reusing the browser's bundle), and the answer `ZooBrowser` sends when the user
ticks cards and presses Compare. This module imports no view: only the
page's limits from `widget/contract.py`, their one owner.

A metric a model logged as a curve (TensorBoard, MLflow: `ModelEntry.curves`)
may be compared too: the curve, thinned (`downsample.py`), is drawn as that
model's line, its checkpoints as dots on it.

Best checkpoint: the highest value, or the lowest for a lower-is-better metric
(`metrics.lower_is_better`: losses, errors, perplexities, error rates, bits per
byte, decided on the name's words); ties go to the earliest checkpoint, so
"where validation stops improving" is where the best value is first reached.
The x axis: `metrics.checkpoint_axis` of each model, the coarsest of them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import metrics
from .downsample import curve_points
from .errors import ZooError
from .metrics import Axis, Goal, axis_x, best_point, checkpoint_axis, common_axis, rule_text
from .widget.contract import MAX_COMPARE, MAX_TEXT

__all__ = ["MAX_MODELS", "Comparison", "comparison", "metric_goal", "payload"]

MAX_MODELS = MAX_COMPARE
metric_goal = metrics.goal  # "min" for a lower-is-better metric name (one rule: metrics.py)


@dataclass(frozen=True)
class Comparison:
    """The data of a comparison: curves and the best checkpoint of each model."""

    models: list[str]
    names: dict[str, str]
    metric: str
    metrics: list[str]  # the metrics every model has, the ones the metric menu offers
    goal: Goal
    axis: str  # "step", "epoch" or "checkpoint" (the order of the checkpoints)
    curves: pd.DataFrame  # model, checkpoint, <axis>, value
    table: pd.DataFrame  # one row per model
    logged: dict[str, list[list[float]]] = field(default_factory=dict)  # model -> its logged curve, thinned

    @property
    def rule(self) -> str:
        return f"best = {'lowest' if self.goal == 'min' else 'highest'} {self.metric} ({rule_text(self.goal)})"


def _numeric(value: Any) -> bool:
    return best_point([(0, value)], "max") is not None


def _model_metrics(model: Any) -> set[str]:
    """The metrics a model has at its checkpoints or as a logged curve (TensorBoard, MLflow)."""
    at_checkpoints = {k for c in model.checkpoints for k, v in (c.metrics or {}).items() if _numeric(v)}
    return at_checkpoints | {k for k, v in (getattr(model, "curves", None) or {}).items() if v}


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def _resolve(zoo: Any, name: str) -> Any:
    """A model by id, or by the last part of its id when exactly one model has it; else a ZooError.

    Only the catalog's public API (``in``, ``model``, ``search``), so a zoo of millions stays fast.
    """
    if not isinstance(name, str) or not name:
        raise ZooError(f"a model id must be a non-empty string, not {name!r}")
    try:
        return zoo.model(name)
    except ZooError as exc:
        unknown = exc
    wanted = _tokens(name[:200])
    # ids holding every word of the name: "pythia-70m" finds "EleutherAI/pythia-70m", "EleutherAI/pythia-v1.1-70m"
    found = zoo.search(" ".join(sorted(wanted)), limit=50) if wanted else None
    hits = [i for i in (found["id"] if found is not None else []) if wanted <= _tokens(i)]
    tails = [i for i in hits if i.rsplit("/", 1)[-1] == name]
    if len(tails) == 1:
        return zoo.model(tails[0])
    if hits and "did you mean" not in str(unknown):
        raise ZooError(f"{unknown}; did you mean {', '.join(hits[:4])}?") from None
    raise unknown from None


def _pick_metric(metric: str | None, shared: list[str], models: list[Any]) -> str:
    if metric is None:
        for model in models:
            headline = model.headline[0] if model.headline else None
            if headline in shared:
                return headline
        validation = [m for m in shared if re.search(r"(^|[._/-])(val|eval|valid|validation)", m)]
        return (validation or shared)[0]
    if not isinstance(metric, str) or len(metric) > MAX_TEXT:
        raise ZooError(f"a metric is a name of at most {MAX_TEXT} characters")
    if metric in shared:
        return metric
    for alias in (metric.replace("/", "."), metric.replace(".", "/")):
        if alias in shared:
            return alias
    close = difflib.get_close_matches(metric, shared, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listed = ", ".join(shared[:12]) + (f", … ({len(shared)} in all)" if len(shared) > 12 else "")
    raise ZooError(f"metric {metric[:200]!r} is not shared by these models{hint} (shared: {listed})")


def _points(entry: Any, metric: str, axis: Axis) -> list[tuple[Any, float, str, int]]:
    """A model's ``(x, value, checkpoint, position)`` of `metric` on `axis`, in axis order."""
    points = []
    for i, ckpt in enumerate(entry.checkpoints):
        value = (ckpt.metrics or {}).get(metric)
        x = axis_x(ckpt, i, axis)
        if value is not None and _numeric(value) and x is not None:
            points.append((x, float(value), ckpt.name, i))
    return sorted(points, key=lambda p: (p[0], p[3]))


def _best_row(model: str, points: list[tuple[Any, float, str, int]], rule: Goal, axis: Axis) -> dict | None:
    """The table's row of one model: its best checkpoint (ties: the earliest) and its last."""
    best = best_point(points, rule)
    if best is None:
        return None
    last = points[-1]
    return {
        "model": model,
        "best_checkpoint": best[2],
        f"best_{axis}": best[0],
        "best_value": best[1],
        "last_checkpoint": last[2],
        "last_value": last[1],
        "checkpoints_after_best": sum(1 for p in points if p[0] > best[0]),
        "rule": rule_text(rule),
    }


def _shared_metrics(entries: list[Any]) -> list[str]:
    """The metrics every model has: the models' headline metrics first, the rest by name; ZooError when none."""
    per_model = [_model_metrics(e) for e in entries]
    shared_set = set.intersection(*per_model) if per_model else set()
    if not shared_set:
        have = "; ".join(
            f"{e.id}: {', '.join(sorted(m)[:6]) or 'no metrics'}" for e, m in zip(entries, per_model, strict=True)
        )
        raise ZooError(f"these models share no metric to compare ({have})")
    headlines = [e.headline[0] for e in entries if e.headline and e.headline[0] in shared_set]
    shared = list(dict.fromkeys(headlines)) + sorted(shared_set - set(headlines), key=str.lower)
    return shared


def comparison(zoo: Any, models: Sequence[str], metric: str | None = None, *, goal: Goal | None = None) -> Comparison:
    """Curves of one metric for several models of `zoo`, and each model's best checkpoint.

    `metric` defaults to a metric every model has (the first model's headline
    metric when shared). `goal` ("max" / "min") overrides the rule that takes
    loss-like names as lower-is-better. Raises ZooError for an unknown model
    (with "did you mean"), no shared metric, or a metric not shared.
    """
    if isinstance(models, str):
        models = [models]
    ids = list(dict.fromkeys(models or []))
    if not ids:
        raise ZooError("compare needs at least one model id, e.g. ['digits-mlp', 'digits-cnn']")
    if len(ids) > MAX_MODELS:
        raise ZooError(f"compare draws at most {MAX_MODELS} models at once; {len(ids)} were given")
    entries = [_resolve(zoo, i) for i in ids]
    entries = list({e.id: e for e in entries}.values())
    shared = _shared_metrics(entries)
    chosen = _pick_metric(metric, shared, entries)
    if goal not in (None, "max", "min"):
        raise ZooError(f"goal must be 'max' or 'min', not {goal!r}")
    rule: Goal = goal or metric_goal(chosen)
    axis = common_axis(
        checkpoint_axis(e.checkpoints, logged=bool((getattr(e, "curves", None) or {}).get(chosen))) for e in entries
    )

    rows, best_rows = [], []
    logged: dict[str, list[list[float]]] = {}
    for entry in entries:
        curve = (getattr(entry, "curves", None) or {}).get(chosen)
        if curve and axis == "step":  # a logged curve is per step: drawn as the model's line
            logged[entry.id] = curve_points(curve)
        points = _points(entry, chosen, axis)
        rows += [{"model": entry.id, "checkpoint": n, axis: x, "value": v} for x, v, n, _ in points]
        best = _best_row(entry.id, points, rule, axis)
        if best is not None:
            best_rows.append(best)
    curves = pd.DataFrame(rows, columns=["model", "checkpoint", axis, "value"])
    columns = ["model", "best_checkpoint", f"best_{axis}", "best_value", "last_checkpoint", "last_value"]
    table = pd.DataFrame(best_rows, columns=[*columns, "checkpoints_after_best", "rule"])
    return Comparison(
        models=[e.id for e in entries],
        names={e.id: e.display_name for e in entries},
        metric=chosen,
        metrics=shared,
        goal=rule,
        axis=axis,
        curves=curves,
        table=table,
        logged=logged,
    )


def payload(result: Comparison) -> dict[str, Any]:
    """What the front end draws: JSON-safe, every string plain text (the browser sets it as text)."""
    series = []
    for model in result.models:
        part = result.curves[result.curves["model"] == model]
        one: dict[str, Any] = {
            "id": model,
            "label": result.names.get(model) or model,
            "points": [
                [float(x), float(v), str(n)]
                for x, v, n in zip(part[result.axis], part["value"], part["checkpoint"], strict=True)
            ],
        }
        if model in result.logged:
            one["line"] = result.logged[model]  # the logged curve; the points are its checkpoints
        row = result.table[result.table["model"] == model]
        if len(row):  # the kernel's best and last checkpoint: the page marks them, it never ranks
            r = row.iloc[0]
            one["best"] = {
                "checkpoint": str(r["best_checkpoint"]),
                "x": float(r[f"best_{result.axis}"]),
                "value": float(r["best_value"]),
            }
            one["last"] = {"checkpoint": str(r["last_checkpoint"]), "value": float(r["last_value"])}
        series.append(one)
    return {
        "metric": result.metric,
        "metrics": list(result.metrics),
        "goal": result.goal,
        "rule": result.rule,
        "axis": result.axis,
        "series": series,
    }
