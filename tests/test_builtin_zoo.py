"""The built-in teaching zoo: measured metrics, reproducible training, cz.load."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.numpy_nets import cross_entropy

ROOT = Path(__file__).resolve().parents[1]
ZOO_DIR = Path(cz.__file__).parent / "zoo"


def test_three_architectures_with_training_stages():
    zoo = cz.open_zoo()
    assert zoo.errors == []
    assert set(zoo.models["architecture"]) == {"logreg", "mlp", "cnn"}
    for model in zoo:
        steps = [c.step for c in model.checkpoints]
        assert len(steps) >= 8 and steps[0] == 0 and steps == sorted(steps)
        assert model.checkpoints[0].name == "epoch-0"  # the untrained start
        assert model.description.startswith("# ") and "val_accuracy" in model.description
        for checkpoint in model.checkpoints:
            assert {"val_accuracy", "val_loss"} <= set(checkpoint.metrics)
            assert checkpoint.files[0].sha256 and checkpoint.files[0].format == "safetensors"


def test_zoo_is_a_few_hundred_kilobytes():
    total = sum(p.stat().st_size for p in ZOO_DIR.rglob("*") if p.is_file())
    assert 50_000 < total < 500_000


def test_validation_split_is_rows_of_sklearn_digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    digits = sklearn_datasets.load_digits()
    X, y = cz.digits_validation()
    from safetensors.numpy import load_file

    index = load_file(str(ZOO_DIR / "digits-validation.safetensors"))["index"]
    assert X.shape == (360, 64) and y.shape == (360,)
    assert np.array_equal(X, digits.data[index]) and np.array_equal(y, digits.target[index])


@pytest.mark.parametrize("model_id", ["digits-logreg", "digits-mlp", "digits-cnn"])
def test_loaded_checkpoints_reproduce_the_recorded_metrics(model_id):
    zoo = cz.open_zoo()
    X, y = cz.digits_validation()
    for checkpoint in zoo.model(model_id).checkpoints:
        model = cz.load(f"{model_id}@{checkpoint.name}")
        assert model.score(X, y) == checkpoint.metrics["val_accuracy"]
        assert cross_entropy(model.predict_proba(X), y) == pytest.approx(checkpoint.metrics["val_loss"], abs=1e-6)


def test_first_and_last_checkpoint_differ_visibly():
    X, y = cz.digits_validation()
    untrained = cz.load("digits-mlp@epoch-0").score(X, y)
    trained = cz.load("digits-mlp").score(X, y)
    assert untrained < 0.3 and trained > 0.9


def test_predict_takes_digits_as_sklearn_gives_them():
    X, _ = cz.digits_validation()
    model = cz.load("digits-cnn@epoch-5")
    labels = model.predict(X[:5])
    assert labels.shape == (5,) and labels.dtype.kind == "i" and set(labels) <= set(range(10))
    assert model.predict(X[0]).shape == (1,)
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        model.predict(np.zeros((3, 8, 8)))


def test_load_refuses_models_of_other_libraries(tmp_path):
    from indexes import good_index, write_index

    source = str(write_index(tmp_path, good_index(tmp_path)))
    with pytest.raises(cz.ZooError, match="run the code of zoo.load_code"):
        cz.load("beta", zoo=source)


def test_corrupt_builtin_style_file_is_a_clear_error(tmp_path):
    import hashlib
    import json
    import shutil

    shutil.copytree(ZOO_DIR, tmp_path / "zoo")
    weights = tmp_path / "zoo" / "digits-mlp" / "epoch-1.safetensors"
    weights.write_bytes(b"\x00" * 16)
    index = json.loads((tmp_path / "zoo" / "index.json").read_text())
    file = index["models"][1]["checkpoints"][1]["files"][0]
    file.update(sha256=hashlib.sha256(weights.read_bytes()).hexdigest(), size=16)
    (tmp_path / "zoo" / "index.json").write_text(json.dumps(index))
    with pytest.raises(cz.ZooError, match="not a readable safetensors file"):
        cz.load("digits-mlp@epoch-1", zoo=str(tmp_path / "zoo" / "index.json"))


@pytest.mark.slow
def test_training_script_reproduces_the_committed_zoo_byte_for_byte():
    pytest.importorskip("sklearn")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_builtin_zoo.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches a fresh training run" in done.stdout


def test_load_says_what_was_loaded_and_keeps_working_as_a_model():
    from IPython.lib.pretty import pretty

    zoo = cz.open_zoo()
    checkpoint = zoo.model("digits-mlp").checkpoint("epoch-5")
    model = cz.load("digits-mlp@epoch-5")
    sha = checkpoint.files[0].sha256
    verified = f"sha256 {sha[:12]}… verified against the zoo index"
    assert repr(model) == f"<digits-mlp@epoch-5: mlp, 2,410 parameters, epoch-5.safetensors, {verified}>"
    shown = pretty(model).splitlines()  # what a notebook cell ending in the model shows
    assert shown[0] == "Loaded digits-mlp@epoch-5: mlp digits classifier, 2,410 parameters"
    assert shown[1].startswith("  file    ") and shown[1].endswith("epoch-5.safetensors (9.8 KiB)")
    assert shown[2] == f"  check   sha256 {sha[:12]}… verified against the zoo index"
    assert model.num_params == 2410 and model.path.stat().st_size == checkpoint.files[0].size
    X, y = cz.digits_validation()
    assert model.score(X, y) == checkpoint.metrics["val_accuracy"]


def test_load_does_not_claim_a_check_the_index_cannot_give(tmp_path):
    import json
    import shutil

    shutil.copytree(ZOO_DIR, tmp_path / "zoo")
    index = json.loads((tmp_path / "zoo" / "index.json").read_text())
    for model in index["models"]:
        for checkpoint in model["checkpoints"]:
            for file in checkpoint["files"]:
                file.pop("sha256")
    (tmp_path / "zoo" / "index.json").write_text(json.dumps(index))
    model = cz.load("digits-mlp@epoch-1", zoo=str(tmp_path / "zoo" / "index.json"))
    assert "not verified (the zoo index gives no sha256" in repr(model) and " verified against" not in repr(model)
