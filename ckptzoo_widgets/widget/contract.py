"""The browser's contract: what the page may ask, what the kernel answers, every decision it shows.

One owner for both directions of the page-kernel conversation, so no limit or
rule is copied between Python and ``js/widget/``:

- **Limits** (`LIMITS`): text fields, cards per page, models in a comparison;
  sent to the page in the ``contract`` trait (the search box's ``maxlength``
  comes from here).
- **Requests** the page sends (`REQUESTS`: kind -> field -> type), checked by
  `widget.protocol.parse_request`; every view (browser and compare) asks
  through them and never writes kernel-owned state.
- **Messages** the kernel sends: ``{"done": seq}`` once a request is handled,
  ``{"event": "compare-data", "data" | "error", "seq"}`` with a comparison.
- **Decisions**, computed here (rules in `metrics.py`) and sent in payloads:
  the filter menus (`filter_menus`), the sort menu as ``{key, label,
  direction, value, group}`` (`sort_menu`; a zoo may supply its own through
  ``sort_options()`` / ``filter_options()``, as a live source does), whether
  each metric is lower-is-better (``goal``), the chart axis of each model and
  each checkpoint's place on it (`detail_decisions`), the best checkpoint of
  each compared series (`curves.payload`), the headline metric
  (`metrics.headline_metric`). The page reads them; it never re-derives them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from .. import metrics
from ..columns import FILTERS, FIXED
from ..text import one_line

# ---- limits --------------------------------------------------------------------
MAX_TEXT = 256  # query, filter values, sort key, reference, library name, metric
PAGE_SIZE = 24  # cards per page unless asked otherwise
MAX_LIMIT = 200  # cards per page at most
MAX_OFFSET = 10**9
MAX_SEQ = 2**53  # a JavaScript integer
MAX_FIELDS = 12  # fields of one request
MAX_COMPARE = 12  # models in one comparison
MAX_MENU = 500  # values of one filter menu, options of the sort menu
MAX_DETAIL_METRICS = 100  # metric columns of the open model's checkpoint table (a checkpoint sends 100 values)

LIMITS: dict[str, int] = {"text": MAX_TEXT, "page_size": PAGE_SIZE, "max_limit": MAX_LIMIT, "compare": MAX_COMPARE}


# ---- filters ---------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    key: str  # the trait, the request field and the `Zoo.search` keyword
    label: str  # "Task": the badge's title
    all_label: str  # the menu's "any value" option


_FILTER_LABELS = {
    "task": ("Task", "All tasks"),
    "library": ("Library", "All libraries"),
    "license": ("Licence", "All licences"),
}
# The filters the browser offers: the catalog's (`columns.FILTERS`), labelled.
FILTER_SPECS: tuple[Filter, ...] = tuple(Filter(key, *_FILTER_LABELS[key]) for key in FILTERS)


# Range filters (`Zoo.search(num_params="min:1B,max:7B")`): offered as a menu of preset ranges.
RANGES: dict[str, tuple[str, str]] = {"num_params": ("Parameters", "Any size")}

# ---- requests the page sends ----------------------------------------------------------
# request kind -> field -> type (bool is told apart from int: the types are compared exactly)
REQUESTS: dict[str, dict[str, type]] = {
    "search": {
        "query": str,
        **dict.fromkeys(FILTERS, str),
        **dict.fromkeys(RANGES, str),
        "sort": str,
        "offset": int,
        "limit": int,
    },
    "select": {"ref": str},
    "library": {"library": str},
    "insert": {"handled": bool},
    "refresh": {},
    "compare": {"models": list, "metric": str},  # the browser's Compare button
    "compare-set": {"models": list},  # the ticks on the cards (kept by the kernel: a reloaded page shows them)
    "metric": {"metric": str},  # the compare view's metric menu
    # the Weights view of the open model (widget/weights_view.py): start (or restart) its grid, stop it,
    # and one column's two checkpoints side by side
    "weights": {"against": str},
    "weights-stop": {},
    "weights-pair": {"checkpoint": str},
}
WEIGHTS_REQUESTS = ("weights", "weights-stop", "weights-pair")
# The requests each view accepts: the browser (ZooBrowser) and the compare chart (CompareView).
VIEW_REQUESTS: dict[str, tuple[str, ...]] = {
    "browser": ("search", "select", "library", "insert", "refresh", "compare", "compare-set", *WEIGHTS_REQUESTS),
    "compare": ("metric",),
}
# The kernel's messages to the page.
DONE = "done"  # {"done": seq}: request `seq` was handled (seq None: a request without a number)
COMPARE_DATA = "compare-data"  # {"event": "compare-data", "data": {...}} or {..., "error": "..."}
WEIGHTS_DATA = "weights-data"  # {"event": "weights-data", "seq", "data" | "error"}: the grid so far
WEIGHTS_PAIR = "weights-pair"  # {"event": "weights-pair", "seq", "data" | "error"}: one column's two checkpoints


# ---- sort menu ------------------------------------------------------------------------
class SortOption(TypedDict):
    key: str  # the column ("" for relevance)
    label: str  # what the menu says
    direction: Literal["asc", "desc"]
    value: str  # what a search request carries as `sort`: the key, "-" first when descending
    group: str  # "" or the menu group ("Metrics")


# Columns of the zoo that are not metrics (`Zoo.sort_keys` lists both).
NOT_METRICS = frozenset({*FIXED, "source", "step", "epoch"})
_NAMED: tuple[tuple[str, str, Literal["asc", "desc"]], ...] = (
    ("name", "Name", "asc"),
    ("created", "Newest", "desc"),
    ("num_params", "Most parameters", "desc"),
)
_COLUMN_LABELS = {"num_params": "Parameters", "num_checkpoints": "Checkpoints", "headline_value": "Headline metric"}


def label(key: str) -> str:
    """A column or metric name as a label: ``val_accuracy`` -> ``Val accuracy``."""
    if key in _COLUMN_LABELS:
        return _COLUMN_LABELS[key]
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def option(key: str, direction: Literal["asc", "desc"], text: str, group: str = "") -> SortOption:
    return {
        "key": key,
        "label": text,
        "direction": direction,
        "value": ("-" if direction == "desc" and key else "") + key,
        "group": group,
    }


def metric_option(metric: str) -> SortOption:
    """The menu's entry for a metric: best first (ascending for a lower-is-better metric)."""
    if metrics.lower_is_better(metric):
        return option(metric, "asc", f"Lowest {label(metric).lower()}", "Metrics")
    return option(metric, "desc", f"Best {label(metric).lower()}", "Metrics")


