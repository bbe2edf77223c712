"""The browser as a class uses it on a projector: nothing clipped at 1024x768
and 1280x800, inserts that keep their order and come into view, `/` from
anywhere in the widget, and a saved notebook that shows something without
its kernel. JupyterLab (file browser open) and Notebook 7.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

import ckptzoo_widgets as cz

from .harness import cell_sources, notebook_cells, run_cell
from .test_widget import SETUP, tid, wait_cards, wait_code_ready

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SIZES = [(1024, 768), (1280, 800)]
KINDS = ["lab", "notebook"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def zoo():
    return cz.open_zoo()


def open_at(server, page, size, body, name, extra_cells=()):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    nb = server.write_notebook(f"{name}-{uuid.uuid4().hex[:8]}", [SETUP + body, *extra_cells])
    server.open_notebook(page, nb)
    if server.kind == "lab":
        # The file browser open beside the notebook, as in a default window.
        page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
        page.wait_for_function("() => !window.jupyterapp.shell.leftCollapsed")
    run_cell(page, 0)
    return nb


CLIPPED_JS = """() => {
    const root = document.querySelector('[data-testid="cz-root"]');
    const wrap = root.querySelector('.cz-table-wrap');
    const box = root.getBoundingClientRect();
    const inner = wrap.getBoundingClientRect();
    const out = [];
    const table = root.querySelector('[data-testid="cz-checkpoints"]');
    const cells = Array.from(table.querySelectorAll('th, td'));
    for (const c of cells) {
        const r = c.getBoundingClientRect();
        if (r.width === 0) continue;
        const left = Math.max(box.left, inner.left) - 0.5;
        const right = Math.min(box.right, inner.right) + 0.5;
        if (r.left < left || r.right > right)
            out.push(c.textContent + ' ' + Math.round(r.left) + '-' + Math.round(r.right));
        // text cut inside its own cell
        if (c.scrollWidth > c.clientWidth + 1) out.push('cut: ' + c.textContent);
    }
    // one scroll: no element inside the widget scrolls vertically on its own, but the list of
    // checkpoints (a pane, so the picked row, its chart point and Insert fit on one screen)
    const panes = Array.from(root.querySelectorAll('*')).filter(e => {
        const s = getComputedStyle(e);
        return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1
            && !e.classList.contains('cz-table-wrap');
    }).map(e => 'scroll pane: ' + e.className);
    const row = root.querySelector('.cz-ckpt.cz-selected').getBoundingClientRect();
    const shown = row.top >= inner.top - 0.5 && row.bottom <= inner.bottom + 0.5;
    return {clipped: out, panes, cells: cells.length, rootWidth: box.width, selectedShown: shown};
}"""


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("kind", KINDS)
def test_nothing_is_clipped(request, kind, size, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    ref = "digits-mlp@epoch-5"
    open_at(server, page, size, f"browser = cz.browse(selected={ref!r})\nbrowser", "layout")
    wait_code_ready(page, ref)
    page.wait_for_timeout(300)  # the resize observer's last fit
    found = page.evaluate(CLIPPED_JS)
    assert found["cells"] > 0
    assert found["clipped"] == [] and found["panes"] == [] and found["selectedShown"], found
    # every checkpoint row is there, and the headline metric column with it
    assert tid(page, "cz-checkpoint").count() == len(zoo.model("digits-mlp").checkpoints)
    assert "Val accuracy" in tid(page, "cz-checkpoints").locator("th").all_inner_texts()
    if kind == "lab" and size == (1024, 768):
        # What the class sees: the whole window, file browser and all.
        tid(page, "cz-root").scroll_into_view_if_needed()
        page.screenshot(path=str(DOCS_IMG / "browser-projector.png"))
    print(f"{kind} {size}: widget {found['rootWidth']:.0f}px wide")


IN_VIEW_JS = """(i) => {
    const nb = window.jupyterapp.shell.currentWidget.content;
    const cell = nb.widgets[i];
    const r = cell.node.getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight - 20 && r.bottom > 0
        && nb.activeCellIndex === i && !!cell.editor && cell.editor.hasFocus();
}"""


@pytest.mark.parametrize("kind", KINDS)
def test_inserts_keep_their_order_and_come_into_view(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    fillers = [f"x{i} = {i}" for i in range(6)]
    open_at(server, page, (1024, 768), "browser = cz.browse(selected='digits-mlp@epoch-1')\nbrowser", "order", fillers)
    n = len(cell_sources(page))
    timings = []
    for i, ckpt in enumerate(["epoch-1", "epoch-5", "epoch-2"]):
        ref = f"digits-mlp@{ckpt}"
        page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{ckpt}"]').click()
        wait_code_ready(page, ref)
        t0 = time.monotonic()
        tid(page, "cz-insert").click()
        page.wait_for_function(IN_VIEW_JS, arg=1 + i)
        timings.append(time.monotonic() - t0)
    sources = cell_sources(page)
    assert len(sources) == n + 3
    expected = [zoo.load_code(f"digits-mlp@{c}").strip() for c in ("epoch-1", "epoch-5", "epoch-2")]
    assert [s.strip() for s in sources[1:4]] == expected, "inserted in the order the user inserted them"
    assert sources[4:] == fillers
    print(f"{kind}: Insert to visible, focused cell: " + ", ".join(f"{t * 1000:.0f} ms" for t in timings))


@pytest.mark.parametrize("kind", KINDS)
def test_slash_focuses_search_from_anywhere_in_the_widget(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    open_at(server, page, (1280, 800), "browser = cz.browse()\nbrowser", "slash", ("y = 1",))
    wait_cards(page, list(zoo.search()["id"]))
    active = "() => document.activeElement && document.activeElement.dataset.testid"
    # a click on plain text in the widget, then "/"
    page.locator(".cz-title").click()
    page.keyboard.press("/")
    assert page.evaluate(active) == "cz-search"
    # focus back on the notebook (command mode), the pointer over the widget
    page.keyboard.press("Escape")
    page.evaluate("() => document.activeElement.blur()")
    tid(page, "cz-status").hover()
    page.keyboard.press("/")
    assert page.evaluate(active) == "cz-search"
    assert tid(page, "cz-search").input_value() == ""
    # typing "/" in a cell editor with the pointer over the widget stays typing
    from .harness import cell_locator

    cell_locator(page, 1).locator(".jp-InputArea-editor").click()
    tid(page, "cz-status").hover()
    page.keyboard.press("End")
    page.keyboard.type(" / 2")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1).sharedModel.getSource() === 'y = 1 / 2'"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_saved_notebook_shows_the_static_view_without_its_kernel(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    ref = "digits-cnn@epoch-2"
    nb = open_at(server, page, (1280, 800), "browser = cz.browse(query='digits')\nbrowser", "saved")
    wait_cards(page, list(zoo.search("digits")["id"]))
    page.locator('[data-testid="cz-card"][data-model-id="digits-cnn"]').click()
    page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{ref.split("@")[1]}"]').click()
    wait_code_ready(page, ref)
    # the live widget hides the static view beside it
    page.wait_for_function(
        "(ref) => { const s = document.querySelector('.cz-static');"
        " return s && s.textContent.includes(ref) && s.offsetParent === null; }",
        arg=ref,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = server.read_notebook(nb)
    html = [o["data"]["text/html"] for o in saved.cells[0].outputs if "text/html" in o.get("data", {})]
    assert len(html) == 1 and ref in html[0] and "digits-mlp" in html[0]

    # nbviewer / nbconvert: the static view is what shows
    from nbconvert import HTMLExporter

    exported, _ = HTMLExporter().from_notebook_node(saved)
    assert "cz-static" in exported and ref in exported

    # reopened after the kernel is gone: the static view shows
    for session in server.api("/api/sessions"):
        server.api(f"/api/sessions/{session['id']}", method="DELETE")
    page2 = page.context.new_page()
    page2.set_viewport_size({"width": 1280, "height": 800})
    server.open_notebook(page2, nb, wait_for_kernel=False)
    static = page2.locator(".cz-static")
    static.wait_for(state="visible")
    text = static.inner_text()
    assert ref in text and "digits-mlp" in text and zoo.load_code(ref).strip().splitlines()[-1] in text
    assert page2.locator('[data-testid="cz-root"]').count() == 0
    if kind == "lab":
        page2.locator(".jp-Cell").first.screenshot(path=str(DOCS_IMG / "browser-saved.png"))
    page2.close()
    assert notebook_cells(page)[0]["cell_type"] == "code"
