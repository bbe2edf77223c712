"""Training-run folders: Trainer, Lightning, lm-eval results, plain weights, and the bad input around them."""

from __future__ import annotations

import ast
import json

import pytest
from conftest import SHARED_DATA, shared_data_absent
from fixtures.make_runs import make_runs, weights

import ckptzoo_widgets as cz
from ckptzoo_widgets.sources import read_source
from ckptzoo_widgets.sources.runs import eval_metrics, model_args, step_of

PYTHIA = SHARED_DATA / "pythia-evals"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("zoo") / "runs")


@pytest.fixture(scope="module")
def zoo(runs):
    return cz.open_zoo(str(runs))


def test_models_found(zoo):
    assert sorted(m.id for m in zoo) == [
        "Example/tiny-lm",
        "bert-sst2",
        "broken",
        "gpt-shards",
        "lora",
        "mnist/version_0",
        "plain",
    ]


def test_trainer_checkpoints_metrics_and_best(zoo):
    model = zoo.model("bert-sst2")
    assert [c.name for c in model.checkpoints] == ["checkpoint-100", "checkpoint-200", "final"]
    assert [c.step for c in model.checkpoints] == [100, 200, 300]
    best = model.checkpoint("checkpoint-200")
    assert best.metrics["eval_accuracy"] == 0.9 and best.metrics["eval_loss"] == 0.3
    assert best.metrics["loss"] == 0.005 and "learning_rate" in best.metrics and best.epoch == 2.0
    assert "grad_norm" not in best.metrics
    assert model.default_checkpoint == "checkpoint-200" and "best" in best.notes
    assert best.metrics["lambada_openai.acc"] == 0.33  # lm-eval results inside the checkpoint folder
    assert model.architecture == "BertForSequenceClassification" and model.library == "transformers"
    assert model.task == "text-classification" and model.num_params == 15
    # the model card's front matter
    assert model.license == "apache-2.0" and model.datasets == ["glue"] and "sentiment" in model.tags
    assert model.base_model == "google-bert/bert-base-uncased"
    assert model.metrics["sst2.accuracy"] == 0.91 and model.description.startswith("# tiny-bert-sst2")
    files = [f.path for f in best.files]
    assert files == ["bert-sst2/checkpoint-200/model.safetensors"]  # optimizer.pt is not weights
    table = zoo.checkpoints("bert-sst2")
    assert list(table["step"]) == [100, 200, 300]


def test_shards_adapters_lightning_plain(zoo):
    shards = zoo.model("gpt-shards").checkpoint("checkpoint-5")
    assert [f.name for f in shards.files] == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    code = zoo.load_code("gpt-shards@checkpoint-5")
    assert code.count("state_dict.update(") == 2
    lora = zoo.model("lora")
    assert lora.library == "peft" and lora.base_model == "EleutherAI/pythia-70m"
    mnist = zoo.model("mnist/version_0")
    assert [(c.name, c.step, c.epoch) for c in mnist.checkpoints] == [
        ("epoch-0-step-50", 50, 0.0),
        ("epoch-1-step-100", 100, 1.0),
        ("last", None, None),
    ]
    first = mnist.checkpoint("epoch-0-step-50")
    assert first.metrics == {"train_loss": 0.7, "val_loss": 0.5, "val_acc": 0.8}
    assert mnist.checkpoint("epoch-1-step-100").metrics["val_loss"] == 0.31
    plain = zoo.model("plain")
    assert {c.name for c in plain.checkpoints} == {"epoch3", "step_900", "final"}
    assert plain.checkpoint("step_900").step == 900 and plain.checkpoint("epoch3").epoch == 3
    assert {f.format for f in plain.checkpoint("epoch3").files} == {"pytorch", "safetensors"}
    assert plain.license == "mit" and "toy" in plain.tags  # Windows line breaks in the card
    assert "safetensors" in zoo.load_code("plain@epoch3")  # safetensors preferred over the pickle
    for ref in ("mnist/version_0@last", "plain@final", "lora@checkpoint-10", "bert-sst2"):
        ast.parse(zoo.load_code(ref))


def test_evaluation_results_alone_make_a_model_of_revisions(zoo):
    model = zoo.model("Example/tiny-lm")
    assert model.repo == "Example/tiny-lm" and model.task == "text-generation"
    assert [(c.name, c.step, c.revision) for c in model.checkpoints] == [
        ("step0", 0, "step0"),
        ("step1000", 1000, "step1000"),
        ("step143000", 143000, "step143000"),
    ]
    assert model.checkpoint("step1000").metrics == {
        "lambada_openai.ppl": 99.0,
        "lambada_openai.acc": 0.1,
        "piqa.acc": 0.45,
        "piqa.acc_norm": 0.5,
    }
    code = zoo.load_code("Example/tiny-lm@step1000")
    assert 'AutoModelForCausalLM.from_pretrained("Example/tiny-lm", revision="step1000")' in code


