"""Low items of issue 17 (hostile zoos, round 3): an infinite metric in a Parquet grid, a burst of refreshes.

(A safetensors dtype numpy cannot hold is a case of `test_safetensors.py`; a metric at ±1e308
on the chart is a vitest case of `js/widget/test/scales.test.js` and `chart.test.js`.)
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.cli import main
from ckptzoo_widgets.columns import entries_to_batch
from ckptzoo_widgets.index.parquet_format import FORMAT, FORMAT_KEY
from ckptzoo_widgets.schema import ModelEntry
from ckptzoo_widgets.widget import ZooBrowser

ACC = {"honest-a": 0.91, "honest-b": 0.85, "liar": math.inf, "nan": math.nan, "minus": -math.inf}


def raw_models() -> list[dict]:
    return [{"id": i, "metrics": {"acc": v}, "checkpoints": [{"name": "final"}]} for i, v in ACC.items()]


def parquet_with(path: Path, values: dict[str, float]) -> Path:
    """Our writer's layout, then the metric and headline columns set to `values` (as a hand-made file could)."""
    models = [ModelEntry.model_validate({**r, "metrics": {"acc": 0.5}}) for r in raw_models()]
    table = pa.Table.from_batches([entries_to_batch(models, metrics=["acc"], stored=True)])
    column = pa.array([values[m.id] for m in models], pa.float64())
    for name in ("metric:acc", "headline_value"):
        table = table.set_column(table.schema.get_field_index(name), name, column)
    pq.write_table(table.replace_schema_metadata({FORMAT_KEY: FORMAT}), path)
    return path


@pytest.fixture
def both_forms(tmp_path) -> dict[str, Path]:
    json_path = tmp_path / "index.json"
    json_path.write_text(json.dumps({"ckptzoo_index": 1, "models": raw_models()}))  # Infinity, NaN as Python writes
    return {"json": json_path, "parquet": parquet_with(tmp_path / "index.parquet", ACC)}


def test_an_infinite_or_nan_metric_refuses_the_model_in_both_forms(both_forms, capsys):
    for form, path in both_forms.items():
        zoo = cz.open_zoo(str(path))
        assert sorted(zoo.table["id"].to_pylist()) == ["honest-a", "honest-b"], form
        assert list(zoo.search(sort="-acc")["id"]) == ["honest-a", "honest-b"], form
        assert list(zoo.search(sort="-headline_value")["id"]) == ["honest-a", "honest-b"], form
        assert len(zoo.errors) >= 3, (form, zoo.errors)  # each refused model reported, not dropped silently
    assert main(["search", "--zoo", str(both_forms["parquet"]), "--sort", "-acc", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in answer["models"]] == ["honest-a", "honest-b"]


def test_metric_values_at_float64s_end_stay_and_are_sent_as_numbers(tmp_path):
    """±1e308 are finite: kept in both forms, sorted, and sent to the page as numbers (the chart scales them)."""
    values = {"honest-a": 1e308, "honest-b": -1e308, "liar": 0.5, "nan": 0.25, "minus": 0.0}
    zoo = cz.open_zoo(str(parquet_with(tmp_path / "big.parquet", values)))
    assert list(zoo.search(sort="-acc")["id"]) == ["honest-a", "liar", "nan", "minus", "honest-b"]
    browser = ZooBrowser(zoo, sort="-acc")
    assert [card.get("headline_value") for card in browser.cards][:1] == [1e308]
    json.dumps(browser.cards, allow_nan=False)  # no NaN or Infinity reaches the page


def test_a_burst_of_refresh_requests_reopens_the_source_once(tmp_path, monkeypatch):
    index = tmp_path / "index.json"
    models = [{"id": "first", "checkpoints": [{"name": "final"}]}]
    index.write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    browser = ZooBrowser(str(index))
    sent: list[dict] = []
    monkeypatch.setattr(browser.comm, "publish_msg", lambda _type, data=None, **kw: sent.append(data))
    models.append({"id": "second", "checkpoints": [{"name": "final"}]})
    index.write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    versions = browser.page_version

    async def click_fifty_times() -> None:
        # in a kernel, the messages read from the socket one after the other
        for seq in range(1, 51):
            browser._handle_msg(
                {
                    "content": {"data": {"method": "custom", "content": {"request": "refresh", "seq": seq}}},
                    "buffers": [],
                }
            )
        assert browser.total == 1 and [d for d in sent if d and d.get("method") == "custom"] == []
        await asyncio.sleep(0.2)

    asyncio.run(click_fifty_times())
    assert browser._refreshes.requests == 50 and browser._refreshes.runs == 1
    assert browser.total == 2 and browser.page_version == versions + 1  # reopened once, the new model shown
    replies = [d["content"] for d in sent if d and d.get("method") == "custom"]
    assert replies == [{"done": n} for n in range(1, 51)]  # every click answered
