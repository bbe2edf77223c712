// The compare view: several models' curves of one metric on one chart, a
// legend, and a table of each model's best checkpoint. The kernel sends the
// curves (ckptzoo_widgets/curves.py, `payload`); this file draws them.
//
// Used twice: as its own widget (`cz.compare([...])`, class CompareView) and
// inside the browser (class ComparePanel: checkboxes on cards, a Compare button,
// a panel filled by a "compare-data" message from the kernel). Both ask through
// the protocol (../protocol.js); the best and last checkpoint of each series are
// the kernel's (`best`, `last`), never ranked here.
import { h } from "../dom.js";
import { Protocol } from "../protocol.js";
import { chartFigure } from "../svg.js";
import { formatMetric, labelFor } from "../format.js";

// Series colours: Okabe-Ito's colour-blind-safe hues first, all of middle
// lightness so each keeps a 3:1 contrast on white and on JupyterLab's dark
// background (tested). Past the palette, lines repeat the colours dashed.
export const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8c6bb1", "#a6761d", "#e7298a", "#6b6b6b"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

/** Colour and dash of the i-th series: distinct colours first, then the same colours dashed. */
export function seriesStyle(i) {
  return { color: PALETTE[i % PALETTE.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] };
}

/** Styles for a list of model ids, in order (stable: the same list gives the same colours). */
export function assignStyles(ids) {
  return (ids || []).map((id, i) => ({ id, ...seriesStyle(i) }));
}

