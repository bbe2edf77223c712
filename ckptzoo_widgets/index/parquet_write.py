"""Writing a Parquet index (the layout of `parquet_format`) batch by batch, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq

from ..columns import entries_to_batch, metric_names
from ..schema import ModelEntry
from .parquet_format import FORMAT, FORMAT_KEY, NAME_KEY, ROW_GROUP_ROWS


class ParquetWriter:
    """Writes entries to a Parquet index batch by batch (bounded memory).

    Metric columns are fixed by the first batch written: its most frequent
    names (up to columns.MAX_METRIC_COLUMNS). Later metrics stay in `entry`.
    """

    def __init__(self, out: str | Path, *, name: str | None = None):
        self.out = Path(out)
        self.name = name
        self._writer: pq.ParquetWriter | None = None
        self._metrics: list[str] = []
        self.rows = 0

    def write(self, models: list[ModelEntry]) -> None:
        if not models:
            return
        if self._writer is None:
            self._metrics = metric_names(models)
        batch = entries_to_batch(models, metrics=self._metrics, stored=True)
        if self._writer is None:
            schema = batch.schema.with_metadata({FORMAT_KEY: FORMAT, NAME_KEY: (self.name or "").encode()[:200]})
            self._writer = pq.ParquetWriter(str(self.out), schema, compression="zstd")
        self._writer.write_batch(
            batch.replace_schema_metadata(self._writer.schema.metadata), row_group_size=ROW_GROUP_ROWS
        )
        self.rows += len(models)

    def close(self) -> None:
        if self._writer is None:  # an empty zoo still gets a valid file
            empty = entries_to_batch([], metrics=[], stored=True)
            schema = empty.schema.with_metadata({FORMAT_KEY: FORMAT, NAME_KEY: (self.name or "").encode()[:200]})
            self._writer = pq.ParquetWriter(str(self.out), schema, compression="zstd")
        self._writer.close()


def write_parquet(models: Iterable[ModelEntry], out: str | Path, *, name: str | None = None) -> int:
    """Write a Parquet index of `models` (any iterable: written ROW_GROUP_ROWS at a time)."""
    writer = ParquetWriter(out, name=name)
    batch: list[ModelEntry] = []
    try:
        for model in models:
            batch.append(model)
            if len(batch) >= ROW_GROUP_ROWS * 4:
                writer.write(batch)
                batch = []
        writer.write(batch)
    finally:
        writer.close()
    return writer.rows
