"""timm catalog: one model per pretrained name, every (image size) result kept, best as headline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import SHARED_DATA, shared_data_absent

import ckptzoo_widgets as cz
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.sources import read_source
from ckptzoo_widgets.sources.timm import parse_results

FIXTURES = Path(__file__).parents[1] / "fixtures"
REAL_CSV = SHARED_DATA / "timm" / "results-imagenet.csv"


def test_fixture_csv_models_sizes_and_thousands_separator():
    loaded = read_source(f"timm:{FIXTURES / 'timm-results.csv'}")
    ids = {m.id for m in loaded.models}
    assert ids == {
        "timm/eva_giant_patch14_560.m30m_ft_in22k_in1k",
        "timm/convnextv2_large.fcmae_ft_in22k_in1k",
        "timm/resnet50.a1_in1k",
        "timm/resnet18.tv_in1k",
        "timm/tinynet_e",
    }
    eva = next(m for m in loaded.models if m.id.startswith("timm/eva_giant"))
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


def test_default_source_offline_without_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path))
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    with pytest.raises(ZooError, match="offline"):
        read_source("timm")


def test_csv_over_http_is_cached(monkeypatch, tmp_path):
    from httpserver import FileServer

    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    with FileServer() as server:
        url = server.add("/results.csv", (FIXTURES / "timm-results.csv").read_bytes())
        assert len(read_source(f"timm:{url}").models) == 5
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    assert len(read_source(f"timm:{url}").models) == 5  # served from the cache


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
    assert len(zoo) == 1266 and zoo.search("resnet50.a1", limit=5).attrs["total"] >= 1
