// Small inline SVG charts: a sparkline for cards and line charts of a metric
// across training stages (one model, or several to compare). Every string goes
// in as a text node; the scales and ticks are pure functions in scales.js.
import { formatMetric } from "./format.js";
import { makeScale, shouldUseLog, formatTick } from "./scales.js";

const NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}, doc = document) {
  const el = doc.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Keep only finite [x, y] pairs, sorted by x. */
export function cleanPoints(points) {
  return (points || [])
    .filter(
      (p) =>
        Array.isArray(p) &&
        typeof p[0] === "number" &&
        typeof p[1] === "number" &&
        Number.isFinite(p[0]) &&
        Number.isFinite(p[1]),
    )
    .slice()
    .sort((a, b) => a[0] - b[0]);
}

/** Scale points into a box; returns [[px, py], ...]. A flat series sits mid-box. */
export function scalePoints(points, width, height, pad = 2) {
  const pts = cleanPoints(points);
  if (pts.length === 0) return [];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const w = width - 2 * pad;
  const h = height - 2 * pad;
  return pts.map(([x, y]) => [
    pad + (x1 === x0 ? w / 2 : ((x - x0) / (x1 - x0)) * w),
    pad + (y1 === y0 ? h / 2 : h - ((y - y0) / (y1 - y0)) * h),
  ]);
}

/** Sparkline of a metric across training stages; null when fewer than 2 points. */
export function sparkline(points, { width = 96, height = 24, label = "" } = {}) {
  const scaled = scalePoints(points, width, height, 3);
  if (scaled.length < 2) return null;
  const svg = svgEl("svg", {
    class: "cz-spark",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
  });
  if (label) {
    const t = svgEl("title");
    t.textContent = label;
    svg.appendChild(t);
  }
  svg.appendChild(
    svgEl("polyline", {
      points: scaled.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "),
      fill: "none",
      class: "cz-spark-line",
    }),
  );
  const [lx, ly] = scaled[scaled.length - 1];
  svg.appendChild(svgEl("circle", { cx: lx.toFixed(1), cy: ly.toFixed(1), r: 2, class: "cz-spark-dot" }));
  return svg;
}

/** A logged curve that can be drawn (finite [step, value] pairs, sorted), or null when it has no points. */
function drawableLine(line) {
  if (!Array.isArray(line)) return null;
  const pts = cleanPoints(line).map((p) => [p[0], p[1]]);
  return pts.length > 0 ? pts : null;
}

/** The points of a series that can be drawn: finite [x, y, name], sorted by x. */
function drawable(points) {
  return (points || [])
    .filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
    .slice()
    .sort((a, b) => a[0] - b[0]);
}

/**
 * A line chart of one metric across training stages.
 *
 * series: [{ label, points: [[x, y, checkpointName], ...], line?, color?, dash?, best? }]
 *   line: a logged training curve [[step, value], ...] drawn as the series' line, its points
 *     then marked on it as checkpoints (TensorBoard style); without one the line joins the points;
 *   color / dash: stroke colour and dash pattern (a single series without one uses the theme accent);
 *   best: the name of the checkpoint to mark as the best one.
 * Options: xLabel, yLabel, logX (true / false; null chooses: log when x spans two decades),
 *   selected (a checkpoint name, marked on the first series), onPick(name, seriesIndex).
 * Returns an <svg> with a <title> and <desc>; ticks and gridlines on both axes.
 */
export function lineChart(
  series,
  {
    width = 420,
    height = 220,
    xLabel = "step",
    yLabel = "",
    logX = null,
    selected = null,
    onPick = null,
    testid = "cz-chart",
    doc = document,
  } = {},
) {
  const list = (series || []).map((s) => ({ ...s, points: drawable(s.points), line: drawableLine(s.line) }));
  const el = (tag, attrs) => svgEl(tag, attrs, doc);
  const svg = el("svg", {
    class: "cz-chart",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "data-testid": testid,
  });
  const title = el("title");
  title.textContent = `${yLabel || "metric"} versus ${xLabel}`;
  svg.appendChild(title);
  const xs = list.flatMap((s) => [...s.points, ...(s.line || [])].map((p) => p[0]));
  const ys = list.flatMap((s) => [...s.points, ...(s.line || [])].map((p) => p[1]));
  if (xs.length === 0) {
    const t = el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "cz-chart-empty" });
    t.textContent = "no metric values";
    svg.appendChild(t);
    return svg;
  }
  // Automatic: by the checkpoints' steps (a logged curve is evenly spaced, as TensorBoard draws it linear).
  const markedXs = list.flatMap((s) => s.points.map((p) => p[0]));
  const log =
    logX === null || logX === undefined
      ? shouldUseLog(markedXs.length > 0 ? markedXs : xs)
      : !!logX && xs.every((x) => x >= 0);
  svg.setAttribute("data-x-scale", log ? "log" : "linear");

  const left = 52;
  const right = 14;
  const top = 10;
  const bottom = 40;
  const x = makeScale(xs, [left, width - right], { kind: log ? "log" : "linear", count: 6, nice: false });
  const y = makeScale(ys, [height - bottom, top], { count: 5 });

  const desc = el("desc");
  desc.textContent =
    `${list.length} series (${list.map((s) => s.label).join(", ")}); ` +
    (list.some((s) => s.line) ? "lines are logged training curves, dots their checkpoints; " : "") +
    `${xLabel} from ${formatMetric(Math.min(...xs))} to ${formatMetric(Math.max(...xs))}` +
    `${log ? " on a log scale" : ""}; ${yLabel || "value"} from ${formatMetric(Math.min(...ys))} to ${formatMetric(Math.max(...ys))}.`;
  svg.appendChild(desc);

  // gridlines and tick labels
  const grid = el("g", { class: "cz-gridlines", "aria-hidden": "true" });
  const label = (tx, ty, text, anchor, cls = "cz-tick") => {
    const t = el("text", { x: tx.toFixed(1), y: ty.toFixed(1), "text-anchor": anchor, class: cls });
    t.textContent = text;
    grid.appendChild(t);
    return t;
  };
  for (const v of y.ticks) {
    const py = y.map(v);
    grid.appendChild(
      el("line", { x1: left, x2: width - right, y1: py.toFixed(1), y2: py.toFixed(1), class: "cz-grid" }),
    );
    label(left - 5, py + 3.5, formatTick(v), "end", "cz-tick cz-tick-y");
  }
  let lastRight = -Infinity;
  for (const v of x.ticks) {
    const px = x.map(v);
    grid.appendChild(
      el("line", { x1: px.toFixed(1), x2: px.toFixed(1), y1: top, y2: height - bottom, class: "cz-grid" }),
    );
    // Skip a label that would overlap the previous one (the data's last value next to a round tick).
    const text = formatTick(v);
    const half = text.length * 3;
    if (px - half < lastRight + 4) continue;
    label(px, height - bottom + 14, text, "middle", "cz-tick cz-tick-x");
    lastRight = px + half;
  }
  grid.appendChild(
    el("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "cz-axis" }),
  );
  grid.appendChild(el("line", { x1: left, x2: left, y1: top, y2: height - bottom, class: "cz-axis" }));
  label((left + width - right) / 2, height - 6, log ? `${xLabel} (log scale)` : xLabel, "middle", "cz-axis-label");
  const yl = label(12, (top + height - bottom) / 2, yLabel, "middle", "cz-axis-label");
  yl.setAttribute("transform", `rotate(-90 12 ${((top + height - bottom) / 2).toFixed(1)})`);
  svg.appendChild(grid);

  list.forEach((s, si) => {
    const g = el("g", { class: "cz-series", "data-series": s.label ?? String(si) });
    const stroke = s.color ? `stroke:${s.color}` : "";
    const line = el("polyline", {
      points: (s.line || s.points).map((p) => `${x.map(p[0]).toFixed(1)},${y.map(p[1]).toFixed(1)}`).join(" "),
      fill: "none",
      class: s.line ? "cz-chart-line cz-curve-line" : "cz-chart-line",
    });
    if (s.line) line.setAttribute("data-testid", "cz-curve");
    if (stroke) line.setAttribute("style", stroke);
    if (s.dash) line.setAttribute("stroke-dasharray", s.dash);
    g.appendChild(line);
    for (const p of s.points) {
      const px = x.map(p[0]);
      const py = y.map(p[1]);
      const isSel = si === 0 && selected !== null && p[2] === selected;
      if (s.best !== undefined && s.best !== null && p[2] === s.best) {
        const r = 7;
        const mark = el("path", {
          d: `M${px.toFixed(1)},${(py - r).toFixed(1)}l${r},${r}l${-r},${r}l${-r},${-r}z`,
          class: "cz-best",
          fill: "none",
        });
        if (stroke) mark.setAttribute("style", stroke);
        g.appendChild(mark);
      }
      if (isSel) {
        g.appendChild(
          el("line", {
            x1: px.toFixed(1),
            x2: px.toFixed(1),
            y1: top,
            y2: height - bottom,
            class: "cz-selected-rule",
          }),
        );
      }
      const c = el("circle", {
        cx: px.toFixed(1),
        cy: py.toFixed(1),
        r: isSel ? 5 : list.length > 1 ? 2.5 : 3,
        class: isSel ? "cz-chart-dot cz-selected" : "cz-chart-dot",
      });
      if (stroke) c.setAttribute("style", isSel ? `${stroke};fill:${s.color}` : stroke);
      const t = el("title");
      const who = list.length > 1 ? `${s.label}, ` : "";
      t.textContent = `${who}${p[2] ?? ""}: ${xLabel} ${formatMetric(p[0])}, ${yLabel || "value"} ${formatMetric(p[1])}`;
      c.appendChild(t);
      if (onPick && p[2] !== null && p[2] !== undefined) {
        c.addEventListener("click", () => onPick(p[2], si));
        c.setAttribute("style", `${c.getAttribute("style") || ""};cursor:pointer`);
      }
      g.appendChild(c);
    }
    svg.appendChild(g);
  });
  return svg;
}

