"""The browser on a live zoo (`hf:`), kernel side, against the fake Hub of tests/fixtures/generated_hub.py.

What the kernel decides and sends the page: an unknown total with `more`, notes, the range
menu, the pause before a search, where each card came from; the first page asked off the
cell when a loop runs (a silent Hub costs its timeout there, not in the cell); a Hub that
cannot answer is one line and the next query works. Request counts are what the server saw.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("huggingface_hub")

from fixtures.generated_hub import GeneratedHub  # noqa: E402
from fixtures.hub_session import fresh_session  # noqa: E402

from ckptzoo_widgets.sources import hub_client  # noqa: E402
from ckptzoo_widgets.widget import ZooBrowser  # noqa: E402
from ckptzoo_widgets.widget.contract import SEARCH_PAUSE_MS  # noqa: E402


@pytest.fixture(scope="module")
def fake_hub():
    with GeneratedHub() as hub:
        yield hub


@pytest.fixture
def hub(fake_hub, tmp_path, monkeypatch):
    yield from fresh_session(fake_hub, tmp_path, monkeypatch)


def lists(hub: GeneratedHub) -> list[str]:
    return [path for path, _ in hub.api_requests() if path.startswith("/api/models?")]


def ask(browser: ZooBrowser, kind: str, **fields) -> None:
    """A request as the page sends it (a custom message, checked by the kernel)."""
    browser._on_custom_msg(browser, {"request": kind, "seq": 1, **fields}, [])


def test_the_hub_in_the_browser_pages_with_more_and_says_where_cards_came_from(hub):
    browser = ZooBrowser("hf:")
    assert browser.ready and browser.error == ""
    assert browser.total is None and browser.more and len(browser.cards) == 24
    assert {c["from"] for c in browser.cards} == {"hf:"} and all(c["spark"] == [] for c in browser.cards)
    assert browser.search_pause_ms == SEARCH_PAUSE_MS["live"]
    assert [r["key"] for r in browser.ranges] == ["num_params"]
    assert "min:1B,max:7B" in [o["value"] for o in browser.ranges[0]["options"]]
    assert [o["value"] for o in browser.sort_options][:2] == ["", "-downloads"]
    assert "text-generation" in next(f for f in browser.filters if f["key"] == "task")["values"]
    assert len(lists(hub)) == 1  # the first page: one list request (the tag menu is its own, kept a day)
    assert all(not p.startswith("/api/models/") for p, _ in hub.api_requests())  # no model opened for a card
    first = [c["id"] for c in browser.cards]
    ask(browser, "search", limit=48)  # "Load more"
    assert [c["id"] for c in browser.cards][:24] == first and len(browser.cards) == 48
    assert len(lists(hub)) == 1  # rows 25-48 were on the Hub's first page of 50
    ask(browser, "search", query="pythia", num_params="min:1B,max:7B")
    assert browser.total == 8 and not browser.more
    assert all(c["id"].startswith("EleutherAI/pythia-") for c in browser.cards)
    assert "num_parameters=min%3A1B%2Cmax%3A7B" in lists(hub)[-1]


def test_a_local_zoo_keeps_its_count_its_pause_and_no_range_menu():
    browser = ZooBrowser("builtin")
    assert isinstance(browser.total, int) and browser.total > 0 and not browser.more
    assert browser.ranges == [] and browser.search_pause_ms == SEARCH_PAUSE_MS["local"]
    assert all("from" not in c for c in browser.cards)  # one source: the cards need not say


def test_a_merged_zoo_alternates_and_a_failing_hub_is_a_note(hub):
    browser = ZooBrowser(["builtin", "hf:"])
    assert [c["from"] for c in browser.cards[:4]] == ["builtin", "hf:", "builtin", "hf:"]
    assert browser.total is None and browser.more
    hub.fail.append(503)
    ask(browser, "search", query="digits")
    assert {c["from"] for c in browser.cards} == {"builtin"} and browser.error == ""
    assert browser.notes == ["hf:: the Hub answered HTTP 503 (status 503)"]


def test_a_429_is_one_line_and_the_next_query_works(hub):
    browser = ZooBrowser("hf:")
    hub.fail.append((429, {"Retry-After": "12"}))
    ask(browser, "search", query="whisper")
    assert browser.error == "the Hub asks to wait 12 s" and browser.error_kind == "search"
    assert browser.ready and browser.cards == []  # the search box still works
    hub_client._Limits.blocked_until.clear()  # the 12 s are over
    ask(browser, "search", query="clip")
    assert browser.error == "" and len(browser.cards) == 24 and all("clip" in c["id"] for c in browser.cards)


def test_the_first_page_is_asked_off_the_cell_and_a_silent_hub_is_one_line(hub, monkeypatch):
    monkeypatch.setenv("CKPTZOO_HUB_TIMEOUT", "0.5")
    hub.delay = 2.0  # accepts the connection, answers after the client gave up

    async def in_a_kernel() -> ZooBrowser:
        browser = ZooBrowser("hf:")
        opened = (browser.ready, list(browser.cards), browser.loading)
        assert opened == (False, [], True)  # back at once: nothing yet, the controls disabled
        while browser.loading:
            await asyncio.sleep(0.05)
        return browser

    browser = asyncio.run(in_a_kernel())
    assert browser.error == "the Hub did not answer in 0.5 s" and browser.error_kind == "open"
    assert not browser.ready and browser.cards == []
    hub.delay = 0.0

    async def refreshed() -> ZooBrowser:
        browser.refresh()
        while browser.loading or not browser.filters:
            await asyncio.sleep(0.05)
        return browser

    asyncio.run(refreshed())
    assert browser.ready and browser.error == "" and len(browser.cards) == 24


def test_offline_shows_what_was_seen_before_with_a_note(hub, monkeypatch):
    first = ZooBrowser("hf:")
    monkeypatch.setenv("CKPTZOO_HUB_FRESH", "0")  # every answer would be asked again
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("CKPTZOO_OFFLINE", "1")
    again = ZooBrowser("hf:")
    assert [c["id"] for c in again.cards] == [c["id"] for c in first.cards]
    assert again.notes == ["hf:: offline: showing what was seen before"]
