"""Hostile Parquet indexes: not an index, the wrong schema, lies about rows and sizes, bombs.

The rule (docs/index-format.md, "Parquet"): the footer is checked before any
data is read (marker, schema, row counts against the file's size, declared
value counts and sizes); strings are decoded only once their decoded size is
known to fit a budget; values break no index rule. Anything else is a
one-line ZooError, raised in bounded memory: every case runs in a child
process under a memory and a time limit (`run_bounded`).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ckptzoo_widgets.columns import entries_to_batch
from ckptzoo_widgets.index.parquet_format import FORMAT, FORMAT_KEY
from ckptzoo_widgets.schema import ModelEntry

from .bounded import run_bounded

OPEN = """
import ckptzoo_widgets as cz
zoo = cz.open_zoo(PATH)
print("models", len(zoo), "errors", len(zoo.errors))
if MODEL:
    zoo.model(MODEL)
"""


def open_bounded(path: Path, model: str = "", memory_mb: int = 1536):
    return run_bounded(OPEN, PATH=str(path), MODEL=model, memory_mb=memory_mb, seconds=60)


def index_table(rows: int, **columns: pa.Array) -> pa.Table:
    """A table with the index's schema and marker; `columns` replace whole columns."""
    models = [ModelEntry.model_validate({"id": "m0", "checkpoints": [{"name": "final"}]})]
    batch = entries_to_batch(models, metrics=[], stored=True)
    if "id" in columns and "entry" not in columns:  # each row's stored entry names its own id
        template = '{{"id":"{}","checkpoints":[{{"name":"final"}}]}}'
        columns["entry"] = pa.array([template.format(value) for value in columns["id"].to_pylist()])
    data = {}
    for field in batch.schema:
        data[field.name] = columns.pop(field.name) if field.name in columns else pa.repeat(batch[field.name][0], rows)
    data.update(columns)
    return pa.table(data).replace_schema_metadata({FORMAT_KEY: FORMAT})


def repeated(value: str, rows: int) -> pa.Array:
    """`rows` copies of one long string, as Parquet stores them: one dictionary value, run-length indices."""
    return pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array([value]))


def ids(rows: int) -> pa.Array:
    return pa.array([f"m{i}" for i in range(rows)])


def assert_one_line_error(result, *words: str) -> None:
    assert not result.ok and result.raised("ZooError"), (result.error_type, result.message, result.stderr[-500:])
    assert result.message and "\n" not in result.message and len(result.message) < 600
    for word in words:
        assert word in result.message, result.message


def test_a_legit_index_opens_under_the_same_limits(tmp_path):
    path = tmp_path / "ok.parquet"
    pq.write_table(index_table(1000, id=ids(1000)), path)
    result = open_bounded(path, model="m7")
    assert result.ok, result.message
    assert "models 1000 errors 0" in result.stdout


def test_bytes_that_are_not_parquet(tmp_path):
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"PAR1" + b"\xff" * 5000 + b"\x10\x00\x00\x00PAR1")
    assert_one_line_error(open_bounded(path), "not a readable Parquet file")


