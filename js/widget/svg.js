// Small inline SVG charts: a sparkline for cards and a metric-versus-step chart.
import { formatMetric } from "./format.js";

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

/** Metric-versus-step chart. points: [[step, value, name], ...]; selected: checkpoint name. */
export function metricChart(
  points,
  { width = 360, height = 160, metric = "", xLabel = "step", selected = null, onPick = null } = {},
) {
  const raw = (points || []).filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]));
  raw.sort((a, b) => a[0] - b[0]);
  const svg = svgEl("svg", {
    class: "cz-chart",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "data-testid": "cz-chart",
  });
  const title = svgEl("title");
  title.textContent = `${metric} versus ${xLabel}`;
  svg.appendChild(title);
  if (raw.length === 0) {
    const t = svgEl("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "cz-chart-empty" });
    t.textContent = "no metric values";
    svg.appendChild(t);
    return svg;
  }
  const left = 48;
  const right = 10;
  const top = 10;
  const bottom = 28;
  const w = width - left - right;
  const h = height - top - bottom;
  const xs = raw.map((p) => p[0]);
  const ys = raw.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y0 === y1) {
    y0 -= Math.abs(y0) * 0.05 || 1;
    y1 += Math.abs(y1) * 0.05 || 1;
  }
  const px = (x) => left + (x1 === x0 ? w / 2 : ((x - x0) / (x1 - x0)) * w);
  const py = (y) => top + h - ((y - y0) / (y1 - y0)) * h;

  // axes
  svg.appendChild(svgEl("line", { x1: left, y1: top + h, x2: left + w, y2: top + h, class: "cz-axis" }));
  svg.appendChild(svgEl("line", { x1: left, y1: top, x2: left, y2: top + h, class: "cz-axis" }));
  const tick = (x, y, text, anchor) => {
    const t = svgEl("text", { x, y, "text-anchor": anchor, class: "cz-tick" });
    t.textContent = text;
    svg.appendChild(t);
  };
  tick(left - 4, top + 4, formatMetric(y1), "end");
  tick(left - 4, top + h, formatMetric(y0), "end");
  tick(left, top + h + 14, formatMetric(x0), "start");
  if (x1 !== x0) tick(left + w, top + h + 14, formatMetric(x1), "end");
  tick(left + w / 2, top + h + 24, xLabel, "middle");

  svg.appendChild(
    svgEl("polyline", {
      points: raw.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" "),
      fill: "none",
      class: "cz-chart-line",
    }),
  );
  for (const p of raw) {
    const isSel = selected !== null && p[2] === selected;
    const c = svgEl("circle", {
      cx: px(p[0]).toFixed(1),
      cy: py(p[1]).toFixed(1),
      r: isSel ? 5 : 3,
      class: isSel ? "cz-chart-dot cz-selected" : "cz-chart-dot",
    });
    const t = svgEl("title");
    t.textContent = `${p[2] ?? ""} ${xLabel} ${formatMetric(p[0])}: ${metric} ${formatMetric(p[1])}`;
    c.appendChild(t);
    if (onPick && p[2] != null) {
      c.addEventListener("click", () => onPick(p[2]));
      c.setAttribute("style", "cursor:pointer");
    }
    svg.appendChild(c);
  }
  return svg;
}
