"""The cache layout: the folder names under the cache root and the path of each thing kept there
(the tree is drawn in the package's docstring), and the readable views that link into ``blobs/``."""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import re
import urllib.parse

from ..errors import FetchError
from ..safety import check_relative_path
from ..text import label_text, one_line, terminal_safe
from .files import atomic_write

log = logging.getLogger(__name__)

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
