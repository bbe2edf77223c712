"""torchvision source: the installed registry as a zoo, its load code run in a fresh process, verified weights.

The installed torchvision needs the test fixture in tests/torchvision_ops.py to
import here (its compiled operators do not match the CPU torch); it says why.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
import torchvision_ops  # noqa: E402

try:
    torchvision = torchvision_ops.ensure_importable()
except ImportError:
    pytest.skip("torchvision is not installed (pip install -e '.[test]')", allow_module_level=True)

import ckptzoo_widgets as cz  # noqa: E402
from ckptzoo_widgets.errors import FetchError, ZooError  # noqa: E402
from ckptzoo_widgets.fetch.api import hash_prefix_of_name  # noqa: E402
from ckptzoo_widgets.sources.torchvision import task_of  # noqa: E402

models = torchvision.models


@pytest.fixture(scope="module")
def zoo() -> cz.Zoo:
    return cz.open_zoo("torchvision")


def registry() -> dict[str, list]:
    """Architecture -> its weights, from torchvision itself."""
    return {name: list(models.get_model_weights(name)) for name in models.list_models()}


def run_fresh(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`code` in a new interpreter (this one's python), the fixture first so torchvision imports."""
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    return subprocess.run(
        [sys.executable, "-c", torchvision_ops.PRELUDE + code],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=600,
    )


def test_models_and_checkpoints_are_the_registry(zoo):
    expected = {name: weights for name, weights in registry().items() if weights}
    assert len(zoo) == len(expected)
    assert int(zoo.models["num_checkpoints"].sum()) == sum(len(w) for w in expected.values())
    assert set(zoo.models["id"]) == {f"torchvision/{name}" for name in expected}
    assert zoo.errors == []
    assert set(zoo.models["source"]) == {"torchvision"}
    for name, weights in expected.items():
        entry = zoo.model(f"torchvision/{name}")
        assert [c.name for c in entry.checkpoints] == [w.name for w in weights]
        enum = type(weights[0])
        assert entry.default_checkpoint == enum.DEFAULT.name
        assert [c.revision for c in entry.checkpoints] == [f"{enum.__name__}.{w.name}" for w in weights]
        assert [f.url for c in entry.checkpoints for f in c.files] == [w.url for w in weights]


@pytest.mark.parametrize(
    "weights_name",
    [
        "ResNet50_Weights.IMAGENET1K_V2",
        "ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1",
        "FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1",
        "DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1",
        "Raft_Large_Weights.C_T_SKHT_V2",
    ],
)
def test_metrics_are_the_registry_meta(zoo, weights_name):
    weights = models.get_weight(weights_name)
    meta = weights.meta
    name = next(n for n, ws in registry().items() if weights in ws)
    entry = zoo.model(f"torchvision/{name}")
    checkpoint = entry.checkpoint(weights.name)
    datasets = meta["_metrics"]
    expected = {
        (metric if len(datasets) == 1 else f"{dataset}/{metric}"): value
        for dataset, values in datasets.items()
        for metric, value in values.items()
    }
    assert {k: checkpoint.metrics[k] for k in expected} == expected
    assert checkpoint.metrics["gflops"] == meta["_ops"]
    assert checkpoint.metrics["file_size_mb"] == meta["_file_size"]
    if "categories" in meta:
        assert checkpoint.metrics["num_categories"] == len(meta["categories"])
    assert meta["recipe"] in (checkpoint.notes or "")
    default = type(weights).DEFAULT
    assert entry.num_params == default.meta["num_params"]
    assert entry.task == task_of(models.get_model_builder(name).__module__)[0]
    assert set(datasets) <= set(entry.datasets)


def test_tasks_from_the_builder_modules(zoo):
    tasks = dict(zip(zoo.models["id"], zoo.models["task"], strict=True))
    assert tasks["torchvision/resnet50"] == "image-classification"
    assert tasks["torchvision/fasterrcnn_resnet50_fpn"] == "object-detection"
    assert tasks["torchvision/deeplabv3_resnet50"] == "image-segmentation"
    assert tasks["torchvision/r3d_18"] == "video-classification"
    assert tasks["torchvision/raft_small"] == "optical-flow"
    assert "quantized" in zoo.model("torchvision/quantized_resnet50").tags


