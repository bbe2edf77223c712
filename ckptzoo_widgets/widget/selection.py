"""The browser's actions on one checkpoint: resolve a reference, choose its load code, put it in a cell.

Plain functions of the zoo: which checkpoint a reference means and the open
model's detail, which libraries have load code for it and the code of the
chosen one (as a marimo cell under marimo), and IPython's ``set_next_input``
for ``browser.insert()``. `Selecting`, a base of `ZooBrowser`, applies them
to the browser's state (`selected`, `code_library` -> `detail`, `libraries`,
`code`) and shows their errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import traitlets as t

from ..codegen import marimo_cell
from ..errors import ZooError
from ..text import one_line
from .contract import with_decisions
from .front_end import FrontEnd, marimo_globals
from .payload import detail_payload
from .state import BrowserState

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


class Selecting(BrowserState):
    """The selection's side of the browser: `selected` and `code_library` -> `detail`, `libraries`, `code`."""

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
