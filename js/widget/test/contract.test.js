// The page draws what the kernel decides (ckptzoo_widgets/widget/contract.py). These tests fail
// when a view computes a decision itself, or when it stops following the kernel's payload.
// @vitest-environment jsdom
import { describe, it, expect, afterEach } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";
import { ZooView } from "../view.js";
import { Protocol } from "../protocol.js";
import { renderCompare } from "../views/compare.js";
import { FakeModel, baseState, CONTRACT, DETAIL } from "./fake-model.js";

const WIDGET = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = [
  ...readdirSync(join(WIDGET, "views")).map((f) => join("views", f)),
  "view.js",
  "skeleton.js",
  "cards.js",
  "format.js",
  "keys.js",
  "store.js",
  "protocol.js",
];
const read = (f) => readFileSync(join(WIDGET, f), "utf8");

afterEach(() => document.body.replaceChildren());

describe("the views read decisions, they never make them", () => {
  // What deciding looks like in code: a loss-name pattern, an axis guessed from the fields,
  // a best point ranked by value, filter names spelled out, limits copied.
  const FORBIDDEN = [
    [/(loss|error|perplexity|ppl|wer|mse)[^\n]*\/[gimsuy]*\.(test|exec)\(|RegExp\(/i, "a lower-is-better pattern"],
    [/lowerIsBetter|bestPoint|metricNames|chartMetrics|sortOptions/, "a decision function"],
    [/typeof c\.(step|epoch)|\bc\.step\b/, "an axis guessed from the checkpoints (the kernel sends `x`)"],
    [/["']task["'][^\n]*["']library["']/, "filter names spelled out (they come from `filters`)"],
    [/maxlength:\s*["']\d+/, "a copied text limit"],
  ];
  // comments may name anything: only code counts
  const code = (text) =>
    text
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "")
      .replace(/\s\/\/ .*$/gm, "");
  for (const file of SOURCES)
    it(`${file} decides nothing`, () => {
      const text = code(read(file));
      for (const [pattern, what] of FORBIDDEN) expect(pattern.test(text), `${file}: ${what}`).toBe(false);
    });

  it("the sort menu is the kernel's, whatever the names suggest", () => {
    const model = new FakeModel(baseState({ sort_options: CONTRACT.sort_options }));
    const el = document.body.appendChild(document.createElement("div"));
    new ZooView(model, el);
    const options = Object.fromEntries(
      [...el.querySelector('[data-testid="cz-sort"]').options].map((o) => [o.value, o.textContent]),
    );
    // the rules that drifted: nll and bits_per_byte are lower-is-better, answer_f1 and power_score are not
    expect(options).toMatchObject({
      nll: "Lowest nll",
      bits_per_byte: "Lowest bits per byte",
      "-answer_f1": "Best answer f1",
      "-power_score": "Best power score",
      val_mse: "Lowest val mse",
    });
  });

  it("the checkpoint table's first click sorts best first by the kernel's goal, not the name", () => {
    const model = new FakeModel(baseState());
    const el = document.body.appendChild(document.createElement("div"));
    new ZooView(model, el);
    // a goal no name rule would give: the view must follow it
    const detail = {
      ...DETAIL,
      table_metrics: [
        { name: "val_accuracy", goal: "min", logged: false },
        { name: "val_loss", goal: "max", logged: false },
      ],
    };
    model.answer({ selected: "digits-mlp@final", detail, code: "x = 1\n", code_key: "digits-mlp@final#" });
    const rows = () => [...el.querySelectorAll('[data-testid="cz-checkpoint"]')].map((r) => r.dataset.checkpoint);
    el.querySelector('[data-testid="cz-ckpt-sort-val_loss"]').click();
    expect(rows()).toEqual(["epoch-1", "epoch-5", "final"]); // "max": 0.9 first
    el.querySelector('[data-testid="cz-ckpt-sort-val_accuracy"]').click();
    expect(rows()).toEqual(["epoch-1", "epoch-5", "final"]); // "min": 0.8 first
  });

  it("the axis and each checkpoint's place are the kernel's", () => {
    const model = new FakeModel(baseState());
    const el = document.body.appendChild(document.createElement("div"));
    new ZooView(model, el);
    const detail = {
      ...DETAIL,
      axis: { key: "checkpoint", label: "Checkpoint order" },
      checkpoints: DETAIL.checkpoints.map((c, i) => ({ ...c, x: i + 1 })),
    };
    model.answer({ selected: "digits-mlp@final", detail, code: "x = 1\n", code_key: "digits-mlp@final#" });
    expect(el.querySelector('[data-testid="cz-ckpt-sort-x"]').textContent).toContain("Checkpoint order");
    const cells = [...el.querySelectorAll('[data-testid="cz-checkpoint"]')].map((r) => r.children[1].textContent);
    expect(cells).toEqual(["1", "2", "3"]);
    expect(el.textContent).toContain("versus checkpoint order");
  });

  it("compare marks the kernel's best checkpoint, even where the values would rank another", () => {
    const data = CONTRACT.compare;
    const forged = { ...data, series: data.series.map((s) => ({ ...s, best: { ...s.last, x: 0 } })) };
    const root = renderCompare(document, forged, {});
    const best = [...root.querySelectorAll(".cz-compare-best")].map((td) => td.textContent);
    expect(best).toEqual(forged.series.map((s) => s.last.checkpoint));
  });

  it("the real payloads from Python carry every decision the views read", () => {
    expect(CONTRACT.detail.axis.key).toBe("step");
    expect(CONTRACT.detail.checkpoints.every((c) => "x" in c)).toBe(true);
    expect(CONTRACT.detail.table_metrics.find((m) => m.name === "val_loss").goal).toBe("min");
    expect(CONTRACT.compare.series.every((s) => s.best && s.last)).toBe(true);
    expect(CONTRACT.filters.map((f) => f.key)).toEqual(["task", "library", "license"]);
  });
});

describe("the protocol (forged messages from the kernel's side)", () => {
  it("sends only request kinds the kernel's contract knows, with their fields", () => {
    const model = new FakeModel(baseState());
    const el = document.body.appendChild(document.createElement("div"));
    const view = new ZooView(model, el);
    view.set({ query: "mlp" });
    view.set({ selected: "digits-mlp" });
    view.set({ code_library: "numpy" });
    view.protocol.refresh();
    for (const msg of model.sent) {
      const fields = Object.keys(msg).filter((k) => k !== "request" && k !== "seq");
      expect(Object.keys(CONTRACT.requests)).toContain(msg.request);
      for (const f of fields) expect(CONTRACT.requests[msg.request]).toContain(f);
    }
    expect(model.saved).toEqual([]);
  });

  it("ignores answers that are not well formed", () => {
    const model = new FakeModel({ page_seq: 0 });
    const protocol = new Protocol(model);
    protocol.ask({ query: "a" });
    for (const forged of [null, 3, "done", {}, { done: "1" }, { done: NaN }, { done: {} }, { event: "x" }])
      expect(protocol.receive(forged)).toEqual({ page: false, keys: [] });
    expect(protocol.get("query")).toBe("a"); // still waiting for the real answer
    expect(protocol.receive({ done: 1 })).toEqual({ page: true, keys: ["query"] });
  });
});
