"""cz.compare: curves of one metric for several models, the best checkpoint of each, and the errors."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import SHARED_DATA, shared_data_absent

import ckptzoo_widgets as cz
from ckptzoo_widgets.curves import comparison, metric_goal, payload
from ckptzoo_widgets.widget.compare_view import CompareView

PYTHIA = SHARED_DATA / "pythia-evals"


@pytest.fixture(scope="module")
def zoo():
    return cz.open_zoo()


def test_default_metric_is_the_shared_headline_and_the_table_has_the_best_checkpoints(zoo):
    view = cz.compare(["digits-mlp", "digits-cnn", "digits-logreg"])
    assert isinstance(view, CompareView) and view.metric == "val_accuracy"
    table = view.table
    assert list(table["model"]) == ["digits-mlp", "digits-cnn", "digits-logreg"]
    for row in table.itertuples():
        values = zoo.checkpoints(row.model)[["checkpoint", "step", "val_accuracy"]].dropna()
        best = values[values["val_accuracy"] == values["val_accuracy"].max()].sort_values("step").iloc[0]
        assert (row.best_checkpoint, row.best_step, row.best_value) == (best.checkpoint, best.step, best.val_accuracy)
        assert row.last_checkpoint == values.sort_values("step").iloc[-1].checkpoint
        assert row.rule == "higher is better"
    # digits-logreg peaks before its last epoch: validation stops improving there
    logreg = table.set_index("model").loc["digits-logreg"]
    assert logreg.checkpoints_after_best >= 1 and logreg.best_checkpoint != logreg.last_checkpoint
    curves = view.curves
    assert set(curves["model"]) == set(table["model"])
    assert len(curves[curves["model"] == "digits-mlp"]) == len(zoo.checkpoints("digits-mlp"))
    assert view.comparison.axis == "step" and curves["step"].is_monotonic_increasing is not None


def test_loss_like_metrics_take_the_minimum(zoo):
    view = cz.compare(["digits-mlp", "digits-cnn"], metric="val_loss")
    assert set(view.table["rule"]) == {"lower is better"}
    mlp = zoo.checkpoints("digits-mlp")
    assert view.table.iloc[0].best_value == mlp["val_loss"].min()
    assert view.comparison.rule == "best = lowest val_loss (lower is better)"
    assert [metric_goal(m) for m in ("val_loss", "eval_error", "lambada_openai.ppl", "wer", "bits_per_byte")] == [
        "min"
    ] * 5
    assert [metric_goal(m) for m in ("val_accuracy", "f1", "lambada_openai.acc", "bleu", "cerebras_score")] == [
        "max"
    ] * 5
    # `goal` overrides the rule
    assert comparison(zoo, ["digits-mlp"], "val_loss", goal="max").table.iloc[0].best_value == mlp["val_loss"].max()


def test_the_metric_menu_recomputes_and_refuses_what_is_not_shared():
    view = cz.compare(["digits-mlp", "digits-cnn"])
    assert view.data["metrics"][0] == "val_accuracy" and "val_loss" in view.data["metrics"]
    view.metric = "train_loss"  # what the page's menu does
    assert view.data["metric"] == "train_loss" and view.data["goal"] == "min" and view.error == ""
    view.metric = "no_such_metric"
    assert view.metric == "train_loss" and "not shared" in view.error
    # the page asks (the browser's protocol, widget.base.KernelOwned): a checked request, then "done"
    sent: list = []
    view.send = sent.append  # the comm is not connected outside a kernel; keep what would go out
    view._on_custom_msg(view, {"request": "metric", "metric": "val_loss", "seq": 3}, [])
    assert view.metric == "val_loss" and sent == [{"done": 3}]
    assert view.data == payload(comparison(cz.open_zoo(), ["digits-mlp", "digits-cnn"], "val_loss"))


def test_the_compare_page_cannot_write_kernel_state():
    view = cz.compare(["digits-mlp", "digits-cnn"])
    before = (view.metric, list(view.models), dict(view.data), view._view)
    # forged writes of synced state: all dropped, the metric included (it is asked for, never written)
    view.set_state({"metric": "val_loss", "models": ["evil"], "data": {"series": []}, "_view": "browser"})
    view.set_state({"metric": ["val_accuracy"]})
    view.set_state(["not", "a", "dict"])
    assert (view.metric, view.models, view.data, view._view) == before and view.rejected_updates == 3
    # forged requests: the browser's kinds, wrong types, long text, buffers, an unknown metric
    for content, buffers in [
        ({"request": "search", "query": "x"}, []),
        ({"request": "compare", "models": ["digits-mlp"], "metric": ""}, []),
        ({"request": "metric", "metric": 3}, []),
        ({"request": "metric", "metric": "m" * 257}, []),
        ({"request": "metric", "metric": "val_loss", "models": ["evil"]}, []),
        ({"request": "metric", "metric": "val_loss"}, [b"\x00"]),
    ]:
        view._on_custom_msg(view, content, buffers)
        assert view.error_kind == "request" and view.error.startswith("Ignored a request from the page")
    assert view.rejected_messages == 6 and (view.metric, view.data) == before[:1] + (before[2],)
    view._on_custom_msg(view, {"request": "metric", "metric": "no_such_metric"}, [])
    assert view.error_kind == "compare" and "not shared" in view.error and view.metric == before[0]
    view._on_custom_msg(view, {"request": "metric", "metric": "val_loss"}, [])
    assert view.error == "" and view.error_kind == "" and view.metric == "val_loss"


@pytest.mark.parametrize(
    ("models", "metric", "message"),
    [
        (["digits-mlp", "digit-cnn"], None, r"unknown model 'digit-cnn' .*did you mean digits-cnn"),
        (["digits-mlp"], "val_acc", r"metric 'val_acc' is not shared by these models; did you mean val_accuracy"),
        ([], None, r"at least one model"),
        (["digits-mlp"], "x" * 10**6, r"at most 256 characters"),
        ([f"m{i}" for i in range(13)], None, r"at most 12"),
    ],
)
def test_errors_are_one_clear_line(models, metric, message):
    with pytest.raises(cz.ZooError) as info:
        cz.compare(models, metric)
    assert re.search(message, str(info.value)) and "\n" not in str(info.value)


def test_models_that_share_no_metric(tmp_path):
    import json

    index = {
        "ckptzoo_index": 1,
        "models": [
            {"id": "a", "checkpoints": [{"name": "s1", "step": 1, "metrics": {"acc": 0.5}}]},
            {"id": "b", "checkpoints": [{"name": "s1", "step": 1, "metrics": {"loss": 0.5}}]},
        ],
    }
    path = tmp_path / "index.json"
    path.write_text(json.dumps(index))
    with pytest.raises(cz.ZooError, match=r"share no metric to compare \(a: acc; b: loss\)"):
        cz.compare(["a", "b"], zoo=str(path))


def test_payload_is_plain_json_in_x_order(zoo):
    data = payload(comparison(zoo, ["digits-mlp", "digits-cnn"], "val_accuracy"))
    assert data["axis"] == "step" and data["goal"] == "max" and data["rule"].startswith("best = highest")
    for series in data["series"]:
        xs = [p[0] for p in series["points"]]
        assert xs == sorted(xs)
        assert all(isinstance(v, float) and isinstance(n, str) for _, v, n in series["points"])


@pytest.mark.skipif(shared_data_absent(PYTHIA), reason="../shared/data is absent")
def test_pythia_curves_find_where_lambada_stops_improving():
    pythia = cz.open_zoo(str(PYTHIA))
    view = cz.compare(["pythia-v1.1-70m", "EleutherAI/pythia-v1.1-160m"], metric="lambada_openai/acc", zoo=pythia)
    assert view.metric == "lambada_openai.acc"  # "task/metric" is accepted for lm-eval's "task.metric"
    table = view.table.set_index("model")
    for model in table.index:
        frame = pythia.checkpoints(model)
        assert table.loc[model, "best_value"] == frame["lambada_openai.acc"].max()
        assert table.loc[model, "last_checkpoint"] == "step143000"
    assert (table["checkpoints_after_best"] > 0).all()  # both peak before the end of training
    steps = view.curves.query("model == 'EleutherAI/pythia-v1.1-70m'")["step"].tolist()
    assert steps[:4] == [0, 1, 2, 4] and steps[-1] == 143000 and len(steps) == 27
    with pytest.raises(cz.ZooError, match="did you mean EleutherAI/pythia-v1.1-70m"):
        cz.compare(["pythia-70m"], zoo=pythia)
    assert isinstance(view.table, pd.DataFrame)


def test_the_browsers_compare_button_gets_the_same_payload(zoo):
    from ckptzoo_widgets.widget.compare_view import compare_message

    browser = cz.browse(zoo)
    sent = []
    browser.send = sent.append  # the comm is not connected outside a kernel; keep what would go out
    # the message the Compare button sends (js/widget/compare.js), through the browser's request checks
    request = {"request": "compare", "models": ["digits-mlp", "digits-cnn"], "metric": "", "seq": 7}
    browser._on_custom_msg(browser, request, [])
    expected = payload(comparison(zoo, ["digits-mlp", "digits-cnn"]))
    assert sent == [{"event": "compare-data", "data": expected, "seq": 7}, {"done": 7}]
    # what the protocol refuses never reaches the comparison
    for bad in ({"models": "digits-mlp"}, {"models": [1]}, {"models": ["a@b"]}, {"models": ["m"] * 13}):
        sent.clear()
        browser._on_custom_msg(browser, {"request": "compare", **bad}, [])
        assert not any("event" in m for m in sent) and browser.error.startswith("Ignored a request")
    # what the page sends is checked by the kernel, and errors come back as one line
    for content, error in [
        ({"models": "digits-mlp"}, "models must be a list"),
        ({"models": [1, 2]}, "models must be a list"),
        ({"models": ["digits-mlp", "nope"]}, "unknown model 'nope'"),
        ({"models": ["digits-mlp"], "metric": "val_acc"}, "did you mean val_accuracy"),
    ]:
        answer = compare_message(zoo, {"event": "compare", **content})
        assert set(answer) == {"event", "error"} and error in answer["error"]
    assert "no zoo is open" in compare_message(None, {"models": ["a"]})["error"]
