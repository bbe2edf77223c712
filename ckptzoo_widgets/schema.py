"""The zoo index: models, their checkpoints, files and metrics.

An index is a JSON document (or a Parquet table of the same fields) that
lists models. Each model has metadata named as users know it from Hugging Face
model cards and torchvision's weights `meta`, a markdown model card, and one or
more checkpoints: the weights at a training stage with their own metrics and
files. `parse_index` validates one model entry at a time so a bad entry is
reported and skipped while the rest of the zoo still opens; what is reported
(`Problem`, `Problems`, re-exported here) is problems.py's.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urljoin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import safety, storage
from .decode import ParseError, load_json
from .errors import ZooError
from .problems import MAX_PROBLEMS, Problem, Problems, problems_from, summarise  # noqa: F401 - the old import path
from .text import truncate

INDEX_VERSION = 1
# The largest count (parameters, steps, bytes) an index may hold: 2**53 - 1 is
# exact in an int64 column, in a float64 and in the browser's Number.
MAX_COUNT = 2**53 - 1

ModelId = Annotated[
    str,
    AfterValidator(safety.check_model_id),
    Field(json_schema_extra={"pattern": safety.MODEL_ID_PATTERN}),
]
CheckpointName = Annotated[
    str,
    AfterValidator(safety.check_checkpoint_name),
    Field(json_schema_extra={"pattern": safety.CHECKPOINT_NAME_PATTERN}),
]
Revision = Annotated[
    str,
    AfterValidator(safety.check_revision),
    Field(json_schema_extra={"pattern": safety.REVISION_PATTERN}),
]
Sha256 = Annotated[
    str, AfterValidator(safety.check_sha256), Field(json_schema_extra={"pattern": safety.SHA256_PATTERN})
]
MlflowUri = Annotated[
    str,
    AfterValidator(safety.check_mlflow_uri),
    Field(json_schema_extra={"pattern": safety.MLFLOW_URI_PATTERN}),
]
ShortText = Annotated[str, Field(max_length=200)]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a metric value must be a number, not true/false")
    return value


MetricName = Annotated[str, AfterValidator(safety.check_metric_name)]
FiniteFloat = Annotated[float, BeforeValidator(_not_bool), Field(allow_inf_nan=False)]
Metrics = dict[MetricName, FiniteFloat | None]

FileFormat = Literal["safetensors", "pytorch", "onnx", "keras", "h5", "gguf", "npz", "other"]

# The one list of weight-file suffixes and the format each implies (readers and the index agree).
FORMAT_BY_SUFFIX = {
    ".safetensors": "safetensors",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".bin": "pytorch",
    ".ckpt": "pytorch",
    ".onnx": "onnx",
    ".keras": "keras",
    ".h5": "h5",
    ".gguf": "gguf",
    ".npz": "npz",
}


WEIGHT_SUFFIXES = tuple(FORMAT_BY_SUFFIX)


def format_from_name(name: str) -> FileFormat:
    """The file format a name's suffix implies (`other` when unknown)."""
    return FORMAT_BY_SUFFIX.get(posixpath.splitext(name.lower())[1], "other")  # type: ignore[return-value]


