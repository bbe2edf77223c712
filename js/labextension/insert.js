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

// The cells each browser inserted, in insert order, keyed by the model of the
// cell that holds the browser: a second insert goes below the first one.
const insertedBy = new WeakMap();

const keyOf = (cell) => (cell && cell.model) || cell;

/**
 * Where the next cell from the browser in cell `index` goes: below that cell
 * and below every cell it inserted before (that is still in the notebook).
 */
export function insertionIndex(notebook, index) {
  const mine = insertedBy.get(keyOf(notebook.widgets[index])) || [];
  let last = index;
  notebook.widgets.forEach((cell, i) => {
    if (i > last && mine.includes(keyOf(cell))) last = i;
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
 * (below it and below the cells it inserted before), make it the active cell,
 * enter edit mode, scroll to it. Returns the new cell widget.
 */
export function insertCodeBelow(notebook, index, code) {
  const source = notebook.widgets[index];
  const newIndex = insertionIndex(notebook, index);
  notebook.model.sharedModel.insertCell(newIndex, {
    cell_type: "code",
    source: code,
    // Created on the user's explicit request, like a cell typed by hand.
    metadata: { trusted: true },
  });
  notebook.activeCellIndex = newIndex;
  notebook.deselectAll();
  notebook.mode = "edit";
  const cell = notebook.widgets[newIndex];
  if (cell) {
    const key = keyOf(source);
    insertedBy.set(key, [...(insertedBy.get(key) || []), keyOf(cell)]);
    void reveal(notebook, cell);
  }
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
  insertCodeBelow(notebook, index, detail.code);
  // Tell the sender that the code is in the notebook now.
  event.preventDefault();
}
