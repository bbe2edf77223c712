"""What every reader returns, and the helpers readers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema import ModelEntry, Problem


@dataclass
class LoadedSource:
    """The models one source yielded, and what was wrong with the rest of it."""

    source: str  # the source string as the user gave it
    label: str  # short name shown on cards ("builtin", "timm", a folder name)
    models: list[ModelEntry]
    problems: list[Problem] = field(default_factory=list)
    title: str = ""
    table: Any = None  # a columnar part (sources/parquet_index.ParquetIndex) instead of `models`
