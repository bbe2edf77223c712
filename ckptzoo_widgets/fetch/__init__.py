"""Download cache for checkpoint files: verified, resumable, locked, offline-first.

``fetch(url_or_path, sha256=..., size=...)`` returns a local path to a file whose
bytes have been checked. docs/downloads.md is the user's guide; the cache
layout lives in ``ckptzoo_widgets.cache``.

Modules: ``settings`` (from arguments and the environment), ``api`` (the public
``fetch``, local files, the per-file lock), ``download`` (the state machine of
one download: attempts, resume, retries, verification), ``body`` (one response
body into the partial file, under every bound), ``transfer`` (socket reader,
writer and hasher threads, HTTP details).

Guarantees: the final file appears (``os.replace``) only after its sha256 and size
match; a download is resumed with ``Range`` + ``If-Range``; concurrent processes
wait on a per-file lock so a file is transferred once; transient errors (connection
errors, 408/429/5xx) are retried with exponential backoff honouring
``Retry-After``; attempts, bytes, decoded size and time are bounded;
``CKPTZOO_OFFLINE=1`` (or a failing network) serves the cache.
"""

from __future__ import annotations

from ..cache import file_name_from_url
from ..config import cache_root
from ..errors import (
    DiskFullError,
    DownloadTimeoutError,
    FetchError,
    HTTPStatusError,
    IntegrityError,
    NetworkError,
    OfflineError,
    SizeLimitError,
)
from .api import fetch

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
    "file_name_from_url",
]
