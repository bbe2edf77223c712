"""Plain-text tables that fit the terminal: columns in priority order until the width is used."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..humanize import human_bytes, human_count
from ..text import terminal_safe

MAX_CELL = 40  # a long name is cut with "…" rather than pushing every other column away
GAP = "  "
FORMATTERS = {"num_params": human_count, "size": human_bytes}


def terminal_width() -> int:
    """The terminal's width (COLUMNS when set; 80 when the output is not a terminal)."""
    return shutil.get_terminal_size((80, 24)).columns


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, (str, list, tuple)) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    text = terminal_safe(str(value)).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _rendered(frame: pd.DataFrame, column: str) -> list[str]:
    format_value = FORMATTERS.get(column)
    return [_cell(format_value(v) if format_value else v) for v in frame[column]]


def fit_columns(frame: pd.DataFrame, columns: Sequence[str], width: int | None) -> tuple[list[str], list[str]]:
    """(columns shown, columns left out): in the given order, while they fit in `width` (None: all)."""
    columns = [c for c in columns if c in frame.columns]
    if width is None:
        return columns, []
    shown: list[str] = []
    used = 0
    for column in columns:
        need = max(len(column), *(len(cell) for cell in _rendered(frame, column))) + (len(GAP) if shown else 0)
        if not shown or used + need <= width:  # the first column always shows
            shown.append(column)
            used += need
    return shown, [c for c in columns if c not in shown]


def table(frame: pd.DataFrame, columns: Sequence[str], width: int | None = None) -> str:
    """The given columns as an aligned text table (numbers to the right); missing columns skipped."""
    shown, _ = fit_columns(frame, columns, width)
    cells = {c: _rendered(frame, c) for c in shown}
    widths = {c: max(len(c), *(len(x) for x in cells[c])) for c in shown}
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) for c in shown}

    def line(values: dict[str, str]) -> str:
        parts = [values[c].rjust(widths[c]) if numeric[c] else values[c].ljust(widths[c]) for c in shown]
        return GAP.join(parts).rstrip()

    rows = [line({c: c for c in shown})]
    rows += [line({c: cells[c][i] for c in shown}) for i in range(len(frame))]
    text = "\n".join(rows)
    return text if width is None else "\n".join(row[:width] for row in text.splitlines())
