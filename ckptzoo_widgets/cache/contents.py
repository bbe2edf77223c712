"""What the cache holds and where a request is answered from: the blob that answers a URL (in the
cache or in a course pack), ``scan()`` of everything cached, removing a blob or an index."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import time
from collections.abc import Iterator

from ..errors import FetchError
from ..text import one_line
from .files import SHA_RE, read_json
from .layout import blob_path, index_parts, url_record_path, url_records, view_target


def cached_blob(root: pathlib.Path, url: str, sha: str | None, size: int | None) -> pathlib.Path | None:
    """The blob that answers a request for ``url`` (by its sha256 when given, else by
    the URL's record), if it is in the cache with the expected size. No network, no lock."""
    if sha is None:
        rec = read_json(url_record_path(root, url))
        if not rec or not isinstance(rec.get("sha256"), str) or not SHA_RE.fullmatch(rec["sha256"]):
            return None
        cand = blob_path(root, rec["sha256"])
        want = rec.get("size") if size is None else size
    else:
        cand = blob_path(root, sha)
        want = size
    try:
        st = cand.stat()
    except OSError:
        return None
    if want is not None and st.st_size != want:
        return None
    return cand


# ------------------------------------------------------------------- a course pack

#: the folder of a course pack (``ckptzoo_widgets.pack``) laid out like this cache, read-only
PACK_LAYER = "ckptzoo"


def pack_blob(pack: pathlib.Path | None, url: str, sha: str | None, size: int | None) -> pathlib.Path | None:
    """The file a course pack holds for ``url`` (by its sha256, else by the pack's URL record),
    served in place: no lock, no record, no touch (students cannot write the pack).

    None when there is no pack or it does not hold this file (the user's own cache answers).
    FetchError naming the teacher's fix when the pack lists the file but it is missing or damaged.
    """
    if pack is None:
        return None
    layer = pack / PACK_LAYER
    rec = read_json(url_record_path(layer, url)) or {}
    listed = rec.get("sha256") if isinstance(rec.get("sha256"), str) and SHA_RE.fullmatch(rec["sha256"]) else None
    want = sha or listed
    if want is None:
        return None
    expected = size if size is not None else (rec.get("size") if want == listed else None)
    cand = blob_path(layer, want)
    fix = f"the teacher runs `ckptzoo pack build COURSE.toml -o {pack}` (`ckptzoo pack verify {pack}` lists the damage)"
    try:
        found = cand.stat().st_size
    except FileNotFoundError:
        if want != listed:
            return None
        raise FetchError(f"the course pack {pack} lists {one_line(url)}, its file {cand} is missing; {fix}") from None
    except OSError as e:
        raise FetchError(f"cannot read the course pack's {cand}: {e.strerror or e}; {fix}") from None
    if expected is not None and found != expected:
        raise FetchError(
            f"the course pack {pack} holds {one_line(url)} damaged ({cand}: {found} bytes, expected {expected}); {fix}"
        )
    return cand


# ------------------------------------------------------------------ what is cached


@dataclasses.dataclass
class BlobInfo:
    sha256: str
    path: pathlib.Path
    size: int
    last_used: float  # mtime: set at download and on every cache hit
    views: list[str] = dataclasses.field(default_factory=list)
    urls: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class IndexInfo:
    url: str
    body: pathlib.Path
    record: pathlib.Path
    size: int  # the body and what is kept beside it (`index_parts`)
    sha256: str | None  # recorded when it was downloaded (None: an older record)
    fetched: float


@dataclasses.dataclass
class CacheContents:
    root: pathlib.Path
    blobs: dict[str, BlobInfo]
    indexes: list[IndexInfo]
    partials: list[pathlib.Path]  # tmp/*.part and their .part.json
    dangling_views: list[pathlib.Path]

    @property
    def total_bytes(self) -> int:
        return sum(b.size for b in self.blobs.values()) + sum(i.size for i in self.indexes)


def _files(base: pathlib.Path) -> Iterator[pathlib.Path]:
    if base.is_dir():
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                yield pathlib.Path(dirpath, name)


def blobs(root: pathlib.Path) -> Iterator[pathlib.Path]:
    for p in _files(root / "blobs" / "sha256"):
        if SHA_RE.fullmatch(p.name) and p.is_file() and not p.is_symlink():
            yield p


def views(root: pathlib.Path) -> Iterator[pathlib.Path]:
    yield from _files(root / "views")


def scan(root: pathlib.Path) -> CacheContents:
    """Everything the cache holds: blobs with their views and URLs, cached indexes,
    partial downloads and dangling views. Reads records and metadata, never hashes."""
    found: dict[str, BlobInfo] = {}
    by_inode: dict[tuple[int, int], str] = {}
    for p in blobs(root):
        st = p.stat()
        found[p.name] = BlobInfo(p.name, p, st.st_size, st.st_mtime)
        by_inode[(st.st_dev, st.st_ino)] = p.name
    dangling = []
    for link in views(root):
        target = view_target(link)
        try:
            tst = target.stat() if target is not None else None
        except OSError:
            tst = None
        name = by_inode.get((tst.st_dev, tst.st_ino)) if tst is not None else None
        if name:
            found[name].views.append(link.relative_to(root / "views").as_posix())
        elif target is None:
            dangling.append(link)
    for rec_path in sorted(url_records(root).glob("*.json")) if url_records(root).is_dir() else []:
        rec = read_json(rec_path) or {}
        sha = rec.get("sha256")
        if isinstance(sha, str) and sha in found and isinstance(rec.get("url"), str):
            found[sha].urls.append(rec["url"])
    indexes = []
    records = [p for sub in ("indexes", "hub") if (root / sub).is_dir() for p in sorted((root / sub).glob("*.json"))]
    for rec_path in records:  # live answers (hub/) are listed, verified and pruned like indexes
        rec = read_json(rec_path) or {}
        body = rec_path.with_suffix(".body")
        if isinstance(rec.get("url"), str) and body.is_file():
            sha = rec.get("sha256")
            kept = sum(p.stat().st_size for p in _files(index_parts(body)))  # removed with it: counted with it
            indexes.append(
                IndexInfo(
                    rec["url"],
                    body,
                    rec_path,
                    body.stat().st_size + kept,
                    sha if isinstance(sha, str) and SHA_RE.fullmatch(sha) else None,
                    float(rec.get("fetched") or body.stat().st_mtime),
                )
            )
    tmp = root / "tmp"
    partials = sorted(p for p in tmp.iterdir() if p.is_file() and ".part" in p.name) if tmp.is_dir() else []
    return CacheContents(root, found, indexes, partials, dangling)


def remove_blob(root: pathlib.Path, info: BlobInfo) -> None:
    """A blob with its views and URL records."""
    for v in info.views:
        try:
            os.unlink(root / "views" / v)
        except OSError:
            pass
    if url_records(root).is_dir():
        for rec_path in url_records(root).glob("*.json"):
            if (read_json(rec_path) or {}).get("sha256") == info.sha256:
                rec_path.unlink(missing_ok=True)
    info.path.unlink(missing_ok=True)


def remove_index(info: IndexInfo) -> None:
    info.record.unlink(missing_ok=True)
    info.body.unlink(missing_ok=True)
    shutil.rmtree(index_parts(info.body), ignore_errors=True)


def age(t: float) -> str:
    """'3d' or '5h' since ``t``."""
    days = (time.time() - t) / 86400.0
    return f"{days:.0f}d" if days >= 1 else f"{days * 24:.0f}h"
