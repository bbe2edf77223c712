"""The catalog: `open_zoo` reads sources into a columnar `Zoo` (see zoo.py)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import credentials, storage
from ..errors import ZooError
from ..pickle_verdicts import UnsafePickleWarning
from ..sources import LoadedSource, read_source
from .live import LivePart
from .parts import EntriesPart, Part
from .zoo import BUILTIN, FILTERS, MODEL_COLUMNS, Zoo, parse_ref

__all__ = ["BUILTIN", "FILTERS", "MODEL_COLUMNS", "UnsafePickleWarning", "Zoo", "open_zoo", "parse_ref"]


def _part(loaded: LoadedSource) -> Part:
    columnar = getattr(loaded, "table", None)  # a Parquet index: columns without entries
    if columnar is not None:
        return columnar
    return EntriesPart(loaded.source, loaded.label, loaded.models, loaded.problems, loaded.title)


def open_zoo(source: str | Sequence[str] | Zoo | None = None, *, storage_options: dict | None = None) -> Zoo:
    """Open a zoo: the built-in one (default), an index path or URL, or several merged.

    With several sources, one that fails to open is reported in `zoo.errors`
    and the others still open; a single source that fails raises ZooError.
    `storage_options` go to fsspec for object-storage sources (`s3://...`):
    credentials, an endpoint. The zoo also uses them for the files it names on
    the same protocol (`zoo.download`, `cz.load`, its load code run in this
    kernel); they are kept in this process's memory only.
    """
    if isinstance(source, Zoo):
        return source
    source = credentials.accept(source)  # user:pw@ in a URL: kept in this process, never shown or stored
    sources = [BUILTIN] if source is None else [source] if isinstance(source, str) else list(source)
    if not sources:
        raise ZooError("no source given")
    loaded: list[LoadedSource] = []
    errors: list[str] = []
    for item in sources:
        if len(sources) == 1:
            loaded.append(read_source(item, storage_options))
            continue
        try:
            loaded.append(read_source(item, storage_options))
        except ZooError as error:
            errors.append(credentials.presentable(f"source {item!r} failed to open: {error}"))
    if not loaded:
        raise ZooError("no source could be opened: " + "; ".join(errors))
    for part in loaded:
        errors += [credentials.presentable(problem) for problem in part.problems]
    # the options belong to the protocols of the object-storage sources they opened
    options = {storage.family(item): dict(storage_options or {}) for item in sources if storage.is_object_url(item)}
    return Zoo(
        parts=[_part(part) for part in loaded if part.live is None],
        live=[LivePart(part.live) for part in loaded if part.live is not None],
        sources=[part.source for part in loaded],
        errors=errors,
        storage_options=options if storage_options else None,
    )
