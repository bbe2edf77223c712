"""What changed between checkpoints: per-tensor statistics read in place, and grids that can be trusted.

    import ckptzoo_widgets as cz
    cz.weight_changes("digits-mlp", metric="relative")        # tidy: tensor, checkpoint, step, value
    cz.weight_changes("digits-mlp", against="start").plot()
    cz.compare_weights("digits-mlp@epoch-1", "digits-mlp@epoch-30")
    cz.tensor_stats("digits-mlp@epoch-5")                      # norm, mean, std per tensor
    zoo.duplicates("digits-mlp")                               # byte-identical checkpoints

Safetensors files are read in place (a local path, http(s), object storage, the
Hub's resolve URLs): the header with one ranged read, then only the tensors asked
for, within a byte budget per checkpoint file (plan.py: larger tensors sampled by a
deterministic rule and marked `sampled`). Results are recorded per file sha256
(records.py), so a grid is computed once. docs/weights.md explains each number
and its cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .duplicates import Duplicate, duplicates, known_duplicates
from .files import checkpoint_files
from .frame import WeightFrame
from .measure import Checkpoint, Progress, Result, measure
from .ranges import WeightsError

CHANGE_METRICS = ("relative", "cosine", "distance")
STAT_METRICS = ("norm", "mean", "std")
AGAINST = ("previous", "start")

__all__ = [
    "AGAINST",
    "CHANGE_METRICS",
    "STAT_METRICS",
    "Duplicate",
    "WeightFrame",
    "WeightsError",
    "compare_weights",
    "duplicates",
    "known_duplicates",
    "tensor_stats",
    "weight_changes",
]


def _zoo(zoo: Any) -> Any:
    from ..catalog import Zoo, open_zoo

    return zoo if isinstance(zoo, Zoo) else open_zoo(zoo)


def _checkpoint(model: Any, checkpoint: Any) -> Checkpoint:
    return Checkpoint(f"{checkpoint.name}", checkpoint_files(model, checkpoint), checkpoint.step)


def _attrs(frame: WeightFrame, result: Result, **more: Any) -> WeightFrame:
    frame.attrs.update(
        {"cost": result.cost.as_dict(), "skipped_tensors": list(result.skipped), "complete": result.complete, **more}
    )
    return frame


def tensor_stats(
    ref: str, zoo: Any = None, *, tensors: str | Sequence[str] | None = None, budget: int | None = None
) -> WeightFrame:
    """Per tensor of one checkpoint: dtype, shape, numel, norm, mean, std, sampled (one row a tensor).

    `tensors`: a regular expression searched in tensor names, or a list of exact names (all by default);
    `budget`: tensor bytes read at most (`decode.WEIGHTS_READ_BYTES` by default; larger tensors sampled)."""
    model, checkpoint = _zoo(zoo).resolve(ref)
    result = measure([_checkpoint(model, checkpoint)], [], tensors=tensors, budget=budget)
    rows = []
    for info in result.tensors:
        s = result.stats.get((0, info.name))
        rows.append(
            {
                "tensor": info.name,
                "dtype": info.dtype,
                "shape": info.shape,
                "numel": info.numel,
                "norm": s.norm if s else float("nan"),
                "mean": s.mean if s else float("nan"),
                "std": s.std if s else float("nan"),
                "sampled": bool(s and s.sampled),
            }
        )
    return _attrs(WeightFrame(rows), result, ref=f"{model.id}@{checkpoint.name}")


def compare_weights(
    ref_a: str,
    ref_b: str,
    zoo: Any = None,
    *,
    tensors: str | Sequence[str] | None = None,
    budget: int | None = None,
) -> WeightFrame:
    """Per tensor, from checkpoint a to checkpoint b: relative change ||b - a|| / ||a||, cosine similarity,
    distance ||b - a||, both norms, whether the bytes are identical, whether it was sampled."""
    opened = _zoo(zoo)
    model_a, ckpt_a = opened.resolve(ref_a)
    model_b, ckpt_b = opened.resolve(ref_b)
    result = measure(
        [_checkpoint(model_a, ckpt_a), _checkpoint(model_b, ckpt_b)], [(0, 1)], tensors=tensors, budget=budget
    )
    rows = []
    nan = float("nan")
    for info in result.tensors:
        change = result.changes.get((0, 1, info.name))
        sa, sb = result.stats.get((0, info.name)), result.stats.get((1, info.name))
        rows.append(
            {
                "tensor": info.name,
                "relative": change.relative if change else nan,
                "cosine": change.cosine if change else nan,
                "distance": change.distance if change else nan,
                "norm_a": sa.norm if sa else nan,
                "norm_b": sb.norm if sb else nan,
                "identical": bool(change and change.identical and not change.sampled),
                "sampled": bool(change.sampled if change else sa and sa.sampled),
            }
        )
    return _attrs(WeightFrame(rows), result, a=f"{model_a.id}@{ckpt_a.name}", b=f"{model_b.id}@{ckpt_b.name}")


def _rows(result: Result, located: list[Checkpoint], metric: str, against: str) -> list[tuple[Any, ...]]:
    """(tensor, checkpoint, step, value, sampled) for each measured tensor of each checkpoint: the
    statistic, or the change against the previous or the first checkpoint (none for the first)."""
    rows = []
    for info in result.tensors:
        for index, c in enumerate(located):
            if metric in STAT_METRICS:
                s = result.stats.get((index, info.name))
                if s is not None:
                    rows.append((info.name, c.name, c.step, getattr(s, metric), s.sampled))
            elif index:
                ref = index - 1 if against == "previous" else 0
                change = result.changes.get((ref, index, info.name))
                if change is not None:
                    rows.append((info.name, c.name, c.step, getattr(change, metric), change.sampled))
    return rows


def weight_changes(
    model: str,
    zoo: Any = None,
    *,
    metric: str = "relative",
    against: str = "previous",
    tensors: str | Sequence[str] | None = None,
    checkpoints: Sequence[str] | None = None,
    budget: int | None = None,
    progress: Progress | None = None,
) -> WeightFrame:
    """A model's weights across its checkpoints, tidy: one row per (tensor, checkpoint) with `value`.

    `metric`: "relative" (||W_t - W_ref|| / ||W_ref||), "cosine", "distance" (||W_t - W_ref||), measured
    `against` the "previous" checkpoint or the "start" (the first one); or "norm", "mean", "std" of each
    checkpoint's own tensors. `checkpoints` limits the columns (in the model's order). `.plot()` draws one
    line per tensor; `.wide()` is the tensor x checkpoint table. `.attrs["cost"]` says what was read.
    """
    if metric not in CHANGE_METRICS + STAT_METRICS:
        raise WeightsError(f"metric {metric!r}: one of {', '.join(CHANGE_METRICS + STAT_METRICS)}")
    if against not in AGAINST:
        raise WeightsError(f"against {against!r}: 'previous' or 'start'")
    opened = _zoo(zoo)
    entry = opened.model(model)
    chosen = list(entry.checkpoints)
    if checkpoints is not None:
        wanted = set(checkpoints)
        unknown = wanted - {c.name for c in chosen}
        if unknown:
            raise WeightsError(f"{entry.id} has no checkpoint {sorted(unknown)[0]!r}")
        chosen = [c for c in chosen if c.name in wanted]
    located = [_checkpoint(entry, c) for c in chosen]
    without = [c.name for c in located if not c.files]
    located = [c for c in located if c.files]
    if not located:
        raise WeightsError(f"{entry.id}: no checkpoint has a safetensors (or scanned pickle) file")
    if metric in CHANGE_METRICS:
        pairs = [(i - 1 if against == "previous" else 0, i) for i in range(1, len(located))]
    else:
        pairs = []
    result = measure(located, pairs, tensors=tensors, budget=budget, progress=progress)
    names = [c.name for c in located]
    rows = _rows(result, located, metric, against)
    frame = WeightFrame(pd.DataFrame(rows, columns=["tensor", "checkpoint", "step", "value", "sampled"]))
    frame["tensor"] = pd.Categorical(frame["tensor"], categories=[t.name for t in result.tensors], ordered=True)
    frame["checkpoint"] = pd.Categorical(frame["checkpoint"], categories=names, ordered=True)
    frame["step"] = frame["step"].astype("Int64")
    return _attrs(
        frame,
        result,
        model=entry.id,
        metric=metric,
        against=against,
        checkpoints=names,
        checkpoints_without_weights=without,
        sampled_tensors=[t.name for t in result.tensors if result.plans[t.name].sampled],
    )
