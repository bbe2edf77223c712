// @vitest-environment jsdom
import { describe, it, expect } from "vitest";
import { renderCard, sortCheckpoints, chartPoints } from "../cards.js";
import { sparkline, metricChart, scalePoints } from "../svg.js";
import { CARDS, DETAIL, CONTRACT } from "./fake-model.js";

describe("renderCard", () => {
  it("shows name, task, library, licence, params, headline metric, checkpoints and a sparkline", () => {
    const el = renderCard(document, CARDS[0], { filters: CONTRACT.filters });
    expect(el.getAttribute("data-testid")).toBe("cz-card");
    expect(el.getAttribute("data-model-id")).toBe("digits-mlp");
    const text = el.textContent;
    for (const s of [
      "Digits MLP",
      "image-classification",
      "numpy",
      "mit",
      "40.0K",
      "0.9733",
      "8 checkpoints",
      "Val accuracy",
    ]) {
      expect(text).toContain(s);
    }
    expect(el.querySelector("svg.cz-spark polyline")).not.toBeNull();
  });
  it("has no sparkline with a single stage", () => {
    const el = renderCard(document, CARDS[1]);
    expect(el.querySelector("svg")).toBeNull();
    expect(el.textContent).toContain("25.6M");
    expect(el.textContent).toContain("1 checkpoint");
  });
  it("puts hostile strings in as text", () => {
    const el = renderCard(document, {
      ...CARDS[0],
      name: '<img src=x onerror="alert(1)">',
      task: "<script>alert(2)</script>",
    });
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("script")).toBeNull();
    expect(el.textContent).toContain("<img src=x");
  });
  it("says why a card matched when only its model card did", () => {
    const el = renderCard(document, { ...CARDS[1], match: "card", snippet: "…compared with the <b>MLP</b>…" });
    const snip = el.querySelector('[data-testid="cz-snippet"]');
    expect(snip.textContent).toBe("In the model card: …compared with the <b>MLP</b>…");
    expect(snip.querySelector("b")).toBeNull(); // plain text
    expect(renderCard(document, { ...CARDS[0], match: "name", snippet: "" }).querySelector(".cz-snippet")).toBeNull();
  });

  it("shows the sort value when sorting by a non-headline metric", () => {
    const el = renderCard(document, { ...CARDS[0], sort_value: 0.1234 }, { sortKey: "-val_loss" });
    expect(el.querySelector(".cz-sortval").textContent).toContain("Val loss 0.1234");
  });
});

describe("sortCheckpoints", () => {
  const list = [
    { name: "b", x: 20, metrics: { acc: 0.5 } },
    { name: "a", x: 10, metrics: { acc: 0.9 } },
    { name: "c", x: null, metrics: {} },
    { name: "d", x: 30, metrics: { acc: 0.7 } },
  ];
  it("sorts by the axis, missing last", () => {
    expect(sortCheckpoints(list, "x").map((c) => c.name)).toEqual(["a", "b", "d", "c"]);
    expect(sortCheckpoints(list, "x", true).map((c) => c.name)).toEqual(["d", "b", "a", "c"]);
  });
  it("sorts by a metric, missing last in both directions", () => {
    expect(sortCheckpoints(list, "acc").map((c) => c.name)).toEqual(["b", "d", "a", "c"]);
    expect(sortCheckpoints(list, "acc", true).map((c) => c.name)).toEqual(["a", "d", "b", "c"]);
  });
  it("does not mutate the input", () => {
    const copy = list.map((c) => c.name);
    sortCheckpoints(list, "acc", true);
    expect(list.map((c) => c.name)).toEqual(copy);
  });
});

describe("metrics and charts", () => {
  it("puts each checkpoint at the kernel's place for it (x)", () => {
    const points = chartPoints(DETAIL.checkpoints, "val_accuracy");
    expect(points).toEqual([
      [10, 0.8, "epoch-1"],
      [50, 0.95, "epoch-5"],
      [100, 0.9733, "final"],
    ]);
  });
  it("scales points into the box and handles flat series", () => {
    const s = scalePoints(
      [
        [0, 1],
        [10, 1],
      ],
      100,
      20,
      0,
    );
    expect(s).toEqual([
      [0, 10],
      [100, 10],
    ]);
    expect(sparkline([[1, 1]])).toBeNull();
  });
  it("draws a chart with one dot per checkpoint and marks the selected one", () => {
    const points = chartPoints(DETAIL.checkpoints, "val_accuracy");
    const svg = metricChart(points, { metric: "val accuracy", selected: "epoch-5" });
    expect(svg.querySelectorAll("circle").length).toBe(3);
    expect(svg.querySelectorAll("circle.cz-selected").length).toBe(1);
    expect(svg.querySelector("polyline")).not.toBeNull();
  });
});
