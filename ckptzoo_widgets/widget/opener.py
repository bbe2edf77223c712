"""Opening a live zoo without blocking the cell: its first page and menus asked in a thread.

A live source (`hf:`) answers over the network: the first page of cards and the
filter menus are one request each, and a Hub that accepts the connection and
stays silent costs the client's timeout (`hub_client.TIMEOUT_S`) per request.
So the browser appears at once, empty, its search box, filters and Compare
disabled (``ready`` False), and `Opener` asks for the first page in a worker
thread, then for the menus. Each answer is handed back to the kernel's event
loop (`loop.call_soon_threadsafe`), where the widget sets its traits: the
synced state is only ever written from the kernel's own thread.

An answer that is no longer wanted is dropped by its generation: the browser
was opened again (Refresh), or a search ran on the loop meanwhile (its page is
newer than the first one).

Outside a running event loop (a script, a test) the work runs at once, as the
search queue's does (widget/search_queue.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["Opener", "running_loop"]


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Opener:
    """Runs the steps of one opening in a thread, each step's result applied on the event loop."""

    def __init__(self) -> None:
        self.generation = 0  # bumped by each opening: an older opening's answers are dropped
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, steps: list[tuple[Callable[[], Any], Callable[[Any], None]]]) -> bool:
        """Run each `(work, apply)` in turn: `work()` in a thread, `apply(result or exception)` on the loop.

        Returns False (nothing started) outside a running event loop: the caller opens at once."""
        loop = running_loop()
        if loop is None:
            return False
        self.generation += 1
        generation = self.generation

        def deliver(apply: Callable[[Any], None], result: Any) -> None:
            if generation != self.generation:
                return  # opened again since: not this opening's answer any more
            try:
                apply(result)
            except Exception:  # noqa: BLE001 - a loop callback must not raise; the widget shows its own errors
                log.exception("ckptzoo browser: applying an answer failed")

        def run() -> None:
            for work, apply in steps:
                if generation != self.generation:
                    return
                try:
                    result: Any = work()
                except Exception as exc:  # noqa: BLE001 - handed to the widget, which shows one line
                    result = exc
                try:
                    loop.call_soon_threadsafe(deliver, apply, result)
                except RuntimeError:  # the loop is closed: the kernel is going away
                    return

        self._thread = threading.Thread(target=run, name="ckptzoo-open", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Drop the answers of the opening under way (its requests still end, within their timeouts)."""
        self.generation += 1

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the worker to finish its requests (its answers still go through the loop)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
