"""Live sources in the catalog: a query's pages asked where the source lives, merged with the local parts.

A live source (`sources.base.LiveSource`, the Hugging Face Hub) is never read
whole. `LivePart` keeps, per query, the pages read so far (the rows and the
cursor of the next page), so "load more" costs one request and an offset
already seen costs none; opened models are kept by the source.

**Merging** (`live_search`). The same query goes to every part: the local
parts (one columnar stream, in the catalog's own order: relevance, or the sort
asked for) and each live part (in the source's order). A page alternates
between the streams, one row from each in turn, the local stream first:
rows 1, 3, 5 ... are the best local matches and rows 2, 4, 6 ... the Hub's,
until one stream runs out and the others fill the page. So neither side is
hidden behind the other, whatever their sizes, and each keeps its own order.
Every row says where it came from (`source`). A sort the live source cannot
do (a local metric) sorts the local stream and leaves the live one in its own
order, with a note in `attrs["notes"]`; on a zoo that is live only it is an
error. A live part that fails (offline, rate-limited) leaves the local rows
and a one-line note.

`attrs["total"]` is the number of matches when every stream knows its
length, else None ("more"); `attrs["more"]` says whether a next page exists.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ..columns import FIXED, METRIC_PREFIX, entries_to_batch
from ..errors import ZooError
from ..schema import ModelEntry
from ..sources.base import LiveQuery, LiveSource
from .ids import prefixed, slug

if TYPE_CHECKING:
    from .zoo import Zoo

MAX_QUERIES = 32  # queries whose pages a part keeps
MAX_PAGES_AHEAD = 10  # pages one search may read past what was read before ("load more" reads one)
_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def count_range(text: str) -> tuple[float | None, float | None]:
    """`"min:1B,max:7B"` (either side may be left out; K, M, B, T) -> (low, high); ZooError when malformed."""
    low = high = None
    for part in filter(None, (p.strip() for p in str(text or "").split(","))):
        side, _, value = part.partition(":")
        value = value.strip().upper()
        number = value[:-1] if value[-1:] in _SCALE else value
        try:
            amount = float(number) * _SCALE[value[-1:] if value[-1:] in _SCALE else ""]
        except ValueError:
            amount = None
        if side.strip() not in ("min", "max") or amount is None or amount < 0:
            raise ZooError(f"num_params={text[:60]!r}: expected a range like 'min:1B,max:7B'")
        if side.strip() == "min":
            low = amount
        else:
            high = amount
    return low, high


@dataclass
class _Result:
    """The pages of one query read so far."""

    models: list[ModelEntry] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    next: str | None = None
    started: bool = False
    done: bool = False
    total: int | None = None
    note: str = ""
    problems: list[Any] = field(default_factory=list)


class LivePart:
    """A live source in a zoo: pages of each query kept while they are looked at."""

    def __init__(self, live: LiveSource):
        self.live = live
        self.source, self.label, self.title = live.source, live.label, live.title
        self.problems = list(live.problems)
        self.notes: list[str] = []
        self._results: OrderedDict[LiveQuery, _Result] = OrderedDict()
        self._lock = threading.Lock()

    def _result(self, query: LiveQuery) -> _Result:
        with self._lock:
            result = self._results.get(query)
            if result is None:
                result = self._results[query] = _Result()
            self._results.move_to_end(query)
            while len(self._results) > MAX_QUERIES:
                self._results.popitem(last=False)
            return result

    def rows(self, query: LiveQuery, stop: int, pages_left: int = MAX_PAGES_AHEAD) -> tuple[_Result, int]:
        """The query's result with at least `stop` rows read (or all there are), reading at most
        `pages_left` pages; and how many it read."""
        result = self._result(query)
        pages = 0
        while len(result.models) < stop and not result.done:
            if pages >= pages_left:
                raise ZooError(
                    f"{self.source}: that page is more than {MAX_PAGES_AHEAD} pages past what was read; "
                    "page there step by step or narrow the query"
                )
            page = self.live.page(query, result.next if result.started else None)
            pages += 1
            result.started = True
            fresh = [m for m in page.models if m.id not in result.ids]
            result.models += fresh
            result.ids.update(m.id for m in fresh)
            result.problems += page.problems
            result.next, result.total, result.note = page.next, page.total, page.note
            result.done = page.next is None or not page.models
        return result, pages


class _Stream:
    """One side of a merged page: the local rows (a DataFrame) or a live part's rows."""

    def __init__(self, frame: pd.DataFrame | None, part: LivePart | None, query: LiveQuery | None, tolerant: bool):
        self.frame, self.part, self.query, self.tolerant = frame, part, query, tolerant
        self.error = ""
        self.result: _Result | None = None
        self.pages = 0  # pages this search read

    def has(self, index: int) -> bool:
        if self.frame is not None:
            return index < len(self.frame)
        if self.error:
            return False
        try:
            assert self.part is not None and self.query is not None
            self.result, read = self.part.rows(self.query, index + 1, MAX_PAGES_AHEAD - self.pages)
            self.pages += read
        except ZooError as error:
            if not self.tolerant:
                raise
            self.error = f"{self.part.source if self.part else 'live'}: {error}"
            return False
        return index < len(self.result.models)

    def remains(self, taken: int) -> bool:
        """Rows past the first `taken` exist, or may (a live query not read to its end)."""
        if self.frame is not None:
            return taken < self.total()  # type: ignore[operator]
        if self.error or self.result is None:
            return False
        return taken < len(self.result.models) or not self.result.done

    def total(self) -> int | None:
        if self.frame is not None:
            return int(self.frame.attrs.get("total", len(self.frame)))
        if self.error or self.result is None:
            return 0 if self.error else None
        if self.result.done:
            return len(self.result.models)
        return self.result.total


