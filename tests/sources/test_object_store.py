"""Zoos on object storage read in place: a real S3 API server (moto) on 127.0.0.1, real s3fs clients.

What each test proves with the server's own count of the bytes it sent
(`tests/s3_server.py`): opening a Parquet index reads its grid columns and not
its cards or entries; a model's card and checkpoints come when it is opened;
a second open with the ETag unchanged reads no body at all, and offline none
is asked for.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.object_zoos import make_runs, upload

import ckptzoo_widgets as cz
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.index.parquet_write import write_parquet
from ckptzoo_widgets.schema import ModelEntry

pytest.importorskip("s3fs")

WORDS = "alpha beta gamma delta vision speech tokens trained checkpoint dataset handwriting digits".split()
STORED = ("description", "card_words", "entry")


def zoo_entries(count: int, seed: int = 1) -> list[ModelEntry]:
    rng = random.Random(seed)
    models = []
    for i in range(count):
        card = " ".join(rng.choice(WORDS) + str(rng.randrange(10_000)) for _ in range(300))  # a long card
        models.append(
            ModelEntry.model_validate(
                {
                    "id": f"team{i % 7}/model-{i}",
                    "name": f"Model {i}",
                    "task": ["image-classification", "text-generation"][i % 2],
                    "library": "safetensors",
                    "tags": [rng.choice(WORDS)],
                    "description": f"# Model {i}\n{card}",
                    "headline_metric": "acc",
                    "checkpoints": [
                        {
                            "name": f"step-{s}",
                            "step": s,
                            "metrics": {"acc": round(rng.random(), 4)},
                            "files": [{"path": f"files/model-{i}/step-{s}.safetensors", "sha256": "ab" * 32}],
                        }
                        for s in (100, 200)
                    ],
                }
            )
        )
    return models


def column_bytes(path: Path) -> dict[str, int]:
    """Compressed bytes of each top-level column of a Parquet file."""
    sizes: dict[str, int] = {}
    metadata = pq.read_metadata(path)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for i in range(row_group.num_columns):
            column = row_group.column(i)
            top = column.path_in_schema.split(".", 1)[0]
            sizes[top] = sizes.get(top, 0) + column.total_compressed_size
    return sizes


@pytest.fixture(scope="module")
def parquet_zoo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zoo") / "index.parquet"
    write_parquet(zoo_entries(6000), path, name="object zoo")
    return path


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CKPTZOO_OFFLINE", raising=False)
    return tmp_path / "cache"


def test_parquet_on_s3_opens_reading_the_grid_only_and_a_model_when_opened(
    s3_server, s3_env, parquet_zoo, fresh_cache
) -> None:
    bucket = s3_server.make_bucket()
    url = s3_server.put(bucket, "zoo/index.parquet", parquet_zoo.read_bytes())
    sizes = column_bytes(parquet_zoo)
    stored = sum(sizes[name] for name in STORED)
    total = parquet_zoo.stat().st_size
    s3_server.reset_counts()

    zoo = cz.open_zoo(url)
    opened = s3_server.counts(bucket, "zoo/index.parquet")
    local = cz.open_zoo(str(parquet_zoo))
    assert len(zoo) == len(local) == 6000
    # The cards column alone holds more than everything opening read: it was not read.
    assert opened["bytes"] < sizes["description"]
    assert opened["bytes"] < total - stored + 64 * 1024  # the grid, the footer, and pyarrow's 64 kB footer probe
    assert opened["ranges"], "reads are ranged"

    # search and paging work on the grid, as they do for the same file on disk
    for query in ("model-12", "team3", ""):
        ours = zoo.search(query, task="text-generation", sort="-acc", limit=10, offset=5)
        theirs = local.search(query, task="text-generation", sort="-acc", limit=10, offset=5)
        assert list(ours["id"]) == list(theirs["id"]) and ours.attrs["total"] == theirs.attrs["total"]

    model = zoo.model("team3/model-10")
    after = s3_server.counts(bucket, "zoo/index.parquet")
    assert model.description.startswith("# Model 10") and model.base == f"s3://{bucket}/zoo/"
    assert after["bytes"] > opened["bytes"]  # the entry and the card of that model's row group came now
    assert list(zoo.checkpoints("team3/model-10")["checkpoint"]) == ["step-100", "step-200"]
    assert model.locate(model.checkpoints[0].files[0]) == f"s3://{bucket}/zoo/files/model-10/step-100.safetensors"
    assert "s3://" in zoo.load_code("team3/model-10@step-100")


def test_unchanged_etag_reuses_the_cached_grid_and_offline_needs_no_server(
    s3_server, s3_env, parquet_zoo, fresh_cache, monkeypatch, tmp_path
) -> None:
    bucket = s3_server.make_bucket()
    key = "zoo/index.parquet"
    url = s3_server.put(bucket, key, parquet_zoo.read_bytes())
    first = cz.open_zoo(url)
    s3_server.reset_counts()

    again = cz.open_zoo(url)
    counted = s3_server.counts(bucket, key)
    assert counted["bytes"] == 0 and counted["requests"] <= 1  # one HEAD: the ETag
    assert list(again.search("delta", limit=20)["id"]) == list(first.search("delta", limit=20)["id"])
    assert again.model("team1/model-8").name == "Model 8"  # the file is opened when a model is

    listed = json.loads(cz_cli(["cache", "ls", "--json"]))
    (item,) = [item for item in listed["indexes"] if item["url"] == url]
    body = Path(item["path"])
    kept = sum(p.stat().st_size for p in body.with_suffix(".parts").iterdir())
    assert kept > 0 and item["size"] == body.stat().st_size + kept  # the row groups kept count with the grid

    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    s3_server.reset_counts()
    offline = cz.open_zoo(url)
    assert len(offline) == 6000 and s3_server.counts(bucket, key)["requests"] == 0
    assert offline.model("team1/model-8").name == "Model 8"  # its row group was read online: kept
    with pytest.raises(ZooError, match="offline"):
        offline.model("team2/model-5000")  # another row group, never read
    assert s3_server.counts(bucket, key)["requests"] == 0
    (parts,) = (fresh_cache / "indexes").glob("*.parts")
    assert sorted(p.name for p in parts.iterdir()) == ["0.description.arrow", "0.entry.arrow"]
    monkeypatch.delenv("CKPTZOO_OFFLINE")

    # a new index under the same key: a new ETag, read again
    smaller = tmp_path / "smaller.parquet"
    write_parquet(zoo_entries(50, seed=2), smaller)
    s3_server.put(bucket, key, smaller.read_bytes())
    newer = cz.open_zoo(url)
    assert len(newer) == 50 and not parts.exists()  # what was kept belonged to the old version
    newer.model(newer.models["id"].iloc[3])
    assert any(parts.iterdir())

    cz_cli(["cache", "prune", "--all"])
    indexes = fresh_cache / "indexes"
    assert not indexes.exists() or not any(indexes.iterdir())  # the grid, its record, the kept row groups
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    with pytest.raises(ZooError, match="not in the cache"):
        cz.open_zoo(url)


def cz_cli(args: list[str]) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ckptzoo_widgets.cli", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_index_and_a_folder_holding_one(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    bucket = s3_server.make_bucket()
    document = {
        "ckptzoo_index": 1,
        "name": "json on s3",
        "models": [m.model_dump(mode="json", exclude_none=True) for m in zoo_entries(3)],
    }
    url = s3_server.put(bucket, "course/index.json", json.dumps(document).encode())
    zoo = cz.open_zoo(url)
    assert sorted(zoo.models["id"]) == ["team0/model-0", "team1/model-1", "team2/model-2"]
    model = zoo.model("team1/model-1")
    assert model.locate(model.checkpoints[1].files[0]) == f"s3://{bucket}/course/files/model-1/step-200.safetensors"
    assert len(cz.open_zoo(f"s3://{bucket}/course/")) == 3  # the folder's index.json
    assert len(cz.open_zoo(f"s3://{bucket}/course")) == 3


def test_a_large_json_index_opens_as_columns_from_s3_as_from_disk(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    from ckptzoo_widgets.index.json_columns import COLUMNAR_FROM, JsonIndex

    entries = [m.model_dump(mode="json", exclude_none=True) for m in zoo_entries(400)]
    entries[5]["id"] = "bad id"  # refused by the id rule
    entries[9]["id"] = entries[8]["id"]  # a duplicate
    entries[12]["checkpoints"] = []  # no checkpoint
    entries[20]["checkpoints"][0]["step"] = -1  # a negative step
    lines = ",\n".join(json.dumps(e) for e in entries)  # one entry per line, as `ckptzoo index convert` writes
    data = f'{{"ckptzoo_index": 1, "models": [\n{lines}\n],\n"name": "lines on s3"}}\n'
    assert len(data) > COLUMNAR_FROM
    (tmp_path / "index.json").write_text(data)
    bucket = s3_server.make_bucket()
    url = s3_server.put(bucket, "big/index.json", data.encode())

    remote, local = cz.open_zoo(url), cz.open_zoo(str(tmp_path / "index.json"))
    assert isinstance(local._parts[0], JsonIndex)
    assert isinstance(remote._parts[0], JsonIndex)  # the columnar path, as from disk
    assert remote._parts[0].title == local._parts[0].title == "lines on s3"
    assert len(remote) == len(local) == 396
    assert remote.models.drop(columns="source").equals(local.models.drop(columns="source"))
    assert len(local.errors) == 4
    assert [e.replace(url, "INDEX") for e in remote.errors] == [
        e.replace(str(tmp_path / "index.json"), "INDEX") for e in local.errors
    ]
    for model_id in ("team1/model-1", "team0/model-399"):
        ours, theirs = remote.model(model_id), local.model(model_id)
        assert ours.model_dump() == theirs.model_dump()
        file = ours.checkpoints[0].files[0]
        assert ours.locate(file) == f"s3://{bucket}/big/{file.path}"


def test_runs_folder_read_in_place_matches_the_same_folder_on_disk(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    make_runs(tmp_path / "runs")
    bucket = s3_server.make_bucket()
    upload(s3_server, bucket, tmp_path / "runs", "runs")
    remote = cz.open_zoo(f"s3://{bucket}/runs/")
    local = cz.open_zoo(str(tmp_path / "runs"))
    assert sorted(remote.models["id"]) == sorted(local.models["id"]) == ["bert-sst2", "mlp"]
    for model_id in ("bert-sst2", "mlp"):
        ours, theirs = remote.model(model_id), local.model(model_id)
        assert ours.model_dump(exclude={"description"}) == theirs.model_dump(exclude={"description"})
    bert = remote.model("bert-sst2")
    assert bert.default_checkpoint == "checkpoint-500" and bert.num_params == 1024 * 1024
    assert remote.model("mlp").license == "mit"
    file = bert.checkpoints[0].files[0]
    assert bert.locate(file) == f"s3://{bucket}/runs/bert-sst2/checkpoint-500/model.safetensors"
    # the parameter count came from the safetensors header: a few ranged reads, not the 4 MiB of weights
    served = s3_server.counts(bucket, "runs/bert-sst2/checkpoint-500/model.safetensors")
    assert 0 < served["bytes"] < 1 << 20 and served["ranges"]


def test_missing_bucket_object_and_storage_options(s3_server, fresh_cache, monkeypatch) -> None:
    for name in list(s3_server.env):
        monkeypatch.delenv(name, raising=False)
    bucket = s3_server.make_bucket()
    entries = [m.model_dump(mode="json", exclude_none=True) for m in zoo_entries(2)]
    url = s3_server.put(bucket, "z/index.json", json.dumps({"ckptzoo_index": 1, "models": entries}).encode())
    options = {"endpoint_url": s3_server.endpoint_url, "key": s3_server.key_id, "secret": s3_server.secret}
    assert len(cz.open_zoo(url, storage_options=options)) == 2
    with pytest.raises(ZooError, match="no such object") as error:
        cz.open_zoo(f"s3://{bucket}/z/nothing.parquet", storage_options=options)
    assert s3_server.secret not in str(error.value) and "\n" not in str(error.value)
