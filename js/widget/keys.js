// The keyboard of the browser: `/` to the search box, arrows between cards, Enter to open,
// Escape to close; keys pressed inside the widget do not reach the notebook's shortcuts. And the
// window-wide bindings: `/` from anywhere over the widget, the resize observer that fits the table.
import { fitTable } from "./views/checkpoints.js";

export const isTyping = (t) =>
  t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);

/** Cards per row of the grid, read from their positions (1 where there is no layout). */
function columns(cards) {
  if (cards.length < 2) return 1;
  const top = cards[0].offsetTop;
  let n = 0;
  for (const c of cards) {
    if (c.offsetTop !== top) break;
    n += 1;
  }
  const noLayout = n === cards.length && top === 0 && cards[1].offsetTop === 0;
  return noLayout && cards[0].offsetLeft === cards[1].offsetLeft ? 1 : Math.max(1, n);
}

export function onGridKey(view, e) {
  const cards = Array.from(view.grid.querySelectorAll(".cz-card"));
  const i = cards.indexOf(view.doc.activeElement);
  if (i < 0) return;
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    e.stopPropagation();
    view.openModel(cards[i].getAttribute("data-model-id"));
    return;
  }
  const cols = columns(cards);
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -i, End: cards.length - 1 - i };
  if (!(e.key in moves)) return;
  e.preventDefault();
  e.stopPropagation();
  cards[Math.min(cards.length - 1, Math.max(0, i + moves[e.key]))].focus();
}

export function onSlash(view, e) {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || !view.root.isConnected) return;
  const active = view.doc.activeElement;
  const focusInside = view.root.contains(e.target) || view.root.contains(active);
  // Typing a "/" in a text box or a cell editor is typing, wherever the pointer is.
  if (isTyping(e.target) || (!focusInside && isTyping(active))) return;
  if (!focusInside && !view.pointerInside) return;
  e.preventDefault();
  e.stopPropagation();
  view.search.focus();
  view.search.select();
}

const KEPT = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", " ", "Home", "End"];

export function onRootKey(view, e) {
  if (e.key === "Escape" && view.isDetailOpen()) {
    e.preventDefault();
    e.stopPropagation();
    view.closeModel();
    return;
  }
  // Keep notebook command-mode shortcuts (move cell, enter edit mode) out of the widget.
  if (KEPT.includes(e.key) && !isTyping(e.target)) e.stopPropagation();
}

export function bindWindow(view) {
  view.root.addEventListener("keydown", (e) => onRootKey(view, e));
  // `/` focuses the search box when the focus or the pointer is anywhere in the widget. A
  // click on plain text leaves the focus on the notebook: listen on the window, first.
  view.root.addEventListener("pointerenter", () => (view.pointerInside = true));
  view.root.addEventListener("pointerleave", () => (view.pointerInside = false));
  view.win = view.doc.defaultView;
  view.onWindowKey = (e) => onSlash(view, e);
  view.win?.addEventListener("keydown", view.onWindowKey, true);
  // Lay out by the widget's own width (CSS container queries do the columns; fitTable
  // leaves out checkpoint-table columns that do not fit).
  if (view.win && view.win.ResizeObserver) {
    view.lastWidth = 0;
    view.resizeObserver = new view.win.ResizeObserver((entries) => {
      const width = Math.round(entries[0].contentRect.width);
      if (width === view.lastWidth) return;
      view.lastWidth = width;
      if (view.isDetailOpen()) fitTable(view.detailView);
    });
    view.resizeObserver.observe(view.root);
  }
}
