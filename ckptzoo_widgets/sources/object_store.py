"""Zoos on object storage (`s3://`, `gs://`, `az://`, `hf://`, any fsspec file system), read in place.

Three kinds of source string (docs/sources.md, "Object storage"):

- `s3://bucket/zoo/index.parquet`: a Parquet index read with ranged reads. Opening
  reads the footer and the grid columns only; a model's card and checkpoints are
  read when it is opened. The checked grid is kept in the cache
  (`cache.index_paths`: an Arrow file and a record with the object's ETag), so
  opening it again costs one metadata request while the ETag is unchanged, and
  none offline (`CKPTZOO_OFFLINE`). The entries and cards of the row groups
  read since are kept beside it, so a model opened once opens offline too.
- `s3://bucket/zoo/index.json` (or `.json.gz`): a JSON index, read within the
  JSON budget and cached with its ETag the same way; a large one written one
  entry per line opens as columns, as it does from disk (`json_columns`).
- `s3://bucket/runs/`: a folder; its `index.parquet` or `index.json` when it has
  one, else its training runs read where they lie (`sources/runs` through an
  `ObjectFolder`: the folder rule's caps and budget).

Credentials come from the file system's usual places (environment, profiles,
`storage_options`), never from the index; messages quote backend errors
through `storage.error_message`.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from .. import cache, config, storage
from ..decode import json_limit
from ..errors import ZooError
from ..schema import Problem
from .base import LoadedSource
from .index_file import read_json_index
from .object_read import ObjectFile, read_object

Options = dict[str, Any] | None
GRID_FORMAT = "parquet-grid-1"  # the record's `kind`: what the cached body holds
ROW_COLUMN = "__file_row"
JSON_SUFFIXES = (".json", ".json.gz")


def _path_of(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def is_object_parquet(source: str) -> bool:
    return storage.is_object_url(source) and _path_of(source).endswith(".parquet")


def is_object_json(source: str) -> bool:
    return storage.is_object_url(source) and _path_of(source).endswith(JSON_SUFFIXES)


def is_object_folder(source: str) -> bool:
    return storage.is_object_url(source) and not is_object_parquet(source) and not is_object_json(source)


def _base_of(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/"


def _label_of(url: str) -> str:
    path = PurePosixPath(_path_of(url).split("://", 1)[1])
    return (path.parent.name if path.name.startswith("index.") else path.stem) or path.name or "zoo"


def _fail(url: str, what: str, error: BaseException, options: Options = None) -> ZooError:
    return ZooError(f"{storage.shown(url)}: {what} ({storage.error_message(error, options)})")


def version_of(info: dict[str, Any]) -> str | None:
    """What tells one content of an object from another: its ETag (or generation, or mtime) and size."""
    for key in ("ETag", "etag", "generation", "version_id", "VersionId", "LastModified", "last_modified", "mtime"):
        value = info.get(key)
        if value not in (None, ""):
            return f"{key}={value};size={info.get('size')}"
    return None


def _stat(fs: Any, path: str, url: str, options: Options = None) -> dict[str, Any]:
    try:
        fs.invalidate_cache(path)  # a listing this process made earlier must not hide a new ETag
        info = fs.info(path)
    except FileNotFoundError:
        raise ZooError(f"{storage.shown(url)}: no such object") from None
    except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
        raise _fail(url, "cannot read", error, options) from None
    if info.get("type") != "file":
        raise ZooError(f"{storage.shown(url)}: not a file object")
    return dict(info)


# --- JSON index ----------------------------------------------------------------------


def _cached_body(url: str) -> tuple[bytes | None, dict[str, Any]]:
    body_path, record_path = cache.index_paths(config.cache_root(), url)
    record = cache.read_json(record_path) or {}
    if record.get("url") != url or record.get("kind") == GRID_FORMAT:
        return None, {}
    try:
        return body_path.read_bytes(), record
    except OSError:
        return None, {}


def object_bytes(url: str, limit: int, storage_options: Options = None) -> bytes:
    """The bytes of one object (at most `limit`), reused from the cache while its ETag is unchanged."""
    cached, record = _cached_body(url)
    if config.offline():
        if cached is None:
            raise ZooError(f"{storage.shown(url)}: offline (CKPTZOO_OFFLINE) and not in the cache yet")
        return cached
    fs, path = storage.filesystem(url, storage_options)
    try:
        info = _stat(fs, path, url, storage_options)
    except ZooError:
        if cached is not None:  # unreachable: the copy we have serves
            return cached
        raise
    version = version_of(info)
    if cached is not None and version and record.get("version") == version:
        return cached
    if int(info.get("size") or 0) > limit:
        raise ZooError(f"{storage.shown(url)}: larger than {limit:,} bytes; refused")
    # the size HEAD gave is the cap, held while the body streams (a GET ignoring Range is cut there)
    body = read_object(fs, path, int(info.get("size") or 0), limit, storage.shown(url))
    body_path, record_path = cache.index_paths(config.cache_root(), url)
    try:
        cache.write_atomic(body_path, body)
        cache.write_json_atomic(
            record_path,
            {
                "url": url,
                "version": version,
                "fetched": time.time(),
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )
    except OSError:
        pass  # a read-only cache still serves this session
    return body


def read_object_json(url: str, storage_options: Options = None) -> LoadedSource:
    """A JSON index on object storage; relative file paths resolve next to it in the bucket."""
    data = object_bytes(url, json_limit(), storage_options)
    return read_json_index(data, url, source=url, label=_label_of(url), base=_base_of(url))


# --- Parquet index, read in place ----------------------------------------------------------


def _load_grid(url: str) -> tuple[dict[str, Any], Any] | None:
    """The grid kept for `url` (its record and the Arrow table, memory-mapped), or None."""
    import pyarrow as pa

    body_path, record_path = cache.index_paths(config.cache_root(), url)
    record = cache.read_json(record_path) or {}
    if record.get("url") != url or record.get("kind") != GRID_FORMAT:
        return None
    try:
        with pa.memory_map(str(body_path)) as source:
            table = pa.ipc.open_file(source).read_all()
        cache.touch(record_path)
    except (OSError, pa.ArrowException):
        return None  # damaged or gone: read the index again
    return record, table


def _save_grid(url: str, version: str | None, index: Any) -> None:
    import pyarrow as pa

    root = config.cache_root()
    body_path, record_path = cache.index_paths(root, url)
    table = index.grid.append_column(ROW_COLUMN, pa.array(index.keep, pa.int64()))
    try:
        with cache.atomic_write(body_path) as temporary:
            with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            digest, size = cache.sha256_file(temporary)
        problems = [[p.origin, p.entry, p.field, p.message] for p in index.problems]
        cache.write_json_atomic(
            record_path,
            {
                "url": url,
                "kind": GRID_FORMAT,
                "version": version,
                "fetched": time.time(),
                "size": size,
                "sha256": digest.hexdigest(),
                "title": index.title,
                "starts": [int(n) for n in index.starts],
                "problems": problems,
            },
        )
    except OSError:
        pass  # a read-only or full cache: this session still has the grid


class GroupPieces:
    """The `entry` and `description` columns of the row groups read so far, kept beside the cached grid
    (`indexes/<key>.parts/`, removed with it) for the index's current version only."""

    NAMES = ("entry", "description")

    def __init__(self, url: str, fresh: bool):
        body, _record = cache.index_paths(config.cache_root(), url)
        self.folder = cache.index_parts(body)
        if fresh:  # a new version of the index: what was kept belongs to the old one
            shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, group: int, name: str) -> Any:
        return self.folder / f"{group}.{name}.arrow"

    def get(self, group: int, name: str) -> Any:
        import pyarrow as pa

        if name not in self.NAMES:
            return None
        try:
            with pa.memory_map(str(self._path(group, name))) as source:
                return pa.ipc.open_file(source).read_all()[name]
        except (OSError, pa.ArrowException, KeyError):
            return None

    def put(self, group: int, name: str, column: Any) -> None:
        import pyarrow as pa

        if name not in self.NAMES:
            return
        path = self._path(group, name)
        try:
            table = pa.table({name: column})
            with (
                cache.atomic_write(path) as temporary,
                pa.OSFile(str(temporary), "wb") as sink,
                pa.ipc.new_file(sink, table.schema) as writer,
            ):
                writer.write_table(table)
        except OSError:
            pass  # a read-only or full cache: this session keeps it in memory


