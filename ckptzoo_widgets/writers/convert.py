"""Index conversion, streaming: JSON <-> Parquet in bounded memory, whatever the zoo's size.

A JSON index is read with ijson (an event parser: one model entry is built at
a time), validated in batches as `validate` does, and written a batch at a
time; a Parquet index is read row group by row group. Memory stays at a few
batches of entries, so a 1.6 GB JSON index of a million models converts on a
laptop. Bad entries are reported (which entry, which field, why) and skipped.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..cache import atomic_write
from ..index.parquet_index import ParquetIndex
from ..index.parquet_write import ParquetWriter
from ..schema import INDEX_VERSION, IndexFormatError, ModelEntry, Problem, parse_models

BATCH = 8192
_SCALARS = {"string", "number", "boolean", "null"}


@dataclass
class Converted:
    out: Path
    models: int
    checkpoints: int
    problems: int


def _open_json(path: Path) -> IO[bytes]:
    handle = path.open("rb")
    if handle.read(2) == b"\x1f\x8b":  # a .json.gz index
        handle.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def json_header(handle: IO[bytes], origin: str, *, whole: bool = False) -> dict[str, Any]:
    """The top-level scalars of an index, read up to the start of `models` (or the end, with `whole`)."""
    import ijson

    header: dict[str, Any] = {}
    for number, (prefix, event, value) in enumerate(ijson.parse(handle, use_float=True)):
        if number == 0 and event != "start_map":
            raise IndexFormatError(
                f"{origin}: not a zoo index (expected a JSON object with 'ckptzoo_index' and 'models')"
            )
        if prefix == "models" and event == "start_array":
            header["models"] = True
            if not whole:
                break
        elif prefix and "." not in prefix and event in _SCALARS:
            header[prefix] = value
    return header


def json_entries(handle: IO[bytes]) -> Iterator[Any]:
    """The raw entries of `models`, one at a time (ijson's C backend builds each one)."""
    import ijson

    yield from ijson.items(handle, "models.item", use_float=True)


def _check_version(version: Any, origin: str) -> None:
    if version is None:
        raise IndexFormatError(f"{origin}: not a zoo index (no 'ckptzoo_index' version field)")
    if version != INDEX_VERSION:
        raise IndexFormatError(f"{origin}: index format version {str(version)[:20]!r} is not supported")


def _batches_from_json(
    path: Path, origin: str, header: dict, report: Callable[[Problem], None]
) -> Iterator[list[ModelEntry]]:
    seen: set[str] = set()
    position = 0
    batch: list[Any] = []
    try:
        with _open_json(path) as handle:
            header.update(json_header(handle, origin))
        if "ckptzoo_index" not in header:  # the version may come after the models: read to the end
            with _open_json(path) as handle:
                header.update(json_header(handle, origin, whole=True))
        _check_version(header.get("ckptzoo_index"), origin)
        if "models" not in header:
            raise IndexFormatError(f"{origin}: field 'models' must be a list")
        with _open_json(path) as handle:
            for raw in json_entries(handle):
                batch.append(raw)
                if len(batch) >= BATCH:
                    yield _validated(batch, origin, position, seen, report)
                    position += len(batch)
                    batch = []
    except IndexFormatError:
        raise
    except Exception as error:  # ijson's errors for broken JSON
        first = (str(error).strip().splitlines() or [""])[0]
        raise IndexFormatError(f"{origin}: not valid JSON ({first[:120]})") from None
    yield _validated(batch, origin, position, seen, report)


def _validated(
    batch: list[Any], origin: str, start: int, seen: set[str], report: Callable[[Problem], None]
) -> list[ModelEntry]:
    models, problems = parse_models(batch, origin, start=start)
    for problem in problems:
        report(problem)
    fresh = []
    for model in models:  # ids are unique across batches too
        if model.id in seen:
            report(Problem(origin, f"model {model.id!r}", "id", f"duplicate model id {model.id!r}; entry skipped"))
            continue
        seen.add(model.id)
        fresh.append(model)
    return fresh


def _batches_from_parquet(
    path: Path, origin: str, header: dict, report: Callable[[Problem], None]
) -> Iterator[list[ModelEntry]]:
    from ..errors import ZooError

    index = ParquetIndex(str(path), source=origin, label=path.stem, base=str(path.resolve().parent), origin=origin)
    header["name"] = index.title
    for problem in index.problems:
        report(problem)
    batch: list[ModelEntry] = []
    for row in range(len(index.grid)):
        try:
            batch.append(index.entry(row))
        except ZooError as error:
            report(Problem(origin, f"row {row}", "entry", str(error)))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    yield batch


class JsonWriter:
    """A JSON index written entry by entry (the header's name at the end: it may come last in the input)."""

    def __init__(self, out: Path):
        self._handle = out.open("w", encoding="utf-8")
        self._handle.write(f'{{"ckptzoo_index": {INDEX_VERSION}, "models": [')
        self._first = True

    def write(self, models: list[ModelEntry]) -> None:
        for model in models:
            data = model.model_dump(mode="json", exclude_none=True)
            self._handle.write(("\n" if self._first else ",\n") + json.dumps(data, ensure_ascii=False))
            self._first = False

    def close(self, name: str | None) -> None:
        tail = f',\n"name": {json.dumps(name[:200], ensure_ascii=False)}' if name else ""
        self._handle.write(f"\n]{tail}}}\n")
        self._handle.close()


def convert(source: str | Path, out: str | Path, *, report: Callable[[Problem], None]) -> Converted:
    """Convert an index between JSON (`.json`, `.json.gz`) and Parquet (`.parquet`), by the suffixes."""
    source, out = Path(source), Path(out)
    origin = str(source)
    if not source.is_file():
        raise IndexFormatError(f"{source}: no such index file")
    read = _batches_from_parquet if source.suffix == ".parquet" else _batches_from_json
    header: dict[str, Any] = {}
    to_parquet = out.suffix == ".parquet"
    models = checkpoints = problems = 0

    def counted(problem: Problem) -> None:
        nonlocal problems
        problems += 1
        report(problem)

    with atomic_write(out) as temporary:
        writer: Any = ParquetWriter(temporary) if to_parquet else JsonWriter(temporary)
        try:
            for batch in read(source, origin, header, counted):
                if to_parquet and writer.name is None:
                    writer.name = str(header.get("name") or "")[:200] or None
                writer.write(batch)
                models += len(batch)
                checkpoints += sum(len(m.checkpoints) for m in batch)
            writer.close() if to_parquet else writer.close(header.get("name"))
        except BaseException:
            try:
                writer.close() if to_parquet else writer.close(None)
            except Exception:  # noqa: BLE001 - the first error is the one to show
                pass
            raise
    return Converted(out, models, checkpoints, problems)
