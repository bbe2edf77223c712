"""What every reader returns, and the helpers readers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema import Checkpoint, FileEntry, ModelEntry, Problem


@dataclass
class LoadedSource:
    """The models one source yielded, and what was wrong with the rest of it."""

    source: str  # the source string as the user gave it
    label: str  # short name shown on cards ("builtin", "timm", a folder name)
    models: list[ModelEntry]
    problems: list[Problem] = field(default_factory=list)
    title: str = ""
    table: Any = None  # a columnar part (sources/parquet_index.ParquetIndex) instead of `models`


def checkpoint_data(checkpoint: Any) -> dict[str, Any]:
    """A reader's checkpoint as the plain dict `schema.validate_models` reads.

    The fields are the schema's (`schema.Checkpoint`): one the reader's object
    does not have, or leaves empty (None, [], {}: the schema's defaults), is
    left out; file entries that are already `FileEntry` models become dicts.
    """
    data: dict[str, Any] = {}
    for name in Checkpoint.model_fields:
        value = getattr(checkpoint, name, None)
        if name == "files":
            value = [f.model_dump(exclude_none=True) if isinstance(f, FileEntry) else f for f in value or []]
        if value not in (None, [], {}):
            data[name] = value
    return data
