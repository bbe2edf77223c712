"""The built-in teaching zoo shipped inside the package (works offline)."""

from __future__ import annotations

from pathlib import Path

from .base import LoadedSource
from .index_file import read_local_index

BUILTIN_INDEX = Path(__file__).resolve().parents[1] / "zoo" / "index.json"


def read_builtin(source: str = "builtin") -> LoadedSource:
    loaded = read_local_index(BUILTIN_INDEX, source="builtin")
    loaded.label = "builtin"
    return loaded
