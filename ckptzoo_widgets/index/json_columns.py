"""A large JSON index opened as columns: Arrow parses it, the index rules are checked per column.

An index written one model entry per line (what `ckptzoo index convert` and
the benchmarks write) is handed to Arrow's JSON reader (C++) as
newline-delimited JSON, so no Python object is built per model
(`json_lines`). The rules of `schema.ModelEntry` are then checked on the
columns (`json_rules`: regexes, lengths, ranges, duplicate names, unknown
fields). The check is conservative: an entry it cannot prove valid goes
through the exact validator (`schema.validate_models`), so the problems are
those `ckptzoo validate` reports, in the same order; `json_grid` assembles the
grid of both kinds of row. A file in another layout, or one Arrow will not
read as it is written (a `null`, a float where an int goes, a key given
twice), returns None and opens on the exact path. `entry(row)` validates the
one entry asked for with pydantic, from its own line of the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ..columns import card_words
from ..errors import ZooError
from ..schema import ENTRY_ERRORS, ModelEntry, Problem
from ..text import one_line
from .json_grid import assemble
from .json_lines import read_lines
from .json_rules import Columns

COLUMNAR_FROM = 1 << 20  # bytes of JSON: below this the exact path is as quick


class JsonIndex:
    """The models of one JSON index as a grid, each entry validated again when it is opened (a catalog part)."""

    def __init__(
        self,
        grid: pa.Table,
        lines: list[bytes],
        cards: pa.Array,
        *,
        source: str,
        label: str,
        base: str,
        origin: str,
        title: str,
        problems: list[Problem],
    ):
        self.source, self.label, self.base, self.origin, self.title = source, label, base, origin, title
        self.problems = problems
        self.notes: list[str] = []
        self._grid, self._lines, self._cards = grid, lines, cards

    @property
    def grid(self) -> pa.Table:
        return self._grid

    def entry(self, row: int) -> ModelEntry:
        try:
            model = ModelEntry.model_validate(json.loads(self._lines[row]))
        except (ValueError, *ENTRY_ERRORS) as error:  # the file changed under us, or a check missed something
            raise ZooError(one_line(f"{self.origin}: entry {row}: not valid ({error})")) from None
        return model.with_origin(self.source, self.base)

    def cards(self, rows: np.ndarray) -> list[str]:
        return [card or "" for card in self._cards.take(pa.array(rows, pa.int64())).to_pylist()]

    def card_words(self) -> Iterator[pa.Array]:
        step = 50_000
        for start in range(0, len(self._cards), step):
            yield card_words(self._cards.slice(start, step))


def read_json_columns(data: bytes, origin: str, *, source: str, label: str, base: str) -> JsonIndex | None:
    """The index as a `JsonIndex`, or None when it is not laid out one entry per line (use the exact path)."""
    if len(data) < COLUMNAR_FROM:
        return None
    read = read_lines(data, origin)
    if read is None:
        return None
    title, lines, table = read
    parsed = Columns(table, lines, origin)
    grid, kept_lines, cards, problems = assemble(parsed)
    return JsonIndex(
        grid, kept_lines, cards, source=source, label=label, base=base, origin=origin, title=title, problems=problems
    )
