"""Download cache for checkpoint files: verified, resumable, locked, offline-first.

``fetch(url_or_path, sha256=..., size=...)`` returns a local path to a file whose
bytes have been checked.

Cache layout (``cache_root()``; ``CKPTZOO_CACHE`` overrides the platform default)::

    blobs/sha256/ab/ab12...ef      content-addressed files (one copy per content)
    urls/<sha256(url)>.json        what a URL resolved to (sha256, size, ETag, time)
    views/<zoo>/<model>/<ckpt>/<file> -> ../../blobs/...   readable links
    tmp/<key>.part (+ .part.json)  a download in progress (resumable)
    locks/<key>.lock               one lock per file being downloaded (gone once cached)

Guarantees: the final file appears (``os.replace``) only after its sha256 and size
match; a download is resumed with ``Range`` + ``If-Range``; concurrent processes
wait on a per-file lock so a file is transferred once; transient errors (connection
errors, 408/429/5xx) are retried with exponential backoff honouring
``Retry-After``; a total deadline and a minimum-throughput guard abandon stuck or
dripping servers; ``CKPTZOO_OFFLINE=1`` (or a failing network) serves the cache.

Environment variables: ``CKPTZOO_CACHE``, ``CKPTZOO_OFFLINE``, ``CKPTZOO_QUIET``,
``CKPTZOO_TIMEOUT`` (total seconds per file), ``CKPTZOO_READ_TIMEOUT``,
``CKPTZOO_RETRIES``, ``CKPTZOO_BACKOFF`` (first backoff, seconds),
``CKPTZOO_MIN_SPEED`` (bytes/s), ``CKPTZOO_SPEED_WINDOW`` (seconds).
"""

from __future__ import annotations

import dataclasses
import email.utils
import errno
import hashlib
import http.client
import json
import logging
import os
import pathlib
import queue
import random
import re
import shutil
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from . import credentials
from .humanize import human_bytes
from .safety import check_relative_path
from .text import label_text, one_line

__all__ = [
    "DiskFullError",
    "DownloadTimeoutError",
    "FetchError",
    "HTTPStatusError",
    "IntegrityError",
    "NetworkError",
    "OfflineError",
    "SizeLimitError",
    "cache_root",
    "fetch",
]

log = logging.getLogger(__name__)

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_BAD_VIEW_PART = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")
_CHUNK = 4 << 20  # buffer size handed from the network reader to the hasher/writer
#: a failed download keeps its partial file for a later resume only above this size
KEEP_PARTIAL_MIN = 1 << 20


# --------------------------------------------------------------------------- errors


class FetchError(Exception):
    """Any failure to produce a verified local file. The message is one line."""


class IntegrityError(FetchError):
    """The bytes do not match the expected sha256 or size."""


class OfflineError(FetchError):
    """Offline (by request or because the network failed) and the file is not cached."""


class NetworkError(OfflineError):
    """The server could not be reached (after retries) and the file is not cached."""


class DownloadTimeoutError(NetworkError):
    """The total deadline passed, or the server sent data too slowly."""


class HTTPStatusError(FetchError):
    """The server answered with an error status that retrying will not fix."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class DiskFullError(FetchError):
    """No space left to store the file."""


class SizeLimitError(FetchError):
    """The file is larger than its expected size or the byte cap, or decodes into far more than was sent."""


# ------------------------------------------------------------------------- settings


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise FetchError(f"{name}={raw!r} is not a number") from None


def cache_root() -> pathlib.Path:
    """The cache folder: ``$CKPTZOO_CACHE`` or the platform's user cache dir."""
    env = os.environ.get("CKPTZOO_CACHE", "").strip()
    if env:
        return pathlib.Path(env).expanduser()
    import platformdirs

    return pathlib.Path(platformdirs.user_cache_dir("ckptzoo", appauthor=False))


