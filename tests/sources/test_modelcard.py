"""Model cards: Hub YAML front matter and model-index, on the real sample cards and on bad input."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA, shared_data_absent

from ckptzoo_widgets.sources.modelcard import card_from_metadata, model_index_metrics, read_card

CARDS = SHARED_DATA / "hf-cards"


def test_front_matter_fields_and_model_index():
    card = read_card(
        "---\nlicense: [mit]\ndatasets: beans\ntags: [a, 3, null]\nbase_model: [org/base]\n"
        "library_name: timm\npipeline_tag: image-classification\nmodel-index:\n"
        "- name: m\n  results:\n  - dataset: {type: beans, split: test}\n"
        "    metrics: [{type: accuracy, value: '91.5%'}, {type: f1, value: true}, {type: 'top 1', value: 0.8}]\n"
        "  - dataset: {type: beans, config: x, split: val}\n    metrics: [{type: accuracy, value: 0.7}]\n"
        "---\n# Title\n"
    )
    assert card.fields == {
        "license": "mit",
        "datasets": ["beans"],
        "tags": ["a", "3"],
        "base_model": "org/base",
        "library": "timm",
        "task": "image-classification",
    }
    assert card.metrics == {"beans.accuracy": 91.5, "beans.top_1": 0.8, "beans.x.val.accuracy": 0.7}
    assert any("f1" in p for p in card.problems) and card.body == "# Title\n"


@pytest.mark.parametrize("text", ["---\n- a list\n---\nbody", "---\n{{card_data}}\n---\nbody", "---\nkey: [\n---\n"])
def test_bad_front_matter_is_reported_not_raised(text):
    card = read_card(text)
    assert card.fields == {} and card.problems


def test_odd_values_are_ignored():
    card = card_from_metadata({"license": {"x": 1}, "datasets": 5, "model-index": "nope", "tags": "single"})
    assert card.fields == {"tags": ["single"]} and card.problems == ["model-index is not a list; ignored"]
    assert model_index_metrics([{"results": [{"metrics": [{"type": "acc", "value": 1}]}]}])[0] == {}


@pytest.mark.skipif(shared_data_absent(CARDS), reason="../shared/data is absent")
def test_real_sample_cards():
    def card(name: str):
        return read_card((CARDS / name).read_bytes().decode("utf-8"))

    simple = card("sample_simple_model_index.md")
    assert simple.fields["license"] == "mit" and simple.fields["library"] == "timm"
    assert simple.metrics == {"beans.accuracy": 0.9, "beans.f1": 0.66}
    invalid = card("sample_invalid_model_index.md")
    assert invalid.metrics == {} and invalid.fields["datasets"] == ["beans"]
    assert "no dataset" in invalid.problems[0]
    assert card("sample_no_metadata.md").fields == {} and card("sample_no_metadata.md").body.startswith("# MyCoolModel")
    assert card("sample_windows_line_breaks.md").fields == {"license": "mit"}
    assert "\r" not in card("sample_windows_line_breaks.md").body
    assert card("sample_template.md").problems  # an unfilled template is not YAML
    assert card("sample_simple.md").fields["library"] == "pytorch-lightning"
