"""The zoos people name first, merged in one browser (issue 20): `cz.browse(["builtin", "torchvision",
"timm"])` in JupyterLab; find resnet50 from torchvision and insert its code.

The kernel makes the installed torchvision importable through the test fixture
tests/torchvision_ops.py (it says why; the product never does this), and runs offline: timm's
catalogue comes from the installed timm, torchvision's from its weights registry.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .harness import cell_sources, notebook_cells, run_cell
from .test_widget import tid, wait_code_ready

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parents[1]
MODEL = "torchvision/resnet50"


@pytest.fixture(scope="module")
def merged():
    import torchvision_ops

    torchvision_ops.ensure_importable()
    pytest.importorskip("timm")
    import ckptzoo_widgets as cz

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CKPTZOO_OFFLINE", "1")
        return cz.open_zoo(["builtin", "torchvision", "timm"])


SETUP = (
    "import os, sys, tempfile\n"
    "os.environ['CKPTZOO_CACHE'] = tempfile.mkdtemp(prefix='cz-merged-cache-')\n"
    "os.environ['CKPTZOO_OFFLINE'] = '1'\n"
    f"sys.path.insert(0, {str(TESTS)!r})\n"
    "import torchvision_ops\n"
    "torchvision_ops.ensure_importable()  # a test fixture: tests/torchvision_ops.py says why\n"
    "import ckptzoo_widgets as cz\n"
    'browser = cz.browse(["builtin", "torchvision", "timm"])\n'
    "browser"
)


def test_find_resnet50_from_torchvision_and_insert_its_code(lab_server, page, merged):
    name = lab_server.write_notebook(f"merged-{uuid.uuid4().hex[:8]}", [SETUP, "print('after')"])
    lab_server.open_notebook(page, name)
    run_cell(page, 0, timeout_ms=180_000)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"cz-card\"]').length > 0")
    sources = set(tid(page, "cz-card-source").all_inner_texts())
    assert sources and sources <= {"builtin", "torchvision", "timm"}  # each card says where it came from

    search = tid(page, "cz-search")
    search.click()
    search.press_sequentially("resnet50", delay=40)
    card = page.locator(f'[data-testid="cz-card"][data-model-id="{MODEL}"]')
    card.wait_for()
    assert card.locator('[data-testid="cz-card-source"]').inner_text() == "torchvision"
    card.click()

    entry = merged.model(MODEL)
    ref = f"{MODEL}@{entry.default_checkpoint}"
    shown = wait_code_ready(page, ref)
    expected = merged.load_code(ref)
    assert shown.strip() == expected.strip() and 'get_model("resnet50"' in expected
    rows = tid(page, "cz-checkpoint").evaluate_all("els => els.map(e => e.dataset.checkpoint)")
    assert rows and set(rows) == {c.name for c in entry.checkpoints}

    n = len(cell_sources(page))
    tid(page, "cz-insert").click()
    page.wait_for_function("(n) => window.jupyterapp.shell.currentWidget.content.model.cells.length === n", arg=n + 1)
    cells = notebook_cells(page)
    assert cells[1]["source"].strip() == expected.strip() and cells[2]["source"] == "print('after')"
