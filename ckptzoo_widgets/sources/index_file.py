"""A static zoo: an index file (JSON, or Parquet for large zoos) on disk or over http(s)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import credentials
from ..errors import ZooError
from ..schema import IndexFormatError, ModelEntry, parse_index_text, parse_models
from ._folder import Folder, FolderReadError
from .base import LoadedSource

# List-valued and nested fields are stored as JSON text in a Parquet index.
PARQUET_JSON_COLUMNS = ("datasets", "tags", "metrics", "checkpoints")
MAX_INDEX_BYTES = 256 << 20  # an index file read from disk (a zoo that large wants Parquet)


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
        import pyarrow.parquet as pq
    except ImportError:
        raise ZooError(
            f"{origin}: reading a Parquet index needs pyarrow: pip install 'ckptzoo-widgets[parquet]'"
        ) from None
    try:
        table = pq.read_table(pa.BufferReader(path) if isinstance(path, bytes) else path)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise IndexFormatError(f"{origin}: not a readable Parquet file ({error})") from None
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
        data = folder.read(path, MAX_INDEX_BYTES)
    except FolderReadError as error:
        raise ZooError(f"{path}: {error}") from None
    if path.suffix == ".parquet":
        models, problems = parse_models(parquet_rows(data, str(path)), str(path))
        title = path.stem
    else:
        index, problems = parse_index_text(data, str(path))
        models, title = index.models, index.name or ""
    base = str(path.resolve().parent)
    return LoadedSource(source, _label_for(source), _with_origin(models, source, base), problems, title)


def _offline() -> bool:
    return os.environ.get("CKPTZOO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _http_cache_paths(url: str) -> tuple[Path, Path]:
    from ..fetch import cache_root

    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]
    folder = cache_root() / "indexes"
    return folder / f"{key}.body", folder / f"{key}.json"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def cached_get(url: str, timeout: float = 30.0) -> tuple[bytes, str]:
    """The body at `url`, revalidated with ETag / Last-Modified and kept in the cache.

    Returns (body, how) with `how` one of "downloaded", "not-modified", "cached"
    (offline, or the server unreachable: the cached copy serves). ZooError when
    there is neither an answer nor a cached copy.
    """
    body_path, meta_path = _http_cache_paths(url)
    meta: dict[str, Any] = {}
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        cached: bytes | None = body_path.read_bytes()
        if meta.get("url") != url:
            cached, meta = None, {}
    except (OSError, ValueError):
        cached, meta = None, {}
    if _offline():
        if cached is None:
            raise ZooError(f"{url}: offline (CKPTZOO_OFFLINE) and not in the cache yet")
        return cached, "cached"
    headers = {}
    if cached is not None and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if cached is not None and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    try:
        response = requests.get(url, timeout=timeout, headers=headers, auth=credentials.auth_for(url))
    except requests.RequestException as error:
        if cached is not None:
            return cached, "cached"
        raise ZooError(f"{url}: cannot fetch ({type(error).__name__}) and no cached copy") from None
    if response.status_code == 304 and cached is not None:
        return cached, "not-modified"
    if response.status_code != 200:
        if cached is not None and response.status_code >= 500:
            return cached, "cached"
        raise ZooError(f"{url}: server answered HTTP {response.status_code}")
    body = response.content
    record = {
        "url": url,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "fetched": time.time(),
        "size": len(body),
    }
    try:
        _write_atomic(body_path, body)
        _write_atomic(meta_path, json.dumps(record).encode("utf-8"))
    except OSError:
        pass  # a read-only cache still serves this session
    return body, "downloaded"


def read_http_index(url: str, timeout: float = 30.0) -> LoadedSource:
    """A static zoo at an http(s) URL (JSON, or Parquet when the path ends in .parquet), cached."""
    body, _how = cached_get(url, timeout=timeout)
    base = url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    if urlsplit(url).path.endswith(".parquet"):
        models, problems = parse_models(parquet_rows(body, url), url)
        title = Path(urlsplit(url).path).stem
    else:
        index, problems = parse_index_text(body, url)
        models, title = index.models, index.name or ""
    return LoadedSource(url, _label_for(url), _with_origin(models, url, base), problems, title)
