"""Paths whose cost an index controls (issue 17, item 5): metric columns and checkpoints.

An index chooses how many metric columns a model has and how many checkpoints;
every path over them must be linear and what reaches the page bounded. Each
case runs in a child under the usual memory and time limits (`run_bounded`):
the former quadratic paths took 20 s (8,000 metric columns) and 139 s
(55,000 checkpoints), past the child's limit. No timing is asserted: the
figures are printed by `benchmarks/hostile_scale.py`.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ckptzoo_widgets.columns import MAX_METRIC_COLUMNS, entries_to_batch
from ckptzoo_widgets.index.parquet_format import FORMAT, FORMAT_KEY
from ckptzoo_widgets.schema import ModelEntry
from ckptzoo_widgets.widget.payload import MAX_DETAIL_CHECKPOINTS, SPARK_POINTS

from .bounded import run_bounded

METRICS, MODELS = 8_000, 8


def metric_zoo(folder: Path) -> tuple[Path, Path]:
    """8 models with 8,000 metrics each, as a JSON index and as a Parquet index holding all 8,000 columns."""
    names = [f"m{j}" for j in range(METRICS)]
    raw = [
        {
            "id": f"org/model-{i}",
            "metrics": {name: (i * METRICS + j) / 1e5 for j, name in enumerate(names)},
            "checkpoints": [{"name": "final"}],
        }
        for i in range(MODELS)
    ]
    json_path = folder / "metrics.json"
    json_path.write_text(json.dumps({"ckptzoo_index": 1, "models": raw}))
    models = [ModelEntry.model_validate(r) for r in raw]
    # What a hand-written file can hold: every metric as a column (our writer keeps 64).
    batch = entries_to_batch(models, metrics=names, stored=True)
    parquet_path = folder / "metrics.parquet"
    pq.write_table(pa.Table.from_batches([batch]).replace_schema_metadata({FORMAT_KEY: FORMAT}), parquet_path)
    return json_path, parquet_path


def test_parquet_with_8000_metric_columns_keeps_the_columns_json_keeps(tmp_path):
    json_path, parquet_path = metric_zoo(tmp_path)
    assert len(pq.read_schema(parquet_path).names) > METRICS
    result = run_bounded(
        """
        import json
        import ckptzoo_widgets as cz
        shown = {}
        for form, path in (("json", JSON), ("parquet", PARQUET)):
            zoo = cz.open_zoo(path)
            page = zoo.search(sort="-m5", limit=3)
            shown[form] = {
                "columns": [c for c in zoo.table.schema.names if c.startswith("m") and c[1:].isdigit()],
                "top": list(page["id"]),
                "metrics": len(zoo.model("org/model-3").metrics),
            }
        print(json.dumps(shown))
        """,
        JSON=str(json_path),
        PARQUET=str(parquet_path),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-800:])
    shown = json.loads(result.stdout.splitlines()[0])
    assert len(shown["json"]["columns"]) == MAX_METRIC_COLUMNS
    assert shown["parquet"]["columns"] == shown["json"]["columns"]  # one cap, the same columns
    assert shown["parquet"]["top"] == shown["json"]["top"] == ["org/model-7", "org/model-6", "org/model-5"]
    assert shown["parquet"]["metrics"] == shown["json"]["metrics"] == METRICS  # the entry keeps them all
    cli = run_bounded(
        """
        from ckptzoo_widgets.cli import main
        assert main(["search", "--zoo", PARQUET, "--sort", "-m5", "--json"]) == 0
        """,
        PARQUET=str(parquet_path),
    )
    assert cli.ok, (cli.error_type, cli.message, cli.stderr[-800:])
    answer = json.loads(cli.stdout)
    assert [row["id"] for row in answer["models"]][:3] == ["org/model-7", "org/model-6", "org/model-5"]
    assert len([k for k in answer["models"][0] if k.startswith("m") and k[1:].isdigit()]) == MAX_METRIC_COLUMNS


def checkpoint_zoo(path: Path, count: int, *, duplicate_every: int = 0) -> Path:
    checkpoints = [
        {
            "name": f"s{i - i % duplicate_every if duplicate_every else i}",
            "step": i,
            "metrics": {"acc": round(i / count, 4)},
            "files": [{"path": f"w/{i}.safetensors", "size": 10}],
        }
        for i in range(count)
    ]
    model = {"id": "org/long-run", "library": "transformers", "headline_metric": "acc", "checkpoints": checkpoints}
    path.write_text(json.dumps({"ckptzoo_index": 1, "models": [model]}, separators=(",", ":")))
    return path


SELECT = """
import json
from itertools import pairwise
from ckptzoo_widgets.widget import ZooBrowser
browser = ZooBrowser(PATH)
assert not browser.error, browser.error
browser.selected = "org/long-run"        # the default checkpoint: the last
opened = json.loads(json.dumps(browser.detail))
browser.selected = OFF_PAGE              # one the first page left out
again = json.loads(json.dumps(browser.detail))
print(json.dumps({
    "bytes": len(json.dumps(opened)),
    "sent": len(opened["checkpoints"]),
    "count": opened["num_checkpoints"],
    "default": opened["default_checkpoint"],
    "names": [c["name"] for c in opened["checkpoints"]],
    "again": [c["name"] for c in again["checkpoints"]],
    "again_bytes": len(json.dumps(again)),
    "selected": browser.selected,
    "code": bool(browser.code),
    "spark": len(browser.cards[0]["spark"]),
}))
"""


def test_a_model_with_55000_checkpoints_opens_and_sends_a_bounded_page(tmp_path):
    path = checkpoint_zoo(tmp_path / "index.json", 55_000)
    result = run_bounded(SELECT, PATH=str(path), OFF_PAGE="org/long-run@s12345", seconds=120)
    assert result.ok, (result.error_type, result.message, result.stderr[-800:])
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["count"] == 55_000
    assert shown["sent"] <= MAX_DETAIL_CHECKPOINTS
    assert shown["bytes"] < 200_000 and shown["again_bytes"] < 200_000  # was 2.9 MB for 20,000
    names = shown["names"]
    assert names[0] == "s0" and names[-1] == "s54999" == shown["default"]  # the whole run, the default on it
    steps = [int(n[1:]) for n in names]
    assert steps == sorted(steps) and max(b - a for a, b in pairwise(steps)) <= 2 * 55_000 // len(steps)
    assert "s12345" not in names and "s12345" in shown["again"]  # the selected one is put on the page
    assert shown["selected"] == "org/long-run@s12345" and shown["code"]
    assert 2 <= shown["spark"] <= SPARK_POINTS


def test_a_model_with_20000_checkpoints_in_parquet_selects_with_a_bounded_page(tmp_path):
    source = checkpoint_zoo(tmp_path / "index.json", 20_000)
    entry = ModelEntry.model_validate(json.loads(source.read_text())["models"][0])
    small = entry.model_copy(
        update={"checkpoints": [c.model_copy(update={"files": [], "metrics": {}}) for c in entry.checkpoints]}
    )
    from ckptzoo_widgets.index.parquet_write import write_parquet

    path = tmp_path / "index.parquet"
    write_parquet([small], path, name="long")
    result = run_bounded(SELECT, PATH=str(path), OFF_PAGE="org/long-run@s777")
    assert result.ok, (result.error_type, result.message, result.stderr[-800:])
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["count"] == 20_000 and shown["sent"] <= MAX_DETAIL_CHECKPOINTS
    assert "s777" in shown["again"] and shown["selected"] == "org/long-run@s777"


def test_duplicate_names_among_55000_checkpoints_are_one_short_problem(tmp_path):
    path = checkpoint_zoo(tmp_path / "index.json", 55_000, duplicate_every=2)
    result = run_bounded(
        """
        import ckptzoo_widgets as cz
        zoo = cz.open_zoo(PATH)
        print(len(zoo), repr(zoo.errors))
        """,
        PATH=str(path),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-800:])
    count, _, errors = result.stdout.strip().partition(" ")
    assert count == "0"
    assert "duplicate checkpoint names: s0, s10, s100, " in errors and "and 27,490 more" in errors
    assert len(errors) < 2_000


def test_20000_checkpoints_each_with_its_own_metric_name_make_a_bounded_detail(tmp_path):
    """The table's metric columns: found in one pass (it was names x checkpoints) and at most 100 sent."""
    checkpoints = [{"name": f"s{i}", "step": i, "metrics": {f"m{i}": 1.0}} for i in range(20_000)]
    model = {"id": "org/many-names", "checkpoints": checkpoints}
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"ckptzoo_index": 1, "models": [model]}))
    result = run_bounded(
        """
        import json
        from ckptzoo_widgets.widget import ZooBrowser
        browser = ZooBrowser(PATH)
        browser.selected = "org/many-names"
        detail = browser.detail
        print(json.dumps({"bytes": len(json.dumps(detail)), "table": len(detail["table_metrics"]),
                          "chart": len(detail["chart_metrics"]), "sent": len(detail["checkpoints"])}))
        """,
        PATH=str(path),
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-800:])
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["table"] <= 100 and shown["chart"] <= 100 and shown["sent"] <= MAX_DETAIL_CHECKPOINTS
    assert shown["bytes"] < 200_000