def read_object_parquet(url: str, storage_options: Options = None) -> LoadedSource:
    """A Parquet index on object storage, read in place (grid now, the rest of a model when it is opened)."""
    from ..index.parquet_index import ParquetIndex

    fs, path = storage.filesystem(url, storage_options)
    label, base = _label_of(url), _base_of(url)
    kept = _load_grid(url)
    info: dict[str, Any] | None = None
    if config.offline() and kept is None:
        raise ZooError(f"{storage.shown(url)}: offline (CKPTZOO_OFFLINE) and not in the cache yet")
    if not config.offline():
        try:
            info = _stat(fs, path, url, storage_options)
        except ZooError:
            if kept is None:
                raise

    def opener() -> tuple[Any, int]:
        if config.offline():
            raise ZooError(
                f"{storage.shown(url)}: offline (CKPTZOO_OFFLINE): a model's card and checkpoints are read "
                "from the index when it is opened"
            )
        now = info or _stat(fs, path, url, storage_options)
        # each ranged read pyarrow makes is cut at what it asked while the body streams
        return ObjectFile(fs, path, int(now["size"]), storage.shown(url)), int(now["size"])

    version = version_of(info) if info is not None else None
    if kept is not None and (info is None or (version and kept[0].get("version") == version)):
        record, table = kept
        keep = table[ROW_COLUMN].to_numpy()
        problems = [Problem(*map(str, p)) for p in record.get("problems", []) if isinstance(p, list) and len(p) == 4]
        index = ParquetIndex.from_grid(
            table.drop_columns([ROW_COLUMN]),
            keep,
            np.asarray(record.get("starts", []), dtype=np.int64),
            opener,
            source=url,
            label=label,
            base=base,
            origin=url,
            title=str(record.get("title", "")),
            problems=problems,
        )
        index.pieces = GroupPieces(url, fresh=False)
    else:
        index = ParquetIndex(opener, source=url, label=label, base=base, origin=url)
        _save_grid(url, version, index)
        index.pieces = GroupPieces(url, fresh=True)
    title = index.title or PurePosixPath(_path_of(url)).stem
    return LoadedSource(url, label, [], list(index.problems), title, index)


