"""Opening an http(s) body: one GET (``Range`` + ``If-Range`` when resuming), its status and headers."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from .. import credentials
from ..errors import FetchError, HTTPStatusError, NetworkError
from ..text import one_line
from .opener import Opened
from .settings import Settings
from .transfer import BodyReader, Restart, Retry, is_identity, is_name_resolution_error, parse_retry_after

_PARSE_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class HttpOpener:
    def __init__(self, url: str, settings: Settings):
        import requests

        self.url = url
        self.shown = one_line(url)
        self.s = settings
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def open(self, offset: int, validator: str | None, remaining: float) -> Opened:
        import requests

        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
        try:
            resp = self.session.get(
                self.url,
                headers=headers,
                auth=credentials.auth_for(self.url),
                stream=True,
                timeout=(min(self.s.connect_timeout, remaining), min(self.s.read_timeout, remaining)),
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
        try:
            return self._opened(resp, offset)
        except BaseException:
            resp.close()
            raise

    def _opened(self, resp: Any, offset: int) -> Opened:
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
        body_len = int(length) if length and length.isdigit() and identity else None
        m = _PARSE_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if status == 206 and not offset and m and m.group(1) == "0":
            status = 200  # a range from byte 0 that nobody asked for: the whole file
        if status == 206:
            if not offset or not m or int(m.group(1)) != offset:
                raise Restart()
            start, total = offset, (int(m.group(3)) if m.group(3) != "*" else None)
        else:  # 200: the whole file, from byte 0
            start, total = 0, body_len
        return Opened(
            start=start,
            length=body_len,
            total=total,
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
            encoded=not identity,
            reader=BodyReader(resp, body_len),
            close=resp.close,
        )
