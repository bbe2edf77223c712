"""A large JSON index opened as columns: Arrow parses it, the index rules are checked per column.

An index written one model entry per line (what `ckptzoo index convert` and
the benchmarks write) is handed to Arrow's JSON reader (C++) as
newline-delimited JSON, so no Python object is built per model. The rules of
`schema.ModelEntry` are then checked on the columns (regexes, lengths,
ranges, duplicate names, unknown fields). The check is conservative: an entry
it cannot prove valid goes through the exact validator
(`schema.validate_models`), so the problems are those `ckptzoo validate`
reports, in the same order. A file in another layout, or one Arrow will not
read as it is written (a `null`, a float where an int goes, a key given
twice), returns None and opens on the exact path. `entry(row)` validates the
one entry asked for with pydantic, from its own line of the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .. import safety
from ..columns import FIXED, MAX_METRIC_COLUMNS, METRIC_PREFIX, card_words, entries_to_batch, model_metrics
from ..decode import GZIP_MAGIC, ParseError, decompress, json_limit
from ..errors import ZooError
from ..schema import (
    ENTRY_ERRORS,
    MAX_COUNT,
    ModelEntry,
    Problem,
    Problems,
    _entry_label,
    parse_index_text,
    validate_models,
)
from ..text import one_line

COLUMNAR_FROM = 1 << 20  # bytes of JSON: below this the exact path is as quick

_FILE = pa.struct(
    [
        ("path", pa.string()),
        ("url", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("format", pa.string()),
    ]
)
_CHECKPOINT = pa.struct(
    [
        ("name", pa.string()),
        ("step", pa.int64()),
        ("epoch", pa.float64()),
        ("date", pa.string()),
        ("files", pa.list_(_FILE)),
        ("revision", pa.string()),
        ("uri", pa.string()),
        ("notes", pa.string()),
    ]
)  # and `metrics`, whose fields Arrow infers
_TEXT = ("name", "task", "library", "framework", "architecture", "license", "repo", "base_model")
_MODEL = pa.schema(
    [
        ("id", pa.string()),
        *((name, pa.string()) for name in _TEXT),
        ("datasets", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("num_params", pa.int64()),
        ("description", pa.string()),
        ("headline_metric", pa.string()),
        ("default_checkpoint", pa.string()),
        ("created", pa.string()),
        ("updated", pa.string()),
        ("checkpoints", pa.list_(_CHECKPOINT)),
    ]
)  # and `metrics`, `curves`
_NAME_RE2 = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"
_ID_RE2 = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$"
_REVISION_RE2 = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$"
# Stricter than safety.check_url / check_relative_path (what passes here passes there; the rest
# goes to the exact check): lower-case scheme, an ASCII host, no '@', no whitespace or controls.
_URL_RE2 = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x3f\x41-\x7e]*)?$"
_PATH_RE2 = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$"
_SHA256_RE2 = r"^[0-9a-f]{64}$"
_FORMATS = ("safetensors", "pytorch", "onnx", "keras", "h5", "gguf", "npz", "other")
_SPACE = frozenset(b" \t\r\n")


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
    if data[:2] == GZIP_MAGIC:
        try:
            data = decompress(data, json_limit())
        except ParseError:
            return None  # the exact path says why
    if len(data) > json_limit() or _has_null(data):
        return None
    split = _split(data, origin)
    if split is None:
        return None
    title, lines = split
    try:
        table = pj.read_json(
            pa.BufferReader(b"\n".join(lines)),
            parse_options=pj.ParseOptions(explicit_schema=_MODEL, unexpected_field_behavior="infer"),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(lines):
        return None
    table = table.combine_chunks()
    return _Columns(table, lines, origin).part(source=source, label=label, base=base, title=title)


def _has_null(data: bytes) -> bool:
    """Whether a `null` may stand as a value: Arrow cannot tell it from a missing key, pydantic can.

    From each literal `null`, back over whitespace to a `:`, `[` or `,` (a card that says
    "null" in its text costs one look back; one that says ", null" is read the exact way).
    """
    at = data.find(b"null")
    while at >= 0:
        before = at - 1
        while before >= 0 and data[before] in _SPACE:
            before -= 1
        if before >= 0 and data[before] in b":[,":
            return True
        at = data.find(b"null", at + 4)
    return False


def _split(data: bytes, origin: str) -> tuple[str, list[bytes]] | None:
    """(title, one line per entry) when the file opens its models on line 1 and closes them on a line of its own."""
    end = data.find(b"\n", 0, 1 << 16)
    head = data[: max(end, 0)].rstrip()
    if not head.endswith(b"[") or b'"models"' not in head:
        return None  # before splitting: a one-line index stays one copy in memory
    lines = data.split(b"\n")
    close = len(lines) - 1
    while close > 0 and not lines[close].lstrip().startswith(b"]"):
        close -= 1
    if close <= 0:
        return None
    entries = []
    for line in lines[1:close]:
        line = line.strip(b" \t\r,")
        if not line:
            continue
        if not (line.startswith(b"{") and line.endswith(b"}")):
            return None
        entries.append(line)
    if not entries:
        return None
    try:  # the header through the exact path: version, name, no other key
        index, problems = parse_index_text(head + b"\n" + b"\n".join(lines[close:]), origin)
    except ZooError:
        return None
    if problems or index.models:
        return None
    return index.name or "", entries


def _numpy(values: Any) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    """True where the string matches, or is absent."""
    return _numpy(pc.or_kleene(pc.is_null(values), pc.match_substring_regex(values, pattern)))


def _longer(values: pa.Array, limit: int) -> np.ndarray:
    return _numpy(pc.greater(pc.utf8_length(values), limit))


def _doubles(values: pa.Array) -> np.ndarray:
    return _numpy(pc.or_(pc.match_substring(values, ".."), pc.match_substring(values, "--")))


def _out_of_range(values: pa.Array) -> np.ndarray:
    """True where a number is negative, above MAX_COUNT or not finite (absent values are fine)."""
    bad = pc.or_(pc.less(values, 0), pc.greater(values, MAX_COUNT))
    if pa.types.is_floating(values.type):
        bad = pc.or_(bad, pc.invert(pc.is_finite(values)))
    return _numpy(bad)


def _any_per(bad: np.ndarray, parents: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[parents[bad]] = True
    return out


def _numeric(field: pa.Field) -> bool:
    """A metric column the grid can hold: a valid name, numbers."""
    try:
        safety.check_metric_name(field.name)
    except ValueError:
        return False
    return pa.types.is_integer(field.type) or pa.types.is_floating(field.type)


def _field(struct: pa.Array, name: str) -> pa.Array | None:
    kind = struct.type
    return struct.field(name) if pa.types.is_struct(kind) and kind.get_field_index(name) >= 0 else None


class _Columns:
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
        known = set(_MODEL.names) | {"metrics"}
        for name in col:
            if name not in known:  # unknown keys (pydantic forbids them), and curves: exact
                bad |= _numpy(pc.is_valid(col[name]))
        ids = col["id"]
        bad |= _numpy(pc.is_null(ids)) | ~_matches(ids, _ID_RE2) | _doubles(ids)
        for name in _TEXT:
            bad |= _longer(col[name], 200)
        bad |= ~_matches(col["repo"], _ID_RE2) | _doubles(col["repo"])
        for name, limit in (("created", 40), ("updated", 40), ("description", 200_000)):
            bad |= _longer(col[name], limit)
        for name in ("datasets", "tags"):
            items = col[name].flatten()
            parents = pc.list_parent_indices(col[name]).to_numpy()
            bad |= _any_per(_longer(items, 200) | _numpy(pc.is_null(items)), parents, size)
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
            return _any_per(_numpy(pc.is_valid(metrics)), parents, self.size)
        for field in metrics.type:
            values = metrics.field(field.name)
            present = _numpy(pc.is_valid(values))
            numeric = _numeric(field)
            if not numeric:  # a bad name, or text / true / a list as a value: the exact check
                wrong = present
            elif pa.types.is_floating(field.type):
                wrong = _numpy(pc.invert(pc.is_finite(values)))
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
                flagged |= _numpy(pc.is_valid(ck.field(field.name)))
        names = ck.field("name")
        flagged |= _numpy(pc.is_null(names)) | ~_matches(names, _NAME_RE2) | _doubles(names)
        flagged |= _out_of_range(ck.field("step")) | _out_of_range(ck.field("epoch"))
        flagged |= _longer(ck.field("date"), 40) | _longer(ck.field("notes"), 2000)
        revision = ck.field("revision")
        flagged |= ~_matches(revision, _REVISION_RE2)
        flagged |= _numpy(pc.or_(pc.match_substring(revision, ".."), pc.match_substring(revision, "//")))
        flagged |= _numpy(pc.ends_with(revision, "/"))
        flagged |= _numpy(pc.is_valid(ck.field("uri")))  # MLflow URIs: the exact check
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
        flagged = _numpy(pc.is_valid(path)) == _numpy(pc.is_valid(url))
        for field in files.type:
            if field.name not in _FILE.names:
                flagged |= _numpy(pc.is_valid(files.field(field.name)))
        flagged |= ~_matches(path, _PATH_RE2) | ~_matches(url, _URL_RE2)
        flagged |= ~_matches(files.field("sha256"), _SHA256_RE2) | _out_of_range(files.field("size"))
        form = files.field("format")
        flagged |= _numpy(pc.and_(pc.is_valid(form), pc.invert(pc.is_in(form, value_set=pa.array(_FORMATS)))))
        bad |= _any_per(flagged, self.file_parent, size)
        # default_checkpoint: one of the names
        bad |= _numpy(pc.is_valid(col["default_checkpoint"])) & (self.default_index() < 0)
        return bad

    def default_index(self) -> np.ndarray:
        """Per row, the flat index of its default checkpoint (the named one, else the last); -1 when none."""
        if self._default is not None:
            return self._default
        col = self.column
        offsets = col["checkpoints"].offsets.to_numpy()
        lengths = np.diff(offsets)
        index = np.where(lengths > 0, offsets[1:] - 1, -1)
        named = _numpy(pc.is_valid(col["default_checkpoint"]))
        if named.any():
            wanted = col["default_checkpoint"].take(pa.array(self.ck_parent))
            hit = np.flatnonzero(_numpy(pc.equal(self.ck.field("name"), wanted)))
            rows, first = np.unique(self.ck_parent[hit], return_index=True)
            index = np.where(named, -1, index)
            index[rows] = hit[first]
        self._default = index
        return index

    # --- the grid ------------------------------------------------------------------

    def part(self, *, source: str, label: str, base: str, title: str) -> JsonIndex:
        exact = self.exact_rows()
        problems: dict[int, list[Problem]] = {}
        accepted: dict[int, ModelEntry] = {}
        for row in np.flatnonzero(exact).tolist():
            log = Problems(limit=1 << 30)
            raw = json.loads(self.lines[row])
            models = validate_models([(self.origin, _entry_label(row, raw), raw)], log)
            if models:
                accepted[row] = models[0]
            problems[row] = log.as_list()
        valid = ~exact
        valid[list(accepted)] = True
        ids = self.column["id"]
        kept = np.flatnonzero(valid)
        codes = pc.dictionary_encode(ids.take(pa.array(kept))).indices.to_numpy()
        _, first = np.unique(codes, return_index=True)
        for position in np.setdiff1d(np.arange(len(kept)), first).tolist():
            row = int(kept[position])
            model_id = ids[row].as_py()
            label_ = _entry_label(row, {"id": model_id})
            message = f"duplicate model id {model_id!r}; entry skipped"
            problems.setdefault(row, []).append(Problem(self.origin, label_, "id", message))
            valid[row] = False
            accepted.pop(row, None)
        log = Problems()
        for row in sorted(problems):
            log.extend(problems[row])
        kept = np.flatnonzero(valid)
        grid = self._grid(kept, exact, accepted)
        lines = [self.lines[row] for row in kept.tolist()]
        cards = self.column["description"].take(pa.array(kept))
        return JsonIndex(
            grid,
            lines,
            cards,
            source=source,
            label=label,
            base=base,
            origin=self.origin,
            title=title,
            problems=log.as_list(),
        )

    def _effective_metrics(self) -> dict[str, pa.Array]:
        """Per row, the metrics a card shows: the model's own, else its default checkpoint's (one array per name)."""
        own = self.column.get("metrics")
        names: dict[str, None] = {}
        has_own = np.zeros(self.size, dtype=bool)
        if own is not None and pa.types.is_struct(own.type):
            for field in own.type:
                has_own |= _numpy(pc.is_valid(own.field(field.name)))
                if _numeric(field):  # the others are only in rows the exact check took
                    names[field.name] = None
        ck_metrics = _field(self.ck, "metrics")
        default = self.default_index()
        chosen = None
        if ck_metrics is not None and len(self.ck):
            chosen = ck_metrics.take(pa.array(np.maximum(default, 0)))
        if chosen is not None and pa.types.is_struct(chosen.type):
            names.update(dict.fromkeys(f.name for f in chosen.type if _numeric(f)))
        use_own = pa.array(has_own)
        out = {}
        for name in names:
            mine = _field(own, name) if own is not None else None
            theirs = _field(chosen, name) if chosen is not None else None
            mine = pa.nulls(self.size, pa.float64()) if mine is None else mine.cast(pa.float64())
            theirs = pa.nulls(self.size, pa.float64()) if theirs is None else theirs.cast(pa.float64())
            out[name] = pc.if_else(use_own, mine, theirs)
        return out

    def _grid(self, kept: np.ndarray, exact: np.ndarray, accepted: dict[int, ModelEntry]) -> pa.Table:
        col = self.column
        fast = kept[~exact[kept]]
        metrics = {name: values.take(pa.array(fast)) for name, values in self._effective_metrics().items()}
        # metric columns: the most frequent names, ties in first-seen order (columns.metric_names)
        first_row = {}
        counts: dict[str, int] = {}
        for name, values in metrics.items():
            present = np.flatnonzero(_numpy(pc.is_valid(values)))
            counts[name] = len(present)
            first_row[name] = int(fast[present[0]]) if len(present) else 1 << 62
        order = {name: i for i, name in enumerate(metrics)}
        for row, model in accepted.items():
            for i, name in enumerate(model_metrics(model)):
                counts[name] = counts.get(name, 0) + 1
                if row < first_row.get(name, 1 << 62):
                    first_row[name], order[name] = row, i
        ranked = sorted((n for n in counts if counts[n]), key=lambda n: (-counts[n], first_row[n], order.get(n, 0)))
        names = ranked[:MAX_METRIC_COLUMNS]

        take = pa.array(fast)
        arrays: dict[str, Any] = {}
        for name in FIXED:
            if name in col and name not in ("name", "default_checkpoint", "num_checkpoints", "headline_metric"):
                arrays[name] = col[name].take(take)
        name = col["name"].take(take)
        named = pc.fill_null(pc.not_equal(name, ""), False)  # display_name: `name or id`
        arrays["name"] = pc.if_else(named, name, arrays["id"])
        arrays["num_checkpoints"] = pc.list_value_length(col["checkpoints"].take(take)).cast(pa.int64())
        default = self.default_index()[fast]
        arrays["default_checkpoint"] = self.ck.field("name").take(pa.array(default))
        for name in ("datasets", "tags"):
            values = arrays[name]
            arrays[name] = pc.if_else(pc.is_null(values), pa.scalar([], values.type), values)
        headline, value = self._headline(fast, metrics)
        arrays["headline_metric"], arrays["headline_value"] = headline, value
        for name in names:
            arrays[METRIC_PREFIX + name] = metrics.get(name, pa.nulls(len(fast), pa.float64()))
        columns = [*FIXED, *(METRIC_PREFIX + n for n in names)]
        table = pa.table({name: arrays[name].cast(FIXED.get(name, pa.float64())) for name in columns})
        if not accepted:
            return table
        rows = sorted(accepted)
        slow = pa.Table.from_batches([entries_to_batch([accepted[r] for r in rows], metrics=names)])
        both = pa.concat_tables([table, slow.select(columns).cast(table.schema)])
        where = np.argsort(np.concatenate([fast, np.array(rows, dtype=fast.dtype)]), kind="stable")
        return both.take(pa.array(where)).combine_chunks()

    def _headline(self, fast: np.ndarray, metrics: dict[str, pa.Array]) -> tuple[pa.Array, pa.Array]:
        """The metric a card shows first (headline_metric, else the first metric) and its value."""
        size = len(fast)
        chosen = self.column["headline_metric"].take(pa.array(fast)).to_pylist()
        named = np.array([name or None for name in chosen], dtype=object)  # `headline_metric or first`
        present = {name: _numpy(pc.is_valid(values)) for name, values in metrics.items()}
        count = sum((p.astype(np.int32) for p in present.values()), np.zeros(size, dtype=np.int32))
        for name, here in present.items():  # one metric: it is the first
            named = np.where((named == None) & (count == 1) & here, name, named)  # noqa: E711
        for i in np.flatnonzero((named == None) & (count > 1)).tolist():  # noqa: E711 - key order: from the line
            raw = json.loads(self.lines[int(fast[i])])
            own = raw.get("metrics") or {}
            if not own:
                checkpoints = raw["checkpoints"]
                wanted = raw.get("default_checkpoint") or checkpoints[-1]["name"]
                own = next(c for c in checkpoints if c["name"] == wanted).get("metrics") or {}
            named[i] = next(iter(own))
        value = np.full(size, np.nan)
        valid = np.zeros(size, dtype=bool)
        for name, values in metrics.items():
            rows = named == name
            if rows.any():
                numbers = values.to_numpy(zero_copy_only=False)
                value[rows] = numbers[rows]
                valid[rows] = present[name][rows]
        headline = pa.array([None if n is None else n for n in named.tolist()], pa.string())
        return headline, pa.array(value, mask=~valid)
