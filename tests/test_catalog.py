"""Zoo: tables, search, filters, sort (missing last), paging, refs, merging."""

import pandas as pd
import pytest
from indexes import good_index, write_index

import ckptzoo_widgets as cz
from ckptzoo_widgets.catalog import Zoo, parse_ref
from ckptzoo_widgets.schema import ModelEntry


def entry(model_id, **fields):
    checkpoints = fields.pop("checkpoints", [{"name": "final", "metrics": fields.pop("metrics", {})}])
    return ModelEntry.model_validate({"id": model_id, "checkpoints": checkpoints, **fields})


@pytest.fixture
def zoo():
    return Zoo(
        [
            entry(
                "b-model",
                name="Bravo",
                task="t1",
                library="timm",
                license="mit",
                num_params=300,
                metrics={"acc": 0.5},
                tags=["vision"],
            ),
            entry(
                "a-model",
                name="alpha",
                task="t2",
                library="timm",
                license="apache-2.0",
                num_params=None,
                metrics={"acc": 0.9},
                description="A model that reads **Handwriting**.",
            ),
            entry("c-model", name="Charlie", task="t1", library="transformers", num_params=100, metrics={}),
            entry(
                "org/d-model",
                name="delta",
                task="t1",
                library="timm",
                license="mit",
                num_params=200,
                metrics={"acc": 0.7, "loss": 1.5},
            ),
        ],
        sources=["test"],
    )


def test_models_table_has_one_row_per_model_and_metric_columns(zoo):
    table = zoo.models
    assert list(table["id"]) == ["b-model", "a-model", "c-model", "org/d-model"]
    assert {"acc", "loss", "num_params", "headline_value", "num_checkpoints"} <= set(table.columns)
    assert table.loc[table["id"] == "org/d-model", "loss"].item() == 1.5
    assert pd.isna(table.loc[table["id"] == "c-model", "acc"].item())


def test_search_is_case_insensitive_over_id_name_tags_and_card(zoo):
    assert list(zoo.search("BRAVO")["id"]) == ["b-model"]
    assert list(zoo.search("vision")["id"]) == ["b-model"]  # tag
    assert list(zoo.search("handwriting")["id"]) == ["a-model"]  # card text
    assert list(zoo.search("org/")["id"]) == ["org/d-model"]  # id
    assert list(zoo.search("model delta")["id"]) == ["org/d-model"]  # every word must match
    assert zoo.search("no such thing").empty


def test_filters_match_exactly_and_combine(zoo):
    assert set(zoo.search(task="t1", library="timm")["id"]) == {"b-model", "org/d-model"}
    assert list(zoo.search(license="apache-2.0")["id"]) == ["a-model"]
    assert zoo.search(license="unknown").empty


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("acc", ["b-model", "org/d-model", "a-model", "c-model"]),
        ("-acc", ["a-model", "org/d-model", "b-model", "c-model"]),
        ("num_params", ["c-model", "org/d-model", "b-model", "a-model"]),
        ("-num_params", ["b-model", "org/d-model", "c-model", "a-model"]),
        ("name", ["a-model", "b-model", "c-model", "org/d-model"]),  # case-insensitive
        ("-name", ["org/d-model", "c-model", "b-model", "a-model"]),
        ("loss", ["org/d-model", "b-model", "a-model", "c-model"]),  # missing ties broken by row order
    ],
)
def test_sort_puts_missing_values_last_in_both_directions(zoo, sort, expected):
    assert list(zoo.search(sort=sort)["id"]) == expected


def test_paging_returns_only_the_page_and_the_total(zoo):
    page = zoo.search(sort="name", limit=2, offset=1)
    assert list(page["id"]) == ["b-model", "c-model"]
    assert page.attrs["total"] == 4
    assert zoo.search(sort="name", limit=2, offset=4).empty
    assert zoo.search(task="t1", limit=1).attrs["total"] == 3


def test_unknown_sort_column_names_the_column_and_the_choices(zoo):
    with pytest.raises(cz.ZooError, match=r"unknown sort column 'acuracy' \(did you mean acc\?\)"):
        zoo.search(sort="-acuracy")


def test_facets_list_filter_values(zoo):
    assert zoo.facets() == {"task": ["t1", "t2"], "library": ["timm", "transformers"], "license": ["apache-2.0", "mit"]}


