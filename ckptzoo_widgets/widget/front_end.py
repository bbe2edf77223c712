"""Which notebook front end the kernel runs under, and what works there (docs/widget.md, "Front ends").

The kernel decides, the page draws: `detect` looks at what the kernel can see
(the modules imported, the environment), and the browser sends the result to
the page in its ``front_end`` trait: the one-line hint shown when Insert was
not handled, and whether the page writes the kernel's ``value`` back so the
notebook re-runs the cells that read it (marimo).

What each signal means:

- **marimo**: ``marimo`` imported and a marimo runtime context in this thread
  (``marimo.running_in_notebook()``, or a notebook run as a script / by
  ``marimo export``). marimo re-runs the cells that read a UI element when
  the page writes one of the widget's traits; a cell may not redefine a name
  another cell defines, so load code there imports into cell-local names
  (`codegen.marimo_cell`).
- **Colab**: ``google.colab`` imported (Colab's kernel imports it at start).
  Colab ignores ``set_next_input``: Copy is the way.
- **VS Code**: ``VSCODE_PID`` in the kernel's environment (VS Code's Jupyter
  extension starts kernels from its extension host, which has it). A guess: a
  Jupyter server started from VS Code's terminal passes it on too, so the hint
  names both ways. ``JPY_SESSION_NAME`` alone says nothing: Jupyter Server
  sets it as well.
- **JupyterLite**: Python running in the browser (``sys.platform ==
  "emscripten"``, Pyodide).
- **Jupyter** (JupyterLab, Notebook 7, any other IPython kernel): the
  labextension inserts cells; without it ``browser.insert()`` does.
- **Python**: none of these (a script, a terminal, a kernel not recognised);
  a page that draws the widget there gets the general hint.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["FrontEnd", "FrontEndName", "detect", "marimo_globals"]

FrontEndName = Literal["marimo", "colab", "vscode", "jupyterlite", "jupyter", "python"]

# The reactive idiom in marimo (docs/widget.md): `browser = mo.ui.anywidget(cz.browse())` and, in another
# cell, a read of the widget's `value` trait, which marimo's wrapper exposes as `.value["value"]`.
MARIMO_IDIOM = 'cz.load(browser.value["value"]["ref"])'


@dataclass(frozen=True)
class FrontEnd:
    name: FrontEndName
    label: str  # as a person names it
    next_cell: bool  # browser.insert() puts the code in the next cell (IPython's set_next_input is honoured)
    reactive: bool  # the page writes `value` back: the notebook re-runs the cells that read it
    hint: str  # one line, shown under the code when no extension inserted a cell

    def payload(self) -> dict[str, Any]:
        """What the page is sent (the ``front_end`` trait)."""
        return {"name": self.name, "label": self.label, "reactive": self.reactive, "hint": self.hint}


_FRONT_ENDS: dict[FrontEndName, FrontEnd] = {
    "marimo": FrontEnd(
        "marimo",
        "marimo",
        next_cell=False,
        reactive=True,
        hint=(f"marimo: Copy the code into a new cell, or load the pick reactively in a cell: model = {MARIMO_IDIOM}"),
    ),
    "colab": FrontEnd(
        "colab",
        "Colab",
        next_cell=False,
        reactive=False,
        hint="Colab cannot insert cells from a widget: Copy the code, add a code cell (+ Code) and paste it.",
    ),
    "vscode": FrontEnd(
        "vscode",
        "VS Code",
        next_cell=True,
        reactive=False,
        hint="VS Code: run browser.insert() in a cell to put this code in the next cell, or Copy it into a new cell.",
    ),
    "jupyterlite": FrontEnd(
        "jupyterlite",
        "JupyterLite",
        next_cell=True,
        reactive=False,
        hint="Copy the code into a new cell, or run browser.insert() in a cell.",
    ),
    "jupyter": FrontEnd(
        "jupyter",
        "Jupyter",
        next_cell=True,
        reactive=False,
        hint=(
            "This frontend cannot insert cells: copy the code above into a new cell, or run browser.insert() in a cell."
        ),
    ),
    "python": FrontEnd(
        "python",
        "Python",
        next_cell=False,
        reactive=False,
        # a page that draws the widget is some notebook the kernel did not recognise: the general line
        hint=(
            "This frontend cannot insert cells: copy the code above into a new cell, or run browser.insert() in a cell."
        ),
    ),
}


def _marimo_running(modules: Mapping[str, Any]) -> bool:
    marimo = modules.get("marimo")
    if marimo is None:  # never imported here: importing marimo to ask would cost a second
        return False
    try:
        # marimo edit / run, or a notebook run as a script; marimo's "test" mode is any pytest run
        return bool(marimo.running_in_notebook()) or marimo.app_meta().mode == "script"
    except Exception:  # noqa: BLE001 - an unknown marimo: not marimo as far as the code form goes
        return False


def _under_ipython_kernel(modules: Mapping[str, Any]) -> bool:
    ipython = modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def detect(
    environ: Mapping[str, str] | None = None, modules: Mapping[str, Any] | None = None, platform: str | None = None
) -> FrontEnd:
    """The front end of this kernel, from what the kernel can see (the module says what each sign means)."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    platform = sys.platform if platform is None else platform
    if _marimo_running(modules):
        return _FRONT_ENDS["marimo"]
    if "google.colab" in modules:
        return _FRONT_ENDS["colab"]
    if platform == "emscripten" or "pyodide" in modules:
        return _FRONT_ENDS["jupyterlite"]
    if environ.get("VSCODE_PID"):
        return _FRONT_ENDS["vscode"]
    if _under_ipython_kernel(modules):
        return _FRONT_ENDS["jupyter"]
    return _FRONT_ENDS["python"]


def named(name: FrontEndName) -> FrontEnd:
    """The front end called `name` (tests, and a user who knows better than `detect`)."""
    return _FRONT_ENDS[name]


def marimo_globals() -> Mapping[str, Any]:
    """The names the running marimo notebook defines ({} outside marimo or when marimo hides them)."""
    try:
        from marimo._runtime.context import get_context  # marimo's own: the public API has no such call

        return dict(get_context().globals)
    except Exception:  # noqa: BLE001 - no context, or a marimo that moved it: the code imports what it uses
        return {}
