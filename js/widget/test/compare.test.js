// @vitest-environment jsdom
import { describe, it, expect } from "vitest";
import { PALETTE, seriesStyle, assignStyles, contrast, renderCompare, CompareView } from "../views/compare.js";
import { ZooView } from "../view.js";
import { FakeModel, CARDS, baseState } from "./fake-model.js";

const DATA = {
  metric: "val_accuracy",
  metrics: ["val_accuracy", "val_loss"],
  goal: "max",
  rule: "best = highest val_accuracy (higher is better)",
  axis: "step",
  series: [
    {
      id: "digits-mlp",
      label: "Digits MLP",
      points: [
        [0, 0.1, "epoch-0"],
        [45, 0.8, "epoch-1"],
        [90, 0.95, "epoch-2"],
        [135, 0.95, "epoch-3"],
      ],
      best: { checkpoint: "epoch-2", x: 90, value: 0.95 },
      last: { checkpoint: "epoch-3", value: 0.95 },
    },
    {
      id: "digits-cnn",
      label: "Digits CNN",
      points: [
        [0, 0.12, "epoch-0"],
        [45, 0.9, "epoch-1"],
        [90, 0.85, "epoch-2"],
      ],
      best: { checkpoint: "epoch-1", x: 45, value: 0.9 },
      last: { checkpoint: "epoch-2", value: 0.85 },
    },
  ],
};

describe("colours", () => {
  it("gives each of the first models its own colour, then dashes", () => {
    const styles = assignStyles(PALETTE.map((_, i) => `m${i}`));
    expect(new Set(styles.map((s) => s.color)).size).toBe(PALETTE.length);
    expect(styles.every((s) => s.dash === "")).toBe(true);
    expect(seriesStyle(PALETTE.length)).toEqual({ color: PALETTE[0], dash: "6 3" });
    expect(assignStyles(["a", "b"])).toEqual(assignStyles(["a", "b"]));
  });
  it("keeps 3:1 contrast on a light and a dark background", () => {
    for (const c of PALETTE) {
      expect(contrast(c, "#ffffff")).toBeGreaterThanOrEqual(3);
      expect(contrast(c, "#111111")).toBeGreaterThanOrEqual(3);
    }
    expect(contrast("#ffffff", "#000000")).toBeCloseTo(21);
  });
});

describe("renderCompare", () => {
  it("draws one line per model, a legend, and the best checkpoint table", () => {
    const root = renderCompare(document, DATA, { onMetric: () => {} });
    const chart = root.querySelector('[data-testid="cz-compare-chart"]');
    expect(chart.querySelectorAll("polyline").length).toBe(2);
    expect(chart.querySelectorAll("path.cz-best").length).toBe(2);
    const legend = [...root.querySelectorAll('[data-testid="cz-compare-legend"] li')].map((li) => li.textContent);
    expect(legend).toEqual(["Digits MLP", "Digits CNN"]);
    const rows = [...root.querySelectorAll('[data-testid="cz-compare-row"]')].map((r) =>
      [...r.children].map((c) => c.textContent),
    );
    expect(rows).toEqual([
      ["Digits MLP", "epoch-2", "90", "0.9500", "epoch-3", "0.9500"],
      ["Digits CNN", "epoch-1", "45", "0.9000", "epoch-2", "0.8500"],
    ]);
    expect(root.textContent).toContain("higher is better");
    const colours = [...chart.querySelectorAll("polyline")].map((p) => p.getAttribute("style"));
    expect(colours[0]).toContain(PALETTE[0]);
    expect(colours[1]).toContain(PALETTE[1]);
  });
  it("offers the shared metrics and reports the choice", () => {
    let picked = null;
    const root = renderCompare(document, DATA, { onMetric: (m) => (picked = m) });
    const sel = root.querySelector('[data-testid="cz-compare-metric"]');
    expect([...sel.options].map((o) => o.value)).toEqual(["val_accuracy", "val_loss"]);
    sel.value = "val_loss";
    sel.dispatchEvent(new Event("change"));
    expect(picked).toBe("val_loss");
  });
  it("shows an error and hostile names as text", () => {
    const hostile = { ...DATA, series: [{ ...DATA.series[0], label: '<img src=x onerror="alert(1)">' }] };
    const root = renderCompare(document, hostile, { error: "<b>bad</b>" });
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector('[data-testid="cz-compare-error"]').children.length).toBe(0);
    expect(root.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(root.querySelector('[data-testid="cz-compare-error"]').textContent).toBe("<b>bad</b>");
  });
});

describe("CompareView (cz.compare)", () => {
  it("renders the kernel's data and asks the kernel for the chosen metric, never writing it", () => {
    const model = new FakeModel({ _view: "compare", data: DATA, error: "", metric: "val_accuracy" });
    const el = document.createElement("div");
    const view = new CompareView(model, el);
    expect(el.querySelectorAll('[data-testid="cz-compare-row"]').length).toBe(2);
    const sel = el.querySelector('[data-testid="cz-compare-metric"]');
    sel.value = "val_loss";
    sel.dispatchEvent(new Event("change"));
    expect(model.saved).toEqual([]); // the page never writes the synced state
    expect(model.requests()).toEqual([{ request: "metric", metric: "val_loss" }]);
    model.kernelSet({ data: { ...DATA, series: DATA.series.slice(0, 1) } });
    expect(el.querySelectorAll('[data-testid="cz-compare-row"]').length).toBe(1);
    view.destroy();
    expect(el.children.length).toBe(0);
  });
});

