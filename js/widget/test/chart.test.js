// @vitest-environment jsdom
import { describe, it, expect, beforeEach } from "vitest";
import { lineChart, chartFigure, metricChart, valuesTable, resetLogChoice } from "../svg.js";

const PYTHIA_STEPS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 13000, 73000, 143000];
const pythia = PYTHIA_STEPS.map((s, i) => [s, 0.1 + i * 0.02, `step${s}`]);
const digits = [0, 1, 2, 3, 5, 8, 12, 20, 30].map((e, i) => [e, 0.1 + i * 0.1, `epoch-${e}`]);

beforeEach(() => resetLogChoice());

describe("lineChart", () => {
  it("has a title, a description, ticks and gridlines on both axes, and axis labels", () => {
    const svg = metricChart(digits, { metric: "val accuracy", xLabel: "epoch" });
    expect(svg.querySelector("title").textContent).toBe("val accuracy versus epoch");
    expect(svg.querySelector("desc").textContent).toContain("epoch from 0 to 30");
    const yTicks = [...svg.querySelectorAll(".cz-tick-y")].map((t) => t.textContent);
    const xTicks = [...svg.querySelectorAll(".cz-tick-x")].map((t) => t.textContent);
    expect(yTicks.length).toBeGreaterThanOrEqual(4);
    expect(xTicks).toEqual(["0", "5", "10", "15", "20", "25", "30"]);
    expect(svg.querySelectorAll("line.cz-grid").length).toBe(yTicks.length + xTicks.length);
    const labels = [...svg.querySelectorAll(".cz-axis-label")].map((t) => t.textContent);
    expect(labels).toEqual(["epoch", "val accuracy"]);
    expect(svg.getAttribute("data-x-scale")).toBe("linear");
    expect(svg.querySelectorAll("circle").length).toBe(digits.length);
  });

  it("switches to a log step axis on its own for Pythia, with 0 at the start", () => {
    const svg = metricChart(pythia, { metric: "lambada acc" });
    expect(svg.getAttribute("data-x-scale")).toBe("log");
    const xTicks = [...svg.querySelectorAll(".cz-tick-x")].map((t) => t.textContent);
    expect(xTicks).toEqual(["0", "1", "10", "100", "1k", "10k", "100k"]);
    const cx = [...svg.querySelectorAll("circle")].map((c) => Number(c.getAttribute("cx")));
    // step 0 on the y axis, step 512 past the middle of the plot
    expect(cx[0]).toBe(52);
    expect(cx[PYTHIA_STEPS.indexOf(512)]).toBeGreaterThan((52 + 406) / 2);
    const linear = metricChart(pythia, { metric: "lambada acc", logX: false });
    expect(linear.getAttribute("data-x-scale")).toBe("linear");
  });

  it("marks the selected checkpoint and the best ones", () => {
    let picked = null;
    const svg = lineChart(
      [
        { label: "a", points: digits, color: "#d55e00", best: "epoch-30" },
        { label: "b", points: digits.map(([x, y, n]) => [x, y / 2, n]), color: "#0072b2", best: "epoch-30" },
      ],
      { selected: "epoch-5", onPick: (name, i) => (picked = [name, i]) },
    );
    expect(svg.querySelectorAll("circle.cz-selected").length).toBe(1);
    expect(svg.querySelectorAll(".cz-selected-rule").length).toBe(1);
    expect(svg.querySelectorAll("path.cz-best").length).toBe(2);
    expect(svg.querySelectorAll("polyline")[1].getAttribute("style")).toContain("#0072b2");
    svg.querySelectorAll(".cz-series")[1].querySelector("circle").dispatchEvent(new Event("click"));
    expect(picked).toEqual(["epoch-0", 1]);
  });

  it("says when there is nothing to draw, and ignores non-finite values", () => {
    const svg = metricChart(
      [
        [1, NaN, "x"],
        [Infinity, 2, "y"],
      ],
      { metric: "m" },
    );
    expect(svg.textContent).toContain("no metric values");
    expect(svg.querySelectorAll("circle").length).toBe(0);
  });

  it("puts hostile labels in as text", () => {
    const svg = lineChart([{ label: "<img src=x onerror=alert(1)>", points: digits }], {
      yLabel: "<script>alert(2)</script>",
    });
    expect(svg.querySelector("img, script")).toBeNull();
    expect(svg.textContent).toContain("<script>alert(2)</script>");
  });
});

describe("chartFigure", () => {
  it("offers a log toggle that redraws the chart and is remembered", () => {
    const fig = chartFigure([{ label: "70m", points: pythia }], { xLabel: "step", yLabel: "acc" });
    const toggle = fig.querySelector('[data-testid="cz-log-x"]');
    expect(toggle.checked).toBe(true);
    toggle.checked = false;
    toggle.dispatchEvent(new Event("change"));
    expect(fig.querySelector("svg").getAttribute("data-x-scale")).toBe("linear");
    expect(fig.querySelectorAll("svg").length).toBe(1);
    const again = chartFigure([{ label: "70m", points: pythia }], { xLabel: "step" });
    expect(again.querySelector("svg").getAttribute("data-x-scale")).toBe("linear");
  });

  it("has no toggle for a handful of small steps", () => {
    const fig = chartFigure([
      {
        label: "x",
        points: [
          [0, 1, "a"],
          [1, 2, "b"],
          [2, 3, "c"],
        ],
      },
    ]);
    expect(fig.querySelector('[data-testid="cz-log-x"]')).toBeNull();
  });

  it("shows every value in a table, one column per series", () => {
    const table = valuesTable(
      [
        { label: "70m", points: pythia.slice(0, 3) },
        { label: "160m", points: pythia.slice(1, 4) },
      ],
      { xLabel: "step" },
    );
    const rows = [...table.querySelectorAll("tr")].map((r) => [...r.children].map((c) => c.textContent));
    expect(rows[0]).toEqual(["step", "70m", "160m"]);
    expect(rows.map((r) => r[0]).slice(1)).toEqual(["0", "1", "2", "4"]);
    expect(rows[1]).toEqual(["0", "0.1000", "—"]);
    expect(rows[4][1]).toBe("—");
  });
});

describe("a metric at ±1e308 (hostile zoos, issue 17)", () => {
  it("draws every point at finite coordinates", () => {
    const points = [
      [0, -1e308, "a"],
      [1, 0.5, "b"],
      [2, 1e308, "c"],
    ];
    const svg = metricChart(points, { metric: "acc", xLabel: "step" });
    const circles = [...svg.querySelectorAll("circle")];
    expect(circles.length).toBe(3);
    for (const c of circles) {
      expect(Number.isFinite(Number(c.getAttribute("cx")))).toBe(true);
      expect(Number.isFinite(Number(c.getAttribute("cy")))).toBe(true);
    }
    const line = svg.querySelector("polyline").getAttribute("points");
    expect(line).not.toContain("NaN");
    expect(svg.querySelectorAll(".cz-tick-y").length).toBeGreaterThan(1);
  });
});
