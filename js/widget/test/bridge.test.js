// @vitest-environment jsdom
import { describe, it, expect, vi, afterEach } from "vitest";
import { requestInsert, INSERT_EVENT } from "../bridge.js";

afterEach(() => {
  document.body.replaceChildren();
});

describe("the event bridge", () => {
  it("dispatches a bubbling, cancelable, composed CustomEvent carrying the code", () => {
    const notebook = document.createElement("div");
    const cell = document.createElement("div");
    const widget = document.createElement("div");
    cell.appendChild(widget);
    notebook.appendChild(cell);
    document.body.appendChild(notebook);
    const seen = [];
    notebook.addEventListener(INSERT_EVENT, (e) => {
      seen.push({
        bubbles: e.bubbles,
        cancelable: e.cancelable,
        composed: e.composed,
        code: e.detail.code,
        target: e.target,
      });
      e.preventDefault();
    });
    expect(requestInsert(widget, "x = 1\n")).toBe(true);
    expect(seen).toEqual([{ bubbles: true, cancelable: true, composed: true, code: "x = 1\n", target: widget }]);
  });

  it("reports not handled when nobody cancels the event", () => {
    const widget = document.createElement("div");
    document.body.appendChild(widget);
    const listener = vi.fn();
    document.addEventListener(INSERT_EVENT, listener);
    expect(requestInsert(widget, "y = 2")).toBe(false);
    expect(listener).toHaveBeenCalledTimes(1);
    document.removeEventListener(INSERT_EVENT, listener);
  });

  it("crosses a shadow root", () => {
    const host = document.createElement("div");
    document.body.appendChild(host);
    const shadow = host.attachShadow({ mode: "open" });
    const inner = document.createElement("div");
    shadow.appendChild(inner);
    let got = null;
    document.body.addEventListener(INSERT_EVENT, (e) => {
      got = e.detail.code;
      e.preventDefault();
    });
    expect(requestInsert(inner, "z = 3")).toBe(true);
    expect(got).toBe("z = 3");
  });
});