describe("ComparePanel (in the browser)", () => {
  function setup() {
    const model = new FakeModel(baseState());
    const el = document.createElement("div");
    document.body.replaceChildren(el); // a checkbox only fires "change" when it is in a document
    const view = new ZooView(model, el);
    return { model, grid: view.grid, panel: view.compare, view };
  }
  it("puts a checkbox on each card that does not open the card", () => {
    const { model, grid, panel, view } = setup();
    const boxes = grid.querySelectorAll('[data-testid="cz-compare-check"]');
    expect(boxes.length).toBe(CARDS.length);
    expect(panel.button.disabled).toBe(true);
    boxes[0].click();
    boxes[1].click();
    // no card opened (that would be a select request): the ticks are asked of the kernel, which keeps them
    expect(model.requests()).toEqual([
      { request: "compare-set", models: ["digits-mlp"] },
      { request: "compare-set", models: ["digits-mlp", "digits-cnn"] },
    ]);
    expect(panel.chosen).toEqual(["digits-mlp", "digits-cnn"]);
    expect(panel.button.textContent).toBe("Compare (2)");
    panel.decorate(grid); // a second call adds nothing
    expect(grid.querySelectorAll('[data-testid="cz-compare-check"]').length).toBe(CARDS.length);
    view.renderGrid(); // a new page of cards keeps the ticks
    expect([...grid.querySelectorAll('[data-testid="cz-compare-check"]')].map((b) => b.checked)).toEqual([true, true]);
  });
  it("asks the kernel and draws its answer, or its error", () => {
    const { model, grid, panel } = setup();
    grid.querySelectorAll('[data-testid="cz-compare-check"]')[0].click();
    panel.button.click();
    expect(model.sent[1]).toEqual({ request: "compare", models: ["digits-mlp"], metric: "", seq: 2 });
    model.emit("msg:custom", { event: "compare-data", data: DATA, seq: 2 });
    expect(panel.panel.hidden).toBe(false);
    expect(panel.panel.querySelectorAll('[data-testid="cz-compare-row"]').length).toBe(2);
    const sel = panel.panel.querySelector('[data-testid="cz-compare-metric"]');
    sel.value = "val_loss";
    sel.dispatchEvent(new Event("change"));
    expect(model.sent[2]).toEqual({ request: "compare", models: ["digits-mlp"], metric: "val_loss", seq: 3 });
    model.emit("msg:custom", { event: "compare-data", error: "unknown model", seq: 3 });
    expect(panel.panel.textContent).toContain("unknown model");
    panel.panel.querySelector('[data-testid="cz-compare-close"]').click();
    expect(panel.panel.hidden).toBe(true);
    panel.destroy();
    expect(model.listeners["msg:custom"].length).toBe(1); // the view's own listener stays
  });
  it("draws only the answer to its newest request (a forged or stale answer is ignored)", () => {
    const { model, grid, panel } = setup();
    grid.querySelectorAll('[data-testid="cz-compare-check"]')[0].click();
    panel.button.click();
    panel.button.click();
    model.emit("msg:custom", { event: "compare-data", data: DATA, seq: 2 }); // the older request's
    model.emit("msg:custom", { event: "compare-data", data: DATA, seq: 99 }); // nobody asked
    expect(panel.panel.querySelectorAll('[data-testid="cz-compare-row"]').length).toBe(0);
    model.emit("msg:custom", { event: "compare-data", data: DATA, seq: 3 });
    expect(panel.panel.querySelectorAll('[data-testid="cz-compare-row"]').length).toBe(2);
  });
  it("shows the kernel's compare set: after a reload, and when the kernel changes it", () => {
    const model = new FakeModel({ ...baseState(), compare_set: ["digits-cnn"] });
    const el = document.createElement("div");
    document.body.replaceChildren(el);
    const view = new ZooView(model, el); // a reloaded page: a new view of the same kernel state
    const ticked = () =>
      [...view.grid.querySelectorAll('[data-testid="cz-compare-check"]')]
        .filter((b) => b.checked)
        .map((b) => b.dataset.modelId);
    expect(ticked()).toEqual(["digits-cnn"]);
    expect(view.compare.button.textContent).toBe("Compare (1)");
    model.kernelSet({ compare_set: ["digits-mlp", "digits-cnn"] }); // browser.compare_set = [...] from Python
    expect(ticked()).toEqual(["digits-mlp", "digits-cnn"]);
    expect(view.compare.button.textContent).toBe("Compare (2)");
    view.compare.toggle("digits-mlp", false); // asked: shown at once, then the kernel's answer
    expect(view.compare.button.textContent).toBe("Compare (1)");
    model.answer({ compare_set: ["digits-cnn"] });
    expect(ticked()).toEqual(["digits-cnn"]);
  });
});
