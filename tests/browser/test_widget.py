"""The zoo browser as a user sees it: JupyterLab and Notebook 7 in Chromium.

Run the cell, type a query, change the sort, open a card, pick a checkpoint,
click Insert code, read the new cell from the notebook model, compare it with
``zoo.load_code(ref)``, run it. Also: keyboard use, the fallback without the
labextension, hostile model cards, sources that fail to open, and the
screenshots in docs/img/.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

import ckptzoo_widgets as cz

from .harness import LABEXTENSION_NAME, cell_sources, notebook_cells, notebook_state, run_cell

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SETUP = (
    "import os, tempfile\n"
    "os.environ.setdefault('CKPTZOO_CACHE', tempfile.mkdtemp(prefix='cz-test-cache-'))\n"
    "import ckptzoo_widgets as cz\n"
)
REF = "digits-mlp@epoch-2"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def zoo():
    return cz.open_zoo()


def tid(page, name: str):
    return page.locator(f'[data-testid="{name}"]')


def card_ids(page) -> list[str]:
    return page.locator('[data-testid="cz-card"]').evaluate_all("els => els.map(e => e.dataset.modelId)")


def wait_cards(page, expected: list[str]) -> None:
    page.wait_for_function(
        """(expected) => {
            const ids = Array.from(document.querySelectorAll('[data-testid="cz-card"]')).map(e => e.dataset.modelId);
            return JSON.stringify(ids) === JSON.stringify(expected)
                && !document.querySelector('[data-testid="cz-loading"]');
        }""",
        arg=expected,
    )


def wait_code_ready(page, ref: str) -> str:
    page.wait_for_function(
        """(ref) => {
            const code = document.querySelector('[data-testid="cz-code"]');
            const btn = document.querySelector('[data-testid="cz-insert"]');
            const r = document.querySelector('[data-testid="cz-ref"]');
            return code && code.dataset.state === 'ready' && btn && !btn.disabled && r && r.textContent === ref;
        }""",
        arg=ref,
    )
    return tid(page, "cz-code").inner_text()


def shoot(page, path: Path, width: int | None = None) -> None:
    """A screenshot of the whole widget for docs/img/: the window grows to hold it, then goes back."""
    size = page.viewport_size
    page.set_viewport_size({"width": width or size["width"], "height": size["height"]})
    page.wait_for_timeout(300)
    height = tid(page, "cz-root").evaluate("el => el.getBoundingClientRect().height")
    page.set_viewport_size(
        {"width": width or size["width"], "height": int(min(3000, max(size["height"], height + 300)))}
    )
    page.wait_for_timeout(400)
    tid(page, "cz-root").scroll_into_view_if_needed()
    tid(page, "cz-root").screenshot(path=str(path))
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


def open_browser_notebook(server, page, body: str, name: str, extra_cells=("print('after')",)):
    nb = server.write_notebook(f"{name}-{uuid.uuid4().hex[:8]}", [SETUP + body, *extra_cells])
    server.open_notebook(page, nb)
    run_cell(page, 0)
    return nb


def set_theme(page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', { theme: t })", theme)
    page.wait_for_function("(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')", arg=dark)
    page.wait_for_timeout(400)  # let the new stylesheet apply


def luminance(css_color: str) -> float:
    parts = [float(x) for x in css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")[:3]]
    return sum(w * c / 255 for w, c in zip((0.2126, 0.7152, 0.0722), parts, strict=True))


def own_errors(page) -> list[str]:
    """Page errors, less one Notebook 7 raises by itself at start-up on this machine
    (TypeError reading 'schema' inside notebook_core, also with an empty notebook)."""
    return [e for e in page.page_errors if not ("reading 'schema'" in e and "notebook_core" in e)]


def has_error_output(cell: dict) -> bool:
    return any(o.get("output_type") == "error" for o in cell["outputs"])


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_search_sort_open_pick_insert_run(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    t0 = time.monotonic()
    open_browser_notebook(server, page, "browser = cz.browse()\nbrowser", f"flow-{kind}")
    assert not has_error_output(notebook_cells(page)[0])
    wait_cards(page, list(zoo.search()["id"]))
    before = cell_sources(page)

    if kind == "lab":
        shoot(page, DOCS_IMG / "browser-light.png")

    # type a query (as typing: one key at a time, debounced)
    search = tid(page, "cz-search")
    search.click()
    search.press_sequentially("mlp", delay=40)
    wait_cards(page, list(zoo.search("mlp")["id"]))
    assert cell_sources(page) == before, "typing in the search box must not edit the notebook"
    # a card found only through its model card says so, with the words around the match
    card_only = zoo.search("mlp").query("match == 'card'")
    for model_id, snippet in zip(card_only["id"], card_only["snippet"], strict=True):
        shown = page.locator(f'[data-testid="cz-card"][data-model-id="{model_id}"] [data-testid="cz-snippet"]')
        assert shown.inner_text() == f"In the model card: {snippet}"

    # change the sort: the option values are the API's sort keys
    options = tid(page, "cz-sort").locator("option").evaluate_all("els => els.map(e => e.value)")
    assert "-val_accuracy" in options and "val_loss" in options
    tid(page, "cz-sort").select_option("-val_accuracy")
    wait_cards(page, list(zoo.search("mlp", sort="-val_accuracy")["id"]))

    # filters are there and list the facets
    tasks = tid(page, "cz-filter-task").locator("option").evaluate_all("els => els.map(e => e.value)")
    assert set(zoo.facets()["task"]) <= set(tasks)
    for name in ("cz-filter-library", "cz-filter-license"):
        assert tid(page, name).count() == 1

    # open the card
    page.locator('[data-testid="cz-card"][data-model-id="digits-mlp"]').click()
    expected_ckpts = [c.name for c in zoo.model("digits-mlp").checkpoints]
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=\"cz-checkpoint\"]').length === n", arg=len(expected_ckpts)
    )
    assert tid(page, "cz-model-card").inner_text().strip() != ""
    assert tid(page, "cz-chart").count() == 1
    default_ref = f"digits-mlp@{zoo.model('digits-mlp').default_checkpoint or expected_ckpts[-1]}"
    assert wait_code_ready(page, default_ref).strip() == zoo.load_code(default_ref).strip()

    # pick a checkpoint
    page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{REF.split("@")[1]}"]').click()
    shown = wait_code_ready(page, REF)
    expected = zoo.load_code(REF)
    assert shown.strip() == expected.strip()
    if kind == "lab":
        shoot(page, DOCS_IMG / "browser-detail-light.png", width=1600)

    # Insert code: a new cell right below the widget's cell, focused, not run
    tid(page, "cz-insert").click()
    page.wait_for_function(
        "(n) => window.jupyterapp.shell.currentWidget.content.model.cells.length === n", arg=len(before) + 1
    )
    cells = notebook_cells(page)
    assert cells[1]["cell_type"] == "code"
    assert cells[1]["source"].strip() == expected.strip()
    assert cells[1]["execution_count"] is None
    assert [c["source"] for c in cells[2:]] == before[1:]
    page.wait_for_function(
        "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " return nb.activeCellIndex === 1 && nb.activeCell.editor && nb.activeCell.editor.hasFocus(); }"
    )
    assert tid(page, "cz-hint").count() == 0, "the extension handled the event: no fallback hint"

    # run the inserted cell: it loads the checkpoint without an error
    ran = run_cell(page, 1)
    assert not has_error_output(ran), ran["outputs"]
    assert not own_errors(page)
    print(f"{kind}: browser flow took {time.monotonic() - t0:.1f}s")


def test_dark_theme_is_readable(lab_server, page, zoo):
    open_browser_notebook(lab_server, page, "browser = cz.browse(selected='digits-cnn@epoch-5')\nbrowser", "dark")
    wait_code_ready(page, "digits-cnn@epoch-5")
    try:
        set_theme(page, dark=True)
        root = tid(page, "cz-root")
        colors = root.evaluate("el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }")
        assert luminance(colors[0]) > 0.6 and luminance(colors[1]) < 0.35, colors
        shoot(page, DOCS_IMG / "browser-dark.png", width=1600)
        tid(page, "cz-close").click()
        wait_cards(page, list(zoo.search()["id"]))
        shoot(page, DOCS_IMG / "browser-grid-dark.png")
    finally:
        set_theme(page, dark=False)


def test_keyboard(lab_server, page, zoo):
    open_browser_notebook(lab_server, page, "browser = cz.browse(sort='name')\nbrowser", "keys")
    ids = list(zoo.search(sort="name")["id"])
    wait_cards(page, ids)
    cards = page.locator('[data-testid="cz-card"]')

    cards.nth(0).focus()  # focusing into an output makes its cell the active one
    active_before = notebook_state(page)["active_index"]
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.dataset.modelId") == ids[1]
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("() => document.activeElement.dataset.modelId") == ids[0]
    assert notebook_state(page)["active_index"] == active_before, "arrow keys must stay in the widget"

    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "cz-search"
    assert tid(page, "cz-search").input_value() == ""

    cards.nth(1).focus()
    page.keyboard.press("Enter")
    tid(page, "cz-detail").wait_for(state="visible")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-checkpoint\"]').length > 0")
    page.keyboard.press("Escape")
    tid(page, "cz-detail").wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.dataset.modelId") == ids[1]
    assert len(cell_sources(page)) == 2
    assert not own_errors(page)


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_fallback_without_the_labextension(jupyter_server, page, zoo, kind):
    server = jupyter_server(kind, disabled_extensions=[LABEXTENSION_NAME])
    open_browser_notebook(
        server, page, f"browser = cz.browse(selected={REF!r})\nbrowser", "fallback", extra_cells=("browser.insert()",)
    )
    expected = zoo.load_code(REF)
    assert wait_code_ready(page, REF).strip() == expected.strip()
    tid(page, "cz-insert").click()
    tid(page, "cz-hint").wait_for(state="visible")
    assert "copy" in tid(page, "cz-hint").inner_text().lower()
    assert tid(page, "cz-copy").is_visible() and tid(page, "cz-code").is_visible()
    assert len(cell_sources(page)) == 2, "no extension: no new cell from the click"
    if kind == "lab":
        shoot(page, DOCS_IMG / "browser-fallback.png")

    # browser.insert() from a cell uses set_next_input: the code lands in the next cell
    ran = run_cell(page, 1)
    assert not has_error_output(ran) and ran["outputs"] == [], "insert() prints nothing"
    page.wait_for_function(
        "(code) => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells;"
        " return cells.length >= 3 && cells.get(2).sharedModel.getSource().trim() === code; }",
        arg=expected.strip(),
    )


# ---------------------------------------------------------------------------
# Bad input


def hostile_card(base: str) -> str:
    return f"""# Perfectly normal model

