"""The ckptzoo-widgets labextension in a real JupyterLab and Notebook 7.

The widget asks for a new cell by dispatching a DOM CustomEvent
``ckptzoo:insert-code`` (bubbling, cancelable, composed) with
``detail.code``; the labextension inserts a code cell below the cell that
holds the sender and cancels the event. These tests send that event from
inside a cell exactly as the widget does and read the notebook model back.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest

from .harness import (
    LABEXTENSION_NAME,
    cell_sources,
    notebook_cells,
    notebook_state,
    own_page_errors,
    run_cell,
)

CODE = 'import ckptzoo_widgets as cz\nmodel = cz.load("digits-mlp@epoch-10")  # inserted by a test\n'

FIRST = "print('first cell')"
SECOND = "second = 2"


def _two_cell_notebook(server, name: str) -> str:
    return server.write_notebook(
        name,
        [
            {
                "cell_type": "code",
                "source": FIRST,
                "execution_count": 1,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "first cell\n"}],
            },
            SECOND,
        ],
    )


# Dispatch the event from an element inside cell `index`, the way the widget
# does, and return whether it was cancelled (handled). `where` picks the
# origin: the output area, the input area, or a node inside a shadow root in
# the output (a widget rendering into shadow DOM).
_DISPATCH_JS = """([index, code, where]) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cell = panel.content.widgets[index];
    let origin;
    if (where === 'input') {
        origin = cell.node.querySelector('.jp-InputArea-editor');
    } else {
        const output = cell.node.querySelector('.jp-OutputArea-output');
        origin = document.createElement('button');
        origin.textContent = 'Insert code';
        if (where === 'shadow') {
            const host = document.createElement('div');
            output.appendChild(host);
            host.attachShadow({ mode: 'open' }).appendChild(origin);
        } else {
            output.appendChild(origin);
        }
    }
    const event = new CustomEvent('ckptzoo:insert-code', {
        bubbles: true, cancelable: true, composed: true, detail: { code },
    });
    const notCancelled = origin.dispatchEvent(event);
    return { defaultPrevented: event.defaultPrevented, returned: notCancelled };
}"""


def dispatch_insert(page, index: int, code, where: str = "output") -> dict:
    return page.evaluate(_DISPATCH_JS, [index, code, where])


@pytest.mark.browser
@pytest.mark.parametrize("where", ["output", "input", "shadow"])
def test_insert_code_below_the_sending_cell(any_server, page, where):
    name = _two_cell_notebook(any_server, f"insert-{any_server.kind}-{where}-{uuid.uuid4().hex[:8]}")
    any_server.open_notebook(page, name)

    result = dispatch_insert(page, 0, CODE, where)

    assert result == {"defaultPrevented": True, "returned": False}
    cells = notebook_cells(page)
    assert [c["source"] for c in cells] == [FIRST, CODE, SECOND]
    new = cells[1]
    assert new["cell_type"] == "code"
    assert new["execution_count"] is None, "the inserted cell must not run by itself"
    assert new["outputs"] == []
    # The new cell is active, in edit mode, and its editor gets the focus.
    page.wait_for_function(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.activeCellIndex === 1 && nb.mode === 'edit'
                && nb.activeCell.editor && nb.activeCell.editor.hasFocus();
        }"""
    )
    state = notebook_state(page)
    assert state == {"active_index": 1, "mode": "edit", "editor_focused": True}
    # Nothing ran in the kernel: the untouched first cell keeps its count.
    assert cells[0]["execution_count"] == 1
    assert not own_page_errors(page)


@pytest.mark.browser
def test_insert_below_last_cell_and_typing_goes_into_new_cell(lab_server, page):
    name = _two_cell_notebook(lab_server, f"insert-last-{uuid.uuid4().hex[:8]}")
    lab_server.open_notebook(page, name)

    result = dispatch_insert(page, 1, "x = 41", "input")
    assert result["defaultPrevented"] is True
    assert cell_sources(page) == [FIRST, SECOND, "x = 41"]
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.activeCell.editor.hasFocus()")
    # The focus is real: keys typed now land in the new cell.
    page.keyboard.press("End")
    page.keyboard.type(" + 1")
    assert cell_sources(page)[2] == "x = 41 + 1"
    # And the user runs it.
    ran = run_cell(page, 2)
    assert ran["execution_count"] == 1


@pytest.mark.browser
def test_events_without_string_code_or_outside_cells_are_ignored(notebook_server, page):
    name = _two_cell_notebook(notebook_server, f"ignored-{uuid.uuid4().hex[:8]}")
    notebook_server.open_notebook(page, name)

    for bad in [None, 42, {"code": "x"}, ["x"]]:
        result = dispatch_insert(page, 0, bad)
        assert result["defaultPrevented"] is False, bad
    outside = page.evaluate(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const event = new CustomEvent('ckptzoo:insert-code', {
                bubbles: true, cancelable: true, composed: true, detail: { code: 'x = 1' },
            });
            panel.node.dispatchEvent(event);
            return event.defaultPrevented;
        }"""
    )
    assert outside is False
    assert cell_sources(page) == [FIRST, SECOND]


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_without_the_extension_nobody_cancels(jupyter_server, page, kind):
    server = jupyter_server(kind, disabled_extensions=[LABEXTENSION_NAME])
    name = _two_cell_notebook(server, "disabled")
    server.open_notebook(page, name)
    plugins = page.evaluate("() => window.jupyterapp.hasPlugin('ckptzoo-widgets:insert-cell')")
    assert plugins is False

    result = dispatch_insert(page, 0, CODE)

    assert result == {"defaultPrevented": False, "returned": True}
    assert cell_sources(page) == [FIRST, SECOND]


@pytest.mark.browser
def test_plugin_is_loaded(any_server, page):
    server = any_server
    name = _two_cell_notebook(server, f"loaded-{uuid.uuid4().hex[:8]}")
    server.open_notebook(page, name, wait_for_kernel=False)
    assert page.evaluate("() => window.jupyterapp.hasPlugin('ckptzoo-widgets:insert-cell')")


def test_labextension_list_shows_it_enabled():
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert proc.returncode == 0, text
    line = next((ln for ln in text.splitlines() if LABEXTENSION_NAME in ln.split()), None)
    assert line is not None, f"{LABEXTENSION_NAME} is not installed:\n{text}"
    assert "enabled" in line and "OK" in line, line
    assert "not compatible" not in text, text
