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
for the window to reset, up to `MAX_WAIT_S` at a time, saying so on stderr. The
listing ends at the last page, a `next` link seen before, `limit=` models, or
`MAX_PAGES` pages, whichever comes first: no request loop is unbounded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ZooError
from ..schema import ModelEntry
from .base import LiveQuery
from .hub_client import HubClient
from .hub_live import HubLive

MAX_PAGES = 20_000  # listing pages of one build (2,000,000 models at 100 a page)
BUILD_PAGE = 100
MAX_WAIT_S = 330.0  # a rate-limit window of the Hub is 300 s


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
    details = options.get("details", "yes").lower() not in ("no", "0", "false", "none")
    details = details and options.get("refs", "yes").lower() not in ("no", "0", "false", "none")
    limit = int(options["limit"]) if options.get("limit") else None
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

        seen: set[str] = set()
        pages = 0
        while not finished and (limit is None or len(ids) < limit):
            if pages >= MAX_PAGES:
                report(f"{source}: stopped after {MAX_PAGES} pages")
                break
            started = bool(ids)
            if started and cursor is None:
                break
            page = live.page(LiveQuery(), cursor if started else None)
            pages += 1
            for problem in page.problems:
                report(str(problem))
            new = [m for m in page.models if m.id not in built and m.id not in ids]
            if limit is not None:
                new = new[: max(limit - len(ids), 0)]
            finished = page.next is None or page.next in seen or not page.models
            if page.next:
                seen.add(page.next)
            entries = [] if details else [_dump(m) for m in new]
            write(
                {
                    "kind": "page",
                    "ids": [m.id for m in new],
                    "entries": entries,
                    "next": page.next,
                    "finished": finished,
                }
            )
            ids += [m.id for m in new]
            built.update({e["id"]: e for e in entries})
            cursor = page.next
        if limit is not None:
            ids = ids[:limit]
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
    base = client.base + "/"
    for model_id in ids:
        if model_id in built:
            yield ModelEntry.model_validate(built[model_id]).with_origin(source, base)


def _dump(model: ModelEntry) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def finish(out: Path) -> None:
    """The index is written: the journal goes."""
    journal_path(out).unlink(missing_ok=True)
