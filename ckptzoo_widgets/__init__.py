"""ckptzoo_widgets: a checkpoint zoo that lives inside Jupyter.

import ckptzoo_widgets as cz
zoo = cz.open_zoo()                 # the built-in teaching zoo
zoo.search("mlp", sort="-val_accuracy")
print(zoo.load_code("digits-mlp@epoch-5"))
model = cz.load("digits-mlp@epoch-5")
cz.browse()                         # the notebook browser
cz.weight_changes("digits-mlp")     # what changed in each tensor between checkpoints (docs/weights.md)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import ZooError

# Eager: `cz.fetch` must be the function, and importing the submodule `fetch` would
# otherwise rebind the package attribute to the module (it is light: ~40 ms).
from .fetch import FetchError, fetch
from .widget.magics import show_errors_briefly

if TYPE_CHECKING:
    from .catalog import Zoo, open_zoo, parse_ref
    from .load_gates import UnsafeModelError, scanned_mlflow_model
    from .loader import LoadedModel, digits_validation, load
    from .schema import Checkpoint, FileEntry, ModelEntry, ZooIndex
    from .weights import compare_weights, tensor_stats, weight_changes
    from .widget.browser import ZooBrowser

__version__ = "0.1.0"

show_errors_briefly()  # inside IPython: ZooError / FetchError print as one line; %tb has the rest

# Public names and the module each lives in. They are imported on first use, so
# `import ckptzoo_widgets` stays cheap (pandas, pyarrow, polars and pydantic load
# when a zoo is first opened).
_LAZY = {
    "Checkpoint": ".schema",
    "FileEntry": ".schema",
    "ModelEntry": ".schema",
    "ZooIndex": ".schema",
    "Zoo": ".catalog",
    "open_zoo": ".catalog",
    "parse_ref": ".catalog",
    "digits_validation": ".loader",
    "load": ".loader",
    "LoadedModel": ".loader",
    "ZooBrowser": ".widget.browser",
    "scanned_mlflow_model": ".load_gates",
    "UnsafeModelError": ".load_gates",
    "weight_changes": ".weights",
    "compare_weights": ".weights",
    "tensor_stats": ".weights",
}

__all__ = [
    "Checkpoint",
    "FetchError",
    "FileEntry",
    "LoadedModel",
    "ModelEntry",
    "Zoo",
    "ZooError",
    "ZooBrowser",
    "ZooIndex",
    "browse",
    "compare",
    "compare_weights",
    "digits_validation",
    "fetch",
    "load",
    "open_zoo",
    "parse_ref",
    "scanned_mlflow_model",
    "UnsafeModelError",
    "tensor_stats",
    "weight_changes",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ckptzoo_widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def browse(source_or_zoo: Any = None, query: str = "", **kwargs: Any) -> Any:
    """The notebook browser (imported lazily: the widget stack is not needed for tables or the CLI)."""
    from .widget.browser import browse as _browse

    return _browse(source_or_zoo, query, **kwargs)


def compare(models: Any, metric: str | None = None, **kwargs: Any) -> Any:
    """Several models' curves of one metric on one chart, each one's best checkpoint (widget/compare_view.py)."""
    from .widget.compare_view import compare as _compare

    return _compare(models, metric, **kwargs)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext ckptzoo_widgets`: registers `%zoo`."""
    from .widget.magics import load_ipython_extension as _load

    _load(ipython)
