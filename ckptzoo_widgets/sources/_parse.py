"""Small parsers every reader shares: numbers, steps and epochs.

Each reader used to carry its own `_number`, with three different ideas of
what a number is; this is the one place.
"""

from __future__ import annotations

import math
import re
from typing import Any

STEP = re.compile(r"(?:^|[^a-z])(?:global_step|step|steps|iter|iteration|checkpoint|ckpt)[=_-]?(\d+)", re.I)
EPOCH = re.compile(r"(?:^|[^a-z])(?:epoch|ep)[=_-]?(\d+(?:\.\d+)?)", re.I)
MAX_STEP_DIGITS = 15  # below 2**53: what int64 columns and the browser hold exactly


def number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric text (`"1,014.45"`, `"91.2%"`); None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%").replace(",", "").replace("_", "")
        if not value or len(value) > 64:
            return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def whole(value: float | None) -> int | None:
    """A non-negative whole number (a step, a count) from a float, else None."""
    if value is None or value < 0 or not float(value).is_integer() or value >= 2**53:
        return None
    return int(value)


def step_of(name: str) -> int | None:
    """The training step a name says (`checkpoint-500`, `step=1000`, `global_step_20`), if any."""
    match = STEP.search(name)
    if not match or len(match.group(1)) > MAX_STEP_DIGITS:
        return None
    return int(match.group(1))


def epoch_of(name: str) -> float | None:
    """The epoch a name says (`epoch=3`, `ep_2.5`), if any."""
    match = EPOCH.search(name)
    if not match or len(match.group(1)) > 32:
        return None
    return float(match.group(1))