<script>alert('xss-script'); fetch('{base}/script')</script>

<img src="{base}/img-raw.png" onerror="alert('xss-onerror')">

<img src=x onerror="console.log('xss-onerror-log'); fetch('{base}/onerror')">

![remote image]({base}/md-image.png)

[click me](javascript:alert('xss-link'))

<a href="javascript:console.log('xss-raw-link')">raw link</a>

<iframe src="{base}/iframe"></iframe>

<form action="{base}/form" method="post"><input name="q" value="x"><button type="submit">send</button></form>

<button data-commandlinker-command="notebook:insert-cell-below" data-commandlinker-args="{{}}">Add a cell</button>

<div data-commandlinker-command="notebook:run-all-cells">Run all</div>

<svg onload="console.log('xss-svg')"><circle r="4"/></svg>

<p style="background:url({base}/css)" onclick="console.log('xss-click')">styled paragraph</p>

<object data="{base}/object"></object><embed src="{base}/embed">
"""


def test_hostile_model_card_is_harmless(lab_server, page, recorder):
    index = {
        "ckptzoo_index": 1,
        "name": "hostile",
        "models": [
            {
                "id": "evil-card",
                "name": "Evil card",
                "task": "image-classification",
                "library": "ckptzoo",
                "license": "mit",
                "description": hostile_card(recorder.base),
                "headline_metric": "val_accuracy",
                "checkpoints": [
                    {
                        "name": "step-1",
                        "step": 1,
                        "metrics": {"val_accuracy": 0.5},
                        "files": [{"path": "step-1.safetensors", "size": 10}],
                    },
                    {
                        "name": "step-2",
                        "step": 2,
                        "metrics": {"val_accuracy": 0.6},
                        "files": [{"path": "step-2.safetensors", "size": 10}],
                    },
                ],
            }
        ],
    }
    index_path = lab_server.root_dir / f"hostile-{uuid.uuid4().hex[:8]}.json"
    index_path.write_text(json.dumps(index))

    dialogs: list[str] = []
    console: list[str] = []
    requests: list[str] = []

    def on_dialog(d):
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: console.append(m.text))
    page.on("request", lambda r: requests.append(r.url))

    open_browser_notebook(lab_server, page, f"browser = cz.browse({str(index_path)!r})\nbrowser", "hostile")
    wait_cards(page, ["evil-card"])
    n_cells = len(cell_sources(page))
    page.locator('[data-testid="cz-card"]').first.click()
    body = tid(page, "cz-model-card")
    body.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"cz-model-card\"]').textContent.includes('Perfectly normal')"
    )

    # nothing dangerous in the DOM
    bad = body.evaluate(
        """el => ({
            tags: Array.from(el.querySelectorAll(
                'script,iframe,form,input,button,object,embed,svg,img,style')).map(e => e.tagName),
            attrs: Array.from(el.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).map(a => a.name))
                .filter(n => n.startsWith('on') || n.startsWith('data-') || n === 'style'),
            hrefs: Array.from(el.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
        })"""
    )
    assert bad["tags"] == [] and bad["attrs"] == [], bad
    assert not any(h.lower().startswith("javascript") for h in bad["hrefs"]), bad
    assert "Add a cell" in body.inner_text() or "Perfectly normal" in body.inner_text()

    # click everything a user might click in the card
    for link in body.locator("a").all():
        link.click(modifiers=[], no_wait_after=True)
    body.get_by_text("Add a cell").first.click() if body.get_by_text("Add a cell").count() else None
    body.get_by_text("Run all").first.click() if body.get_by_text("Run all").count() else None
    page.wait_for_timeout(1500)

    assert dialogs == []
    assert [m for m in console if "xss" in m] == []
    assert [u for u in requests if u.startswith(recorder.base)] == []
    assert recorder.requests() == []
    assert len(cell_sources(page)) == n_cells, "no command linker ran"
    assert page.evaluate("() => window.__pwned === undefined")
    assert not own_errors(page)


def test_sources_that_fail_show_an_error_box(lab_server, page, recorder):
    # a missing file, then a URL whose server answers 404 (a network error)
    body = (
        "bad = cz.browse('/no/such/zoo/index.json')\n"
        "display(bad)\n"
        f"net = cz.browse('{recorder.base}/index.json')\n"
        "display(net)\n"
    )
    open_browser_notebook(lab_server, page, body, "errors")
    cell = notebook_cells(page)[0]
    assert not has_error_output(cell), "no traceback"
    errors = tid(page, "cz-error")
    errors.first.wait_for(state="visible")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-error\"]:not([hidden])').length === 2")
    texts = errors.all_inner_texts()
    assert "/no/such/zoo/index.json" in texts[0]
    assert "index.json" in texts[1]
    assert all("Traceback" not in t for t in texts)
    # nothing is open, so there is nothing to search: the box is disabled, not silently empty
    assert tid(page, "cz-search").first.is_disabled()
    # the widget keeps working: pointed at a source that opens, the error goes and search works
    page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
            .requestExecute({code: "bad.use_source('builtin')"}).done"""
    )
    first = page.locator(".jp-OutputArea-output").filter(has=tid(page, "cz-search")).first
    tid(first, "cz-card").first.wait_for(state="visible")
    assert tid(first, "cz-error").first.is_hidden()
    tid(first, "cz-search").first.click()
    tid(first, "cz-search").first.press_sequentially("cnn", delay=30)
    page.wait_for_function(
        """() => {
            const cards = [...document.querySelectorAll('[data-testid="cz-card"]')];
            return cards.length === 1 && cards[0].textContent.includes('digits-cnn');
        }"""
    )
    assert not own_errors(page)


