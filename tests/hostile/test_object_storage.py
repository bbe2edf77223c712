"""Hostile objects in a bucket: not an index, a cut Parquet file, runs folders with huge objects.

Each case runs in a child under a memory and a time limit (`run_bounded`)
against the real S3 API server of the tests (moto on 127.0.0.1); the server's
own count of the bytes it sent shows what a capped read really fetched.
"""

from __future__ import annotations

import json
import os

import pytest
from fixtures.object_zoos import make_runs, upload

from ckptzoo_widgets.index.parquet_write import write_parquet
from ckptzoo_widgets.schema import ModelEntry

from .bounded import run_bounded

pytest.importorskip("s3fs")

OPEN = """
import ckptzoo_widgets as cz
zoo = cz.open_zoo(URL)
print("models", len(zoo))
for error in zoo.errors:
    print("problem", error)
if MODEL:
    zoo.model(MODEL)
"""


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def one_line_error(result, *words: str) -> None:
    assert result.raised("ZooError"), (result.error_type, result.message, result.stderr[-2000:])
    assert "Traceback" not in (result.message or "") and "\n" not in (result.message or "")
    for word in words:
        assert word in result.message


@pytest.mark.parametrize(
    "key, body, words",
    [
        ("z/index.parquet", os.urandom(200_000), ("not a readable Parquet file",)),
        ("z/index.parquet", b"PAR1" + b"\0" * 5000 + b"PAR1", ("not a readable Parquet file",)),
        ("z/index.json", b"<html>not json</html>" * 100, ("z/index.json",)),
        ("z/index.json", json.dumps({"models": []}).encode(), ("not a zoo index",)),
    ],
    ids=["random-bytes", "parquet-magic-only", "html", "json-not-an-index"],
)
def test_an_object_that_is_not_an_index_is_one_line(s3_server, s3_env, fresh_cache, key, body, words) -> None:
    bucket = s3_server.make_bucket()
    url = s3_server.put(bucket, key, body)
    one_line_error(run_bounded(OPEN, URL=url, MODEL="", memory_mb=1024, seconds=60), *words)


def parquet_bytes(tmp_path, count: int = 9000) -> bytes:
    models = [
        ModelEntry.model_validate({"id": f"m{i}", "description": "card " * 50, "checkpoints": [{"name": "final"}]})
        for i in range(count)
    ]
    write_parquet(models, tmp_path / "index.parquet")
    return (tmp_path / "index.parquet").read_bytes()


def test_a_cut_parquet_index_is_one_line(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    data = parquet_bytes(tmp_path)
    bucket = s3_server.make_bucket()
    # cut short: the footer is gone
    one_line_error(run_bounded(OPEN, URL=s3_server.put(bucket, "a/index.parquet", data[: len(data) // 2]), MODEL=""))
    # cut in the middle, footer kept: it names byte ranges the object no longer holds
    footer = int.from_bytes(data[-8:-4], "little") + 8
    cut = data[: len(data) // 3] + data[-footer:]
    one_line_error(run_bounded(OPEN, URL=s3_server.put(bucket, "b/index.parquet", cut), MODEL="m1"))


def test_a_runs_folder_with_huge_objects_is_capped(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    make_runs(tmp_path / "runs")
    readme = tmp_path / "runs" / "mlp" / "README.md"
    readme.write_bytes(b"---\nlicense: mit\n---\n" + b"x" * (8 << 20))  # a card of 8 MiB (the cap is 1 MiB)
    state = tmp_path / "runs" / "bert-sst2" / "trainer_state.json"
    state.write_bytes(b'{"log_history": [' + b"[" * (3 << 20))  # 3 MiB of nesting
    bucket = s3_server.make_bucket()
    upload(s3_server, bucket, tmp_path / "runs", "runs")
    s3_server.reset_counts()
    result = run_bounded(OPEN, URL=f"s3://{bucket}/runs/", MODEL="mlp", memory_mb=1024, seconds=60)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert "models 2" in result.stdout
    assert "README.md: larger than 1.0 MiB; not read" in result.stdout
    assert "trainer_state.json" in result.stdout
    assert s3_server.counts(bucket, "runs/mlp/README.md")["bytes"] < 1 << 20  # refused by its listed size


def test_the_walk_budget_holds_on_object_storage(s3_server, s3_env, fresh_cache, tmp_path) -> None:
    bucket = s3_server.make_bucket()
    for i in range(30):
        s3_server.put(bucket, f"many/run{i:02d}/model.safetensors", b"\0" * 16)
    result = run_bounded(
        """
        from ckptzoo_widgets.sources._folder import Budget, ObjectFolder
        from ckptzoo_widgets.sources.runs import RunsReader
        folder = ObjectFolder(URL, budget=Budget(files=20))
        models, problems = RunsReader(folder.root, URL, folder=folder).read()
        print("problems", [str(p) for p in problems])
        """,
        URL=f"s3://{bucket}/many/",
        seconds=60,
    )
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert "stopped after 20 files" in result.stdout


FLOOD = 200 << 20  # what a GET that ignores Range sends past the object


def small_json_index() -> bytes:
    return json.dumps({"ckptzoo_index": 1, "models": [{"id": "m1", "checkpoints": [{"name": "final"}]}]}).encode()


OPEN_BESIDE_BUILTIN = """
import ckptzoo_widgets as cz
zoo = cz.open_zoo([URL, "builtin"])
print("models", len(zoo))
for error in zoo.errors:
    print("problem", error)
"""


@pytest.mark.parametrize("announce", [False, True], ids=["streamed", "announced"])
@pytest.mark.parametrize("kind", ["json", "parquet"])
def test_an_index_read_is_cut_at_its_size_while_the_body_streams(
    s3_server, s3_env, fresh_cache, tmp_path, kind, announce
) -> None:
    # HEAD says a few kB; every GET ignores Range and sends 200 MiB more (with or without a length).
    key = f"flood/index.{kind}"
    data = small_json_index() if kind == "json" else parquet_bytes(tmp_path, count=20)
    assert len(data) < 20_000
    bucket = s3_server.make_bucket()
    url = s3_server.put(bucket, key, data)
    s3_server.behave(bucket, key, flood=FLOOD, announce=announce)
    s3_server.reset_counts()
    result = run_bounded(OPEN_BESIDE_BUILTIN, URL=url, memory_mb=1024, seconds=60)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem") and key in line]
    assert len(problems) == 1 and "sent more than" in problems[0], result.stdout
    assert "models 0" not in result.stdout  # the built-in zoo beside it opened
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 400, result.peak_rss_mb
    assert s3_server.counts(bucket, key)["bytes"] < 64 << 20  # cut while streaming, not after 200 MiB


def test_a_runs_folder_file_whose_get_ignores_range_is_that_files_problem(
    s3_server, s3_env, fresh_cache, tmp_path
) -> None:
    make_runs(tmp_path / "runs")
    bucket = s3_server.make_bucket()
    upload(s3_server, bucket, tmp_path / "runs", "runs")
    s3_server.behave(bucket, "runs/mlp/README.md", flood=FLOOD)
    s3_server.reset_counts()
    result = run_bounded(OPEN, URL=f"s3://{bucket}/runs/", MODEL="mlp", memory_mb=1024, seconds=60)
    assert result.ok, (result.error_type, result.message, result.stderr[-2000:])
    assert "models 2" in result.stdout
    assert "README.md" in result.stdout and "sent more than" in result.stdout
    assert result.peak_rss_mb is not None and result.peak_rss_mb < 400, result.peak_rss_mb
    assert s3_server.counts(bucket, "runs/mlp/README.md")["bytes"] < 64 << 20
