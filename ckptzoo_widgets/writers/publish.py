"""`ckptzoo index publish SOURCE s3://bucket/zoo/`: a zoo and the files it names, uploaded to object storage.

The source opens as `open_zoo` opens it (a folder of runs is indexed and
hashed first, as `index build` does). Every file the zoo names by a relative
path on this machine is uploaded to the same relative path below the
destination, read through the folder rule (regular files inside the zoo's
folder, sha256 checked against the index when it has one). Files named by a
URL (http(s), s3:// ...) stay where they are. A file is hashed and uploaded
from one open descriptor, and the bytes sent are hashed again on the way: what
lands at the destination is what was hashed (a file swapped for a link to a
secret after it was hashed is not what is read; one rewritten in place is left
out, its upload discarded). The destination keeps a
manifest, `SHA256SUMS` (the output format of `sha256sum`): a file whose path
the manifest lists with the same sha256, and which is there with the same
size, is not uploaded again. The index is written last (Parquet, or JSON with
`--format json`), so a reader never sees an index naming a file not there yet.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .. import safety, storage
from ..errors import ZooError
from ..schema import FileEntry, ModelEntry
from ..sources._folder import Folder, FolderReadError
from .build import sha256_of_handle

MANIFEST = "SHA256SUMS"
MAX_MANIFEST = 64 << 20
Report = Callable[[str], None]


@dataclass
class Published:
    index: str  # the URL of the index written
    models: int = 0
    uploaded: list[str] = field(default_factory=list)  # relative paths uploaded
    kept: list[str] = field(default_factory=list)  # already there with the same sha256
    uploaded_bytes: int = 0


def _fail(url: str, what: str, error: BaseException, options: dict[str, Any] | None) -> ZooError:
    return ZooError(f"{storage.shown(url)}: {what} ({storage.error_message(error, options)})")


class Destination:
    """A folder on object storage that receives a zoo: its manifest, its listing, uploads."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None):
        storage.check_url(url.rstrip("/") + "/index")  # a bucket, no credentials in the URL
        self.url = url.rstrip("/") + "/"
        self.options = storage_options
        self.fs, path = storage.filesystem(self.url, storage_options)
        self.root = path.rstrip("/")
        self.sums = self._manifest()
        self._sizes: dict[str, int] | None = None

    def key(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _manifest(self) -> dict[str, str]:
        try:
            with self.fs.open(self.key(MANIFEST), "rb") as handle:
                text = handle.read(MAX_MANIFEST + 1)
        except FileNotFoundError:
            return {}
        except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
            raise _fail(self.url + MANIFEST, "cannot read", error, self.options) from None
        sums = {}
        for line in text.decode("utf-8", "replace").splitlines():
            sha, _, name = line.partition("  ")
            if len(sha) == 64 and name:
                sums[name] = sha
        return sums

    def size(self, relative: str) -> int | None:
        """The size of an object already there (one listing of the destination, on first use)."""
        if self._sizes is None:
            try:
                found = self.fs.find(self.root, detail=True)
            except FileNotFoundError:
                found = {}
            except Exception as error:  # noqa: BLE001
                raise _fail(self.url, "cannot list", error, self.options) from None
            prefix = self.root + "/"
            self._sizes = {
                name[len(prefix) :]: int(info.get("size") or 0)
                for name, info in found.items()
                if name.startswith(prefix) and info.get("type") == "file"
            }
        return self._sizes.get(relative)

    def has(self, relative: str, sha256: str, size: int) -> bool:
        return self.sums.get(relative) == sha256 and self.size(relative) == size

    def upload_from(self, handle: BinaryIO, size: int, relative: str, sha256: str) -> None:
        """Send the `size` bytes `handle` holds from its start to `relative`, hashing them as they go.

        The object is kept only when they are the bytes hashed before (`sha256`); otherwise the
        upload is discarded (never committed) and FolderReadError.
        """
        key = self.key(relative)
        handle.seek(0)
        try:
            out = self.fs.open(key, "wb")
        except Exception as error:  # noqa: BLE001 - every backend raises its own kinds
            raise _fail(self.url + relative, "cannot upload", error, self.options) from None
        try:
            sent = sha256_of_handle(handle, size, out.write)
        except BaseException:
            _discard(out)
            raise
        if sent != sha256:
            _discard(out)
            raise FolderReadError("changed between its hash and its upload; its upload was discarded")
        try:
            out.close()
        except Exception as error:  # noqa: BLE001
            raise _fail(self.url + relative, "cannot upload", error, self.options) from None

    def upload(self, local: Path | str, relative: str) -> None:
        try:
            self.fs.put_file(str(local), self.key(relative))
        except Exception as error:  # noqa: BLE001
            raise _fail(self.url + relative, "cannot upload", error, self.options) from None

    def write_manifest(self) -> bool:
        """Write SHA256SUMS when it changed; True when it was written."""
        text = "".join(f"{sha}  {name}\n" for name, sha in sorted(self.sums.items())).encode()
        if self._manifest() == self.sums:
            return False
        with tempfile.NamedTemporaryFile("wb", suffix=".sums", delete=False) as handle:
            handle.write(text)
        try:
            self.upload(handle.name, MANIFEST)
        finally:
            os.unlink(handle.name)
        return True


def _discard(out: Any) -> None:
    """Throw away an upload not closed yet: an object store commits an object only on close, so it is
    never closed (s3fs aborts its multipart upload; a small file is still only in memory)."""
    try:
        out.discard()
    except Exception:  # noqa: BLE001 - every backend raises its own kinds
        pass
    out.closed = True  # its __del__ would close it, which commits


def _local_files(model: ModelEntry) -> list[tuple[int, int, Path]]:
    """(checkpoint index, file index, local path) of each file the model names by a path on this machine."""
    found: list[tuple[int, int, Path]] = []
    if not model.base or safety.is_url(model.base) or storage.is_object_url(model.base):
        return found
    for c, checkpoint in enumerate(model.checkpoints):
        for f, file in enumerate(checkpoint.files):
            if file.path is not None:
                found.append((c, f, Path(model.locate(file))))
    return found


@dataclass
class _Publishing:
    """One `index publish`: where to, what it did, the paths taken (-> sha256), how it reports."""

    target: Destination
    done: Published
    placed: dict[str, str]  # relative path -> sha256 (two sources may not put two files in one place)
    report: Report
    after_hash: Callable[[Path], None] | None


def publish(
    models: Iterable[ModelEntry],
    dest: str,
    *,
    name: str,
    fmt: str = "parquet",
    report: Report,
    options: Any = None,
    after_hash: Callable[[Path], None] | None = None,
) -> Published:
    """Upload the models' local files and an index naming them to `dest` (a folder URL on object storage).

    `after_hash(path)` is called once a file is hashed, before it is uploaded from the same open
    descriptor (a seam for tests of a file changed in between)."""
    if fmt not in ("parquet", "json"):
        raise ZooError(f"unknown index format {fmt!r} (json or parquet)")
    target = Destination(dest, options)
    done = Published(target.url + f"index.{fmt}")
    placed: dict[str, str] = {}  # relative path -> sha256 (two sources may not put two files in one place)
    run = _Publishing(target, done, placed, report, after_hash)
    written = [_publish_model(model, run) for model in models]
    done.models = len(written)
    target.write_manifest()
    _write_index(written, target, fmt, name, done)
    return done


def _publish_model(model: ModelEntry, run: _Publishing) -> ModelEntry:
    """One model as the published index names it: its local files uploaded (or already there), each
    with its sha256 and size; a file that cannot be published left out (reported); remote files by URL."""
    checkpoints = [c.model_copy(update={"files": list(c.files)}) for c in model.checkpoints]
    if safety.is_url(model.base) or storage.is_object_url(model.base):  # stays where it is: name it by URL
        for checkpoint in checkpoints:
            checkpoint.files[:] = [
                f if f.url else f.model_copy(update={"url": model.locate(f), "path": None}) for f in checkpoint.files
            ]
    folder = Folder(model.base) if _local_files(model) else None
    drop: set[tuple[int, int]] = set()
    for c, f, local in _local_files(model):
        file = checkpoints[c].files[f]
        where = f"{model.id}@{checkpoints[c].name}: {file.path}"
        assert folder is not None  # there are local files
        sent = _publish_file(run, folder, local, file, where)
        if sent is None:
            drop.add((c, f))
            continue
        checkpoints[c].files[f] = file.model_copy(update={"sha256": sent[0], "size": sent[1]})
    for c, checkpoint in enumerate(checkpoints):
        kept = [file for f, file in enumerate(checkpoint.files) if (c, f) not in drop]
        checkpoints[c] = checkpoint.model_copy(update={"files": kept})
    return model.model_copy(update={"checkpoints": checkpoints})


def _publish_file(run: _Publishing, folder: Folder, local: Path, file: FileEntry, where: str) -> tuple[str, int] | None:
    """One local file hashed and uploaded from one descriptor (opened under the folder rule): its
    sha256 and size, or None when it is left out (reported: unreadable, not what the index says,
    a path another file took, an upload that failed)."""
    relative = file.path or ""
    try:
        handle, size = folder.open(local)
    except FolderReadError as error:
        run.report(f"{where}: {error}; left out")
        return None
    with handle:
        try:
            sha = sha256_of_handle(handle, size)
        except FolderReadError as error:
            run.report(f"{where}: {error}; left out")
            return None
        if (file.sha256 and file.sha256 != sha) or (file.size is not None and file.size != size):
            run.report(f"{where}: its bytes do not match the index's sha256/size; left out")
            return None
        if run.placed.setdefault(relative, sha) != sha:
            run.report(f"{where}: another file of the zoo is published at that path; left out")
            return None
        if run.after_hash is not None:
            run.after_hash(local)
        if run.target.has(relative, sha, size):
            run.done.kept.append(relative)
        elif relative not in run.done.uploaded:
            try:
                run.target.upload_from(handle, size, relative, sha)
            except FolderReadError as error:
                run.report(f"{where}: {error}; left out")
                return None
            run.target.sums[relative] = sha
            run.done.uploaded.append(relative)
            run.done.uploaded_bytes += size
    return sha, size


def _write_index(models: list[ModelEntry], target: Destination, fmt: str, name: str, done: Published) -> None:
    """The index, written locally then uploaded unless the same bytes are already there."""
    from ..index.parquet_write import write_parquet
    from .convert import JsonWriter

    relative = f"index.{fmt}"
    with tempfile.TemporaryDirectory(prefix="ckptzoo-publish-") as temporary:
        local = Path(temporary) / relative
        if fmt == "parquet":
            write_parquet(models, local, name=name)
        else:
            writer = JsonWriter(local)
            writer.write(models)
            writer.close(name)
        sha = hashlib.sha256(local.read_bytes()).hexdigest()
        if target.has(relative, sha, local.stat().st_size):
            return
        target.upload(local, relative)
        target.sums[relative] = sha
        target.write_manifest()
