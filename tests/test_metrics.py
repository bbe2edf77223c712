"""metrics.py: the one rule for lower-is-better, the headline metric, the chart axis and the best point.

The lower-is-better rule is checked on the real metric names of the shared data
(lm-eval results of Pythia, timm's results and benchmark tables) and on the
names whose earlier copies disagreed (Python, the sort menu and the checkpoint
table each had a pattern of their own).
"""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import pytest
from conftest import SHARED_DATA, shared_data_absent

from ckptzoo_widgets import metrics
from ckptzoo_widgets.metrics import best_point, checkpoint_axis, common_axis, goal, headline_metric, lower_is_better

PYTHIA = SHARED_DATA / "pythia-evals" / "pythia-70m" / "70m_step143000.json"
TIMM = SHARED_DATA / "timm"

LOWER = [
    "nll",
    "bits_per_byte",  # the sort menu offered "Best bits per byte", descending
    "val_mse",  # the checkpoint table sorted it worst-first
    "eval_ppl",  # idem
    "perplexity",
    "wer",
    "cer",
    "loss",
    "eval_loss",
    "train/loss",
    "Train/Loss",
    "valLoss",
    "logloss",
    "top1_err",
    "word_error_rate",
    "lambada_openai.ppl",
    "arc_easy.acc_stderr",
    "eval_runtime",
    "test/wer",
]
HIGHER = [
    "answer_f1",  # "wer" inside "answer": the sort menu took it for a loss
    "power_score",  # "wer" inside "power"
    "acc",
    "top1",
    "top5",
    "top1@224",
    "val_accuracy",
    "eval_f1",
    "bleu",
    "cerebras_score",
    "lambada_openai.acc",
    "eval_samples_per_second",
    "pct_stereotype",
]


@pytest.mark.parametrize("name", LOWER)
def test_lower_is_better(name: str) -> None:
    assert lower_is_better(name) and goal(name) == "min"


@pytest.mark.parametrize("name", HIGHER)
def test_higher_is_better(name: str) -> None:
    assert not lower_is_better(name) and goal(name) == "max"


def test_the_rule_reads_whole_words_never_letters_inside_a_word() -> None:
    assert metrics.words("eval/valLoss@224") == ["eval", "val", "loss", "224"]
    for hidden in ("answer", "power", "tower_score", "lower_bound_acc", "mmlu_answer_em"):
        assert goal(hidden) == "max", hidden


@pytest.mark.skipif(shared_data_absent(PYTHIA), reason="no shared Pythia evals")
def test_every_pythia_eval_metric() -> None:
    results = json.loads(PYTHIA.read_text())["results"]
    names = [f"{task}.{metric}" for task, values in results.items() for metric in values]
    assert len(names) > 200
    for name in names:
        metric = name.rsplit(".", 1)[1]
        expected = "min" if metric.endswith("stderr") or metric == "ppl" else "max"
        assert goal(name) == expected, name
    assert goal("lambada_openai.ppl") == "min" and goal("lambada_openai.acc") == "max"


@pytest.mark.skipif(shared_data_absent(TIMM), reason="no shared timm tables")
def test_every_timm_column() -> None:
    columns: list[str] = []
    for path in sorted(TIMM.glob("*.csv")):
        with path.open(newline="") as f:
            columns += next(csv.reader(f))
    expected = {
        "top1": "max",
        "top5": "max",
        "top1_err": "min",
        "top5_err": "min",
        "infer_samples_per_sec": "max",
        "infer_step_time": "min",
    }
    assert set(expected) <= set(columns)
    for name, want in expected.items():
        assert goal(name) == want, name


def test_headline_one_rule_for_every_source() -> None:
    from ckptzoo_widgets.sources.mlflow import runs as mlflow_runs
    from ckptzoo_widgets.sources.runs import assemble

    assert mlflow_runs.headline is headline_metric and assemble.headline is headline_metric
    assert (
        headline_metric({"learning_rate": 1e-4, "epoch": 3, "eval_loss": 0.2, "eval_accuracy": 0.9}) == "eval_accuracy"
    )
    assert headline_metric(["train_loss", "val/acc", "grad_norm"]) == "val/acc"
    assert headline_metric(["arc_easy.acc_stderr", "arc_challenge.acc", "arc_challenge.acc_stderr"]) == (
        "arc_challenge.acc"
    )
    assert headline_metric(["train/loss", "eval/loss"]) == "eval/loss"
    assert headline_metric(["learning_rate", "throughput"]) == "throughput"
    assert headline_metric(["learning_rate", "epoch"]) is None and headline_metric([]) is None


def _ckpt(step: int | None = None, epoch: float | None = None) -> SimpleNamespace:
    return SimpleNamespace(step=step, epoch=epoch)


def test_chart_axis_every_checkpoint_has_a_step_or_the_model_logged_curves() -> None:
    assert checkpoint_axis([_ckpt(10, 1), _ckpt(20, 2)]) == "step"
    assert checkpoint_axis([_ckpt(10, 1), _ckpt(None, 2)]) == "epoch"
    assert checkpoint_axis([_ckpt(10), _ckpt(None)]) == "checkpoint"
    assert checkpoint_axis([_ckpt(10), _ckpt(None)], logged=True) == "step"
    assert checkpoint_axis([]) == "checkpoint"
    assert common_axis(["step", "epoch"]) == "epoch" and common_axis(["step", "step"]) == "step"
    assert common_axis(["step", "checkpoint"]) == "checkpoint"


def test_best_point_ties_go_to_the_earliest_and_bad_points_are_skipped() -> None:
    points = [(30, 0.5, "c"), (10, 0.9, "a"), (20, 0.9, "b"), (5, float("nan"), "x"), (None, 1.0, "y")]
    assert best_point(points, "max") == (10, 0.9, "a")
    assert best_point(points, "min") == (30, 0.5, "c")
    assert best_point([], "max") is None
