"""A static zoo: an index file (JSON, or Parquet for large zoos) on disk or over http(s)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import credentials, safety
from ..decode import json_limit
from ..errors import ZooError
from ..schema import IndexFormatError, ModelEntry, parse_models
from ._folder import Folder, FolderReadError
from ._http import cached_get, get_bounded
from .base import LoadedSource
from .json_columns import read_json_index

# List-valued and nested fields are stored as JSON text in a Parquet index.
PARQUET_JSON_COLUMNS = ("datasets", "tags", "metrics", "checkpoints", "curves")
MAX_PARQUET_BYTES = 1 << 30  # a Parquet index read whole (catalog reads large ones in place)


def _with_origin(models: list[ModelEntry], source: str, base: str) -> list[ModelEntry]:
    return [model.with_origin(source, base) for model in models]


def _label_for(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return urlsplit(source).hostname or "web"
    path = Path(source)
    return (path.parent.name if path.name in ("index.json", "index.parquet") else path.stem) or "zoo"


def parquet_rows(path: Path | bytes, origin: str | None = None) -> list[dict[str, Any]]:
    """Rows of a Parquet index (a file or its bytes) as dicts, nested columns decoded from JSON text."""
    origin = origin or str(path)
    try:
        import pyarrow as pa
    except ImportError:
        raise ZooError(
            f"{origin}: reading a Parquet index needs pyarrow: pip install 'ckptzoo-widgets[parquet]'"
        ) from None
    from .parquet_format import read_legacy

    if isinstance(path, bytes):
        source, size = pa.BufferReader(path), len(path)
    else:
        try:
            source, size = pa.memory_map(str(path)), os.path.getsize(path)
        except OSError as error:
            raise IndexFormatError(f"{origin}: cannot read ({error.strerror or type(error).__name__})") from None
    # the footer's declared sizes and the decoded strings within the JSON budget, before any is decoded
    table = read_legacy(source, size, origin, json_limit())
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
    # A file the user names is theirs (links in it are followed); an index found in a folder
    # the user names belongs to the zoo and obeys the folder rule (sources/_folder.py).
    if path.is_dir():
        folder = Folder(path)
        path = (
            path / "index.json"
            if (path / "index.json").is_file() or not (path / "index.parquet").is_file()
            else path / "index.parquet"
        )
    elif not os.path.lexists(path):
        raise ZooError(f"{path}: no such index file")
    else:
        path = Path(os.path.realpath(path))
        folder = Folder(path.parent)
    try:
        data = folder.read(path, MAX_PARQUET_BYTES if path.suffix == ".parquet" else json_limit())
    except FolderReadError as error:
        raise ZooError(f"{path}: {error}") from None
    base = str(path.resolve().parent)
    if path.suffix != ".parquet":
        return read_json_index(data, str(path), source=source, label=_label_for(source), base=base)
    models, problems = parse_models(parquet_rows(data, str(path)), str(path))
    return LoadedSource(source, _label_for(source), _with_origin(models, source, base), problems, path.stem)


BUILTIN_INDEX = Path(__file__).resolve().parents[1] / "zoo" / "index.json"


def read_builtin(source: str = "builtin") -> LoadedSource:
    """The built-in teaching zoo shipped inside the package (a static index; works offline)."""
    loaded = read_local_index(BUILTIN_INDEX, source="builtin")
    loaded.label = "builtin"
    return loaded


def read_index_bytes(location: str, timeout: float = 30.0) -> bytes:
    """The raw bytes of one index file or URL (not cached), within the same budgets as opening it.

    For `ckptzoo validate`: a local file obeys the read cap, a URL `get_bounded`'s
    byte, expansion and time caps. ZooError (or requests' errors) when it cannot be read.
    """
    if safety.is_url(location):
        response, body = get_bounded(location, timeout=timeout, auth=credentials.auth_for(location))
        if response.status_code != 200:
            raise ZooError(f"{location}: server answered HTTP {response.status_code}")
        return body
    path = Path(os.path.realpath(location))
    try:
        return Folder(path.parent).read(path, json_limit())
    except FolderReadError as error:
        raise ZooError(f"{location}: {error}") from None


def read_http_index(url: str, timeout: float = 30.0) -> LoadedSource:
    """A static zoo at an http(s) URL (JSON, or Parquet when the path ends in .parquet), cached."""
    parquet = urlsplit(url).path.endswith(".parquet")
    body, _how = cached_get(url, timeout=timeout, limit=MAX_PARQUET_BYTES if parquet else json_limit())
    base = url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    if not parquet:
        return read_json_index(body, url, source=url, label=_label_for(url), base=base)
    models, problems = parse_models(parquet_rows(body, url), url)
    title = Path(urlsplit(url).path).stem
    return LoadedSource(url, _label_for(url), _with_origin(models, url, base), problems, title)