def sort_value_option(value: str) -> SortOption:
    """An option for any sort string (one set from Python that the menu does not list)."""
    key = value[1:] if value.startswith("-") else value
    direction: Literal["asc", "desc"] = "desc" if value.startswith("-") else "asc"
    return option(key, direction, f"{label(key)} ({'descending' if direction == 'desc' else 'ascending'})")


def sort_menu_from_keys(keys: Iterable[str]) -> list[SortOption]:
    """The short sort menu: relevance, name, newest, most parameters, then each metric best first."""
    have = [str(k) for k in keys]
    menu = [option("", "desc", "Relevance")]
    menu += [option(k, d, text) for k, text, d in ((k, t, d) for k, t, d in _NAMED) if k in have]
    menu += [metric_option(k) for k in have if k not in NOT_METRICS]
    return menu[:MAX_MENU]


def _checked_option(raw: Any) -> SortOption | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or len(raw["key"]) >= MAX_TEXT:
        return None  # a key the page could not send back in a request
    direction: Literal["asc", "desc"] = "desc" if raw.get("direction") == "desc" else "asc"
    key = raw["key"]
    return option(key, direction, one_line(raw.get("label") or label(key), 200), one_line(raw.get("group") or "", 100))


def sort_menu(zoo: Any) -> list[SortOption]:
    """The zoo's sort menu: its own ``sort_options()`` when it has one (checked), else built from its sort keys."""
    own = getattr(zoo, "sort_options", None)
    if callable(own):
        menu = [o for o in (_checked_option(r) for r in list(own())[:MAX_MENU]) if o is not None]
    else:
        menu = sort_menu_from_keys(one_line(k, 200) for k in list(zoo.sort_keys())[:MAX_MENU])
    return menu


def with_current(menu: list[SortOption], current: str) -> list[SortOption]:
    """The menu with the current sort added when it does not list it (one set from Python)."""
    if current and all(o["value"] != current for o in menu):
        return [*menu, sort_value_option(current)]
    return list(menu)


class FilterMenu(TypedDict):
    key: str
    label: str
    all_label: str
    values: list[str]


