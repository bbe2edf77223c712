"""The notebook widget: the zoo browser, the compare chart, and what they say to the page.

The kernel decides, the page draws (``js/widget/``, built into ``static/``).

    browser.py        `ZooBrowser` and `browse()`: the synced state and the kernel's side of each panel
    requests.py       the page's requests to the browser (search, select, compare, insert, ...)
    compare_view.py   `CompareView` and `compare()` (``cz.compare``), drawn by the same bundle
    contract.py       the page-kernel contract: limits, request kinds per view, messages, decisions
    base.py           `KernelOwned`: the base of every view (page writes dropped, checked requests)
    protocol.py       what the page may ask, checked field by field
    search_queue.py   searches queued while busy merged, the newest run
    query.py          the search behind a page of cards (menus, suggestions, notes)
    opener.py         a live zoo's first page and menus asked in a thread
    selection.py      a selection resolved, its load code, inserting it
    payload.py        what the kernel sends (bounded, JSON-safe)
    static_view.py    the static view saved with the notebook
    assets.py         the built front end the views load
    weights_view.py, weights_grid.py   the Weights view: the grid in a thread, its payload
    front_end.py      which notebook front end the kernel runs under (hint, load-code form)
    magics.py         ``%load_ext ckptzoo_widgets`` and ``%zoo``; errors printed as one line

Importing this package is cheap: ``ZooBrowser``, ``browse``, ``CompareView`` and
``compare`` are imported on first use (``import ckptzoo_widgets`` imports
`magics`, which must not pull in anywidget, pandas or pyarrow).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .browser import ZooBrowser, browse
    from .compare_view import CompareView, compare

__all__ = ["CompareView", "ZooBrowser", "browse", "compare"]

_LAZY = {"ZooBrowser": ".browser", "browse": ".browser", "CompareView": ".compare_view", "compare": ".compare_view"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ckptzoo_widgets.widget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
