"""Static zoos: `ckptzoo index build`, the index served over HTTP (ETag / Last-Modified, offline), merging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.make_runs import make_runs

import ckptzoo_widgets as cz
from ckptzoo_widgets.cli import main
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.sources import read_source
from ckptzoo_widgets.writers.build import write_index

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def published(tmp_path):
    root = make_runs(tmp_path / "site" / "runs")
    out, document, problems = write_index(root)
    assert out == root / "index.json"
    return root, document, problems


def test_index_build_hashes_and_reads_back(published):
    root, document, problems = published
    assert len(document["models"]) == 7 and len(problems) == 5
    files = [f for m in document["models"] for c in m["checkpoints"] for f in c.get("files", [])]
    assert files and all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files)
    zoo = cz.open_zoo(str(root / "index.json"))
    assert len(zoo) == 7 and zoo.errors == []
    bert = zoo.model("bert-sst2")
    assert bert.checkpoint("checkpoint-200").metrics["eval_accuracy"] == 0.9 and bert.license == "apache-2.0"
    path = zoo.download("bert-sst2@checkpoint-200")[0]
    assert Path(path).read_bytes() == (root / "bert-sst2" / "checkpoint-200" / "model.safetensors").read_bytes()
    # the folder now holds an index: opening it reads the index; "runs:" scans it again
    assert read_source(str(root)).models[0].checkpoints[0].files[0].sha256
    assert read_source(f"runs:{root}").models[0].checkpoints[0].files[0].sha256 is None


def test_index_written_above_the_folder_gets_prefixed_paths(tmp_path):
    root = make_runs(tmp_path / "zoo" / "runs")
    out, document, _ = write_index(root, tmp_path / "zoo" / "index.json")
    first = document["models"][0]["checkpoints"][0]
    assert all(f["path"].startswith("runs/") for f in first.get("files", []))
    with pytest.raises(ZooError, match="inside"):
        write_index(root, tmp_path / "elsewhere" / "index.json")


def test_cli_index_build_json_and_parquet(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    root = make_runs(tmp_path / "runs")
    assert main(["index", "build", str(root), "-o", str(root / "zoo.parquet")]) == 0
    out = capsys.readouterr()
    assert "7 model(s), 15 checkpoint(s)" in out.out and "skipped:" in out.err
    zoo = cz.open_zoo(str(root / "zoo.parquet"))
    assert len(zoo) == 7 and zoo.model("mnist/version_0").checkpoint("last").files[0].sha256
    assert main(["index", "build", str(root), "--format", "json"]) == 0
    assert json.loads((root / "index.json").read_text())["ckptzoo_index"] == 1
    assert main(["index", "build", str(tmp_path / "missing")]) == 2


@pytest.mark.parametrize("etag", [True, False])
def test_http_index_cached_with_etag_or_last_modified(published, cache, monkeypatch, http_server, etag):
    root, _, _ = published
    url = http_server.add_dir("/", root.parent, etag=etag) + "runs/index.json"
    zoo = cz.open_zoo(url)
    assert len(zoo) == 7 and zoo.model("plain").source == url
    again = cz.open_zoo(url)
    assert len(again) == 7
    assert [e["status"] for e in http_server.requests() if e["path"].endswith("index.json")] == [200, 304]
    # files resolve against the index's URL and download verified
    path = zoo.download("plain@epoch3")
    assert {Path(p).read_bytes() for p in path} == {
        (root / "plain" / "epoch3.pt").read_bytes(),
        (root / "plain" / "epoch3.safetensors").read_bytes(),
    }
    http_server.stop()
    # the server is gone: the cached copy still opens, and offline mode never asks
    assert len(cz.open_zoo(url)) == 7
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    assert len(cz.open_zoo(url)) == 7


def test_http_index_changed_on_the_server_is_read_again(published, cache, http_server):
    root, document, _ = published
    url = http_server.add_dir("/", root.parent) + "runs/index.json"
    assert len(cz.open_zoo(url)) == 7
    document["models"] = document["models"][:2]
    (root / "index.json").write_text(json.dumps(document))
    assert len(cz.open_zoo(url)) == 2


def test_http_parquet_index_and_errors(published, cache, monkeypatch, http_server):
    pytest.importorskip("pyarrow")
    root, _, _ = published
    write_index(root, root / "index.parquet")
    base = http_server.add_dir("/", root.parent)
    assert len(cz.open_zoo(base + "runs/index.parquet")) == 7
    with pytest.raises(ZooError, match="404"):
        cz.open_zoo(base + "runs/missing.json")
    http_server.stop()
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    with pytest.raises(ZooError, match="not in the cache"):
        cz.open_zoo(base + "runs/never-seen.json")


def test_merge_sources_ids_unique_and_failures_reported(tmp_path):
    root = make_runs(tmp_path / "runs")
    (root / "digits-mlp").mkdir()
    from fixtures.make_runs import weights

    weights(root / "digits-mlp" / "w.safetensors", 1)  # clashes with the built-in zoo's digits-mlp
    zoo = cz.open_zoo(["builtin", str(root), f"timm:{FIXTURES / 'timm-results.csv'}", str(tmp_path / "nowhere")])
    ids = [m.id for m in zoo]
    # timm: the CSV's 5 names, or every pretrained tag of the installed timm with them when timm imports here
    timm_models = len(read_source(f"timm:{FIXTURES / 'timm-results.csv'}").models)
    assert len(ids) == len(set(ids)) == 3 + 8 + timm_models
    assert "digits-mlp" in ids and "runs.digits-mlp" in ids
    assert zoo.model("runs.digits-mlp").source == str(root) and zoo.model("digits-mlp").source == "builtin"
    assert {m.source for m in zoo} == {"builtin", str(root), f"timm:{FIXTURES / 'timm-results.csv'}"}
    assert any("nowhere" in error and "failed to open" in error for error in zoo.errors)
    assert "safetensors" in zoo.load_code("runs.digits-mlp@w")


def test_widget_shows_a_failing_source(tmp_path):
    pytest.importorskip("anywidget")
    browser = cz.browse(["builtin", str(tmp_path / "nowhere")])
    shown = json.dumps(
        {
            name: getattr(browser, name)
            for name in browser.trait_names()
            if name in ("error", "warnings", "source_label")
        },
        default=str,
    )
    assert "nowhere" in shown
