"""Watching a training run in JupyterLab: the Refresh button shows checkpoints saved after the browser opened."""

from __future__ import annotations

import pytest

from .harness import notebook_cells, run_cell

pytestmark = pytest.mark.browser


def tid(scope, name: str):
    return scope.locator(f'[data-testid="{name}"]')


def test_refresh_button_shows_new_checkpoints(lab_server, page, tmp_path):
    checkpoints = tmp_path / "live" / "lightning_logs" / "version_0" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "epoch=0-step=10.ckpt").write_bytes(b"x")
    source = str(tmp_path / "live")
    code = f"import ckptzoo_widgets as cz\nbrowser = cz.browse({source!r}, selected='live/version_0')\nbrowser"
    nb = lab_server.write_notebook("refresh", [code])
    lab_server.open_notebook(page, nb)
    run_cell(page, 0)
    assert not [o for o in notebook_cells(page)[0]["outputs"] if o.get("output_type") == "error"]
    rows = tid(page, "cz-checkpoint")
    rows.first.wait_for(state="visible")
    assert rows.count() == 1

    # Training goes on: two more checkpoints land on disk; the user presses Refresh.
    (checkpoints / "epoch=1-step=20.ckpt").write_bytes(b"x")
    (checkpoints / "epoch=2-step=30.ckpt").write_bytes(b"x")
    button = tid(page, "cz-refresh")
    assert button.is_visible() and button.inner_text().strip().endswith("Refresh")
    button.click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-checkpoint\"]').length === 3")
    assert "epoch-2-step-30" in tid(page, "cz-checkpoints").inner_text()
    assert tid(page, "cz-error").is_hidden()