/** WCAG relative luminance and contrast ratio of two "#rrggbb" colours. */
export function contrast(a, b) {
  const lum = (hex) => {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const [r, g, bl] = c.map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The best-checkpoint table: one row per model; the best and last checkpoints are the kernel's (`best`, `last`). */
export function bestTable(doc, series, { axis = "step" } = {}) {
  const head = h(
    doc,
    "tr",
    {},
    ...["Model", "Best checkpoint", labelFor(axis), "Best value", "Last checkpoint", "Last value"].map((t) =>
      h(doc, "th", { text: t }),
    ),
  );
  const body = h(doc, "tbody");
  for (const s of series) {
    const best = s.best || null;
    const last = s.last || null;
    const swatch = h(doc, "span", { class: "cz-swatch", "aria-hidden": "true" });
    swatch.style.background = s.color || "";
    body.append(
      h(
        doc,
        "tr",
        { "data-testid": "cz-compare-row", "data-model-id": s.id },
        h(doc, "th", { scope: "row" }, swatch, s.label || s.id),
        h(doc, "td", { class: "cz-compare-best", text: best ? best.checkpoint : "—" }),
        h(doc, "td", { class: "cz-num", text: best ? formatMetric(best.x) : "—" }),
        h(doc, "td", { class: "cz-num", text: best ? formatMetric(best.value) : "—" }),
        h(doc, "td", { text: last ? last.checkpoint : "—" }),
        h(doc, "td", { class: "cz-num", text: last ? formatMetric(last.value) : "—" }),
      ),
    );
  }
  return h(
    doc,
    "table",
    { class: "cz-compare-table", "data-testid": "cz-compare-table" },
    h(doc, "thead", {}, head),
    body,
  );
}

/** The metric menu (or the metric's name) and the axis. */
function compareHead(doc, data, onMetric) {
  const head = h(doc, "div", { class: "cz-compare-head" });
  const metrics = data.metrics || [data.metric];
  if (metrics.length > 1 && onMetric) {
    const sel = h(
      doc,
      "select",
      { class: "cz-select", "data-testid": "cz-compare-metric", "aria-label": "Metric to compare" },
      ...metrics.map((m) => h(doc, "option", { value: m, text: labelFor(m) })),
    );
    sel.value = data.metric;
    sel.addEventListener("change", () => onMetric(sel.value));
    head.append(sel);
  } else {
    head.append(h(doc, "b", { text: labelFor(data.metric) }));
  }
  head.append(` versus ${data.axis}`);
  return head;
}

/** One legend entry per model, in its colour and dash. */
function legendList(doc, styled) {
  const legend = h(doc, "ul", { class: "cz-legend", "data-testid": "cz-compare-legend" });
  for (const s of styled) {
    const line = h(doc, "span", { class: "cz-legend-line", "aria-hidden": "true" });
    line.style.borderTopColor = s.color;
    if (s.dash) line.style.borderTopStyle = "dashed";
    legend.append(h(doc, "li", { "data-model-id": s.id }, line, s.label));
  }
  return legend;
}

/**
 * The whole compare view for a payload {metric, metrics, goal, rule, axis, series: [{id, label, points}]}.
 * onMetric(name) is called when the user picks another metric.
 */
export function renderCompare(doc, data, { onMetric = null, error = "" } = {}) {
  const root = h(doc, "div", { class: "cz-compare", "data-testid": "cz-compare" });
  if (error)
    root.append(h(doc, "div", { class: "cz-error", role: "alert", "data-testid": "cz-compare-error", text: error }));
  const series = (data && data.series) || [];
  if (series.length === 0) {
    root.append(h(doc, "div", { class: "cz-status", text: error ? "" : "Nothing to compare yet." }));
    return root;
  }
  const styles = assignStyles(series.map((s) => s.id));
  const styled = series.map((s, i) => ({
    ...s,
    label: s.label || s.id,
    color: styles[i].color,
    dash: styles[i].dash,
    best: s.best ? s.best.checkpoint : undefined, // the chart marks the kernel's best checkpoint
  }));

  root.append(compareHead(doc, data, onMetric));

  root.append(legendList(doc, styled));
  root.append(
    chartFigure(styled, {
      doc,
      width: 560,
      height: 260,
      xLabel: data.axis,
      yLabel: labelFor(data.metric),
      testid: "cz-compare-chart",
    }),
  );
  if (styled.some((s) => Array.isArray(s.line) && s.line.length > 0))
    root.append(
      h(doc, "div", {
        class: "cz-muted cz-curve-note",
        "data-testid": "cz-curve-note",
        text: "Lines: the curves logged during training (thinned, highs and lows kept). Dots: the checkpoints.",
      }),
    );
  root.append(
    h(doc, "h4", { class: "cz-compare-rule", text: `Best checkpoint per model (◇ on the chart): ${data.rule || ""}` }),
    bestTable(
      doc,
      series.map((s, i) => ({ ...s, label: styled[i].label, color: styled[i].color })),
      { axis: data.axis },
    ),
  );
  return root;
}

/** The standalone widget (`cz.compare`): draws `data`, asks the kernel for another metric. */
export class CompareView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.doc = el.ownerDocument || document;
    this.handlers = [];
    this.protocol = new Protocol(model);
    for (const name of ["change:data", "change:error"]) {
      const fn = () => this.render();
      model.on(name, fn);
      this.handlers.push([name, fn]);
    }
    this.render();
  }

  render() {
    const view = renderCompare(this.doc, this.model.get("data") || {}, {
      error: this.model.get("error") || "",
      // the page asks, the kernel owns `metric` (ckptzoo_widgets/widget/base.py): a checked request
      onMetric: (m) => this.protocol.send("metric", { metric: m }),
    });
    const root = this.doc.createElement("div");
    root.className = "cz-root cz-compare-root";
    root.append(view);
    this.el.replaceChildren(root);
  }

  destroy() {
    for (const [name, fn] of this.handlers) this.model.off(name, fn);
    this.el.replaceChildren();
  }
}

/**
 * Compare inside the browser: a checkbox on every card, a "Compare" button, and
 * a panel. The button sends {request: "compare", models, metric} to the kernel,
 * which answers with {event: "compare-data", data} or {event: "compare-data", error}.
 * view: the ZooView (its model, doc and grid).
 */
