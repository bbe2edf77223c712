"""A static zoo: an index file (JSON, or Parquet for large zoos) on disk or over http(s), opened as a source.

The file formats (reading them as columns, checking them, writing them) are in
`ckptzoo_widgets/index/`; here is what turns a source string into a `LoadedSource`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import credentials, safety
from ..decode import json_limit
from ..errors import ZooError
from ..index.json_columns import read_json_columns
from ..schema import ModelEntry, parse_index_text, parse_models
from ._folder import Folder, FolderReadError
from ._http import cached_get, get_bounded
from .base import LoadedSource

MAX_PARQUET_BYTES = 1 << 30  # a Parquet index read whole (catalog reads large ones in place)


def _with_origin(models: list[ModelEntry], source: str, base: str) -> list[ModelEntry]:
    return [model.with_origin(source, base) for model in models]


def _label_for(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return urlsplit(source).hostname or "web"
    path = Path(source)
    return (path.parent.name if path.name in ("index.json", "index.parquet") else path.stem) or "zoo"


def parquet_rows(path: Path | bytes, origin: str | None = None) -> list[dict[str, Any]]:
    """Rows of a Parquet index in the first layout (a file or its bytes) as dicts (`index.parquet_format`)."""
    origin = origin or str(path)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ZooError(
            f"{origin}: reading a Parquet index needs pyarrow: pip install 'ckptzoo-widgets[parquet]'"
        ) from None
    from ..index.parquet_format import legacy_rows

    return legacy_rows(path, origin)


def read_json_index(data: bytes, origin: str, *, source: str, label: str, base: str) -> LoadedSource:
    """A JSON index as a source (from disk, http(s) or object storage): as columns when it is laid out
    one entry per line (`index.json_columns`), else every entry through the exact validator."""
    columns = read_json_columns(data, origin, source=source, label=label, base=base)
    if columns is not None:
        return LoadedSource(source, label, [], columns.problems, columns.title, columns)
    index, problems = parse_index_text(data, origin)
    models = [model.with_origin(source, base) for model in index.models]
    return LoadedSource(source, label, models, problems, index.name or "")


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


# --- a Parquet index read in place -------------------------------------------------


def _path_of(source: str) -> str:
    return source.split("?", 1)[0].split("#", 1)[0]


def is_parquet_source(source: str) -> bool:
    """A path or URL ending in .parquet, or a folder whose index is index.parquet (and no index.json)."""
    if _path_of(source).endswith(".parquet"):
        return True
    folder = Path(source)
    return not safety.is_url(source) and (folder / "index.parquet").is_file() and not (folder / "index.json").is_file()


def read_parquet_source(source: str) -> LoadedSource:
    """Open a Parquet index in place (a local file is memory-mapped; a URL is fetched into the cache)."""
    from ..index.parquet_format import ParquetIndexError, is_legacy
    from ..index.parquet_index import ParquetIndex

    if safety.is_url(source):
        data: bytes | str = cached_get(source, limit=MAX_PARQUET_BYTES)[0]
        base, origin = source.split("?", 1)[0].rsplit("/", 1)[0] + "/", source
    else:
        path = Path(source)
        if path.is_dir():  # an index inside a zoo folder obeys the folder rule: a regular file, no link out
            inside = Path(os.path.realpath(path / "index.parquet"))
            if inside.parent != Path(os.path.realpath(path)) or not inside.is_file():
                raise ZooError(f"{path / 'index.parquet'}: not a regular file inside the zoo's folder")
            path = inside
        elif not path.is_file():
            raise ZooError(f"{path}: no such index file")
        data, base, origin = str(path.resolve()), str(path.resolve().parent), str(path)
    label = _label_for(source)
    try:
        index = ParquetIndex(data, source=source, label=label, base=base, origin=origin)
    except ParquetIndexError:
        if is_legacy(data):  # the first Parquet layout (one row per model, nested fields as JSON text)
            return read_http_index(source) if safety.is_url(source) else read_local_index(source)
        raise
    return LoadedSource(source, label, [], list(index.problems), index.title or Path(_path_of(source)).stem, index)
