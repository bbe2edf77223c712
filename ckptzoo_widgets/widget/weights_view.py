"""The browser's Weights view, kernel side: the grid computed in a thread, sent as it fills, stoppable.

The page asks (requests of `widget.contract.REQUESTS`, checked by `widget/base.py`):

- ``{"request": "weights", "against": "previous" | "start"}``: the grid of the open
  model (never a model the page names: the kernel's own selection). A grid already
  running is stopped first.
- ``{"request": "weights-stop"}``: stop between two groups of tensors; what was
  measured stays on the page, marked stopped.
- ``{"request": "weights-pair", "checkpoint": name}``: the two checkpoints of one
  column side by side (its reference is the kernel's: the previous one or the first).

The kernel answers ``{"event": "weights-data", "seq", "data" | "error"}`` once the
rows are known, then after each column (`widget.weights_grid.grid_payload`, bounded),
and ``{"event": "weights-pair", "seq", "data" | "error"}``.

The work runs in a worker thread, one column at a time (`weights.measure` on the
column's two checkpoints: the same plan as the whole grid, so records are shared
with `cz.weight_changes`). Each partial result is handed to the kernel's event loop
(`loop.call_soon_threadsafe`) and the worker waits until it was sent before it
measures the next column: a stop request read from the page meanwhile ends the
grid before another byte is read, and the comm never queues more than one grid.
Outside a running event loop (a script, a test) the work runs at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from ..safety import check_checkpoint_name
from ..weights.measure import measure
from .contract import WEIGHTS_DATA, WEIGHTS_PAIR, WEIGHTS_REQUESTS
from .payload import error_line
from .protocol import Request, RequestError
from .weights_grid import Grid, build_grid, grid_payload, pair_payload

__all__ = ["WEIGHTS_REQUESTS", "WeightsRunner"]

log = logging.getLogger(__name__)

AGAINST = ("previous", "start")
ACK_WAIT_S = 1.0  # how often a waiting worker looks whether it was stopped or the loop closed


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Job:
    """One piece of work: a thread, a stop flag, and the hand-over of its messages to the loop."""

    def __init__(self, send: Callable[[dict], None], loop: asyncio.AbstractEventLoop | None) -> None:
        self.stop = threading.Event()
        self.cancelled = False  # a newer job replaced this one: its messages are dropped
        self._send = send
        self._loop = loop
        self.thread: threading.Thread | None = None

    def deliver(self, message: dict) -> bool:
        """Send `message` from the kernel's thread; wait until it went. False: the job is over."""
        if self.cancelled:
            return False
        if self._loop is None:
            self._send(message)
            return True
        sent = threading.Event()

        def on_loop() -> None:
            try:
                if not self.cancelled:
                    self._send(message)
            except Exception:  # noqa: BLE001 - a loop callback must not raise
                log.exception("ckptzoo weights: sending a result failed")
            finally:
                sent.set()

        try:
            self._loop.call_soon_threadsafe(on_loop)
        except RuntimeError:  # the loop is closed: the kernel is going away
            return False
        while not sent.wait(ACK_WAIT_S):
            if self._loop.is_closed():
                return False
        return not self.cancelled

    def run(self, work: Callable[[_Job], None]) -> None:
        if self._loop is None:
            work(self)
            return
        self.thread = threading.Thread(target=work, args=(self,), name="ckptzoo-weights", daemon=True)
        self.thread.start()