export class ComparePanel {
  constructor(view) {
    this.view = view;
    this.model = view.model;
    this.doc = view.doc;
    this.button = h(this.doc, "button", { type: "button", class: "cz-btn", "data-testid": "cz-compare-button" });
    this.button.addEventListener("click", () => this.request());
    this.panel = h(this.doc, "div", { class: "cz-compare-panel", "data-testid": "cz-compare-panel" });
    this.panel.hidden = true;
    this.onMsg = (msg) => this.receive(msg);
    this.model.on("msg:custom", this.onMsg);
    this.onSet = () => this.sync();
    this.model.on("change:compare_set", this.onSet);
    this.updateButton();
  }

  destroy() {
    this.model.off("msg:custom", this.onMsg);
    this.model.off("change:compare_set", this.onSet);
  }

  /** The ticked models: the kernel's `compare_set` (what was asked, until the kernel answers). */
  get chosen() {
    const set = this.view.get("compare_set");
    return Array.isArray(set) ? set : [];
  }

  /** Show the kernel's set: the button's count and every checkbox on the grid. */
  sync() {
    this.updateButton();
    const chosen = this.chosen;
    for (const box of this.view.grid.querySelectorAll(".cz-compare-check"))
      box.checked = chosen.includes(box.getAttribute("data-model-id"));
  }

  /** Put a checkbox on every card of the grid (after each render of the grid). */
  decorate(grid) {
    for (const card of grid.querySelectorAll(".cz-card")) {
      const id = card.getAttribute("data-model-id");
      if (!id || card.querySelector(".cz-compare-check")) continue;
      const box = h(this.doc, "input", {
        type: "checkbox",
        class: "cz-compare-check",
        "data-testid": "cz-compare-check",
        "aria-label": `Compare ${id}`,
        title: "Add to the comparison",
      });
      box.checked = this.chosen.includes(id);
      box.setAttribute("data-model-id", id);
      // no listener here: the grid's delegated listeners call `onGridEvent` (the card does not open)
      card.append(h(this.doc, "label", { class: "cz-compare-label" }, box, "compare"));
    }
  }

  /** A click, key or change inside the grid: true when it was the compare checkbox's (handled here). */
  onGridEvent(e) {
    const label = e.target.closest && e.target.closest(".cz-compare-label");
    if (!label) return false;
    const box = label.querySelector(".cz-compare-check");
    if (e.type === "change" && box) this.toggle(box.getAttribute("data-model-id"), box.checked);
    return true;
  }

  toggle(id, on) {
    const chosen = on ? [...new Set([...this.chosen, id])] : this.chosen.filter((x) => x !== id);
    this.view.set({ compare_set: chosen }); // asked of the kernel, shown at once
    this.updateButton();
  }

  updateButton() {
    const n = this.chosen.length;
    this.button.textContent = n ? `Compare (${n})` : "Compare";
    this.button.disabled = n < 1 || this.view.get("ready") === false; // nothing open yet: nothing to compare
    this.button.title = n ? `Training curves of ${this.chosen.join(", ")}` : "Tick models on the cards to compare";
  }

  request(metric = null) {
    if (!this.chosen.length) return;
    this.panel.hidden = false;
    this.panel.replaceChildren(h(this.doc, "div", { class: "cz-status", text: "Loading curves…" }));
    // One request of the view's protocol: its sequence number tells this answer from older ones.
    this.asked = this.view.protocol.send("compare", { models: [...this.chosen], metric: metric || "" });
    if (this.asked === null)
      this.panel.replaceChildren(h(this.doc, "div", { class: "cz-status", text: "The kernel is not answering." }));
  }

  receive(msg) {
    if (!msg || msg.event !== "compare-data") return;
    // an answer to an older request (or one nobody asked for) is not shown
    if (typeof msg.seq === "number" && msg.seq !== this.asked) return;
    const close = h(this.doc, "button", {
      type: "button",
      class: "cz-btn",
      "data-testid": "cz-compare-close",
      text: "Close comparison",
    });
    close.addEventListener("click", () => {
      this.panel.hidden = true;
      this.panel.replaceChildren();
    });
    this.panel.hidden = false;
    this.panel.replaceChildren(
      close,
      renderCompare(this.doc, msg.data || {}, { error: msg.error || "", onMetric: (m) => this.request(m) }),
    );
  }
}
