"""The cache layout: where everything lives under the cache root, and what is there.

The one module that knows the layout; the downloader (``fetch``), the cache
CLI (``ckptzoo cache``) and the index readers (``sources._http`` for http(s),
``sources.object_store`` for object storage) go through it. docs/downloads.md
("The cache layout") describes it for users::

    <root>/                                  config.cache_root(): CKPTZOO_CACHE or the platform cache dir
      blobs/sha256/ab/<sha256>               downloaded files, named by their sha256 (one copy per content)
      urls/<sha256 of the URL>.json          what a URL resolved to: sha256, size, ETag, Last-Modified, time
      views/<zoo>/<model>/<ckpt>/<file>      readable links into blobs/ (symlink, hard link)
      views/by-url/<key>/<file>              the same for a URL fetched without a view
      indexes/<key>.body, <key>.json         a zoo index read over http(s) or from object storage (a JSON or
                                             Parquet body; of a Parquet index on object storage, its checked
                                             grid as an Arrow file) and its record (URL, validators, sha256)
      indexes/<key>.parts/<group>.<column>.arrow
                                             of that Parquet index, the `entry` and `description` columns of
                                             the row groups read since (a model opened once opens offline)
      hub/<key>.body, <key>.json             an answer of a live source's API (the Hugging Face Hub: a page of a
                                             search, a model's info, its branches, its README) and its record
                                             (URL without credentials, ETag, when it was fetched, the next-page
                                             link); reused within a freshness window, revalidated after it
                                             (sources/hub_client.py), served offline
      scans/sha256/<sha256>.json             the pickle-scan verdict of a file content
      weights/sha256/<sha256>.json           per-tensor statistics of a safetensors content (ckptzoo_widgets.weights)
      weights/pairs/<sha256 a>/<sha256 b>.json
                                             the change from content a to content b, per tensor
      weights/commits/<sha1>.json            the weight files (name -> sha256) of a Hub commit, which never changes
      tmp/<key>.part, <key>.part.json        a download in progress and its validators (resume)
      locks/<key>.lock                       one lock per file being downloaded (gone once cached)

Writes are atomic (``atomic_write``: a temporary name in the same folder, then ``os.replace``),
so a reader sees the old content or the new, never half.

The machine's shared answer cache (``CKPTZOO_SHARED_CACHE``, ``config.shared_cache``;
docs/classroom.md) has the same ``hub/`` layout, written by many Unix users of one group::

    <shared>/                                made by the teacher: group <class>, mode 2770 (setgid, group rwx)
      hub/<key>.body, <key>.json             public answers of the Hub's API (anonymous requests only)
      locks/<key>.lock                       one empty file per answer asked: one user asks, the others wait

Folders are made ``SHARED_DIR_MODE`` (2770) and files ``SHARED_FILE_MODE`` (0640), whatever
the user's umask, with the shared folder's group (``write_shared``); a temporary file is made
with ``O_EXCL | O_NOFOLLOW``, so a name another user planted is never followed. Reads
(``read_shared``) take regular files only, not links, one name each, within a size cap: what
is read is untrusted (any member of the group can replace it) and goes through the same
parsers and validators as a live answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import pathlib
import re
import secrets
import shutil
import stat
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from .errors import FetchError
from .safety import check_relative_path
from .text import label_text, one_line, terminal_safe

log = logging.getLogger(__name__)

SHA_RE = re.compile(r"[0-9a-f]{64}")
CHUNK = 4 << 20  # read size when hashing a file
_BAD_VIEW_PART = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")
SUBFOLDERS = ("blobs", "urls", "views", "indexes", "hub", "scans", "weights", "tmp", "locks")
DOWNLOAD_FOLDERS = ("locks", "tmp", "blobs", "urls")  # what a download writes (made before it starts)
# per-content records, made again when missing (`ckptzoo cache prune` removes them by age)
RECORD_FOLDERS = {"scans": "pickle-scan record", "weights": "weight-statistics record"}


# ---------------------------------------------------------------------------- paths


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def blob_path(root: pathlib.Path, sha: str) -> pathlib.Path:
    return root / "blobs" / "sha256" / sha[:2] / sha


def url_records(root: pathlib.Path) -> pathlib.Path:
    """The folder of URL records (url -> sha256 of the file it served)."""
    return root / "urls"


def url_record_path(root: pathlib.Path, url: str) -> pathlib.Path:
    return url_records(root) / f"{url_key(url)}.json"


def index_paths(root: pathlib.Path, url: str) -> tuple[pathlib.Path, pathlib.Path]:
    """(body, record) of a zoo index read over http(s)."""
    key = url_key(url)[:40]
    return root / "indexes" / f"{key}.body", root / "indexes" / f"{key}.json"


def hub_answer_paths(root: pathlib.Path, url: str) -> tuple[pathlib.Path, pathlib.Path]:
    """(body, record) of one answer of a live source's API, keyed by its URL (never by a credential)."""
    key = url_key(url)[:40]
    return root / "hub" / f"{key}.body", root / "hub" / f"{key}.json"


