"""The browser's Weights view, kernel side (widget/weights_view.py, widget/weights_grid.py).

Requests go through the real comm path (`_handle_msg`, the checks of widget/base.py), and
what the kernel sends is read off the comm. The grid is checked against
`cz.weight_changes` on the built-in zoo's real files; a stop is tested with the real
worker thread and a real event loop; bounds on a generated zoo of 200 tensors and 80
checkpoints. The same payloads are written to ``js/widget/test/weights.json`` for the
vitest side (``CKPTZOO_WRITE_FIXTURES=1`` rewrites it; a test fails when it is stale).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.catalog import open_zoo
from ckptzoo_widgets.widget import ZooBrowser
from ckptzoo_widgets.widget.weights_grid import LEVELS, MAX_WEIGHT_COLUMNS, MAX_WEIGHT_ROWS, colour_scale, natural_key

from .zoos import f32, safetensors_bytes, write_zoo

FIXTURE = Path(__file__).resolve().parents[2] / "js" / "widget" / "test" / "weights.json"
MLP = "digits-mlp"


@pytest.fixture(scope="module")
def zoo() -> Any:
    return open_zoo(None)


class Comm:
    """What the kernel sends on the browser's comm: custom messages, in order."""

    def __init__(self, browser: ZooBrowser, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[dict] = []
        monkeypatch.setattr(browser.comm, "publish_msg", lambda _type, data=None, **kw: self.sent.append(data))

    def custom(self) -> list[dict]:
        return [d["content"] for d in self.sent if d and d.get("method") == "custom"]

    def events(self, kind: str = "weights-data") -> list[dict]:
        return [m for m in self.custom() if m.get("event") == kind]


def ask(browser: ZooBrowser, content: Any, buffers: tuple = ()) -> None:
    """What `model.send(content)` in the page delivers to the kernel."""
    browser._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": list(buffers)})


def opened(zoo: Any, monkeypatch: pytest.MonkeyPatch, model: str = MLP) -> tuple[ZooBrowser, Comm]:
    browser = ZooBrowser(zoo)
    comm = Comm(browser, monkeypatch)
    ask(browser, {"request": "select", "ref": model, "seq": 1})
    assert browser.detail["id"] == model
    return browser, comm


def test_the_grid_fills_column_by_column_with_the_numbers_of_weight_changes(zoo, monkeypatch) -> None:
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 2})
    grids = [m["data"] for m in comm.events()]
    assert all(m["seq"] == 2 for m in comm.events()) and {"done": 2} in comm.custom()
    # rows known first, then one message per column: the page fills as they arrive
    assert [g["progress"]["done"] for g in grids] == list(range(9))
    assert [g["state"] for g in grids] == ["running"] * 8 + ["complete"]
    first, last = grids[0], grids[-1]
    assert all(v is None for row in first["values"] for v in row)
    assert [r["tensor"] for r in last["rows"]] == ["hidden.bias", "hidden.weight", "out.bias", "out.weight"]
    assert last["groups"] == [{"name": "hidden", "rows": [0, 1]}, {"name": "out", "rows": [2, 3]}]
    names = [c["checkpoint"] for c in last["columns"]]
    assert [c["reference"] for c in last["columns"]] == ["epoch-0", *names[:-1]] and last["start"] == "epoch-0"
    wide = cz.weight_changes(MLP, zoo).wide()
    for r, row in enumerate(last["rows"]):
        for c, name in enumerate(names):
            expected = float(wide.loc[row["tensor"], name])
            got = last["values"][r][c]
            assert (got is None and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-3)
    # the first layer moves more early than late, as the real training did
    hidden = last["values"][1]
    assert hidden[0] > 1.5 * hidden[-1]
    # every cell has a level on the kernel's scale, a missing value none
    for values, levels in zip(last["values"], last["levels"], strict=True):
        for v, lv in zip(values, levels, strict=True):
            assert (v is None) == (lv is None) and (lv is None or 0 <= lv < LEVELS)
    assert last["values"][0][0] is None and "zero at the reference" in last["missing_note"]


def test_from_the_start_every_column_is_measured_against_the_first_checkpoint(zoo, monkeypatch) -> None:
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "start", "seq": 2})
    grid = comm.events()[-1]["data"]
    assert grid["against"] == "start" and {c["reference"] for c in grid["columns"]} == {"epoch-0"}
    out = grid["values"][3]  # out.weight travels further from the start than the first layer
    assert out[-1] > grid["values"][1][-1] > 0.5


