"""A typo in a cell, as a student sees it in JupyterLab and Notebook 7: one line, not a traceback wall."""

from __future__ import annotations

import uuid

import pytest

from .harness import cell_locator, run_cell

pytestmark = pytest.mark.browser


def test_a_typo_shows_one_line_in_the_output_area(any_server, page):
    name = any_server.write_notebook(
        f"typo-{uuid.uuid4().hex[:8]}", ["import ckptzoo_widgets as cz", 'cz.load("digit-mlp")', "%tb"]
    )
    any_server.open_notebook(page, name)
    for index in range(3):
        run_cell(page, index)
    shown = cell_locator(page, 1).locator(".jp-OutputArea-output").inner_text()
    lines = [line for line in shown.splitlines() if line.strip()]
    assert lines[0].startswith("ZooError: unknown model 'digit-mlp' in zoo builtin; did you mean digits-mlp")
    assert lines[1:] == ["(%tb shows the full traceback)"], shown
    full = cell_locator(page, 2).locator(".jp-OutputArea-output").inner_text()
    assert "Traceback" in full and "loader.py" in full  # still there for the curious
