"""Logged training curves on their way to the page: thinned with their spikes, bounded, numbers only."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from indexes import write_index

import ckptzoo_widgets as cz
from ckptzoo_widgets.curves import comparison, payload
from ckptzoo_widgets.downsample import MAX_DRAWN_POINTS, downsample, finite_points
from ckptzoo_widgets.schema import ModelEntry
from ckptzoo_widgets.widget import ZooBrowser
from ckptzoo_widgets.widget.payload import (
    MAX_CURVE_BUDGET,
    MAX_CURVES,
    SPARK_POINTS,
    curves_payload,
    detail_payload,
)


def noisy_loss(n: int, seed: int = 0) -> list[tuple[int, float]]:
    """A loss logged every 10 steps: decaying, noisy, with one spike up and one dip down."""
    rng = np.random.default_rng(seed)
    values = 3.0 * np.exp(-np.arange(n) / (n / 5)) + rng.normal(0, 0.02, n) + 0.1
    values[n // 3] = 50.0  # a divergence spike the chart must show
    values[2 * n // 3] = -7.0  # and a dip
    return [(i * 10, float(v)) for i, v in enumerate(values)]


def test_downsampling_keeps_first_last_and_extremes():
    curve = noisy_loss(100_000)
    thin = downsample(curve, 500)
    assert len(thin) <= 500
    assert thin[0] == curve[0] and thin[-1] == curve[-1]
    assert (curve[100_000 // 3][0], 50.0) in thin
    assert (curve[2 * 100_000 // 3][0], -7.0) in thin
    steps = [s for s, _ in thin]
    assert steps == sorted(set(steps))  # in step order, no duplicates
    # each kept point is a real logged point, not an average
    logged = dict(curve)
    assert all(logged[s] == v for s, v in thin)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 499, 500, 501, 1001, 12_345])
@pytest.mark.parametrize("limit", [2, 3, 10, 500])
def test_downsampling_never_exceeds_the_limit(n, limit):
    curve = [(i, math.sin(i / 7)) for i in range(n)]
    thin = downsample(curve, limit)
    assert len(thin) <= limit
    if n <= limit:
        assert thin == curve  # nothing to thin
    if n:
        assert thin[0] == curve[0] and thin[-1] == curve[-1]
        if n > limit >= 4:  # with at least one bucket, the global extremes survive
            assert max(v for _, v in thin) == max(v for _, v in curve)
            assert min(v for _, v in thin) == min(v for _, v in curve)


def test_hostile_values_are_dropped():
    points = [
        (0, 1.0),
        (1, float("nan")),
        (2, float("inf")),
        (3, -float("inf")),
        (-4, 1.0),  # negative step
        (5.5, 1.0),  # fractional step
        (True, 1.0),  # a bool is not a step
        (6, False),
        ("7", 1.0),
        (8, "1.0"),
        [9],
        None,
        (10, {"x": 1}),
        (float("nan"), 1.0),
        (11, 2.0),
        (11, 3.0),  # the later duplicate wins
        (np.int64(12), np.float32(4.0)),
    ]
    assert finite_points(points) == [(0, 1.0), (11, 3.0), (12, 4.0)]
    assert finite_points(None) == []


def entry(curves: dict) -> ModelEntry:
    return ModelEntry.model_validate(
        {"id": "run", "checkpoints": [{"name": "step-10", "step": 10, "metrics": {"train/loss": 1.0}}]}
    ).model_copy(update={"curves": curves})


def test_detail_payload_carries_thinned_curves_as_plain_numbers():
    detail = detail_payload(entry({"train/loss": noisy_loss(100_000), "val/acc": [(0, 0.1), (10, 0.5)]}))
    curves = {c["metric"]: c for c in detail["curves"]}
    assert set(curves) == {"train/loss", "val/acc"}
    assert curves["train/loss"]["logged"] == 100_000
    assert 2 < len(curves["train/loss"]["points"]) <= MAX_DRAWN_POINTS
    assert curves["val/acc"]["points"] == [[0, 0.1], [10, 0.5]]
    assert detail["curves_left_out"] == 0
    text = json.dumps(detail, allow_nan=False)  # strict JSON: no NaN or Infinity anywhere
    for point in curves["train/loss"]["points"]:
        assert type(point[0]) is int and type(point[1]) is float
    size = len(text.encode())
    print(f"detail payload with a 100,000-point curve: {size:,} bytes")
    assert size < 20_000


def test_many_long_curves_stay_within_the_budget():
    curves = {f"layer{i}/grad_norm": noisy_loss(20_000, seed=i) for i in range(MAX_CURVES + 20)}
    drawn, left_out = curves_payload(curves)
    assert len(drawn) == MAX_CURVES and left_out == 20
    assert sum(len(c["points"]) for c in drawn) <= MAX_CURVE_BUDGET
    # the spike of every curve is still there
    assert all(max(v for _, v in c["points"]) == 50.0 for c in drawn)
    size = len(json.dumps(drawn).encode())
    print(f"{MAX_CURVES} curves of 20,000 points: {size:,} bytes")
    assert size < 200_000


def test_hostile_curve_names_and_shapes_are_left_out_or_passed_as_text():
    name = "<img src=x onerror=alert(1)>"
    drawn, _ = curves_payload(
        {name: [(0, 1.0), (1, 2.0)], "x" * 201: [(0, 1.0)], 7: [(0, 1.0)], "empty": [], "junk": "not a list"}
    )
    assert [c["metric"] for c in drawn] == [name]  # kept verbatim: the page sets it as text
    assert curves_payload("not a dict") == ([], 0)


def test_browser_sends_the_curve_of_a_runs_index(tmp_path):
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "run",
                "headline_metric": "train/loss",
                "curves": {"train/loss": [list(p) for p in noisy_loss(50_000)]},
                "checkpoints": [{"name": f"step-{s}", "step": s} for s in (0, 100_000, 499_990)],
            }
        ],
    }
    path = write_index(tmp_path, index)
    browser = ZooBrowser(cz.open_zoo(str(path)), selected="run")
    (curve,) = browser.detail["curves"]
    assert curve["metric"] == "train/loss" and curve["logged"] == 50_000
    assert len(curve["points"]) <= MAX_DRAWN_POINTS
    assert [50_000 * 10 // 3 // 10 * 10, 50.0] in curve["points"]


def test_a_card_sparkline_follows_the_logged_curve(tmp_path):
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "run",
                "headline_metric": "train/loss",
                "curves": {"train/loss": [list(p) for p in noisy_loss(50_000)]},
                "checkpoints": [{"name": "last", "step": 499_990, "metrics": {"train/loss": 0.1}}],
            },
            {"id": "plain", "headline_metric": "acc", "checkpoints": [{"name": "only", "metrics": {"acc": 0.5}}]},
        ],
    }
    browser = ZooBrowser(cz.open_zoo(str(write_index(tmp_path, index))))
    cards = {c["id"]: c for c in browser.cards}
    spark = cards["run"]["spark"]
    assert 2 < len(spark) <= SPARK_POINTS and [s for s, _ in spark] == sorted(s for s, _ in spark)
    assert spark[0][0] == 0 and spark[-1][0] == 499_990 and max(v for _, v in spark) == 50.0
    assert cards["plain"]["spark"] == []  # one checkpoint, no curve: no sparkline, as before


def test_compare_draws_logged_curves_where_a_model_has_one(tmp_path):
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "a",
                "curves": {"train/loss": [list(p) for p in noisy_loss(10_000)]},
                "checkpoints": [
                    {"name": "s0", "step": 0, "metrics": {"val/acc": 0.1}},
                    {"name": "s50000", "step": 50_000, "metrics": {"val/acc": 0.5}},
                ],
            },
            {
                "id": "b",
                "curves": {"train/loss": [[0, 3.0], [50_000, 1.0]]},
                "checkpoints": [{"name": "s50000", "step": 50_000, "metrics": {"val/acc": 0.6, "train/loss": 1.0}}],
            },
        ],
    }
    zoo = cz.open_zoo(str(write_index(tmp_path, index)))
    result = comparison(zoo, ["a", "b"], "train/loss")
    assert "train/loss" in result.metrics and "val/acc" in result.metrics
    data = payload(result)
    lines = {s["id"]: s.get("line") for s in data["series"]}
    assert len(lines["a"]) <= MAX_DRAWN_POINTS and [round(10_000 * 10 / 3 / 10) * 10, 50.0] in lines["a"]
    assert lines["b"] == [[0, 3.0], [50_000, 1.0]]
    assert list(result.table["model"]) == ["b"]  # the best checkpoint needs checkpoint values
    json.dumps(data, allow_nan=False)
    # a metric only at checkpoints: no lines
    assert all("line" not in s for s in payload(comparison(zoo, ["a", "b"], "val/acc"))["series"])