def index_parts(body: pathlib.Path) -> pathlib.Path:
    """The pieces read on demand from an index kept in place (``<key>.parts/``), removed with it."""
    return body.with_suffix(".parts")


def scan_record_path(root: pathlib.Path, sha: str) -> pathlib.Path:
    """The pickle-scan verdict recorded for a file content (``pickle_verdicts``)."""
    return root / "scans" / "sha256" / f"{sha}.json"


def weights_record_path(root: pathlib.Path, sha: str, other: str | None = None) -> pathlib.Path:
    """Per-tensor statistics of a file content, or (with ``other``) the change from ``sha`` to ``other``."""
    if other is None:
        return root / "weights" / "sha256" / f"{sha}.json"
    return root / "weights" / "pairs" / sha / f"{other}.json"


def commit_files_path(root: pathlib.Path, commit: str) -> pathlib.Path:
    """The weight files (name -> sha256) of one Hub commit (a commit's files never change)."""
    return root / "weights" / "commits" / f"{commit}.json"


def partial_paths(root: pathlib.Path, key: str) -> tuple[pathlib.Path, pathlib.Path]:
    """(partial file, its validators) of a download in progress."""
    return root / "tmp" / f"{key}.part", root / "tmp" / f"{key}.part.json"


def locks_folder(root: pathlib.Path) -> pathlib.Path:
    return root / "locks"


def lock_path(root: pathlib.Path, key: str) -> pathlib.Path:
    return locks_folder(root) / f"{key}.lock"


# ------------------------------------------------------------------ atomic records


def read_json(path: pathlib.Path) -> dict[str, Any] | None:
    """A JSON object from a record, or None when missing or damaged."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


TEMPORARY_GLOB = ".*.tmp"  # what an interrupted atomic write leaves (`ckptzoo cache prune` removes it)


def temporary_name(path: pathlib.Path) -> pathlib.Path:
    """The name ``path`` is written under before it appears: hidden, in its folder, per process and thread."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def is_temporary(name: str) -> bool:
    """A file name `temporary_name` (or `write_shared`) makes."""
    return name.startswith(".") and name.endswith(".tmp")


@contextlib.contextmanager
def atomic_write(path: pathlib.Path) -> Iterator[pathlib.Path]:
    """The one atomic write: a temporary name beside ``path`` to write (a file, a link) inside the block.

    When the block ends without an error the temporary replaces ``path`` in one step,
    so readers see the old file or the new one; either way nothing is left under the
    temporary name. ``path``'s folder is made when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_atomic(path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_json_atomic(path: pathlib.Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True).encode("utf-8"))


def touch(path: pathlib.Path) -> None:
    """Record a use (prune --older-than looks at it); harmless on a read-only cache."""
    try:
        os.utime(path)
    except OSError:
        pass


# --------------------------------------------------------- the shared answer cache

SHARED_DIR_MODE = 0o2770  # setgid (new files take the folder's group), rwx for owner and group
SHARED_FILE_MODE = 0o640  # rw for its writer, r for the group: nobody edits another's file in place
SHARED_POLL_S = 0.05


def _shared_folder(folder: pathlib.Path, root: pathlib.Path) -> None:
    """``folder`` (under ``root``) made with the shared modes and the root's group; the root itself is not made."""
    group = root.stat().st_gid
    path = root
    for part in folder.relative_to(root).parts:
        path = path / part
        try:
            os.mkdir(path, SHARED_DIR_MODE)
        except FileExistsError:
            continue
        try:
            os.chown(path, -1, group)
            os.chmod(path, SHARED_DIR_MODE)  # what the umask took away
        except OSError:
            pass


