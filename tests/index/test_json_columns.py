"""A JSON index opened as columns gives what the exact path gives: the same grid, problems and entries.

The columnar path (index/json_columns.py) checks the index rules on Arrow
columns and sends every entry it cannot prove valid to pydantic. Here both
paths read the same files, good and bad entries mixed, and must agree on
everything the catalog shows.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.catalog.parts import EntriesPart
from ckptzoo_widgets.index import json_columns
from ckptzoo_widgets.index.json_columns import read_json_columns
from ckptzoo_widgets.schema import parse_index_text

SHA = "ab" * 32


def model(i: int) -> dict:
    """A valid entry, varied by `i` (metrics on the model or on its checkpoints, key orders, files)."""
    checkpoints = [
        {
            "name": f"step{s}",
            "step": s * 100,
            "epoch": s / 2,
            "metrics": {"loss": 1.0 / (s + 1), "acc": 0.5 + s / 10} if i % 2 else {"acc": 0.4 + s / 20, "f1": 0.3},
            "files": [{"url": f"https://example.org/m{i}/step{s}.safetensors", "sha256": SHA, "size": 1000 + s}]
            if s % 2
            else [{"path": f"weights/m{i}/step{s}.pt", "format": "pytorch"}],
        }
        for s in range(1 + i % 4)
    ]
    entry: dict = {"id": f"team{i % 7}/model-{i}", "checkpoints": checkpoints, "description": f"Card {i}: résumé"}
    if i % 3:
        entry["name"] = f"Model {i}" if i % 5 else ""
        entry["tags"] = ["vision", f"t{i % 4}"]
        entry["task"], entry["license"] = "image-classification", "mit"
    if i % 4 == 1:
        entry["metrics"] = {"top5": 0.9, "acc": i / 1000}
    if i % 6 == 2:
        entry["headline_metric"] = "acc"
    if i % 8 == 3:
        entry["default_checkpoint"] = checkpoints[0]["name"]
    if i % 9 == 4:
        entry["num_params"], entry["created"] = i * 1000, "2024-01-02"
    if i % 10 == 5:
        entry["curves"] = {"loss": [[0, 1.0], [10, 0.5]]}
    return entry


# (where, value): one rule each; a `None` value removes the key
MUTATIONS = [
    (("id",), "bad id!"),
    (("id",), "a..b"),
    (("id",), "x" * 97),
    (("id",), None),
    (("name",), "n" * 201),
    (("license",), "é" * 201),
    (("tags",), ["ok", "t" * 201]),
    (("repo",), "not a repo id"),
    (("num_params",), -1),
    (("num_params",), 2**53),
    (("created",), "c" * 41),
    (("description",), "d" * 200_001),
    (("default_checkpoint",), "nope"),
    (("default_checkpoint",), "bad name"),
    (("metrics",), {"bad metric name": 1.0}),
    (("metrics",), {"other": "high"}),
    (("metrics",), {"flag": True}),
    (("extra_field",), 1),
    (("checkpoints",), []),
    (("checkpoints", 0, "name"), "a--b"),
    (("checkpoints", 0, "step"), -5),
    (("checkpoints", 0, "epoch"), 1e300),
    (("checkpoints", 0, "date"), "d" * 41),
    (("checkpoints", 0, "notes"), "n" * 2001),
    (("checkpoints", 0, "revision"), "a//b"),
    (("checkpoints", 0, "revision"), "main/"),
    (("checkpoints", 0, "uri"), "runs:/0123/x"),
    (("checkpoints", 0, "uri"), "models:/m-" + "0" * 32),
    (("checkpoints", 0, "typo"), 1),
    (("checkpoints", 0, "files"), [{"path": "/etc/passwd"}]),
    (("checkpoints", 0, "files"), [{"path": "a/../b"}]),
    (("checkpoints", 0, "files"), [{"path": ".hidden/ok.pt"}]),
    (("checkpoints", 0, "files"), [{"url": "ftp://x/y"}]),
    (("checkpoints", 0, "files"), [{"url": "https://user:pw@host/x"}]),
    (("checkpoints", 0, "files"), [{"url": "HTTPS://Host.org/x"}]),
    (("checkpoints", 0, "files"), [{"url": "https://h/x", "path": "x"}]),
    (("checkpoints", 0, "files"), [{}]),
    (("checkpoints", 0, "files"), [{"url": "https://h/x", "sha256": "ABC"}]),
    (("checkpoints", 0, "files"), [{"url": "https://h/x", "format": "zip"}]),
    (("checkpoints", 0, "files"), [{"url": "https://h/x", "size": -1}]),
    (("checkpoints", 0, "files"), [{"url": "https://h/x", "colour": "red"}]),
    (("checkpoints", 0, "metrics"), {"acc": 2, "f1": 0.5}),
    (("checkpoints",), [{"name": "a"}, {"name": "a"}]),
]


def mutate(entry: dict, where: tuple, value: object) -> dict:
    entry = copy.deepcopy(entry)
    target = entry
    for key in where[:-1]:
        if isinstance(target, list) and key >= len(target):
            return entry  # an earlier mutation emptied the list
        target = target[key]
    if value is None:
        target.pop(where[-1], None)
    else:
        target[where[-1]] = value
    return entry


def corpus(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        entry = model(i)
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            entry = mutate(entry, *rng.choice(MUTATIONS))
        entries.append(entry)
    entries.append(model(3))  # a duplicate id
    return entries


def write_lines(path: Path, entries: list[dict], name: str = "lines") -> bytes:
    """One entry per line, as `ckptzoo index convert` writes."""
    body = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    data = f'{{"ckptzoo_index": 1, "models": [\n{body}\n],\n"name": "{name}"}}\n'.encode()
    path.write_bytes(data)
    return data


@pytest.fixture
def always_columns(monkeypatch):
    monkeypatch.setattr(json_columns, "COLUMNAR_FROM", 0)


def both(data: bytes) -> tuple:
    columns = read_json_columns(data, "zoo.json", source="zoo.json", label="zoo", base="/zoo")
    assert columns is not None, "the columnar path was not taken"
    index, problems = parse_index_text(data, "zoo.json")
    return columns, EntriesPart("zoo.json", "zoo", index.models, problems), index


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_columnar_path_agrees_with_the_exact_one(tmp_path, always_columns, seed):
    entries = corpus(250, seed)
    columns, exact, index = both(write_lines(tmp_path / "zoo.json", entries))
    assert [str(p) for p in columns.problems] == [str(p) for p in exact.problems]
    assert len(exact.problems) > 20  # the corpus has bad entries: the comparison means something
    assert columns.grid.schema.equals(exact.grid.schema)
    assert columns.grid.equals(exact.grid), [
        n for n in exact.grid.column_names if not columns.grid[n].equals(exact.grid[n])
    ]
    assert columns.title == "lines"
    for row in range(0, len(index.models), 7):
        got, want = columns.entry(row), index.models[row]
        assert got.model_dump() == want.model_dump()
        assert (got.source, got.base) == ("zoo.json", "/zoo")
    rows = list(range(len(index.models)))
    assert columns.cards(rows) == exact.cards(rows)
    assert [a.to_pylist() for a in columns.card_words()] == [a.to_pylist() for a in exact.card_words()]


def test_every_mutation_alone_is_reported_as_the_exact_path_reports_it(tmp_path, always_columns):
    entries = [mutate(model(i), where, value) for i, (where, value) in enumerate(MUTATIONS)]
    columns, exact, _ = both(write_lines(tmp_path / "zoo.json", entries))
    assert [str(p) for p in columns.problems] == [str(p) for p in exact.problems]
    assert columns.grid.equals(exact.grid)


def test_open_zoo_takes_the_columnar_path_for_a_large_index(tmp_path):
    entries = [model(i) for i in range(3000)]
    entries[10]["id"] = "bad id"
    write_lines(tmp_path / "zoo.json", entries)
    assert (tmp_path / "zoo.json").stat().st_size > json_columns.COLUMNAR_FROM
    zoo = cz.open_zoo(str(tmp_path / "zoo.json"))
    assert isinstance(zoo._parts[0], json_columns.JsonIndex)
    assert len(zoo) == 2999 and zoo.errors[0].startswith(
        f"{tmp_path / 'zoo.json'}: models[10] (id 'bad id'), field 'id': model id"
    )
    assert zoo.model("team3/model-3").checkpoints[0].files[0].format == "pytorch"
    assert list(zoo.search("model-2999")["id"]) == ["team3/model-2999"]


@pytest.mark.parametrize(
    "layout",
    [
        "one line",  # the whole document on one line
        "null",  # a null somewhere: Arrow cannot tell it from a missing key
        "two per line",
        "float count",  # 5.0 for an int: pydantic's rule, not Arrow's
        "text metric",  # a value whose type differs from the same key's in another entry
    ],
)
def test_other_layouts_open_on_the_exact_path(tmp_path, always_columns, layout):
    entries = [model(i) for i in range(20)]
    if layout == "null":
        entries[3]["description"] = None
    if layout == "float count":
        entries[4]["num_params"] = 5.0
    if layout == "text metric":
        entries[5]["checkpoints"][0]["metrics"]["acc"] = "high"
    data = write_lines(tmp_path / "zoo.json", entries)
    if layout == "one line":
        data = json.dumps({"ckptzoo_index": 1, "models": entries}).encode()
    if layout == "two per line":
        data = data.replace(b"},\n{", b"},{", 1)
    assert read_json_columns(data, "zoo.json", source="zoo.json", label="zoo", base="/zoo") is None
    (tmp_path / "zoo.json").write_bytes(data)
    index, problems = parse_index_text(data, "zoo.json")
    zoo = cz.open_zoo(str(tmp_path / "zoo.json"))
    assert len(zoo) == len(index.models) and len(zoo.errors) == len(problems)


def test_what_index_convert_writes_opens_as_columns(tmp_path, always_columns):
    from ckptzoo_widgets.writers.convert import convert

    write_lines(tmp_path / "in.json", [model(i) for i in range(60)])
    convert(tmp_path / "in.json", tmp_path / "zoo.parquet", report=lambda problem: None)
    convert(tmp_path / "zoo.parquet", tmp_path / "out.json", report=lambda problem: None)
    columns, exact, index = both((tmp_path / "out.json").read_bytes())
    assert len(index.models) == 60 and columns.problems == exact.problems == []
    assert columns.grid.equals(exact.grid) and columns.title == (index.name or "")


def test_cards_that_say_null_still_open_as_columns(tmp_path, always_columns):
    entries = [model(i) for i in range(30)]
    for entry in entries[:10]:
        entry["description"] = "Returns null for nullable inputs; see `x = null`."
    columns, exact, _ = both(write_lines(tmp_path / "zoo.json", entries))
    assert columns.grid.equals(exact.grid) and columns.cards([0])[0].startswith("Returns null")
