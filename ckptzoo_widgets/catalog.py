"""`Zoo`: the models of one or more sources as tables, with search, sort and paging.

The kernel side of the browser: everything here is vectorised over a
DataFrame with one row per model, so a query over a large zoo touches each row
once and returns only the page asked for.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import codegen, credentials, safety
from .errors import ZooError
from .pickle_scan import scan_pickle_file
from .schema import Checkpoint, ModelEntry
from .sources import LoadedSource, read_source

BUILTIN = "builtin"
# Columns every models table has, in display order; metric columns follow.
MODEL_COLUMNS = [
    "id",
    "name",
    "task",
    "library",
    "framework",
    "architecture",
    "license",
    "num_params",
    "num_checkpoints",
    "default_checkpoint",
    "headline_metric",
    "headline_value",
    "created",
    "updated",
    "datasets",
    "tags",
    "source",
]
FILTERS = ("task", "library", "license")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """`model_id@checkpoint` -> (model_id, checkpoint or None); ZooError when malformed."""
    if not isinstance(ref, str):
        raise ZooError(f"a reference must be a string like 'model@checkpoint', got {type(ref).__name__}")
    model_id, _, checkpoint = ref.partition("@")
    try:
        safety.check_model_id(model_id)
        if checkpoint:
            safety.check_checkpoint_name(checkpoint)
    except ValueError as error:
        raise ZooError(f"bad reference {ref[:200]!r}: {error}") from None
    if ref.count("@") > 1 or (ref.endswith("@")):
        raise ZooError(f"bad reference {ref[:200]!r}: expected 'model_id' or 'model_id@checkpoint'")
    return model_id, checkpoint or None


def _slug(label: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-._")[:40]
    return re.sub(r"(\.\.|--)+", "-", slug) or "zoo"


def merge(loaded: Sequence[LoadedSource]) -> list[ModelEntry]:
    """All models of several sources; an id seen before is prefixed with its source's label."""
    seen: set[str] = set()
    merged: list[ModelEntry] = []
    for part in loaded:
        for model in part.models:
            if model.id in seen:
                namespace, _, name = model.id.rpartition("/")
                prefixed = f"{_slug(part.label)}.{namespace or name}" + (f"/{name}" if namespace else "")
                renamed = model.model_copy(update={"id": prefixed})
                renamed.with_origin(model.source, model.base, local_id=model.local_id)
                model = renamed
            seen.add(model.id)
            merged.append(model)
    return merged