def write_shared(root: pathlib.Path, path: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in the shared cache ``root``: atomically, group-readable, the root's group.

    The temporary name is random and made with ``O_EXCL | O_NOFOLLOW`` (a link another user put
    there is refused, never written through). OSError when the folder cannot be written.
    """
    _shared_folder(path.parent, root)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, SHARED_FILE_MODE)
    try:
        try:
            os.fchmod(fd, SHARED_FILE_MODE)
            group = root.stat().st_gid
            if os.fstat(fd).st_gid != group:
                os.fchown(fd, -1, group)  # a folder without setgid: the file still gets the class's group
        except OSError:
            pass
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_shared(path: pathlib.Path, limit: int) -> tuple[bytes, os.stat_result] | None:
    """The bytes of a shared file and its status, or None: missing, not a regular file, a link,
    more than one name (a hard link planted to another file), larger than ``limit``, unreadable."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1 or status.st_size > limit:
            return None
        with open(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return (data, status) if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def shared_lock(root: pathlib.Path, key: str, wait: float) -> Iterator[bool]:
    """Hold ``<root>/locks/<key>.lock`` (flock) while one user asks, for at most ``wait`` seconds of waiting.

    Yields True when held, False when it could not be had in time or at all (a lock another user
    holds for ever, a file that is not one, no ``fcntl``): the caller then asks anyway, so a lock
    is only ever a saving, never a wait without end.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield False
        return
    path = lock_path(root, key)
    fd: int | None = None
    try:
        _shared_folder(path.parent, root)
        fd = os.open(
            path,
            os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
            SHARED_FILE_MODE,
        )
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            fd = None
        elif status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) != SHARED_FILE_MODE:
            os.fchmod(fd, SHARED_FILE_MODE)
    except OSError:
        if fd is not None:
            os.close(fd)
        fd = None
    held = False
    if fd is not None:
        ends = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= ends:
                    break
                time.sleep(SHARED_POLL_S)
            except OSError:
                break
    try:
        yield held
    finally:
        if fd is not None:
            os.close(fd)  # the lock goes with it


# --------------------------------------------------------------------------- hashing


def sha256_file(path: pathlib.Path, limit: int | None = None) -> tuple[Any, int]:
    """(sha256 object, bytes read) over the file, or over its first ``limit`` bytes.

    The one file hasher: verification, ``cache verify`` and resuming a partial
    download all use it. Fewer bytes than ``limit`` means the file is shorter.
    """
    h = hashlib.sha256()
    buf = bytearray(min(CHUNK, limit) if limit is not None else CHUNK)
    mv = memoryview(buf)
    done = 0
    with open(path, "rb", buffering=0) as f:
        while limit is None or done < limit:
            want = len(buf) if limit is None else min(len(buf), limit - done)
            n = f.readinto(mv[:want])
            if not n:
                break
            h.update(mv[:n])
            done += n
    return h, done


def hash_file(path: pathlib.Path) -> str:
    """The sha256 hex digest of a whole file."""
    return sha256_file(path)[0].hexdigest()


def normalise_sha(sha256: str | None) -> str | None:
    """A sha256 as stored (lowercase hex, no ``sha256:`` prefix); FetchError when it is not one."""
    if sha256 is None:
        return None
    s = str(sha256).strip().lower().removeprefix("sha256:")
    if not SHA_RE.fullmatch(s):
        raise FetchError(f"not a sha256 hex digest: {one_line(repr(sha256), 80)}")
    return s


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


# ----------------------------------------------------------------------------- views


def check_view(view: tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
    """Validate view components; a component may hold ``/`` (``"org/model"``, a
    relative file path), which splits it. Nothing may climb out of ``views/``."""
    if view is None:
        return None
    if isinstance(view, (str, bytes)):
        raise FetchError(f"view must be a tuple of path components, not {one_line(repr(view))}")
    parts: list[str] = []
    for comp in view:
        if not isinstance(comp, str) or not comp:
            raise FetchError(f"unsafe view component {one_line(repr(comp))}")
        for p in comp.split("/"):
            # no control, bidi or separator characters either: a view name is shown in terminals
            if not p or p in {".", ".."} or len(p) > 200 or _BAD_VIEW_PART.search(p) or terminal_safe(p) != p:
                raise FetchError(f"unsafe view component {one_line(repr(comp))}")
            parts.append(p)
    if not parts:
        raise FetchError("view must name at least a file")
    return tuple(parts)


def file_name_from_url(url: str) -> str:
    """The file name a URL names (its last path segment, percent-decoded) when it
    passes the rules for a file name in an index and is plain text (letters,
    digits, ``._-+=@,()[]~#%`` and spaces); else ``download`` with the name's
    suffix when that is plain (``.safetensors``)."""
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1], errors="replace")
    try:
        check_relative_path(name)
        # letters, digits and the punctuation a label keeps: no markup, quotes, controls, '/'
        ok = not name.startswith(".") and len(name) <= 200 and label_text(name, limit=200) == name
    except ValueError:
        ok = False
    if ok:
        return name
    suffix = name[name.rfind(".") :] if "." in name else ""
    return "download" + (suffix if _SAFE_SUFFIX.fullmatch(suffix) else "")


def default_view(url: str) -> tuple[str, ...]:
    """The view of a URL fetched without one: ``by-url/<key>/<file name>``."""
    return ("by-url", url_key(url)[:16], file_name_from_url(url))


def link_view(root: pathlib.Path, view: tuple[str, ...], blob: pathlib.Path) -> pathlib.Path:
    """Make ``root/views/<view...>`` point at ``blob``; return the readable path.

    A relative symlink where the OS allows it, else a hard link, else the blob
    itself (a read-only shared cache, or a file system without links).
    """
    link = root.joinpath("views", *view)
    try:
        if link.is_symlink() or link.exists():
            if os.path.samefile(link, blob):
                return link
        with atomic_write(link) as tmp:
            try:
                os.symlink(os.path.relpath(blob, link.parent), tmp)
            except OSError:
                os.link(blob, tmp)
        return link
    except OSError as e:
        log.debug("could not link view %s: %s", link, e)
        return blob


def view_target(link: pathlib.Path) -> pathlib.Path | None:
    """The blob a view points at (symlink or hard link), or None when dangling."""
    try:
        if link.is_symlink():
            target = link.resolve()
            return target if target.is_file() else None
        return link if link.is_file() else None
    except OSError:
        return None


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