def test_load_code_forms(zoo):
    ref = "torchvision/resnet50@IMAGENET1K_V2"
    assert zoo.code_libraries(ref)[:3] == ["torchvision", "ckptzoo", "torch.hub"]
    code = zoo.load_code(ref)
    assert 'torchvision.models.get_model("resnet50", weights="ResNet50_Weights.IMAGENET1K_V2")' in code
    hub = zoo.load_code(ref, "torch.hub")
    tree = ast.parse(hub)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.hub.load")
    assert [a.value for a in call.args] == ["pytorch/vision", "resnet50"]
    assert {k.arg: k.value.value for k in call.keywords} == {
        "weights": "ResNet50_Weights.IMAGENET1K_V2",
        "trust_repo": "check",
    }
    assert 'cz.load("torchvision/resnet50@IMAGENET1K_V2", zoo="torchvision")' in zoo.load_code(ref, "ckptzoo")
    state_dict = zoo.load_code(ref, "torch")  # the file itself: torch.hub's hash prefix checked by cz.fetch
    assert 'sha256_prefix="11ad3fa6"' in state_dict and "weights_only=True" in state_dict


def _without_weights(code: str) -> str:
    """The generated code with `weights=None` (the file cannot be had offline)."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "weights":
            node.value = ast.Constant(None)
    return ast.unparse(tree)


@pytest.mark.parametrize(
    ("ref", "builds"),
    [
        ("torchvision/resnet50@IMAGENET1K_V2", "ResNet"),
        ("torchvision/raft_small@C_T_V2", "RAFT"),
    ],
)
def test_generated_code_builds_the_model_in_a_fresh_process(zoo, ref, builds):
    code = _without_weights(zoo.load_code(ref))
    variable = ast.parse(code).body[-1].value.func.value.id  # `<name>.eval()`
    result = run_fresh(code + f"\nprint(type({variable}).__name__, sum(p.numel() for p in {variable}.parameters()))")
    assert result.returncode == 0, result.stderr[-2000:]
    kind, count = result.stdout.split()
    assert kind == builds
    assert int(count) == zoo.model(ref.partition("@")[0]).num_params  # the registry's parameter count


def test_hash_prefix_of_a_name_as_torch_hub_reads_it():
    assert hash_prefix_of_name("https://download.pytorch.org/models/resnet50-11ad3fa6.pth") == "11ad3fa6"
    assert hash_prefix_of_name("regnet_y_128gf_swag-c8ce3e52.pth") == "c8ce3e52"
    assert hash_prefix_of_name("https://x.example/quantized/resnet18_fbgemm_16fa66dd.pth") is None
    assert hash_prefix_of_name("model-abc.pth") is None  # fewer than 8 hex digits: no promise


@pytest.fixture(scope="module")
def resnet18_file() -> tuple[bytes, str]:
    """A real resnet18 state dict (random weights) as torch.save writes it, and its sha256."""
    torch.manual_seed(0)
    state = models.get_model("resnet18", weights=None).state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def _index(tmp_path: Path, url: str) -> Path:
    """A zoo naming a torchvision checkpoint whose weights file lives at `url`."""
    index = {
        "ckptzoo_index": 1,
        "models": [
            {
                "id": "torchvision/resnet18",
                "library": "torchvision",
                "architecture": "resnet18",
                "repo": "pytorch/vision",
                "checkpoints": [
                    {
                        "name": "IMAGENET1K_V1",
                        "revision": "ResNet18_Weights.IMAGENET1K_V1",
                        "files": [{"url": url, "format": "pytorch"}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "index.json"
    path.write_text(json.dumps(index), "utf-8")
    return path


def test_weights_from_127_0_0_1_verified_by_the_hash_prefix_then_built(http_server, tmp_path, resnet18_file):
    data, sha = resnet18_file
    url = http_server.add(f"/models/resnet18-{sha[:8]}.pth", data)
    index = _index(tmp_path, url)
    zoo = cz.open_zoo(str(index))
    code = zoo.load_code("torchvision/resnet18@IMAGENET1K_V1", "ckptzoo")
    call = ast.parse(code).body[-2].value
    assert [a.value for a in call.args] == ["torchvision/resnet18@IMAGENET1K_V1"]
    assert [(k.arg, k.value.value) for k in call.keywords] == [("zoo", str(index))]
    variable = ast.parse(code).body[-1].value.id
    check = textwrap.dedent(
        f"""
        import torch
        reference = torch.load({str(tmp_path / "reference.pth")!r}, weights_only=True)
        state = {variable}.state_dict()
        print(type({variable}).__name__, all(torch.equal(state[k], reference[k]) for k in reference))
        """
    )
    (tmp_path / "reference.pth").write_bytes(data)
    cache = tmp_path / "cache"
    result = run_fresh(code + check, env={"CKPTZOO_CACHE": str(cache), "CKPTZOO_QUIET": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ResNet", "True"]
    assert len(http_server.requests(f"/models/resnet18-{sha[:8]}.pth")) == 1
    assert not (Path.home() / ".cache" / "torch" / "hub" / "checkpoints" / f"resnet18-{sha[:8]}.pth").exists()
    blobs = [p for p in (cache / "blobs").rglob("*") if p.is_file()]
    assert [p.name for p in blobs] == [sha]  # in our cache, under its sha256


def test_wrong_hash_prefix_is_refused_and_not_cached(http_server, tmp_path, resnet18_file, monkeypatch):
    data, sha = resnet18_file
    wrong = "deadbeef" if not sha.startswith("deadbeef") else "beefdead"
    url = http_server.add(f"/models/resnet18-{wrong}.pth", data)
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    zoo = cz.open_zoo(str(_index(tmp_path, url)))
    with pytest.raises(FetchError, match=f"starts with {wrong}, got {sha}"):
        cz.load("torchvision/resnet18@IMAGENET1K_V1", zoo=zoo, quiet=True)
    assert not [p for p in (tmp_path / "cache" / "blobs").rglob("*") if p.is_file()]
    with pytest.raises(FetchError, match="starts with"):
        cz.fetch(url, sha256_prefix=wrong, quiet=True)  # the same rule through the public fetch


def test_a_pickle_that_imports_code_is_not_loaded(http_server, tmp_path, monkeypatch):
    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    buffer = io.BytesIO()
    torch.save({"weight": Payload()}, buffer)
    data = buffer.getvalue()
    url = http_server.add(f"/models/resnet18-{hashlib.sha256(data).hexdigest()[:8]}.pth", data)
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    zoo = cz.open_zoo(str(_index(tmp_path, url)))
    with pytest.warns(Warning), pytest.raises(ZooError, match="not loaded.*posix.getcwd|not loaded.*os"):
        cz.load("torchvision/resnet18@IMAGENET1K_V1", zoo=zoo, quiet=True)


def test_without_an_importable_torchvision_the_source_is_one_line():
    # A fresh interpreter without the fixture: the installed torchvision either imports by itself
    # (then the source opens) or the source says so in one line.
    code = textwrap.dedent(
        """
        from ckptzoo_widgets.errors import ZooError
        from ckptzoo_widgets.sources import read_source
        try:
            loaded = read_source("torchvision")
        except ZooError as error:
            print("ERROR", str(error))
        else:
            print("OPEN", len(loaded.models))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout.strip()
    assert "\n" not in out
    kind, _, message = out.partition(" ")
    if kind == "ERROR":
        assert message.startswith("torchvision is installed but cannot be imported")
        assert "torchvision::nms" in message
    else:
        assert kind == "OPEN" and int(message) > 0
