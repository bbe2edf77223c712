"""The whole Hub in the browser (issue 19): JupyterLab and Notebook 7 in Chromium, the kernel
pointed at the fake Hub of 200,000 models on 127.0.0.1 (tests/fixtures/generated_hub.py) by
HF_ENDPOINT.

Type "pythia" into `cz.browse("hf:")`: the Pythia repos appear though none was on the first
page; open EleutherAI/pythia-70m (155 branches), pick step3000, Insert, run the cell: a real
transformers GPT-NeoX loads at that revision and its weights are step3000's, not main's. A 429
while typing is one line and the next query works. Request counts are what the fake Hub saw.
At 1024x768 the picked row, its chart point and Insert fit on one screen.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")

from fixtures.generated_hub import GeneratedHub  # noqa: E402

from .harness import cell_sources, notebook_cells, run_cell  # noqa: E402
from .test_widget import tid  # noqa: E402

pytestmark = pytest.mark.browser

REPO = "EleutherAI/pythia-70m"
PICK = "step3000"
EVAL_STEPS = (1000, 2000, 3000, 4000, 8000, 32000, 64000, 143000)  # lm-eval result files: the chart's points
WEIGHTS_SUM = "float(sum(p.double().sum() for p in pythia_70m_step3000.state_dict().values()))"


def _hide_broken_torchvision() -> bool:
    """The PyPI torchvision does not import against this CPU torch and breaks transformers' imports
    (tests/torchvision_ops.py explains); the kernel-side Hub test hides it, and so do these kernels."""
    from sources.test_hub_live import _torchvision_broken

    return _torchvision_broken()


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory):
    from sources.test_hub_live import _tiny_gpt_neox

    folder = tmp_path_factory.mktemp("gpt-neox")
    hide = _hide_broken_torchvision()
    with pytest.MonkeyPatch.context() as mp:
        if hide:
            mp.setitem(sys.modules, "torchvision", None)
        main = _tiny_gpt_neox(folder / "main", seed=0)
        step = _tiny_gpt_neox(folder / "step", seed=1)
    with GeneratedHub() as hub:
        hub.serve_files(REPO, {"main": main, PICK: step})
        hub.extra_files[REPO] = {f"evals/results_step{s}.json": _eval_result(s) for s in EVAL_STEPS}
        hub.weight_sums = {"main": _weights_sum(main, folder / "m.safetensors")}
        hub.weight_sums[PICK] = _weights_sum(step, folder / "s.safetensors")
        hub.hide_torchvision = hide
        yield hub


def _eval_result(step: int) -> bytes:
    accuracy = round(0.2 + 0.3 * step / 143000, 4)
    config = {"model_args": f"pretrained={REPO},revision=step{step}"}
    return json.dumps({"results": {"lambada_openai": {"acc,none": accuracy}}, "config": config}).encode()


def _weights_sum(files: dict[str, bytes], path: Path) -> float:
    from safetensors.numpy import load_file

    path.write_bytes(files["model.safetensors"])
    return float(sum(t.astype("float64").sum() for t in load_file(path).values()))


def setup_cell(hub: GeneratedHub, body: str) -> str:
    hide = "sys.modules['torchvision'] = None  # see tests/torchvision_ops.py\n" if hub.hide_torchvision else ""
    return (
        "import os, sys, tempfile\n"
        f"os.environ['HF_ENDPOINT'] = {hub.url!r}\n"
        "os.environ['CKPTZOO_CACHE'] = tempfile.mkdtemp(prefix='cz-hub-cache-')\n"
        "os.environ['HF_HOME'] = tempfile.mkdtemp(prefix='cz-hf-home-')\n"
        "os.environ['HF_HUB_DISABLE_IMPLICIT_TOKEN'] = '1'\n"
        "os.environ['HF_HUB_DISABLE_TELEMETRY'] = '1'\n"
        "os.environ['CKPTZOO_HUB_MAX_WAIT'] = '1'  # a longer wait is said, not waited for\n"
        + hide
        + "import ckptzoo_widgets as cz\n"
        + body
    )


def list_requests(hub: GeneratedHub) -> list[str]:
    return [path for path, _ in hub.api_requests() if path.startswith("/api/models?")]


def card_ids(page) -> list[str]:
    return page.locator('[data-testid="cz-card"]').evaluate_all("els => els.map(e => e.dataset.modelId)")


def wait_settled(page) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"cz-card\"]').length > 0"
        " && !document.querySelector('[data-testid=\"cz-loading\"]')"
    )


def type_query(page, text: str) -> None:
    """Clear the box and type `text` a key at a time (50 ms apart: faster than the kernel's pause)."""
    search = tid(page, "cz-search")
    search.fill("")
    search.press_sequentially(text, delay=50)


ONE_SCREEN_JS = """() => {
    const row = document.querySelector('[data-testid="cz-checkpoint"].cz-selected');
    const dot = document.querySelector('.cz-detail-right .cz-chart-dot.cz-selected');
    const insert = document.querySelector('[data-testid="cz-insert"]');
    let box = row.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(box).overflowY)
                     && !box.classList.contains('cz-table-wrap')))
        box = box.parentElement;
    const rects = [row, dot, insert].map(e => e.getBoundingClientRect());
    const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
    box.scrollTop += top - box.getBoundingClientRect().top - 4;   // the three from the top of the notebook
    const view = box.getBoundingClientRect();
    const after = [row, dot, insert].map(e => e.getBoundingClientRect());
    const inside = after.map(r => r.top >= view.top - 0.5 && r.bottom <= view.bottom + 0.5);
    const pane = row.closest('.cz-table-wrap').getBoundingClientRect();
    const r = after[0];
    return {span: bottom - top, screen: view.height, inside,
            rowInPane: r.top >= pane.top - 0.5 && r.bottom <= pane.bottom + 0.5,
            hit: document.elementFromPoint((after[2].left + after[2].right) / 2,
                                           (after[2].top + after[2].bottom) / 2) === insert};
}"""


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_type_pythia_open_pick_insert_load_that_revision(request, kind, page, fake_hub):
    hub = fake_hub
    server = request.getfixturevalue(f"{kind}_server")
    page.set_viewport_size({"width": 1024, "height": 768})
    hub.reset_counts()
    name = server.write_notebook(
        f"hub-{kind}-{uuid.uuid4().hex[:8]}",
        [setup_cell(hub, 'browser = cz.browse("hf:")\nbrowser'), f"print({WEIGHTS_SUM})"],
    )
    server.open_notebook(page, name)
    run_cell(page, 0)

    # the first page: one list request; the count says there are more; each card says where it came from
    wait_settled(page)
    first = card_ids(page)
    assert len(first) == 24 and not any("pythia" in i for i in first)
    assert tid(page, "cz-count").inner_text() == "1–24 of 24+ models"
    assert set(tid(page, "cz-card-source").all_inner_texts()) == {"hf:"}
    assert len(list_requests(hub)) == 1
    assert not any(p.startswith("/api/models/") for p, _ in hub.api_requests())  # no model opened for a card
    assert tid(page, "cz-filter-num_params").count() == 1
    sorts = tid(page, "cz-sort").locator("option").evaluate_all("els => els.map(e => e.value)")
    assert sorts == ["", "-downloads", "-likes", "-trending", "-created", "-updated"]

    # type "pythia" a key at a time: one request, for the settled query
    type_query(page, "pythia")
    page.wait_for_function(
        "(repo) => Array.from(document.querySelectorAll('[data-testid=\"cz-card\"]'))"
        ".some(e => e.dataset.modelId === repo) && !document.querySelector('[data-testid=\"cz-loading\"]')",
        arg=REPO,
    )
    found = card_ids(page)
    assert all("pythia" in i for i in found) and len(found) == 20
    searches = [p for p in list_requests(hub) if "search=" in p]
    assert len(searches) == 1 and "search=pythia&" in searches[0], searches

    # a 429 while typing: one line; the next query still works once the wait is over
    hub.fail.append((429, {"Retry-After": "3"}))
    type_query(page, "whisper")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"cz-error\"]').textContent || '')"
        ".includes('the Hub asks to wait 3 s')"
    )
    assert "\n" not in tid(page, "cz-error").inner_text()
    page.wait_for_timeout(3200)  # the wait the Hub asked for (not a timing assertion)
    type_query(page, "clip")
    page.wait_for_function(
        "() => { const ids = Array.from(document.querySelectorAll('[data-testid=\"cz-card\"]'))"
        ".map(e => e.dataset.modelId); return ids.length === 24 && ids.every(i => i.includes('clip'))"
        " && document.querySelector('[data-testid=\"cz-error\"]').hidden; }"
    )
    before = len(list_requests(hub))
    type_query(page, "pythia")  # asked before: kept, no request
    page.wait_for_function(
        "(repo) => Array.from(document.querySelectorAll('[data-testid=\"cz-card\"]'))"
        ".some(e => e.dataset.modelId === repo)",
        arg=REPO,
    )
    assert len(list_requests(hub)) == before

    # open the model: its 155 branches as checkpoints, in a pane; pick step3000
    page.locator(f'[data-testid="cz-card"][data-model-id="{REPO}"]').click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-checkpoint\"]').length === 155")
    opened = [p for p, _ in hub.api_requests() if p.startswith(f"/api/models/{REPO}")]
    assert sorted(opened) == [f"/api/models/{REPO}/refs", f"/api/models/{REPO}?blobs=true"]
    page.locator(f'[data-testid="cz-checkpoint"][data-checkpoint="{PICK}"]').click()
    ref = f"{REPO}@{PICK}"
    page.wait_for_function(
        "(ref) => { const c = document.querySelector('[data-testid=\"cz-code\"]');"
        " const r = document.querySelector('[data-testid=\"cz-ref\"]');"
        " return c && c.dataset.state === 'ready' && r && r.textContent === ref; }",
        arg=ref,
    )
    code = tid(page, "cz-code").inner_text()
    assert f'revision="{PICK}"' in code

    # 1024x768: the picked row, its chart point and Insert on one screen
    page.wait_for_timeout(300)  # the resize observer's last fit
    screen = page.evaluate(ONE_SCREEN_JS)
    assert screen["span"] <= screen["screen"] and all(screen["inside"]) and screen["rowInPane"], screen
    assert screen["hit"], screen

    # Insert, run the inserted cell, then the probe: the weights are step3000's, not main's
    n = len(cell_sources(page))
    tid(page, "cz-insert").click()
    page.wait_for_function("(n) => window.jupyterapp.shell.currentWidget.content.model.cells.length === n", arg=n + 1)
    assert notebook_cells(page)[1]["source"].strip() == code.strip()
    loaded = run_cell(page, 1, timeout_ms=180_000)
    assert not [o for o in loaded["outputs"] if o.get("output_type") == "error"], loaded["outputs"]
    probe = run_cell(page, 2)
    text = "".join(o.get("text", "") for o in probe["outputs"] if o.get("output_type") == "stream")
    assert float(text.strip().splitlines()[-1]) == pytest.approx(hub.weight_sums[PICK], rel=1e-9)
    assert float(text.strip().splitlines()[-1]) != pytest.approx(hub.weight_sums["main"], rel=1e-6)
    resolved = [p for p, _ in hub.requests() if f"/{REPO}/resolve/" in p and "model.safetensors" in p]
    assert resolved and all("/resolve/main/" not in p for p in resolved), resolved
    print(f"{kind}: {len(hub.requests())} requests to the fake Hub in the session")
