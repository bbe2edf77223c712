"""The front end the widget's views load: the bundle built into ``ckptzoo_widgets/static/``, or a notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The package's static/ folder (one level up from widget/): js/ builds the bundle there and the wheel ships it.
_STATIC = Path(__file__).parent.parent / "static"

# Shown when the package was installed from a checkout without building the
# front end (`npm run build` in js/, or `pip install .` with Node present).
_MISSING_ESM = """
export default {
  render({ el }) {
    const box = document.createElement("div");
    box.style.cssText = "padding:8px;border:1px solid #c00;color:#a00;font-family:sans-serif";
    box.textContent = "ckptzoo_widgets: the browser's front end is not built " +
    "(ckptzoo_widgets/static/widget.js is missing). Run `npm install && npm run build` in js/, or install a release.";
    el.appendChild(box);
  }
};
"""


def _asset(name: str, fallback: str) -> Any:
    path = _STATIC / name
    return path if path.is_file() else fallback


ESM = _asset("widget.js", _MISSING_ESM)
CSS = _asset("widget.css", "")
