"""A hostile file name in the download progress bar, in the real JupyterLab.

tqdm.notebook shows its label through an ipywidgets HTML widget. A notebook
cell runs `cz.fetch` of URLs whose last segment is an HTML/JS payload, served
slowly from 127.0.0.1 so the bar stays on screen; the page must show the name
as text: no dialog, no console message from the payload, no request to the
payload's URL, no element made from it.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import uuid

import pytest

from tests.httpserver import FileServer

from .harness import wait_for_kernel_idle

pytestmark = pytest.mark.browser


def payloads(port: int) -> list[str]:
    # Short enough to fit the 40 characters tqdm's label used to keep.
    return [
        "<img src=x onerror=alert(1)>",
        "<img src=x onerror=console.log('xss')>",
        f"<img src=//127.0.0.1:{port}/p>",
        "<svg onload=alert(2)>",
    ]


def test_hostile_file_name_in_the_progress_bar_is_plain_text(jupyter_server, page, recorder, tmp_path):
    # terminals on, as on a user's machine: the payload's real target
    lab_server = jupyter_server("lab", extra_args=("--ServerApp.terminals_enabled=True",))
    data = bytes(range(256)) * 1024  # 256 KiB at 128 KiB/s: the bar shows for ~2 s
    names = payloads(recorder.port)
    with FileServer() as files:
        calls = []
        for i, name in enumerate(names):
            url = files.add(f"/{i}/" + urllib.parse.quote(name, safe=""), data, rate=128 * 1024)
            calls.append(f"cz.fetch({url!r}, sha256={hashlib.sha256(data).hexdigest()!r}, quiet=False)")
        cell = (
            "import os\n"
            f"os.environ['CKPTZOO_CACHE'] = {str(tmp_path / 'cache')!r}\n"
            "os.environ.pop('CKPTZOO_QUIET', None)\n"
            "import ckptzoo_widgets as cz\n" + "\n".join(calls) + "\nprint('fetched', len(os.listdir("
            f"{str(tmp_path / 'cache' / 'blobs' / 'sha256')!r})))\n"
        )
        nb = lab_server.write_notebook(f"hostile-progress-{uuid.uuid4().hex[:8]}", [cell])

        dialogs: list[str] = []
        console: list[str] = []
        requests: list[str] = []

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", lambda m: console.append(m.text))
        page.on("request", lambda r: requests.append(r.url))
        lab_server.open_notebook(page, nb)
        terminals_before = lab_server.api("/api/terminals")
        kernels_before = {k["id"] for k in lab_server.api("/api/kernels")}

        # Start the cell as a user does, then, while a bar is on screen, read
        # what the page made of its label.
        seen: list[dict] = []
        page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(0).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        for _ in range(200):
            state = page.evaluate(
                """() => {
                    const out = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea');
                    if (!out) return null;
                    const labels = Array.from(out.querySelectorAll('.widget-html-content'));
                    return {
                        labels: labels.map(e => e.textContent),
                        elements: Array.from(out.querySelectorAll('img,svg,script,iframe')).length,
                        text: out.textContent,
                    };
                }"""
            )
            if state and state["labels"]:
                seen.append(state)
            if state and "fetched" in state["text"]:
                break
            page.wait_for_timeout(150)
        wait_for_kernel_idle(page)
        page.wait_for_timeout(1000)
        output = page.locator(".jp-NotebookPanel:visible .jp-OutputArea").first.inner_text()
        terminals_after = lab_server.api("/api/terminals")
        kernels_after = {k["id"] for k in lab_server.api("/api/kernels")}

    assert dialogs == []
    assert [m for m in console if "xss" in m] == []
    assert [u for u in requests if f":{recorder.port}" in u] == []
    assert recorder.requests() == []
    assert terminals_after == terminals_before  # no terminal opened by a script in the page
    assert kernels_after == kernels_before  # no kernel started
    shown = [label for state in seen for label in state["labels"] if label.strip()]
    assert shown, "a progress bar with a label was on screen"
    # the name breaks the file-name rules, so the bar names the download plainly
    assert any(label.startswith("download") for label in shown), shown
    assert all(state["elements"] == 0 for state in seen), seen  # no element made from it
    assert "fetched 1" in output, output  # all four downloads finished (same bytes: one blob)
