"""The download state machine: one URL into ``tmp/<key>.part``, verified, then the blob store.

``download_locked`` takes the per-file lock; ``Download.run`` loops over
attempts: open the body from the partial file's end (an ``opener``: http(s) with
``Range`` + ``If-Range``, or fsspec ranged reads for object storage), check it,
stream it (``body``, ``transfer``), verify (``_finish``). Transient failures are
retried with backoff; every bound (attempts, bytes, decoded size, total
deadline, minimum speed) ends the loop with a one-line ``FetchError``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import random
import shutil
import time
from typing import Any

from .. import cache
from ..errors import DiskFullError, DownloadTimeoutError, FetchError, IntegrityError, NetworkError, SizeLimitError
from ..humanize import human_bytes
from ..text import label_text
from .body import BodyCopy, Bounds
from .opener import Opened, Opener
from .settings import Settings
from .transfer import Restart, Retry, disk_error

log = logging.getLogger(__name__)

#: a failed download keeps its partial file for a later resume only above this size
KEEP_PARTIAL_MIN = 1 << 20


def opener_for(
    url: str, settings: Settings, storage_options: dict[str, Any] | None = None, *, hashed: bool = False
) -> Opener:
    """The opener for ``url``; ``hashed``: the download's sha256 is known and checked."""
    from .. import storage

    if storage.is_object_url(url):
        from .object_opener import ObjectOpener  # fsspec's side, imported when an object URL is fetched

        return ObjectOpener(url, settings, storage_options, hashed=hashed)
    from .http_opener import HttpOpener

    return HttpOpener(url, settings)


class Download:
    """One download of one URL into ``tmp/<key>.part`` then the blob store."""

    def __init__(
        self,
        url: str,
        sha: str | None,
        size: int | None,
        key: str,
        settings: Settings,
        storage_options: dict[str, Any] | None = None,
        prefix: str | None = None,
    ):
        self.url = url
        self.prefix = prefix  # the first hex digits of the sha256, from the file's name (torch.hub's rule)
        # http(s), or fsspec for object storage; a sha256 to check makes a store's own
        # (weaker) checksum of the body redundant
        self.opener = opener_for(url, settings, storage_options, hashed=sha is not None)
        self.shown = self.opener.shown  # the URL as messages quote it
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
        """Attempt, retry with backoff, restart on bad ranges, verify: the path in the cache.

        Kept whole: it is the download's one retry loop, and its counters (attempts, failures,
        restarts, the one verified restart) and each way out read best side by side."""
        failures = restarts = attempts = 0
        verified_restart = False
        try:
            while True:
                if self._remaining() <= 0:
                    raise DownloadTimeoutError(
                        f"gave up on {self.shown}: total deadline of {self.deadline:.0f} s passed"
                    )
                try:
                    self._attempt()
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
            self.opener.close()
            if self.bar is not None:
                self.bar.close()

    def _cleanup_after(self, exc: BaseException) -> None:
        keep = isinstance(exc, (NetworkError, KeyboardInterrupt)) and (self._partial_size() >= KEEP_PARTIAL_MIN)
        if not keep:
            self._discard()

    def _attempt(self) -> None:
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
        validator = None
        if offset and meta is not None:
            etag = meta.get("etag")
            if isinstance(etag, str) and etag and not etag.startswith("W/"):
                validator = etag
            elif isinstance(meta.get("last_modified"), str):
                validator = meta["last_modified"]
            self.etag = meta.get("etag")
            self.last_modified = meta.get("last_modified")
        with self.opener.open(offset, validator, self._remaining()) as body:
            self._take(body, offset)

    def _take(self, body: Opened, offset: int) -> None:
        """Check what the opener answered against what we have and expect, then stream it."""
        if body.start not in (0, offset):
            raise Restart()
        if body.start and offset:  # the rest of the file
            if self.etag and body.etag and body.etag != self.etag:
                raise Restart()  # the server ignored the validator: the file changed
            if body.total is not None:
                if self.size is not None and body.total != self.size:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: expected {self.size} bytes, server has {body.total}"
                    )
                self.total = body.total
            self.resumed = True
        else:  # the whole file, from byte 0
            if offset:
                self._discard()
                offset = 0
            self.resumed = False
            self.etag = body.etag
            self.last_modified = body.last_modified
            if body.total is not None:
                if self.size is not None and body.total != self.size:
                    raise IntegrityError(
                        f"size mismatch for {self.shown}: expected {self.size} bytes, server sends {body.total}"
                    )
                self.total = body.total
            cache.write_json_atomic(
                self.meta,
                {
                    "url": self.url,
                    "etag": self.etag,
                    "last_modified": self.last_modified,
                    "encoded": body.encoded,
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
        self._stream(body, offset)

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

    def _stream(self, body: Opened, offset: int) -> None:
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
            copy.run(body.reader, body.length, body.encoded)
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
        if self.prefix is not None and not got.startswith(self.prefix):
            self._discard()
            raise IntegrityError(
                f"sha256 mismatch for {self.shown}: its name says it starts with {self.prefix}, got {got}"
            )
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
