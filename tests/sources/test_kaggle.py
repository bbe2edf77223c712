"""kaggle: source against a fake Kaggle Models API on 127.0.0.1 (tests/kaggle_api.py), with the real clients."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("kagglehub")

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
from kaggle_api import KEY, USER, FakeKaggle, Instance, Model, tfhub_redirects  # noqa: E402

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets import safety  # noqa: E402
from ckptzoo_widgets.errors import ZooError  # noqa: E402
from ckptzoo_widgets.sources import read_source  # noqa: E402

TF2 = "MODEL_FRAMEWORK_TENSOR_FLOW_2"
HOSTILE = (
    "Good model.\n\n<script>alert('card')</script>\n\n[docs](javascript:alert(1))\n\n"
    '<img src=x onerror="alert(2)">\n\n<iframe src="https://evil.example"></iframe>\n'
)


def models() -> list[Model]:
    weights = {"saved_model.pb": b"\x08\x01graph", "variables/variables.index": b"index"}
    zoo = [
        Model(
            "google",
            "mobilenet-v2",
            "MobileNet V2",
            [
                Instance(TF2, "100-224-classification", {1: weights, 2: {**weights, "saved_model.pb": b"v2"}}),
                Instance(TF2, "035-128-feature-vector", {1: weights}, license="MIT"),
            ],
            subtitle="Efficient image classification",
            description="MobileNet V2 trained on ImageNet.",
            tags=["Image Classification"],
            votes=50,
        ),
        Model(
            "google",
            "gemma",
            "Gemma",
            [
                Instance("MODEL_FRAMEWORK_KERAS", "gemma_2b_en", {1: weights, 2: weights, 3: weights}, license="Gemma"),
                Instance("MODEL_FRAMEWORK_PY_TORCH", "2b", {1: weights}, license="Gemma"),
            ],
            tags=["Text Generation"],
            votes=900,
        ),
        Model("ada", "hostile", "Hostile <b>card</b>", [Instance(TF2, "v", {1: weights})], description=HOSTILE),
    ]
    zoo += [
        Model("org", f"model-{i:02d}", f"Model {i}", [Instance("MODEL_FRAMEWORK_PY_TORCH", "base", {1: weights})])
        for i in range(25)
    ]
    return zoo


@pytest.fixture
def kaggle(http_server, monkeypatch, tmp_path):
    fake = FakeKaggle(models(), page_versions=2)
    http_server.route("/api/v1/", fake)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no real ~/.kaggle reaches the test
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    monkeypatch.delenv("KAGGLE_API_TOKEN", raising=False)
    monkeypatch.setenv("KAGGLE_API_ENDPOINT", http_server.base)
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    fake.server = http_server
    return fake


def test_search_pages_and_sort_are_kaggle_s(kaggle):
    zoo = cz.open_zoo("kaggle:")
    first = zoo.search("", limit=20)
    assert len(first) == 20 and first.attrs["more"] is True
    assert set(first["source"]) == {"kaggle:"}
    second = zoo.search("", limit=20, offset=20)
    assert len(second) == 8 and not set(first["id"]) & set(second["id"])  # 28 models in two Kaggle pages
    listed = [body for method, body, _ in kaggle.calls if method == "ListModels"]
    assert [b.get("pageToken") for b in listed] == [None, "20"]
    found = zoo.search("mobilenet")
    assert list(found["id"]) == ["google/mobilenet-v2"] and found.attrs["total"] == 1
    assert kaggle.calls[-1][1]["search"] == "mobilenet"
    by_votes = zoo.search("", sort="-votes", limit=2)
    assert list(by_votes["id"]) == ["google/gemma", "google/mobilenet-v2"]
    assert kaggle.calls[-1][1]["sortBy"] == "LIST_MODELS_ORDER_BY_VOTE_COUNT"
    assert {who for _, _, who in kaggle.calls} == {"basic"}  # KAGGLE_USERNAME / KAGGLE_KEY, as the clients send them


def test_owner_and_framework_filters(kaggle):
    zoo = cz.open_zoo("kaggle:owner=google&framework=tensorflow2")
    assert list(zoo.search("")["id"]) == ["google/mobilenet-v2"]
    assert kaggle.calls[-1][1]["owner"] == "google"
    pytorch = cz.open_zoo("kaggle:owner=google").search("", library="pytorch")
    assert list(pytorch["id"]) == ["google/gemma"]
    assert list(cz.open_zoo("kaggle:").search("", task="text-generation")["id"]) == ["google/gemma"]
    with pytest.raises(ZooError, match="unknown option"):
        read_source("kaggle:colour=red")


def test_a_model_s_instances_and_versions_are_its_checkpoints(kaggle):
    zoo = cz.open_zoo("kaggle:")
    gemma = zoo.model("google/gemma")
    assert [c.name for c in gemma.checkpoints] == [
        "keras.gemma_2b_en.v1",
        "keras.gemma_2b_en.v2",
        "keras.gemma_2b_en.v3",  # three versions over two pages of 2
        "pyTorch.2b.v1",
    ]
    assert gemma.default_checkpoint == "keras.gemma_2b_en.v3" and gemma.license == "gemma"
    assert gemma.checkpoint("pyTorch.2b.v1").revision == "google/gemma/pyTorch/2b/1"
    versions = [b for m, b, _ in kaggle.calls if m == "ListModelInstanceVersions"]
    assert [b.get("pageToken") for b in versions if b["instanceSlug"] == "gemma_2b_en"] == [None, "2"]
    code = zoo.load_code("google/gemma@keras.gemma_2b_en.v2")
    assert 'kagglehub.model_download("google/gemma/keras/gemma_2b_en/2")' in code
    mobilenet = zoo.model("google/mobilenet-v2")
    assert mobilenet.task == "image-classification" and mobilenet.metrics["votes"] == 50
    assert zoo.code_libraries("google/mobilenet-v2")[:2] == ["kagglehub", "tensorflow_hub"]
    layer = zoo.load_code("google/mobilenet-v2", "tensorflow_hub")
    call = next(n for n in ast.walk(ast.parse(layer)) if isinstance(n, ast.Call))
    assert ast.unparse(call.func) == "tensorflow_hub.KerasLayer"
    assert (
        call.args[0].value == "https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-classification/2"
    )
    assert KEY not in code + layer and USER not in code + layer  # credentials never reach the code


def test_generated_kagglehub_code_downloads_through_the_real_client(kaggle, tmp_path):
    # kagglehub 1.x finds its API by KAGGLE_API_ENVIRONMENT in kagglesdk's table of endpoints; the test
    # environment's entry is localhost:7777, so the child points that one entry at this server first.
    code = cz.open_zoo("kaggle:").load_code("google/mobilenet-v2@tensorFlow2.100-224-classification.v2")
    prelude = textwrap.dedent(
        f"""
        from kagglesdk import kaggle_env
        kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.TEST] = {kaggle.server.base!r}
        """
    )
    variable = ast.parse(code).body[-1].value.id
    check = f"\nimport os\nprint(open(os.path.join({variable}, 'saved_model.pb'), 'rb').read().decode())\n"
    env = {
        **os.environ,
        "KAGGLE_API_ENVIRONMENT": "TEST",
        "KAGGLEHUB_CACHE": str(tmp_path / "kagglehub"),
        "PYTHONPATH": str(TESTS.parent),
    }
    result = subprocess.run(
        [sys.executable, "-c", prelude + code + check], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "v2"
    asked = [m for m, _, _ in kaggle.calls]
    assert "ListModelInstanceVersionFiles" in asked and "DownloadModelInstanceVersion" in asked


def test_without_credentials_a_401_is_one_line(kaggle, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(ZooError) as raised:
        cz.open_zoo("kaggle:google/gemma")
    message = str(raised.value)
    assert "\n" not in message and "HTTP 401" in message and "KAGGLE_USERNAME" in message
    assert kaggle.calls[-1][2] == "none"
    merged = cz.open_zoo(["builtin", "kaggle:"]).search("")  # the other sources still answer, with one note
    assert set(merged["source"]) == {"builtin"}
    (note,) = merged.attrs["notes"]
    assert "HTTP 401: no Kaggle credentials" in note and "\n" not in note


def test_kaggle_json_and_a_token_are_read_as_the_clients_read_them(kaggle, monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    folder = Path(os.environ["KAGGLE_CONFIG_DIR"])
    folder.mkdir()
    (folder / "kaggle.json").write_text(json.dumps({"username": USER, "key": KEY}), "utf-8")
    assert read_source("kaggle:google/gemma").models[0].id == "google/gemma"
    assert kaggle.calls[-1][2] == "basic"
    monkeypatch.setenv("KAGGLE_API_TOKEN", f"token-{KEY}")
    read_source("kaggle:google/gemma")
    assert kaggle.calls[-1][2] == "bearer"
    monkeypatch.setenv("KAGGLE_API_TOKEN", "wrong-token")
    with pytest.raises(ZooError, match="refused the credentials") as raised:
        read_source("kaggle:google/gemma")
    assert "wrong-token" not in str(raised.value)


def test_hostile_description_is_sanitised_like_any_card(kaggle):
    entry = cz.open_zoo("kaggle:").model("ada/hostile")
    html = safety.render_markdown(entry.description)
    # raw HTML is shown as text, never as elements; a javascript: link is no link
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "Good model." in html
    assert "<b>" not in html and entry.name == "Hostile <b>card</b>"  # the title is plain text to every sink


def test_tfhub_handle_resolves_to_its_kaggle_model(kaggle, http_server, monkeypatch):
    handle = "/google/imagenet/mobilenet_v2_100_224/classification/5"
    target = "https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-classification/1"
    http_server.route("/google/", tfhub_redirects({handle: target}))
    monkeypatch.setenv("CKPTZOO_TFHUB_ENDPOINT", http_server.base)
    for source in (f"https://tfhub.dev{handle}", f"kaggle:https://tfhub.dev{handle}"):
        loaded = read_source(source)
        (entry,) = loaded.models
        assert entry.id == "google/mobilenet-v2"
        assert entry.default_checkpoint == "tensorFlow2.100-224-classification.v1"  # the version the handle names
    with pytest.raises(ZooError, match="did not point to a Kaggle model"):
        read_source("https://tfhub.dev/google/unknown/1")


def test_merged_with_the_other_zoos(kaggle):
    zoo = cz.open_zoo(["builtin", "kaggle:"])
    page = zoo.search("", limit=6)
    assert {"builtin", "kaggle:"} <= set(page["source"])
    assert zoo.model("google/gemma").source == "kaggle:"


def test_one_zoo_with_builtin_torchvision_and_timm(kaggle, monkeypatch):
    import torchvision_ops

    try:
        torchvision_ops.ensure_importable()  # the fixture tests/torchvision_ops.py explains
    except ImportError:
        pytest.skip("torchvision is not installed")
    monkeypatch.setenv("CKPTZOO_OFFLINE", "0")
    zoo = cz.open_zoo(["builtin", "torchvision", "timm", "kaggle:"])
    resnet = zoo.search("resnet50", limit=200)
    assert {"torchvision", "timm", "kaggle:"} >= set(resnet["source"]) >= {"torchvision", "timm"}
    assert zoo.model("torchvision/resnet50").source == "torchvision"
    assert zoo.model("timm/resnet50.a1_in1k").source == "timm"
    assert zoo.model("google/gemma").source == "kaggle:"
    assert zoo.model("digits-mlp").source == "builtin"
    assert 'torchvision.models.get_model("resnet50"' in zoo.load_code("torchvision/resnet50")
