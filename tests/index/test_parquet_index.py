"""Parquet indexes: column projection, convert JSON <-> Parquet, snapshots of any source (issue 9 items 2, 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.fake_hub import FakeHub
from indexes import good_index, write_index

import ckptzoo_widgets as cz
from ckptzoo_widgets.cli import main
from ckptzoo_widgets.index.parquet_index import ParquetIndex

FIXTURES = Path(__file__).parents[1] / "fixtures"


def converted(tmp_path: Path, document: dict | str) -> tuple[Path, Path]:
    source = write_index(tmp_path, document)
    out = tmp_path / "zoo.parquet"
    assert main(["index", "convert", str(source), "-o", str(out)]) in (0, 2)
    return source, out


def test_parquet_zoo_is_the_same_zoo_as_its_json(tmp_path):
    source, out = converted(tmp_path, good_index(tmp_path))
    from_json, from_parquet = cz.open_zoo(str(source)), cz.open_zoo(str(out))
    assert from_parquet.models.drop(columns="source").equals(from_json.models.drop(columns="source"))
    assert from_parquet.model("team/alpha").description == from_json.model("team/alpha").description
    assert from_parquet.checkpoints("team/alpha").equals(from_json.checkpoints("team/alpha"))
    for query in ["alpha", "vision", "tiny", "be"]:
        assert list(from_parquet.search(query)["id"]) == list(from_json.search(query)["id"]), query
    # files resolve against the Parquet file's folder and download verified
    [path] = from_parquet.download("team/alpha@step-100", quiet=True)
    assert path.read_bytes() == (tmp_path / "files" / "tiny.safetensors").read_bytes()


def test_opening_reads_no_card_and_no_entry(tmp_path, monkeypatch):
    _, out = converted(tmp_path, good_index(tmp_path))
    asked: list[str] = []
    real_group, real_read = pq.ParquetFile.read_row_group, pq.ParquetFile.read

    def spy_group(self, i, columns=None, **kwargs):
        asked.extend(columns or ["<all>"])
        return real_group(self, i, columns=columns, **kwargs)

    def spy_read(self, columns=None, **kwargs):
        asked.extend(columns or ["<all>"])
        return real_read(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy_group)
    monkeypatch.setattr(pq.ParquetFile, "read", spy_read)
    zoo = cz.open_zoo(str(out))
    zoo.search("", task="text-generation", sort="-acc")
    zoo.search("al")  # shorter than a card word prefix: ids, names, tags only
    assert asked and not {"description", "entry", "card_words", "<all>"} & set(asked)
    assert list(zoo.search("tiny")["match"]) == ["card"]  # the word index reads card_words, once
    assert "card_words" in asked and "entry" not in asked  # (and the snippet that card's text)
    zoo.model("beta")
    assert {"entry", "description"} <= set(asked)


def test_convert_round_trip_json_parquet_json(tmp_path):
    document = good_index(tmp_path)
    _, out = converted(tmp_path, document)
    back = tmp_path / "back.json"
    assert main(["index", "convert", str(out), "-o", str(back)]) == 0
    again = json.loads(back.read_text())
    assert again["ckptzoo_index"] == 1 and again["name"] == "test zoo"
    original = {m.id: m.model_dump() for m in cz.open_zoo(str(tmp_path / "index.json"))}
    assert {m["id"]: cz.ModelEntry.model_validate(m).model_dump() for m in again["models"]} == original


def test_convert_reports_bad_entries_as_validate_does(tmp_path, capsys):
    document = good_index(tmp_path)
    document["models"][1]["id"] = "bad id"
    document["models"].append({"id": "no-checkpoints", "checkpoints": []})
    document["models"].append(dict(document["models"][0]))  # a duplicate id
    source = write_index(tmp_path, document)
    main(["validate", str(source)])
    validate_lines = set(capsys.readouterr().out.splitlines())
    assert main(["index", "convert", str(source), "-o", str(tmp_path / "z.parquet")]) == 0
    captured = capsys.readouterr()
    problems = set(captured.err.splitlines())
    assert len(problems) == 3 and problems == {line for line in validate_lines if "models[" in line}
    assert "1 model(s)" in captured.out and "3 problem(s)" in captured.out
    assert list(cz.open_zoo(str(tmp_path / "z.parquet")).models["id"]) == ["team/alpha"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "not a zoo index"),
        ('{"ckptzoo_index": 7, "models": []}', "version"),
        ('{"ckptzoo_index": 1, "models": [', "not valid JSON"),
        ('{"models": []}', "no 'ckptzoo_index'"),
    ],
)
def test_convert_of_a_file_that_is_not_an_index_is_one_clear_error(tmp_path, capsys, text, message):
    source = write_index(tmp_path, text, "bad.json")
    assert main(["index", "convert", str(source), "-o", str(tmp_path / "out.parquet")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob(".*tmp"))


def test_convert_streams_a_large_json_in_bounded_memory(tmp_path):
    # ~90 MB of JSON: json.loads alone would hold ~1 GB of objects; the stream holds a batch
    card = "A model card line with words to index. " * 50
    models = [
        {
            "id": f"org{i % 97}/model-{i}",
            "description": card,
            "tags": ["t1", "t2"],
            "checkpoints": [{"name": f"step{s}", "step": s, "metrics": {"acc": s / 10}} for s in range(4)],
        }
        for i in range(40_000)
    ]
    source = tmp_path / "big.json"
    source.write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    del models
    from hostile.bounded import run_bounded

    result = run_bounded(
        """
        from ckptzoo_widgets.writers.convert import convert
        done = convert(SOURCE, OUT, report=print)
        peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
        print("rows", done.models, "peak_mb", int(peak) // 1024)
        """,
        memory_mb=4096,  # the limit is not the test: the peak is
        seconds=300,
        SOURCE=str(source),
        OUT=str(tmp_path / "big.parquet"),
    )
    assert result.ok, result.message
    assert "rows 40000" in result.stdout
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, kept across exec)
    peak = int(result.stdout.split("peak_mb")[1])
    assert peak < 600, peak  # json.load of this file alone takes ~1 GB
    assert len(cz.open_zoo(str(tmp_path / "big.parquet"))) == 40_000


def test_index_build_snapshots_the_hub_for_offline_search(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    answers = json.loads((FIXTURES / "hub" / "answers.json").read_text())
    infos = {m["id"]: m for m in answers["models"] if isinstance(m, dict) and isinstance(m.get("id"), str)}
    out = tmp_path / "hub.parquet"
    with FakeHub(answers["models"], answers["refs"], infos, answers["readmes"]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        live = cz.open_zoo("hf:author=EleutherAI")
        assert main(["index", "build", "hf:author=EleutherAI", "-o", str(out)]) == 0
        listed = list(live.search("")["id"])
        model_id = listed[0]
        live_checkpoints = [c.name for c in live.model(model_id).checkpoints]
    # the Hub is gone: the snapshot opens and answers the same
    snapshot = cz.open_zoo(str(out))
    assert list(snapshot.models["id"]) == listed and len(snapshot) >= 2
    assert [c.name for c in snapshot.model(model_id).checkpoints] == live_checkpoints
    assert snapshot.load_code(f"{model_id}@main") == live.load_code(f"{model_id}@main")


def test_index_build_merges_several_sources(tmp_path, capsys):
    document = good_index(tmp_path)
    source = write_index(tmp_path, document)
    out = tmp_path / "merged.json"
    assert main(["index", "build", "builtin", str(source), "-o", str(out)]) == 0
    ids = [m["id"] for m in json.loads(out.read_text())["models"]]
    assert {"digits-mlp", "team/alpha", "beta"} <= set(ids)
    zoo = cz.open_zoo(str(out))
    # the local file of team/alpha is named relative to the snapshot and still verifies
    assert zoo.download("team/alpha@step-100", quiet=True)[0].read_bytes().startswith(b"not really")


def test_old_parquet_layout_still_opens(tmp_path):
    import pyarrow as pa

    row = {"id": "old", "checkpoints": json.dumps([{"name": "final"}]), "tags": json.dumps(["x"])}
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "old.parquet")
    zoo = cz.open_zoo(str(tmp_path / "old.parquet"))
    assert list(zoo.models["id"]) == ["old"] and zoo.model("old").tags == ["x"]


def test_import_is_light():
    code = "import sys, ckptzoo_widgets; print(sorted({'pandas', 'pyarrow', 'polars', 'pydantic'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_parquet_index_is_a_part_without_entries(tmp_path):
    _, out = converted(tmp_path, good_index(tmp_path))
    index = ParquetIndex(str(out), source=str(out), label="zoo", base=str(tmp_path))
    assert index.grid.num_rows == 2 and "entry" not in index.grid.schema.names
    assert index.entry(0).id == "team/alpha" and index.entry(0).base == str(tmp_path)
