"""The browser with a keyboard only, and as a screen reader sees it (JupyterLab in Chromium).

The flow a keyboard user takes: `/` to the search box, type, arrow to a card, Enter opens it
with the focus on its selected checkpoint, arrows move between checkpoint rows, Enter inserts
the code, Escape goes back to the card. No mouse. Every interactive element has a name in
Chromium's accessibility tree.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import ckptzoo_widgets as cz

from .harness import cell_sources, notebook_state, run_cell
from .test_widget import SETUP, tid, wait_cards, wait_code_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def zoo():
    return cz.open_zoo()


def focused(page) -> dict[str, Any]:
    """What has the focus: its test id, model id, checkpoint and text."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return {};
            return {testid: el.dataset.testid || null, model: el.dataset.modelId || null,
                    checkpoint: el.dataset.checkpoint || null, tag: el.tagName};
        }"""
    )


def wait_focus(page, **expected: str) -> None:
    """Wait until the focused element has the given data attributes (testid, modelId, checkpoint)."""
    page.wait_for_function(
        """(expected) => {
            const el = document.activeElement;
            return !!el && Object.entries(expected).every(([k, v]) => el.dataset[k] === v);
        }""",
        arg=expected,
    )


def open_browser(server, page, body: str = "browser = cz.browse()\nbrowser") -> None:
    path = server.write_notebook(f"keys-{uuid.uuid4().hex[:8]}", [SETUP + body, "x = 1"])
    server.open_notebook(page, path)
    run_cell(page, 0)
    tid(page, "cz-root").wait_for()


def test_keyboard_only_search_open_arrow_insert_escape(lab_server, page, zoo):
    open_browser(lab_server, page)
    n = len(cell_sources(page))
    # `/` from the notebook (command mode, the widget's cell active) reaches the search box
    page.keyboard.press("Escape")
    tid(page, "cz-root").hover()
    page.keyboard.press("/")
    wait_focus(page, testid="cz-search")
    page.keyboard.type("digits")
    wait_cards(page, ["digits-logreg", "digits-mlp", "digits-cnn"])
    # Tab leaves the search box for the toolbar, then the cards; arrows move between cards
    page.keyboard.press("Shift+Tab")  # back is the header's Refresh: the order follows the reading order
    wait_focus(page, testid="cz-refresh")
    page.keyboard.press("Tab")
    wait_focus(page, testid="cz-search")
    first_card = None
    for _ in range(12):
        page.keyboard.press("Tab")
        f = focused(page)
        if f.get("testid") == "cz-card":
            first_card = f["model"]
            break
    assert first_card == "digits-logreg"
    page.keyboard.press("ArrowRight")
    wait_focus(page, testid="cz-card", modelId="digits-mlp")
    # Enter opens the card; the focus lands on its selected checkpoint row, not on Back
    page.keyboard.press("Enter")
    default = zoo.model("digits-mlp").default_checkpoint
    wait_code_ready(page, f"digits-mlp@{default}")
    wait_focus(page, testid="cz-checkpoint", checkpoint=default)
    names = [c.name for c in zoo.model("digits-mlp").checkpoints]
    # arrows move between checkpoint rows and select each; Home goes to the first
    page.keyboard.press("Home")
    wait_focus(page, testid="cz-checkpoint", checkpoint=names[0])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    wait_focus(page, testid="cz-checkpoint", checkpoint=names[2])
    wait_code_ready(page, f"digits-mlp@{names[2]}")
    page.keyboard.press("ArrowUp")
    wait_focus(page, testid="cz-checkpoint", checkpoint=names[1])
    # Enter inserts that checkpoint's code, at once, even before the kernel answered the move
    page.keyboard.press("Enter")
    page.wait_for_function("(n) => window.jupyterapp.shell.currentWidget.content.model.cells.length === n", arg=n + 1)
    sources = cell_sources(page)
    assert sources[1].strip() == zoo.load_code(f"digits-mlp@{names[1]}").strip()
    state = notebook_state(page)
    assert state["active_index"] == 1 and state["editor_focused"], "the new cell is ready to run"
    # back in the widget: Escape returns to the card that was open
    tid(page, "cz-checkpoint").nth(1).focus()
    page.keyboard.press("Escape")
    wait_focus(page, testid="cz-card", modelId="digits-mlp")
    assert not tid(page, "cz-detail").is_visible()
    assert len(cell_sources(page)) == n + 1, "no key reached the notebook's shortcuts"


def test_tab_order_in_the_detail_follows_the_reading_order(lab_server, page):
    open_browser(lab_server, page, "browser = cz.browse(selected='digits-mlp@epoch-3')\nbrowser")
    wait_code_ready(page, "digits-mlp@epoch-3")
    tid(page, "cz-close").focus()
    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        f = focused(page)
        stops.append(f.get("testid") or f.get("tag"))
    # after Back (and the detail's tabs), the column titles are one stop (arrows move between them),
    # then the checkpoint rows are one stop (the selected row), then what follows them
    assert "cz-ckpt-sort-x" in stops, stops
    i = stops.index("cz-ckpt-sort-x")
    assert stops[i + 1] == "cz-checkpoint", stops
    assert stops.count("cz-checkpoint") == 1 and sum(s.startswith("cz-ckpt-sort") for s in stops) == 1, stops
    assert i <= 3, f"at most Back's neighbours before the table: {stops}"
    assert focused(page)["testid"] != "cz-checkpoint"  # somewhere after the rows
    # the sort headers: arrows move between them
    tid(page, "cz-ckpt-sort-x").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.dataset.testid.startsWith('cz-ckpt-sort-')")
    assert focused(page)["testid"] != "cz-ckpt-sort-x"


# Every interactive element inside the widget, as a CSS selector: what a keyboard or a pointer acts on.
INTERACTIVE = (
    "button, input, select, textarea, summary, a[href], [tabindex], [role=button], [role=checkbox], [data-action]"
)


def accessible_nodes(page) -> list[dict[str, str]]:
    """Each visible interactive element of the widget as Chromium's accessibility tree has it
    (role, name, ignored), read through the DevTools protocol, with the start of its HTML."""
    cdp = page.context.new_cdp_session(page)
    count = page.evaluate(
        """(sel) => {
            const root = document.querySelector('[data-testid="cz-root"]');
            const els = Array.from(root.querySelectorAll(sel)).filter((e) => e.getClientRects().length > 0);
            window.__czProbe = els;
            return els.length;
        }""",
        INTERACTIVE,
    )
    out = []
    for i in range(count):
        obj = cdp.send("Runtime.evaluate", {"expression": f"window.__czProbe[{i}]"})["result"]
        node = cdp.send("Accessibility.getPartialAXTree", {"objectId": obj["objectId"], "fetchRelatives": False})
        ax = node["nodes"][0]
        html = cdp.send(
            "Runtime.callFunctionOn",
            {
                "objectId": obj["objectId"],
                "functionDeclaration": "function () { return this.outerHTML.slice(0, 140); }",
            },
        )["result"]["value"]
        out.append(
            {
                "role": (ax.get("role") or {}).get("value", ""),
                "name": str((ax.get("name") or {}).get("value", "")).strip(),
                "ignored": bool(ax.get("ignored")),
                "html": html,
            }
        )
    cdp.detach()
    return out


def unnamed_controls(page) -> list[dict[str, str]]:
    """Interactive elements that a screen reader cannot name (or does not see at all)."""
    return [n for n in accessible_nodes(page) if not n["name"] or n["ignored"]]


def test_every_control_has_an_accessible_name(lab_server, page):
    open_browser(lab_server, page, "browser = cz.browse(selected='digits-mlp@epoch-3')\nbrowser")
    wait_code_ready(page, "digits-mlp@epoch-3")
    assert unnamed_controls(page) == []
    tid(page, "cz-close").click()
    tid(page, "cz-card").first.wait_for()
    assert unnamed_controls(page) == []
    snapshot = tid(page, "cz-root").aria_snapshot()
    assert 'checkbox "Compare digits-mlp"' in snapshot
    assert 'button "Open Digits MLP (64-32-10)"' in snapshot