def test_a_cell_click_gets_the_two_checkpoints_side_by_side(zoo, monkeypatch) -> None:
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 2})
    ask(browser, {"request": "weights-pair", "checkpoint": "epoch-5", "seq": 3})
    (answer,) = comm.events("weights-pair")
    pair = answer["data"]
    assert answer["seq"] == 3 and pair["a"]["checkpoint"] == "epoch-3" and pair["b"]["checkpoint"] == "epoch-5"
    table = cz.compare_weights(f"{MLP}@epoch-3", f"{MLP}@epoch-5", zoo).set_index("tensor")
    a = cz.tensor_stats(f"{MLP}@epoch-3", zoo).set_index("tensor")
    for row in pair["rows"]:
        name = row["tensor"]
        assert row["relative"] == pytest.approx(table.loc[name, "relative"], rel=1e-3)
        assert row["cosine"] == pytest.approx(table.loc[name, "cosine"], rel=1e-3)
        assert row["a"]["norm"] == pytest.approx(a.loc[name, "norm"], rel=1e-3)
        assert row["b"]["norm"] == pytest.approx(table.loc[name, "norm_b"], rel=1e-3)
        assert set(row["a"]) == {"norm", "mean", "std"}


FORGED = [
    ("against unknown", {"request": "weights", "against": "sideways"}),
    ("against as number", {"request": "weights", "against": 1}),
    ("a model named by the page", {"request": "weights", "against": "start", "model": "digits-cnn"}),
    ("a pair not in the grid", {"request": "weights-pair", "checkpoint": "epoch-4"}),
    ("a path for a checkpoint", {"request": "weights-pair", "checkpoint": "../../etc/passwd"}),
    ("a pair as a list", {"request": "weights-pair", "checkpoint": ["epoch-5"]}),
    ("a long name", {"request": "weights-pair", "checkpoint": "e" * 10_000}),
    ("stop with a field", {"request": "weights-stop", "now": True}),
    ("unknown kind", {"request": "weights-all"}),
]


@pytest.mark.parametrize("case,content", FORGED, ids=[c for c, _ in FORGED])
def test_forged_requests_are_refused(zoo, monkeypatch, case, content) -> None:
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 2})
    before = len(comm.custom())
    rejected = browser.rejected_messages
    ask(browser, {**content, "seq": 9})
    assert browser.rejected_messages == rejected + 1
    assert browser.error.startswith("Ignored a request from the page") and browser.error_kind == "request"
    assert comm.custom()[before:] == [{"done": 9}]  # answered, nothing computed


def test_no_model_open_no_grid_and_no_binary_buffers(zoo, monkeypatch) -> None:
    browser = ZooBrowser(zoo)
    comm = Comm(browser, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 1})
    ask(browser, {"request": "weights-pair", "checkpoint": "epoch-1", "seq": 2})
    assert browser.rejected_messages == 2 and comm.events() == [] and comm.events("weights-pair") == []
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 2}, buffers=(b"x",))
    assert comm.events() == []
    # the compare view does not take the browser's requests
    view = cz.compare([MLP, "digits-cnn"], zoo=zoo)
    view._on_custom_msg(view, {"request": "weights", "against": "previous"}, [])
    assert view.rejected_messages == 1


def test_stop_ends_the_grid_before_the_next_column(zoo, monkeypatch) -> None:
    """The real worker thread and event loop: the stop is read while the first column is sent."""
    browser, comm = opened(zoo, monkeypatch)
    publish = browser.comm.publish_msg

    def publish_and_stop(_type: str, data: Any = None, **kw: Any) -> None:
        publish(_type, data, **kw)
        content = (data or {}).get("content") or {}
        if content.get("event") == "weights-data" and content["data"]["progress"]["done"] == 1:
            ask(browser, {"request": "weights-stop", "seq": 3})  # the page's Stop, read on the loop

    monkeypatch.setattr(browser.comm, "publish_msg", publish_and_stop)

    async def run() -> None:
        ask(browser, {"request": "weights", "against": "previous", "seq": 2})
        assert browser._weights.busy  # in a thread: the cell is free
        await asyncio.get_running_loop().run_in_executor(None, browser._weights.wait)
        await asyncio.sleep(0)  # the worker's last message, handed to the loop

    asyncio.run(run())
    grids = [m["data"] for m in comm.events()]
    assert [g["progress"]["done"] for g in grids] == [0, 1, 1]
    assert grids[-1]["state"] == "stopped" and {"done": 3} in comm.custom()
    assert grids[-1]["values"][1][0] is not None and all(v is None for v in grids[-1]["values"][1][1:])
    assert [c["done"] for c in grids[-1]["columns"]] == [True] + [False] * 7
    # asked again: the grid is computed whole (the first column from its record)
    monkeypatch.setattr(browser.comm, "publish_msg", publish)
    comm.sent.clear()
    ask(browser, {"request": "weights", "against": "previous", "seq": 4})
    assert comm.events()[-1]["data"]["state"] == "complete"


