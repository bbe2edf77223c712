"""The browser's synced state: every trait the page reads, and the one write the page may make.

Every synced trait flows kernel -> page. The page asks through custom messages
(protocol.py, handled in requests.py) and `set_state` drops what it writes,
except its echo of `value` where the front end is reactive (marimo). The
kernel's side of each panel is in the subclasses: the selection (selection.py,
`Selecting`), opening and searching (browser.py, `ZooBrowser`). This base holds
the traits, what each means, and what is derived from them alone (`value`,
`sort_options`, the static view saved with the notebook).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import traitlets as t

from .base import KernelOwned
from .contract import LIMITS, PAGE_SIZE, SortOption, with_current
from .front_end import FrontEnd
from .static_view import SavedView, static_view

__all__ = ["NO_CHOICE", "BrowserState"]

# `browser.value` when nothing is selected: the same keys, so `browser.value["ref"]` never fails
NO_CHOICE: dict[str, str] = {"ref": "", "model": "", "checkpoint": "", "library": "", "code": ""}


class BrowserState(KernelOwned):
    """The synced traits of `ZooBrowser` (browser.py), and the values derived from them alone."""

    # Set by ZooBrowser.__init__ (browser.py):
    zoo: Any  # the open zoo, None when none is
    _quiet = False  # set while the kernel writes traits whose observers must not re-query (`_quietly`)
    _sort_menu: list[SortOption]  # the zoo's sort menu; `sort_options` adds the current sort
    _detail_id: str  # the model whose detail `detail` holds
    _front: FrontEnd  # the notebook front end: the load code's form and the fallback's hint (front_end.py)
    _saved: SavedView  # the static view saved with the notebook (static_view.py)

    # Every synced trait flows kernel -> page: the page asks through custom
    # messages (protocol.py) and `set_state` drops what it writes.
    # What the user asked for (set from those requests or from Python):
    query = t.Unicode("").tag(sync=True)
    task = t.Unicode("").tag(sync=True)
    library = t.Unicode("").tag(sync=True)
    license = t.Unicode("").tag(sync=True)
    num_params = t.Unicode("").tag(sync=True)  # a range filter (contract.RANGES)
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
    # the kernel's decisions the page shows (contract.py): it never re-derives them
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

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set traits without the observers re-querying (they return early while `_quiet`)."""
        previous, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = previous

    # ---- derived values ------------------------------------------------------
    def _update_sort_options(self) -> None:
        self.sort_options = list(map(dict, with_current(self._sort_menu, self.sort)))

    @t.observe("sort")
    def _on_sort(self, change: dict) -> None:
        self._update_sort_options()

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

    # ---- the static view saved with the notebook (static_view.py) ------------
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

    # ---- the page's writes ---------------------------------------------------
    def set_state(self, sync_data: Any) -> None:
        """The page's echo of the kernel's own `value` is let through silently; any other write is dropped.

        marimo re-runs the cells that read a widget only when the page writes one of its traits,
        so where the front end is reactive the page writes `value` back as the kernel sent it.
        Nothing changes (it is the kernel's value) and nothing is sent back (no loop).
        """
        if isinstance(sync_data, dict) and list(sync_data) == ["value"] and sync_data["value"] == self.value:
            return
        super().set_state(sync_data)
