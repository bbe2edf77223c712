"""Ranged reads where checkpoints live: the local HTTP server, moto's S3, a Hub with branches.

The servers count the bytes they send; what a statistic costs stays within a small factor of
the physical floor: the header plus the tensors asked for."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from fixtures.branch_hub import BranchHub
from safetensors.numpy import load

import ckptzoo_widgets as cz
from ckptzoo_widgets.decode import WEIGHTS_HEADER_PREFIX
from ckptzoo_widgets.safetensors_check import read_header_from

from .zoos import f32, file_entry, index, safetensors_bytes, stages

SHAPES = {"embed": (256, 512), "layer.0": (512, 256), "layer.0.bias": (256,), "head": (256, 512)}
MiB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))


def files(count: int = 3) -> list[bytes]:
    return [safetensors_bytes({n: f32(v) for n, v in s.items()}) for s in stages(count, SHAPES)]


def floor(data: bytes, names: list[str]) -> int:
    """Header plus the bytes of the tensors named: what any reader has to fetch."""
    import io

    header = read_header_from(io.BytesIO(data), len(data), "x")
    return header.data_start + sum(header.tensors[n].end - header.tensors[n].begin for n in names)


def test_http_reads_the_header_and_the_tensors_asked_for(http_server, tmp_path: Path) -> None:
    datas = files()
    entries = []
    for i, data in enumerate(datas):
        url = http_server.add(f"/w/{i}.safetensors", data)
        entries.append((f"step-{i}", file_entry(data, url=url)))
    (tmp_path / "index.json").write_text(json.dumps(index("remote", entries)))
    frame = cz.compare_weights("remote@step-0", "remote@step-2", str(tmp_path / "index.json"), tensors=["layer.0"])
    a, b = load(datas[0])["layer.0"].astype(np.float64), load(datas[2])["layer.0"].astype(np.float64)
    assert frame.loc[0, "relative"] == pytest.approx(np.linalg.norm(b - a) / np.linalg.norm(a))
    for i in (0, 2):
        sent = sum(e["sent"] for e in http_server.bodies(f"/w/{i}.safetensors"))
        physical = floor(datas[i], ["layer.0"])
        assert physical <= sent <= physical + WEIGHTS_HEADER_PREFIX, (sent, physical)
        assert sent < len(datas[i]) / 2  # the file holds 1.5 MiB; 0.5 MiB asked
        assert all(e["status"] == 206 for e in http_server.bodies(f"/w/{i}.safetensors"))
    assert http_server.bodies("/w/1.safetensors") == []
    # every later read of a file names the first answer's ETag: a file replaced meanwhile is refused
    assert all(e["if_range"] for e in http_server.bodies("/w/0.safetensors")[1:])


def test_a_server_without_ranges_is_one_line_not_a_download(http_server, tmp_path: Path) -> None:
    data = files(1)[0]
    url = http_server.add("/plain.safetensors", data, ranges=False, rate=4 * MiB)
    (tmp_path / "index.json").write_text(json.dumps(index("plain", [("a", file_entry(data, url=url))])))
    with pytest.raises(cz.ZooError) as refused:
        cz.tensor_stats("plain@a", str(tmp_path / "index.json"))
    assert "does not serve byte ranges" in str(refused.value) and "\n" not in str(refused.value)


def test_a_file_replaced_between_reads_is_refused(http_server, tmp_path: Path) -> None:
    old, new = files(2)
    url = http_server.add("/moving.safetensors", old)
    ranges = __import__("ckptzoo_widgets.weights.ranges", fromlist=["open_ranges"]).open_ranges(url)
    ranges.header()
    http_server.resource("/moving.safetensors").set_data(new)
    with pytest.raises(cz.ZooError, match="changed while it was read"):
        ranges.read(1000, 2000)


def test_s3_reads_within_a_small_factor_of_the_floor(s3_server, s3_env, tmp_path: Path) -> None:
    bucket = s3_server.make_bucket()
    datas = files()
    urls = [s3_server.put(bucket, f"w/{i}.safetensors", d) for i, d in enumerate(datas)]
    entries = [(f"step-{i}", file_entry(d, url=url)) for i, (d, url) in enumerate(zip(datas, urls, strict=True))]
    (tmp_path / "index.json").write_text(json.dumps(index("s3model", entries)))
    s3_server.reset_counts()
    frame = cz.weight_changes("s3model", str(tmp_path / "index.json"), tensors=["head", "layer.0.bias"])
    assert set(frame["tensor"]) == {"head", "layer.0.bias"} and len(frame) == 4
    for i, data in enumerate(datas):
        served = s3_server.counts(bucket, f"w/{i}.safetensors")["bytes"]
        physical = floor(data, ["head", "layer.0.bias"])
        assert physical <= served <= physical + WEIGHTS_HEADER_PREFIX + 64 * 1024, (served, physical)
    expected = load(datas[2])["head"].astype(np.float64) - load(datas[1])["head"].astype(np.float64)
    value = frame[(frame.tensor == "head") & (frame.checkpoint == "step-2")]["value"].iloc[0]
    assert value == pytest.approx(np.linalg.norm(expected) / np.linalg.norm(load(datas[1])["head"]), rel=1e-6)


def test_hub_branches_read_by_ranges_and_identical_branches_flagged_without_downloading(
    http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = BranchHub(http_server)
    repo = "lab/tiny"
    datas = files(3)
    hub.add_branch(repo, "step1000", {"config.json": b"{}", "model.safetensors": datas[0]})
    hub.add_branch(repo, "step2000", {"config.json": b"{}", "model.safetensors": datas[1]})
    hub.add_branch(repo, "step3000", {"config.json": b'{"a": 1}', "model.safetensors": datas[2]})
    hub.add_branch(repo, "main", {"config.json": b'{"a": 1}', "model.safetensors": datas[2]})
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    zoo = cz.open_zoo(f"hf:{repo}")
    found = zoo.duplicates(repo)
    assert [(d.checkpoint, d.same_as, d.reason) for d in found] == [("step3000", "main", "same files")]
    assert found[0].describe().startswith("step3000 is identical to main (same file, sha256 ")
    for data in datas:
        assert hub.lfs_gets(data) == []  # no weight file was read, let alone downloaded
    assert not any("/resolve/" in e["path"] for e in http_server.requests())

    frame = cz.weight_changes(repo, zoo, tensors=["layer.0"])
    wide = frame.wide()
    assert list(wide.columns) == ["step1000", "step2000", "step3000", "main"]
    assert wide.loc["layer.0", "main"] == 0  # main is step3000's file: nothing read for that pair
    for data in datas:
        sent = sum(e["sent"] for e in hub.lfs_gets(data))
        assert floor(data, ["layer.0"]) <= sent <= floor(data, ["layer.0"]) + WEIGHTS_HEADER_PREFIX
    sha = hashlib.sha256(datas[2]).hexdigest()
    assert len(hub.lfs_gets(datas[2])) == 2  # header, tensor: read once for step3000 and main
    assert sha in found[0].sha256

    # the widget's detail payload knows it without a request, from the recorded commits
    from ckptzoo_widgets.widget.payload import detail_payload

    seen = len(http_server.requests())
    detail = detail_payload(zoo.model(repo))
    assert detail["duplicates"][0]["text"].startswith("step3000 is identical to main")
    assert {c["name"]: c["identical_to"] for c in detail["checkpoints"]}["step3000"] == "main"
    assert len(http_server.requests()) == seen
