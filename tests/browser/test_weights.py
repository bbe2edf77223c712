"""The Weights view of the digits MLP, as a user sees it: JupyterLab in Chromium at 1024x768.

The detail's Weights tab asks the kernel for the grid; the heatmap fills with the
kernel's numbers (hover shows them, as `cz.weight_changes` computes them); a click on
a cell shows the column's two checkpoints side by side; "From the start" measures
every column against the first checkpoint. Nothing is clipped with the file browser
open. Writes docs/img/weights-view.png.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import ckptzoo_widgets as cz

from .harness import run_cell

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SETUP = "import ckptzoo_widgets as cz\n"
MODEL = "digits-mlp"

# Every drawn part of the Weights view inside the widget, no text cut in its box, no scroll pane.
CLIPPED_JS = """() => {
    const root = document.querySelector('[data-testid="cz-root"]');
    const box = root.getBoundingClientRect();
    const view = root.querySelector('[data-testid="cz-weights"]');
    const parts = view.querySelectorAll('.cz-wcell, .cz-wlabel, .cz-wgroup, .cz-wcol, li, th, td, button');
    const out = [];
    for (const el of parts) {
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5)
            out.push(el.className + ' ' + el.textContent + ' ' + Math.round(r.left) + '-' + Math.round(r.right));
        if (el.scrollWidth > el.clientWidth + 1 && !el.classList.contains('cz-wcol'))
            out.push('cut: ' + el.textContent);
    }
    const panes = Array.from(root.querySelectorAll('*')).filter(e => {
        const s = getComputedStyle(e);
        return /(auto|scroll)/.test(s.overflowY + s.overflowX) && (e.scrollHeight > e.clientHeight + 1
            || e.scrollWidth > e.clientWidth + 1);
    }).map(e => 'scroll pane: ' + e.className);
    return {clipped: out, panes, parts: parts.length};
}"""


def tid(scope, name: str):
    return scope.locator(f'[data-testid="{name}"]')


def wait_complete(page) -> None:
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"cz-weights-progress\"]') || {}).textContent"
        "?.includes('8 of 8 checkpoints measured')"
    )


def cell(page, row: int, col: int):
    return page.locator(f'[data-testid="cz-weights-cell"][data-row="{row}"][data-col="{col}"]')


def test_the_weights_view_of_the_digits_mlp(lab_server, page) -> None:
    expected = cz.weight_changes(MODEL).wide()
    page.set_viewport_size({"width": 1024, "height": 768})
    nb = lab_server.write_notebook(f"weights-{uuid.uuid4().hex[:8]}", [SETUP + f"cz.browse(selected={MODEL!r})"])
    lab_server.open_notebook(page, nb)
    page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")  # as in a default window
    page.wait_for_function("() => !window.jupyterapp.shell.leftCollapsed")
    run_cell(page, 0)
    tid(page, "cz-tab-weights").click()
    wait_complete(page)

    # rows grouped by layer in the kernel's order, one cell per tensor and checkpoint after the first
    assert tid(page, "cz-weights-group").all_inner_texts() == ["hidden", "out"]
    assert tid(page, "cz-weights-cell").count() == 4 * 8
    colours = tid(page, "cz-weights-cell").evaluate_all("cs => cs.map(c => c.style.backgroundColor)")
    assert sum(1 for c in colours if c) == 30  # both biases start at zero: no value in the first column
    columns = tid(page, "cz-weights-column").all_inner_texts()
    assert [c.strip() for c in columns] == list(expected.columns[1:])

    # hover: the kernel's numbers, the same as cz.weight_changes
    cell(page, 1, 0).hover()
    readout = tid(page, "cz-weights-readout").inner_text()
    assert readout.startswith("hidden.weight, epoch-1 vs epoch-0: relative change ")
    shown = float(readout.split("relative change ")[1].split(",")[0])
    assert shown == pytest.approx(expected.loc["hidden.weight", "epoch-1"], rel=1e-2)

    # a click: the two checkpoints of that column side by side
    cell(page, 3, 3).click()
    pair = tid(page, "cz-weights-pair")
    pair.get_by_text("epoch-3 → epoch-5, side by side").wait_for()
    rows = tid(pair, "cz-weights-pair-row")
    assert rows.count() == 4
    assert pair.locator("tr.cz-selected").get_attribute("data-tensor") == "out.weight"
    compared = cz.compare_weights(f"{MODEL}@epoch-3", f"{MODEL}@epoch-5").set_index("tensor")
    cells = rows.nth(3).locator("td").all_inner_texts()  # norm, mean, std of a; of b; relative, cosine
    assert float(cells[6]) == pytest.approx(compared.loc["out.weight", "relative"], rel=1e-2)
    assert float(cells[7]) == pytest.approx(compared.loc["out.weight", "cosine"], rel=1e-3)

    tid(page, "cz-weights").scroll_into_view_if_needed()
    found = page.evaluate(CLIPPED_JS)
    assert found["parts"] > 40 and found["clipped"] == [] and found["panes"] == [], found

    # from the start: every column measured against epoch-0, asked again of the kernel
    tid(page, "cz-weights-against-start").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"cz-weights-against-start\"]')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    wait_complete(page)
    cell(page, 3, 7).hover()
    assert tid(page, "cz-weights-readout").inner_text().startswith("out.weight, epoch-30 vs epoch-0: relative change")
    found = page.evaluate(CLIPPED_JS)
    assert found["clipped"] == [] and found["panes"] == [], found
    assert page.page_errors == []

    # the picture for docs/weights.md: the previous-checkpoint grid and one pair, in a taller window
    tid(page, "cz-weights-against-previous").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"cz-weights-against-previous\"]')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    wait_complete(page)
    cell(page, 1, 0).click()
    tid(page, "cz-weights-pair").get_by_text("epoch-0 → epoch-1, side by side").wait_for()
    page.set_viewport_size({"width": 1280, "height": 1400})
    tid(page, "cz-root").scroll_into_view_if_needed()
    cell(page, 1, 1).hover()
    tid(page, "cz-root").screenshot(path=str(DOCS_IMG / "weights-view.png"))
