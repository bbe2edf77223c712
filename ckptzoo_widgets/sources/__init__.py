"""Source strings -> readers. One reader per kind of source.

A source string names where a zoo lives: `"builtin"`, a path to an index file
or folder, an http(s) URL of an index, a folder of training runs (`"runs/"`),
`"timm"` / `"timm:<csv>"`, `"torchvision"`, Kaggle Models (`"kaggle:"`), the Hugging Face
Hub (`"hf:"`, `"hf:author=..."`),
an index or a runs folder on object storage (`"s3://bucket/zoo/index.parquet"`,
`"s3://bucket/runs/"`). docs/sources.md describes each. Each kind registers a matcher and a
reader here; `read_source` picks the first that matches.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ZooError
from .base import LoadedSource
from .hub import read_hub
from .index_file import is_parquet_source, read_builtin, read_http_index, read_local_index, read_parquet_source
from .kaggle import is_kaggle_source, read_kaggle
from .mlflow import matches as is_mlflow_source
from .mlflow import read_mlflow
from .object_store import (
    is_object_folder,
    is_object_json,
    is_object_parquet,
    read_object_folder,
    read_object_json,
    read_object_parquet,
)
from .runs import is_runs_folder, read_runs
from .timm import read_timm
from .torchvision import read_torchvision

INDEX_NAMES = ("index.json", "index.parquet")
Matcher = Callable[[str], bool]
Reader = Callable[..., LoadedSource]  # (source) -> LoadedSource; object-storage readers also take storage_options

# (kind, matcher, reader); the first match wins, so specific kinds come first.
READERS: list[tuple[str, Matcher, Reader]] = [
    ("builtin", lambda s: s == "builtin", read_builtin),
    ("timm", lambda s: s == "timm" or s.startswith("timm:"), read_timm),
    ("torchvision", lambda s: s == "torchvision" or s.startswith("torchvision:"), read_torchvision),
    ("hf", lambda s: s.startswith("hf:"), read_hub),
    ("kaggle", is_kaggle_source, read_kaggle),  # also a tfhub.dev handle (before the http(s) index kind)
    ("mlflow", is_mlflow_source, read_mlflow),
    ("object-parquet", is_object_parquet, read_object_parquet),
    ("object-index", is_object_json, read_object_json),
    ("object-folder", is_object_folder, read_object_folder),
    ("parquet", is_parquet_source, read_parquet_source),
    ("index-url", lambda s: s.startswith(("http://", "https://")), read_http_index),
    ("index-file", lambda s: Path(s).is_file() or any((Path(s) / n).is_file() for n in INDEX_NAMES), read_local_index),
    ("runs", is_runs_folder, read_runs),
]


def register(kind: str, matcher: Matcher, reader: Reader, *, before: str | None = None) -> None:
    """Add a kind of source (placed before `before`, else last)."""
    position = next((i for i, (k, _, _) in enumerate(READERS) if k == before), len(READERS))
    READERS.insert(position, (kind, matcher, reader))


# Kinds whose reader takes `storage_options` (credentials, endpoint) for fsspec.
TAKES_STORAGE_OPTIONS = {"object-parquet", "object-index", "object-folder"}


def read_source(source: str, storage_options: dict[str, Any] | None = None) -> LoadedSource:
    """Open one source; ZooError with a clear message when it cannot be opened.

    `storage_options` go to the file system of object-storage sources (other kinds ignore them).
    """
    if not isinstance(source, str) or not source.strip():
        raise ZooError(f"a source must be a non-empty string, got {source!r}")
    for kind, matches, reader in READERS:
        if matches(source):
            if storage_options and kind in TAKES_STORAGE_OPTIONS:
                return reader(source, storage_options=storage_options)
            return reader(source)
    kinds = ", ".join(kind for kind, _, _ in READERS)
    raise ZooError(f"{source!r}: not a known source (no such file or folder; known kinds: {kinds})")


__all__ = ["LoadedSource", "READERS", "read_source", "register"]