@pytest.fixture
def large_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """200 tensors in 3 checkpoints, and a model of 80 checkpoints of one tensor."""
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(3)
    wide = {
        f"s{k}": safetensors_bytes({f"layers.{i}.w": f32(rng.standard_normal(4)) for i in range(200)}) for k in range(3)
    }
    long = {f"s{k}": safetensors_bytes({"w": f32(rng.standard_normal(4))}) for k in range(80)}
    a = json.loads(write_zoo(tmp_path / "a", "wide", wide).read_text())
    b = json.loads(write_zoo(tmp_path / "b", "long", long).read_text())
    for m, folder in ((a["models"][0], "a"), (b["models"][0], "b")):
        for c in m["checkpoints"]:
            c["files"][0]["path"] = f"{folder}/{c['files'][0]['path']}"
    a["models"] += b["models"]
    (tmp_path / "index.json").write_text(json.dumps(a))
    return open_zoo(str(tmp_path / "index.json"))


def test_partial_results_are_bounded(large_zoo, monkeypatch) -> None:
    browser, comm = opened(large_zoo, monkeypatch, "wide")
    ask(browser, {"request": "weights", "against": "previous", "seq": 2})
    grids = [m["data"] for m in comm.events()]
    grid = grids[-1]
    assert len(grid["rows"]) == MAX_WEIGHT_ROWS and grid["rows_left_out"] == 200 - MAX_WEIGHT_ROWS
    # natural order: layers.2 before layers.10, one group per layer
    names = [r["tensor"] for r in grid["rows"]]
    assert names[:3] == ["layers.0.w", "layers.1.w", "layers.2.w"] and names[10] == "layers.10.w"
    assert len(grid["groups"]) == MAX_WEIGHT_ROWS
    browser, comm = opened(large_zoo, monkeypatch, "long")
    ask(browser, {"request": "weights", "against": "start", "seq": 2})
    grids = [m["data"] for m in comm.events()]
    grid = grids[-1]
    assert len(grid["columns"]) == MAX_WEIGHT_COLUMNS and grid["columns_left_out"] == 80 - MAX_WEIGHT_COLUMNS - 1
    assert grid["columns"][-1]["checkpoint"] == "s79"  # spread over the run, its end kept
    assert sum(c["label"] for c in grid["columns"]) <= 16
    sizes = [len(json.dumps(m)) for m in comm.events()]
    assert max(sizes) < 60_000 and len(grids) == MAX_WEIGHT_COLUMNS + 1


def test_the_colour_scale_is_decided_in_the_kernel() -> None:
    linear = colour_scale([0.1, 0.2, None, 0.4])
    assert linear["kind"] == "linear" and linear["edges"][0] == 0 and linear["edges"][-1] == 0.4
    spread = colour_scale([0.0001, 0.001, 0.01, 0.1])
    assert spread["kind"] == "log" and spread["edges"][0] == 0.0001
    robust = colour_scale([0.1] * 30 + [50.0])
    assert robust["edges"][-1] == 0.1 and robust["clipped"]  # one outlier does not wash the rest out
    assert colour_scale([None, 0.0])["levels"] == 1
    assert sorted(["b.10", "b.2", "a"], key=natural_key) == ["a", "b.2", "b.10"]


def js_fixture(zoo: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    browser, comm = opened(zoo, monkeypatch)
    ask(browser, {"request": "weights", "against": "previous", "seq": 2})
    ask(browser, {"request": "weights-pair", "checkpoint": "epoch-2", "seq": 3})
    grids = [m["data"] for m in comm.events()]
    for g in grids:
        g.pop("cost")  # 0 bytes once the records exist: not part of what the page draws
    return {"partial": grids[3], "complete": grids[-1], "pair": comm.events("weights-pair")[0]["data"]}


def test_the_js_fixture_is_current(zoo, monkeypatch) -> None:
    text = json.dumps(js_fixture(zoo, monkeypatch), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("CKPTZOO_WRITE_FIXTURES") == "1":
        FIXTURE.write_text(text)
    assert FIXTURE.read_text() == text, "stale: run CKPTZOO_WRITE_FIXTURES=1 pytest tests/weights/test_weights_view.py"