def live_rows(models: Sequence[ModelEntry], part: LivePart, renamed: dict[str, str]) -> pd.DataFrame:
    """Catalog rows (the columns of `zoo.models`) of a live page's models."""
    table = pa.Table.from_batches([entries_to_batch(list(models))])
    names = [n[len(METRIC_PREFIX) :] if n.startswith(METRIC_PREFIX) else n for n in table.schema.names]
    keep = [i for i, name in enumerate(names) if names.index(name) == i]
    frame = table.rename_columns(names).select(keep).to_pandas()
    frame["id"] = [renamed.get(i, i) for i in frame["id"]]
    for name in ("datasets", "tags"):
        frame[name] = [", ".join(v) if v is not None else "" for v in frame[name]]
    frame["num_checkpoints"] = pd.array([None] * len(frame), dtype="Int64")  # known once opened
    frame["default_checkpoint"] = None
    frame["source"] = part.source
    frame["num_params"] = frame["num_params"].astype("Int64")
    return frame


def live_search(
    zoo: Zoo,
    query: str,
    filters: dict[str, str | None],
    sort: str | None,
    limit: int | None,
    offset: int,
) -> pd.DataFrame:
    """A page of a zoo with live parts: the streams alternate (the module's docstring)."""
    if limit is None:
        raise ZooError(
            f"limit=None would need every model of {zoo._live[0].source} (a live source); "
            "ask for a page (limit=50), or snapshot it with `ckptzoo index build`"
        )
    offset, limit = max(int(offset), 0), max(int(limit), 0)
    stop = offset + limit
    notes: list[str] = []
    streams = _streams(zoo, query, filters, sort, stop, notes)
    picked, taken = _interleave(streams, offset, stop)
    result = _page(zoo, streams, picked, query)
    for stream in streams:
        if stream.error:
            notes.append(stream.error)
        elif stream.result is not None and stream.result.note and stream.part is not None:
            notes.append(f"{stream.part.source}: {stream.result.note}")
    totals = [stream.total() for stream in streams]
    result.attrs["total"] = None if any(t is None for t in totals) else int(sum(t or 0 for t in totals))
    result.attrs["more"] = any(stream.remains(taken[s]) for s, stream in enumerate(streams))
    result.attrs["notes"] = notes
    problems = [str(p) for stream in streams if stream.result is not None for p in stream.result.problems]
    result.attrs["problems"] = problems[:100]  # entries of the live pages that were skipped, and why
    return result


