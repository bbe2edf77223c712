"""A static view of what the browser shows, saved with the notebook.

A widget's output needs its kernel: a notebook reopened without one, GitHub
and nbviewer show nothing useful. So the browser also displays this view
(text/html and text/plain) next to the live widget and keeps it up to date;
the widget's CSS hides it where the live widget renders (widget.css).

Every value is plain text in HTML (``text.html_text``), and the whole view is
sanitised once more with an allowlist, so it is safe in a trusted notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import nh3

from ..credentials import presentable
from ..humanize import human_count
from ..text import html_text, one_line

_TAGS = {"div", "p", "b", "span", "table", "thead", "tbody", "tr", "th", "td", "pre", "code", "small"}
_CARDS_SHOWN = 24


def _metric(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def static_view(
    source: str,
    query: str,
    total: int | None,
    offset: int,
    cards: Sequence[Mapping[str, Any]],
    selected: str,
    code: str,
) -> dict[str, str]:
    """The mime bundle: {"text/html": ..., "text/plain": ...}."""
    e = html_text
    shown = list(cards)[:_CARDS_SHOWN]
    # saved with the notebook: the source is presentable (never a password or token)
    head = f"Checkpoint zoo ({presentable(source)})" + (f", search “{query}”" if query else "")
    count = f"models {offset + 1:,}–{offset + len(shown):,} of {total:,}" if total else "no models match"
    if total is None:  # a live source that does not say how many
        count = f"models {offset + 1:,}–{offset + len(shown):,} of more" if shown else "no models yet"
    rows = "".join(
        "<tr>"
        f"<td><b>{e(c.get('name') or c.get('id'))}</b><br><small>{e(c.get('id'))}</small></td>"
        f"<td>{e(c.get('task') or '—')}</td>"
        f"<td>{e(human_count(c.get('num_params')))}</td>"
        f"<td>{e(c.get('headline_metric') or '')} {e(_metric(c.get('headline_value')))}</td>"
        f"<td>{e(c.get('num_checkpoints') or 0)}</td>"
        "</tr>"
        for c in shown
    )
    html = (
        '<div class="cz-static">'
        f"<p><b>{e(head)}</b>: {e(count)}. "
        "<small>Saved view: run the cell to browse.</small></p>"
        "<table><thead><tr><th>Model</th><th>Task</th><th>Parameters</th><th>Headline metric</th>"
        f"<th>Checkpoints</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    if selected:
        html += f"<p>Selected <code>{e(selected)}</code>:</p><pre><code>{e(code)}</code></pre>"
    html += "</div>"
    html = nh3.clean(html, tags=_TAGS | {"br"}, attributes={"div": {"class"}}, url_schemes=set())

    lines = [one_line(f"{head}: {count}", 300)]
    lines += [
        one_line(
            f"  {c.get('id')}  {c.get('task') or '—'}  {human_count(c.get('num_params'))} params"
            f"  {c.get('headline_metric') or ''} {_metric(c.get('headline_value'))}",
            300,
        )
        for c in shown
    ]
    if selected:
        lines += ["", one_line(f"Selected {selected}:"), code.rstrip()]
    return {"text/html": html, "text/plain": "\n".join(lines)}


class SavedView:
    """The static view displayed beside one widget, kept in step through its display id."""

    def __init__(self) -> None:
        self.display_id = ""
        self.shown: dict[str, str] = {}

    def show(self, display_id: str, bundle: dict[str, str]) -> None:
        from IPython.display import display

        self.display_id, self.shown = display_id, bundle
        display(bundle, raw=True, display_id=display_id)

    def update(self, bundle: dict[str, str]) -> None:
        """Send the view again, only when it changed."""
        if bundle == self.shown:
            return
        from IPython.display import update_display

        self.shown = bundle
        update_display(bundle, raw=True, display_id=self.display_id)
