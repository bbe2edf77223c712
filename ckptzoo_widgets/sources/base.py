"""What every reader returns, and the helpers readers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..schema import Checkpoint, FileEntry, ModelEntry, Problem


@dataclass
class LoadedSource:
    """The models one source yielded, and what was wrong with the rest of it."""

    source: str  # the source string as the user gave it
    label: str  # short name shown on cards ("builtin", "timm", a folder name)
    models: list[ModelEntry]
    problems: list[Problem] = field(default_factory=list)
    title: str = ""
    table: Any = None  # a columnar part (index/parquet_index.ParquetIndex) instead of `models`
    live: LiveSource | None = None  # a source that answers each query where it lives, instead of `models`


# --- live sources: asked for one page and one model at a time --------------------------------


@dataclass(frozen=True)
class LiveQuery:
    """One question to a live source. Empty strings mean "any"; `sort` is a key of its
    `sort_options()` with `-` first for descending ("" = the source's own order)."""

    text: str = ""
    task: str = ""
    library: str = ""
    license: str = ""
    num_params: str = ""  # a range "min:1B,max:7B" (either side may be left out)
    sort: str = ""


@dataclass
class LivePage:
    """One page of a live source's answer to a query."""

    models: list[ModelEntry]  # card fields only: checkpoints, files and the card text come with `model()`
    next: str | None  # an opaque cursor for the next page; None: this is the last one
    total: int | None  # every match, when the source says; else None
    problems: list[Problem] = field(default_factory=list)
    note: str = ""  # one line when the page is not a fresh answer ("offline: showing what was seen before")


class LiveSource(Protocol):
    """A source too large to copy (the Hugging Face Hub): the catalog asks it for one page of a
    query and for one model when it is opened (catalog/live.py); menus come from the source."""

    source: str
    label: str
    title: str
    problems: list[Problem]

    def page(self, query: LiveQuery, cursor: str | None) -> LivePage: ...

    def model(self, model_id: str) -> ModelEntry: ...

    def owns(self, model_id: str) -> bool: ...

    def can_sort(self, sort: str) -> bool: ...

    def sort_error(self, sort: str) -> str: ...

    def filter_options(self) -> dict[str, list[str]]: ...

    def sort_options(self) -> list[dict[str, str]]: ...

    def range_options(self) -> dict[str, list[dict[str, str]]]: ...


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
