"""The browser's search glue: one query of the zoo for the page of cards it shows.

The browser (browser.py, state.py) holds what the user asked for in synced traits; this
module turns that into a `Zoo.search` call and the page of cards, the menus of
filter values and sort keys, and the close ids offered when nothing matches.
Plain functions of the zoo: they raise, the widget shows the error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ..text import one_line
from .contract import FILTERS, MAX_LIMIT, PAGE_SIZE, FilterMenu, SortOption, filter_menus, sort_menu
from .payload import card_payload, error_line

__all__ = [
    "FILTERS",
    "PAGE_SIZE",
    "Page",
    "Query",
    "Suggester",
    "clamp_limit",
    "filter_menus_of",
    "live_failure",
    "search_page",
    "zoo_menus",
]

SUGGEST_FROM = 50_000  # ids compared with a query that matched nothing
MAX_NOTES = 10  # notes of one page shown (a source that could not answer, a sort it cannot do)


@dataclass(frozen=True)
class Query:
    """What the user asked for: the text, the filters (empty: any), the sort key."""

    query: str = ""
    task: str = ""
    library: str = ""
    license: str = ""
    sort: str = ""
    limit: int = PAGE_SIZE
    num_params: str = ""  # a range, "min:1B,max:7B" (widget.contract.RANGES)


@dataclass(frozen=True)
class Page:
    cards: list[dict]
    total: int | None  # None: the source does not say (a live source); `more` says whether there is a next page
    offset: int  # where the page starts: the asked offset, or the last page when that is past the end
    more: bool = False  # rows exist past this page
    notes: tuple[str, ...] = ()  # what could not be answered, one line each (catalog/live.py)


def clamp_limit(limit: Any) -> int:
    """Cards per page within 1..MAX_LIMIT; anything that is not a number: the default."""
    try:
        return max(1, min(MAX_LIMIT, int(limit)))
    except (TypeError, ValueError):
        return PAGE_SIZE


def _search(zoo: Any, q: Query, offset: int) -> Any:
    ranges = {"num_params": q.num_params} if q.num_params else {}  # a zoo without range filters is not asked
    return zoo.search(
        q.query,
        task=q.task or None,
        library=q.library or None,
        license=q.license or None,
        sort=q.sort or None,
        limit=q.limit,
        offset=offset,
        **ranges,
    )


def search_page(zoo: Any, q: Query, offset: int) -> Page:
    """The page of cards at `offset`; past the end (filters narrowed), the last page."""
    offset = max(0, offset)
    df = _search(zoo, q, offset)
    known = df.attrs.get("total", len(df))
    total = None if known is None else int(known)
    if total and offset >= total:
        offset = ((total - 1) // q.limit) * q.limit
        df = _search(zoo, q, offset)
    more = bool(df.attrs["more"]) if "more" in df.attrs else total is not None and offset + len(df) < total
    notes = tuple(one_line(n, 300) for n in list(df.attrs.get("notes") or [])[:MAX_NOTES])
    cards = [card_payload(row, zoo, q.sort) for row in df.to_dict("records")]
    if _mixed(zoo):  # each card says where it came from
        for card in cards:
            card["from"] = card.get("source") or ""
    return Page(cards, total, offset, more, notes)


def _mixed(zoo: Any) -> bool:
    """Cards of this zoo come from several places (merged sources, or a live one): say which."""
    return bool(getattr(zoo, "is_live", False)) or len(list(getattr(zoo, "sources", None) or [])) > 1


def filter_menus_of(zoo: Any) -> tuple[list[FilterMenu], list[str]]:
    """The filter menus (widget/contract.py), and a warning when they failed (the browser opens without)."""
    try:
        return filter_menus(zoo), []
    except Exception as exc:  # noqa: BLE001 - the browser still opens without filters
        return [], [f"Filters unavailable: {error_line(exc)}"]


def zoo_menus(zoo: Any, filters: bool = True) -> tuple[list[FilterMenu], list[SortOption], list[str]]:
    """The filter menus (none when not `filters`: a live zoo asks for them later), the sort menu
    (widget/contract.py), and a warning for each that failed (one line each)."""
    menus, warnings = filter_menus_of(zoo) if filters else ([], [])
    try:
        sorts = sort_menu(zoo)
    except Exception as exc:  # noqa: BLE001 - the browser still opens without sorting
        sorts = []
        warnings.insert(0, f"Sort keys unavailable: {error_line(exc)}")
    return menus, sorts, warnings


def live_failure(exc: BaseException) -> bool:
    """A live source could not answer (offline, rate-limited, silent, failing): its message is the one line shown."""
    from ..sources.hub_client import HubUnavailable

    return isinstance(exc, HubUnavailable)


class Suggester:
    """Ids close to a query that matched nothing (at most 3); the ids are read once per zoo."""

    def __init__(self, zoo: Any) -> None:
        self._zoo = zoo
        self._ids: list[str] | None = None

    def suggest(self, query: str) -> list[str]:
        query = query.strip().lower()
        if not query or self._zoo is None:
            return []
        if self._ids is None:
            try:
                # Bounded: a huge zoo offers suggestions from its first ids only (read from
                # the Arrow table: the whole `models` DataFrame of a 1M zoo takes seconds).
                table = getattr(self._zoo, "table", None)
                ids = table["id"].slice(0, SUGGEST_FROM).to_pylist() if table is not None else self._zoo.models["id"]
                self._ids = [str(i) for i in list(ids)[:SUGGEST_FROM]]
            except Exception:  # noqa: BLE001 - suggestions are a nicety
                self._ids = []
        lowered = {i.lower(): i for i in self._ids}
        return [lowered[m] for m in difflib.get_close_matches(query, list(lowered), n=3, cutoff=0.6)]
