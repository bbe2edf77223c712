"""One protocol for every view the kernel draws in the page (the browser, the compare chart).

The kernel owns the state; the page asks. `KernelOwned` is the base of every
widget of the package:

- Synced traits flow kernel -> page only: `set_state` (what the page writes)
  is dropped, counted in ``rejected_updates``, and the kernel's values are
  sent back.
- The page asks through custom messages, each checked by
  `widget.protocol.parse_request` against the kinds the view accepts
  (`widget.contract.VIEW_REQUESTS`); a message that fails the checks is
  counted in ``rejected_messages`` and shown as an error of kind "request".
- Every request gets ``{"done": seq}`` once handled (a view may answer a kind
  later, after a queue, by returning True from `_submit`).
- Errors have kinds (`ErrorKind`), not message prefixes: `_show_error` sets
  ``error`` and ``error_kind``; `_clear_error(*kinds)` clears only those kinds.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anywidget
import traitlets as t

from ..text import one_line
from .assets import CSS, ESM
from .contract import DONE, MAX_SEQ, VIEW_REQUESTS
from .payload import error_line
from .protocol import Request, RequestError, parse_request

__all__ = ["ErrorKind", "KernelOwned"]

log = logging.getLogger(__name__)

# What failed: the zoo would not open, a search, a selection, the load code, a request
# from the page that failed the checks, a comparison.
ErrorKind = Literal["open", "search", "select", "code", "request", "compare"]


class KernelOwned(anywidget.AnyWidget):
    """A view whose state the kernel owns: the page asks through checked requests (see the module)."""

    _esm = ESM
    _css = CSS
    VIEW = "browser"  # which requests the page may send (widget.contract.VIEW_REQUESTS)

    error = t.Unicode("").tag(sync=True)
    error_kind = t.Unicode("").tag(sync=True)  # an ErrorKind, "" when no error is shown

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.last_exception: BaseException | None = None
        self.rejected_messages = 0  # requests from the page that failed the checks
        self.rejected_updates = 0  # attempts by the page to write synced state
        self.on_msg(self._on_custom_msg)

    # ---- errors ----------------------------------------------------------------
    def _show_error(self, kind: ErrorKind, message: str, limit: int = 600) -> None:
        with self.hold_sync():
            self.error = one_line(message, limit)
            self.error_kind = kind

    def _fail(self, exc: BaseException, kind: ErrorKind, context: str = "") -> None:
        self.last_exception = exc
        log.debug("ckptzoo widget: %s", context or "error", exc_info=exc)
        message = error_line(exc)
        self._show_error(kind, f"{context}: {message}" if context else message)

    def _clear_error(self, *kinds: ErrorKind) -> None:
        """Clear the error shown when it is of one of `kinds` (an action of that kind succeeded)."""
        if self.error_kind in kinds:
            with self.hold_sync():
                self.error = ""
                self.error_kind = ""

    # ---- what the page may ask ---------------------------------------------------
    def set_state(self, sync_data: Any) -> None:
        """The page does not write kernel state: drop what it sent, send the kernel's values back."""
        self.rejected_updates += 1
        if not isinstance(sync_data, dict):
            return
        keys = [k for k in list(sync_data)[: len(self.keys)] if isinstance(k, str) and k in self.keys]
        if keys:
            self.send_state(keys)

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        seq = content.get("seq") if isinstance(content, dict) else None
        seq = seq if type(seq) is int and 0 <= seq <= MAX_SEQ else None
        queued = False
        try:
            request = parse_request(content, buffers or (), kinds=VIEW_REQUESTS[self.VIEW])
            queued = self._submit(request, seq)
            if not queued:
                self._clear_error("request")
                self._handle(request)
        except RequestError as exc:
            self.rejected_messages += 1
            self._show_error("request", f"Ignored a request from the page: {exc}", 300)
        finally:
            if not queued:
                self._reply(seq)

    def _submit(self, request: Request, seq: int | None) -> bool:
        """Queue `request` to run later (the view replies then): True. Default: run it now."""
        return False

    def _handle(self, request: Request) -> None:
        """Act on one checked request of this view."""
        raise NotImplementedError

    def _reply(self, seq: int | None) -> None:
        """Tell the page that a request was handled, so it drops its provisional state."""
        if self.comm is not None:
            self.send({DONE: seq})