def test_bad_input_is_reported_with_its_path(zoo, runs):
    errors = "\n".join(zoo.errors)
    for fragment in (
        "bert-sst2/checkpoint-300",
        "broken/trainer_state.json",
        "evals/truncated.json",
        "plain/bad name!.pt",
        "bad folder",
    ):
        assert fragment in errors
    assert len(zoo.errors) == 5
    assert [c.name for c in zoo.model("broken").checkpoints] == ["checkpoint-1"]  # still indexed


def test_unreadable_entries(tmp_path):
    root = tmp_path / "runs"
    weights(root / "ok" / "a.safetensors", 1)
    (root / "ok" / "trainer_state.json").symlink_to(root / "nowhere.json")  # cannot be read
    (root / "dangling").mkdir()
    (root / "dangling" / "w.safetensors").symlink_to(root / "missing.safetensors")
    loaded = read_source(str(root))
    assert [m.id for m in loaded.models] == ["ok"]
    text = "\n".join(map(str, loaded.problems))
    assert "ok/trainer_state.json" in text and "dangling/w.safetensors" in text


def test_root_folder_is_one_run(tmp_path):
    root = tmp_path / "my-run"
    for step in (30, 10, 20):
        weights(root / f"checkpoint-{step}" / "model.safetensors", step)
    zoo = cz.open_zoo(str(root))
    assert [m.id for m in zoo] == ["my-run"]
    assert [c.name for c in zoo.model("my-run").checkpoints] == ["checkpoint-10", "checkpoint-20", "checkpoint-30"]


def test_parsers():
    assert step_of("epoch=3-step=1200.ckpt") == 1200 and step_of("step143000-tokens300B") == 143000
    assert step_of("checkpoint-50") == 50 and step_of("final") is None
    assert model_args({"model_args": "pretrained=a/b,revision=step1"}) == {"pretrained": "a/b", "revision": "step1"}
    assert model_args({"model_args": {"pretrained": "a/b"}}) == {"pretrained": "a/b"}
    # lm-eval 0.4 names: "acc,none" -> acc; stderr and aliases left out
    assert eval_metrics({"piqa": {"acc,none": 0.6, "acc_stderr,none": 0.01, "alias": "piqa"}}) == {"piqa.acc": 0.6}


@pytest.mark.skipif(shared_data_absent(PYTHIA), reason="../shared/data is absent")
def test_real_pythia_evaluations():
    zoo = cz.open_zoo(str(PYTHIA))
    assert zoo.errors == []
    assert sorted(m.id for m in zoo) == ["EleutherAI/pythia-v1.1-160m", "EleutherAI/pythia-v1.1-70m"]
    model = zoo.model("EleutherAI/pythia-v1.1-70m")
    steps = [c.step for c in model.checkpoints]
    assert len(steps) == 27 and steps == sorted(steps) and steps[0] == 0 and steps[-1] == 143000
    assert all(c.revision == f"step{c.step}" for c in model.checkpoints)
    assert model.headline[0] == "lambada_openai.acc"
    last = model.checkpoint("step143000").metrics
    assert 0 < last["lambada_openai.acc"] < 1 and "piqa.acc" in last and "arc_easy.acc" in last
    assert not any(name.endswith("_stderr") for name in last)
    code = zoo.load_code("EleutherAI/pythia-v1.1-70m@step3000")
    assert 'from_pretrained("EleutherAI/pythia-v1.1-70m", revision="step3000")' in code
    # one folder of a single model works too
    assert len(cz.open_zoo(str(PYTHIA / "pythia-160m")).model("EleutherAI/pythia-v1.1-160m").checkpoints) == 27


@pytest.mark.skipif(shared_data_absent(PYTHIA), reason="../shared/data is absent")
def test_real_evaluations_beside_weights_attach_to_checkpoints(tmp_path):
    # The same real result files, next to local checkpoints with matching steps.
    root = tmp_path / "pythia-local"
    for step in (1000, 3000):
        weights(root / f"checkpoint-{step}" / "model.safetensors", step)
        data = json.loads((PYTHIA / "pythia-70m" / f"70m_step{step}.json").read_text())
        (root / "evals").mkdir(exist_ok=True)
        (root / "evals" / f"70m_step{step}.json").write_text(json.dumps(data))
    zoo = cz.open_zoo(str(root))
    assert [m.id for m in zoo] == ["pythia-local"]
    assert "lambada_openai.acc" in zoo.model("pythia-local").checkpoint("checkpoint-3000").metrics
