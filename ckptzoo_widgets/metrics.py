"""What a metric name means: the one owner of every rule about metrics.

Used by the readers (which metric a run shows first), by `cz.compare` (which
checkpoint is best) and by the widget's contract (`widget/contract.py`: the
sort menu, the checkpoint table's order, the chart's axis). The page never
guesses any of these from a name; it reads the kernel's answer.

- `lower_is_better(name)`: losses, errors, perplexities, word/character error
  rates, bits per byte, standard errors, times. Decided on the name's *words*
  (split at ``_ . / - @`` and at camelCase), never on substrings: ``answer_f1``
  and ``power_score`` hold the letters ``wer`` and are still higher-is-better.
- `goal(name)`: ``"min"`` or ``"max"``.
- `headline_metric(names)`: the metric a card shows first.
- `checkpoint_axis(checkpoints, logged=...)` and `axis_x`: the x axis of a
  model's chart and each checkpoint's place on it.
- `best_point(points, goal)`: the best of ``(x, value, name)`` points; ties go
  to the earliest x (where the curve first reaches its best).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

Goal = Literal["max", "min"]
Axis = Literal["step", "epoch", "checkpoint"]

# Whole words of a metric name that make it lower-is-better.
LOWER_WORDS = frozenset(
    {
        "loss",
        "losses",
        "error",
        "errors",
        "err",
        "stderr",  # lm-eval's standard error of a metric: a tighter estimate is better
        "perplexity",
        "ppl",
        "nll",
        "mse",
        "rmse",
        "mae",
        "mape",
        "msle",
        "wer",  # word error rate
        "cer",  # character error rate
        "ter",
        "bits",  # bits_per_byte, bits_per_char
        "bpb",
        "bpc",
        "fid",
        "distance",
        "latency",
        "time",
        "runtime",
    }
)
# A word ending in one of these is lower-is-better too: "logloss", "top1error".
LOWER_SUFFIXES = ("loss", "error")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def words(name: str) -> list[str]:
    """The words of a metric name: ``"eval/valLoss@224"`` -> ``["eval", "val", "loss", "224"]``."""
    return [w for w in _SPLIT.split(_CAMEL.sub(" ", str(name)).lower()) if w]


def lower_is_better(name: str) -> bool:
    """True for losses, errors, perplexities, error rates, bits per byte, times (decided on whole words)."""
    return any(w in LOWER_WORDS or w.endswith(LOWER_SUFFIXES) for w in words(name))


def goal(name: str) -> Goal:
    """ "min" for a lower-is-better metric, "max" for every other (accuracy, F1, BLEU, ...)."""
    return "min" if lower_is_better(name) else "max"


def rule_text(which: Goal) -> str:
    return "lower is better" if which == "min" else "higher is better"


# ---- the headline metric ------------------------------------------------------
HEADLINE_PREFERENCE = (
    "eval_accuracy",
    "eval_f1",
    "eval_loss",
    "val_acc",
    "val_accuracy",
    "val_loss",
    "lambada_openai.acc",
    "piqa.acc",
    "arc_easy.acc",
    "top1",
    "loss",
)
NOT_HEADLINE = frozenset({"learning_rate", "lr", "epoch", "step", "global_step", "grad_norm"})
_HELD_OUT = frozenset({"val", "valid", "validation", "eval", "test"})


def _accuracy_like(ws: list[str]) -> bool:
    return any(w.startswith("acc") for w in ws)


def headline_metric(names: Iterable[Any]) -> str | None:
    """The metric a card shows first, of a model's metric names (a dict gives its keys).

    A known name first (`HEADLINE_PREFERENCE`), then in alphabetical order a held-out
    accuracy, any accuracy, a held-out loss, any loss; else the first name given that is
    not a training setting (learning rate, epoch, step). None without names.
    """
    given = [n for n in names if isinstance(n, str) and n and n not in NOT_HEADLINE]
    present = set(given)
    for name in HEADLINE_PREFERENCE:
        if name in present:
            return name
    ordered = sorted(present)
    tiers = (
        lambda ws: bool(_HELD_OUT & set(ws)) and _accuracy_like(ws) and "stderr" not in ws,
        lambda ws: _accuracy_like(ws) and "stderr" not in ws,
        lambda ws: bool(_HELD_OUT & set(ws)) and "loss" in ws,
        lambda ws: "loss" in ws,
    )
    for test in tiers:
        found = [n for n in ordered if test(words(n))]
        if found:
            return found[0]
    return given[0] if given else None


# ---- the chart's axis and the best checkpoint ------------------------------------
AXIS_LABELS: dict[str, str] = {"step": "Step", "epoch": "Epoch", "checkpoint": "Checkpoint order"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def checkpoint_axis(checkpoints: Sequence[Any], *, logged: bool = False) -> Axis:
    """The x axis of a model's chart: "step" when every checkpoint has a step (or the model
    logged curves, which are per step), else "epoch" when every checkpoint has an epoch,
    else "checkpoint" (their order)."""
    ckpts = list(checkpoints)
    if logged or (ckpts and all(_number(getattr(c, "step", None)) for c in ckpts)):
        return "step"
    if ckpts and all(_number(getattr(c, "epoch", None)) for c in ckpts):
        return "epoch"
    return "checkpoint"


def common_axis(axes: Iterable[Axis]) -> Axis:
    """One axis for several models' charts drawn together: the coarsest of theirs."""
    seen = set(axes)
    if not seen or "checkpoint" in seen:
        return "checkpoint"
    return "epoch" if "epoch" in seen else "step"


def axis_x(checkpoint: Any, index: int, axis: Axis) -> float | None:
    """A checkpoint's place on `axis` (for "checkpoint", its position in the list: 1 for the first);
    None when it has none."""
    if axis == "checkpoint":
        return index + 1
    value = getattr(checkpoint, axis, None)
    return value if _number(value) else None


def best_point(points: Iterable[Sequence[Any]], which: Goal) -> Sequence[Any] | None:
    """The best of ``(x, value, ...)`` points: the highest value for "max", the lowest for "min";
    ties go to the earliest x. Points without a finite x and value are skipped."""
    usable = sorted((p for p in points if len(p) >= 2 and _number(p[0]) and _number(p[1])), key=lambda p: p[0])
    best: Sequence[Any] | None = None
    for p in usable:
        if best is None or (p[1] < best[1] if which == "min" else p[1] > best[1]):
            best = p
    return best
