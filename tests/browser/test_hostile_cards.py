"""Every hostile model card of the corpus (tests/hostile/cards/payloads.json),
rendered by the widget in a real JupyterLab in Chromium, one after the other
in one notebook: no dialog, no console message from a payload, no request to
the payload's server, no JupyterLab command run, no new terminal or kernel
session. The server runs with terminals enabled, so a payload that could open
one would be seen.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .harness import cell_sources, own_page_errors, run_cell

CORPUS = Path(__file__).resolve().parents[1] / "hostile" / "cards" / "payloads.json"
PAYLOADS = json.loads(CORPUS.read_text())["payloads"]
SETUP = (
    "import os, tempfile\n"
    "os.environ.setdefault('CKPTZOO_CACHE', tempfile.mkdtemp(prefix='cz-test-cache-'))\n"
    "import ckptzoo_widgets as cz\n"
)

pytestmark = pytest.mark.browser


def hostile_index(base: str) -> dict:
    models = []
    for p in PAYLOADS:
        card = p["card"].replace("{BASE}", base)
        # Front-matter payloads also land in fields a reader parses out of a card.
        extra = {"tags": [card[:200]]} if p["category"] == "frontmatter" else {}
        models.append(
            {
                "id": p["id"],
                "name": f"{p['id']} {p['name']}" if p["category"] != "frontmatter" else card[:120],
                "task": "text-generation",
                "library": "ckptzoo",
                "license": "mit",
                "description": f"# Card {p['id']}\n\n{card}\n\nend of {p['id']}",
                "checkpoints": [{"name": "final", "files": [{"path": "w.safetensors", "size": 10}]}],
                **extra,
            }
        )
    return {"ckptzoo_index": 1, "name": "hostile cards", "models": models}


def test_every_hostile_card_is_harmless_in_jupyterlab(jupyter_server, page, recorder):
    server = jupyter_server("lab", extra_args=["--ServerApp.terminals_enabled=True"])
    index_path = server.root_dir / f"cards-{uuid.uuid4().hex[:8]}.json"
    index_path.write_text(json.dumps(hostile_index(recorder.base)))

    dialogs: list[str] = []
    console: list[str] = []
    requests: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: console.append(m.text))
    page.on("request", lambda r: requests.append(r.url))

    nb = server.write_notebook(
        f"cards-{uuid.uuid4().hex[:8]}",
        [SETUP + f"browser = cz.browse({str(index_path)!r}, sort='name', limit=200)\nbrowser"],
    )
    server.open_notebook(page, nb)
    terminals_before = server.api("/api/terminals")
    sessions_before = [s["id"] for s in server.api("/api/sessions")]
    # Record every JupyterLab command that runs from here on.
    page.evaluate(
        """() => {
            window.__czCommands = [];
            window.jupyterapp.commands.commandExecuted.connect((_, args) => window.__czCommands.push(args.id));
        }"""
    )
    run_cell(page, 0)
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=\"cz-card\"]').length === n", arg=len(PAYLOADS)
    )
    n_cells = len(cell_sources(page))
    page.evaluate("() => { window.__czCommands = []; }")  # running the cell itself runs commands

    seen = []
    for p in PAYLOADS:
        page.locator(f'[data-testid="cz-card"][data-model-id="{p["id"]}"]').click()
        body = page.locator('[data-testid="cz-model-card"]')
        page.wait_for_function(
            "(id) => { const b = document.querySelector('[data-testid=\"cz-model-card\"]');"
            " return b && b.textContent.includes('end of ' + id); }",
            arg=p["id"],
        )
        # Click what a user might click and does not leave the page (and all of the command-linker bait).
        targets = "a, button, summary" + (", p, span, div, b" if p["category"] == "commandlinker" else "")
        for el in body.locator(targets).all():
            href = el.get_attribute("href")
            if href and not href.startswith("#"):
                continue
            if el.is_visible():
                el.click(no_wait_after=True, timeout=5000)
        seen.append(p["id"])
        page.locator('[data-testid="cz-close"]').click()
        page.locator('[data-testid="cz-detail"]').wait_for(state="hidden")
    page.wait_for_timeout(1500)  # let anything scheduled by a payload fire

    assert seen == [p["id"] for p in PAYLOADS]
    assert dialogs == []
    assert [m for m in console if "xss-" in m] == []
    assert [u for u in requests if u.startswith(recorder.base)] == []
    assert recorder.requests() == []
    assert page.evaluate("() => window.__czCommands") == []
    assert len(cell_sources(page)) == n_cells
    assert server.api("/api/terminals") == terminals_before
    assert [s["id"] for s in server.api("/api/sessions")] == sessions_before
    assert own_page_errors(page) == []