@dataclasses.dataclass
class _Settings:
    root: pathlib.Path
    offline: bool
    quiet: bool
    deadline: float | None  # total seconds per file (None: derived from size)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 30.0
    min_speed: float = 16 * 1024  # bytes/s, averaged over speed_window
    speed_window: float = 30.0
    max_attempts: int = 20  # requests per file, whether or not they made progress
    max_bytes: int = 64 << 30  # cap for a file whose size the index does not give

    @classmethod
    def from_env(cls, *, quiet: bool | None, offline: bool | None, timeout: float | None) -> _Settings:
        return cls(
            root=cache_root(),
            offline=_env_flag("CKPTZOO_OFFLINE") if offline is None else bool(offline),
            quiet=_env_flag("CKPTZOO_QUIET") if quiet is None else bool(quiet),
            deadline=_env_float("CKPTZOO_TIMEOUT", None) if timeout is None else timeout,
            read_timeout=_env_float("CKPTZOO_READ_TIMEOUT", 30.0),  # type: ignore[arg-type]
            retries=int(_env_float("CKPTZOO_RETRIES", 5)),  # type: ignore[arg-type]
            backoff=_env_float("CKPTZOO_BACKOFF", 1.0),  # type: ignore[arg-type]
            min_speed=_env_float("CKPTZOO_MIN_SPEED", 16 * 1024),  # type: ignore[arg-type]
            speed_window=_env_float("CKPTZOO_SPEED_WINDOW", 30.0),  # type: ignore[arg-type]
            max_attempts=int(_env_float("CKPTZOO_MAX_ATTEMPTS", 20)),  # type: ignore[arg-type]
            max_bytes=int(_env_float("CKPTZOO_MAX_BYTES", 64 << 30)),  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------------- cache paths


def _blob_path(root: pathlib.Path, sha: str) -> pathlib.Path:
    return root / "blobs" / "sha256" / sha[:2] / sha


def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _url_record_path(root: pathlib.Path, url: str) -> pathlib.Path:
    return root / "urls" / f"{_url_key(url)}.json"


def _read_json(path: pathlib.Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _write_json_atomic(path: pathlib.Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True)
        os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _normalise_sha(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    s = str(sha256).strip().lower()
    s = s.removeprefix("sha256:")
    if not _SHA_RE.fullmatch(s):
        raise FetchError(f"not a sha256 hex digest: {one_line(repr(sha256), 80)}")
    return s


def _check_view(view: tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
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
            if not p or p in {".", ".."} or len(p) > 200 or _BAD_VIEW_PART.search(p.replace("/", "")):
                raise FetchError(f"unsafe view component {one_line(repr(comp))}")
            parts.append(p)
    if not parts:
        raise FetchError("view must name at least a file")
    return tuple(parts)


def _link_view(root: pathlib.Path, view: tuple[str, ...], blob: pathlib.Path) -> pathlib.Path:
    """Make ``root/views/<view...>`` point at ``blob``; return the readable path.

    A relative symlink where the OS allows it, else a hard link, else the blob
    itself (a read-only shared cache, or a file system without links).
    """
    link = root.joinpath("views", *view)
    try:
        if link.is_symlink() or link.exists():
            if os.path.samefile(link, blob):
                return link
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            try:
                os.symlink(os.path.relpath(blob, link.parent), tmp)
            except OSError:
                os.link(blob, tmp)
            os.replace(tmp, link)
        finally:
            if tmp.is_symlink() or tmp.exists():
                os.unlink(tmp)
        return link
    except OSError as e:
        log.debug("could not link view %s: %s", link, e)
        return blob


def _touch(path: pathlib.Path) -> None:
    """Record a use (prune --older-than looks at it); harmless on a read-only cache."""
    try:
        os.utime(path)
    except OSError:
        pass


# ------------------------------------------------------------------------ local files


def _hash_file(path: pathlib.Path, *, limit: int | None = None) -> str:
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    remaining = limit
    with open(path, "rb", buffering=0) as f:
        while remaining is None or remaining > 0:
            want = _CHUNK if remaining is None else min(_CHUNK, remaining)
            n = f.readinto(mv[:want])
            if not n:
                break
            h.update(mv[:n])
            if remaining is not None:
                remaining -= n
    return h.hexdigest()


def _fetch_local(path: pathlib.Path, sha: str | None, size: int | None, settings: _Settings) -> pathlib.Path:
    path = path.expanduser()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FetchError(f"file not found: {path}") from None
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror or e}") from None
    if not path.is_file():
        raise FetchError(f"not a file: {path}")
    if size is not None and st.st_size != size:
        raise IntegrityError(f"size mismatch for {path}: expected {size} bytes, found {st.st_size}")
    if sha is not None:
        try:
            got = _hash_file(path)  # every time: a local file can change under the same size and mtime
        except OSError as e:
            raise FetchError(f"cannot read {path}: {e.strerror or e}") from None
        if got != sha:
            raise IntegrityError(f"sha256 mismatch for {path}: expected {sha}, got {got}")
    return path


# ------------------------------------------------------------------------- the public


def fetch(
    url_or_path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    view: tuple[str, ...] | None = None,
    quiet: bool | None = None,
    offline: bool | None = None,
    timeout: float | None = None,
) -> pathlib.Path:
    """Return a local, verified path for a URL or a local file.

    ``url_or_path``: an http(s) URL (downloaded into the cache), a ``file://`` URL
    or a local path (checked in place, never copied).
    ``sha256`` / ``size``: expected content; checked when given.
    ``view``: path components of a readable link under ``<cache>/views/``
    (e.g. ``("builtin", "digits-mlp", "epoch-10", "model.safetensors")``); the
    link is what is returned for downloads.
    ``quiet``: no progress bar (default ``CKPTZOO_QUIET``).
    ``offline``: never touch the network (default ``CKPTZOO_OFFLINE``).
    ``timeout``: total deadline in seconds for one download (default
    ``CKPTZOO_TIMEOUT``, else one hour or 1 MiB/s of the size, whichever is longer).

    Raises :class:`FetchError` (or a subclass) with a one-line message.
    """
    try:
        return _fetch(url_or_path, sha256, size, view, quiet, offline, timeout)
    except FetchError as e:
        # the message says it all: no wall of internal frames in a notebook
        raise e.with_traceback(None) from None


def _fetch(
    url_or_path: str | os.PathLike[str],
    sha256: str | None,
    size: int | None,
    view: tuple[str, ...] | None,
    quiet: bool | None,
    offline: bool | None,
    timeout: float | None,
) -> pathlib.Path:
    sha = _normalise_sha(sha256)
    if size is not None:
        size = int(size)
        if size < 0:
            raise FetchError(f"negative size {size}")
    parts = _check_view(view)
    settings = _Settings.from_env(quiet=quiet, offline=offline, timeout=timeout)

    if isinstance(url_or_path, os.PathLike):
        return _fetch_local(pathlib.Path(url_or_path), sha, size, settings)
    target = credentials.accept(str(url_or_path))  # user:pw@ stays in this process only
    parsed = urllib.parse.urlsplit(target)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_url(target, sha, size, parts, settings)
    if scheme == "file":
        return _fetch_local(pathlib.Path(urllib.request.url2pathname(parsed.path)), sha, size, settings)
    if len(scheme) > 1:  # (one letter: a Windows drive)
        raise FetchError(
            f"unsupported URL scheme {one_line(repr(scheme), 40)} in {one_line(repr(target))} (http, https, file)"
        )
    return _fetch_local(pathlib.Path(target), sha, size, settings)


# -------------------------------------------------------------------------- downloads


_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")


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


def _default_view(url: str) -> tuple[str, ...]:
    return ("by-url", _url_key(url)[:16], file_name_from_url(url))


def _cached(url: str, sha: str | None, size: int | None, root: pathlib.Path) -> pathlib.Path | None:
    """The cached blob for this request, if any (no network, no lock)."""
    if sha is None:
        rec = _read_json(_url_record_path(root, url))
        if not rec or not isinstance(rec.get("sha256"), str) or not _SHA_RE.fullmatch(rec["sha256"]):
            return None
        cand = _blob_path(root, rec["sha256"])
        want = rec.get("size") if size is None else size
    else:
        cand = _blob_path(root, sha)
        want = size
    try:
        st = cand.stat()
    except OSError:
        return None
    if want is not None and st.st_size != want:
        return None
    return cand


def _fetch_url(
    url: str,
    sha: str | None,
    size: int | None,
    view: tuple[str, ...] | None,
    settings: _Settings,
) -> pathlib.Path:
    root = settings.root
    view = view or _default_view(url)
    hit = _cached(url, sha, size, root)
    if hit is None:
        if settings.offline:
            raise OfflineError(
                f"offline mode and {one_line(url)} is not in the cache ({root}); connect once or unset CKPTZOO_OFFLINE"
            )
        hit = _download_locked(url, sha, size, settings)
    _touch(hit)
    return _link_view(root, view, hit)


def _download_locked(url: str, sha: str | None, size: int | None, settings: _Settings) -> pathlib.Path:
    from filelock import FileLock, Timeout

    root = settings.root
    key = sha or f"url-{_url_key(url)}"
    for sub in ("locks", "tmp", "blobs", "urls"):
        try:
            (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FetchError(f"cannot create the cache folder {root / sub}: {e.strerror or e}") from None
    lock = FileLock(str(root / "locks" / f"{key}.lock"))
    try:
        try:
            lock.acquire(timeout=0.5)
        except Timeout:
            if not settings.quiet:
                log.warning("waiting for another process downloading %s", one_line(url))
            lock.acquire()
    except OSError as e:
        raise FetchError(f"cannot lock {lock.lock_file} in the cache: {e.strerror or e}") from None
    try:
        blob = _cached(url, sha, size, root)  # someone else finished it while we waited
        if blob is None:
            blob = _Download(url, sha, size, key, settings).run()
        # The file is in the cache: the lock file can go. Whoever still waits on
        # it (or locks a new one) finds the file cached and downloads nothing.
        # After a failure it stays, so two waiters never share a partial file.
        try:
            os.unlink(lock.lock_file)
        except OSError:
            pass
        return blob
    finally:
        lock.release()


class _Retry(Exception):
    """Internal: a transient failure; ``after`` seconds requested by the server."""

    def __init__(self, reason: str, after: float | None = None, progressed: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.progressed = progressed


class _Restart(Exception):
    """Internal: discard the partial file and start again from byte 0."""


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


_PARSE_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class _Download:
    """One download of one URL into ``tmp/<key>.part`` then the blob store."""

    def __init__(self, url: str, sha: str | None, size: int | None, key: str, settings: _Settings):
        self.url = url
        self.shown = one_line(url)  # the URL as messages quote it
        self.sha = sha
        self.size = size
        self.s = settings
        self.root = settings.root
        self.part = self.root / "tmp" / f"{key}.part"
        self.meta = self.root / "tmp" / f"{key}.part.json"
        self.hasher = hashlib.sha256()
        self.hashed = 0  # bytes of the partial file already fed to self.hasher
        self.total: int | None = size
        # no file grows past this: its size from the index, else the configured cap
        self.limit = size if size is not None else settings.max_bytes
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.resumed = False
        self.bar: Any = None
        deadline = settings.deadline
        if deadline is None:
            deadline = max(3600.0, (size or 0) / float(1 << 20))
        self.t_end = time.monotonic() + deadline
        self.deadline = deadline

    # -- helpers -------------------------------------------------------------
    def _remaining(self) -> float:
        return self.t_end - time.monotonic()

    def _discard(self) -> None:
        for p in (self.part, self.meta):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            except OSError as e:
                log.debug("could not remove %s: %s", p, e)
        self.hasher = hashlib.sha256()
        self.hashed = 0

    def _partial_size(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def _sync_hasher(self, offset: int) -> None:
        """Make ``self.hasher`` cover exactly the first ``offset`` bytes of the partial."""
        if self.hashed == offset:
            return
        h = hashlib.sha256()
        if offset:
            buf = bytearray(_CHUNK)
            mv = memoryview(buf)
            left = offset
            with open(self.part, "rb", buffering=0) as f:
                while left:
                    n = f.readinto(mv[: min(_CHUNK, left)])
                    if not n:
                        raise _Restart()
                    h.update(mv[:n])
                    left -= n
        self.hasher = h
        self.hashed = offset

    def _progress(self, initial: int) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=initial,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=label_text(file_name_from_url(self.url)),  # tqdm.notebook shows desc as HTML
                disable=self.s.quiet,
                leave=False,
                mininterval=0.2,
            )
        else:
            self.bar.reset(total=self.total)
            self.bar.update(initial)

    # -- main loop -----------------------------------------------------------
    def run(self) -> pathlib.Path:
        import requests

        failures = restarts = attempts = 0
        verified_restart = False
        session = requests.Session()
        try:
            while True:
                if self._remaining() <= 0:
                    raise DownloadTimeoutError(
                        f"gave up on {self.shown}: total deadline of {self.deadline:.0f} s passed"
                    )
                try:
                    self._attempt(session)
                except _Restart:
                    self._discard()
                    restarts += 1
                    if restarts > 5:
                        raise FetchError(
                            f"could not download {self.shown}: the server keeps answering "
                            "ranges that do not match the request"
                        ) from None
                    continue
                except _Retry as r:
                    # progress resets the backoff, never the count of attempts: a server
                    # that always cuts the file short must not keep us busy forever
                    attempts += 1
                    failures = 1 if r.progressed else failures + 1
                    if attempts >= self.s.max_attempts:
                        raise NetworkError(
                            f"could not download {self.shown}: {r.reason} "
                            f"(gave up after {attempts} attempts, CKPTZOO_MAX_ATTEMPTS); the file is not in the cache"
                        ) from None
                    if failures > self.s.retries:
                        raise NetworkError(
                            f"could not download {self.shown}: {r.reason} "
                            f"(gave up after {self.s.retries} retries); the file is not in the cache"
                        ) from None
                    delay = min(self.s.backoff_max, self.s.backoff * 2 ** (failures - 1))
                    delay *= random.uniform(0.75, 1.0)
                    if r.after is not None:
                        delay = max(delay, r.after)
                    if delay >= self._remaining():
                        raise DownloadTimeoutError(
                            f"gave up on {self.shown}: {r.reason}; the next retry (in {delay:.0f} s) "
                            f"would pass the deadline of {self.deadline:.0f} s"
                        ) from None
                    log.info("retrying %s in %.1f s: %s", self.shown, delay, r.reason)
                    time.sleep(delay)
                    continue
                # body complete: verify
                try:
                    return self._finish()
                except IntegrityError:
                    if self.resumed and not verified_restart:
                        # a resumed file may mix two versions: one clean retry from zero
                        verified_restart = True
                        self._discard()
                        continue
                    raise
        except BaseException as e:
            self._cleanup_after(e)
            if isinstance(e, OSError):  # the file system: full, read-only, permissions
                raise _disk_error(e, self.part) from None
            raise
        finally:
            session.close()
            if self.bar is not None:
                self.bar.close()

    def _cleanup_after(self, exc: BaseException) -> None:
        keep = isinstance(exc, (NetworkError, KeyboardInterrupt)) and (self._partial_size() >= KEEP_PARTIAL_MIN)
        if not keep:
            self._discard()

    def _attempt(self, session: Any) -> None:
        import requests

        offset = self._partial_size()
        meta = _read_json(self.meta) if offset else None
        if offset and (
            meta is None
            or meta.get("encoded")  # a compressed transfer: byte offsets do not map, start over
            or (self.total is not None and offset > self.total)
        ):
            raise _Restart()
        if offset and offset == self.size and meta is not None:
            # all bytes are here (an earlier run died before moving them): just verify
            self.resumed = True
            self.etag, self.last_modified = meta.get("etag"), meta.get("last_modified")
            return
        headers = {"Accept-Encoding": "identity"}
        validator = None
        if offset and meta is not None:
            etag = meta.get("etag")
            if isinstance(etag, str) and etag and not etag.startswith("W/"):
                validator = etag
            elif isinstance(meta.get("last_modified"), str):
                validator = meta["last_modified"]
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
            self.etag = meta.get("etag")
            self.last_modified = meta.get("last_modified")
        remaining = self._remaining()
        try:
            resp = session.get(
                self.url,
                headers=headers,
                auth=credentials.auth_for(self.url),
                stream=True,
                timeout=(
                    min(self.s.connect_timeout, remaining),
                    min(self.s.read_timeout, remaining),
                ),
            )
        except requests.exceptions.InvalidURL as e:
            raise FetchError(f"invalid URL {self.shown}: {one_line(e)}") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            if _is_name_resolution_error(e):  # no DNS: offline, retrying will not help
                host = urllib.parse.urlsplit(self.url).hostname
                raise NetworkError(
                    f"could not download {self.shown}: cannot resolve {one_line(host, 80)} (no network?); "
                    "the file is not in the cache"
                ) from None
            raise _Retry(f"connection failed ({type(e).__name__})") from None
        except requests.exceptions.RequestException as e:
            raise _Retry(f"request failed ({type(e).__name__}: {e})") from None
        with resp:
            self._handle_response(resp, offset)

    def _handle_response(self, resp: Any, offset: int) -> None:
        status = resp.status_code
        if status in (408, 429) or 500 <= status < 600:
            raise _Retry(
                f"HTTP {status} {one_line(resp.reason or '', 80)}".strip(),
                after=_parse_retry_after(resp.headers.get("Retry-After")),
            )
        if status == 416 and offset:
            raise _Restart()
        if status in (401, 403):
            raise HTTPStatusError(
                f"HTTP {status} {one_line(resp.reason or '', 80)} for {self.shown}: access denied "
                "(the file needs credentials or is private)",
                status,
            )
        if status == 404:
            raise HTTPStatusError(f"HTTP 404 Not Found: {self.shown} does not exist", status)
        if status not in (200, 206):
            raise HTTPStatusError(f"HTTP {status} {one_line(resp.reason or '', 80)} for {self.shown}", status)

        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        length = resp.headers.get("Content-Length")
        body_len = int(length) if length and length.isdigit() else None
        m = _PARSE_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if status == 206 and not offset and m and m.group(1) == "0":
            status = 200  # a range from byte 0 that nobody asked for: the whole file
        if status == 206:
            if not offset or not m or int(m.group(1)) != offset:
                raise _Restart()
            etag = resp.headers.get("ETag")
            if self.etag and etag and etag != self.etag:
                raise _Restart()  # the server ignored If-Range: the file changed
            if m.group(3) != "*":
                total = int(m.group(3))
                if self.size is not None and total != self.size:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: expected {self.size} bytes, server has {total}"
                    )
                self.total = total
            self.resumed = True
        else:  # 200: the whole file, from byte 0
            if offset:
                self._discard()
                offset = 0
            self.resumed = False
            self.etag = resp.headers.get("ETag")
            self.last_modified = resp.headers.get("Last-Modified")
            if body_len is not None and encoding in ("", "identity"):
                if self.size is not None and body_len != self.size:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: expected {self.size} bytes, server sends {body_len}"
                    )
                self.total = body_len
            _write_json_atomic(
                self.meta,
                {
                    "url": self.url,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                    "encoded": encoding not in ("", "identity"),
                },
            )
        if self.total is not None and self.total > self.limit:
            raise SizeLimitError(
                f"{self.shown} is {human_bytes(self.total)}, more than the cap of {human_bytes(self.limit)} "
                "for a file the index gives no size for (CKPTZOO_MAX_BYTES)"
            )
        self._check_space(offset)
        self._sync_hasher(offset)
        self._progress(offset)
        self._stream(resp, offset, body_len if encoding in ("", "identity") else None, encoding not in ("", "identity"))

    def _check_space(self, offset: int) -> None:
        if self.total is None:
            return
        need = self.total - offset
        try:
            free = shutil.disk_usage(self.part.parent).free
        except OSError:
            return
        if need > free:
            raise DiskFullError(
                f"not enough disk space for {self.shown}: needs {human_bytes(need)}, "
                f"{human_bytes(free)} free in {self.root}"
            )

    def _stream(self, resp: Any, offset: int, body_len: int | None, encoded: bool) -> None:
        """Read the body, hash and append it; raise _Retry on a broken transfer.

        The network is read on this thread straight into a small pool of
        buffers; a writer thread hashes and appends them, so sha256 (which
        releases the GIL) overlaps the socket reads.
        """
        reader = _BodyReader(resp, body_len)
        expect = body_len if body_len is not None else (self.total or _CHUNK) - offset
        bufsize = min(_CHUNK, max(1 << 16, expect))  # small files: small buffers
        writer = _Writer(self.part, "ab" if offset else "wb", self.hasher, bufsize=bufsize)
        received = 0
        t_start = time.monotonic()
        window: list[tuple[float, int]] = [(t_start, 0)]  # (time, received) samples
        shown = 0
        try:
            buf = writer.buffer()
            mv = memoryview(buf)
            filled = 0
            t_flush = t_start
            while True:
                n = reader.readinto(mv[filled:])
                if not n:
                    break
                filled += n
                received += n
                if self.total is not None and offset + received > self.total:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: server sent more than the expected {self.total} bytes"
                    )
                if offset + received > self.limit:
                    raise SizeLimitError(
                        f"gave up on {self.shown}: more than the cap of {human_bytes(self.limit)} for a file "
                        "the index gives no size for (CKPTZOO_MAX_BYTES)"
                    )
                if encoded and self.size is None and received > _RATIO_FROM:
                    wire = reader.wire_bytes()
                    if wire and received > MAX_DECODE_RATIO * wire:
                        raise SizeLimitError(
                            f"gave up on {self.shown}: the server compressed it although asked not to, and "
                            f"{human_bytes(wire)} sent decode into more than {human_bytes(received)}"
                        )
                now = time.monotonic()
                if filled == len(buf) or now - t_flush >= 0.1:
                    mv.release()
                    writer.submit(buf, filled)
                    buf = writer.buffer()
                    mv = memoryview(buf)
                    filled = 0
                    t_flush = now
                if now - window[-1][0] >= 0.1:
                    self.bar.update(received - shown)
                    shown = received
                    self._check_pace(now, t_start, received, offset, window)
            mv.release()
            if filled:
                writer.submit(buf, filled)
            self.bar.update(received - shown)
        except _BodyBroken as e:
            writer.close()
            self.hashed = offset + writer.written
            raise _Retry(f"connection broke mid-body ({e})", progressed=writer.written > 0) from None
        except BaseException:
            writer.close(discard_errors=True)
            self.hashed = offset + writer.written
            raise
        writer.close()
        self.hashed = offset + writer.written
        if body_len is not None and received < body_len:
            raise _Retry(
                f"connection closed after {received} of {body_len} bytes",
                progressed=received > 0,
            )

    def _check_pace(
        self,
        now: float,
        t_start: float,
        received: int,
        offset: int,
        window: list[tuple[float, int]],
    ) -> None:
        """The total deadline, and the minimum average speed over the last window."""
        if now > self.t_end:
            raise DownloadTimeoutError(
                f"gave up on {self.shown}: total deadline of {self.deadline:.0f} s passed "
                f"after {human_bytes(offset + received)}"
            )
        window.append((now, received))
        while len(window) > 2 and now - window[1][0] >= self.s.speed_window:
            window.pop(0)
        t0, r0 = window[0]
        if now - t0 >= self.s.speed_window:
            rate = (received - r0) / (now - t0)
            if rate < self.s.min_speed:
                raise DownloadTimeoutError(
                    f"gave up on {self.shown}: too slow ({human_bytes(rate)}/s over "
                    f"{now - t0:.0f} s, minimum {human_bytes(self.s.min_speed)}/s)"
                )

    def _finish(self) -> pathlib.Path:
        got_size = self._partial_size()
        if self.hashed != got_size:
            self._sync_hasher(got_size)
        got = self.hasher.hexdigest()
        if self.size is not None and got_size != self.size:
            self._discard()
            raise IntegrityError(f"size mismatch for {self.shown}: expected {self.size} bytes, got {got_size}")
        if self.sha is not None and got != self.sha:
            self._discard()
            raise IntegrityError(f"sha256 mismatch for {self.shown}: expected {self.sha}, got {got}")
        blob = _blob_path(self.root, got)
        blob.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.part, blob)
        try:
            os.unlink(self.meta)
        except FileNotFoundError:
            pass
        _write_json_atomic(
            _url_record_path(self.root, self.url),
            {
                "url": self.url,
                "sha256": got,
                "size": got_size,
                "etag": self.etag,
                "last_modified": self.last_modified,
                "fetched_at": time.time(),
            },
        )
        return blob


def _is_name_resolution_error(exc: BaseException) -> bool:
    import urllib3

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, urllib3.exceptions.NameResolutionError):
            return True
        if isinstance(e, BaseException):
            stack += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return False


