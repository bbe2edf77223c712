"""`ckptzoo index publish` and `ckptzoo index build` with object storage on either side, against moto on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.object_zoos import make_runs, upload

import ckptzoo_widgets as cz

pytest.importorskip("s3fs")


def ckptzoo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ckptzoo_widgets.cli", *args], capture_output=True, text=True)


def objects(s3_server, bucket: str) -> dict[str, tuple[str, object]]:
    """key -> (ETag, LastModified) of every object in the bucket."""
    listing = s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: (item["ETag"], item["LastModified"]) for item in listing}


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_publish_a_runs_folder_then_again_uploads_nothing(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    make_runs(tmp_path / "runs")
    bucket = s3_server.make_bucket()
    dest = f"s3://{bucket}/course/zoo/"

    first = ckptzoo("index", "publish", str(tmp_path / "runs"), dest)
    assert first.returncode == 0, first.stderr
    assert "2 model(s); uploaded 4 file(s)" in first.stdout and "0 already there" in first.stdout
    stored = objects(s3_server, bucket)
    assert set(stored) == {
        "course/zoo/index.parquet",
        "course/zoo/SHA256SUMS",
        "course/zoo/bert-sst2/checkpoint-500/model.safetensors",
        "course/zoo/bert-sst2/checkpoint-1000/model.safetensors",
        "course/zoo/mlp/epoch1.safetensors",
        "course/zoo/mlp/epoch2.safetensors",
    }
    sums = s3_server.client().get_object(Bucket=bucket, Key="course/zoo/SHA256SUMS")["Body"].read().decode()
    local = tmp_path / "runs" / "mlp" / "epoch1.safetensors"
    assert f"{hashlib.sha256(local.read_bytes()).hexdigest()}  mlp/epoch1.safetensors" in sums

    # the published zoo opens from the bucket, each file named where it now lies, with its sha256
    zoo = cz.open_zoo(dest + "index.parquet")
    assert sorted(zoo.models["id"]) == ["bert-sst2", "mlp"]
    model = zoo.model("mlp")
    file = model.checkpoint("epoch1").files[0]
    assert model.locate(file) == f"s3://{bucket}/course/zoo/mlp/epoch1.safetensors"
    assert file.sha256 == hashlib.sha256(local.read_bytes()).hexdigest() and file.size == local.stat().st_size

    time.sleep(1.1)  # LastModified has one-second resolution: a re-upload would show
    second = ckptzoo("index", "publish", str(tmp_path / "runs"), dest)
    assert second.returncode == 0, second.stderr
    assert "uploaded 0 file(s)" in second.stdout and "4 already there" in second.stdout
    assert objects(s3_server, bucket) == stored  # not one object written again, the index included

    # a changed file is uploaded again, and only that one
    local.write_bytes(local.read_bytes() + b"\0")
    third = ckptzoo("index", "publish", str(tmp_path / "runs"), dest)
    assert "uploaded 1 file(s)" in third.stdout and "3 already there" in third.stdout
    after = objects(s3_server, bucket)
    changed = {key for key in after if after[key] != stored[key]}
    assert changed == {"course/zoo/mlp/epoch1.safetensors", "course/zoo/SHA256SUMS", "course/zoo/index.parquet"}


def test_publish_an_index_keeps_web_files_as_urls_and_refuses_a_bad_file(
    s3_server, s3_env, fresh_cache, tmp_path
) -> None:
    from indexes import good_index

    document = good_index(tmp_path)
    document["models"][0]["checkpoints"][1]["files"].append({"url": "https://example.org/w.safetensors"})
    (tmp_path / "index.json").write_text(json.dumps(document))
    bucket = s3_server.make_bucket()
    done = ckptzoo("index", "publish", str(tmp_path / "index.json"), f"s3://{bucket}/z", "--format", "json")
    assert done.returncode == 0, done.stderr
    zoo = cz.open_zoo(f"s3://{bucket}/z/index.json")
    files = zoo.model("team/alpha").checkpoint("step-100").files
    assert [f.url for f in files] == [None, "https://example.org/w.safetensors"]

    (tmp_path / "files" / "tiny.safetensors").write_bytes(b"changed after the index was written")
    other = s3_server.make_bucket()
    refused = ckptzoo("index", "publish", str(tmp_path / "index.json"), f"s3://{other}/z")
    assert "do not match the index's sha256" in refused.stderr
    assert "files/tiny.safetensors" not in {key.split("/", 1)[1] for key in objects(s3_server, other)}


def test_build_runs_on_s3_into_an_index_on_s3(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    make_runs(tmp_path / "runs")
    bucket = s3_server.make_bucket()
    upload(s3_server, bucket, tmp_path / "runs", "runs")
    out = f"s3://{bucket}/zoo/index.parquet"
    done = ckptzoo("index", "build", f"s3://{bucket}/runs/", "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"{out}: 2 model(s), 4 checkpoint(s), 4 file(s)" in done.stdout
    zoo = cz.open_zoo(out)
    model = zoo.model("bert-sst2")
    file = model.checkpoint("checkpoint-1000").files[0]
    weights = tmp_path / "runs" / "bert-sst2" / "checkpoint-1000" / "model.safetensors"
    assert file.url == f"s3://{bucket}/runs/bert-sst2/checkpoint-1000/model.safetensors"  # outside the index's folder
    assert file.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()

    inside = ckptzoo("index", "build", f"s3://{bucket}/runs/", "-o", f"s3://{bucket}/runs/index.json")
    assert inside.returncode == 0, inside.stderr
    again = cz.open_zoo(f"s3://{bucket}/runs/")  # the folder now holds an index: it is read, not the runs
    entry = again.model("mlp").checkpoint("epoch2").files[0]
    assert entry.path == "mlp/epoch2.safetensors"
    assert again.model("mlp").locate(entry) == f"s3://{bucket}/runs/mlp/epoch2.safetensors"

    local = ckptzoo("index", "build", str(tmp_path / "runs"), "-o", out)
    assert local.returncode == 2 and "ckptzoo index publish" in local.stderr
