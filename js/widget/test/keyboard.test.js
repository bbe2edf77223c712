// @vitest-environment jsdom
// The keyboard in the detail: where the focus lands, arrows between checkpoint rows, Enter
// inserts (also before the kernel sent the row's code), Escape back to the card, the column
// titles as one Tab stop. The real-browser run: tests/browser/test_keyboard.py.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { ZooView } from "../view.js";
import { stepTo } from "../events.js";
import { rowLabel } from "../views/checkpoints.js";
import { INSERT_EVENT } from "../bridge.js";
import { FakeModel, baseState, DETAIL } from "./fake-model.js";

let el;
let inserted;
const takeInsert = (e) => {
  inserted.push(e.detail);
  e.preventDefault(); // what the labextension does once the cell is in
};
beforeEach(() => {
  el = document.createElement("div");
  document.body.appendChild(el);
  inserted = [];
  document.addEventListener(INSERT_EVENT, takeInsert);
});
afterEach(() => {
  document.removeEventListener(INSERT_EVENT, takeInsert);
  document.body.replaceChildren();
});

const q = (id) => el.querySelector(`[data-testid="${id}"]`);
const row = (name) => el.querySelector(`[data-checkpoint="${name}"]`);
const key = (target, k) => target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
const codeOf = (ref) => `import ckptzoo_widgets as cz\nmodel = cz.load(${JSON.stringify(ref)})\n`;

/** The kernel's answer to a selection: the detail, the code of `ref`. */
function kernelSelects(model, ref) {
  model.answer({ selected: ref, detail: DETAIL, libraries: ["numpy"], code: codeOf(ref), code_key: `${ref}#` });
}

function openByKeyboard() {
  const model = new FakeModel(baseState({ insert_anchor: "anchor-1" }));
  const view = new ZooView(model, el);
  const card = el.querySelector('[data-model-id="digits-mlp"]');
  card.focus();
  key(card, "Enter");
  return { model, view };
}

describe("stepTo", () => {
  const items = ["a", "b", "c"];
  const moves = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
  it("moves one step, stops at the ends, jumps with Home and End", () => {
    expect(stepTo(items, "a", "ArrowDown", moves)).toBe("b");
    expect(stepTo(items, "a", "ArrowUp", moves)).toBe("a");
    expect(stepTo(items, "c", "ArrowDown", moves)).toBe("c");
    expect(stepTo(items, "b", "Home", moves)).toBe("a");
    expect(stepTo(items, "a", "End", moves)).toBe("c");
  });
  it("is null for a key that is not a move, or nothing to move between", () => {
    expect(stepTo(items, "a", "Enter", moves)).toBeNull();
    expect(stepTo(items, "a", "toString", moves)).toBeNull();
    expect(stepTo([], "a", "ArrowDown", moves)).toBeNull();
  });
});

describe("rowLabel", () => {
  const cols = { axis: { label: "Step" }, metrics: ["val_accuracy"] };
  it("names the checkpoint, its place on the axis and the headline metric", () => {
    expect(rowLabel(DETAIL.checkpoints[0], DETAIL, cols)).toBe("epoch-1, step 10, Val accuracy 0.8000");
    expect(rowLabel(DETAIL.checkpoints[2], DETAIL, cols)).toMatch(/^final \(default\), step 100, /);
  });
  it("leaves out what the checkpoint does not have", () => {
    expect(rowLabel({ name: "x" }, DETAIL, { axis: { label: "Step" }, metrics: [] })).toBe("x");
  });
});