#: a compressed body (sent despite ``Accept-Encoding: identity``) of a file with no
#: expected size may decode into at most this many times the bytes sent...
MAX_DECODE_RATIO = 100
_RATIO_FROM = 1 << 20  # ...once it has decoded more than this


class _BodyBroken(Exception):
    """Internal: the body stream failed (connection reset, timeout, short read)."""


class _BodyReader:
    """Reads a response body into caller buffers, one socket read at a time.

    For a plain body of known length it reads the connection's buffered stream
    directly (``readinto1``: no copies, no allocations; returns as soon as some
    bytes arrived, so a dripping server cannot hide inside one big read).
    Otherwise (chunked, compressed, no length) it goes through urllib3.
    """

    def __init__(self, resp: Any, body_len: int | None):
        self.raw = resp.raw
        fp = getattr(self.raw, "_fp", None)  # http.client.HTTPResponse
        stream = getattr(fp, "fp", None)  # its buffered socket reader
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        self.stream = (
            stream
            if body_len is not None
            and encoding in ("", "identity")
            and isinstance(fp, http.client.HTTPResponse)
            and not fp.chunked
            and hasattr(stream, "readinto1")
            else None
        )
        self.left = body_len if body_len is not None else -1

    def wire_bytes(self) -> int:
        """Bytes read from the connection so far (before decoding)."""
        try:
            return int(self.raw.tell())
        except (AttributeError, TypeError, ValueError, OSError):
            return 0

    def readinto(self, mv: memoryview) -> int:
        import requests
        import urllib3

        try:
            if self.stream is not None:
                if self.left <= 0:
                    return 0
                n = self.stream.readinto1(mv[: min(len(mv), self.left)])
                self.left -= n
                return n
            if hasattr(self.raw, "read1"):  # (urllib3 >= 2)
                data = self.raw.read1(len(mv), decode_content=True)
            else:
                data = self.raw.read(min(len(mv), 1 << 16), decode_content=True)
            mv[: len(data)] = data
            return len(data)
        except (
            OSError,
            ValueError,  # a read on a connection closed underneath
            http.client.HTTPException,
            urllib3.exceptions.HTTPError,
            requests.exceptions.RequestException,
        ) as e:
            raise _BodyBroken(type(e).__name__) from None