class _Strict(BaseModel):
    # Unknown fields are an error: a typo in an index must not silently vanish.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Strict):
    """One file of a checkpoint: a relative path inside the zoo, an http(s) URL or an
    object-storage URL (s3://, gs://, gcs://, az://, abfs://, hf://)."""

    path: str | None = Field(None, description="Relative POSIX path, resolved against the index's location.")
    url: str | None = Field(
        None,
        description="Absolute http(s) URL, or an object-storage URL (s3://, gs://, gcs://, az://, abfs://, hf://); "
        "no credentials in it.",
    )
    sha256: Sha256 | None = Field(None, description="Lowercase hex sha256; checked on download.")
    size: int | None = Field(None, ge=0, le=MAX_COUNT, description="Size in bytes; checked on download.")
    format: FileFormat | None = Field(None, description="Taken from the suffix when absent.")

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str | None) -> str | None:
        return None if value is None else safety.check_relative_path(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if storage.protocol(value) in storage.INDEX_PROTOCOLS:
            return storage.check_url(value)  # credentials come from the environment, never the index
        return safety.check_url(value)

    @model_validator(mode="after")
    def _exactly_one_location(self) -> FileEntry:
        if (self.path is None) == (self.url is None):
            raise ValueError("a file needs exactly one of 'path' or 'url'")
        if self.format is None:
            object.__setattr__(self, "format", format_from_name(self.name))
        return self

    @property
    def location(self) -> str:
        return self.path if self.path is not None else self.url  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return posixpath.basename(self.location.split("?", 1)[0]) or "file"


class Checkpoint(_Strict):
    """The weights at one training stage."""

    name: CheckpointName
    step: int | None = Field(None, ge=0, le=MAX_COUNT, description="Optimizer steps taken.")
    epoch: float | None = Field(None, ge=0, le=MAX_COUNT, allow_inf_nan=False)
    date: str | None = Field(None, max_length=40, description="ISO 8601 date or date-time.")
    metrics: Metrics = Field(default_factory=dict, description="Metric name -> value at this checkpoint.")
    files: list[FileEntry] = Field(default_factory=list)
    revision: Revision | None = Field(
        None, description="Hub branch, tag or commit (or torchvision weights name) that pins this checkpoint."
    )
    uri: MlflowUri | None = Field(
        None,
        description="MLflow URI that pins this checkpoint (runs:/<run>/<path>, models:/m-<id>, models:/<name>/<v>).",
    )
    notes: str | None = Field(None, max_length=2000)

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return sum(sizes) if sizes and None not in sizes else None  # type: ignore[arg-type]


class ModelEntry(_Strict):
    """A model and its checkpoints (the unit a card shows)."""

    id: ModelId
    name: ShortText | None = Field(None, description="Display name; the id when absent.")
    task: ShortText | None = Field(None, description="Hugging Face pipeline_tag style, e.g. image-classification.")
    library: ShortText | None = Field(None, description="library_name: ckptzoo, transformers, timm, torchvision, ...")
    framework: ShortText | None = Field(None, description="numpy, pytorch, jax, onnx, keras ...")
    architecture: ShortText | None = None
    license: ShortText | None = Field(None, description="SPDX-style id as on the Hub, e.g. apache-2.0.")
    datasets: list[ShortText] = Field(default_factory=list)
    tags: list[ShortText] = Field(default_factory=list)
    num_params: int | None = Field(None, ge=0, le=MAX_COUNT)
    description: str = Field("", max_length=200_000, description="The model card, markdown.")
    metrics: Metrics = Field(
        default_factory=dict, description="Headline metrics; those of the default checkpoint when absent."
    )
    headline_metric: str | None = Field(None, description="The metric a card shows first.")
    curves: dict[MetricName, list[tuple[Annotated[int, Field(ge=0)], FiniteFloat]]] = Field(
        default_factory=dict,
        description="Metric name -> [[step, value], ...] as logged during training (TensorBoard, MLflow), "
        "for charts; checkpoints carry the values at their own step.",
    )
    default_checkpoint: CheckpointName | None = Field(None, description="The last checkpoint when absent.")
    repo: ShortText | None = Field(
        None, description="Hub repository (e.g. EleutherAI/pythia-70m) or torch.hub repo (owner/name)."
    )
    base_model: ShortText | None = None
    created: str | None = Field(None, max_length=40)
    updated: str | None = Field(None, max_length=40)
    checkpoints: list[Checkpoint] = Field(min_length=1)

    # Where this entry came from; set by the reader, never read from the index.
    _source: str = PrivateAttr("")
    _base: str = PrivateAttr("")
    _local_id: str = PrivateAttr("")

    @field_validator("repo")
    @classmethod
    def _repo_is_an_id(cls, value: str | None) -> str | None:
        # Hub repos follow the same rule as our ids; a bad one must not reach a snippet.
        return None if value is None else safety.check_model_id(value)

    @model_validator(mode="after")
    def _consistent(self) -> ModelEntry:
        # one pass (a Counter): an index controls how many checkpoints there are (55,000 in 0.9 MiB)
        counts = Counter(c.name for c in self.checkpoints)
        if len(counts) < len(self.checkpoints):
            duplicates = sorted(name for name, count in counts.items() if count > 1)
            shown = ", ".join(duplicates[:10]) + (f" and {len(duplicates) - 10:,} more" if len(duplicates) > 10 else "")
            raise ValueError(f"duplicate checkpoint names: {shown}")
        if self.default_checkpoint is not None and self.default_checkpoint not in counts:
            raise ValueError(f"default_checkpoint {self.default_checkpoint!r} is not one of the checkpoints")
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def source(self) -> str:
        return self._source

    @property
    def base(self) -> str:
        """Directory path or URL that relative file paths are resolved against."""
        return self._base

    @property
    def local_id(self) -> str:
        """The id inside its own source (differs from `id` when a merge had to prefix it)."""
        return self._local_id or self.id

    def with_origin(self, source: str, base: str, local_id: str = "") -> ModelEntry:
        self._source, self._base, self._local_id = source, base, local_id
        return self

    def locate(self, file: FileEntry) -> str:
        """Where a file is: its URL, or its path resolved against the index's location."""
        if file.url is not None:
            return file.url
        if safety.is_url(self.base):
            return urljoin(self.base, file.path)
        if storage.is_object_url(self.base):  # (urljoin does not know s3:// and friends)
            return self.base.rstrip("/") + "/" + (file.path or "")
        return str(Path(self.base or ".") / (file.path or ""))

    def checkpoint(self, name: str | None = None) -> Checkpoint:
        """The named checkpoint, or the default one; KeyError when it does not exist."""
        if name is None:
            name = self.default_checkpoint or self.checkpoints[-1].name
        for checkpoint in self.checkpoints:
            if checkpoint.name == name:
                return checkpoint
        raise KeyError(name)

    @property
    def headline(self) -> tuple[str | None, float | None]:
        """The metric a card shows first, and its value."""
        metrics = self.metrics or self.checkpoint().metrics
        name = self.headline_metric or next(iter(metrics), None)
        return name, (metrics.get(name) if name else None)


class ZooIndex(_Strict):
    """The whole document (its JSON Schema is `index.schema.json`)."""

    schema_uri: str | None = Field(None, alias="$schema", description="For editors: the JSON Schema's location.")
    ckptzoo_index: Literal[1] = Field(description="Format version of this index.")
    name: ShortText | None = None
    description: str | None = Field(None, max_length=20_000)
    homepage: str | None = None
    models: list[ModelEntry]


class IndexFormatError(ZooError, ValueError):
    """The document is not a zoo index at all (not JSON, no models list, wrong version)."""


def _entry_label(position: int, raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return f"models[{position}] (id {truncate(raw['id'], 100)!r})"
    return f"models[{position}]"


# Exceptions that building one entry from odd input can raise: that entry's problem, not the source's
# (UnicodeEncodeError, a ValueError, is a lone surrogate somewhere in the entry's text).
ENTRY_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError)

# A candidate entry: (origin, label, the raw dict - or a function that builds it, or returns None
# when it has reported its own problems and the entry is to be skipped).
Candidate = tuple[str, str, Any]


def validate_models(candidates: Iterable[Candidate], problems: Problems) -> list[ModelEntry]:
    """The one validate-and-skip loop every reader goes through.

    Each bad entry becomes problems (which entry, which field, why) and is
    skipped; a duplicate id keeps the first; the rest of the source opens.
    """
    models: list[ModelEntry] = []
    seen: set[str] = set()
    for origin, label, raw in candidates:
        try:
            data = raw() if callable(raw) else raw
            if data is None:
                continue
            # Text that is not valid Unicode (a lone surrogate from a "\ud800" escape) cannot be
            # printed, sent to the browser or written as UTF-8: the entry is refused, not repaired.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
            model = ModelEntry.model_validate(data)
        except ValidationError as error:
            problems.extend(problems_from(error, origin, label))
            continue
        except UnicodeEncodeError:
            problems.add(
                Problem(origin, label, "", "contains text that is not valid Unicode (a lone surrogate); skipped")
            )
            continue
        except ENTRY_ERRORS as error:
            message = f"cannot be read ({type(error).__name__}: {truncate(error, 120)}); skipped"
            problems.add(Problem(origin, label, "", message))
            continue
        if model.id in seen:
            problems.add(Problem(origin, label, "id", f"duplicate model id {model.id!r}; entry skipped"))
            continue
        seen.add(model.id)
        models.append(model)
    return models


def parse_models(raw_models: Iterable[Any], origin: str, *, start: int = 0) -> tuple[list[ModelEntry], list[Problem]]:
    """Validate entries one by one; return the good ones and the problems (capped and summarised).

    `start` numbers the entries of one batch of a streamed index (`ckptzoo index convert`).
    """
    problems = Problems()
    candidates = ((origin, _entry_label(position, raw), raw) for position, raw in enumerate(raw_models, start))
    models = validate_models(candidates, problems)
    return models, problems.as_list()


def parse_index(data: Any, origin: str) -> tuple[ZooIndex, list[Problem]]:
    """Validate a decoded index document.

    Raises `IndexFormatError` when `data` is not an index at all; otherwise returns
    the index with only valid models, and the problems of the skipped ones.
    """
    if not isinstance(data, dict):
        raise IndexFormatError(f"{origin}: not a zoo index (expected a JSON object with 'ckptzoo_index' and 'models')")
    version = data.get("ckptzoo_index")
    if version is None:
        raise IndexFormatError(f"{origin}: not a zoo index (no 'ckptzoo_index' version field)")
    if version != INDEX_VERSION:
        raise IndexFormatError(
            f"{origin}: index format version {version!r} is not supported (this ckptzoo reads {INDEX_VERSION})"
        )
    raw_models = data.get("models")
    if not isinstance(raw_models, list):
        raise IndexFormatError(f"{origin}: field 'models' must be a list")
    models, problems = parse_models(raw_models, origin)
    header = {k: v for k, v in data.items() if k != "models"}
    try:
        index = ZooIndex.model_validate({**header, "models": []})
    except ValidationError as error:
        raise IndexFormatError("; ".join(str(p) for p in problems_from(error, origin, "index")[:5])) from None
    return index.model_copy(update={"models": models}), problems


def parse_index_text(text: str | bytes, origin: str) -> tuple[ZooIndex, list[Problem]]:
    """Decode (gzip too) and validate an index within the JSON byte budget (`decode.load_json`)."""
    try:
        data = load_json(text)
    except ParseError as error:
        raise IndexFormatError(f"{origin}: {error}") from None
    return parse_index(data, origin)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the index's JSON form (shipped as `index.schema.json`)."""
    schema = ZooIndex.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ckptzoo index, version 1"
    return schema
