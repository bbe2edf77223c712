"""Numbers made readable (sizes, counts). Terminal-safe text lives in ``text``."""

from __future__ import annotations

import math

from .text import terminal_safe  # re-exported: callers print through the one terminal sink

__all__ = ["human_bytes", "human_count", "terminal_safe"]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("<NA>", "nan")


def human_bytes(n: object) -> str:
    """1536 -> '1.5 KiB', 160000 -> '156 KiB'; missing -> '-'. The widget's formatBytes writes the same."""
    if _missing(n):
        return "-"
    value = float(n)  # type: ignore[arg-type]
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" or abs(value) >= 100 else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_count(n: object) -> str:
    """2410 -> '2.4K', 25_600_000 -> '25.6M' (parameter counts); missing -> '-'."""
    if _missing(n):
        return "-"
    value = float(n)  # type: ignore[arg-type]
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"
