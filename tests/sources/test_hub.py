"""Hugging Face Hub source against a server on 127.0.0.1 that answers the Hub's REST endpoints."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")

from conftest import SHARED_DATA, shared_data_absent
from fixtures.fake_hub import FakeHub  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.errors import ZooError  # noqa: E402
from ckptzoo_widgets.sources import read_source  # noqa: E402
from ckptzoo_widgets.sources.hub import model_data, parse_source  # noqa: E402

FIXTURES = Path(__file__).parents[1] / "fixtures"
REAL_INFO = SHARED_DATA / "hf-api" / "model_info-google-bert--bert-base-uncased.json"
ANSWERS = json.loads((FIXTURES / "hub" / "answers.json").read_text())


@pytest.fixture
def hub(monkeypatch, tmp_path):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    infos = {m["id"]: m for m in ANSWERS["models"] if isinstance(m, dict) and isinstance(m.get("id"), str)}
    if REAL_INFO.is_file():
        real = json.loads(REAL_INFO.read_text())
        infos[real["id"]] = real
    with FakeHub(ANSWERS["models"], ANSWERS["refs"], infos, ANSWERS["readmes"]) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_listing_with_branches_as_checkpoints(hub):
    zoo = cz.open_zoo("hf:")
    page = zoo.search("", limit=10)
    assert list(page["id"]) == [
        "EleutherAI/pythia-70m",
        "EleutherAI/pythia-160m",
        "allenai/OLMo-1B-hf",
        "someone/odd-fields",
        "timm/resnet18.a1_in1k",
    ]
    assert any("offset=" in path for path in hub.seen)  # paged through Link: rel="next"
    problems = "\n".join(page.attrs["problems"])
    assert "without an 'id'" in problems and "bad name" in problems and "a str" in problems
    pythia = zoo.model("EleutherAI/pythia-70m")  # branches are read when the model is opened
    assert [c.name for c in pythia.checkpoints] == [
        "step0",
        "step1",
        "step2",
        "step4",
        "step512",
        "step1000",
        "step3000",
        "step143000",
        "main",
    ]
    assert all(c.revision == c.name for c in pythia.checkpoints)
    assert pythia.checkpoint("step3000").step == 3000 and pythia.default_checkpoint == "main"
    assert pythia.license == "apache-2.0" and pythia.datasets == ["EleutherAI/the_pile"]
    assert pythia.num_params == 70426624 and pythia.metrics["downloads"] == 90000
    assert pythia.task == "text-generation" and pythia.library == "transformers"
    olmo = zoo.model("allenai/OLMo-1B-hf")
    assert [c.name for c in olmo.checkpoints] == [
        "step1000-tokens4B",
        "step20000-tokens84B",
        "step738000-tokens3095B",
        "main",
    ]
    assert olmo.checkpoint("step20000-tokens84B").metrics["tokens"] == 84e9
    assert olmo.metrics["piqa.acc"] == 73.7 and olmo.headline == ("piqa.acc", 73.7)  # from model-index
    assert olmo.checkpoint("main").metrics["piqa.acc"] == 73.7  # model-index results: the main branch's
    odd = zoo.model("someone/odd-fields")  # refs answered 500: main only
    assert [c.name for c in odd.checkpoints] == ["main"]


def test_load_code_pins_the_revision(hub):
    zoo = cz.open_zoo("hf:author=EleutherAI")
    assert list(zoo.search("")["id"]) == ["EleutherAI/pythia-70m", "EleutherAI/pythia-160m"]
    code = zoo.load_code("EleutherAI/pythia-70m@step3000")
    assert 'AutoModelForCausalLM.from_pretrained("EleutherAI/pythia-70m", revision="step3000")' in code
    ast.parse(code)
    assert [c.name for c in zoo.model("EleutherAI/pythia-160m").checkpoints] == ["main"]  # refs had no branches


def test_search_sort_options(hub):
    zoo = cz.open_zoo("hf:search=pythia&sort=likes")
    assert list(zoo.search("")["id"]) == ["EleutherAI/pythia-70m", "EleutherAI/pythia-160m"]
    query = next(path for path in hub.seen if path.startswith("/api/models?"))
    assert "search=pythia" in query and "sort=likes" in query


def test_non_transformers_repo_gets_pinned_files(hub):
    zoo = cz.open_zoo("hf:")
    model = zoo.model("timm/resnet18.a1_in1k")
    files = model.checkpoint("main").files
    assert [f.name for f in files] == ["model.safetensors", "pytorch_model.bin"]
    assert files[0].url.endswith("/timm/resnet18.a1_in1k/resolve/" + "c" * 40 + "/model.safetensors")
    assert 'timm.create_model("resnet18.a1_in1k", pretrained=True)' in zoo.load_code("timm/resnet18.a1_in1k")
    odd = cz.open_zoo("hf:").model("someone/odd-fields")
    assert odd.checkpoint("main").files[0].sha256 == "a" * 64
    assert odd.tags == [] and odd.task is None and odd.num_params is None


def test_single_repo_with_card(hub):
    zoo = cz.open_zoo("hf:EleutherAI/pythia-70m")
    model = zoo.model("EleutherAI/pythia-70m")
    assert model.description.startswith("# Pythia-70M") and len(model.checkpoints) == 9
    assert len(zoo) == 1 and not zoo.is_live  # one repo: read whole


@pytest.mark.skipif(shared_data_absent(REAL_INFO), reason="../shared/data is absent")
def test_real_model_info_answer(hub):
    zoo = cz.open_zoo("hf:google-bert/bert-base-uncased")
    model = zoo.model("google-bert/bert-base-uncased")
    assert model.task == "fill-mask" and model.library == "transformers" and model.license == "apache-2.0"
    assert model.datasets == ["bookcorpus", "wikipedia"] and model.num_params == 110106428
    assert model.created == "2022-03-02T23:29:04.000Z" and model.metrics["likes"] == 2065
    assert [c.name for c in model.checkpoints] == ["main"]  # the fake Hub has no refs for it: reported
    assert 'AutoModelForMaskedLM.from_pretrained("google-bert/bert-base-uncased", revision="main")' in zoo.load_code(
        "google-bert/bert-base-uncased"
    )
    data, problems = model_data(json.loads(REAL_INFO.read_text()), "test", "http://hub", None)
    assert problems == [] and data["checkpoints"][0]["name"] == "main"


def test_errors(hub, monkeypatch):
    with pytest.raises(ZooError, match="unknown option"):
        parse_source("hf:colour=blue")
    with pytest.raises(ZooError, match="cannot sort"):
        parse_source("hf:sort=size")
    with pytest.raises(ZooError, match="unknown model 'nobody/nothing' on the Hub"):
        read_source("hf:nobody/nothing")
    zoo = cz.open_zoo(["builtin", "hf:nobody/nothing"])  # a failing source is reported, the rest opens
    assert len(zoo) == 3 and "hf:nobody/nothing" in zoo.errors[0]
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ZooError, match="^offline: "):
        cz.open_zoo("hf:").search("")


def test_missing_library_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    monkeypatch.setitem(sys.modules, "huggingface_hub.utils", None)
    with pytest.raises(ZooError, match=r"ckptzoo-widgets\[hf\]"):
        read_source("hf:")
