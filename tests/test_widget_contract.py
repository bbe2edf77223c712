"""widget/contract.py: the page-kernel contract and the decisions the kernel sends.

Each rule that had drifted between Python and the page has a test here: the
sort menu's direction (nll, bits_per_byte, answer_f1, power_score), the
checkpoint table's order (val_mse, eval_ppl), the chart's axis (the detail,
the card's sparkline and cz.compare agree), the best checkpoint (sent, not
recomputed), the filter names (one spelling). The same payloads are written to
``js/widget/test/contract.json`` for the vitest side: a test below fails when
that file is stale (``CKPTZOO_WRITE_FIXTURES=1`` rewrites it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets import columns
from ckptzoo_widgets.catalog import FILTERS as CATALOG_FILTERS
from ckptzoo_widgets.catalog import open_zoo
from ckptzoo_widgets.curves import comparison, payload
from ckptzoo_widgets.widget import ZooBrowser
from ckptzoo_widgets.widget import contract as widget_contract
from ckptzoo_widgets.widget.contract import LIMITS, REQUESTS, filter_menus, sort_menu, sort_menu_from_keys
from ckptzoo_widgets.widget.payload import spark_points
from ckptzoo_widgets.widget.protocol import RequestError, parse_request
from ckptzoo_widgets.widget.selection import resolve

FIXTURE = Path(__file__).resolve().parents[1] / "js" / "widget" / "test" / "contract.json"
DRIFTED_KEYS = ["name", "created", "num_params", "nll", "bits_per_byte", "answer_f1", "power_score", "val_mse"]


@pytest.fixture(scope="module")
def zoo() -> Any:
    return open_zoo(None)


def by_key(menu: list[dict]) -> dict[str, dict]:
    return {o["key"]: o for o in menu}


def test_sort_menu_best_first_for_every_metric() -> None:
    menu = by_key(sort_menu_from_keys(DRIFTED_KEYS))
    # lower-is-better in Python but "Best ..." descending in the old menu
    assert menu["nll"] == {"key": "nll", "label": "Lowest nll", "direction": "asc", "value": "nll", "group": "Metrics"}
    assert menu["bits_per_byte"]["direction"] == "asc" and menu["bits_per_byte"]["label"] == "Lowest bits per byte"
    # "wer" inside "answer" and "power": the old menu took them for losses
    assert menu["answer_f1"]["direction"] == "desc" and menu["answer_f1"]["value"] == "-answer_f1"
    assert menu["power_score"]["label"] == "Best power score"
    assert menu["val_mse"]["direction"] == "asc"
    assert [o["label"] for o in sort_menu_from_keys(DRIFTED_KEYS)[:4]] == [
        "Relevance",
        "Name",
        "Newest",
        "Most parameters",
    ]
    assert "headline_value" not in menu and "num_checkpoints" not in menu  # columns, not metrics


def test_the_browser_sends_the_menu_and_lists_a_sort_set_from_python(zoo: Any) -> None:
    browser = ZooBrowser(zoo, sort="num_checkpoints")
    values = [o["value"] for o in browser.sort_options]
    assert values[:2] == ["", "name"] and "val_loss" in values and "-val_accuracy" in values
    assert browser.sort_options[-1] == {
        "key": "num_checkpoints",
        "label": "Checkpoints (ascending)",
        "direction": "asc",
        "value": "num_checkpoints",
        "group": "",
    }
    browser.sort = "-val_accuracy"
    assert [o["value"] for o in browser.sort_options].count("-val_accuracy") == 1
    assert browser.contract == LIMITS and LIMITS["text"] == 256 and LIMITS["page_size"] == browser.limit


class LiveZoo:
    """A zoo that brings its own menus (as a live source does): the contract passes them on, checked."""

    def __init__(self, zoo: Any) -> None:
        self._zoo = zoo

    def __getattr__(self, name: str) -> Any:
        return getattr(self._zoo, name)

    def sort_options(self) -> list[Any]:
        return [
            {"key": "downloads", "label": "Most downloads", "direction": "desc"},
            {"key": "likes", "direction": "sideways"},
            {"key": "x" * 999, "direction": "asc"},
            "not an option",
        ]

    def filter_options(self) -> dict[str, list[str]]:
        return {"task": ["text-generation"], "library": ["transformers", "timm"]}


def test_a_zoo_may_supply_its_own_sort_and_filter_menus(zoo: Any) -> None:
    live = LiveZoo(zoo)
    menu = sort_menu(live)
    assert menu[0] == {
        "key": "downloads",
        "label": "Most downloads",
        "direction": "desc",
        "value": "-downloads",
        "group": "",
    }
    assert menu[1:] == [{"key": "likes", "label": "Likes", "direction": "asc", "value": "likes", "group": ""}]
    filters = filter_menus(live)
    assert [(f["key"], f["values"]) for f in filters] == [
        ("task", ["text-generation"]),
        ("library", ["transformers", "timm"]),
        ("license", []),
    ]
    assert filters[2]["all_label"] == "All licences"


def test_filter_names_have_one_spelling() -> None:
    assert columns.FILTERS == CATALOG_FILTERS == widget_contract.FILTERS
    assert [f.key for f in widget_contract.FILTER_SPECS] == list(columns.FILTERS)
    assert set(columns.FILTERS) <= set(REQUESTS["search"])


def test_the_limits_are_the_contract_s(zoo: Any) -> None:
    parse_request({"request": "search", "query": "x" * LIMITS["text"]})
    with pytest.raises(RequestError, match="at most 256"):
        parse_request({"request": "search", "query": "x" * (LIMITS["text"] + 1)})
    with pytest.raises(RequestError, match="at most 12"):
        parse_request({"request": "compare", "models": ["digits-mlp"] * (LIMITS["compare"] + 1), "metric": ""})
    assert cz.curves.MAX_MODELS == LIMITS["compare"]


def test_the_detail_carries_the_table_metrics_with_their_goal_and_the_axis(zoo: Any) -> None:
    detail = resolve(zoo, "digits-mlp", "", {}).detail
    assert detail is not None
    goals = {m["name"]: m["goal"] for m in detail["table_metrics"]}
    assert detail["table_metrics"][0]["name"] == zoo.model("digits-mlp").headline_metric
    assert goals["val_loss"] == "min" and goals["val_accuracy"] == "max"
    assert detail["axis"] == {"key": "step", "label": "Step"}
    assert [c["x"] for c in detail["checkpoints"]] == [c.step for c in zoo.model("digits-mlp").checkpoints]


def _runs_zoo(tmp_path: Path, steps: list[int | None], metric: str) -> Any:
    ckpts = [
        {"name": f"c{i}", **({"step": s} if s is not None else {}), "epoch": i + 1, "metrics": {metric: 1.0 / (i + 1)}}
        for i, s in enumerate(steps)
    ]
    index = {"ckptzoo_index": 1, "models": [{"id": "m", "headline_metric": metric, "checkpoints": ckpts}]}
    path = tmp_path / "index.json"
    path.write_text(json.dumps(index))
    return open_zoo(str(path))


@pytest.mark.parametrize("metric", ["val_mse", "eval_ppl"])
def test_val_mse_and_eval_ppl_are_lower_is_better_in_the_detail(tmp_path: Path, metric: str) -> None:
    zoo = _runs_zoo(tmp_path, [10, 20, 30], metric)
    detail = resolve(zoo, "m", "", {}).detail
    assert detail is not None and detail["table_metrics"] == [{"name": metric, "goal": "min", "logged": False}]


def test_one_axis_for_the_detail_the_sparkline_and_compare(tmp_path: Path) -> None:
    # one checkpoint without a step: every view uses epochs (the old card took steps where it had them)
    zoo = _runs_zoo(tmp_path, [10, None, 30], "val_loss")
    detail = resolve(zoo, "m", "", {}).detail
    assert detail is not None and detail["axis"]["key"] == "epoch"
    assert [c["x"] for c in detail["checkpoints"]] == [1, 2, 3]
    assert [x for x, _ in spark_points(zoo, "m", "val_loss")] == [1, 2, 3]
    assert comparison(zoo, ["m"]).axis == "epoch"


def test_compare_sends_each_series_best_and_last(zoo: Any) -> None:
    result = comparison(zoo, ["digits-mlp", "digits-logreg"], "val_loss")
    data = payload(result)
    table = result.table.set_index("model")
    for series in data["series"]:
        row = table.loc[series["id"]]
        assert series["best"] == {"checkpoint": row.best_checkpoint, "x": row.best_step, "value": row.best_value}
        assert series["last"]["checkpoint"] == row.last_checkpoint
    assert data["goal"] == "min"


def js_fixture(zoo: Any) -> dict[str, Any]:
    """What vitest reads: the contract's limits and requests, and real payloads with their decisions."""
    detail = resolve(zoo, "digits-mlp", "", {}).detail or {}
    kept = (
        "id",
        "name",
        "headline_metric",
        "default_checkpoint",
        "table_metrics",
        "chart_metrics",
        "axis",
        "epoch_column",
    )
    checkpoint_keys = ("name", "step", "epoch", "x", "metrics")
    return {
        "limits": LIMITS,
        "requests": {kind: sorted(fields) for kind, fields in REQUESTS.items()},
        "messages": {"done": widget_contract.DONE, "compare": widget_contract.COMPARE_DATA},
        "filters": filter_menus(zoo),
        "sort_options": sort_menu_from_keys(DRIFTED_KEYS),
        "detail": {  # the parts the decisions are about (the rest of the payload has its own tests)
            **{k: detail[k] for k in kept},
            "checkpoints": [{k: c[k] for k in checkpoint_keys} for c in detail["checkpoints"]],
        },
        "compare": payload(comparison(zoo, ["digits-mlp", "digits-logreg"], "val_loss")),
    }


def test_the_js_fixture_is_current(zoo: Any) -> None:
    text = json.dumps(js_fixture(zoo), indent=1, sort_keys=True) + "\n"
    if os.environ.get("CKPTZOO_WRITE_FIXTURES") == "1":
        FIXTURE.write_text(text)
    assert FIXTURE.read_text() == text, "stale: run CKPTZOO_WRITE_FIXTURES=1 pytest tests/test_widget_contract.py"
