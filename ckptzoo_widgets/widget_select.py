"""The browser's actions on one checkpoint: resolve a reference, choose its load code, put it in a cell.

Plain functions of the zoo (the widget, widget.py, keeps the state and shows
their errors): which checkpoint a reference means and the open model's detail,
which libraries have load code for it and the code of the chosen one (as a
marimo cell under marimo), and IPython's ``set_next_input`` for
``browser.insert()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codegen import marimo_cell
from .errors import ZooError
from .front_end import FrontEnd, marimo_globals
from .text import one_line
from .widget_contract import with_decisions
from .widget_payload import detail_payload

MAX_LIBRARIES = 50


@dataclass(frozen=True)
class Selection:
    ref: str  # model_id@checkpoint, the checkpoint filled in when the reference named none
    model_id: str
    detail: dict | None  # the model's detail payload; None when `open_detail` was that model's already


def resolve(zoo: Any, ref: str, open_id: str, open_detail: dict) -> Selection:
    """What `ref` selects; ZooError when the model has no such checkpoint.

    The open model's detail (`open_id`, `open_detail`) is reused rather than
    built again when `ref` names the same model.
    """
    model_id, _, ckpt = ref.partition("@")
    sent = {c["name"] for c in open_detail.get("checkpoints") or ()} if model_id == open_id and open_detail else None
    if sent is None or (ckpt and ckpt not in sent):  # another model, or a checkpoint the cut page left out
        entry = zoo.model(model_id)
        # a bounded page of checkpoints, the selected one on it; the table's metrics, the chart's axis
        detail = with_decisions(entry, detail_payload(entry, keep=[ckpt] if ckpt else []))
        fresh: dict | None = detail
    else:
        detail, fresh = open_detail, None
    names = [c["name"] for c in detail["checkpoints"]]
    if not ckpt:
        ckpt = detail.get("default_checkpoint") or (names[-1] if names else "")
    if ckpt not in names:
        shown = ", ".join(names[:20]) + (
            f", ... ({detail.get('num_checkpoints', len(names)):,} in all)" if len(names) > 20 else ""
        )
        raise ZooError(f"model {model_id!r} has no checkpoint {ckpt!r} (it has: {shown})")
    return Selection(f"{model_id}@{ckpt}", model_id, fresh)


@dataclass(frozen=True)
class LoadCode:
    libraries: list[str]  # the first is the default
    library: str  # the chosen one; "" for the default
    code: str


def load_code(zoo: Any, ref: str, wanted: str, front: FrontEnd | None = None) -> LoadCode:
    """The load code of `ref` for the `wanted` library, or the default's when it has none for that library.

    In the form the front end runs (`cell_code`).
    """
    libraries = [one_line(x, 100) for x in list(zoo.code_libraries(ref))[:MAX_LIBRARIES]]
    library = wanted if wanted in libraries[1:] else ""
    return LoadCode(libraries, library, cell_code(zoo.load_code(ref, library=library or None), front))


def cell_code(code: str, front: FrontEnd | None) -> str:
    """`code` as the front end's cells take it: in marimo, no name the notebook defines bound again."""
    if front is None or front.name != "marimo":
        return code
    return marimo_cell(code, marimo_globals())


def put_in_next_cell(code: str) -> str | None:
    """Put `code` in the next cell through IPython (not run); outside IPython return it."""
    from IPython import get_ipython  # ipywidgets depends on IPython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_next_input"):
        return code
    shell.set_next_input(code, replace=False)
    return None