def test_a_truncated_index(tmp_path):
    path = tmp_path / "cut.parquet"
    pq.write_table(index_table(1000, id=ids(1000)), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_one_line_error(open_bounded(path), "Parquet")


def test_a_parquet_file_that_is_not_an_index(tmp_path):
    path = tmp_path / "sales.parquet"
    pq.write_table(pa.table({"region": ["north", "south"], "revenue": [1.0, 2.0]}), path)
    assert_one_line_error(open_bounded(path), "not a ckptzoo index")


@pytest.mark.parametrize(
    "column, values, words",
    [
        ("id", pa.array(range(10)), ["'id'", "expected string"]),
        ("num_params", pa.array(["many"] * 10), ["'num_params'"]),
        ("metric:acc", pa.array(["high"] * 10), ["metric column", "expected double"]),
    ],
)
def test_the_wrong_schema(tmp_path, column, values, words):
    path = tmp_path / "wrong.parquet"
    pq.write_table(index_table(10, **{"id": ids(10), column: values} if column != "id" else {column: values}), path)
    assert_one_line_error(open_bounded(path), *words)


def test_a_missing_column(tmp_path):
    path = tmp_path / "missing.parquet"
    pq.write_table(index_table(10, id=ids(10)).drop_columns(["entry"]), path)
    assert_one_line_error(open_bounded(path), "'entry' is missing")


def test_more_rows_declared_than_the_file_can_hold(tmp_path):
    # two million rows of one repeated value: run-length encoding makes that a few kB
    path = tmp_path / "rows.parquet"
    pq.write_table(index_table(2_000_000), path, compression="zstd")
    assert path.stat().st_size < 200_000
    assert_one_line_error(open_bounded(path), "rows in", "refused")


def test_a_34_kb_index_whose_entries_decode_to_gigabytes(tmp_path):
    # 4,000 rows sharing one 1 MB entry: a dictionary page of 1 MB (zstd: ~1 kB) and
    # run-length indices; decoded naively it is 4 GB. Opening the grid is fine;
    # opening a model must refuse the column before decoding it.
    path = tmp_path / "bomb.parquet"
    huge = '{"id":"m1","checkpoints":[{"name":"final"}],"notes":"' + "x" * 1_000_000 + '"}'
    table = index_table(4000, id=ids(4000), entry=repeated(huge, 4000))
    pq.write_table(table, path, compression="zstd", row_group_size=4000)
    assert path.stat().st_size < 100_000
    result = open_bounded(path, model="m1")
    assert_one_line_error(result, "decodes to", "refused")
    assert "models 4000" in result.stdout  # the grid opened; only the bomb was refused


def test_grid_strings_too_long_for_their_field_are_dropped_before_decoding(tmp_path):
    path = tmp_path / "names.parquet"
    table = index_table(4000, id=ids(4000), name=repeated("N" * 1_000_000, 4000))
    pq.write_table(table, path, compression="zstd", row_group_size=4000)
    assert path.stat().st_size < 100_000
    result = run_bounded(
        "import ckptzoo_widgets as cz\nzoo = cz.open_zoo(PATH)\nprint(zoo.models['name'].isna().all(), len(zoo))",
        PATH=str(path),
    )
    assert result.ok, result.message
    assert "True 4000" in result.stdout


def test_rows_that_break_the_index_rules_are_skipped_and_reported(tmp_path):
    path = tmp_path / "rows.parquet"
    bad = pa.array(["good-1", "../../etc/passwd", "good-2", "a--b", "good-1", "x" * 300])
    counts = pa.array([1, 1, 1, 1, 1, 1], pa.int64())
    params = pa.array([5, 5, 2**62, 5, 5, 5], pa.int64())
    pq.write_table(index_table(6, id=bad, num_checkpoints=counts, num_params=params), path)
    result = run_bounded(
        "import ckptzoo_widgets as cz\nzoo = cz.open_zoo(PATH)\nprint(sorted(zoo.models['id']), len(zoo.errors))",
        PATH=str(path),
    )
    assert result.ok, result.message
    assert "['good-1'] 5" in result.stdout


def test_a_stored_entry_that_is_not_valid_is_one_clear_error(tmp_path):
    path = tmp_path / "entry.parquet"
    pq.write_table(index_table(2, id=ids(2), entry=pa.array(['{"id": "m0", "checkpoints": []}', "[" * 100_000])), path)
    for model in ("m0", "m1"):
        assert_one_line_error(open_bounded(path, model=model), "stored entry")


OPEN_WITH_BUILTIN = """
import ckptzoo_widgets as cz
zoo = cz.open_zoo([PATH, "builtin"])
print("models", len(zoo))
print("\\n".join(zoo.errors))
"""


def assert_refused_beside_builtin(path: Path, *words: str) -> None:
    """The bomb is one reported problem, found before its memory is taken; the other source opens."""
    result = run_bounded(OPEN_WITH_BUILTIN, PATH=str(path), memory_mb=1024, seconds=60)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    lines = result.stdout.splitlines()
    assert lines[0] != "models 0", lines
    problems = [line for line in lines[1:] if str(path) in line]
    assert len(problems) == 1, lines
    for word in words:
        assert word in problems[0], problems[0]
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 600, result.peak_rss_mb


def test_a_legacy_layout_index_whose_rows_share_a_megabyte_is_refused_before_decoding(tmp_path):
    # The first layout (nested fields as JSON text, no marker): 4,000 rows share one 1 MB
    # `checkpoints` value, 10 kB on disk, 4 GB decoded (before: 6.5 GB peak, the problem after).
    path = tmp_path / "legacy.parquet"
    huge = '[{"name": "final", "notes": "' + "x" * 1_000_000 + '"}]'
    legacy = pa.table({"id": ids(4000), "checkpoints": repeated(huge, 4000), "tags": repeated('["x"]', 4000)})
    pq.write_table(legacy, path, compression="zstd", row_group_size=4000)
    assert path.stat().st_size < 40_000
    assert_refused_beside_builtin(path, "decode to more than 64.0 MiB", "refused")


def test_a_small_legacy_layout_index_still_opens(tmp_path):
    path = tmp_path / "legacy.parquet"
    rows = {"id": ["old-1", "old-2"], "checkpoints": ['[{"name": "final"}]'] * 2, "tags": ['["x"]', '["y"]']}
    pq.write_table(pa.table(rows), path)
    result = run_bounded(OPEN, PATH=str(path), MODEL="old-2", memory_mb=1024, seconds=60)
    assert result.ok, (result.error_type, result.message)
    assert "models 2 errors 0" in result.stdout


def test_constant_numeric_columns_declare_their_decoded_size_in_the_footer(tmp_path):
    # 1,000 metric columns of one double repeated over 262,144 rows: run-length encoded into
    # a few bytes each, 2 MiB each decoded. Numbers are checked like strings, from the footer.
    path = tmp_path / "metrics.parquet"
    rows = 262_144
    constant = pa.repeat(pa.scalar(0.5), rows)  # one array for every column: 2 MiB in this process
    metrics = {f"metric:m{i}": constant for i in range(1000)}
    pq.write_table(index_table(rows, id=ids(rows), **metrics), path, compression="zstd")
    assert path.stat().st_size < 6_000_000
    assert_refused_beside_builtin(path, "what opening reads", "over its budget")


@pytest.mark.parametrize("group_rows, groups", [(32_768, 8), (280_000, 1)])
def test_list_columns_declaring_256_items_per_row_are_refused_from_the_footer(tmp_path, group_rows, groups):
    # ~270,000 rows (padded to more bytes: the row cap holds), 256 tags and datasets per row,
    # all one value: 140 million list items, over 1 GB in Arrow, in a 1 MB file; in row groups
    # that together exceed the grid's budget, or one row group whose column exceeds its own.
    path = tmp_path / "lists.parquet"
    items = pa.ListArray.from_arrays(
        pa.array(range(0, 256 * group_rows + 1, 256), pa.int32()), repeated("t", 256 * group_rows)
    )
    table = index_table(group_rows, tags=items, datasets=items)
    padding = b"p" * 350_000  # key-value metadata, stored uncompressed (twice: raw and in the Arrow schema)
    table = table.replace_schema_metadata({**table.schema.metadata, b"padding": padding})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(groups):
            writer.write_table(table, row_group_size=group_rows)
    assert group_rows * groups < path.stat().st_size < 1_200_000
    words = ("what opening reads",) if group_rows < 100_000 else ("of row group 0 declares", "budget of 512 MiB")
    assert_refused_beside_builtin(path, *words)
