"""The notebook browser: `ZooBrowser`, an anywidget, and `browse()`.

The kernel owns the zoo: it searches, sorts and pages, and sends the browser
only the page of cards it shows, the detail of the model that is open, and
the load code of the selected checkpoint. The front end (``js/widget/``,
bundled into ``static/widget.js``) renders that state and asks for the
user's choices (query, filters, sort, page, selection, code library) through
custom messages the kernel checks (widget_protocol.py); it never writes the
synced state. This module holds that state and handles the page's requests;
the search behind a page of cards: widget_query.py; resolving a selection,
its load code, inserting it: widget_select.py; payloads sent to the page:
widget_payload.py; the static view saved with the notebook: widget_static.py.

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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import traitlets as t

from . import credentials
from .errors import ZooError
from .front_end import MARIMO_IDIOM, FrontEnd, detect
from .widget_base import ErrorKind, KernelOwned
from .widget_contract import FILTERS, LIMITS, PAGE_SIZE, RANGES, SortOption, range_menus, search_pause_ms, with_current
from .widget_open import Opener
from .widget_payload import source_label
from .widget_protocol import Request, RequestError, summarise
from .widget_query import Page, Query, Suggester, clamp_limit, filter_menus_of, live_failure, search_page, zoo_menus
from .widget_queue import SearchQueue
from .widget_select import cell_code, load_code, put_in_next_cell, resolve
from .widget_static import SavedView, static_view
from .widget_weights import WEIGHTS_REQUESTS, WeightsRunner

__all__ = ["ZooBrowser", "browse"]

log = logging.getLogger(__name__)

MAX_WARNINGS_SHOWN = 20
MAX_INSERT_EVENTS = 100
# `browser.value` when nothing is selected: the same keys, so `browser.value["ref"]` never fails
NO_CHOICE: dict[str, str] = {"ref": "", "model": "", "checkpoint": "", "library": "", "code": ""}


def _open_zoo(source: Any) -> Any:
    from . import catalog

    return catalog.open_zoo(source)


def _anchor_of(widget: Any) -> str:
    """The insert anchor: the widget's model id (a fresh id where no comm is open)."""
    try:
        return str(widget.model_id)
    except Exception:  # noqa: BLE001 - no comm (a plain Python session): any unique name will do
        return uuid.uuid4().hex


def _is_zoo(obj: Any) -> bool:
    return all(hasattr(obj, name) for name in ("search", "model", "load_code"))


