// Unit tests of the cell-inserting logic against a fake notebook in jsdom.
// The real JupyterLab / Notebook 7 run is tests/browser/test_labextension.py.
import { describe, expect, it, vi } from "vitest";

import { INSERT_EVENT, findCellIndex, handleInsertEvent } from "../insert.js";

/** A minimal stand-in for a NotebookPanel: DOM nodes plus a shared model. */
function fakePanel(sources) {
  const panelNode = document.createElement("div");
  const notebookNode = document.createElement("div");
  panelNode.appendChild(notebookNode);
  document.body.appendChild(panelNode);

  const notebook = {
    node: notebookNode,
    widgets: [],
    activeCellIndex: 0,
    mode: "command",
    deselectAll: vi.fn(),
    get activeCell() {
      return this.widgets[this.activeCellIndex];
    },
  };
  const makeCell = (source) => {
    const node = document.createElement("div");
    node.className = "jp-Cell";
    const output = document.createElement("div");
    output.className = "jp-OutputArea-output";
    node.appendChild(output);
    const editor = { focus: vi.fn() };
    node.scrollIntoView = vi.fn();
    return { node, output, source, editor, inViewport: true, ready: Promise.resolve() };
  };
  const render = () => {
    notebookNode.replaceChildren(...notebook.widgets.map((c) => c.node));
  };
  notebook.widgets = sources.map(makeCell);
  notebook.model = {
    sharedModel: {
      insertCell: vi.fn((index, cell) => {
        const widget = makeCell(cell.source);
        widget.cellType = cell.cell_type;
        notebook.widgets.splice(index, 0, widget);
        render();
      }),
    },
  };
  render();
  const panel = { node: panelNode, content: notebook, isDisposed: false };
  panelNode.addEventListener(INSERT_EVENT, (event) => handleInsertEvent(panel, event));
  return panel;
}

function send(origin, detail) {
  const event = new CustomEvent(INSERT_EVENT, {
    bubbles: true,
    cancelable: true,
    composed: true,
    detail,
  });
  origin.dispatchEvent(event);
  return event;
}

describe("ckptzoo:insert-code", () => {
  it("inserts a code cell below the sending cell and cancels the event", async () => {
    const panel = fakePanel(["a", "b"]);
    const nb = panel.content;
    const button = document.createElement("button");
    nb.widgets[0].output.appendChild(button);

    const event = send(button, { code: "x = 1" });

    expect(event.defaultPrevented).toBe(true);
    expect(nb.model.sharedModel.insertCell).toHaveBeenCalledWith(1, {
      cell_type: "code",
      source: "x = 1",
      metadata: { trusted: true },
    });
    expect(nb.widgets.map((c) => c.source)).toEqual(["a", "x = 1", "b"]);
    expect(nb.activeCellIndex).toBe(1);
    expect(nb.mode).toBe("edit");
    await Promise.resolve();
    await Promise.resolve();
    expect(nb.widgets[1].editor.focus).toHaveBeenCalled();
  });

  it("puts a second insert below the first, in insert order, and scrolls to it", async () => {
    const panel = fakePanel(["browser", "mine", "other browser", "theirs"]);
    const nb = panel.content;
    const widget = nb.widgets[0].output;
    const other = nb.widgets[2].output;
    send(widget, { code: "early" });
    send(other, { code: "from the other browser" });
    send(widget, { code: "late" });
    send(widget, { code: "latest" });
    expect(nb.widgets.map((c) => c.source)).toEqual([
      "browser",
      "early",
      "late",
      "latest",
      "mine",
      "other browser",
      "from the other browser",
      "theirs",
    ]);
    expect(nb.activeCellIndex).toBe(3);
    await Promise.resolve();
    await Promise.resolve();
    expect(nb.widgets[3].node.scrollIntoView).toHaveBeenCalled();
    expect(nb.widgets[3].editor.focus).toHaveBeenCalled();
  });

  it("goes directly below its last cell, wherever the user added cells", () => {
    const panel = fakePanel(["browser", "end"]);
    const nb = panel.content;
    send(nb.widgets[0].output, { code: "first" });
    nb.model.sharedModel.insertCell(2, { cell_type: "code", source: "typed by hand" });
    send(nb.widgets[0].output, { code: "second" });
    expect(nb.widgets.map((c) => c.source)).toEqual(["browser", "first", "second", "typed by hand", "end"]);
  });

  it("finds the cell through a shadow root", () => {
    const panel = fakePanel(["a", "b"]);
    const nb = panel.content;
    const host = document.createElement("div");
    nb.widgets[1].output.appendChild(host);
    const inner = document.createElement("button");
    host.attachShadow({ mode: "open" }).appendChild(inner);

    const event = send(inner, { code: "y = 2" });

    expect(event.defaultPrevented).toBe(true);
    expect(nb.widgets.map((c) => c.source)).toEqual(["a", "b", "y = 2"]);
  });

  it.each([[undefined], [null], [{}], [{ code: 42 }], [{ code: ["x"] }]])("ignores detail %j", (detail) => {
    const panel = fakePanel(["a"]);
    const event = send(panel.content.widgets[0].output, detail);
    expect(event.defaultPrevented).toBe(false);
    expect(panel.content.model.sharedModel.insertCell).not.toHaveBeenCalled();
  });

  it("ignores events from outside any cell", () => {
    const panel = fakePanel(["a"]);
    const event = send(panel.node, { code: "x" });
    expect(event.defaultPrevented).toBe(false);
    expect(findCellIndex(panel.content, event)).toBe(-1);
  });

  it("accepts an empty string as code", () => {
    const panel = fakePanel(["a"]);
    const event = send(panel.content.widgets[0].output, { code: "" });
    expect(event.defaultPrevented).toBe(true);
    expect(panel.content.widgets.map((c) => c.source)).toEqual(["a", ""]);
  });
});
