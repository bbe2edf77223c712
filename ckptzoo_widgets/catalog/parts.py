"""The models of one source as a grid table, with the rest of each entry on demand.

A part is what the catalog keeps per source: `grid` (Arrow, one row per model,
the columns of `columns.FIXED` plus `metric:<name>` columns), `entry(row)` (one
validated `ModelEntry`), `cards(rows)` (card text of a few rows),
`card_words()` (batches of the word lists the word index is built from).
`EntriesPart` wraps the entries a reader produced; a Parquet index provides
the same methods without holding any entry (`index/parquet_index.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from ..columns import card_words, entries_to_batch
from ..schema import ModelEntry


class Part(Protocol):
    source: str
    label: str
    title: str
    problems: list
    notes: list[str]

    @property
    def grid(self) -> pa.Table: ...

    def entry(self, row: int) -> ModelEntry: ...

    def cards(self, rows: np.ndarray) -> list[str]: ...

    def card_words(self) -> Iterator[pa.Array]: ...


class EntriesPart:
    """Entries a reader validated (pydantic at the edge), turned into columns once."""

    def __init__(self, source: str, label: str, models: Sequence[ModelEntry], problems: list, title: str = ""):
        self.source, self.label, self.title, self.problems = source, label, title, list(problems)
        self._models = list(models)
        notes: list[str] = []
        self._grid = pa.Table.from_batches([entries_to_batch(self._models, problems=notes)])
        self.notes = [f"{source or label}: {note}" for note in notes]

    @property
    def grid(self) -> pa.Table:
        return self._grid

    def entry(self, row: int) -> ModelEntry:
        return self._models[row]

    def cards(self, rows: np.ndarray) -> list[str]:
        return [self._models[int(row)].description for row in rows]

    def card_words(self) -> Iterator[pa.Array]:
        step = 20_000
        for start in range(0, len(self._models), step):
            yield card_words(pa.array([m.description for m in self._models[start : start + step]], pa.string()))
