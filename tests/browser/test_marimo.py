"""The browser in marimo (``marimo edit`` on 127.0.0.1, Chromium driven by Playwright).

The classroom notebook (notebooks/classroom_marimo.py, a copy in a temporary
folder so marimo's saves never touch the repository): the widget renders,
picking a checkpoint re-runs the cell that reads ``browser.value`` and it
loads that checkpoint's weights (the sha256 it prints is the file's), Insert
shows marimo's hint, and the copied code runs in a new cell.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import SERVER_START_TIMEOUT, _free_port

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "classroom_marimo.py"
ZOO = ROOT / "ckptzoo_widgets" / "zoo"


@dataclass
class MarimoServer:
    url: str
    proc: subprocess.Popen
    folder: Path
    log_path: Path

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        try:  # the kernel runs in the server's own process group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_marimo(folder: Path, notebook: Path) -> MarimoServer:
    """`marimo edit --headless` of `notebook` on 127.0.0.1, its config and home in `folder`."""
    # cells run when the page opens (marimo's own default is to wait for a click), read
    # from the folder's .marimo.toml: the user's ~/.config/marimo stays out of it
    (folder / ".marimo.toml").write_text("[runtime]\nauto_instantiate = true\n")
    env = {
        **os.environ,
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / ".config"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "CKPTZOO_CACHE": str(folder / "cache"),
        "CKPTZOO_QUIET": "1",
    }
    port = _free_port()
    cmd = [sys.executable, "-m", "marimo", "edit", str(notebook), "--headless", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-token", "--skip-update-check", "--no-sandbox"]
    log_path = folder / "marimo.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = MarimoServer(f"http://127.0.0.1:{port}", proc, folder, log_path)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"marimo exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"marimo did not answer in {SERVER_START_TIMEOUT}s:\n{server.log_tail()}")
        time.sleep(0.25)


@pytest.fixture
def marimo_classroom(tmp_path: Path) -> Iterator[MarimoServer]:
    notebook = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook)
    server = start_marimo(tmp_path, notebook)
    yield server
    server.stop()


def file_sha256(model: str, checkpoint: str) -> str:
    return hashlib.sha256((ZOO / model / f"{checkpoint}.safetensors").read_bytes()).hexdigest()


def loaded_line(page, ref: str):
    """The reactive cell's printed line for `ref` (the notebook prints `loaded <ref> sha256 <hex>`)."""
    return page.get_by_text(re.compile(rf"loaded {re.escape(ref)} sha256 [0-9a-f]{{64}}"))


@pytest.mark.browser
def test_marimo_picks_rerun_the_cell_that_reads_the_value_and_the_copied_code_runs(marimo_classroom, page):
    from playwright.sync_api import expect

    server = marimo_classroom
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.goto(server.url)

    # The widget renders, opened on the checkpoint the notebook names; the reactive cell loaded it.
    page.locator('[data-testid="cz-checkpoint"][data-checkpoint="epoch-30"]').wait_for()
    assert page.locator('[data-testid="cz-ref"]').inner_text() == "digits-mlp@epoch-1"
    first = loaded_line(page, "digits-mlp@epoch-1")
    first.wait_for()
    assert first.inner_text().split()[-1] == file_sha256("digits-mlp", "epoch-1")

    # Picking a checkpoint in the page re-runs the cell that reads browser.value: the new weights.
    page.locator('[data-testid="cz-checkpoint"][data-checkpoint="epoch-30"]').click()
    picked = loaded_line(page, "digits-mlp@epoch-30")
    picked.wait_for()
    assert picked.inner_text().split()[-1] == file_sha256("digits-mlp", "epoch-30")
    assert first.count() == 0  # the cell ran again: its old output is gone
    # and the cells downstream of it with it
    page.get_by_text(re.compile(r"digits-mlp@epoch-30: \d+/360 right")).wait_for()
    picked.scroll_into_view_if_needed()
    page.screenshot(path=str(ROOT / "docs" / "img" / "browser-marimo.png"))  # docs/widget.md

    # The code box holds marimo's form: the notebook's cz, no second import.
    code_box = page.locator('[data-testid="cz-code"][data-state="ready"]')
    code_box.wait_for()
    code = code_box.inner_text()
    assert code.strip() == 'mlp_epoch_30 = cz.load("digits-mlp@epoch-30")\nmlp_epoch_30'

    # Insert: marimo inserts no cell; the hint is marimo's line.
    page.locator('[data-testid="cz-insert"]').click()
    hint = page.locator('[data-testid="cz-hint"]')
    hint.wait_for()
    assert hint.inner_text().startswith("marimo: Copy the code into a new cell")

    # Copy, then paste into a new cell at the end of the notebook and run it.
    page.locator('[data-testid="cz-copy"]').click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('mlp_epoch_30'))")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == code.strip() + "\n"
    editors = page.locator('[data-testid="cell-editor"]')
    before = editors.count()
    page.get_by_role("button", name=re.compile("^python$", re.I)).last.click()
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"cell-editor\"]').length > n", arg=before)
    new_cell = editors.nth(before)
    new_cell.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+V")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"cell-editor\"]')[n].innerText.includes('mlp_epoch_30')",
        arg=before,
    )
    # the reactive cell shows the same model; the new cell's output is the second one
    shown = page.get_by_text(re.compile(r"digits-mlp@epoch-30: mlp, 2,410 parameters.*verified against the zoo index"))
    expect(shown).to_have_count(1)
    page.keyboard.press("ControlOrMeta+Enter")
    expect(shown).to_have_count(2)
    assert file_sha256("digits-mlp", "epoch-30")[:12] in shown.nth(1).inner_text()
    assert page.get_by_text(re.compile("multiple definitions|redefines", re.I)).count() == 0