class WeightsRunner:
    """The Weights view of one browser: its current grid, the job filling it, the pair asked last."""

    def __init__(self, widget: Any) -> None:
        self._widget = widget
        self.grid: Grid | None = None
        self._grid_job: _Job | None = None
        self._pair_job: _Job | None = None

    def _send(self, message: dict) -> None:
        if self._widget.comm is not None:
            self._widget.send(message)

    @property
    def busy(self) -> bool:
        job = self._grid_job
        return job is not None and job.thread is not None and job.thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the running jobs' threads (their messages still go through the loop)."""
        for job in (self._grid_job, self._pair_job):
            if job is not None and job.thread is not None:
                job.thread.join(timeout)

    # ---- requests -------------------------------------------------------------------
    def handle(self, request: Request, entry: Any) -> None:
        """Act on a checked request of the Weights view; `entry` is the open model (None: none open)."""
        if request.kind == "weights-stop":
            self.stop()
            return
        if entry is None:
            raise RequestError("no model is open")
        if request.kind == "weights":
            against = request.fields.get("against", "previous")
            if against not in AGAINST:
                raise RequestError("against must be 'previous' or 'start'")
            self.start(entry, against, request.seq)
        elif request.kind == "weights-pair":
            self.pair(entry, request.fields.get("checkpoint", ""), request.seq)

    def stop(self) -> None:
        """Stop the grid being filled (between two groups of tensors); its columns so far stay."""
        if self._grid_job is not None:
            self._grid_job.stop.set()

    def cancel(self) -> None:
        """Stop and drop every job (the browser opened another zoo)."""
        for job in (self._grid_job, self._pair_job):
            if job is not None:
                job.cancelled = True
                job.stop.set()

    def start(self, entry: Any, against: str, seq: int | None) -> None:
        if self._grid_job is not None:
            self._grid_job.cancelled = True
            self._grid_job.stop.set()
        job = _Job(self._send, _running_loop())
        self._grid_job = job

        def work(job: _Job) -> None:
            try:
                grid = build_grid(entry, against)
            except Exception as exc:  # noqa: BLE001 - shown as one line in the view
                job.deliver({"event": WEIGHTS_DATA, "seq": seq, "error": error_line(exc)})
                return
            self.grid = grid
            if job.deliver({"event": WEIGHTS_DATA, "seq": seq, "data": grid_payload(grid)}):
                self._fill(job, grid, seq)

        job.run(work)

    def _fill(self, job: _Job, grid: Grid, seq: int | None) -> None:
        def go_on(_done: int, _total: int) -> bool:
            return not job.stop.is_set()

        for column in range(grid.columns):
            if job.stop.is_set():
                break
            pair = [grid.reference(column), grid.checkpoints[column + 1]]
            try:
                result = measure(pair, [(0, 1)], tensors=grid.tensors, progress=go_on)
            except Exception as exc:  # noqa: BLE001
                grid.state, grid.error = "error", error_line(exc)
                break
            if not result.complete:
                break
            grid.fill(column, result)
            if column + 1 < grid.columns and not job.deliver(
                {"event": WEIGHTS_DATA, "seq": seq, "data": grid_payload(grid)}
            ):
                return
        if grid.state != "error":
            grid.state = "complete" if grid.done == grid.columns else "stopped"
        job.deliver({"event": WEIGHTS_DATA, "seq": seq, "data": grid_payload(grid)})

    def pair(self, entry: Any, checkpoint: str, seq: int | None) -> None:
        try:
            check_checkpoint_name(checkpoint)
        except ValueError:
            raise RequestError("not a valid checkpoint name") from None
        grid = self.grid
        column = grid.column_of(checkpoint) if grid is not None and grid.model == entry.id else None
        if grid is None or column is None:
            raise RequestError("no such column in the Weights view")
        if self._pair_job is not None:
            self._pair_job.cancelled = True
        job = _Job(self._send, _running_loop())
        self._pair_job = job

        def work(job: _Job) -> None:
            try:
                pair = [grid.reference(column), grid.checkpoints[column + 1]]
                result = measure(pair, [(0, 1)], tensors=grid.tensors)
                message = {"event": WEIGHTS_PAIR, "seq": seq, "data": pair_payload(grid, column, result)}
            except Exception as exc:  # noqa: BLE001
                message = {"event": WEIGHTS_PAIR, "seq": seq, "error": error_line(exc)}
            job.deliver(message)

        job.run(work)
