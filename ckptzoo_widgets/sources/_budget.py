"""What opening one remote source may cost: pages, requests, points, bytes and seconds.

A server decides how many pages a listing has, how many points a metric
history holds, how many bytes an answer streams and how slowly. One
`ListingBudget` per source open bounds them all, whoever the server is
(MLflow's REST API, the Hugging Face Hub, Kaggle Models):

- MLflow: one budget per `open_zoo` (the whole experiment is read then);
- a live source (`hf:`, `kaggle:`) is never read whole: one budget per call of
  `page()` (one page of a query) and one per `model()` (one model opened: its
  info, branches, card, result files), never one per kernel, so a session that
  runs for hours is not stopped by what it asked an hour ago;
- `ckptzoo index build "hf:..."`: one budget for the listing of the whole
  query (`hub_snapshot.listing_budget`: its pages, bytes and a run's time),
  one per model it opens;

- a token-paged listing goes through `paged`: at most `pages` pages, and it
  ends at an empty page that names a next one or at a token seen before;
- every request is charged (`request`), every metric point
  (`charge_points`), every body byte read through `_http.read_bounded`
  (`charge_bytes`), and each checks the clock (`seconds`).

When a budget runs out the reader reports one problem that names it
(`ListingBudgetSpent`, a ZooError) and what it read before opens. Requests
and time stop everything after them; points and bytes stop only more of
their kind. A budget is shared by the reader's worker threads.

The bytes are a folder walk's (`_folder.MAX_WALK_BYTES`); the seconds what one
answer may take (`_http.DEADLINE_S`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ZooError
from ..humanize import human_bytes
from ._folder import MAX_WALK_BYTES

MAX_PAGES = 100  # pages of one listing (MLflow asks for 1,000 items a page, the Hub for 100)
MAX_REQUESTS = 100_000  # requests of one source open (5,000 runs, each its histories and artifact folders)
MAX_POINTS = 5_000_000  # metric points of all histories of one source open
MAX_HISTORY_POINTS = 200_000  # points of one metric history (a chart draws 1,000)
MAX_BYTES = MAX_WALK_BYTES  # answer bytes of one source open
MAX_SECONDS = 300.0  # wall time of one source open (what one answer may take, _http.DEADLINE_S)

T = TypeVar("T")
_HARD = ("requests", "seconds")  # when these run out nothing more is asked; points and bytes stop only their kind


class ListingBudgetSpent(ZooError):
    """A budget of one source open ran out; `budget` names it ("requests", "points", "bytes", "seconds")."""

    def __init__(self, budget: str, message: str):
        super().__init__(message)
        self.budget = budget


@dataclass
class ListingBudget:
    """What one source open may ask of servers and read from them, counted across its threads."""

    # The module's values when the budget is made (a test or a notebook may set them first).
    pages: int = field(default_factory=lambda: MAX_PAGES)
    requests: int = field(default_factory=lambda: MAX_REQUESTS)
    points: int = field(default_factory=lambda: MAX_POINTS)
    bytes: int = field(default_factory=lambda: MAX_BYTES)
    seconds: float = field(default_factory=lambda: MAX_SECONDS)
    per: str = "source open"  # what the budget is of, in its messages ("page", "model opened", "build's listing")
    requests_made: int = field(init=False, default=0)
    points_read: int = field(init=False, default=0)
    bytes_read: int = field(init=False, default=0)
    spent: dict[str, ListingBudgetSpent] = field(init=False, default_factory=dict)  # budget -> its error
    _deadline: float = field(init=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def _spend(self, budget: str, message: str) -> ListingBudgetSpent:
        error = self.spent.setdefault(
            budget, ListingBudgetSpent(budget, f"stopped: {message}; what was read before is shown")
        )
        return error

    def remaining(self) -> float:
        """Seconds left (0 when spent): a request's own deadline is at most this."""
        return max(0.0, self._deadline - time.monotonic())

    def check(self, kind: str | None = None) -> None:
        """Raise when the time is up, the requests are spent, or (given) the `kind` budget is."""
        for name in (*_HARD, kind):
            if name in self.spent:
                raise self.spent[name]
        if time.monotonic() > self._deadline:
            raise self._spend("seconds", f"the time budget of {self.seconds:g} s per {self.per} ran out")

    def request(self) -> None:
        """Charge one request (a page of a listing, a folder listed, a file read)."""
        with self._lock:
            self.check()
            self.requests_made += 1
            if self.requests_made > self.requests:
                raise self._spend("requests", f"the budget of {self.requests:,} requests per {self.per} ran out")

    def charge_points(self, count: int) -> None:
        with self._lock:
            self.check("points")
            self.points_read += count
            if self.points_read > self.points:
                raise self._spend("points", f"the budget of {self.points:,} metric points per {self.per} ran out")

    def charge_bytes(self, count: int) -> None:
        with self._lock:
            self.check("bytes")
            self.bytes_read += count
            if self.bytes_read > self.bytes:
                raise self._spend("bytes", f"the budget of {human_bytes(self.bytes)} per {self.per} ran out")


def paged(
    budget: ListingBudget,
    fetch: Callable[[str | None], tuple[Sequence[T], Any]],
    report: Callable[[str], None],
    *,
    limit: int | None = None,
    start: str | None = None,
    charge: bool = True,
) -> Iterator[T]:
    """The items of a token-paged listing: `fetch(token) -> (items, next token)`, each page a request.

    Ends at the last page, at `limit` items, at `budget.pages` pages, or when the server pages
    in a way that never ends: an empty page that names a next page, or a token seen before
    (each reported in `report`, once). When the open's requests or time run out it raises
    `ListingBudgetSpent`, after the items read so far were yielded. `start`: the first page's
    token (a listing resumed); `charge=False` when `fetch` charges each request it sends itself
    (the Hub's client does, retries included).
    """
    token: str | None = start
    seen: set[str] = set() if start is None else {start}
    count = 0
    for _ in range(budget.pages):
        if charge:
            budget.request()
        else:
            budget.check()
        items, nxt = fetch(token)
        for item in items:
            if limit is not None and count >= limit:
                return
            count += 1
            yield item
        if not nxt or not isinstance(nxt, str) or (limit is not None and count >= limit):
            return
        if not items:
            report("the server sent an empty page that names a next page; the listing ends here")
            return
        if nxt in seen:
            report("the server named a page it already sent; the listing ends here")
            return
        seen.add(nxt)
        token = nxt
    report(f"stopped at the page budget of {budget.pages:,} pages per listing; what was listed before is shown")
