"""Logged training curves made small enough to store and draw, with their spikes kept.

A run can log a metric at every step (100,000 points); a chart 400 pixels wide
needs a few hundred. `downsample` cuts a curve into equal buckets of points and
keeps the lowest and the highest point of each (in step order), plus the first
and last point, so a loss spike or the best validation value is still on the
line after thinning (an evenly spaced sample would step over it).

Used where a curve enters an index (`sources/tensorboard.py`, MLflow) and where
the kernel sends one to the page (`curve_points`: for `widget/payload.py` and `curves.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["MAX_DRAWN_POINTS", "curve_points", "downsample", "finite_points", "short_float"]

MAX_DRAWN_POINTS = 500  # per curve sent to the page


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def finite_points(points: Iterable[Any]) -> list[tuple[int, float]]:
    """`(step, value)` pairs with a whole step >= 0 and a finite value, sorted by step (a later duplicate wins)."""
    by_step: dict[int, float] = {}
    for point in points or ():
        if not isinstance(point, (list, tuple)) or len(point) < 2:
            continue
        step, value = point[0], point[1]
        if type(step) is int and type(value) is float:  # the usual pair, checked fast
            if step >= 0 and value - value == 0:  # False for NaN and the infinities
                by_step[step] = value
            continue
        if not (_number(step) and _number(value)):
            continue
        step_f, value_f = float(step), float(value)
        if not (math.isfinite(step_f) and math.isfinite(value_f)) or step_f < 0 or step_f != int(step_f):
            continue
        by_step[int(step_f)] = value_f
    return sorted(by_step.items())


def downsample(points: Iterable[Any], limit: int = MAX_DRAWN_POINTS) -> list[tuple[int, float]]:
    """At most `limit` points of a curve: first, last, and each bucket's minimum and maximum.

    Non-finite values, negative or fractional steps and malformed pairs are dropped first.
    """
    clean = finite_points(points)
    limit = max(2, int(limit))
    if len(clean) <= limit:
        return clean
    values = np.fromiter((v for _, v in clean), dtype=float, count=len(clean))
    inner = len(clean) - 2
    buckets = (limit - 2) // 2  # each gives its lowest and highest point
    if buckets == 0:
        return [clean[0], clean[-1]]
    edges = np.linspace(1, inner + 1, buckets + 1).astype(int)
    keep = [0]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        chunk = values[lo:hi]
        pair = sorted({lo + int(np.argmin(chunk)), lo + int(np.argmax(chunk))})
        keep.extend(pair)
    keep.append(len(clean) - 1)
    return [clean[i] for i in keep]


def short_float(value: float) -> float:
    """Six significant digits: what a chart can show, at a third of the JSON bytes of a full float."""
    return float(f"{value:.6g}")


def curve_points(points: Any, limit: int = MAX_DRAWN_POINTS) -> list[list[float]]:
    """One logged curve for the page: finite numbers only, at most `limit` points, spikes kept."""
    return [[step, short_float(value)] for step, value in downsample(points, limit)]