class _Writer:
    """Two threads behind the network reader: one appends buffers to the partial
    file, one feeds them to sha256 (both release the GIL), so reading, writing and
    hashing overlap. A buffer returns to the pool once both are done with it."""

    def __init__(self, path: pathlib.Path, mode: str, hasher: Any, nbuf: int = 6, bufsize: int = _CHUNK):
        self.path = path
        self.hasher = hasher
        self.n_written = 0
        self.n_hashed = 0
        self.error: BaseException | None = None
        try:
            self.f = open(path, mode, buffering=0)
        except OSError as e:
            raise _disk_error(e, path) from None
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(nbuf):
            self.free.put(bytearray(bufsize))
        self._users: dict[int, int] = {}
        self._lock = threading.Lock()
        self.hash_q: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self.write_q: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(
                target=self._loop, args=(self.write_q, self._write), daemon=True, name="ckptzoo-fetch-write"
            ),
            threading.Thread(target=self._loop, args=(self.hash_q, self._hash), daemon=True, name="ckptzoo-fetch-hash"),
        ]
        for t in self.threads:
            t.start()

    @property
    def written(self) -> int:
        """Bytes both on disk and in the hash."""
        return min(self.n_written, self.n_hashed)

    def buffer(self) -> bytearray:
        while True:
            if self.error is not None:
                raise self.error
            try:
                return self.free.get(timeout=0.1)
            except queue.Empty:
                continue

    def submit(self, buf: bytearray, n: int) -> None:
        if self.error is not None:
            raise self.error
        with self._lock:
            self._users[id(buf)] = 2
        self.write_q.put((buf, n))
        self.hash_q.put((buf, n))

    def _write(self, chunk: memoryview) -> None:
        done = 0
        while done < len(chunk):
            done += self.f.write(chunk[done:]) or 0
        self.n_written += len(chunk)

    def _hash(self, chunk: memoryview) -> None:
        self.hasher.update(chunk)
        self.n_hashed += len(chunk)

    def _loop(self, q: queue.SimpleQueue[tuple[bytearray, int] | None], work: Any) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            buf, n = item
            if self.error is None:
                try:
                    with memoryview(buf) as mv:
                        work(mv[:n])
                except OSError as e:
                    self.error = _disk_error(e, self.path)
                except BaseException as e:  # pragma: no cover - defensive
                    self.error = e
            with self._lock:
                self._users[id(buf)] -= 1
                last = self._users[id(buf)] == 0
                if last:
                    del self._users[id(buf)]
            if last:
                self.free.put(buf)

    def close(self, discard_errors: bool = False) -> None:
        self.write_q.put(None)
        self.hash_q.put(None)
        for t in self.threads:
            t.join()
        try:
            self.f.close()
        except OSError as e:
            if self.error is None:
                self.error = _disk_error(e, self.path)
        if self.error is not None and not discard_errors:
            raise self.error


def _disk_error(e: OSError, path: pathlib.Path) -> FetchError:
    where = e.filename or path
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        return DiskFullError(f"no space left while writing {where} ({e.strerror})")
    return FetchError(f"cannot write {where}: {e.strerror or e}")
