"""The index rules of `schema.ModelEntry`, checked on the Arrow columns of a JSON index.

Regexes, lengths, ranges, duplicate checkpoint names, unknown fields: each rule
is a vectorised check over a column. The check is conservative: a row it cannot
prove valid is marked for the exact validator (`schema.validate_models`), so the
problems reported are those `ckptzoo validate` reports.
"""

from __future__ import annotations

from typing import Any, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import safety
from ..schema import MAX_COUNT, FileFormat
from .json_lines import FILE, MODEL, TEXT_FIELDS

_NAME_RE2 = safety.re2_form(safety.CHECKPOINT_NAME_PATTERN)  # `..`, `--` and `//`: checked on their own
_ID_RE2 = safety.re2_form(safety.MODEL_ID_PATTERN)
_REVISION_RE2 = safety.re2_form(safety.REVISION_PATTERN)
# Stricter than safety.check_url / check_relative_path (what passes here passes there; the rest
# goes to the exact check): lower-case scheme, an ASCII host, no '@', no whitespace or controls.
_URL_RE2 = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x3f\x41-\x7e]*)?$"
_PATH_RE2 = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$"
_SHA256_RE2 = safety.SHA256_PATTERN
_FORMATS = get_args(FileFormat)


def as_numpy(values: Any) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    """True where the string matches, or is absent."""
    return as_numpy(pc.or_kleene(pc.is_null(values), pc.match_substring_regex(values, pattern)))


def _longer(values: pa.Array, limit: int) -> np.ndarray:
    return as_numpy(pc.greater(pc.utf8_length(values), limit))


def _doubles(values: pa.Array) -> np.ndarray:
    return as_numpy(pc.or_(pc.match_substring(values, ".."), pc.match_substring(values, "--")))


def _out_of_range(values: pa.Array) -> np.ndarray:
    """True where a number is negative, above MAX_COUNT or not finite (absent values are fine)."""
    bad = pc.or_(pc.less(values, 0), pc.greater(values, MAX_COUNT))
    if pa.types.is_floating(values.type):
        bad = pc.or_(bad, pc.invert(pc.is_finite(values)))
    return as_numpy(bad)


