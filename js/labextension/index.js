// JupyterLab 4 / Notebook 7 plugin: turn a `ckptzoo:insert-code` DOM event,
// sent by the ckptzoo widget from inside a cell's output, into a new code
// cell directly below that cell.
//
// Contract with the widget (see docs/frontend.md):
//   el.dispatchEvent(new CustomEvent('ckptzoo:insert-code', {
//     bubbles: true, cancelable: true, composed: true,
//     detail: { code: 'import ckptzoo_widgets as cz\n...' },
//   }));
//   // event.defaultPrevented === true  <=>  a cell was inserted
//
// The new cell is not executed: the user runs it.
import { INotebookTracker } from '@jupyterlab/notebook';

const INSERT_EVENT = 'ckptzoo:insert-code';

/**
 * Index of the cell (in `notebook.widgets`) whose node holds the event's
 * origin, or -1. `composedPath()` reaches through shadow roots, so a widget
 * that renders inside a shadow DOM is found as well.
 */
function findCellIndex(notebook, event) {
  const path = typeof event.composedPath === 'function' ? event.composedPath() : [];
  const cells = notebook.widgets;
  for (const node of path) {
    if (!node || node === notebook.node) {
      break;
    }
    const index = cells.findIndex(cell => cell.node === node);
    if (index !== -1) {
      return index;
    }
  }
  // Fallback for events without a usable composed path.
  const target = event.target;
  if (target && typeof Node !== 'undefined' && target instanceof Node) {
    return cells.findIndex(cell => cell.node.contains(target));
  }
  return -1;
}

async function focusEditor(notebook, cell, index) {
  try {
    if (!cell.inViewport && typeof notebook.scrollToItem === 'function') {
      await notebook.scrollToItem(index);
    }
    await cell.ready;
    if (notebook.activeCell === cell && notebook.mode === 'edit') {
      cell.editor?.focus();
    }
  } catch (reason) {
    console.warn('ckptzoo-widgets: could not focus the new cell', reason);
  }
}

/**
 * Insert `code` as a new code cell below the cell at `index`, make it the
 * active cell and enter edit mode. Returns the new cell widget.
 */
function insertCodeBelow(notebook, index, code) {
  const model = notebook.model;
  const newIndex = index + 1;
  model.sharedModel.insertCell(newIndex, {
    cell_type: 'code',
    source: code,
    // Created on the user's explicit request, like a cell typed by hand.
    metadata: { trusted: true },
  });
  notebook.activeCellIndex = newIndex;
  notebook.deselectAll();
  notebook.mode = 'edit';
  const cell = notebook.widgets[newIndex];
  if (cell) {
    void focusEditor(notebook, cell, newIndex);
  }
  return cell;
}

function handleInsertEvent(panel, event) {
  const detail = event.detail;
  if (!detail || typeof detail.code !== 'string') {
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

const plugin = {
  id: 'ckptzoo-widgets:insert-cell',
  description: 'Inserts the load code picked in the ckptzoo widget as a new cell below the widget.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app, tracker) => {
    const watch = panel => {
      const listener = event => handleInsertEvent(panel, event);
      panel.node.addEventListener(INSERT_EVENT, listener);
      panel.disposed.connect(() => {
        panel.node.removeEventListener(INSERT_EVENT, listener);
      });
    };
    // Panels opened before this plugin started, then every new one.
    tracker.forEach(watch);
    tracker.widgetAdded.connect((_, panel) => watch(panel));
  },
};

export default plugin;
