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

async function focusEditor(notebook, cell, index) {
  try {
    if (!cell.inViewport && typeof notebook.scrollToItem === "function") {
      await notebook.scrollToItem(index);
    }
    await cell.ready;
    if (notebook.activeCell === cell && notebook.mode === "edit") {
      cell.editor?.focus();
    }
  } catch (reason) {
    console.warn("ckptzoo-widgets: could not focus the new cell", reason);
  }
}

/**
 * Insert `code` as a new code cell below the cell at `index`, make it the
 * active cell and enter edit mode. Returns the new cell widget.
 */
export function insertCodeBelow(notebook, index, code) {
  const model = notebook.model;
  const newIndex = index + 1;
  model.sharedModel.insertCell(newIndex, {
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
    void focusEditor(notebook, cell, newIndex);
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
