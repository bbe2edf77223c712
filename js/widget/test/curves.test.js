// @vitest-environment jsdom
// Logged training curves in the detail chart: the curve as the line, checkpoints marked on it.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { chartSeries, valueAt } from "../cards.js";
import { lineChart, resetLogChoice } from "../svg.js";
import { renderCompare } from "../views/compare.js";
import { ZooView } from "../view.js";
import { FakeModel, baseState, DETAIL } from "./fake-model.js";

// train/loss logged every 10 steps (0..100) with a spike at step 70; val_accuracy at every checkpoint
const LOSS = Array.from({ length: 11 }, (_, i) => [i * 10, i === 7 ? 5 : 2 - i * 0.15]);
const CURVES = [
  { metric: "train/loss", points: LOSS, logged: 10000 },
  {
    metric: "val_accuracy",
    points: [
      [0, 0.1],
      [10, 0.8],
      [50, 0.95],
      [100, 0.9733],
    ],
    logged: 4,
  },
];
const logged = (name, goal) => ({ name, goal, logged: true });
// the kernel's chart menu: the checkpoints' metrics, headline first, then curves logged only
const WITH_CURVES = {
  ...DETAIL,
  curves: CURVES,
  curves_left_out: 0,
  chart_metrics: [logged("val_accuracy", "max"), DETAIL.chart_metrics[1], logged("train/loss", "min")],
};

let el;
beforeEach(() => {
  resetLogChoice();
  el = document.createElement("div");
  document.body.appendChild(el);
});
afterEach(() => document.body.replaceChildren());

const q = (id) => el.querySelector(`[data-testid="${id}"]`);

function openDetail(detail) {
  const model = new FakeModel(baseState());
  new ZooView(model, el);
  model.answer({
    selected: "digits-mlp@final",
    detail,
    libraries: ["ckptzoo"],
    code: "import ckptzoo_widgets as cz\n",
    code_key: "digits-mlp@final#",
  });
  return model;
}

describe("chartSeries", () => {
  it("uses the logged curve as the line and puts the checkpoints on it", () => {
    const { points, line, logged: count } = chartSeries(DETAIL.checkpoints, CURVES, "train/loss");
    expect(line).toEqual(LOSS);
    expect(count).toBe(10000);
    // no checkpoint has train/loss: each sits on the curve at its step
    expect(points.map((p) => p[2])).toEqual(["epoch-1", "epoch-5", "final"]);
    expect(points[0][1]).toBeCloseTo(2 - 0.15);
    expect(points[1][1]).toBeCloseTo(2 - 5 * 0.15);
  });

  it("keeps a checkpoint's own value, and falls back to the checkpoints alone without a curve", () => {
    const withCurve = chartSeries(DETAIL.checkpoints, CURVES, "val_accuracy");
    expect(withCurve.points.map((p) => p[1])).toEqual([0.8, 0.95, 0.9733]);
    const alone = chartSeries(DETAIL.checkpoints, [], "val_loss");
    expect(alone.line).toBeNull();
    expect(alone.points.map((p) => p[1])).toEqual([0.9, 0.2, 0.1]);
  });

  it("drops non-finite and malformed points of a curve", () => {
    const bad = [{ metric: "m", points: [[0, 1], [1, NaN], [Infinity, 2], ["3", 3], null, [4, 4]] }];
    expect(chartSeries([], bad, "m").line).toEqual([
      [0, 1],
      [4, 4],
    ]);
  });

  it("interpolates on the curve and says null outside it", () => {
    expect(valueAt(LOSS, 15)).toBeCloseTo((1.85 + 1.7) / 2);
    expect(valueAt(LOSS, 0)).toBe(2);
    expect(valueAt(LOSS, 101)).toBeNull();
  });
});