class Zoo:
    """Models and their checkpoints from one or more sources.

    Build it with `open_zoo`. Tables are pandas DataFrames; refs are
    `model_id@checkpoint` (the model's default checkpoint when left out).
    """

    def __init__(self, models: Iterable[ModelEntry], *, sources: Sequence[str] = (), errors: Sequence[str] = ()):
        self._models = {model.id: model for model in models}
        self.sources = list(sources)
        self.errors = list(errors)
        self._sort_orders: dict[str, np.ndarray] = {}

    # --- tables -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __iter__(self):
        return iter(self._models.values())

    def __repr__(self) -> str:
        checkpoints = sum(len(m.checkpoints) for m in self._models.values())
        return f"<Zoo {', '.join(self.sources) or 'empty'}: {len(self)} models, {checkpoints} checkpoints>"

    @cached_property
    def models(self) -> pd.DataFrame:
        """One row per model: metadata, headline metric and one column per metric."""
        rows = []
        for model in self._models.values():
            metrics = model.metrics or model.checkpoint().metrics
            headline_name, headline_value = model.headline
            row = {
                "id": model.id,
                "name": model.display_name,
                "task": model.task,
                "library": model.library,
                "framework": model.framework,
                "architecture": model.architecture,
                "license": model.license,
                "num_params": model.num_params,
                "num_checkpoints": len(model.checkpoints),
                "default_checkpoint": model.checkpoint().name,
                "headline_metric": headline_name,
                "headline_value": headline_value,
                "created": model.created,
                "updated": model.updated,
                "datasets": ", ".join(model.datasets),
                "tags": ", ".join(model.tags),
                "source": model.source,
            }
            for metric, value in metrics.items():
                row.setdefault(metric, value)  # a metric named like a fixed column loses
            rows.append(row)
        frame = pd.DataFrame(rows, columns=None if rows else MODEL_COLUMNS)
        frame["num_params"] = frame["num_params"].astype("Int64")
        return frame.reset_index(drop=True)

    @cached_property
    def _haystack(self) -> pd.Series:
        # What a query matches: id, name, tags and the model card, lower-cased once.
        return pd.Series(
            [f"{m.id}\n{m.display_name}\n{' '.join(m.tags)}\n{m.description}".lower() for m in self._models.values()]
        )

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
        skip = {"datasets", "tags", "source", "headline_metric", "default_checkpoint"}
        return [c for c in self.models.columns if c not in skip]

    def facets(self) -> dict[str, list[str]]:
        """The values each filter can take, for the filter menus."""
        return {name: sorted({str(v) for v in self.models[name].dropna().unique()}, key=str.lower) for name in FILTERS}

    def _sort_order(self, sort: str) -> np.ndarray:
        """Row positions in `sort` order, missing values last in both directions (cached per key)."""
        if sort in self._sort_orders:
            return self._sort_orders[sort]
        descending = sort.startswith("-")
        column = sort[1:] if descending else sort
        if column not in self.models.columns or column not in self.sort_keys():
            close = difflib.get_close_matches(column, self.sort_keys(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ZooError(f"unknown sort column {column!r}{hint}; sortable: {', '.join(self.sort_keys())}")
        values = self.models[column]
        if not pd.api.types.is_numeric_dtype(values):
            values = values.map(lambda v: v.lower() if isinstance(v, str) else v)
        keyed = pd.DataFrame({"key": values, "id": self.models["id"]})
        missing = keyed["key"].isna().to_numpy()
        present = (
            keyed[~missing].sort_values(["key", "id"], ascending=[not descending, True], kind="stable").index.to_numpy()
        )
        order = np.concatenate([present, np.flatnonzero(missing)])
        self._sort_orders[sort] = order
        return order

    def search(
        self,
        query: str = "",
        *,
        task: str | None = None,
        library: str | None = None,
        license: str | None = None,
        sort: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Models whose id, name, tags or card contain `query` (case-insensitive).

        Filters match exactly; `sort` is any column of `models` (`-` prefix for
        descending, missing values last). The result's `attrs["total"]` is the
        number of matches before `limit`/`offset`.
        """
        frame = self.models
        mask = np.ones(len(frame), dtype=bool)
        if query and query.strip():
            for word in query.lower().split():
                mask &= self._haystack.str.contains(word, regex=False).to_numpy()
        for name, value in (("task", task), ("library", library), ("license", license)):
            if value:
                mask &= (frame[name] == value).fillna(False).to_numpy(dtype=bool)
        order = self._sort_order(sort) if sort else np.arange(len(frame))
        matching = order[mask[order]]
        offset = max(int(offset), 0)
        page = matching[offset:] if limit is None else matching[offset : offset + max(int(limit), 0)]
        result = frame.iloc[page].reset_index(drop=True)
        result.attrs["total"] = int(len(matching))
        return result

    # --- one model ----------------------------------------------------------

    def model(self, model_id: str) -> ModelEntry:
        """The full entry of a model (card, metadata, checkpoints)."""
        try:
            return self._models[model_id]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(model_id), list(self._models), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ZooError(f"unknown model {str(model_id)[:200]!r} in {self._label()}{hint}") from None

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
        return codegen.generate(*self.resolve(ref), library=library)

    def download(self, ref: str, *, quiet: bool | None = None) -> list[Path]:
        """Local, verified paths of the checkpoint's files (downloaded into the cache when remote)."""
        from .fetch import fetch

        model, checkpoint = self.resolve(ref)
        if not checkpoint.files:
            raise ZooError(f"{model.id}@{checkpoint.name} has no files in the index (load it with its library)")
        label = _slug(model.source or BUILTIN)
        paths = []
        for file in checkpoint.files:
            path = fetch(
                model.locate(file),
                sha256=file.sha256,
                size=file.size,
                quiet=quiet,
                view=(label, *model.id.split("/"), checkpoint.name, file.name),
            )
            if file.format == "pytorch":
                _warn_about_pickle_imports(path, f"{model.id}@{checkpoint.name}")
            paths.append(path)
        return paths

    def _label(self) -> str:
        return f"zoo {', '.join(self.sources)}" if self.sources else "this zoo"


def _warn_about_pickle_imports(path: Path, ref: str) -> None:
    """A pickle that imports more than a state dict needs is worth a look before anyone loads it."""
    advice = "load it only with torch.load(..., weights_only=True), which refuses to import code"
    verdict = scan_pickle_file(path)
    if not verdict.safe:
        warnings.warn(f"{ref}: {path.name}: {verdict.describe()}; {advice}", UnsafePickleWarning, stacklevel=3)


class UnsafePickleWarning(UserWarning):
    """A downloaded pickle would import code beyond a plain state dict."""


def open_zoo(source: str | Sequence[str] | Zoo | None = None) -> Zoo:
    """Open a zoo: the built-in one (default), an index path or URL, or several merged.

    With several sources, one that fails to open is reported in `zoo.errors`
    and the others still open; a single source that fails raises ZooError.
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
            loaded.append(read_source(item))
            continue
        try:
            loaded.append(read_source(item))
        except ZooError as error:
            errors.append(f"source {item!r} failed to open: {error}")
    if not loaded:
        raise ZooError("no source could be opened: " + "; ".join(errors))
    for part in loaded:
        errors += [str(problem) for problem in part.problems]
    return Zoo(merge(loaded), sources=[part.source for part in loaded], errors=errors)
