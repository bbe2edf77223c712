"""The notebook browser: `ZooBrowser`, an anywidget, and `browse()`.

The kernel owns the zoo: it searches, sorts and pages, and sends the browser
only the page of cards it shows, the detail of the model that is open, and
the load code of the selected checkpoint. The front end (``js/widget/``,
bundled into ``static/widget.js``) renders that state and asks for the
user's choices (query, filters, sort, page, selection, code library) through
custom messages the kernel checks (protocol.py); it never writes the
synced state. This module opens the zoo, runs the searches and holds the
Python-side API; the synced state itself: state.py; the page's requests:
requests.py; the search behind a page of cards: query.py; resolving a
selection, its load code, inserting it: selection.py; payloads sent to the
page: payload.py; the static view saved with the notebook: static_view.py.

Every kernel-side callback catches its own errors and shows them in the
widget's error box (the ``error`` trait): a source that fails to open or a
sort key that does not exist never prints a traceback wall, and the widget
keeps working.

Cell insertion (docs/frontend.md, "The labextension"): the front end dispatches a
``ckptzoo:insert-code`` DOM event that the labextension handles. Where no
extension handles it, the code box stays visible with a copy button, and
``browser.insert()`` run from a cell puts the code in the next cell through
IPython's ``set_next_input``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import traitlets as t

from .. import credentials
from ..errors import ZooError
from .base import ErrorKind
from .contract import FILTERS, PAGE_SIZE, RANGES, range_menus, search_pause_ms
from .front_end import MARIMO_IDIOM, detect
from .opener import Opener
from .payload import source_label
from .protocol import Request, summarise
from .query import Page, Query, Suggester, clamp_limit, filter_menus_of, live_failure, search_page, zoo_menus
from .requests import PageRequests
from .search_queue import SearchQueue
from .selection import Selecting, cell_code, put_in_next_cell
from .state import NO_CHOICE
from .static_view import SavedView
from .weights_view import WeightsRunner

__all__ = ["NO_CHOICE", "ZooBrowser", "browse"]

log = logging.getLogger(__name__)

MAX_WARNINGS_SHOWN = 20


def _open_zoo(source: Any) -> Any:
    from .. import catalog

    return catalog.open_zoo(source)


def _anchor_of(widget: Any) -> str:
    """The insert anchor: the widget's model id (a fresh id where no comm is open)."""
    try:
        return str(widget.model_id)
    except Exception:  # noqa: BLE001 - no comm (a plain Python session): any unique name will do
        return uuid.uuid4().hex


def _is_zoo(obj: Any) -> bool:
    return all(hasattr(obj, name) for name in ("search", "model", "load_code"))