def test_refs_and_unknown_refs(zoo):
    assert parse_ref("org/d-model@final") == ("org/d-model", "final")
    assert parse_ref("a-model") == ("a-model", None)
    model, checkpoint = zoo.resolve("a-model")
    assert (model.id, checkpoint.name) == ("a-model", "final")
    with pytest.raises(cz.ZooError, match="unknown model 'a-modle'.*did you mean a-model"):
        zoo.resolve("a-modle@final")
    with pytest.raises(cz.ZooError, match="has no checkpoint 'step-9'; it has: final"):
        zoo.resolve("a-model@step-9")
    for bad in ["../x@y", "a@b@c", "a@", "a@../b", "", 42]:
        with pytest.raises(cz.ZooError, match="reference"):
            parse_ref(bad)


def test_checkpoints_table(tmp_path):
    zoo = cz.open_zoo(str(write_index(tmp_path, good_index(tmp_path))))
    table = zoo.checkpoints("team/alpha")
    assert list(table["checkpoint"]) == ["step-0", "step-100"]
    assert list(table["ref"]) == ["team/alpha@step-0", "team/alpha@step-100"]
    assert table["acc"].tolist() == [0.1, 0.8]
    assert table.loc[1, "size"] == (tmp_path / "files" / "tiny.safetensors").stat().st_size


def test_download_of_a_local_file_verifies_its_hash(tmp_path):
    zoo = cz.open_zoo(str(write_index(tmp_path, good_index(tmp_path))))
    [path] = zoo.download("team/alpha@step-100", quiet=True)
    assert path.read_bytes() == b"not really safetensors, only bytes to hash"
    (tmp_path / "files" / "tiny.safetensors").write_bytes(b"X" * len(path.read_bytes()))
    with pytest.raises(cz.FetchError, match="sha256"):
        cz.open_zoo(str(tmp_path / "index.json")).download("team/alpha@step-100", quiet=True)


def test_merge_keeps_ids_unique_and_reports_failed_sources(tmp_path):
    first = write_index(tmp_path, good_index(tmp_path), "one.json")
    other = tmp_path / "other"
    other.mkdir()
    second = write_index(other, good_index(other))
    zoo = cz.open_zoo([str(first), str(second), str(tmp_path / "missing.json")])
    ids = list(zoo.models["id"])
    assert ids == ["team/alpha", "beta", "other.team/alpha", "other.beta"]
    renamed = zoo.model("other.team/alpha")
    assert renamed.local_id == "team/alpha" and renamed.source == str(second)
    assert "cz.load" not in zoo.load_code("other.beta")  # transformers code names the hub repo
    assert len(zoo.errors) == 1 and "missing.json" in zoo.errors[0] and "failed to open" in zoo.errors[0]
    assert set(zoo.models["source"]) == {str(first), str(second)}


def test_single_failing_source_raises_a_clear_error(tmp_path):
    with pytest.raises(cz.ZooError, match="not a known source"):
        cz.open_zoo(str(tmp_path / "nope"))
    bad = write_index(tmp_path, "{ nope", "bad.json")
    with pytest.raises(cz.ZooError, match="bad.json: not valid JSON"):
        cz.open_zoo(str(bad))
    with pytest.raises(cz.ZooError, match="no source could be opened"):
        cz.open_zoo([str(bad), str(tmp_path / "nope")])


def test_bad_entries_are_skipped_and_reported_when_opening(tmp_path):
    document = good_index(tmp_path)
    document["models"][1]["id"] = "bad id"
    zoo = cz.open_zoo(str(write_index(tmp_path, document)))
    assert list(zoo.models["id"]) == ["team/alpha"]
    assert len(zoo.errors) == 1 and "models[1] (id 'bad id'), field 'id'" in zoo.errors[0]


