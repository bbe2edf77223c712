"""The index format: validation, per-entry problems, the JSON Schema."""

import json
from pathlib import Path

import jsonschema
import pytest
from indexes import good_index, with_change, write_index

import ckptzoo_widgets as cz
from ckptzoo_widgets.schema import IndexFormatError, json_schema, parse_index, parse_index_text

PACKAGE = Path(cz.__file__).parent


def test_good_index_parses_without_problems(tmp_path):
    index, problems = parse_index(good_index(tmp_path), "t.json")
    assert problems == []
    assert [m.id for m in index.models] == ["team/alpha", "beta"]
    alpha = index.models[0]
    assert alpha.checkpoint().name == "step-100"  # default: the last one
    assert alpha.checkpoints[1].files[0].format == "safetensors"  # from the suffix
    assert alpha.headline == ("acc", 0.8)


@pytest.mark.parametrize(
    "change, field, words",
    [
        (lambda d: d["models"][0].update(id="../evil"), "id", "must start with a letter"),
        (lambda d: d["models"][0].update(id="a--b"), "id", "'..' or '--'"),
        (lambda d: d["models"][0].update(num_params="many"), "num_params", "valid integer"),
        (
            lambda d: d["models"][0]["checkpoints"][1]["files"][0].update(path="/etc/passwd"),
            "checkpoints.1.files.0.path",
            "absolute",
        ),
        (
            lambda d: d["models"][0]["checkpoints"][1]["files"][0].update(path="../../secret"),
            "checkpoints.1.files.0.path",
            "'..'",
        ),
        (
            lambda d: d["models"][0]["checkpoints"][1]["files"][0].update(sha256="abc"),
            "checkpoints.1.files.0.sha256",
            "64 lowercase hexadecimal",
        ),
        (
            lambda d: d["models"][0]["checkpoints"][0]["metrics"].update(acc="high"),
            "checkpoints.0.metrics.acc",
            "valid number",
        ),
        (
            lambda d: d["models"][0]["checkpoints"][0]["metrics"].update(acc=True),
            "checkpoints.0.metrics.acc",
            "not true/false",
        ),
        (lambda d: d["models"][0].update(default_checkpoint="nope"), "", "not one of the checkpoints"),
        (lambda d: d["models"][0].update(checkpoints=[]), "checkpoints", "at least 1"),
        (lambda d: d["models"][0].update(licence="mit"), "licence", "Extra inputs"),
    ],
)
def test_a_bad_entry_is_reported_by_field_and_skipped(tmp_path, change, field, words):
    document = with_change(good_index(tmp_path), change)
    index, problems = parse_index(document, "zoo/index.json")
    assert [m.id for m in index.models] == ["beta"]  # the rest of the zoo still opens
    assert len(problems) == 1
    problem = problems[0]
    assert problem.origin == "zoo/index.json" and problem.entry.startswith("models[0]")
    assert problem.field == field and words in problem.message
    assert str(problem).startswith("zoo/index.json: models[0]")


def test_duplicate_ids_keep_the_first(tmp_path):
    document = with_change(good_index(tmp_path), lambda d: d["models"].append(dict(d["models"][1], license="x")))
    index, problems = parse_index(document, "i.json")
    assert [m.id for m in index.models] == ["team/alpha", "beta"]
    assert index.models[1].license == "apache-2.0"
    assert [(p.entry, p.field) for p in problems] == [("models[2] (id 'beta')", "id")]
    assert "duplicate model id 'beta'" in problems[0].message


@pytest.mark.parametrize(
    "text, words",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a zoo index"),
        ('{"models": []}', "no 'ckptzoo_index'"),
        ('{"ckptzoo_index": 99, "models": []}', "version 99 is not supported"),
        ('{"ckptzoo_index": 1, "models": {}}', "'models' must be a list"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_not_an_index_is_one_clear_error(text, words):
    with pytest.raises(IndexFormatError, match=words) as caught:
        parse_index_text(text, "bad.json")
    assert str(caught.value).startswith("bad.json: ")


def test_shipped_schema_is_current_and_validates_the_builtin_index():
    shipped = json.loads((PACKAGE / "index.schema.json").read_text())
    assert shipped == json_schema(), "regenerate: ckptzoo schema > ckptzoo_widgets/index.schema.json"
    docs_copy = PACKAGE.parent / "docs" / "index.schema.json"
    if docs_copy.exists():
        assert json.loads(docs_copy.read_text()) == shipped
    builtin = json.loads((PACKAGE / "zoo" / "index.json").read_text())
    jsonschema.validate(builtin, shipped)


def test_schema_rejects_what_the_validator_rejects(tmp_path):
    schema = json_schema()
    for change in (
        lambda d: d["models"][0].update(id="a..b"),
        lambda d: d["models"][0]["checkpoints"][1]["files"][0].update(sha256="XYZ"),
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(with_change(good_index(tmp_path), change), schema)


def test_local_paths_resolve_against_the_index_location(tmp_path):
    path = write_index(tmp_path, good_index(tmp_path))
    zoo = cz.open_zoo(str(path))
    model = zoo.model("team/alpha")
    assert model.locate(model.checkpoint().files[0]) == str(tmp_path.resolve() / "files" / "tiny.safetensors")
