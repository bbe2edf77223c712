// The part of the cell-inserting plugin that needs no JupyterLab import:
// find the cell that sent a `ckptzoo:insert-code` event and insert the code
// below it. Unit-tested with fake notebooks in labextension/test/.

export const INSERT_EVENT = "ckptzoo:insert-code";

/**
 * Index of the cell (in `notebook.widgets`) whose node holds the event's
 * origin, or -1. `composedPath()` reaches through shadow roots, so a widget
 * that renders inside a shadow DOM is found as well.
 */
export function findCellIndex(notebook, event) {
  const path = typeof event.composedPath === "function" ? event.composedPath() : [];
  const cells = notebook.widgets;
  for (const node of path) {
    if (!node || node === notebook.node) {
      break;
    }
    const index = cells.findIndex((cell) => cell.node === node);
    if (index !== -1) {
      return index;
    }
  }
  // Fallback for events without a usable composed path.
  const target = event.target;
  if (target && typeof Node !== "undefined" && target instanceof Node) {
    return cells.findIndex((cell) => cell.node.contains(target));
  }
  return -1;
}

// Where the cells a browser inserted are remembered: in the notebook itself. Each inserted cell
// carries the browser's anchor (the kernel's `insert_anchor`, sent in the event) in its metadata,
// `{"ckptzoo": {"browser": anchor}}`, so the order holds after a page reload, in a notebook
// saved and opened again, and whatever this page remembers.
export const METADATA_KEY = "ckptzoo";
const MAX_ANCHOR = 128;

/** The anchor a cell was inserted for, or "" (read from the cell model's metadata). */
export function anchorOf(cell) {
  const model = cell && cell.model;
  if (!model) return "";
  let meta;
  if (typeof model.getMetadata === "function") meta = model.getMetadata(METADATA_KEY);
  else if (model.sharedModel && typeof model.sharedModel.getMetadata === "function")
    meta = model.sharedModel.getMetadata(METADATA_KEY);
  const anchor = meta && typeof meta === "object" ? meta.browser : "";
  return typeof anchor === "string" ? anchor : "";
}

/** The event's anchor when it is a short string, else "" (no tagging, directly below the widget). */
export function anchorFrom(detail) {
  const anchor = detail && detail.anchor;
  return typeof anchor === "string" && anchor.length > 0 && anchor.length <= MAX_ANCHOR ? anchor : "";
}

/**
 * Where the next cell from the browser in cell `index` goes: below that cell and below the last
 * cell after it that carries the same anchor.
 */
export function insertionIndex(notebook, index, anchor = "") {
  let last = index;
  if (anchor)
    notebook.widgets.forEach((cell, i) => {
      if (i > index && anchorOf(cell) === anchor) last = i;
    });
  return last + 1;
}

/** Scroll the new cell into view (JupyterLab and Notebook 7 scroll different nodes), then focus its editor. */
async function reveal(notebook, cell) {
  try {
    await cell.ready;
    if (typeof notebook.scrollToCell === "function") await notebook.scrollToCell(cell, "auto");
    // Notebook 7 lays the notebook out without JupyterLab's windowed scroller: scroll the node itself.
    if (typeof cell.node.scrollIntoView === "function") cell.node.scrollIntoView({ block: "nearest" });
    if (notebook.activeCell === cell && notebook.mode === "edit") {
      cell.editor?.focus();
    }
  } catch (reason) {
    console.warn("ckptzoo-widgets: could not show the new cell", reason);
  }
}

/**
 * Insert `code` as a new code cell for the browser in the cell at `index`
 * (below it and below the cells tagged with its `anchor`), make it the active cell,
 * enter edit mode, scroll to it. Returns the new cell widget.
 */
export function insertCodeBelow(notebook, index, code, anchor = "") {
  const newIndex = insertionIndex(notebook, index, anchor);
  // Created on the user's explicit request, like a cell typed by hand; tagged with its browser.
  const metadata = anchor ? { trusted: true, [METADATA_KEY]: { browser: anchor } } : { trusted: true };
  notebook.model.sharedModel.insertCell(newIndex, { cell_type: "code", source: code, metadata });
  notebook.activeCellIndex = newIndex;
  notebook.deselectAll();
  notebook.mode = "edit";
  const cell = notebook.widgets[newIndex];
  if (cell) void reveal(notebook, cell);
  return cell;
}

export function handleInsertEvent(panel, event) {
  const detail = event.detail;
  if (!detail || typeof detail.code !== "string") {
    return;
  }
  const notebook = panel.content;
  if (!notebook || !notebook.model || panel.isDisposed) {
    return;
  }
  const index = findCellIndex(notebook, event);
  if (index === -1) {
    return;
  }
  insertCodeBelow(notebook, index, detail.code, anchorFrom(detail));
  // Tell the sender that the code is in the notebook now.
  event.preventDefault();
}