# ---------------------------------------------------------------------------
# A script in the page


FIND_MODEL_JS = """() => {
    // What any script in the page can reach: the widget model behind the output's view.
    const nb = window.jupyterapp.shell.currentWidget.content;
    const stack = [...nb.widgets];
    while (stack.length) {
        const w = stack.pop();
        const model = w._view && w._view.model;
        if (model && String(model.get('_anywidget_id')).endsWith('ZooBrowser')) {
            window.__czModel = model;
            return true;
        }
        stack.push(...(w.widgets || []), ...(w.outputArea ? [w.outputArea] : []));
    }
    return false;
}"""


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_a_page_script_cannot_change_what_insert_puts_in_the_notebook(request, kind, page, zoo):
    server = request.getfixturevalue(f"{kind}_server")
    open_browser_notebook(
        server,
        page,
        f"browser = cz.browse(selected={REF!r})\nbrowser",
        "forge",
        extra_cells=(
            "browser.insert()",
            "print(browser.rejected_updates, browser.rejected_messages, 'ckptzoo:insert-code' in browser._esm)",
        ),
    )
    expected = zoo.load_code(REF)
    wait_code_ready(page, REF)
    assert page.evaluate(FIND_MODEL_JS), "the test could not reach the widget model"
    evil = "import os\nos.system('echo pwned')\n"
    page.evaluate(
        """(evil) => {
            const m = window.__czModel;
            m.set({code: evil, code_key: m.get('code_key'), selected: 'digits-cnn@epoch-1',
                   detail: {id: 'x', card_html: '<img src=x onerror=alert(1)>'}, cards: [{id: 'evil'}],
                   _esm: 'export default {render() { window.__pwned = 1 }}'});
            m.save_changes();
            m.send({request: 'search', query: 'a'.repeat(1000000)});
            m.send({request: 'select', ref: '<img src=x onerror=alert(1)>'});
        }""",
        evil,
    )
    # the kernel sends its own state back to the page
    page.wait_for_function("(code) => window.__czModel.get('code') === code", arg=expected)
    assert page.evaluate("() => window.__czModel.get('selected')") == REF
    tid(page, "cz-error").wait_for(state="visible")
    assert "Ignored a request" in tid(page, "cz-error").inner_text()

    # browser.insert() from a cell puts the kernel's code in the next cell
    run_cell(page, 1)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.model.cells.length === 4")
    assert notebook_cells(page)[2]["source"].strip() == expected.strip()
    counts = run_cell(page, 3)["outputs"][0]["text"].split()
    assert counts == ["1", "2", "True"], counts
    # the page's copy of the front end's code is the kernel's again (new views load it)
    assert "ckptzoo:insert-code" in page.evaluate("() => window.__czModel.get('_esm')")
