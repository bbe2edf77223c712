"""`WeightFrame`: a pandas DataFrame whose `.plot()` draws one line per tensor across checkpoints."""

from __future__ import annotations

from typing import Any

import pandas as pd

_TIDY = {"tensor", "checkpoint", "value"}


class WeightFrame(pd.DataFrame):
    """What `cz.weight_changes` returns: tidy rows (tensor, checkpoint, step, value, sampled).

    `.wide()` is the tensor x checkpoint table (a heatmap's numbers); `.plot(...)` is that table's
    transpose plotted by pandas (checkpoints along x, one line per tensor; `.plot.bar()` and other
    kinds work). A frame without the tidy columns plots as any DataFrame.
    """

    _metadata: list[str] = []

    @property
    def _constructor(self) -> Any:
        return WeightFrame

    def wide(self) -> pd.DataFrame:
        """Rows: tensors; columns: checkpoints (in the model's order); values: `value`."""
        if not _TIDY <= set(self.columns):
            raise ValueError("wide() needs the tidy columns tensor, checkpoint and value")
        return pd.DataFrame(self).pivot_table(
            index="tensor", columns="checkpoint", values="value", aggfunc="first", observed=False, dropna=False
        )

    @property
    def plot(self) -> Any:
        if _TIDY <= set(self.columns):
            return self.wide().T.plot
        return pd.DataFrame(self).plot
