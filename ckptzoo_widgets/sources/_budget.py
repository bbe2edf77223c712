"""What opening one remote source may cost: pages, points, bytes and seconds.

A server decides how many pages a listing has, how many points a metric
history holds, how many bytes an answer streams and how slowly. One
`ListingBudget` per source open bounds all four, whoever the server is
(MLflow's REST API, the Hugging Face Hub): every page a reader asks for is
charged (`page`, or `paged` for a whole token-paged listing), every metric
point (`charge_points`), every body byte read through `_http.get_bounded`
(`charge_bytes`), and every step checks the clock.

When a budget runs out the reader stops listing, reports one problem that
names the budget (`ListingBudgetSpent`, a ZooError), and what it read so far
opens. A budget is shared by the reader's worker threads.

The bytes and seconds are a folder walk's (`_folder.MAX_WALK_BYTES`,
`_folder.MAX_WALK_SECONDS`): a remote listing may cost what a local walk may.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ZooError
from ..humanize import human_bytes
from ._folder import MAX_WALK_BYTES, MAX_WALK_SECONDS

MAX_PAGES = 1_000  # pages of all listings of one source open
MAX_POINTS = 5_000_000  # metric points of all histories of one source open
MAX_HISTORY_POINTS = 200_000  # points of one metric history (a chart draws 1,000)
MAX_BYTES = MAX_WALK_BYTES  # answer bytes of one source open
MAX_SECONDS = MAX_WALK_SECONDS  # wall time of one source open

T = TypeVar("T")


class ListingBudgetSpent(ZooError):
    """A budget of one source open ran out; `budget` names it ("pages", "points", "bytes", "seconds")."""

    def __init__(self, budget: str, message: str):
        super().__init__(message)
        self.budget = budget


@dataclass
class ListingBudget:
    """What one source open may read from servers, counted across its threads."""

    pages: int = MAX_PAGES
    points: int = MAX_POINTS
    bytes: int = MAX_BYTES
    seconds: float = MAX_SECONDS
    pages_read: int = field(init=False, default=0)
    points_read: int = field(init=False, default=0)
    bytes_read: int = field(init=False, default=0)
    spent: ListingBudgetSpent | None = field(init=False, default=None)  # the first budget that ran out
    _deadline: float = field(init=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def _spend(self, budget: str, message: str) -> ListingBudgetSpent:
        error = ListingBudgetSpent(budget, f"stopped: {message}; what was read so far is shown")
        if self.spent is None:
            self.spent = error
        return error

    def remaining(self) -> float:
        """Seconds left (0 when spent): a request's own deadline is at most this."""
        return max(0.0, self._deadline - time.monotonic())

    def check(self) -> None:
        """Raise when any budget already ran out, or the time is up."""
        if self.spent is not None:
            raise self.spent
        if time.monotonic() > self._deadline:
            raise self._spend("seconds", f"the time budget of {self.seconds:g} s per source open ran out")

    def page(self) -> None:
        """Charge one page (one listing request)."""
        with self._lock:
            self.check()
            self.pages_read += 1
            if self.pages_read > self.pages:
                raise self._spend("pages", f"the page budget of {self.pages:,} pages per source open ran out")

    def charge_points(self, count: int) -> None:
        with self._lock:
            self.check()
            self.points_read += count
            if self.points_read > self.points:
                raise self._spend(
                    "points", f"the point budget of {self.points:,} metric points per source open ran out"
                )

    def charge_bytes(self, count: int) -> None:
        with self._lock:
            self.check()
            self.bytes_read += count
            if self.bytes_read > self.bytes:
                raise self._spend("bytes", f"the byte budget of {human_bytes(self.bytes)} per source open ran out")


def paged(
    budget: ListingBudget,
    fetch: Callable[[str | None], tuple[Sequence[T], Any]],
    report: Callable[[str], None],
    *,
    limit: int | None = None,
) -> Iterator[T]:
    """The items of a token-paged listing: `fetch(token) -> (items, next token)`, each page charged.

    Ends at the last page, at `limit` items, or when the server pages in a way that never ends:
    an empty page that names a next page, or a token seen before (each reported once, in `report`).
    A budget that runs out raises `ListingBudgetSpent` after the items read so far were yielded.
    """
    token: str | None = None
    seen: set[str] = set()
    count = 0
    while True:
        budget.page()
        items, nxt = fetch(token)
        for item in items:
            if limit is not None and count >= limit:
                return
            count += 1
            yield item
        if not nxt or not isinstance(nxt, str):
            return
        if not items:
            report("the server sent an empty page that names a next page; the listing ends here")
            return
        if nxt in seen:
            report("the server named a page it already sent; the listing ends here")
            return
        seen.add(nxt)
        token = nxt
