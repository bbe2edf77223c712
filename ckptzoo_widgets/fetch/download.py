"""The download state machine: one URL into ``tmp/<key>.part``, verified, then the blob store.

``download_locked`` takes the per-file lock; ``Download.run`` loops over
attempts: request (resuming with ``Range`` + ``If-Range``), read the response,
stream the body (``transfer``), verify (``_finish``). Transient failures are
retried with backoff; every bound (attempts, bytes, decoded size, total
deadline, minimum speed) ends the loop with a one-line ``FetchError``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import random
import re
import shutil
import time
import urllib.parse
from typing import Any

from .. import cache, credentials
from ..errors import (
    DiskFullError,
    DownloadTimeoutError,
    FetchError,
    HTTPStatusError,
    IntegrityError,
    NetworkError,
    SizeLimitError,
)
from ..humanize import human_bytes
from ..text import label_text, one_line
from .body import BodyCopy, Bounds
from .settings import Settings
from .transfer import Restart, Retry, disk_error, is_identity, is_name_resolution_error, parse_retry_after

log = logging.getLogger(__name__)

#: a failed download keeps its partial file for a later resume only above this size
KEEP_PARTIAL_MIN = 1 << 20
_PARSE_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class Download:
    """One download of one URL into ``tmp/<key>.part`` then the blob store."""

    def __init__(self, url: str, sha: str | None, size: int | None, key: str, settings: Settings):
        self.url = url
        self.shown = one_line(url)  # the URL as messages quote it
        self.sha = sha
        self.size = size
        self.s = settings
        self.root = settings.root
        self.part, self.meta = cache.partial_paths(self.root, key)
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
        h, got = cache.sha256_file(self.part, offset) if offset else (hashlib.sha256(), 0)
        if got < offset:
            raise Restart()
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
                desc=label_text(cache.file_name_from_url(self.url)),  # tqdm.notebook shows desc as HTML
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
                except Restart:
                    self._discard()
                    restarts += 1
                    if restarts > 5:
                        raise FetchError(
                            f"could not download {self.shown}: the server keeps answering "
                            "ranges that do not match the request"
                        ) from None
                    continue
                except Retry as r:
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
                raise disk_error(e, self.part) from None
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
        meta = cache.read_json(self.meta) if offset else None
        if offset and (
            meta is None
            or meta.get("encoded")  # a compressed transfer: byte offsets do not map, start over
            or (self.total is not None and offset > self.total)
        ):
            raise Restart()
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
            if is_name_resolution_error(e):  # no DNS: offline, retrying will not help
                host = urllib.parse.urlsplit(self.url).hostname
                raise NetworkError(
                    f"could not download {self.shown}: cannot resolve {one_line(host, 80)} (no network?); "
                    "the file is not in the cache"
                ) from None
            raise Retry(f"connection failed ({type(e).__name__})") from None
        except requests.exceptions.RequestException as e:
            raise Retry(f"request failed ({type(e).__name__}: {one_line(e)})") from None
        with resp:
            self._handle_response(resp, offset)

    def _handle_response(self, resp: Any, offset: int) -> None:
        status = resp.status_code
        if status in (408, 429) or 500 <= status < 600:
            raise Retry(
                f"HTTP {status} {one_line(resp.reason or '', 80)}".strip(),
                after=parse_retry_after(resp.headers.get("Retry-After")),
            )
        if status == 416 and offset:
            raise Restart()
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

        identity = is_identity(resp)
        length = resp.headers.get("Content-Length")
        body_len = int(length) if length and length.isdigit() else None
        m = _PARSE_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if status == 206 and not offset and m and m.group(1) == "0":
            status = 200  # a range from byte 0 that nobody asked for: the whole file
        if status == 206:
            if not offset or not m or int(m.group(1)) != offset:
                raise Restart()
            etag = resp.headers.get("ETag")
            if self.etag and etag and etag != self.etag:
                raise Restart()  # the server ignored If-Range: the file changed
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
            if body_len is not None and identity:
                if self.size is not None and body_len != self.size:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: expected {self.size} bytes, server sends {body_len}"
                    )
                self.total = body_len
            cache.write_json_atomic(
                self.meta,
                {
                    "url": self.url,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                    "encoded": not identity,
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
        self._stream(resp, offset, body_len if identity else None, encoded=not identity)

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
        bounds = Bounds(
            self.shown,
            self.total,
            self.limit,
            self.size is not None,
            self.t_end,
            self.deadline,
            self.s.min_speed,
            self.s.speed_window,
        )
        copy = BodyCopy(self.part, offset, self.hasher, self.bar, bounds)
        try:
            copy.run(resp, body_len, encoded)
        finally:
            self.hashed = offset + copy.written

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
        blob = cache.blob_path(self.root, got)
        blob.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.part, blob)
        try:
            os.unlink(self.meta)
        except FileNotFoundError:
            pass
        cache.write_json_atomic(
            cache.url_record_path(self.root, self.url),
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