# --- a folder: its index, or its runs ------------------------------------------------------


INDEX_NAMES = ("index.parquet", "index.json")


def folder_index(url: str, storage_options: Options = None) -> str | None:
    """The URL of the index a folder on object storage holds (index.parquet first), or None."""
    folder = url.rstrip("/") + "/"
    if config.offline():  # whatever index of this folder the cache holds
        for name in INDEX_NAMES:
            if (cache.read_json(cache.index_paths(config.cache_root(), folder + name)[1]) or {}).get("url"):
                return folder + name
        raise ZooError(f"{storage.shown(url)}: offline (CKPTZOO_OFFLINE) and no index of this folder is in the cache")
    fs, path = storage.filesystem(folder, storage_options)
    for name in INDEX_NAMES:
        try:
            fs.invalidate_cache(path.rstrip("/"))
            if fs.isfile(path.rstrip("/") + "/" + name):
                return folder + name
        except Exception as error:  # noqa: BLE001
            raise _fail(url, "cannot list", error, storage_options) from None
    return None


def read_object_folder(url: str, storage_options: Options = None) -> LoadedSource:
    """`s3://bucket/zoo/`: its index.parquet or index.json when it has one, else its training runs."""
    from .runs import read_object_runs

    index = folder_index(url, storage_options)
    if index is not None:
        reader = read_object_parquet if index.endswith(".parquet") else read_object_json
        return reader(index, storage_options)
    return read_object_runs(url.rstrip("/") + "/", storage_options)
