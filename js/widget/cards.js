// Building blocks of the browser view: a card, checkpoint sorting, the chart's points on the
// kernel's axis (`x`).
import { formatCount, formatMetric, formatBytes, formatDate, labelFor } from "./format.js";
import { sparkline } from "./svg.js";
import { h } from "./dom.js";

/** Parameters and checkpoints of a card. */
function statsRow(doc, card) {
  const stats = h(doc, "div", { class: "cz-stats" });
  stats.appendChild(
    h(
      doc,
      "span",
      { class: "cz-stat cz-params", title: "parameters" },
      h(doc, "b", { text: formatCount(card.num_params) }),
      " params",
    ),
  );
  // A live source's model lists its checkpoints when opened (null until then).
  if (card.num_checkpoints !== null)
    stats.appendChild(
      h(
        doc,
        "span",
        { class: "cz-stat cz-ckpts", title: "checkpoints" },
        h(doc, "b", { text: String(card.num_checkpoints ?? 0) }),
        card.num_checkpoints === 1 ? " checkpoint" : " checkpoints",
      ),
    );
  return stats;
}

/** The headline metric and its sparkline. */
function metricRow(doc, card) {
  const row = h(doc, "div", { class: "cz-metric-row" });
  if (card.headline_metric) {
    row.appendChild(
      h(
        doc,
        "span",
        { class: "cz-headline", title: card.headline_metric },
        `${labelFor(card.headline_metric)} `,
        h(doc, "b", { text: formatMetric(card.headline_value) }),
      ),
    );
  }
  const spark = sparkline(card.spark, { label: `${card.headline_metric || "metric"} across training stages` });
  if (spark) row.appendChild(spark);
  return row;
}

/** One model card. Every string goes in through textContent. `filters`: the kernel's filter menus (a badge each). */
export function renderCard(doc, card, { sortKey = "", filters = [] } = {}) {
  const el = h(doc, "div", {
    class: "cz-card",
    role: "button",
    tabindex: "0",
    "data-testid": "cz-card",
    "data-model-id": card.id,
    "aria-label": `Open ${card.name || card.id}`,
  });
  const title = h(
    doc,
    "div",
    { class: "cz-card-title" },
    h(doc, "span", { class: "cz-card-name", text: card.name || card.id }),
  );
  el.appendChild(title);
  if (card.name && card.name !== card.id) el.appendChild(h(doc, "div", { class: "cz-card-id", text: card.id }));
  const badges = h(doc, "div", { class: "cz-badges" });
  for (const { key, label } of filters) {
    if (card[key])
      badges.appendChild(h(doc, "span", { class: `cz-badge cz-badge-${key}`, title: label, text: card[key] }));
  }
  el.appendChild(badges);
  // Where it came from, when the kernel says the zoo's cards come from several places.
  if (card.from)
    el.appendChild(h(doc, "div", { class: "cz-card-source", "data-testid": "cz-card-source", text: card.from }));

  el.appendChild(statsRow(doc, card));

  el.appendChild(metricRow(doc, card));

  const key = String(sortKey || "").replace(/^-/, "");
  // The kernel sends `sort_value` only when the card does not already show that value.
  if (key && card.sort_value !== undefined) {
    el.appendChild(
      h(
        doc,
        "div",
        { class: "cz-sortval" },
        `${labelFor(key)} `,
        h(doc, "b", {
          text: typeof card.sort_value === "number" ? formatMetric(card.sort_value) : String(card.sort_value ?? "—"),
        }),
      ),
    );
  }
  if (card.created) el.appendChild(h(doc, "div", { class: "cz-card-date", text: formatDate(card.created) }));
  // Why it matched, when not by its id or name (the kernel's search says where).
  if (card.match === "card" && card.snippet) {
    el.appendChild(
      h(
        doc,
        "div",
        { class: "cz-snippet", "data-testid": "cz-snippet" },
        "In the model card: ",
        h(doc, "q", { text: card.snippet }),
      ),
    );
  } else if (card.match === "tag") {
    el.appendChild(h(doc, "div", { class: "cz-snippet", "data-testid": "cz-snippet", text: "Matched a tag" }));
  }
  return el;
}

/** Sort checkpoints by "x" (their place on the kernel's axis) or a metric name. Missing values last. */
export function sortCheckpoints(list, key = "x", descending = false) {
  const withIndex = (list || []).map((c, i) => [c, i]);
  const valueOf = (c) => {
    if (key === "x") return typeof c.x === "number" ? c.x : null;
    if (key === "name") return c.name ?? null;
    const v = c.metrics ? c.metrics[key] : undefined;
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  withIndex.sort(([a, ia], [b, ib]) => {
    const va = valueOf(a);
    const vb = valueOf(b);
    if (va === null && vb === null) return ia - ib;
    if (va === null) return 1;
    if (vb === null) return -1;
    let cmp = typeof va === "string" ? va.localeCompare(vb) : va - vb;
    if (descending) cmp = -cmp;
    return cmp !== 0 ? cmp : ia - ib;
  });
  return withIndex.map(([c]) => c);
}

/** The chart's points of `metric`: [x, value, name] at each checkpoint's place on the kernel's axis (`x`). */
export function chartPoints(checkpoints, metric) {
  const pts = [];
  for (const c of checkpoints || []) {
    const y = c.metrics ? c.metrics[metric] : undefined;
    if (typeof c.x === "number" && typeof y === "number" && Number.isFinite(y)) pts.push([c.x, y, c.name]);
  }
  return pts;
}

/** The logged curve of `metric` from the detail's `curves`, or null. */
export function loggedCurve(curves, metric) {
  return (curves || []).find((c) => c && c.metric === metric && Array.isArray(c.points)) || null;
}

/** The curve's value at `x`, linear between its points; null outside the logged steps. */
export function valueAt(line, x) {
  if (!line.length || x < line[0][0] || x > line[line.length - 1][0]) return null;
  let hi = line.findIndex((p) => p[0] >= x);
  if (line[hi][0] === x || hi === 0) return line[hi][1];
  const [x0, y0] = line[hi - 1];
  const [x1, y1] = line[hi];
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/**
 * What the detail chart draws for `metric`: { points, line, logged }.
 * With a logged curve the line is the curve and the points are the checkpoints on it
 * (their own value, else the curve's value at their place); without one, chartPoints.
 */
export function chartSeries(checkpoints, curves, metric) {
  const curve = loggedCurve(curves, metric);
  const line = curve
    ? curve.points
        .filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
        .map((p) => [p[0], p[1]])
        .sort((a, b) => a[0] - b[0])
    : [];
  if (line.length === 0) return { points: chartPoints(checkpoints, metric), line: null, logged: 0 };
  const points = [];
  for (const c of checkpoints || []) {
    if (typeof c.x !== "number" || !Number.isFinite(c.x)) continue;
    const own = c.metrics ? c.metrics[metric] : undefined;
    const y = typeof own === "number" && Number.isFinite(own) ? own : valueAt(line, c.x);
    if (y !== null) points.push([c.x, y, c.name]);
  }
  const logged = Number.isFinite(curve.logged) ? curve.logged : line.length;
  return { points, line, logged };
}

export function checkpointSize(c) {
  return formatBytes(c.size);
}

export { formatCount, formatMetric, formatBytes, formatDate, labelFor };
