"""Weight statistics of the built-in zoo: equal to numpy on the fully loaded tensors, recorded once,
and what the real training of the digits MLP shows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import ckptzoo_widgets as cz
from ckptzoo_widgets import weights
from ckptzoo_widgets.safetensors_check import read_header
from ckptzoo_widgets.weights.plan import SAMPLE_BLOCKS, plan_tensors, sample_blocks

ZOO = Path(cz.__file__).parent / "zoo"


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def loaded(model: str, checkpoint: str) -> dict[str, np.ndarray]:
    return {k: v.astype(np.float64) for k, v in load_file(ZOO / model / f"{checkpoint}.safetensors").items()}


@pytest.mark.parametrize("ref", ["digits-mlp@epoch-0", "digits-mlp@epoch-5", "digits-cnn@epoch-20", "digits-logreg"])
def test_statistics_equal_numpy_on_the_loaded_tensors(ref: str) -> None:
    frame = cz.tensor_stats(ref)
    model, _, checkpoint = frame.attrs["ref"].partition("@")
    tensors = loaded(model, checkpoint)
    assert sorted(frame["tensor"]) == sorted(tensors)
    for row in frame.itertuples():
        values = tensors[row.tensor]
        assert row.norm == pytest.approx(np.linalg.norm(values), rel=1e-12, abs=1e-12)
        assert row.mean == pytest.approx(values.mean(), rel=1e-9, abs=1e-12)
        assert row.std == pytest.approx(values.std(), rel=1e-9, abs=1e-12)
        assert row.numel == values.size and not row.sampled


def test_changes_equal_numpy() -> None:
    frame = cz.compare_weights("digits-mlp@epoch-1", "digits-mlp@epoch-30")
    a, b = loaded("digits-mlp", "epoch-1"), loaded("digits-mlp", "epoch-30")
    for row in frame.itertuples():
        wa, wb = a[row.tensor].ravel(), b[row.tensor].ravel()
        assert row.relative == pytest.approx(np.linalg.norm(wb - wa) / np.linalg.norm(wa), rel=1e-9)
        assert row.cosine == pytest.approx(wa @ wb / (np.linalg.norm(wa) * np.linalg.norm(wb)), rel=1e-9)
        assert row.distance == pytest.approx(np.linalg.norm(wb - wa), rel=1e-9)
        assert row.norm_a == pytest.approx(np.linalg.norm(wa)) and row.norm_b == pytest.approx(np.linalg.norm(wb))
        assert not row.identical and not row.sampled
    same = cz.compare_weights("digits-mlp@epoch-5", "digits-mlp@epoch-5")
    assert same["identical"].all() and (same["relative"] == 0).all()


def test_weight_changes_is_tidy_and_plots() -> None:
    frame = cz.weight_changes("digits-mlp", metric="relative")
    assert list(frame.columns) == ["tensor", "checkpoint", "step", "value", "sampled"]
    names = [c.name for c in cz.open_zoo().model("digits-mlp").checkpoints]
    assert list(frame["checkpoint"].cat.categories) == names
    assert set(frame["checkpoint"]) == set(names[1:])  # a change needs a checkpoint before it
    wide = frame.wide()
    assert wide.shape == (4, len(names)) and list(wide.columns) == names
    mlp = loaded("digits-mlp", "epoch-2"), loaded("digits-mlp", "epoch-3")
    expected = np.linalg.norm(mlp[1]["hidden.weight"] - mlp[0]["hidden.weight"]) / np.linalg.norm(
        mlp[0]["hidden.weight"]
    )
    assert wide.loc["hidden.weight", "epoch-3"] == pytest.approx(expected)
    # zero-initialised biases: the relative change from zero is undefined (NaN), not a number
    assert math.isnan(wide.loc["hidden.bias", "epoch-1"])

    import matplotlib

    matplotlib.use("Agg")
    axes = frame.plot()
    assert len(axes.get_lines()) == 4
    assert axes.figure is not None


def test_start_and_statistics_metrics() -> None:
    start = cz.weight_changes("digits-mlp", against="start").wide()
    first, last = loaded("digits-mlp", "epoch-0"), loaded("digits-mlp", "epoch-30")
    w0, w30 = first["out.weight"], last["out.weight"]
    assert start.loc["out.weight", "epoch-30"] == pytest.approx(np.linalg.norm(w30 - w0) / np.linalg.norm(w0))
    norms = cz.weight_changes("digits-mlp", metric="norm").wide()
    assert norms.loc["hidden.weight", "epoch-0"] == pytest.approx(np.linalg.norm(first["hidden.weight"]))
    with pytest.raises(cz.ZooError, match="metric"):
        cz.weight_changes("digits-mlp", metric="kurtosis")


def test_a_grid_is_computed_once(fresh_cache: Path) -> None:
    first = cz.weight_changes("digits-mlp")
    assert first.attrs["cost"]["bytes_read"] > 0
    again = cz.weight_changes("digits-mlp")
    assert again.attrs["cost"]["bytes_read"] == 0 and again.attrs["cost"]["requests"] == 0
    assert again.attrs["cost"]["files_from_records"] == 9
    assert again.equals(first)
    assert list((fresh_cache / "weights" / "sha256").glob("*.json"))
    assert list((fresh_cache / "weights" / "pairs").rglob("*.json"))


def test_the_first_layer_moves_more_early_than_late() -> None:
    """A property of the real training (scripts/train_builtin_zoo.py), measured on its checkpoints."""
    wide = cz.weight_changes("digits-mlp", tensors=["hidden.weight"]).wide()
    change = wide.loc["hidden.weight"]
    epochs = {c.name: c.epoch for c in cz.open_zoo().model("digits-mlp").checkpoints}
    names = list(change.index)
    per_epoch = {n: change[n] / (epochs[n] - epochs[p]) for p, n in zip(names, names[1:], strict=False)}
    early = [per_epoch[n] for n in ("epoch-1", "epoch-2", "epoch-3")]
    late = [per_epoch[n] for n in ("epoch-20", "epoch-30")]
    assert min(early) > 5 * max(late)
    # not only per epoch: one early step moves the layer more than the last ten epochs together
    assert min(change[n] for n in ("epoch-1", "epoch-2")) > max(change[n] for n in ("epoch-20", "epoch-30"))


def test_sampling_rule_is_deterministic_and_marked() -> None:
    frame = cz.tensor_stats("digits-mlp@epoch-5", budget=4096 + 1000)
    by_name = frame.set_index("tensor")
    assert by_name.loc["hidden.weight", "sampled"] and not by_name.loc["out.bias", "sampled"]
    again = cz.tensor_stats("digits-mlp@epoch-5", budget=4096 + 1000)
    assert frame.equals(again)
    header = read_header(ZOO / "digits-mlp" / "epoch-5.safetensors")
    plans = plan_tensors(list(header.tensors.values()), 4096 + 1000)
    blocks = plans["hidden.weight"].blocks
    assert len(blocks) == SAMPLE_BLOCKS and blocks[0][0] == 0 and sum(blocks[-1]) == 64 * 32
    values = loaded("digits-mlp", "epoch-5")["hidden.weight"].ravel()
    picked = np.concatenate([values[s : s + n] for s, n in blocks])
    assert by_name.loc["hidden.weight", "mean"] == pytest.approx(picked.mean())
    assert by_name.loc["hidden.weight", "norm"] == pytest.approx(np.linalg.norm(picked) * math.sqrt(2048 / picked.size))
    assert sample_blocks(10, 10) == ((0, 10),) and sample_blocks(100, 1) == ((49, 1),)


def test_tensor_selection_and_refusals(tmp_path: Path) -> None:
    frame = cz.tensor_stats("digits-mlp@epoch-5", tensors=r"weight$")
    assert sorted(frame["tensor"]) == ["hidden.weight", "out.weight"]
    with pytest.raises(weights.WeightsError, match="no tensor 'nope'"):
        cz.tensor_stats("digits-mlp@epoch-5", tensors=["nope"])
