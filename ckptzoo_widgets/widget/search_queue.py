"""Search requests from the page while the kernel is busy: only the newest one runs.

Typing sends a request shortly after each pause (the front end waits 50 ms
after a key). On a large zoo one search can take longer than that, so
requests queue up in the kernel's socket. A search request is held for a
moment (`SETTLE_S`), in which the requests queued behind it are read; they are
merged into one (later fields win; a later query, sort or filter drops an
earlier page offset, as it would have reset it) and that one runs. Every
request still gets its `done` reply, after the search, so the page knows its
question was answered; the page shows only the answer to its newest request
(`page_seq`, js/widget/view.js).

Refresh requests go through a queue of their own: 50 clicks queued together
reopen the source once.

Outside a running event loop (a script, a test calling the handler) a
request runs at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SETTLE_S = 0.005  # time for the requests already queued to be read: they arrive microseconds apart
_RESETS_OFFSET = {"query", "sort", "task", "library", "license"}


def merge(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """One search request standing for two: what applying them in turn would ask for."""
    merged = dict(older)
    if _RESETS_OFFSET & set(newer) and "offset" not in newer:
        merged.pop("offset", None)
    merged.update(newer)
    return merged


class SearchQueue:
    """Runs `run(fields, seq)` for the newest of the search requests that arrived together, then replies to each."""

    def __init__(self, run: Callable[[dict[str, Any], int | None], None], reply: Callable[[int | None], None]):
        self._run, self._reply = run, reply
        self._fields: dict[str, Any] = {}
        self._seqs: list[int | None] = []
        self.requests = 0  # search requests received
        self.runs = 0  # searches run: fewer when requests queued up together

    def submit(self, fields: dict[str, Any], seq: int | None) -> None:
        self.requests += 1
        first = not self._seqs
        self._fields = merge(self._fields, fields)
        self._seqs.append(seq)
        if not first:
            return  # a flush is already scheduled: this one rides along
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        loop.call_later(SETTLE_S, self.flush)

    def flush(self) -> None:
        fields, seqs = self._fields, self._seqs
        self._fields, self._seqs = {}, []
        if not seqs:
            return
        try:
            self.runs += 1
            self._run(fields, seqs[-1])
        except Exception:  # noqa: BLE001 - a loop callback must not raise; the widget shows its own errors
            log.exception("ckptzoo browser: search failed")
        finally:
            for seq in seqs:
                self._reply(seq)