describe("the detail by keyboard", () => {
  it("Enter on a card: Back while the detail loads, then the selected checkpoint row", () => {
    const { model } = openByKeyboard();
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "digits-mlp" });
    expect(document.activeElement).toBe(q("cz-close"));
    kernelSelects(model, "digits-mlp@final");
    expect(document.activeElement).toBe(row("final"));
  });

  it("the rows are one Tab stop, the selected row; the column titles are one Tab stop", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@epoch-5");
    const stops = Array.from(
      el.querySelectorAll('[data-testid="cz-detail"] [tabindex="0"], [data-testid="cz-detail"] button'),
    )
      .filter((e) => e.getAttribute("tabindex") !== "-1")
      .map((e) => e.dataset.testid);
    expect(stops.filter((s) => s === "cz-checkpoint")).toHaveLength(1);
    expect(stops.filter((s) => s && s.startsWith("cz-ckpt-sort-"))).toEqual(["cz-ckpt-sort-x"]);
    expect(row("epoch-5").getAttribute("tabindex")).toBe("0");
    expect(row("epoch-5").getAttribute("aria-current")).toBe("true");
    // the sort state is on the column header
    expect(q("cz-ckpt-sort-x").closest("th").getAttribute("aria-sort")).toBe("ascending");
  });

  it("arrows, Home and End move between rows and select each", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@final");
    key(row("final"), "Home");
    expect(document.activeElement).toBe(row("epoch-1"));
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "digits-mlp@epoch-1" });
    key(row("epoch-1"), "ArrowDown");
    expect(document.activeElement).toBe(row("epoch-5"));
    expect(row("epoch-5").getAttribute("aria-selected")).toBe("true"); // shown while the kernel answers
    key(row("epoch-5"), "ArrowUp");
    expect(document.activeElement).toBe(row("epoch-1"));
    key(row("epoch-1"), "End");
    expect(document.activeElement).toBe(row("final"));
    const sent = model.requests().length;
    key(row("final"), "ArrowDown"); // the last row: nothing to move to, nothing asked
    expect(model.requests().length).toBe(sent);
  });

  it("Enter inserts the focused row's code, with the kernel's anchor", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@final");
    key(row("final"), "Enter");
    expect(inserted).toEqual([{ code: codeOf("digits-mlp@final"), anchor: "anchor-1" }]);
    expect(model.requests().at(-1)).toEqual({ request: "insert", handled: true });
  });

  it("Enter before the kernel sent the row's code: inserts that code once it arrives, never another's", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@final");
    key(row("final"), "ArrowUp"); // epoch-5 asked
    key(row("epoch-5"), "Enter");
    expect(inserted).toEqual([]); // the code shown is still final's
    kernelSelects(model, "digits-mlp@epoch-5");
    expect(inserted).toEqual([{ code: codeOf("digits-mlp@epoch-5"), anchor: "anchor-1" }]);
    kernelSelects(model, "digits-mlp@epoch-5"); // once only
    expect(inserted).toHaveLength(1);
    // moving on after Enter cancels it
    key(row("epoch-5"), "ArrowUp");
    key(row("epoch-1"), "Enter");
    key(row("epoch-1"), "ArrowDown");
    kernelSelects(model, "digits-mlp@epoch-1");
    expect(inserted).toHaveLength(1);
  });

  it("Space selects without inserting; Escape goes back to the card", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@final");
    key(row("epoch-1"), " ");
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "digits-mlp@epoch-1" });
    expect(inserted).toEqual([]);
    key(row("epoch-1"), "Escape");
    expect(q("cz-detail").hidden).toBe(true);
    expect(document.activeElement.getAttribute("data-model-id")).toBe("digits-mlp");
  });

  it("left and right move between the column titles, and the Tab stop moves with them", () => {
    const { model } = openByKeyboard();
    kernelSelects(model, "digits-mlp@final");
    const x = q("cz-ckpt-sort-x");
    x.focus();
    key(x, "ArrowRight");
    const next = document.activeElement;
    expect(next.dataset.testid).toBe("cz-ckpt-sort-val_accuracy");
    expect(next.getAttribute("tabindex")).toBe("0");
    expect(x.getAttribute("tabindex")).toBe("-1");
    key(next, "End");
    expect(document.activeElement.dataset.testid).toBe("cz-ckpt-sort-val_loss");
    key(document.activeElement, "Home");
    expect(document.activeElement).toBe(x);
  });

  it("Escape with a card not on this page (opened from Python) goes to the search box", () => {
    const model = new FakeModel(baseState({ cards: [], total: 0 }));
    new ZooView(model, el);
    kernelSelects(model, "digits-mlp@final");
    key(row("final"), "Escape");
    expect(document.activeElement).toBe(q("cz-search"));
  });
});