class ZooBrowser(KernelOwned):
    """Search a checkpoint zoo, compare checkpoints, insert the load code.

    >>> browser = ZooBrowser(zoo)          # or cz.browse()
    >>> browser.selected                   # "digits-mlp@epoch-10" once the user picks
    >>> browser.code                       # the load code of that checkpoint
    >>> browser.insert()                   # put it in the next cell (any frontend)
    """

    VIEW = "browser"  # the requests this view's page may send (widget_contract.VIEW_REQUESTS)

    # Every synced trait flows kernel -> page: the page asks through custom
    # messages (widget_protocol.py) and `set_state` drops what it writes.
    # What the user asked for (set from those requests or from Python):
    query = t.Unicode("").tag(sync=True)
    task = t.Unicode("").tag(sync=True)
    library = t.Unicode("").tag(sync=True)
    license = t.Unicode("").tag(sync=True)
    num_params = t.Unicode("").tag(sync=True)  # a range filter (widget_contract.RANGES)
    sort = t.Unicode("").tag(sync=True)
    offset = t.Int(0).tag(sync=True)
    limit = t.Int(PAGE_SIZE).tag(sync=True)
    selected = t.Unicode("").tag(sync=True)
    code_library = t.Unicode("").tag(sync=True)

    # what the kernel answers
    cards = t.List(t.Dict()).tag(sync=True)
    total = t.Int(0, allow_none=True).tag(sync=True)  # None: the source does not say (live); see `more`
    more = t.Bool(False).tag(sync=True)  # rows exist past this page ("Load more")
    notes = t.List(t.Unicode()).tag(sync=True)  # what this page could not answer, one line each
    # The zoo is open and its first page arrived: the search box, filters and Compare work.
    ready = t.Bool(True).tag(sync=True)
    page_version = t.Int(0).tag(sync=True)
    page_seq = t.Int(0).tag(sync=True)  # the page's search request these cards answer (older answers are dropped)
    loading = t.Bool(False).tag(sync=True)
    # the kernel's decisions the page shows (widget_contract.py): it never re-derives them
    contract = t.Dict(LIMITS).tag(sync=True)  # limits: text length, page size, models compared
    filters = t.List(t.Dict()).tag(sync=True)  # [{key, label, all_label, values}]
    sort_options = t.List(t.Dict()).tag(sync=True)  # [{key, label, direction, value, group}], the current sort listed
    ranges = t.List(t.Dict()).tag(sync=True)  # [{key, label, all_label, options: [{value, label}]}] (live zoos)
    search_pause_ms = t.Int(50).tag(sync=True)  # the page's pause after a key before it asks
    detail = t.Dict().tag(sync=True)
    libraries = t.List(t.Unicode()).tag(sync=True)
    code = t.Unicode("").tag(sync=True)
    code_key = t.Unicode("").tag(sync=True)
    suggestions = t.List(t.Unicode()).tag(sync=True)  # close ids when nothing matches
    warnings = t.List(t.Unicode()).tag(sync=True)
    source_label = t.Unicode("").tag(sync=True)
    # The choice, for code that reacts to it: {ref, model, checkpoint, library, code} of the selected
    # checkpoint (NO_CHOICE when none). `browser.observe(fn, names="value")`; in marimo,
    # `mo.ui.anywidget(browser).value["value"]` re-runs the cells that read it (front_end.py).
    value = t.Dict(NO_CHOICE).tag(sync=True)
    # The front end the kernel found (front_end.py): the fallback's hint, whether the page writes
    # `value` back so the notebook re-runs the cells that read it (marimo).
    front_end = t.Dict().tag(sync=True)
    # What survives a page reload (the kernel holds it; the page asks to change it): the models
    # ticked for comparison, and the anchor the labextension tags this browser's inserted cells
    # with (cell metadata ``ckptzoo.browser``): the next Insert goes below the last of them,
    # found in the notebook itself, not in the page's memory.
    compare_set = t.List(t.Unicode()).tag(sync=True)
    insert_anchor = t.Unicode("").tag(sync=True)

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
        self.zoo: Any = None
        self.insert_events: list[dict] = []
        self._quiet = False
        self._detail_id = ""
        self._last_sources: list[Any] = []  # what use_source opened last: what refresh() reads again
        self._suggester = Suggester(None)
        self._saved = SavedView()
        self._sort_menu: list[SortOption] = []  # the zoo's sort menu; `sort_options` adds the current sort
        self._front: FrontEnd = detect()  # the load code's form and the fallback's hint
        self._opener = Opener()  # a live zoo's first page and menus, asked in a thread (widget_open.py)
        self._page_generation = 0  # bumped by each search: a first page answered later is dropped
        self._weights = WeightsRunner(self)  # the Weights view of the open model (widget_weights.py)
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
        self._searches = SearchQueue(self._run_search, self._reply)
        self._refreshes = SearchQueue(self._run_refresh, self._reply)  # a burst of Refresh clicks: one reopen
        if zoo is not None and _is_zoo(zoo):
            self._use_zoo(zoo, source_label(zoo, zoo))
        else:
            self.use_source(zoo if zoo is not None else source)
        if selected:
            self.selected = selected

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set traits without the observers re-querying (they return early while `_quiet`)."""
        previous, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = previous

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
        # a live zoo's filter menus are a request: asked after its first page, off the cell (widget_open.py)
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
        """The first page, then the filter menus, asked in a thread (widget_open.py); False outside a loop."""
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

    # ---- searching and paging (widget_query.py) ----------------------------
    def _update_sort_options(self) -> None:
        self.sort_options = list(map(dict, with_current(self._sort_menu, self.sort)))

    @t.observe("sort")
    def _on_sort(self, change: dict) -> None:
        self._update_sort_options()

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
        self._page_generation += 1  # a first page still on its way (widget_open.py) is older than this one
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

    # ---- selection, detail, code (widget_select.py) ---------------------------
    @t.observe("selected")
    def _on_selected(self, change: dict) -> None:
        if self._quiet:
            return
        self._select(change["new"])

    @t.observe("code_library")
    def _on_code_library(self, change: dict) -> None:
        if self._quiet:
            return
        self._update_code()

    def _select(self, ref: str) -> None:
        ref = (ref or "").strip()
        if not ref:
            with self.hold_sync():
                self.code, self.code_key, self.libraries = "", "", []
            self._update_static()
            return
        if self.zoo is None:
            self._show_error("select", "No zoo is open: nothing to select.")
            return
        try:
            selection = resolve(self.zoo, ref, self._detail_id, self.detail)
        except Exception as exc:  # noqa: BLE001
            with self.hold_sync():
                self._fail(exc, "select", f"Could not open {ref!r}")
                self.code, self.code_key, self.libraries = "", "", []
            return
        with self.hold_sync():
            if selection.detail is not None:
                self._detail_id = selection.model_id
                self.detail = selection.detail
            if selection.ref != self.selected:
                with self._quietly():
                    self.selected = selection.ref
            self._clear_error("select")
            self._update_code()

    def _update_code(self) -> None:
        ref = self.selected
        if not ref or self.zoo is None:
            with self.hold_sync():
                self.code, self.code_key, self.libraries = "", "", []
            self._update_static()
            return
        try:
            chosen = load_code(self.zoo, ref, self.code_library, self._front)
        except Exception as exc:  # noqa: BLE001
            with self.hold_sync():
                self._fail(exc, "code", f"No load code for {ref!r}")
                self.code, self.code_key = "", ""
            return
        with self.hold_sync():
            if chosen.library != self.code_library:
                with self._quietly():
                    self.code_library = chosen.library
            self.libraries = chosen.libraries
            self.code = chosen.code
            self.code_key = f"{ref}#{chosen.library}"
            self._update_value()  # the code may change under the same key (the zoo read again)
            self._clear_error("code")
        self._update_static()

    @t.observe("code_key")
    def _on_code_key(self, change: dict) -> None:
        self._update_value()

    def _update_value(self) -> None:
        """`value`: the choice as {ref, model, checkpoint, library, code}, from the code and its key."""
        ref, _, library = self.code_key.rpartition("#")
        if not self.code or not ref:
            self.value = dict(NO_CHOICE)
            return
        model, _, checkpoint = ref.partition("@")
        library = library or (self.libraries[0] if self.libraries else "")
        self.value = {"ref": ref, "model": model, "checkpoint": checkpoint, "library": library, "code": self.code}

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

    # ---- the static view saved with the notebook (widget_static.py) -----------
    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display the live widget and, beside it, a static view for viewers without a kernel."""
        from IPython.display import display

        data, metadata = self._repr_mimebundle_(**kwargs) or ({}, {})
        display(data, metadata=metadata, raw=True)
        self._saved.show(f"ckptzoo-static-{self.model_id}", self.static_view())

    def static_view(self) -> dict[str, str]:
        """What the browser shows now as text/html and text/plain (saved with the notebook)."""
        selected = self.selected if self.code else ""
        return static_view(self.source_label, self.query, self.total, self.offset, self.cards, selected, self.code)

    def _update_static(self) -> None:
        if self._saved.display_id:  # only once displayed
            self._saved.update(self.static_view())

    # ---- what the page may ask (widget_protocol.py) ---------------------------
    # set_state (the page's writes: dropped), the checks and the `done` replies: widget_base.KernelOwned
    def set_state(self, sync_data: Any) -> None:
        """The page's echo of the kernel's own `value` is let through silently; any other write is dropped.

        marimo re-runs the cells that read a widget only when the page writes one of its traits,
        so where the front end is reactive the page writes `value` back as the kernel sent it.
        Nothing changes (it is the kernel's value) and nothing is sent back (no loop).
        """
        if isinstance(sync_data, dict) and list(sync_data) == ["value"] and sync_data["value"] == self.value:
            return
        super().set_state(sync_data)

    def _submit(self, request: Request, seq: int | None) -> bool:
        if request.kind == "search":  # typing: the newest of the searches queued together runs
            self._searches.submit(request.fields, seq)  # replies once it ran (widget_queue.py)
            return True
        if request.kind == "refresh":  # the Refresh button: the clicks queued together reopen once
            self._refreshes.submit(request.fields, seq)
            return True
        return False

    def _run_search(self, fields: dict[str, Any], seq: int | None) -> None:
        with self.hold_sync():
            self._clear_error("request")
            if seq is not None:
                self.page_seq = seq
            self._apply_search(fields)

    def _run_refresh(self, fields: dict[str, Any], seq: int | None) -> None:
        self._clear_error("request")
        self.refresh()

    def _handle(self, request: Request) -> None:
        fields = request.fields
        if request.kind == "select":
            ref = fields.get("ref", "")
            if ref:
                self._select(ref)  # sets `selected` only when the zoo has that checkpoint
            else:
                self.selected = ""
        elif request.kind == "library":
            library = fields.get("library", "")
            if library and library not in self.libraries:
                raise RequestError("unknown library")
            self.code_library = library
        elif request.kind == "compare":  # the Compare button: curves of the ticked models (curves.py)
            from .curves import compare_message

            self.send({**compare_message(self.zoo, fields), "seq": request.seq})  # the answer to that request
        elif request.kind == "compare-set":  # the ticks on the cards, in the order ticked
            self.compare_set = list(dict.fromkeys(fields.get("models", [])))
        elif request.kind == "refresh":  # the Refresh button
            self.refresh()
        elif request.kind in WEIGHTS_REQUESTS:  # the Weights view of the open model
            opened = self.zoo.model(self._detail_id) if self.zoo is not None and self._detail_id else None
            self._weights.handle(request, opened)
        elif request.kind == "insert":
            # The reference comes from the kernel's own state, never from the message.
            self.insert_events.append({"handled": fields.get("handled", False), "ref": self.selected})
            del self.insert_events[:-MAX_INSERT_EVENTS]

    def _apply_search(self, fields: dict[str, Any]) -> None:
        """One search for all the changes of one request."""
        changed = {k: v for k, v in fields.items() if getattr(self, k) != v}
        if not changed:
            return
        with self.hold_sync():
            with self._quietly():
                for key, value in changed.items():
                    setattr(self, key, value)
                if "offset" not in fields and set(changed) & {"query", "sort", *FILTERS, *RANGES}:
                    self.offset = 0
            self._refresh()


def browse(source_or_zoo: Any = None, query: str = "", **kw: Any) -> ZooBrowser:
    """Open the zoo browser: ``cz.browse()`` for the built-in zoo, or a source / a Zoo.

    Keyword arguments: task, library, license, sort (e.g. ``"-val_accuracy"``),
    limit (cards per page), selected (``"model@checkpoint"``).
    A source that cannot be opened gives a browser showing the error, not a traceback.
    """
    return ZooBrowser(source_or_zoo, query=query, **kw)
