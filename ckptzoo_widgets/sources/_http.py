"""HTTP for readers: one bounded GET, and the cached, revalidated GET that index and timm sources use.

`get_bounded` is the only way a reader reads a body from a server: it asks
for gzip or nothing, streams the raw bytes under a byte cap and a total
deadline, and decompresses with a cap on what the body expands to
(`decode.decompress`). A server that sends 600 KiB of gzip that would expand
to 1.3 GiB gets a clear ZooError after `limit` bytes, not a MemoryError.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import requests
import urllib3

from .. import cache, config, credentials
from ..decode import ParseError, decompress, json_limit
from ..errors import ZooError
from ..humanize import human_bytes
from ._budget import ListingBudget

CHUNK = 1 << 16
DEADLINE_S = 300.0  # a whole answer, however slowly it drips


def get_bounded(
    url: str,
    *,
    limit: int | None = None,
    timeout: float = 30.0,
    deadline: float = DEADLINE_S,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    session: Any = None,
    auth: tuple[str, str] | None = None,
    budget: ListingBudget | None = None,
) -> tuple[requests.Response, bytes]:
    """The response (status, headers, links) and its decoded body of at most `limit` bytes.

    Raises requests' exceptions for transport failures (callers decide about cached copies)
    and ZooError for a body that is too large, expands too far, or arrives too slowly.
    `budget` (a `_budget.ListingBudget`): the source open's bytes and seconds are charged too.
    """
    limit = json_limit() if limit is None else limit
    getter = session or requests
    ask = {**(headers or {}), "Accept-Encoding": "gzip"}
    if budget is not None:
        budget.check()
        deadline = min(deadline, budget.remaining())
    # Credentials the user gave for this origin (`credentials.auth_for`), never taken from the URL.
    response = getter.get(url, params=params or None, headers=ask, timeout=timeout, stream=True, auth=auth)
    with response:
        body = read_bounded(response, url, limit=limit, deadline=deadline, budget=budget)
    return response, body


def read_bounded(
    response: requests.Response,
    url: str,
    *,
    limit: int,
    deadline: float = DEADLINE_S,
    budget: ListingBudget | None = None,
) -> bytes:
    """The decoded body of a streamed response, cut at `limit` bytes while it streams, never after.

    A `Content-Length` over the limit is refused before reading; the raw bytes are counted as
    they arrive (and charged to `budget`, a `_budget.ListingBudget`, when given), under a total
    `deadline`; gzip or deflate is inflated into at most `limit` bytes. ZooError past any of them.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ZooError(f"{url}: the answer is {human_bytes(int(declared))}, more than {human_bytes(limit)}")
    ends = time.monotonic() + deadline
    parts: list[bytes] = []
    total = 0
    try:
        for block in _blocks(response.raw):
            total += len(block)
            if total > limit:
                raise ZooError(f"{url}: the answer is larger than {human_bytes(limit)}; refused")
            if time.monotonic() > ends:
                if budget is not None:
                    budget.check()  # the open's own time ran out (its error names that budget)
                raise ZooError(f"{url}: the answer took longer than {deadline:.3g} s; refused")
            if budget is not None:
                budget.charge_bytes(len(block))
            parts.append(block)
    except urllib3.exceptions.TimeoutError as error:  # silent mid-body: a timeout, as before the first byte
        raise requests.Timeout(str(error)) from None
    except urllib3.exceptions.HTTPError as error:  # raw reads raise urllib3's errors, not requests'
        raise requests.ConnectionError(str(error)) from None
    body = b"".join(parts)
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        try:
            body = decompress(body, limit, encoding)
        except ParseError as error:
            raise ZooError(f"{url}: the answer {error}") from None
    return body


def _blocks(raw: Any) -> Any:
    """The raw body as it arrives: each block what one read of the socket gave (urllib3's `read1`),
    so the deadline is checked however slowly it drips (`stream` waits for a whole block first:
    a byte every few seconds would hold one 64 KiB block for days)."""
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # urllib3 1.x
        yield from raw.stream(CHUNK, decode_content=False)
        return
    while block := read1(CHUNK, decode_content=False):
        yield block


# --- the cached GET (the `indexes/` records of the cache layout, ckptzoo_widgets.cache) ---


def cached_get(url: str, timeout: float = 30.0, limit: int | None = None) -> tuple[bytes, str]:
    """The body at `url` (decoded, at most `limit` bytes), revalidated with ETag / Last-Modified and cached.

    Returns (body, how) with `how` one of "downloaded", "not-modified", "cached"
    (offline, or the server unreachable: the cached copy serves). ZooError when
    there is neither an answer nor a cached copy, or the answer breaks the budget.
    """
    body_path, meta_path = cache.index_paths(config.cache_root(), url)
    meta: dict[str, Any] = {}
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        cached: bytes | None = body_path.read_bytes()
        if meta.get("url") != url:
            cached, meta = None, {}
    except (OSError, ValueError):
        cached, meta = None, {}
    if config.offline():
        if cached is None:
            raise ZooError(f"{url}: offline (CKPTZOO_OFFLINE) and not in the cache yet")
        return cached, "cached"
    headers = {}
    if cached is not None and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if cached is not None and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    try:
        response, body = get_bounded(url, limit=limit, timeout=timeout, headers=headers, auth=credentials.auth_for(url))
    except requests.RequestException as error:
        if cached is not None:
            return cached, "cached"
        raise ZooError(f"{url}: cannot fetch ({type(error).__name__}) and no cached copy") from None
    if response.status_code == 304 and cached is not None:
        return cached, "not-modified"
    if response.status_code != 200:
        if cached is not None and response.status_code >= 500:
            return cached, "cached"
        raise ZooError(f"{url}: server answered HTTP {response.status_code}")
    record = {
        "url": url,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "fetched": time.time(),
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),  # `ckptzoo cache verify` checks it
    }
    try:
        cache.write_atomic(body_path, body)
        cache.write_json_atomic(meta_path, record)
    except OSError:
        pass  # a read-only cache still serves this session
    return body, "downloaded"