def _streams(
    zoo: Zoo, query: str, filters: dict[str, str | None], sort: str | None, stop: int, notes: list[str]
) -> list[_Stream]:
    """The local rows (up to `stop`) as one stream, each live part as another; a sort a stream
    cannot do is noted (raised when a single live part is all there is)."""
    local = len(zoo._grid) > 0
    streams: list[_Stream] = []
    if local:
        local_sort = sort if sort and sort.lstrip("-") in zoo.sort_keys() else None
        if sort and local_sort is None:
            notes.append(f"the local models cannot be sorted by {sort[:80]!r}: shown in order of relevance")
        frame = zoo._search_local(query, sort=local_sort, limit=stop, offset=0, **filters)
        streams.append(_Stream(frame, None, None, True))
    for part in zoo._live:
        live_sort = sort or ""
        if live_sort and not part.live.can_sort(live_sort):
            if not local:
                raise ZooError(part.live.sort_error(live_sort))
            notes.append(f"{part.source}: {part.live.sort_error(live_sort)}; its models in its own order")
            live_sort = ""
        q = LiveQuery(
            text=str(query or "").strip()[:200],
            task=filters.get("task") or "",
            library=filters.get("library") or "",
            license=filters.get("license") or "",
            num_params=filters.get("num_params") or "",
            sort=live_sort,
        )
        streams.append(_Stream(None, part, q, tolerant=local or len(zoo._live) > 1))
    return streams


def _interleave(streams: list[_Stream], offset: int, stop: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Rows taken in turn from each stream that still has one: the page's (stream, row) from `offset`,
    and how many rows of each stream come before `stop`."""
    picked: list[tuple[int, int]] = []  # (stream, row in it)
    taken = [0] * len(streams)  # rows of each stream before `stop`
    position = round_ = 0
    active = list(range(len(streams)))
    while position < stop and active:
        for s in list(active):
            if not streams[s].has(round_):
                active.remove(s)
                continue
            if position >= offset:
                picked.append((s, round_))
            taken[s] += 1
            position += 1
            if position >= stop:
                break
        round_ += 1
    return picked, taken


def _page(zoo: Zoo, streams: list[_Stream], picked: list[tuple[int, int]], query: str) -> pd.DataFrame:
    """The picked rows as one frame, in the order they were picked (a live row as a local one looks)."""
    frames = []
    for s, stream in enumerate(streams):
        rows = [r for t, r in picked if t == s]
        if stream.frame is not None:
            frames.append((s, stream.frame.iloc[rows].reset_index(drop=True), rows))
        elif stream.result is not None and stream.part is not None:
            models = [stream.result.models[r] for r in rows]
            frame = live_rows(models, stream.part, _renames(zoo, stream.part, [m.id for m in models]))
            frame["match"] = "id" if str(query or "").strip() else ""
            frame["snippet"] = ""
            frames.append((s, frame, rows))
    order = {key: i for i, key in enumerate(picked)}
    pieces = []
    for s, frame, rows in frames:
        if len(frame):
            frame = frame.copy()
            frame["_order"] = [order[(s, r)] for r in rows]
            pieces.append(frame)
    columns = list(zoo._search_local("", limit=0).columns) if len(zoo._grid) > 0 else None
    empty = columns or [*FIXED, "source", "match", "snippet"]
    result = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=empty)
    if "_order" in result:
        result = result.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    return result


def _renames(zoo: Zoo, part: LivePart, ids: list[str]) -> dict[str, str]:
    """Live ids that a local model already has -> the live row's id (its source's label first)."""
    if not ids or not len(zoo._grid):
        return {}
    import pyarrow.compute as pc

    clash = pc.is_in(pa.array(ids, pa.string()), value_set=zoo._grid["id"].combine_chunks()).to_pylist()
    return {i: prefixed(i, part.label) for i, hit in zip(ids, clash, strict=True) if hit}


def live_id(part: LivePart, model_id: str) -> str:
    """The live source's own id of a row's id (without the label a clash with a local id added)."""
    prefix = slug(part.label) + "."
    return model_id[len(prefix) :] if model_id.startswith(prefix) else model_id
