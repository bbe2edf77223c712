"""The page's requests to the browser: what each one does in the kernel.

`KernelOwned` (base.py) checks every request against the contract (protocol.py)
and the view's kinds, then asks `ZooBrowser._submit` whether it is queued (a
search or a refresh: the requests queued together run once, search_queue.py)
and else `_handle`; both hand it here. The page never names what it acts on
where the kernel knows it: an insert is the kernel's own selection, the Weights
view is the open model's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import FILTERS, RANGES
from .protocol import Request, RequestError
from .weights_view import WEIGHTS_REQUESTS

if TYPE_CHECKING:
    from .browser import ZooBrowser

__all__ = ["MAX_INSERT_EVENTS", "PageRequests"]

MAX_INSERT_EVENTS = 100  # `browser.insert_events` kept (the newest)


class PageRequests:
    """The handlers of one browser's page requests (`ZooBrowser._submit` and `_handle` delegate here)."""

    def __init__(self, browser: ZooBrowser) -> None:
        self.browser = browser

    def submit(self, request: Request, seq: int | None) -> bool:
        """Queue a search or a refresh (its queue replies once it ran): True; anything else: False."""
        browser = self.browser
        if request.kind == "search":  # typing: the newest of the searches queued together runs
            browser._searches.submit(request.fields, seq)  # replies once it ran (search_queue.py)
            return True
        if request.kind == "refresh":  # the Refresh button: the clicks queued together reopen once
            browser._refreshes.submit(request.fields, seq)
            return True
        return False

    def run_search(self, fields: dict[str, Any], seq: int | None) -> None:
        browser = self.browser
        with browser.hold_sync():
            browser._clear_error("request")
            if seq is not None:
                browser.page_seq = seq
            self.apply_search(fields)

    def run_refresh(self, fields: dict[str, Any], seq: int | None) -> None:
        browser = self.browser
        browser._clear_error("request")
        browser.refresh()

    def handle(self, request: Request) -> None:
        """Act on one checked request that is not queued (`KernelOwned` replies `{done: seq}` after)."""
        browser = self.browser
        fields = request.fields
        if request.kind == "select":
            ref = fields.get("ref", "")
            if ref:
                browser._select(ref)  # sets `selected` only when the zoo has that checkpoint
            else:
                browser.selected = ""
        elif request.kind == "library":
            library = fields.get("library", "")
            if library and library not in browser.libraries:
                raise RequestError("unknown library")
            browser.code_library = library
        elif request.kind == "compare":  # the Compare button: curves of the ticked models (compare_view.py)
            from .compare_view import compare_message

            browser.send({**compare_message(browser.zoo, fields), "seq": request.seq})  # the answer to that request
        elif request.kind == "compare-set":  # the ticks on the cards, in the order ticked
            browser.compare_set = list(dict.fromkeys(fields.get("models", [])))
        elif request.kind == "refresh":  # the Refresh button
            browser.refresh()
        elif request.kind in WEIGHTS_REQUESTS:  # the Weights view of the open model
            opened = browser.zoo.model(browser._detail_id) if browser.zoo is not None and browser._detail_id else None
            browser._weights.handle(request, opened)
        elif request.kind == "insert":
            # The reference comes from the kernel's own state, never from the message.
            browser.insert_events.append({"handled": fields.get("handled", False), "ref": browser.selected})
            del browser.insert_events[:-MAX_INSERT_EVENTS]

    def apply_search(self, fields: dict[str, Any]) -> None:
        """One search for all the changes of one request."""
        browser = self.browser
        changed = {k: v for k, v in fields.items() if getattr(browser, k) != v}
        if not changed:
            return
        with browser.hold_sync():
            with browser._quietly():
                for key, value in changed.items():
                    setattr(browser, key, value)
                if "offset" not in fields and set(changed) & {"query", "sort", *FILTERS, *RANGES}:
                    browser.offset = 0
            browser._refresh()
