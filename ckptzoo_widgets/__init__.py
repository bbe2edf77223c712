"""ckptzoo_widgets: a checkpoint zoo that lives inside Jupyter.

import ckptzoo_widgets as cz
zoo = cz.open_zoo()                 # the built-in teaching zoo
zoo.search("mlp", sort="-val_accuracy")
print(zoo.load_code("digits-mlp@epoch-5"))
model = cz.load("digits-mlp@epoch-5")
cz.browse()                         # the notebook browser
"""

from __future__ import annotations

from typing import Any

from .catalog import Zoo, open_zoo, parse_ref
from .errors import ZooError
from .fetch import FetchError, fetch
from .loader import digits_validation, load
from .schema import Checkpoint, FileEntry, ModelEntry, ZooIndex

__version__ = "0.1.0"

__all__ = [
    "Checkpoint",
    "FetchError",
    "FileEntry",
    "ModelEntry",
    "Zoo",
    "ZooError",
    "ZooIndex",
    "browse",
    "compare",
    "digits_validation",
    "fetch",
    "load",
    "open_zoo",
    "parse_ref",
]


def browse(source_or_zoo: Any = None, query: str = "", **kwargs: Any) -> Any:
    """The notebook browser (imported lazily: the widget stack is not needed for tables or the CLI)."""
    from .widget import browse as _browse

    return _browse(source_or_zoo, query, **kwargs)


def compare(models: Any, metric: str | None = None, **kwargs: Any) -> Any:
    """Training curves of several models on one chart, with each one's best checkpoint (see curves.py)."""
    from .curves import compare as _compare

    return _compare(models, metric, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "ZooBrowser":
        from .widget import ZooBrowser

        return ZooBrowser
    raise AttributeError(name)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext ckptzoo_widgets`: registers `%zoo`."""
    from .magics import load_ipython_extension as _load

    _load(ipython)
