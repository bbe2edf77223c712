"""Training curves to compare, as a user sees them: JupyterLab in Chromium.

`cz.compare([...])` from a cell draws one curve per model and the table of
best checkpoints; the metric menu redraws both; ticking two cards in
`cz.browse()` and pressing Compare shows the same view inside the browser.
Writes docs/img/compare-light.png and compare-dark.png (Pythia when
../shared/data is there, the built-in zoo otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED_DATA, shared_data_absent

import ckptzoo_widgets as cz
from ckptzoo_widgets.curves import comparison

from .harness import notebook_cells, run_cell

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PYTHIA = SHARED_DATA / "pythia-evals"
SETUP = "import ckptzoo_widgets as cz\n"
MODELS = ["digits-mlp", "digits-logreg"]


def tid(scope, name: str):
    return scope.locator(f'[data-testid="{name}"]')


def table_rows(scope) -> list[list[str]]:
    return tid(scope, "cz-compare-row").evaluate_all(
        "rows => rows.map(r => Array.from(r.children).map(c => c.textContent))"
    )


def expected_rows(zoo, models, metric) -> list[tuple[str, str]]:
    table = comparison(zoo, models, metric).table
    return [(zoo.model(m).display_name, c) for m, c in zip(table["model"], table["best_checkpoint"], strict=True)]


def set_theme(page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', { theme: t })", theme)
    page.wait_for_function("(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')", arg=dark)
    page.wait_for_timeout(400)


def open_cell(server, page, body: str, name: str):
    nb = server.write_notebook(name, [SETUP + body])
    server.open_notebook(page, nb)
    run_cell(page, 0)
    errors = [o for o in notebook_cells(page)[0]["outputs"] if o.get("output_type") == "error"]
    assert not errors, errors


def test_compare_from_python_draws_two_curves_and_the_best_checkpoints(lab_server, page):
    zoo = cz.open_zoo()
    open_cell(lab_server, page, f"view = cz.compare({MODELS!r}, metric='val_accuracy')\nview", "compare-python")
    view = tid(page, "cz-compare")
    view.wait_for(state="visible")
    chart = tid(view, "cz-compare-chart")
    assert chart.locator("polyline").count() == 2
    # each line has its own colour and as many dots as the model has checkpoints
    styles = chart.locator("polyline").evaluate_all("ls => ls.map(l => getComputedStyle(l).stroke)")
    assert len(set(styles)) == 2, styles
    dots = [chart.locator(".cz-series").nth(i).locator("circle").count() for i in range(2)]
    assert dots == [len(zoo.checkpoints(m)) for m in MODELS]
    assert tid(view, "cz-compare-legend").locator("li").all_inner_texts() == [zoo.model(m).display_name for m in MODELS]
    rows = table_rows(view)
    assert [(r[0], r[1]) for r in rows] == expected_rows(zoo, MODELS, "val_accuracy")
    assert "higher is better" in view.inner_text()

    # the metric menu asks the kernel, which redraws with the loss rule
    tid(view, "cz-compare-metric").select_option("val_loss")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"cz-compare\"]').textContent.includes('lower is better')"
    )
    assert [(r[0], r[1]) for r in table_rows(view)] == expected_rows(zoo, MODELS, "val_loss")
    if not PYTHIA.is_dir():
        page.wait_for_timeout(300)
        page.locator(".cz-compare-root").screenshot(path=str(DOCS_IMG / "compare-light.png"))


def test_compare_ticked_cards_in_the_browser(lab_server, page):
    zoo = cz.open_zoo()
    open_cell(lab_server, page, "browser = cz.browse()\nbrowser", "compare-browse")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-compare-check\"]').length === 3")
    button = tid(page, "cz-compare-button")
    assert button.is_disabled()
    for model in MODELS:
        page.locator(f'[data-testid="cz-card"][data-model-id="{model}"] [data-testid="cz-compare-check"]').click()
    assert tid(page, "cz-detail").is_hidden()  # ticking a box does not open the card
    assert button.inner_text() == "Compare (2)"
    button.click()
    panel = tid(page, "cz-compare-panel")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-compare-row\"]').length === 2")
    assert tid(panel, "cz-compare-chart").locator("polyline").count() == 2
    assert [(r[0], r[1]) for r in table_rows(panel)] == expected_rows(zoo, MODELS, "val_accuracy")
    tid(panel, "cz-compare-close").click()
    assert panel.is_hidden()


@pytest.mark.skipif(shared_data_absent(PYTHIA), reason="../shared/data is absent")
def test_pythia_on_a_log_step_axis_and_the_screenshots(lab_server, page):
    body = (
        f"zoo = cz.open_zoo({str(PYTHIA)!r})\n"
        "view = cz.compare(['EleutherAI/pythia-v1.1-70m', 'EleutherAI/pythia-v1.1-160m'],"
        " metric='lambada_openai.acc', zoo=zoo)\nview"
    )
    open_cell(lab_server, page, body, "compare-pythia")
    view = tid(page, "cz-compare")
    view.wait_for(state="visible")
    chart = tid(view, "cz-compare-chart")
    assert chart.get_attribute("data-x-scale") == "log"
    ticks = chart.locator(".cz-tick-x").all_text_contents()
    assert ticks[:3] == ["0", "1", "10"] and "100k" in ticks
    # step 0 sits at the axis start, step 512 past the middle of the plot
    cx = chart.locator(".cz-series").first.locator("circle").evaluate_all("cs => cs.map(c => +c.getAttribute('cx'))")
    assert cx[0] == min(cx) and cx[10] > (cx[0] + cx[-1]) / 2
    pythia = cz.open_zoo(str(PYTHIA))
    models = ["EleutherAI/pythia-v1.1-70m", "EleutherAI/pythia-v1.1-160m"]
    assert [(r[0], r[1]) for r in table_rows(view)] == expected_rows(pythia, models, "lambada_openai.acc")
    page.wait_for_timeout(300)
    root = page.locator(".cz-compare-root")
    root.screenshot(path=str(DOCS_IMG / "compare-light.png"))
    try:
        set_theme(page, dark=True)
        root.screenshot(path=str(DOCS_IMG / "compare-dark.png"))
    finally:
        set_theme(page, dark=False)
    # the toggle switches to a linear axis, where the first 512 steps crowd the left edge
    tid(view, "cz-log-x").uncheck()
    assert tid(view, "cz-compare-chart").get_attribute("data-x-scale") == "linear"


def test_code_box_is_highlighted_and_stays_plain_text(lab_server, page):
    zoo = cz.open_zoo()
    ref = "digits-mlp@epoch-2"
    open_cell(lab_server, page, f"browser = cz.browse(selected={ref!r})\nbrowser", "highlight")
    page.wait_for_function("() => document.querySelector('[data-testid=\"cz-code\"]')?.dataset.state === 'ready'")
    box = tid(page, "cz-code")
    assert box.text_content() == zoo.load_code(ref)  # what Copy and Insert use, character for character
    keywords = box.locator(".cz-tok-keyword").all_text_contents()
    assert "import" in keywords
    assert any(ref in s for s in box.locator(".cz-tok-string").all_text_contents())
    # only spans with our class inside the code: nothing from the index became markup
    tags = box.locator("code *").evaluate_all("els => els.map(e => e.tagName + ':' + e.className.split(' ')[0])")
    assert tags and all(t.startswith("SPAN:cz-tok-") for t in tags), tags
    # coloured as JupyterLab colours keywords in a cell
    colour, expected = box.locator(".cz-tok-keyword").first.evaluate(
        """el => {
            const probe = document.createElement('span');
            probe.style.color = 'var(--jp-mirror-editor-keyword-color)';
            document.body.appendChild(probe);
            const want = getComputedStyle(probe).color;
            probe.remove();
            return [getComputedStyle(el).color, want];
        }"""
    )
    assert colour == expected, (colour, expected)


FIND_COMPARE_JS = """() => {
    // What any script in the page can reach: the widget model behind the compare view.
    const stack = [...window.jupyterapp.shell.currentWidget.content.widgets];
    while (stack.length) {
        const w = stack.pop();
        const model = w._view && w._view.model;
        if (model && model.get('_view') === 'compare') {
            window.__czCompare = model;
            return true;
        }
        stack.push(...(w.widgets || []), ...(w.outputArea ? [w.outputArea] : []));
    }
    return false;
}"""


def test_a_page_script_cannot_change_the_compare_view(lab_server, page):
    """The compare view follows the browser's protocol: the page asks, the kernel owns every trait."""
    nb = lab_server.write_notebook(
        "compare-forge",
        [
            SETUP + f"view = cz.compare({MODELS!r}, metric='val_accuracy')\nview",
            "print(view.metric, view.models, view.rejected_updates, view.rejected_messages, view.error_kind)",
        ],
    )
    lab_server.open_notebook(page, nb)
    run_cell(page, 0)
    tid(page, "cz-compare").wait_for(state="visible")
    page.wait_for_function(FIND_COMPARE_JS)
    page.evaluate(
        """() => {
            const m = window.__czCompare;
            m.set({metric: 'val_loss', models: ['evil'], data: {series: []}, _view: 'browser'});
            m.save_changes();
            m.send({request: 'search', query: 'x'});
            m.send({request: 'metric', metric: 'm'.repeat(100000)});
        }"""
    )
    # the kernel sends its own state back: the chart is the kernel's again
    page.wait_for_function("() => window.__czCompare.get('metric') === 'val_accuracy'")
    page.wait_for_function("() => (window.__czCompare.get('data').series || []).length === 2")
    out = run_cell(page, 1)["outputs"][0]["text"].split()
    assert out[0] == "val_accuracy" and out[-3:] == ["1", "2", "request"], out
    # the page's own menu asks, and the kernel redraws
    tid(page, "cz-compare-metric").select_option("val_loss")
    page.wait_for_function("() => window.__czCompare.get('metric') === 'val_loss'")
