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
import { INotebookTracker } from "@jupyterlab/notebook";

import { INSERT_EVENT, handleInsertEvent } from "./insert.js";

const plugin = {
  id: "ckptzoo-widgets:insert-cell",
  description: "Inserts the load code picked in the ckptzoo widget as a new cell below the widget.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app, tracker) => {
    const watch = (panel) => {
      const listener = (event) => handleInsertEvent(panel, event);
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
