// Unit tests of the cell-inserting logic against a fake notebook in jsdom.
// The real JupyterLab / Notebook 7 run is tests/browser/test_labextension.py.
import { describe, expect, it, vi } from "vitest";

import { INSERT_EVENT, METADATA_KEY, anchorOf, findCellIndex, handleInsertEvent } from "../insert.js";

/**
 * A minimal stand-in for a NotebookPanel: DOM nodes plus a shared model. A cell is a source, or
 * [source, metadata] for a cell the notebook was saved with (a reloaded page reads it back).
 */
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
  const makeCell = (spec, metadata = Array.isArray(spec) ? spec[1] : {}) => {
    const source = Array.isArray(spec) ? spec[0] : spec;
    const model = { getMetadata: (key) => metadata[key] };
    const node = document.createElement("div");
    node.className = "jp-Cell";
    const output = document.createElement("div");
    output.className = "jp-OutputArea-output";
    node.appendChild(output);
    const editor = { focus: vi.fn() };
    node.scrollIntoView = vi.fn();
    return { node, output, source, model, metadata, editor, inViewport: true, ready: Promise.resolve() };
  };
  const render = () => {
    notebookNode.replaceChildren(...notebook.widgets.map((c) => c.node));
  };
  notebook.widgets = sources.map((spec) => makeCell(spec));
  notebook.model = {
    sharedModel: {
      insertCell: vi.fn((index, cell) => {
        const widget = makeCell(cell.source, cell.metadata || {});
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
    send(widget, { code: "early", anchor: "b1" });
    send(other, { code: "from the other browser", anchor: "b2" });
    send(widget, { code: "late", anchor: "b1" });
    send(widget, { code: "latest", anchor: "b1" });
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
    send(nb.widgets[0].output, { code: "first", anchor: "b1" });
    nb.model.sharedModel.insertCell(2, { cell_type: "code", source: "typed by hand" });
    send(nb.widgets[0].output, { code: "second", anchor: "b1" });
    expect(nb.widgets.map((c) => c.source)).toEqual(["browser", "first", "second", "typed by hand", "end"]);
  });

  it("tags each inserted cell with its browser's anchor, in the cell metadata", () => {
    const panel = fakePanel(["browser"]);
    const nb = panel.content;
    send(nb.widgets[0].output, { code: "x = 1", anchor: "b1" });
    expect(nb.model.sharedModel.insertCell).toHaveBeenCalledWith(1, {
      cell_type: "code",
      source: "x = 1",
      metadata: { trusted: true, [METADATA_KEY]: { browser: "b1" } },
    });
    expect(anchorOf(nb.widgets[1])).toBe("b1");
  });

  it("after a reload, finds the cells its browser inserted from the notebook and goes below them", () => {
    // the notebook as a reloaded page reads it: nothing in this page's memory, tags in the metadata
    const tag = (anchor) => ({ [METADATA_KEY]: { browser: anchor } });
    const panel = fakePanel([
      ["stray, above the widget", tag("b1")],
      "browser",
      ["epoch-1", tag("b1")],
      ["from another browser", tag("b2")],
      ["epoch-30", tag("b1")],
      "x = 1",
    ]);
    const nb = panel.content;
    send(nb.widgets[1].output, { code: "epoch-2", anchor: "b1" });
    send(nb.widgets[1].output, { code: "epoch-3", anchor: "b1" });
    expect(nb.widgets.map((c) => c.source)).toEqual([
      "stray, above the widget",
      "browser",
      "epoch-1",
      "from another browser",
      "epoch-30",
      "epoch-2",
      "epoch-3",
      "x = 1",
    ]);
  });

  it.each([[undefined], [""], [42], [{}], ["a".repeat(129)]])(
    "goes directly below, untagged, for anchor %j",
    (anchor) => {
      const tag = { [METADATA_KEY]: { browser: "b1" } };
      const panel = fakePanel(["browser", ["earlier", tag]]);
      const nb = panel.content;
      send(nb.widgets[0].output, { code: "x", anchor });
      expect(nb.widgets.map((c) => c.source)).toEqual(["browser", "x", "earlier"]);
      expect(anchorOf(nb.widgets[1])).toBe("");
    },
  );

  it("reads the anchor through the shared model where the cell model has no getMetadata", () => {
    const cell = {
      model: { sharedModel: { getMetadata: (k) => (k === METADATA_KEY ? { browser: "b9" } : undefined) } },
    };
    expect(anchorOf(cell)).toBe("b9");
    expect(anchorOf({ model: { getMetadata: () => ({ browser: 7 }) } })).toBe("");
    expect(anchorOf({})).toBe("");
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
