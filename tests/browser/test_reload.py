"""A page reload mid-session (the kernel alive) in JupyterLab and Notebook 7.

The kernel owns the open model, the selected checkpoint and the compare set,
so the reloaded page shows the same view; the labextension tags the cells a
browser inserts with the browser's anchor (cell metadata), so the inserts after
the reload land below the ones before, in order.
"""

from __future__ import annotations

import uuid

import pytest

import ckptzoo_widgets as cz

from .harness import cell_sources, run_cell, wait_for_kernel_idle
from .test_widget import SETUP, tid, wait_code_ready

pytestmark = pytest.mark.browser

MODEL = "digits-mlp"
TICKED = ["digits-cnn", "digits-logreg"]


# The anchor each cell of the notebook model carries (cell metadata `ckptzoo.browser`), or null.
ANCHORS_JS = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    const out = [];
    for (let i = 0; i < cells.length; i++) {
        const meta = cells.get(i).getMetadata('ckptzoo');
        out.push(meta ? meta.browser : null);
    }
    return out;
}"""


@pytest.fixture(scope="module")
def zoo():
    return cz.open_zoo()


def pick_and_insert(page, checkpoint: str) -> None:
    """Click a checkpoint row, wait for its code, click Insert, wait for the new cell."""
    n = len(cell_sources(page))
    page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{checkpoint}"]').click()
    wait_code_ready(page, f"{MODEL}@{checkpoint}")
    tid(page, "cz-insert").click()
    page.wait_for_function("(n) => window.jupyterapp.shell.currentWidget.content.model.cells.length === n", arg=n + 1)


def save(page) -> None:
    """Save the notebook as the user does (what autosave does every two minutes)."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")


def reload(server, page, path: str) -> None:
    """Reload the page; the session (and the kernel) is the one from before."""
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function(
        """(path) => {
            const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return !!panel && !!panel.context && panel.context.isReady && panel.context.path === path
                && panel.content.widgets.length === panel.content.model.cells.length;
        }""",
        arg=path,
    )
    wait_for_kernel_idle(page)


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_reload_keeps_the_view_and_the_insert_order(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    path = server.write_notebook(f"reload-{uuid.uuid4().hex[:8]}", [SETUP + "browser = cz.browse()\nbrowser", "x = 1"])
    server.open_notebook(page, path)
    run_cell(page, 0)
    for model in TICKED:
        page.locator(f'[data-testid="cz-card"][data-model-id="{model}"] [data-testid="cz-compare-check"]').click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"cz-compare-button\"]').textContent === 'Compare (2)'"
    )
    page.locator(f'[data-testid="cz-card"][data-model-id="{MODEL}"]').click()
    pick_and_insert(page, "epoch-1")
    pick_and_insert(page, "epoch-30")
    save(page)
    kernel_before = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")

    reload(server, page, path)
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id") == (
        kernel_before
    )
    # the same view: the model open, its checkpoint selected, the compare set ticked
    wait_code_ready(page, f"{MODEL}@epoch-30")
    assert tid(page, "cz-detail").is_visible()
    assert tid(page, "cz-compare-button").inner_text() == "Compare (2)"

    pick_and_insert(page, "epoch-2")
    pick_and_insert(page, "epoch-3")
    expected = [zoo.load_code(f"{MODEL}@{c}").strip() for c in ("epoch-1", "epoch-30", "epoch-2", "epoch-3")]
    sources = [s.strip() for s in cell_sources(page)]
    assert sources[1:5] == expected, "the inserts after the reload go below the ones before, in order"
    assert sources[5] == "x = 1"
    # the anchor is in the notebook itself: each inserted cell names the browser that inserted it
    anchors = page.evaluate(ANCHORS_JS)
    assert anchors[0] is None and anchors[5] is None
    assert len(set(anchors[1:5])) == 1 and anchors[1]

    # back on the cards: the ticks are there
    tid(page, "cz-close").click()
    checks = page.locator('[data-testid="cz-compare-check"]')
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-compare-check\"]').length === 3")
    ticked = [checks.nth(i).get_attribute("data-model-id") for i in range(checks.count()) if checks.nth(i).is_checked()]
    assert sorted(ticked) == sorted(TICKED)