def _any_per(bad: np.ndarray, parents: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[parents[bad]] = True
    return out


def numeric_metric(field: pa.Field) -> bool:
    """A metric column the grid can hold: a valid name, numbers."""
    try:
        safety.check_metric_name(field.name)
    except ValueError:
        return False
    return pa.types.is_integer(field.type) or pa.types.is_floating(field.type)


def struct_field(struct: pa.Array, name: str) -> pa.Array | None:
    kind = struct.type
    return struct.field(name) if pa.types.is_struct(kind) and kind.get_field_index(name) >= 0 else None


class Columns:
    """One parsed index: which rows the column checks prove valid, and their grid."""

    def __init__(self, table: pa.Table, lines: list[bytes], origin: str):
        self.table, self.lines, self.origin = table, lines, origin
        self.size = table.num_rows
        self.column = {
            name: table[name].chunk(0) if table[name].num_chunks else pa.nulls(0) for name in table.column_names
        }
        checkpoints = self.column["checkpoints"]
        self.ck_parent = pc.list_parent_indices(checkpoints).to_numpy()
        self.ck = checkpoints.flatten()
        files = self.ck.field("files")
        self.file_parent = self.ck_parent[pc.list_parent_indices(files).to_numpy()]
        self.files = files.flatten()
        self._default: np.ndarray | None = None

    # --- the checks --------------------------------------------------------------

    def exact_rows(self) -> np.ndarray:
        """Rows the columns cannot prove valid (the exact validator decides those)."""
        col, size = self.column, self.size
        bad = np.zeros(size, dtype=bool)
        known = set(MODEL.names) | {"metrics"}
        for name in col:
            if name not in known:  # unknown keys (pydantic forbids them), and curves: exact
                bad |= as_numpy(pc.is_valid(col[name]))
        ids = col["id"]
        bad |= as_numpy(pc.is_null(ids)) | ~_matches(ids, _ID_RE2) | _doubles(ids)
        for name in TEXT_FIELDS:
            bad |= _longer(col[name], 200)
        bad |= ~_matches(col["repo"], _ID_RE2) | _doubles(col["repo"])
        for name, limit in (("created", 40), ("updated", 40), ("description", 200_000)):
            bad |= _longer(col[name], limit)
        for name in ("datasets", "tags"):
            items = col[name].flatten()
            parents = pc.list_parent_indices(col[name]).to_numpy()
            bad |= _any_per(_longer(items, 200) | as_numpy(pc.is_null(items)), parents, size)
        bad |= _out_of_range(col["num_params"])
        bad |= ~_matches(col["default_checkpoint"], _NAME_RE2) | _doubles(col["default_checkpoint"])
        bad |= self._bad_metrics(col.get("metrics"), np.arange(size))
        bad |= self._bad_checkpoints()
        return bad

    def _bad_metrics(self, metrics: pa.Array | None, parents: np.ndarray) -> np.ndarray:
        bad = np.zeros(self.size, dtype=bool)
        if metrics is None:
            return bad
        if not pa.types.is_struct(metrics.type):  # "metrics": [1] or "x"
            return _any_per(as_numpy(pc.is_valid(metrics)), parents, self.size)
        for field in metrics.type:
            values = metrics.field(field.name)
            present = as_numpy(pc.is_valid(values))
            numeric = numeric_metric(field)
            if not numeric:  # a bad name, or text / true / a list as a value: the exact check
                wrong = present
            elif pa.types.is_floating(field.type):
                wrong = as_numpy(pc.invert(pc.is_finite(values)))
            else:
                continue
            bad |= _any_per(wrong, parents, self.size)
        return bad

    def _bad_checkpoints(self) -> np.ndarray:
        col, size, ck = self.column, self.size, self.ck
        lengths = pc.fill_null(pc.list_value_length(col["checkpoints"]), 0).to_numpy()
        bad = lengths < 1  # absent or empty: at least one checkpoint
        known = {"name", "step", "epoch", "date", "files", "revision", "uri", "notes", "metrics"}
        flagged = np.zeros(len(ck), dtype=bool)
        for field in ck.type:
            if field.name not in known:
                flagged |= as_numpy(pc.is_valid(ck.field(field.name)))
        names = ck.field("name")
        flagged |= as_numpy(pc.is_null(names)) | ~_matches(names, _NAME_RE2) | _doubles(names)
        flagged |= _out_of_range(ck.field("step")) | _out_of_range(ck.field("epoch"))
        flagged |= _longer(ck.field("date"), 40) | _longer(ck.field("notes"), 2000)
        revision = ck.field("revision")
        flagged |= ~_matches(revision, _REVISION_RE2)
        flagged |= as_numpy(pc.or_(pc.match_substring(revision, ".."), pc.match_substring(revision, "//")))
        flagged |= as_numpy(pc.ends_with(revision, "/"))
        flagged |= as_numpy(pc.is_valid(ck.field("uri")))  # MLflow URIs: the exact check
        bad |= _any_per(flagged, self.ck_parent, size)
        if "metrics" in ck.type.names:
            bad |= self._bad_metrics(ck.field("metrics"), self.ck_parent)
        # checkpoint names unique within a model
        codes = pc.dictionary_encode(pc.fill_null(names, "")).indices.to_numpy().astype(np.int64)
        keys = self.ck_parent.astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes
        _, first = np.unique(keys, return_index=True)
        repeated = np.ones(len(keys), dtype=bool)
        repeated[first] = False
        bad |= _any_per(repeated, self.ck_parent, size)
        # files: exactly one of path and url, each by its rule
        files = self.files
        path, url = files.field("path"), files.field("url")
        flagged = as_numpy(pc.is_valid(path)) == as_numpy(pc.is_valid(url))
        for field in files.type:
            if field.name not in FILE.names:
                flagged |= as_numpy(pc.is_valid(files.field(field.name)))
        flagged |= ~_matches(path, _PATH_RE2) | ~_matches(url, _URL_RE2)
        flagged |= ~_matches(files.field("sha256"), _SHA256_RE2) | _out_of_range(files.field("size"))
        form = files.field("format")
        flagged |= as_numpy(pc.and_(pc.is_valid(form), pc.invert(pc.is_in(form, value_set=pa.array(_FORMATS)))))
        bad |= _any_per(flagged, self.file_parent, size)
        # default_checkpoint: one of the names
        bad |= as_numpy(pc.is_valid(col["default_checkpoint"])) & (self.default_index() < 0)
        return bad

    def default_index(self) -> np.ndarray:
        """Per row, the flat index of its default checkpoint (the named one, else the last); -1 when none."""
        if self._default is not None:
            return self._default
        col = self.column
        offsets = col["checkpoints"].offsets.to_numpy()
        lengths = np.diff(offsets)
        index = np.where(lengths > 0, offsets[1:] - 1, -1)
        named = as_numpy(pc.is_valid(col["default_checkpoint"]))
        if named.any():
            wanted = col["default_checkpoint"].take(pa.array(self.ck_parent))
            hit = np.flatnonzero(as_numpy(pc.equal(self.ck.field("name"), wanted)))
            rows, first = np.unique(self.ck_parent[hit], return_index=True)
            index = np.where(named, -1, index)
            index[rows] = hit[first]
        self._default = index
        return index
