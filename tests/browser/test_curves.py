"""A run's logged training curve in the detail chart, as a user sees it: JupyterLab in Chromium.

A Lightning run folder with TensorBoard event files (train loss every 10 steps with
one divergence spike, validation accuracy every 500) and three checkpoints: the
detail chart draws the logged curve as a line, thinned in the kernel to at most
500 points with the spike kept, and the checkpoints as dots on it. Writes
docs/img/curve-light.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .harness import notebook_cells, run_cell

pytest.importorskip("tensorboard")
from tensorboard.compat.proto.event_pb2 import Event  # noqa: E402
from tensorboard.compat.proto.summary_pb2 import Summary  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
STEPS = 20_000
SPIKE_STEP = 7_000
SPIKE = 9.5


def tid(scope, name: str):
    return scope.locator(f'[data-testid="{name}"]')


def train_loss(step: int) -> float:
    return SPIKE if step == SPIKE_STEP else 2.5 / (1 + step / 1000) + 0.05 * ((step // 10) % 7) / 7


def write_run(root: Path) -> None:
    version = root / "lightning_logs" / "version_0"
    (version / "checkpoints").mkdir(parents=True)
    for step in (5_000, 10_000, STEPS):
        (version / "checkpoints" / f"epoch={step // 5000 - 1}-step={step}.ckpt").write_bytes(b"x")
    writer = EventFileWriter(str(version))
    for step in range(0, STEPS + 1, 10):
        values = [Summary.Value(tag="train/loss", simple_value=train_loss(step))]
        if step % 500 == 0:
            values.append(Summary.Value(tag="val/acc", simple_value=0.5 + 0.4 * step / STEPS))
        writer.add_event(Event(step=step, wall_time=time.time(), summary=Summary(value=values)))
    writer.close()


def test_the_logged_curve_is_drawn_with_the_checkpoints_on_it(lab_server, page, tmp_path):
    write_run(tmp_path / "mnist")
    code = (
        "import ckptzoo_widgets as cz\n"
        f"browser = cz.browse({str(tmp_path / 'mnist')!r}, selected='mnist/version_0')\nbrowser"
    )
    nb = lab_server.write_notebook("curves", [code])
    lab_server.open_notebook(page, nb)
    run_cell(page, 0)
    assert not [o for o in notebook_cells(page)[0]["outputs"] if o.get("output_type") == "error"]
    tid(page, "cz-checkpoint").first.wait_for(state="visible")

    picker = tid(page, "cz-chart-metric")
    options = picker.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    assert {"train/loss", "val/acc"} <= {value for value, _ in options}
    assert all("(logged curve)" in text for value, text in options if value in ("train/loss", "val/acc"))
    picker.select_option("train/loss")

    chart = tid(page, "cz-chart")
    curve = tid(chart, "cz-curve")
    curve.wait_for(state="attached")
    drawn = curve.evaluate("l => l.getAttribute('points').trim().split(/\\s+/).length")
    assert 100 < drawn <= 500, drawn  # 2,001 points were logged
    # evenly logged steps: a linear axis, as TensorBoard draws it (the checkpoints decide)
    assert chart.get_attribute("data-x-scale") == "linear"
    # the three checkpoints are dots, the selected one filled
    assert chart.locator("circle.cz-chart-dot").count() == 3
    assert chart.locator("circle.cz-selected").count() == 1
    # the spike survived the thinning: the y axis reaches it, and the line goes up to it
    top = max(float(t) for t in chart.locator(".cz-tick-y").all_text_contents())
    assert top >= SPIKE
    ys = curve.evaluate("l => l.getAttribute('points').trim().split(/\\s+/).map(p => +p.split(',')[1])")
    tick_y = chart.locator(".cz-tick-y").evaluate_all("ts => ts.map(t => [+t.textContent, +t.getAttribute('y') - 3.5])")
    (v0, y0), (v1, y1) = tick_y[0], tick_y[-1]
    spike_y = y0 + (SPIKE - v0) * (y1 - y0) / (v1 - v0)
    assert min(ys) == pytest.approx(spike_y, abs=1.0)  # the highest point of the line is the spike
    note = tid(page, "cz-curve-note").inner_text()
    # 2,001 logged, 1,000 kept in the zoo by the TensorBoard reader, at most 500 drawn
    assert f"{drawn} of 1,000 points" in note and "checkpoints (3)" in note
    # clicking a dot selects that checkpoint, as before
    chart.locator("circle.cz-chart-dot").first.click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"cz-ref\"]').textContent.includes('step-5000')")
    page.wait_for_timeout(300)
    boxes = [
        page.locator(f".cz-detail {sel}").bounding_box()
        for sel in (".cz-chart-head", ".cz-chart-box", ".cz-curve-note")
    ]
    left, top_ = min(b["x"] for b in boxes), min(b["y"] for b in boxes)
    right = max(b["x"] + b["width"] for b in boxes)
    bottom = max(b["y"] + b["height"] for b in boxes)
    clip = {"x": left - 8, "y": top_ - 8, "width": right - left + 16, "height": bottom - top_ + 16}
    page.screenshot(path=str(DOCS_IMG / "curve-light.png"), clip=clip)
