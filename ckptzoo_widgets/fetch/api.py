"""The public ``fetch``: a verified local path for a URL or a local file.

A URL is looked up in the cache (by sha256, else by its URL record) before any
network access; a miss takes the file's lock and runs a ``Download``. A local
file is checked in place and hashed on every call.
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import urllib.parse
import urllib.request
from typing import Any

from .. import cache, config, credentials, storage
from ..errors import FetchError, IntegrityError, MissingExtraError, OfflineError
from ..text import one_line
from .download import Download
from .settings import Settings

log = logging.getLogger(__name__)


def fetch(
    url_or_path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    view: tuple[str, ...] | None = None,
    quiet: bool | None = None,
    offline: bool | None = None,
    timeout: float | None = None,
    storage_options: dict[str, Any] | None = None,
    sha256_prefix: str | None = None,
) -> pathlib.Path:
    """Return a local, verified path for a URL or a local file.

    ``url_or_path``: an http(s) URL or an object-storage URL (``s3://``, ``gs://``,
    ``az://``, ``hf://``; downloaded into the cache), a ``file://`` URL or a local
    path (checked in place, never copied).
    ``sha256`` / ``size``: expected content; checked when given.
    ``view``: path components of a readable link under ``<cache>/views/``
    (e.g. ``("builtin", "digits-mlp", "epoch-10", "model.safetensors")``); the
    link is what is returned for downloads.
    ``quiet``: no progress bar (default ``CKPTZOO_QUIET``).
    ``offline``: never touch the network (default ``CKPTZOO_OFFLINE``).
    ``timeout``: total deadline in seconds for one download (default
    ``CKPTZOO_TIMEOUT``, else one hour or 1 MiB/s of the size, whichever is longer).
    ``storage_options``: for object storage, options of the fsspec file system
    (``endpoint_url``, ``key``, ``secret``, ``anon``, ``token`` ...); without them those a
    zoo naming this bucket was opened with (``open_zoo(..., storage_options=...)``), else
    the environment and the usual config files (docs/downloads.md "Object storage").
    ``sha256_prefix``: the first hex digits the file's sha256 must start with, when only
    those are known (torch.hub's rule: ``resnet50-11ad3fa6.pth``; ``hash_prefix_of_name``).

    Raises :class:`FetchError` (or a subclass) with a one-line message;
    :class:`MissingExtraError` when the package for an object URL is not installed.
    """
    try:
        prefix = _normalise_prefix(sha256_prefix)
        return _fetch(url_or_path, sha256, size, view, quiet, offline, timeout, storage_options, prefix)
    except (FetchError, MissingExtraError) as e:
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
    storage_options: dict[str, Any] | None,
    prefix: str | None = None,
) -> pathlib.Path:
    sha = cache.normalise_sha(sha256)
    if sha is not None and prefix is not None and not sha.startswith(prefix):
        raise IntegrityError(f"the sha256 given ({sha}) does not start with the expected prefix {prefix}")
    if size is not None:
        size = int(size)
        if size < 0:
            raise FetchError(f"negative size {size}")
    parts = cache.check_view(view)
    settings = Settings.from_env(quiet=quiet, offline=offline, timeout=timeout)

    if isinstance(url_or_path, os.PathLike):
        return _fetch_local(pathlib.Path(url_or_path), sha, size, settings, prefix)
    if storage.is_object_url(str(url_or_path)):
        url = str(url_or_path)
        try:
            storage.check_destination(url)  # a bucket, never an account, endpoint or credentials
        except storage.CredentialRouteError as e:
            raise FetchError(str(e)) from None
        if storage_options is None:  # those of the zoo that named this bucket, if any
            storage_options = credentials.storage_options_for(url)
        return _fetch_url(url, sha, size, parts, settings, storage_options, prefix)
    target = credentials.accept(str(url_or_path))  # user:pw@ stays in this process only
    parsed = urllib.parse.urlsplit(target)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_url(target, sha, size, parts, settings, None, prefix)
    if scheme == "file":
        return _fetch_local(pathlib.Path(urllib.request.url2pathname(parsed.path)), sha, size, settings, prefix)
    if len(scheme) > 1:  # (one letter: a Windows drive)
        raise FetchError(
            f"unsupported URL scheme {one_line(repr(scheme), 40)} in {one_line(repr(target))} "
            f"(http, https, file, {', '.join(sorted(storage.PROTOCOLS))})"
        )
    return _fetch_local(pathlib.Path(target), sha, size, settings, prefix)


# torch.hub's rule (`check_hash`): a file named `<name>-<hex>.<ext>` has a sha256 starting with <hex>.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.")


def hash_prefix_of_name(url_or_name: str) -> str | None:
    """The sha256 prefix in a weights file's name, as torch.hub reads it (`resnet50-11ad3fa6.pth`
    -> `11ad3fa6`), at least 8 hex digits; None when the name has none."""
    name = url_or_name.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    found = _HASH_IN_NAME.search(name)
    return found.group(1) if found else None


def _normalise_prefix(prefix: str | None) -> str | None:
    if prefix is None:
        return None
    text = str(prefix).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{1,64}", text):
        raise FetchError(f"not a sha256 prefix (hex digits): {one_line(repr(prefix), 80)}")
    return text


def _fetch_local(
    path: pathlib.Path, sha: str | None, size: int | None, settings: Settings, prefix: str | None = None
) -> pathlib.Path:
    path = path.expanduser()
    shown = one_line(path, 1000)  # a path from an index: plain, bounded text in messages
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FetchError(f"file not found: {shown}") from None
    except OSError as e:
        raise FetchError(f"cannot read {shown}: {e.strerror or e}") from None
    if not path.is_file():
        raise FetchError(f"not a file: {shown}")
    if size is not None and st.st_size != size:
        raise IntegrityError(f"size mismatch for {shown}: expected {size} bytes, found {st.st_size}")
    if sha is not None:
        try:
            got = cache.hash_file(path)  # every time: a local file can change under the same size and mtime
        except OSError as e:
            raise FetchError(f"cannot read {shown}: {e.strerror or e}") from None
        if got != sha:
            raise IntegrityError(f"sha256 mismatch for {shown}: expected {sha}, got {got}")
    elif prefix is not None:
        try:
            got = cache.hash_file(path)
        except OSError as e:
            raise FetchError(f"cannot read {shown}: {e.strerror or e}") from None
        if not got.startswith(prefix):
            raise IntegrityError(f"sha256 of {shown} is {got}: it does not start with {prefix}")
    return path


def _fetch_url(
    url: str,
    sha: str | None,
    size: int | None,
    view: tuple[str, ...] | None,
    settings: Settings,
    storage_options: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> pathlib.Path:
    root = settings.root
    view = view or cache.default_view(url)
    packed = cache.pack_blob(config.pack_root(), url, sha, size)  # a course pack: read-only, before the cache
    if packed is not None and (prefix is None or packed.name.startswith(prefix)):
        return cache.link_view(root, view, packed)
    hit = cache.cached_blob(root, url, sha, size)
    if hit is not None and prefix is not None and not hit.name.startswith(prefix):
        hit = None  # cached for this URL without the prefix check and not matching it: fetch again
    if hit is None:
        if settings.offline:
            raise OfflineError(
                f"offline mode and {_shown(url)} is not in the cache ({root}); connect once or unset CKPTZOO_OFFLINE"
            )
        hit = download_locked(url, sha, size, settings, storage_options, prefix)
    cache.touch(hit)
    return cache.link_view(root, view, hit)


def _shown(url: str) -> str:
    """A URL in a message (an object URL also without any query string)."""
    return storage.shown(url) if storage.is_object_url(url) else one_line(url)


def download_locked(
    url: str,
    sha: str | None,
    size: int | None,
    settings: Settings,
    storage_options: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> pathlib.Path:
    from filelock import FileLock, Timeout

    root = settings.root
    key = sha or f"url-{cache.url_key(url)}"
    for sub in cache.DOWNLOAD_FOLDERS:
        try:
            (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FetchError(f"cannot create the cache folder {root / sub}: {e.strerror or e}") from None
    lock = FileLock(str(cache.lock_path(root, key)))
    try:
        try:
            lock.acquire(timeout=0.5)
        except Timeout:
            if not settings.quiet:
                log.warning("waiting for another process downloading %s", _shown(url))
            lock.acquire()
    except OSError as e:
        raise FetchError(f"cannot lock {lock.lock_file} in the cache: {e.strerror or e}") from None
    try:
        blob = cache.cached_blob(root, url, sha, size)  # someone else finished it while we waited
        if blob is not None and prefix is not None and not blob.name.startswith(prefix):
            blob = None
        if blob is None:
            blob = Download(url, sha, size, key, settings, storage_options, prefix).run()
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