def filter_menus(zoo: Any) -> list[FilterMenu]:
    """One menu per filter with the values the zoo has (its own ``filter_options()`` when it has one)."""
    own = getattr(zoo, "filter_options", None)
    facets = dict(own() if callable(own) else (zoo.facets() or {}))
    return [
        {
            "key": f.key,
            "label": f.label,
            "all_label": f.all_label,
            "values": [one_line(v, 200) for v in list(facets.get(f.key) or [])[:MAX_MENU]],
        }
        for f in FILTER_SPECS
    ]


class RangeMenu(TypedDict):
    key: str  # the trait, the request field and the `Zoo.search` keyword
    label: str
    all_label: str
    options: list[dict[str, str]]  # [{value, label}]: value is what the request carries


def range_menus(zoo: Any) -> list[RangeMenu]:
    """The range menus of a live zoo (its source's preset ranges: `range_options()`); [] for a local zoo."""
    own = getattr(zoo, "range_options", None)
    if not getattr(zoo, "is_live", False) or not callable(own):
        return []
    ranges = dict(own())
    menus: list[RangeMenu] = []
    for key, (text, all_label) in RANGES.items():
        options = [
            {"value": one_line(o["value"], MAX_TEXT - 1), "label": one_line(o.get("label") or o["value"], 100)}
            for o in list(ranges.get(key) or [])[:MAX_MENU]
            if isinstance(o, dict) and isinstance(o.get("value"), str) and o["value"]
        ]
        if options:
            menus.append({"key": key, "label": text, "all_label": all_label, "options": options})
    return menus


# How long the page waits after a key before it asks (ms): a local zoo answers in
# milliseconds, so at once; a live one answers over the network and counts requests,
# so only the settled query (a pause between words, not between keys) is sent.
SEARCH_PAUSE_MS = {"local": 50, "live": 300}


def search_pause_ms(zoo: Any) -> int:
    return SEARCH_PAUSE_MS["live" if getattr(zoo, "is_live", False) else "local"]


# ---- decisions about one model ------------------------------------------------------------
class MetricInfo(TypedDict):
    name: str
    goal: metrics.Goal  # "min": lower is better
    logged: bool  # the model logged a curve of it during training


def metric_info(name: str, logged: bool = False) -> MetricInfo:
    return {"name": name, "goal": metrics.goal(name), "logged": logged}


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _checkpoint_metrics(checkpoints: Sequence[Any], headline: str | None) -> list[str]:
    """Metric names with a number at some checkpoint, headline first."""
    names: dict[str, None] = {}
    numeric: set[str] = set()
    if headline:
        names[headline] = None
    for c in checkpoints:  # one pass: 20,000 checkpoints with a metric name each stay linear
        for k, v in (c.metrics or {}).items():
            if isinstance(k, str):
                names[k] = None
                if _numeric(v):
                    numeric.add(k)
    return [n for n in names if n in numeric]


def with_decisions(entry: Any, detail: dict[str, Any]) -> dict[str, Any]:
    """The detail payload with what the detail view shows that is a decision: the table's
    metric columns (headline first) and the chart's metric menu, each with its goal; the
    chart axis and its label; each checkpoint's place on the axis (``x``, None: not on it)."""
    checkpoints = list(entry.checkpoints)
    headline = entry.headline_metric
    curves = detail.get("curves") or []
    logged = [c["metric"] for c in curves if isinstance(c, dict) and isinstance(c.get("metric"), str)]
    table = _checkpoint_metrics(checkpoints, headline)[:MAX_DETAIL_METRICS]
    chart = list(table)
    if headline and headline not in chart and headline in logged:
        chart.insert(0, headline)
    chart += [m for m in logged if m not in chart]
    chart = chart[: MAX_DETAIL_METRICS + len(logged)]
    axis = metrics.checkpoint_axis(checkpoints, logged=bool(logged))
    positions = {c.name: metrics.axis_x(c, i, axis) for i, c in enumerate(checkpoints)}
    for sent in detail.get("checkpoints") or []:
        sent["x"] = positions.get(sent.get("name"))
    detail["table_metrics"] = [metric_info(m, m in logged) for m in table]
    detail["chart_metrics"] = [metric_info(m, m in logged) for m in chart]
    detail["axis"] = {"key": axis, "label": metrics.AXIS_LABELS[axis]}
    # the table shows epochs beside the steps when the axis is the step and some checkpoint has one
    detail["epoch_column"] = axis == "step" and any(_numeric(getattr(c, "epoch", None)) for c in checkpoints)
    return detail
