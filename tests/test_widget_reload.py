"""What a reloaded page finds in the kernel: the open model, the selected checkpoint, the
compare set and the insert anchor are the browser's traits, changed only through checked
requests (the page's writes are dropped). The real browser run: tests/browser/test_reload.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.widget.contract import MAX_COMPARE


def ask(browser: Any, **content: Any) -> None:
    """A custom message from the page, as the comm delivers it."""
    browser._on_custom_msg(browser, content, [])


@pytest.fixture
def browser() -> Any:
    return cz.browse()


def test_the_ticks_are_the_kernels(browser: Any) -> None:
    ask(browser, request="compare-set", seq=1, models=["digits-mlp", "digits-cnn", "digits-mlp"])
    assert browser.compare_set == ["digits-mlp", "digits-cnn"]  # in the order ticked, once each
    ask(browser, request="compare-set", seq=2, models=["digits-cnn"])
    assert browser.compare_set == ["digits-cnn"]
    assert browser.error == ""


@pytest.mark.parametrize(
    "models",
    [["not an id!"], ["digits-mlp@epoch-1"], [3], ["digits-mlp"] * (MAX_COMPARE + 1), "digits-mlp"],
)
def test_a_bad_compare_set_changes_nothing(browser: Any, models: Any) -> None:
    ask(browser, request="compare-set", seq=1, models=["digits-mlp"])
    before = browser.rejected_messages
    ask(browser, request="compare-set", seq=2, models=models)
    assert browser.compare_set == ["digits-mlp"]
    assert browser.rejected_messages == before + 1
    assert browser.error_kind == "request"


def test_page_writes_of_the_reload_state_are_dropped(browser: Any) -> None:
    browser.select("digits-mlp@epoch-3")
    anchor = browser.insert_anchor
    browser.set_state({"compare_set": ["digits-cnn"], "insert_anchor": "forged", "selected": "digits-cnn"})
    assert browser.compare_set == []
    assert browser.insert_anchor == anchor
    assert browser.selected == "digits-mlp@epoch-3"
    assert browser.detail["id"] == "digits-mlp"


def test_the_insert_anchor_names_this_browser(browser: Any) -> None:
    other = cz.browse()
    assert browser.insert_anchor and other.insert_anchor
    assert browser.insert_anchor != other.insert_anchor
    assert browser.insert_anchor == browser.model_id  # the widget's model id: the same after a reload


def test_python_sets_the_compare_set_too(browser: Any) -> None:
    browser.compare_set = ["digits-logreg", "digits-mlp"]
    assert browser.get_state("compare_set") == {"compare_set": ["digits-logreg", "digits-mlp"]}
