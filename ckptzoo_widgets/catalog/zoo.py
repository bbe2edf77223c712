"""`Zoo`: the models of one or more sources as columns, with search, sort and paging.

The catalog keeps one Arrow table (one row per model: the card fields,
filters, sort keys and metrics) and, per source, a part that can read the rest
of one entry on demand. Opening builds no Python object per model; a query
works on columns and turns only the page's rows into pandas. A checkpoint's
load code and download are in files.py, `parse_ref` in ids.py.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import codegen
from ..columns import FILTERS, FIXED
from ..errors import ZooError
from ..schema import Checkpoint, ModelEntry
from . import files
from .files import BUILTIN as BUILTIN  # the old import path (catalog, pack)
from .grid import GridQuery, public_grid, to_pandas
from .ids import parse_ref as parse_ref  # the old import path (catalog, pack)
from .live import LivePart, live_id, live_search
from .parts import EntriesPart, Part
from .search import LEVELS, TextSearch, query_words, snippet
from .words import WordIndex

# Columns every models table has, in display order; metric columns follow.
MODEL_COLUMNS = [*FIXED, "source"]
WARM_UP_ROWS = 50_000


class Zoo:
    """Models and their checkpoints from one or more sources.

    Build it with `open_zoo`. Tables are pandas DataFrames; refs are
    `model_id@checkpoint` (the model's default checkpoint when left out).
    """

    def __init__(
        self,
        models: Sequence[ModelEntry] = (),
        *,
        sources: Sequence[str] = (),
        errors: Sequence[str] = (),
        parts: Sequence[Part] | None = None,
        storage_options: dict[str, dict[str, Any]] | None = None,
        live: Sequence[LivePart] = (),
    ):
        if parts is None:
            parts = [EntriesPart(", ".join(sources), "zoo", list(models), [])]
        self._parts = list(parts)
        self._live = list(live)  # sources asked per query (catalog/live.py), never read whole
        self.sources = list(sources)
        # fsspec family -> the storage_options the zoo was opened with (memory only, never shown)
        self._storage_options = dict(storage_options or {})
        # values a column could not hold (reported, left out: the rest of the zoo still shows)
        self.errors = list(errors) + [note for part in self._parts for note in part.notes]
        self._grid, self._part_of, self._local = public_grid(self._parts)
        self._query = GridQuery(self._grid)
        self._page_rows: dict[str, int] = {}
        self._text_lock = threading.Lock()
        self._text_search: TextSearch | None = None
        self._warming = False

    # --- tables -------------------------------------------------------------

    def __len__(self) -> int:
        self._whole("len(zoo)")
        return self._grid.num_rows

    def __bool__(self) -> bool:
        return True

    @property
    def is_live(self) -> bool:
        """True when a part answers queries where it lives (the Hub): `models`, `len` and
        iteration would need all of it and raise; `search` asks it for a page."""
        return bool(self._live)

    def _whole(self, what: str) -> None:
        if self._live:
            raise ZooError(
                f"{what} would need every model of {self._live[0].source}, a live source; "
                "use zoo.search(...) for a page, or `ckptzoo index build` for a snapshot"
            )

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self._row(model_id) is not None

    def __iter__(self) -> Iterator[ModelEntry]:
        self._whole("iterating over the zoo")
        return (self._entry(row) for row in range(self._grid.num_rows))

    def __repr__(self) -> str:
        checkpoints = pc.sum(self._grid["num_checkpoints"]).as_py() or 0 if self._grid.num_rows else 0
        live = f", live: {', '.join(p.source for p in self._live)}" if self._live else ""
        size = f"{self._grid.num_rows} {'local ' if live else ''}models, {checkpoints} checkpoints"
        return f"<Zoo {', '.join(self.sources) or 'empty'}: {size}{live}>"

    @property
    def table(self) -> pa.Table:
        """The models as an Arrow table (what `models` shows, without a copy)."""
        self._whole("zoo.table")
        return self._grid

    @cached_property
    def models(self) -> pd.DataFrame:
        """One row per model: metadata, headline metric and one column per metric."""
        self._whole("zoo.models")
        return to_pandas(self._grid)

    def checkpoints(self, model_id: str) -> pd.DataFrame:
        """One row per checkpoint of a model: step, epoch, date, files and every metric."""
        model = self.model(model_id)
        rows = []
        for checkpoint in model.checkpoints:
            rows.append(
                {
                    "checkpoint": checkpoint.name,
                    "ref": f"{model.id}@{checkpoint.name}",
                    "step": checkpoint.step,
                    "epoch": checkpoint.epoch,
                    "date": checkpoint.date,
                    "revision": checkpoint.revision,
                    "num_files": len(checkpoint.files),
                    "size": checkpoint.size,
                    "formats": ", ".join(sorted({f.format or "other" for f in checkpoint.files})),
                    **checkpoint.metrics,
                }
            )
        frame = pd.DataFrame(rows)
        for column in ("step", "size"):
            frame[column] = frame[column].astype("Int64")
        return frame

    # --- search -------------------------------------------------------------

    def sort_keys(self) -> list[str]:
        """Columns `search(sort=...)` accepts (prefix '-' for descending)."""
        return self._query.sort_keys()

    def _local_facets(self) -> dict[str, list[str]]:
        facets = {}
        for name in FILTERS:
            values = pc.unique(self._grid[name].combine_chunks()).drop_null().to_pylist() if self._grid.num_rows else []
            facets[name] = sorted({str(v) for v in values}, key=str.lower)
        return facets

    @property
    def sort_options(self) -> Any:
        """A live zoo's sort menu (`() -> [{key, label, direction, group}]`, from its source); None otherwise."""
        return (lambda: self._live[0].live.sort_options()) if self._live else None

    @property
    def filter_options(self) -> Any:
        """A live zoo's filter menus (`() -> {filter: values}`: the source's, with the local values); None otherwise."""
        return self.facets if self._live else None

    def range_options(self) -> dict[str, list[dict[str, str]]]:
        """Range filters (`search(num_params="min:1B,max:7B")`): preset ranges, the live source's when there is one."""
        if self._live:
            return self._live[0].live.range_options()
        from ..sources.hub_live import PARAM_RANGES

        return {"num_params": [{"value": v, "label": label} for v, label in PARAM_RANGES]}

    def facets(self) -> dict[str, list[str]]:
        """The values each filter can take, for the filter menus (a live source's menus merged in)."""
        facets = self._local_facets()
        for part in self._live:
            for name, values in part.live.filter_options().items():
                if name in facets:
                    facets[name] = sorted({*facets[name], *values}, key=str.lower)
        return facets

    @property
    def _text(self) -> TextSearch:
        with self._text_lock:
            if self._text_search is None:
                self._text_search = TextSearch(
                    self._grid["id"], self._grid["name"], self._grid["tags"], self._word_index
                )
            return self._text_search

    def _warm_up(self) -> None:
        """Build the text search and the card word index while the user looks at the first page."""
        try:
            self._text.word_index()
        except Exception:  # noqa: BLE001 - the query that needs it raises the same error in the open
            pass

    def _word_index(self) -> WordIndex:
        return WordIndex(batch for part in self._parts for batch in part.card_words())

    def search(
        self,
        query: str = "",
        *,
        task: str | None = None,
        library: str | None = None,
        license: str | None = None,
        num_params: str | None = None,
        sort: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Models whose id, name or tags contain each word of `query`, or whose card has a word starting with it.

        Case-insensitive; card words match from their third character. Filters
        match exactly; `sort` is any column of `models` (`-` prefix for
        descending, missing values last); with no sort, rows whose id or name
        match come first, then tags, then card-only matches. The result has a
        `match` column ("id", "name", "tag" or "card"; empty without a query) and a
        `snippet` of the card for card-only matches; `attrs["total"]` is the
        number of matches before `limit`/`offset`. `num_params` is a range,
        `"min:1B,max:7B"` (either side may be left out).

        A zoo with a live part (`hf:`) asks it for the page (catalog/live.py):
        its rows alternate with the local ones, `attrs["total"]` is None when the
        source does not say, `attrs["more"]` whether a next page exists and
        `attrs["notes"]` what could not be answered (one line each).
        """
        filters = {"task": task, "library": library, "license": license, "num_params": num_params}
        if self._live:
            return live_search(self, query, filters, sort, limit, offset)
        return self._search_local(query, sort=sort, limit=limit, offset=offset, **filters)

    def _search_local(
        self,
        query: str = "",
        *,
        task: str | None = None,
        library: str | None = None,
        license: str | None = None,
        num_params: str | None = None,
        sort: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> pd.DataFrame:
        words = query_words(query)
        if (
            not self._warming
            and self._grid.num_rows >= WARM_UP_ROWS
            and not any(getattr(p, "remote", False) for p in self._parts)
        ):
            # the word index of a large zoo takes seconds: build it while the first page is looked at
            # (not for an index on object storage: that would download every card's words at once)
            self._warming = True
            threading.Thread(target=self._warm_up, name="ckptzoo-word-index", daemon=True).start()
        mask = None
        for name, value in (("task", task), ("library", library), ("license", license)):
            if value:
                step = self._query.filter(name, str(value))
                mask = step if mask is None else mask & step
        if num_params:
            step = self._query.in_range("num_params", num_params)
            mask = step if mask is None else mask & step
        order = self._query.sort_order(sort) if sort else None
        levels = None
        if words:
            rows, found = self._text.match(words)
            if mask is not None:
                keep = mask[rows]
                rows, found = rows[keep], found[keep]
            if order is not None:
                position = self._query.position(sort)  # type: ignore[arg-type]
                ranked = np.argsort(position[rows], kind="stable")
            else:
                ranked = np.argsort(found, kind="stable")  # rows are in row order already
            matching, levels = rows[ranked], found[ranked]
        else:
            matching = order if order is not None else np.arange(self._grid.num_rows)
            if mask is not None:
                matching = matching[mask[matching]]
        offset = max(int(offset), 0)
        end = None if limit is None else offset + max(int(limit), 0)
        page = matching[offset:end]
        result = to_pandas(self._grid.take(pa.array(page, pa.int64())))
        result["match"] = [LEVELS[i] for i in levels[offset:end]] if levels is not None else ""
        result["snippet"] = self._snippets(page, levels[offset:end], words) if levels is not None else ""
        result.attrs["total"] = int(len(matching))
        self._page_rows = dict(zip(result["id"], page.tolist(), strict=True))
        return result

    def _snippets(self, rows: np.ndarray, levels: np.ndarray, words: tuple[str, ...]) -> list[str]:
        out = [""] * len(rows)
        card = LEVELS.index("card")
        for i, row in enumerate(rows):
            if levels[i] == card:
                part = self._parts[self._part_of[row]]
                out[i] = snippet(part.cards(np.array([self._local[row]]))[0], words)
        return out

    # --- one model ----------------------------------------------------------

    def _row(self, model_id: str) -> int | None:
        row = self._page_rows.get(model_id)
        if row is not None and row < self._grid.num_rows and self._grid["id"][row].as_py() == model_id:
            return row
        found = pc.index(self._grid["id"], pa.scalar(model_id, pa.string())).as_py() if self._grid.num_rows else -1
        return None if found < 0 else found

    def _entry(self, row: int) -> ModelEntry:
        part = self._parts[self._part_of[row]]
        entry = part.entry(int(self._local[row]))
        model_id = self._grid["id"][row].as_py()
        if entry.id != model_id:  # renamed by a merge: keep where it came from
            renamed = entry.model_copy(update={"id": model_id})
            return renamed.with_origin(entry.source, entry.base, local_id=entry.id)
        return entry

    def model(self, model_id: str) -> ModelEntry:
        """The full entry of a model (card, metadata, checkpoints)."""
        row = self._row(model_id) if isinstance(model_id, str) else None
        if row is None and isinstance(model_id, str):
            for part in self._live:  # a live source reads the model when it is opened
                own = live_id(part, model_id)
                if part.live.owns(own):
                    entry = part.live.model(own)
                    if own == model_id:
                        return entry
                    renamed = entry.model_copy(update={"id": model_id})
                    return renamed.with_origin(entry.source, entry.base, local_id=entry.id)
        if row is None:
            close = difflib.get_close_matches(str(model_id)[:200], self._close_candidates(str(model_id)), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ZooError(f"unknown model {str(model_id)[:200]!r} in {self._label()}{hint}") from None
        return self._entry(row)

    def _close_candidates(self, model_id: str) -> list[str]:
        # difflib over every id is too slow for a large zoo: ids sharing the first letters
        ids = self._grid["id"]
        if self._grid.num_rows <= 20_000:
            return ids.to_pylist()
        hits = pc.starts_with(ids, model_id[:3])
        return ids.filter(hits).slice(0, 20_000).to_pylist()

    def resolve(self, ref: str) -> tuple[ModelEntry, Checkpoint]:
        """`model@checkpoint` -> the entry and the checkpoint (the default one when left out)."""
        model_id, name = parse_ref(ref)
        model = self.model(model_id)
        try:
            return model, model.checkpoint(name)
        except KeyError:
            names = ", ".join(c.name for c in model.checkpoints[:20])
            raise ZooError(f"model {model_id!r} has no checkpoint {name!r}; it has: {names}") from None

    def code_libraries(self, ref: str) -> list[str]:
        """Libraries whose load code applies to this checkpoint, the best first."""
        return codegen.libraries_for(*self.resolve(ref))

    def load_code(self, ref: str, library: str | None = None) -> str:
        """Python source that loads exactly this checkpoint (values only as literals)."""
        model, checkpoint = self.resolve(ref)
        return files.load_code(model, checkpoint, self._grid["id"], self._storage_options, library)

    def download(self, ref: str, *, quiet: bool | None = None) -> list[Path]:
        """Local, verified paths of the checkpoint's files (downloaded into the cache when remote)."""
        return files.download(*self.resolve(ref), self._storage_options, quiet=quiet)

    def duplicates(self, model_id: str, *, network: bool = True) -> list[Any]:
        """Checkpoints of `model_id` that repeat another one: the same files (sha256, for the Hub each
        branch's LFS oids, without downloading) or every tensor unchanged (a recorded whole comparison).
        Each a `weights.Duplicate`; `.describe()` is "step 98000 is identical to main (...)"."""
        from ..weights.duplicates import duplicates

        return duplicates(self.model(model_id), network=network)

    def _label(self) -> str:
        return f"zoo {', '.join(self.sources)}" if self.sources else "this zoo"
