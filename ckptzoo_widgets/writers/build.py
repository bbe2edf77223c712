"""`ckptzoo index build DIR`: a folder of checkpoints -> a static zoo index.

The folder is read like a training-run source (`runs/`: Trainer checkpoints,
Lightning `.ckpt`, lm-eval results, plain weight files with their model
cards); every file gets its sha256 and size, and the index is written as JSON
(or Parquet, for large zoos) where the files' relative paths resolve. Copy the
folder with its index to any static host and `cz.open_zoo("https://host/zoo/index.json")`
opens it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .. import cache, storage
from ..errors import ZooError
from ..schema import INDEX_VERSION, Problem, parse_index, parse_models
from ..sources._folder import Folder, FolderReadError, ObjectFolder
from ..sources.runs import RunsReader


def sha256_of(folder: Folder, path: Path) -> tuple[str, int]:
    """The sha256 and size of a regular file inside `folder`, reading no more than it held when opened."""
    handle, size = folder.open(path)
    with handle:
        return sha256_of_handle(handle, size), size


def sha256_of_handle(handle: BinaryIO, size: int, sink: Callable[[bytes], object] | None = None) -> str:
    """The sha256 of the `size` bytes `handle` holds from where it is; each block also goes to `sink`.

    FolderReadError when the file holds more or fewer bytes than `size` (it changed while read)."""
    digest = hashlib.sha256()
    done = 0
    while block := handle.read(min(1 << 20, size + 1 - done)):
        done += len(block)
        if done > size:
            raise FolderReadError("grew while it was hashed")
        digest.update(block)
        if sink is not None:
            sink(block)
    if done != size:
        raise FolderReadError("shrank while it was hashed")
    return digest.hexdigest()


def _prefix_for(folder: Path, out: Path) -> str:
    """The path from the index's folder to `folder` ('' when the same); ZooError when not below it."""
    relative = os.path.relpath(folder.resolve(), out.resolve().parent)
    if relative == ".":
        return ""
    if relative.startswith("..") or os.path.isabs(relative):
        raise ZooError(
            f"{out}: write the index inside {folder} or a folder above it "
            "(file paths in an index are relative to the index)"
        )
    return Path(relative).as_posix() + "/"


def _object_prefix(folder: ObjectFolder, out: str) -> str | None:
    """The path from the index's folder to the runs folder on object storage; None when not below it."""
    here = out.rsplit("/", 1)[0] + "/"
    return folder.url[len(here) :] if folder.url.startswith(here) else None


def build_index(
    folder: str | Path, out: str | Path | None = None, *, name: str | None = None, hash_files: bool = True
) -> tuple[dict[str, Any], list[Problem]]:
    """The index document for a folder (files hashed), and what could not be indexed.

    `folder` may be a folder on object storage (`s3://bucket/runs/`): its runs are read and
    hashed where they lie; files are named relative to the index when it lies in or above
    the folder, else by their URL.
    """
    files: Folder
    prefix: str | None
    if storage.is_object_url(str(folder)):
        files = ObjectFolder(str(folder))
        out = str(out) if out is not None else files.url + "index.json"
        if not storage.is_object_url(out) or storage.protocol(out) != storage.protocol(files.url):
            prefix = None
        else:
            prefix = _object_prefix(files, out)
        reader = RunsReader(files.root, files.url, folder=files)
    else:
        folder = Path(folder)
        out = Path(out) if out is not None else folder / "index.json"
        prefix = _prefix_for(folder, out)
        files = Folder(folder)
        reader = RunsReader(folder)
    models, problems = reader.read()
    documents = []
    for model in models:
        data = model.model_dump(mode="json", exclude_none=True)
        for checkpoint in data["checkpoints"]:
            for file in checkpoint.get("files", []):
                if "path" not in file:
                    continue
                local = files.given / file["path"]
                if hash_files:
                    try:
                        file["sha256"], file["size"] = sha256_of(files, local)
                    except FolderReadError as error:
                        problems.append(Problem(str(local), model.id, "sha256", f"cannot hash: {error}"))
                if prefix is None:  # the index lies elsewhere: the file is named by its URL
                    file["url"] = files.url_of(local)  # type: ignore[attr-defined]
                    del file["path"]
                else:
                    file["path"] = prefix + file["path"]
        documents.append(data)
    document = {
        "ckptzoo_index": INDEX_VERSION,
        "name": (name or files.name)[:200],
        "description": f"Built by `ckptzoo index build` from {files.name}/.",
        "models": documents,
    }
    index, invalid = parse_index(document, str(out))  # what we write must read back
    problems += invalid
    document["models"] = [m.model_dump(mode="json", exclude_none=True) for m in index.models]
    return document, problems


def write_index(
    folder: str | Path, out: str | Path | None = None, *, fmt: str | None = None, name: str | None = None
) -> tuple[str | Path, dict[str, Any], list[Problem]]:
    """Build and write the index (JSON or Parquet, from `fmt` or the suffix of `out`).

    Either side may be on object storage: `s3://bucket/runs/` is read in place, and an
    `-o s3://...` index is written locally, then uploaded.
    """
    remote = storage.is_object_url(str(folder))
    if not remote and not Path(folder).is_dir():
        raise ZooError(f"{folder}: not a folder")
    fmt = fmt or ("parquet" if out is not None and str(out).endswith(".parquet") else "json")
    if fmt not in ("json", "parquet"):
        raise ZooError(f"unknown index format {fmt!r} (json or parquet)")
    if out is None:
        out = str(folder).rstrip("/") + f"/index.{fmt}" if remote else Path(folder) / f"index.{fmt}"
    to_object = storage.is_object_url(str(out))
    if to_object and not remote:
        raise ZooError(
            f"{storage.shown(str(out))}: an index on object storage cannot name files on this machine; "
            "upload them with it: ckptzoo index publish FOLDER DEST"
        )
    document, problems = build_index(folder, out, name=name)
    with tempfile.TemporaryDirectory(prefix="ckptzoo-build-") as scratch:
        target = Path(scratch) / f"index.{fmt}" if to_object else Path(out)
        with cache.atomic_write(target) as temporary:
            if fmt == "parquet":
                from ..index.parquet_write import write_parquet

                write_parquet(parse_models(document["models"], str(out))[0], temporary, name=document["name"])
            else:
                temporary.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
        if to_object:
            upload(target, str(out))
    return out, document, problems


def upload(local: Path, url: str) -> None:
    """Put a file written here at `url` on object storage."""
    fs, path = storage.filesystem(url)
    try:
        fs.put_file(str(local), path)
    except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
        raise ZooError(f"{storage.shown(url)}: cannot upload ({storage.error_message(error)})") from None
