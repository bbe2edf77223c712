"""`ckptzoo index build "hf:author=EleutherAI" -o pythia.parquet`: every match of a live query, for offline use.

The listing is paged through to its end by the Hub's cursor (not only the first
1,000), then each model is opened as the browser opens it (card, branches,
files, metrics) unless the source says `details=no`. Progress is kept in a
journal beside the output (`.<name>.hub-journal.jsonl`: one line per page of
ids, one per model built), so a build that was stopped (Ctrl-C, a rate limit
that asks for more than the wait cap, a lost network) goes on where it was
when run again; the journal is removed once the index is written.

Within the Hub's limits: requests are sent one at a time, and when the Hub's
`RateLimit` header says none are left (or a 429 asks to wait) the build waits
for the window to reset, up to `MAX_WAIT_S` at a time, saying so on stderr.

The listing is one `_budget.paged` listing under one `_budget.ListingBudget`
(`listing_budget`): it ends at the last page, a `next` link seen before, a page
without models that names a next one, `limit=` models, `MAX_PAGES` pages,
`MAX_BYTES` of answers or `MAX_SECONDS` of one run, whichever comes first (the
last three reported; what was listed is built and written). Each model opened
has its own budget (`HubLive.model`). No request loop is unbounded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ZooError
from ..schema import ModelEntry
from ._budget import ListingBudget, ListingBudgetSpent, paged
from .base import LiveQuery
from .hub_client import HubClient
from .hub_live import HubLive

MAX_PAGES = 20_000  # listing pages of one build (2,000,000 models at 100 a page)
MAX_BYTES = 8 << 30  # answer bytes of one build's listing (a page of 100 cards is a few hundred KiB)
MAX_SECONDS = 24 * 3600.0  # one run of a build's listing, rate-limit waits included (a run resumes)
BUILD_PAGE = 100
MAX_WAIT_S = 330.0  # a rate-limit window of the Hub is 300 s


def listing_budget() -> ListingBudget:
    """The budget of one build's listing (the module's values when it starts: a test may set them)."""
    return ListingBudget(
        pages=MAX_PAGES, requests=2 * MAX_PAGES, bytes=MAX_BYTES, seconds=MAX_SECONDS, per="build's listing"
    )


def journal_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.hub-journal.jsonl")


def _read_journal(path: Path) -> tuple[list[str], dict[str, dict[str, Any]], str | None, bool]:
    """(ids listed in order, entries built by id, the next page's URL, listing finished)."""
    ids: list[str] = []
    built: dict[str, dict[str, Any]] = {}
    nxt: str | None = None
    finished = False
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return ids, built, None, False
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill: its page or model is asked again
        if record.get("kind") == "page":
            ids += [i for i in record.get("ids", []) if isinstance(i, str)]
            for entry in record.get("entries", []):
                built.setdefault(entry["id"], entry)
            nxt, finished = record.get("next"), bool(record.get("finished"))
        elif record.get("kind") == "model" and isinstance(record.get("entry"), dict):
            built[record["entry"]["id"]] = record["entry"]
    return list(dict.fromkeys(ids)), built, nxt, finished


def snapshot_models(
    source: str,
    options: dict[str, str],
    out: Path,
    *,
    report: Callable[[str], None],
    say: Callable[[str], None],
) -> Iterator[ModelEntry]:
    """Every model of a live `hf:` source (resumable; see the module's docstring)."""
    client = HubClient(max_wait=MAX_WAIT_S, on_wait=lambda s: say(f"the Hub asks to wait {s:.0f} s; waiting"))
    live = HubLive(source, options, client)
    live.page_size = BUILD_PAGE
    details, limit = _settings(options)
    journal = journal_path(out)
    ids, built, cursor, finished = _read_journal(journal)
    if ids:
        say(f"resuming: {len(ids)} model(s) listed, {len(built)} built before")
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as log:

        def write(record: dict[str, Any]) -> None:
            log.write(json.dumps(record, separators=(",", ":")) + "\n")
            log.flush()
            os.fsync(log.fileno())

        listing = listing_budget()
        known = set(ids)

        def fetch(token: str | None) -> tuple[list[ModelEntry], str | None]:
            page = live.page(LiveQuery(), token, budget=listing)
            for problem in page.problems:
                report(str(problem))
            new = [m for m in page.models if m.id not in built and m.id not in known]
            if limit is not None:
                new = new[: max(limit - len(ids), 0)]
            known.update(m.id for m in new)
            entries = [] if details else [_dump(m) for m in new]
            done = page.next is None or (limit is not None and len(ids) + len(new) >= limit)
            write({"kind": "page", "ids": [m.id for m in new], "entries": entries, "next": page.next, "finished": done})
            ids.extend(m.id for m in new)
            built.update({e["id"]: e for e in entries})
            return page.models, None if done else page.next

        def ended(line: str) -> None:
            report(f"{source}: {line}")
            if not line.startswith("stopped"):  # the Hub paged in a way that never ends: the listing is done
                write({"kind": "page", "ids": [], "entries": [], "next": None, "finished": True})

        if not finished and (limit is None or len(ids) < limit):
            try:
                for _ in paged(listing, fetch, ended, start=cursor, charge=False):
                    pass
            except ListingBudgetSpent as error:
                report(f"{source}: {error}")
        ids = ids if limit is None else ids[:limit]
        _build_details(live, ids, built, write, report)
    base = client.base + "/"
    for model_id in ids:
        if model_id in built:
            yield ModelEntry.model_validate(built[model_id]).with_origin(source, base)


def _settings(options: dict[str, str]) -> tuple[bool, int | None]:
    """Whether each model is opened for its details (`details=no` or `refs=no`: the listing only), and the limit."""
    no = ("no", "0", "false", "none")
    details = options.get("details", "yes").lower() not in no and options.get("refs", "yes").lower() not in no
    return details, int(options["limit"]) if options.get("limit") else None


def _build_details(
    live: HubLive,
    ids: list[str],
    built: dict[str, dict[str, Any]],
    write: Callable[[dict[str, Any]], None],
    report: Callable[[str], None],
) -> None:
    """Each listed model not built before, opened and written to the journal; the Hub out of reach
    (offline, rate-limited, silent) stops the build with how to go on, any other failure skips one model."""
    for position, model_id in enumerate(ids):
        if model_id in built:
            continue
        try:
            entry = live.model(model_id)
        except ZooError as error:
            if getattr(error, "kind", "") in ("offline", "rate-limit", "timeout"):
                raise ZooError(
                    f"{error}; run the same command again to go on ({position} of {len(ids)} built)"
                ) from None
            report(f"{model_id}: {error}")
            continue
        for problem in live.problems:
            report(str(problem))
        built[model_id] = _dump(entry)
        write({"kind": "model", "entry": built[model_id]})
        live._open.clear()  # built entries live in the journal, not in memory


def _dump(model: ModelEntry) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def finish(out: Path) -> None:
    """The index is written: the journal goes."""
    journal_path(out).unlink(missing_ok=True)
