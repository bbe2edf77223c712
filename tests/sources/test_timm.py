"""timm catalog: every pretrained tag of the installed timm, merged with the results CSV when at hand.

timm imports torchvision, which needs the test fixture in tests/torchvision_ops.py to
import here (it says why); without timm the CSV alone is listed (tested in a child).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SHARED_DATA, shared_data_absent

import ckptzoo_widgets as cz
from ckptzoo_widgets import cache, config
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.sources import read_source
from ckptzoo_widgets.sources.timm import DEFAULT_URL, parse_results

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
import torchvision_ops  # noqa: E402

try:
    torchvision_ops.ensure_importable()
    import timm
except ImportError:
    pytest.skip("timm is not installed (pip install -e '.[test]')", allow_module_level=True)

FIXTURES = TESTS / "fixtures"
REAL_CSV = SHARED_DATA / "timm" / "results-imagenet.csv"
FIXTURE_NAMES = {
    "eva_giant_patch14_560.m30m_ft_in22k_in1k",
    "convnextv2_large.fcmae_ft_in22k_in1k",
    "resnet50.a1_in1k",
    "resnet18.tv_in1k",
    "tinynet_e",
}
PRETRAINED = set(timm.list_pretrained())


def test_fixture_csv_models_sizes_and_thousands_separator():
    loaded = read_source(f"timm:{FIXTURES / 'timm-results.csv'}")
    ids = {m.id for m in loaded.models}
    # every pretrained tag of the installed timm, and the CSV's names it does not know
    assert ids == {f"timm/{name}" for name in PRETRAINED | FIXTURE_NAMES}
    assert "tinynet_e" not in PRETRAINED
    eva = next(m for m in loaded.models if m.id == "timm/eva_giant_patch14_560.m30m_ft_in22k_in1k")
    assert eva.num_params == 1_014_450_000  # "1,014.45" million
    resnet = next(m for m in loaded.models if m.id == "timm/resnet50.a1_in1k")
    assert resnet.metrics["top1"] == 81.224 and resnet.metrics["img_size"] == 288  # the best size is the headline
    assert resnet.metrics["top1@224"] == 80.104 and resnet.metrics["top5@224"] == 94.664
    assert resnet.metrics["top1@288"] == 81.224
    assert resnet.architecture == "resnet50" and "a1_in1k" in resnet.tags
    assert resnet.checkpoints[0].name == "a1_in1k" and resnet.headline == ("top1", 81.224)
    tiny = next(m for m in loaded.models if m.id == "timm/tinynet_e")
    assert tiny.checkpoints[0].name == "pretrained"  # no pretrained tag
    problems = " | ".join(map(str, loaded.problems))
    assert "broken.row" in problems and "bad name..x" in problems and len(loaded.problems) == 2


def test_load_code_is_timm_create_model():
    zoo = cz.open_zoo(f"timm:{FIXTURES / 'timm-results.csv'}")
    code = zoo.load_code("timm/resnet50.a1_in1k")
    assert 'timm.create_model("resnet50.a1_in1k", pretrained=True)' in code
    ast.parse(code)
    assert list(zoo.search("", sort="-top1", limit=2)["id"]) == [
        "timm/eva_giant_patch14_560.m30m_ft_in22k_in1k",
        "timm/convnextv2_large.fcmae_ft_in22k_in1k",
    ]
    assert {"top1", "top5", "img_size", "num_params"} <= set(zoo.models.columns)


def test_csv_with_missing_columns_is_a_clear_error():
    with pytest.raises(ZooError, match="missing column"):
        read_source(f"timm:{FIXTURES / 'timm-missing-columns.csv'}")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ZooError, match="cannot read"):
        read_source(f"timm:{tmp_path / 'nope.csv'}")


def test_default_source_offline_without_cache_opens_without_metrics(monkeypatch, tmp_path):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path))
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    zoo = cz.open_zoo("timm")
    assert set(zoo.models["id"]) == {f"timm/{name}" for name in PRETRAINED}
    assert "top1" not in zoo.models.columns
    assert len(zoo.errors) == 1  # said once, not per model
    assert "ImageNet results not at hand (offline" in zoo.errors[0] and "metrics" in zoo.errors[0]


def test_default_source_merges_the_cached_results(monkeypatch, tmp_path):
    # The results CSV as an earlier online open left it in the cache (cached_get's records).
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path))
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    body = (FIXTURES / "timm-results.csv").read_bytes()
    body_path, meta_path = cache.index_paths(config.cache_root(), DEFAULT_URL)
    cache.write_atomic(body_path, body)
    cache.write_json_atomic(meta_path, {"url": DEFAULT_URL, "etag": '"x"', "size": len(body)})
    zoo = cz.open_zoo("timm")
    assert len(zoo) == len(PRETRAINED | FIXTURE_NAMES)
    resnet = zoo.model("timm/resnet50.a1_in1k")
    assert resnet.metrics["top1"] == 81.224 and resnet.num_params == 25_560_000
    assert resnet.license == timm.models.get_pretrained_cfg("resnet50.a1_in1k").license


@pytest.mark.parametrize(
    "name", ["resnet50.a1_in1k", "vit_base_patch16_224.augreg2_in21k_ft_in1k", "convnext_tiny.fb_in22k"]
)
def test_pretrained_config_is_the_installed_timm(monkeypatch, tmp_path, name):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path))
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    cfg = timm.models.get_pretrained_cfg(name)
    entry = cz.open_zoo("timm").model(f"timm/{name}")
    assert entry.repo == cfg.hf_hub_id and entry.license == cfg.license
    assert entry.metrics["img_size"] == cfg.input_size[1] and entry.metrics["num_classes"] == cfg.num_classes
    assert entry.architecture == cfg.architecture and entry.checkpoints[0].name == cfg.tag
    assert str(cfg.mean) in entry.description and str(cfg.std) in entry.description


def test_generated_code_builds_the_model_in_a_fresh_process(monkeypatch, tmp_path):
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    code = cz.open_zoo("timm").load_code("timm/resnet18.a1_in1k")
    assert 'timm.create_model("resnet18.a1_in1k", pretrained=True)' in code
    offline = code.replace("pretrained=True", "pretrained=False")  # the weights cannot be had offline
    check = "\nprint(type(resnet18_a1_in1k).__name__, resnet18_a1_in1k.pretrained_cfg['tag'])\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    result = subprocess.run(
        [sys.executable, "-c", torchvision_ops.PRELUDE + offline + check],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ResNet", "a1_in1k"]


def test_without_an_importable_timm_the_csv_alone_is_listed():
    # A fresh interpreter without the fixture: timm either imports by itself, or the CSV alone opens
    # with one problem saying why.
    code = textwrap.dedent(
        f"""
        import json
        from ckptzoo_widgets.sources import read_source
        loaded = read_source({f"timm:{FIXTURES / 'timm-results.csv'}"!r})
        print(json.dumps([len(loaded.models), [str(p) for p in loaded.problems]]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    count, problems = json.loads(result.stdout)
    if count == 5:
        assert len(problems) == 3 and "timm cannot be imported" in problems[-1] and "CSV only" in problems[-1]
    else:
        assert count == len(PRETRAINED | FIXTURE_NAMES)


def test_csv_over_http_is_cached(monkeypatch, tmp_path):
    from httpserver import FileServer

    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    with FileServer() as server:
        url = server.add("/results.csv", (FIXTURES / "timm-results.csv").read_bytes())
        loaded = read_source(f"timm:{url}")
        assert loaded.models[0].source == f"timm:{url}"
        assert len(loaded.models) == len(PRETRAINED | FIXTURE_NAMES)
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    cached = read_source(f"timm:{url}")  # served from the cache
    assert next(m for m in cached.models if m.id == "timm/resnet50.a1_in1k").metrics["top1"] == 81.224


@pytest.mark.skipif(shared_data_absent(REAL_CSV), reason="../shared/data is absent")
def test_real_results_file():
    models, problems = parse_results(REAL_CSV.read_text("utf-8"), str(REAL_CSV))
    assert problems == []
    assert len(models) == 1266  # 1,556 rows: some names evaluated at several sizes
    assert sum(sum(k.startswith("top1@") for k in m.metrics) for m in models) == 1556
    by_id = {m.id: m for m in models}
    eva = by_id["timm/eva_giant_patch14_560.m30m_ft_in22k_in1k"]
    assert eva.num_params == 1_014_450_000
    multi = [m for m in models if sum(k.startswith("top1@") for k in m.metrics) > 1]
    assert multi and all(
        m.metrics["top1"] == max(v for k, v in m.metrics.items() if k.startswith("top1@")) for m in multi
    )
    zoo = cz.open_zoo(f"timm:{REAL_CSV}")
    csv_names = {m.id.removeprefix("timm/") for m in models}
    assert len(zoo) == len(PRETRAINED | csv_names) and zoo.search("resnet50.a1", limit=5).attrs["total"] >= 1
    assert int(zoo.models["top1"].notna().sum()) == 1266
