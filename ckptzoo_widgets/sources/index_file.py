"""A static zoo: an index file (JSON, or Parquet for large zoos) on disk or over http(s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import ZooError
from ..schema import IndexFormatError, ModelEntry, parse_index, parse_index_text, parse_models
from .base import LoadedSource

# List-valued and nested fields are stored as JSON text in a Parquet index.
PARQUET_JSON_COLUMNS = ("datasets", "tags", "metrics", "checkpoints")


def _with_origin(models: list[ModelEntry], source: str, base: str) -> list[ModelEntry]:
    return [model.with_origin(source, base) for model in models]


def _label_for(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return urlsplit(source).hostname or "web"
    path = Path(source)
    return (path.parent.name if path.name in ("index.json", "index.parquet") else path.stem) or "zoo"


def parquet_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a Parquet index as dicts, nested columns decoded from JSON text."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ZooError(f"{path}: reading a Parquet index needs pyarrow: pip install 'ckptzoo-widgets[parquet]'") from None
    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise IndexFormatError(f"{path}: not a readable Parquet file ({error})") from None
    rows = []
    for row in table.to_pylist():
        clean = {k: v for k, v in row.items() if v is not None}
        for column in PARQUET_JSON_COLUMNS:
            if isinstance(clean.get(column), str):
                try:
                    clean[column] = json.loads(clean[column])
                except json.JSONDecodeError:
                    pass  # left as text: validation names the field
        rows.append(clean)
    return rows


def read_local_index(path: str | Path, source: str | None = None) -> LoadedSource:
    path = Path(path)
    source = source or str(path)
    if path.is_dir():
        path = path / "index.json"
    try:
        if path.suffix == ".parquet":
            models, problems = parse_models(parquet_rows(path), str(path))
            title = path.stem
        else:
            index, problems = parse_index_text(path.read_bytes(), str(path))
            models, title = index.models, index.name or ""
    except FileNotFoundError:
        raise ZooError(f"{path}: no such index file") from None
    except OSError as error:
        raise ZooError(f"{path}: cannot read ({error.strerror})") from None
    base = str(path.resolve().parent)
    return LoadedSource(source, _label_for(source), _with_origin(models, source, base), problems, title)


def read_http_index(url: str, timeout: float = 30.0) -> LoadedSource:
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as error:
        raise ZooError(f"{url}: cannot fetch the index ({type(error).__name__})") from None
    if response.status_code != 200:
        raise ZooError(f"{url}: server answered HTTP {response.status_code}")
    index, problems = parse_index_text(response.content, url)
    base = url.rsplit("/", 1)[0] + "/"
    return LoadedSource(url, _label_for(url), _with_origin(index.models, url, base), problems, index.name or "")