/** The chart's values as a table (one row per x, one column per series): the accessible fallback. */
export function valuesTable(series, { xLabel = "step", doc = document } = {}) {
  const list = (series || []).map((s) => ({ ...s, points: drawable(s.points) }));
  const xs = [...new Set(list.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const cell = (tag, text) => {
    const c = doc.createElement(tag);
    c.textContent = text;
    return c;
  };
  const table = doc.createElement("table");
  table.className = "cz-values";
  const head = doc.createElement("tr");
  head.append(cell("th", xLabel), ...list.map((s) => cell("th", s.label ?? "")));
  const thead = doc.createElement("thead");
  thead.appendChild(head);
  const tbody = doc.createElement("tbody");
  for (const xv of xs) {
    const tr = doc.createElement("tr");
    tr.appendChild(cell("th", formatMetric(xv)));
    for (const s of list) {
      const p = s.points.find((q) => q[0] === xv);
      tr.appendChild(cell("td", p ? formatMetric(p[1]) : "—"));
    }
    tbody.appendChild(tr);
  }
  table.append(thead, tbody);
  return table;
}

// The user's last choice of x scale (null: automatic), kept across re-renders of the view.
let logChoice = null;

/**
 * A chart with its controls: a "log step axis" toggle (when the x values allow one)
 * and the values as a table in a <details>. The toggle redraws the chart in place.
 */
export function chartFigure(series, options = {}) {
  const doc = options.doc || document;
  const box = doc.createElement("div");
  box.className = "cz-chart-box";
  const xs = (series || []).flatMap((s) => [...drawable(s.points), ...(drawableLine(s.line) || [])].map((p) => p[0]));
  const canLog = xs.length > 1 && xs.every((v) => v >= 0) && Math.max(...xs) > 10;
  let chart = lineChart(series, { ...options, logX: canLog ? logChoice : false });
  box.appendChild(chart);
  if (canLog) {
    const toggle = doc.createElement("label");
    toggle.className = "cz-log-toggle";
    const input = doc.createElement("input");
    input.type = "checkbox";
    input.setAttribute("data-testid", "cz-log-x");
    input.checked = chart.getAttribute("data-x-scale") === "log";
    input.addEventListener("change", () => {
      logChoice = input.checked;
      const next = lineChart(series, { ...options, logX: logChoice });
      chart.replaceWith(next);
      chart = next;
    });
    toggle.append(input, doc.createTextNode(` log ${options.xLabel || "step"} axis`));
    box.insertBefore(toggle, chart);
  }
  const details = doc.createElement("details");
  details.className = "cz-chart-values";
  const summary = doc.createElement("summary");
  summary.textContent = "Values as a table";
  details.append(summary, valuesTable(series, options));
  box.appendChild(details);
  return box;
}

/** Reset the remembered x-scale choice (tests). */
export function resetLogChoice() {
  logChoice = null;
}

/**
 * One model's metric-versus-step chart. points: [[step, value, name], ...] (its checkpoints);
 * line: the logged curve [[step, value], ...] or null; selected: checkpoint name.
 */
export function metricChart(
  points,
  { metric = "", xLabel = "step", selected = null, onPick = null, line = null, ...rest } = {},
) {
  return lineChart([{ label: metric, points, line }], {
    ...rest,
    xLabel,
    yLabel: metric,
    selected,
    onPick: onPick ? (name) => onPick(name) : null,
  });
}

/** metricChart with the log toggle and the values table (what the detail view shows). */
export function metricFigure(
  points,
  { metric = "", xLabel = "step", selected = null, onPick = null, line = null, ...rest } = {},
) {
  return chartFigure([{ label: metric, points, line }], {
    ...rest,
    xLabel,
    yLabel: metric,
    selected,
    onPick: onPick ? (name) => onPick(name) : null,
  });
}