def test_download_warns_when_a_pickle_would_import_code(tmp_path):
    import collections
    import hashlib
    import json
    import os
    import pickle

    from ckptzoo_widgets.catalog import UnsafePickleWarning

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    payloads = {"clean.pt": collections.OrderedDict(w=[1.0]), "evil.pt": {"w": Evil()}}
    models = []
    for name, payload in payloads.items():
        data = pickle.dumps(payload, protocol=2)
        (tmp_path / name).write_bytes(data)
        models.append(
            {
                "id": name.split(".")[0],
                "checkpoints": [
                    {
                        "name": "final",
                        "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}],
                    }
                ],
            }
        )
    zoo = cz.open_zoo(str(write_index(tmp_path, json.dumps({"ckptzoo_index": 1, "models": models}))))
    with pytest.warns(UnsafePickleWarning, match=r"evil@final: evil.pt: pickle imports posix.system when loaded"):
        zoo.download("evil", quiet=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zoo.download("clean", quiet=True)[0].name == "clean.pt"


# --- relevance, match column, word prefix, query caps (issue 9 item 3, issue 8 finding 10) ---


def ranked_zoo():
    return Zoo(
        [
            entry("zz-card", name="Plain", description="Trained on **lorawan** sensor logs."),
            entry("zz-tag", name="Other", tags=["lora-adapter"]),
            entry("lora-base", name="Base"),
            entry("zz-name", name="LoRA tuned"),
            entry("zz-inside", name="Quiet", description="explora is not a word start"),
        ],
        sources=["test"],
    )


def test_without_sort_id_and_name_rank_above_tags_above_card():
    result = ranked_zoo().search("lora")
    assert list(result["id"]) == ["lora-base", "zz-name", "zz-tag", "zz-card"]
    assert list(result["match"]) == ["id", "name", "tag", "card"]
    assert result.attrs["total"] == 4
    # card text matches by word prefix only ("explora" does not start with "lora")
    assert "zz-inside" not in set(result["id"])


def test_card_only_matches_carry_a_plain_text_snippet():
    result = ranked_zoo().search("lorawan")
    assert list(result["id"]) == ["zz-card"]
    [text] = result["snippet"]
    assert "lorawan" in text and "*" not in text
    assert list(ranked_zoo().search("lora-base")["snippet"]) == [""]


def test_card_words_match_from_the_third_character():
    zoo = ranked_zoo()
    assert "zz-card" not in set(zoo.search("lo")["id"])  # 2 letters: ids, names, tags only
    assert "zz-card" in set(zoo.search("lor")["id"])


def test_a_sort_overrides_relevance(zoo):
    assert list(zoo.search("model", sort="-acc")["id"]) == ["a-model", "org/d-model", "b-model", "c-model"]
    assert set(zoo.search("model")["match"]) == {"id"}


def test_typing_a_longer_query_narrows_the_previous_one_and_gives_the_same_answer(zoo):
    fresh = Zoo(list(zoo), sources=["fresh"])
    for typed in ["m", "mo", "mod", "mode", "model", "model d", "model de"]:
        narrowed = zoo.search(typed)
        assert list(narrowed["id"]) == list(fresh.search(typed)["id"]), typed
        fresh = Zoo(list(zoo), sources=["fresh"])  # no recent queries to narrow from


def test_huge_queries_are_capped_not_run_whole(zoo):
    from ckptzoo_widgets.catalog.search import MAX_QUERY_CHARS, MAX_WORDS, query_words

    words = query_words("delta " * 200_000)  # 1.2 MB: cut at MAX_QUERY_CHARS, repeats dropped
    assert words[0] == "delta" and len(words) <= 2 and "delta".startswith(words[-1])
    many = query_words(" ".join(f"w{i}" for i in range(1000)))
    assert len(many) == MAX_WORDS and sum(map(len, many)) <= MAX_QUERY_CHARS
    assert list(zoo.search("delta " + "x" * 1_000_000)["id"]) == []  # runs, on a bounded prefix
    assert list(zoo.search("delta " * 200_000)["id"]) == ["org/d-model"]


def test_a_value_the_catalog_cannot_hold_does_not_empty_the_zoo():
    # schema caps counts; a reader that still hands over a huge number must not sink the zoo
    good = entry("fine", num_params=5)
    huge = entry("huge", num_params=5).model_copy(update={"num_params": 10**30})
    zoo = Zoo([good, huge], sources=["test"])
    assert list(zoo.models["id"]) == ["fine", "huge"]
    assert pd.isna(zoo.models.loc[1, "num_params"]) and zoo.models.loc[0, "num_params"] == 5
    assert any("num_params" in error for error in zoo.errors)
    assert zoo.search(sort="-num_params").attrs["total"] == 2


def test_models_and_search_come_from_columns():
    import pyarrow as pa

    zoo = ranked_zoo()
    assert isinstance(zoo.table, pa.Table) and zoo.table.num_rows == 5
    assert "description" not in zoo.table.schema.names  # cards stay out of the grid


def test_a_large_zoo_builds_its_word_index_before_the_first_card_query(monkeypatch):
    import threading

    from ckptzoo_widgets.catalog import zoo as zoo_module

    monkeypatch.setattr(zoo_module, "WARM_UP_ROWS", 2)  # "large" for the test
    zoo = ranked_zoo()
    zoo.search("")  # the first page starts the build
    for thread in threading.enumerate():
        if thread.name == "ckptzoo-word-index":
            thread.join(timeout=30)
    assert zoo._text_search is not None and zoo._text_search._words is not None
    assert list(zoo.search("lorawan")["id"]) == ["zz-card"]  # the warm index answers