class ZooBrowser(Selecting):
    """Search a checkpoint zoo, compare checkpoints, insert the load code.

    >>> browser = ZooBrowser(zoo)          # or cz.browse()
    >>> browser.selected                   # "digits-mlp@epoch-10" once the user picks
    >>> browser.code                       # the load code of that checkpoint
    >>> browser.insert()                   # put it in the next cell (any frontend)
    """

    VIEW = "browser"  # the requests this view's page may send (contract.VIEW_REQUESTS)

    def __init__(
        self,
        zoo: Any = None,
        *,
        source: Any = None,
        query: str = "",
        task: str | None = None,
        library: str | None = None,
        license: str | None = None,
        num_params: str | None = None,
        sort: str | None = None,
        limit: int = PAGE_SIZE,
        selected: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zoo = None
        self.insert_events: list[dict] = []
        self._quiet = False
        self._detail_id = ""
        self._last_sources: list[Any] = []  # what use_source opened last: what refresh() reads again
        self._suggester = Suggester(None)
        self._saved = SavedView()
        self._sort_menu = []  # the zoo's sort menu; `sort_options` adds the current sort
        self._front = detect()  # the load code's form and the fallback's hint
        self._opener = Opener()  # a live zoo's first page and menus, asked in a thread (opener.py)
        self._page_generation = 0  # bumped by each search: a first page answered later is dropped
        self._weights = WeightsRunner(self)  # the Weights view of the open model (weights_view.py)
        with self.hold_sync():
            self.front_end = self._front.payload()
            self.insert_anchor = _anchor_of(self)
            with self._quietly():
                self.query = query or ""
                self.task = task or ""
                self.library = library or ""
                self.license = license or ""
                self.num_params = num_params or ""
                self.sort = sort or ""
                self.limit = clamp_limit(limit)
        self._requests = PageRequests(self)  # the page's requests (requests.py)
        self._searches = SearchQueue(self._requests.run_search, self._reply)
        self._refreshes = SearchQueue(self._requests.run_refresh, self._reply)  # a burst of Refresh clicks: one reopen
        if zoo is not None and _is_zoo(zoo):
            self._use_zoo(zoo, source_label(zoo, zoo))
        else:
            self.use_source(zoo if zoo is not None else source)
        if selected:
            self.selected = selected

    # ---- opening -----------------------------------------------------------
    def use_source(self, source: Any = None) -> bool:
        """(Re)open the browser on a source; a failure shows in the error box. True on success."""
        refused: ZooError | None = None
        try:
            source = credentials.accept(source)  # user:pw@ in a URL: never shown in the page
        except ZooError as exc:  # an object URL naming an account or endpoint: shown, not raised
            refused = exc
        label = source_label(source, None)
        self._last_sources = [source] if isinstance(source, str) else list(source or [])
        self._opener.cancel()  # an opening under way is not this one
        with self.hold_sync():
            self.loading = True
            self.source_label = label
        try:
            if refused is not None:
                raise refused
            zoo = _open_zoo(source)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never raised into the notebook
            self._fail(exc, "open", f"Could not open the zoo {label!r}")
            self.zoo = None
            with self.hold_sync():
                with self._quietly():
                    self.selected = ""
                    self.offset = 0
                self.cards, self.total, self.filters, self.sort_options = [], 0, [], []
                self.more, self.notes, self.ranges, self.ready = False, [], [], False
                self._sort_menu = []
                self.detail, self.libraries, self.code, self.code_key = {}, [], "", ""
                self.warnings = []
                self._detail_id = ""
                self.page_version += 1
                self.loading = False
            return False
        self._use_zoo(zoo, label)
        return True

    def refresh(self) -> bool:
        """Read the source again (a runs folder, an MLflow experiment) and re-run the current query.

        New checkpoints and runs appear without reopening; the query, filters, page and
        selection stay (the selection while it still exists). True when the source opened.
        """
        sources = self._last_sources or list(getattr(self.zoo, "sources", None) or [])
        if not sources:
            return False
        return self.use_source(sources[0] if len(sources) == 1 else sources)

    def _use_zoo(self, zoo: Any, label: str) -> None:
        self._opener.cancel()
        self.zoo = zoo
        self._suggester = Suggester(zoo)
        with self.hold_sync():
            self.error, self.error_kind = "", ""
        problems = list(getattr(zoo, "errors", None) or [])
        live = bool(getattr(zoo, "is_live", False))
        # a live zoo's filter menus are a request: asked after its first page, off the cell (opener.py)
        filters, sorts, menu_warnings = zoo_menus(zoo, filters=not live)  # typed dicts: the traits hold plain dicts
        self._sort_menu = sorts
        with self.hold_sync():
            self.source_label = label
            self.warnings = menu_warnings + summarise(problems, MAX_WARNINGS_SHOWN, total=len(problems))
            self.filters = list(map(dict, filters))
            self.ranges = list(map(dict, range_menus(zoo)))
            self.search_pause_ms = search_pause_ms(zoo)
            self._update_sort_options()
            self._detail_id = ""
            self.detail = {}
        if live and self._open_live(zoo):
            return
        if live:
            self._show_filters(zoo, filter_menus_of(zoo))
        self._refresh()
        if self.selected:
            self._select(self.selected)

    def _open_live(self, zoo: Any) -> bool:
        """The first page, then the filter menus, asked in a thread (opener.py); False outside a loop."""
        query, offset, generation = self._query(), self.offset, self._page_generation

        def show_first(result: Page | BaseException) -> None:
            if self.zoo is zoo and self._page_generation == generation:  # no search ran since
                self._show_result(result)
                if self.selected and not isinstance(result, BaseException):
                    self._select(self.selected)

        with self.hold_sync():
            self.ready, self.loading = False, True
            self.cards, self.total, self.more, self.notes = [], 0, False, []
            self.page_version += 1
        return self._opener.start(
            [
                (lambda: search_page(zoo, query, offset), show_first),
                (lambda: filter_menus_of(zoo), lambda menus: self._show_filters(zoo, menus)),
            ]
        )

    def _show_filters(self, zoo: Any, result: Any) -> None:
        if self.zoo is not zoo or isinstance(result, BaseException):
            return
        menus, warnings = result
        with self.hold_sync():
            self.filters = list(map(dict, menus))
            if warnings:
                self.warnings = [*warnings, *self.warnings]

    # ---- searching and paging (query.py) ----------------------------
    @t.observe("query", *FILTERS, *RANGES, "sort")
    def _on_query(self, change: dict) -> None:
        if self._quiet:
            return
        with self._quietly():
            self.offset = 0
        self._refresh()

    @t.observe("offset", "limit")
    def _on_page(self, change: dict) -> None:
        if self._quiet:
            return
        if change["name"] == "limit" and self.limit != clamp_limit(self.limit):
            self.limit = clamp_limit(self.limit)
            return
        if self.offset < 0:
            self.offset = 0
            return
        self._refresh()

    def _query(self) -> Query:
        q = (self.query, self.task, self.library, self.license, self.sort, self.limit, self.num_params)
        return Query(*q)

    def _refresh(self) -> None:
        """Run the search for the current state and send the visible page."""
        self._page_generation += 1  # a first page still on its way (opener.py) is older than this one
        if self.zoo is None:
            with self.hold_sync():
                self.cards, self.total, self.more, self.notes = [], 0, False, []
                self.page_version += 1
                self.loading = False
            return
        self.loading = True
        try:
            result: Page | BaseException = search_page(self.zoo, self._query(), self.offset)
        except Exception as exc:  # noqa: BLE001
            result = exc
        self._show_result(result)

    def _show_result(self, result: Page | BaseException) -> None:
        """Send a page of cards, or the one line saying why there is none (the source's own line when
        a live source could not answer: "the Hub asks to wait 12 s")."""
        if isinstance(result, BaseException):
            with self.hold_sync():
                kind: ErrorKind = "search" if self.ready else "open"
                if live_failure(result):
                    self.last_exception = result
                    self._show_error(kind, str(result))
                else:
                    self._fail(result, kind, "Search failed")
                self.cards, self.total, self.more, self.notes = [], 0, False, []
                self.page_version += 1
                self.loading = False
            return
        page = result
        with self.hold_sync():
            if page.offset != self.offset:
                with self._quietly():
                    self.offset = page.offset
            self.cards = page.cards
            self.total = page.total
            self.more, self.notes = page.more, list(page.notes)
            self.suggestions = self._suggester.suggest(self.query) if page.total == 0 else []
            self._clear_error("search", "open")
            self.ready = True
            self.page_version += 1
            self.loading = False
        self._update_static()

    # ---- Python-side API -----------------------------------------------------
    def select(self, ref: str, library: str | None = None) -> str:
        """Select `model_id@checkpoint` from Python; returns its load code."""
        with self.hold_sync():
            if library is not None:
                with self._quietly():
                    self.code_library = library
            if ref == self.selected:
                self._select(ref)
            else:
                self.selected = ref
        if not self.code:
            raise ZooError(self.error or f"nothing to load for {ref!r}")
        return self.code

    def search(self, query: str = "", **filters: Any) -> list[dict]:
        """Set the query (and task/library/license/sort) from Python; returns the visible cards."""
        with self.hold_trait_notifications():
            self.query = query
            for key, value in filters.items():
                if key not in (*FILTERS, *RANGES, "sort"):
                    raise TypeError(f"unknown filter {key!r}")
                setattr(self, key, value or "")
        return list(self.cards)

    def insert(self, ref: str | None = None, library: str | None = None) -> str | None:
        """Put the load code in the next cell (IPython's set_next_input).

        Works in every IPython front end that honours it, from a cell:
        ``browser.insert()`` for the current selection, or
        ``browser.insert("digits-mlp@epoch-2")``. The code is not executed.
        Returns None inside IPython (so the cell shows no output); outside
        IPython, where there is no next cell, returns the code. In marimo,
        which has no next cell to fill, returns one line saying what to do
        instead.
        """
        if self._front.name == "marimo":
            return (
                "marimo has no next cell to fill: Copy the code from the browser into a new cell, "
                f"or load the pick reactively: model = {MARIMO_IDIOM}"
            )
        if ref is not None:
            if self.zoo is None:
                raise ZooError(self.error or "no zoo is open")
            code = cell_code(self.zoo.load_code(ref, library=library), self._front)
        else:
            code = self.code
        if not code:
            raise ZooError(
                "Nothing selected: open a model in the browser and pick a checkpoint, "
                "or pass a reference, e.g. browser.insert('digits-mlp@epoch-10')."
            )
        return put_in_next_cell(code)

    # ---- what the page may ask (requests.py) ----------------------------------
    # the checks and the `done` replies: base.KernelOwned; the page's writes: state.BrowserState.set_state
    def _submit(self, request: Request, seq: int | None) -> bool:
        return self._requests.submit(request, seq)

    def _handle(self, request: Request) -> None:
        self._requests.handle(request)


def browse(source_or_zoo: Any = None, query: str = "", **kw: Any) -> ZooBrowser:
    """Open the zoo browser: ``cz.browse()`` for the built-in zoo, or a source / a Zoo.

    Keyword arguments: task, library, license, sort (e.g. ``"-val_accuracy"``),
    limit (cards per page), selected (``"model@checkpoint"``).
    A source that cannot be opened gives a browser showing the error, not a traceback.
    """
    return ZooBrowser(source_or_zoo, query=query, **kw)
