"""The Hub's answers kept: this user's answer cache and the machine's shared one (`CKPTZOO_SHARED_CACHE`).

`HubClient` (hub_client.py) asks the Hub; this module only keeps and finds what
it was told: an answer's body and record (URL, kind, ETag, next link, total,
size, sha256) in `cache.hub_answer_paths`, and, for an anonymous request, the
same in the shared folder, where what is read is untrusted (regular files only,
URL, kind and sha256 checked, by its file's ctime within the freshness window).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .. import cache, config
from ..decode import ParseError, json_limit, load_json
from ..errors import ZooError

SHARED_WAIT_S = 20.0  # how long a kernel waits for another user asking the same thing (then asks itself)
MAX_SHARED_RECORD = 1 << 16  # a shared answer's record (URL, ETag, next link)
SKEW_S = 60.0  # a shared answer written "in the future" by more than this is not believed

Seen = tuple[dict[str, Any], bytes]  # a record and its body, as this user's cache holds them


@dataclass
class Answer:
    """One answer: the decoded body, the next-page link, the total when the Hub gives one."""

    data: Any
    next: str | None
    total: int | None
    how: str  # "downloaded", "fresh", "not-modified", "cached" (offline / rate-limited / failing: seen before)
    note: str = ""  # why an older answer was served ("offline: ...", "the Hub asks to wait 12 s")


def cached(url: str) -> Seen | None:
    """This user's cached answer for ``url`` (its record names the same URL), or None."""
    body_path, record_path = cache.hub_answer_paths(config.cache_root(), url)
    record = cache.read_json(record_path)
    if not record or record.get("url") != url:
        return None
    try:
        body = body_path.read_bytes()
    except OSError:
        return None
    return record, body


def store(
    url: str, body: bytes, response: requests.Response | None, record: dict[str, Any], kind: str = "json"
) -> dict[str, Any]:
    """Keep an answer (a new body and its record from ``response``; with no response, ``record``
    refreshed: a 304) in this user's cache; the record written."""
    body_path, record_path = cache.hub_answer_paths(config.cache_root(), url)
    if response is not None:
        nxt = (response.links.get("next") or {}).get("url")
        total = response.headers.get("X-Total-Count", "")
        record = {
            "url": url,
            "kind": kind,
            "etag": response.headers.get("ETag"),
            "next": nxt if isinstance(nxt, str) else None,
            "total": int(total) if total.isdigit() else None,
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),  # `ckptzoo cache verify` checks it
        }
    record["fetched"] = time.time()
    try:
        if response is not None:
            cache.write_atomic(body_path, body)
        cache.write_json_atomic(record_path, record)
    except OSError:
        pass  # a read-only cache still serves this session
    return record


def shareable(response: requests.Response) -> bool:
    """An answer the Hub does not mark as one user's own (`Cache-Control: private` / `no-store`, a cookie)."""
    control = response.headers.get("Cache-Control", "").lower()
    return "private" not in control and "no-store" not in control and "Set-Cookie" not in response.headers


def shared_fresh(
    root: Path,
    url: str,
    kind: str,
    window: float,
    cap: int | None,
    to_answer: Callable[[dict[str, Any], bytes], Answer],
) -> Answer | None:
    """A shared answer written less than `window` seconds ago (by its file's ctime, which no user
    can set back), for this very URL and kind, whole (its sha256), and that parses; else None."""
    body_path, record_path = cache.hub_answer_paths(root, url)
    found = cache.read_shared(record_path, MAX_SHARED_RECORD)
    body = cache.read_shared(body_path, cap if cap is not None else json_limit())
    if found is None or body is None:
        return None
    try:
        record = load_json(found[0], limit=MAX_SHARED_RECORD)
    except ParseError:
        return None
    if not isinstance(record, dict) or record.get("url") != url or record.get("kind", "json") != kind:
        return None
    if record.get("sha256") != hashlib.sha256(body[0]).hexdigest():
        return None
    age = time.time() - max(body[1].st_ctime, found[1].st_ctime)
    if not -SKEW_S <= age < window:
        return None
    try:
        return to_answer(record, body[0])
    except ZooError:  # not JSON: ignored, the live answer replaces it
        return None


def share(root: Path, url: str, record: dict[str, Any], body: bytes) -> None:
    """Write an answer to the shared folder (what it needs of the record, the body's sha256)."""
    body_path, record_path = cache.hub_answer_paths(root, url)
    kept = {k: record.get(k) for k in ("url", "kind", "etag", "next", "total")}
    kept.update(size=len(body), sha256=hashlib.sha256(body).hexdigest(), fetched=time.time())
    try:
        cache.write_shared(root, body_path, body)
        cache.write_shared(root, record_path, json.dumps(kept, sort_keys=True).encode("utf-8"))
    except OSError:
        pass  # a shared folder this user cannot write: its answers are still read