describe("lineChart with a logged curve", () => {
  it("draws the curve as one path through every point and the checkpoints as markers", () => {
    const { points, line } = chartSeries(DETAIL.checkpoints, CURVES, "train/loss");
    const svg = lineChart([{ label: "train/loss", points, line }], { selected: "final" });
    const curve = svg.querySelector('[data-testid="cz-curve"]');
    expect(curve).not.toBeNull();
    expect(curve.getAttribute("points").split(" ").length).toBe(LOSS.length);
    expect(svg.querySelectorAll("circle.cz-chart-dot").length).toBe(3);
    expect(svg.querySelectorAll("circle.cz-selected").length).toBe(1);
    // the spike at step 70 is on the chart: the y axis reaches 5
    const yTicks = [...svg.querySelectorAll(".cz-tick-y")].map((t) => Number(t.textContent));
    expect(Math.max(...yTicks)).toBeGreaterThanOrEqual(5);
    expect(svg.querySelector("desc").textContent).toContain("logged training curves");
  });

  it("chooses the step axis by the checkpoints: an evenly logged curve stays linear", () => {
    const even = Array.from({ length: 2001 }, (_, i) => [i * 10, 1 / (1 + i)]);
    const marks = [5000, 10000, 20000].map((s) => [s, 1 / (1 + s / 10), `step-${s}`]);
    expect(lineChart([{ label: "loss", points: marks, line: even }]).getAttribute("data-x-scale")).toBe("linear");
    // log-spaced checkpoints (Pythia) still get the log axis, curve or not
    const pythia = [0, 1, 10, 100, 1000, 10000].map((s) => [s, 0.5, `step${s}`]);
    expect(lineChart([{ label: "acc", points: pythia, line: even }]).getAttribute("data-x-scale")).toBe("log");
  });
});

describe("the detail view", () => {
  it("offers logged curves in the metric picker and draws the chosen one", () => {
    openDetail(WITH_CURVES);
    const picker = q("cz-chart-metric");
    const options = [...picker.options].map((o) => [o.value, o.textContent]);
    expect(options.map((o) => o[0])).toEqual(["val_accuracy", "val_loss", "train/loss"]);
    expect(options[0][1]).toContain("(logged curve)");
    expect(options[1][1]).not.toContain("(logged curve)");
    // the headline has a curve: drawn as the line, the three checkpoints on it
    expect(q("cz-chart").querySelector('[data-testid="cz-curve"]')).not.toBeNull();
    picker.value = "train/loss";
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    const chart = q("cz-chart");
    expect(chart.querySelector('[data-testid="cz-curve"]').getAttribute("points").split(" ").length).toBe(11);
    expect(chart.querySelectorAll("circle.cz-chart-dot").length).toBe(3);
    expect(q("cz-curve-note").textContent).toContain("11 of 10,000 points");
    // val_loss has no curve: the checkpoints alone, joined by a plain line
    const again = q("cz-chart-metric");
    again.value = "val_loss";
    again.dispatchEvent(new Event("change", { bubbles: true }));
    expect(q("cz-chart").querySelector('[data-testid="cz-curve"]')).toBeNull();
    expect(q("cz-chart").querySelectorAll("circle.cz-chart-dot").length).toBe(3);
    expect(q("cz-curve-note")).toBeNull();
  });

  it("puts hostile curve names in as text", () => {
    const name = '<img src=x onerror="alert(1)">';
    openDetail({
      ...DETAIL,
      curves: [{ metric: name, points: LOSS, logged: 11 }],
      chart_metrics: [...DETAIL.chart_metrics, logged(name, "max")],
    });
    const picker = q("cz-chart-metric");
    expect([...picker.options].map((o) => o.value)).toContain(name);
    picker.value = name;
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    expect(el.querySelector("img")).toBeNull();
    expect(q("cz-chart").textContent).toContain(name);
  });
});

describe("compare with logged curves", () => {
  it("draws each model's logged curve with its checkpoints on it", () => {
    const root = renderCompare(document, {
      metric: "train/loss",
      metrics: ["train/loss"],
      goal: "min",
      rule: "best = lowest train/loss",
      axis: "step",
      series: [
        {
          id: "a",
          label: "a",
          points: [[50, 1.25, "s50"]],
          line: LOSS,
          best: { checkpoint: "s50", x: 50, value: 1.25 },
        },
        { id: "b", label: "b", points: [[50, 1, "s50"]], best: { checkpoint: "s50", x: 50, value: 1 } },
      ],
    });
    const chart = root.querySelector('[data-testid="cz-compare-chart"]');
    expect(chart.querySelectorAll('[data-testid="cz-curve"]').length).toBe(1);
    expect(chart.querySelectorAll("polyline").length).toBe(2);
    expect(root.querySelector('[data-testid="cz-curve-note"]')).not.toBeNull();
  });
});
