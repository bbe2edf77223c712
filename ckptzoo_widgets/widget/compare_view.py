"""`cz.compare`'s chart: `CompareView`, and the answer to the browser's Compare button.

The data is `curves.py`'s (`comparison`: the curves and each model's best
checkpoint; `payload`: its JSON for the page); this module is the view. The
kernel computes, the page draws (``js/widget/views/compare.js``, in the
browser's bundle: `_view` = "compare" tells ``index.js`` which view to mount).
`CompareView` is on the browser's protocol (`base.KernelOwned`): the page's
metric menu asks, the kernel checks the request and owns `metric`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import traitlets as t

from ..curves import Comparison, comparison, payload
from ..errors import ZooError
from ..metrics import Goal
from .base import KernelOwned
from .contract import COMPARE_DATA
from .protocol import Request

__all__ = ["CompareView", "compare", "compare_message"]


def _open(zoo: Any) -> Any:
    if zoo is not None and all(hasattr(zoo, a) for a in ("model", "checkpoints", "__iter__")):
        return zoo
    from ..catalog import open_zoo

    return open_zoo(zoo)


def compare(models: Sequence[str], metric: str | None = None, *, zoo: Any = None, goal: Goal | None = None) -> Any:
    """A chart of several models' curves of one metric, with each model's best checkpoint.

    `zoo`: a Zoo or a source (default: the built-in zoo). Returns a `CompareView`
    widget; its `.table` and `.curves` are DataFrames for scripts. Errors
    (unknown model, no shared metric) raise ZooError before anything is drawn.
    """
    opened = _open(zoo)
    result = comparison(opened, models, metric, goal=goal)
    return CompareView(opened, result, goal=goal)


class CompareView(KernelOwned):
    """The compare chart and best-checkpoint table (``cz.compare``). The kernel computes; the page draws.

    The same protocol as the browser (base.KernelOwned): the page's metric menu
    asks (``{"request": "metric", "metric": ...}``), the kernel checks it and owns `metric`.

    >>> view = cz.compare(["digits-mlp", "digits-cnn"], metric="val_loss")
    >>> view.table        # best checkpoint per model (lowest val_loss: lower is better)
    >>> view.metric = "val_accuracy"   # or pick it in the chart's menu
    """

    VIEW = "compare"  # the requests this view's page may send (contract.VIEW_REQUESTS)
    _view = t.Unicode("compare").tag(sync=True)  # tells the browser's bundle to draw a comparison
    models = t.List(t.Unicode()).tag(sync=True)
    metric = t.Unicode("").tag(sync=True)
    data = t.Dict().tag(sync=True)

    def __init__(self, zoo: Any, result: Comparison, *, goal: Goal | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zoo = zoo
        self._goal = goal
        self._goal_metric = result.metric
        self._show(result)

    def _show(self, result: Comparison) -> None:
        self.comparison = result
        with self.hold_sync():
            self.models = list(result.models)
            self.metric = result.metric
            self.data = payload(result)
            self._clear_error("compare", "request")

    def _handle(self, request: Request) -> None:
        if request.kind == "metric":  # the page's metric menu: checked against the shared metrics
            self.metric = request.fields.get("metric", "")

    @t.observe("metric")
    def _on_metric(self, change: dict) -> None:
        if change["new"] == self.comparison.metric:
            return
        goal = self._goal if change["new"] == self._goal_metric else None
        try:
            result = comparison(self.zoo, self.comparison.models, change["new"], goal=goal)
        except ZooError as exc:  # shown in the view; the metric stays what it was
            self._show_error("compare", str(exc))
            self.metric = self.comparison.metric
            return
        self._show(result)

    @property
    def table(self) -> pd.DataFrame:
        """One row per model: best checkpoint, its step/epoch and value, the last checkpoint, the rule."""
        return self.comparison.table.copy()

    @property
    def curves(self) -> pd.DataFrame:
        """One row per model and checkpoint: the values on the chart."""
        return self.comparison.curves.copy()

    def __repr__(self) -> str:
        return f"<CompareView {', '.join(self.models)}: {self.metric} ({self.comparison.rule})>"


def compare_message(zoo: Any, content: dict) -> dict[str, Any]:
    """The browser's Compare button: ``{"event": "compare", "models": [...], "metric": ...}`` -> the answer.

    The page only asks: models must be a list of ids of the open zoo, the metric
    one they share; anything else comes back as an error line for the panel.
    """
    models = content.get("models")
    metric = content.get("metric")
    try:
        if zoo is None:
            raise ZooError("no zoo is open: nothing to compare")
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise ZooError("compare: models must be a list of model ids")
        result = comparison(zoo, models, metric if isinstance(metric, str) and metric else None)
    except ZooError as exc:
        return {"event": COMPARE_DATA, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a kernel callback shows its error, never raises it
        return {"event": COMPARE_DATA, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"event": COMPARE_DATA, "data": payload(result)}
