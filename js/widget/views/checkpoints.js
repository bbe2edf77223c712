// The checkpoint table and the metric-versus-axis chart of the open model.
// Reads the kernel's decisions from the detail payload (widget.contract.with_decisions):
// the metric columns with their goal, the chart's metrics, the axis and each checkpoint's
// place on it (`x`). Renders read state and write DOM; clicks and keys are handled by the
// view's delegated listeners (data-action attributes), never a listener per row.
import { h } from "../dom.js";
import { sortCheckpoints, chartSeries, loggedCurve } from "../cards.js";
import { formatMetric, formatBytes, labelFor } from "../format.js";
import { metricFigure } from "../svg.js";

const fmtNum = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toLocaleString("en-US") : "—");

/** The chart's metric: the one picked when the kernel still offers it, else its first. */
export function chartMetricOf(detail, picked) {
  const names = (detail.chart_metrics || []).map((m) => m.name);
  return picked && names.includes(picked) ? picked : names[0] || null;
}

/** The table's columns: metric names (headline first), the axis, and the droppable ones in drop order. */
function columns(detail) {
  const metrics = (detail.table_metrics || []).map((m) => m.name);
  const axis = detail.axis || { key: "checkpoint", label: "Checkpoint order" };
  const epochColumn = !!detail.epoch_column; // the kernel's: an epoch column beside the steps
  // Left out, in this order, while the table is wider than the widget (fitTable): metrics
  // from the last (the headline stays), then format, epoch, size.
  const droppable = [...metrics.slice(1).reverse(), "@format", ...(epochColumn ? ["@epoch"] : []), "@size"];
  return { metrics, axis, epochColumn, droppable };
}

// The column titles that sort are one Tab stop (the active one; arrows move between them,
// events.js), so Tab goes from Back to the checkpoint rows in two steps, in reading order.
function sortHeader(doc, key, label, sort, attrs = {}) {
  const active = sort.key === key;
  const btn = h(doc, "button", {
    type: "button",
    class: `cz-th-sort${active ? " cz-active" : ""}`,
    "data-testid": `cz-ckpt-sort-${key}`,
    "data-action": "ckpt-sort",
    "data-key": key,
    tabindex: active ? "0" : "-1",
    title: `Sort the checkpoints by ${label.toLowerCase()}`,
    text: label + (active ? (sort.desc ? " ↓" : " ↑") : ""),
  });
  const order = active ? (sort.desc ? "descending" : "ascending") : "none";
  return h(doc, "th", { ...attrs, "aria-sort": order }, btn); // aria-sort belongs to the column header
}

function headRow(doc, detail, cols, sort) {
  const row = h(doc, "tr", {}, h(doc, "th", { text: "Checkpoint" }), sortHeader(doc, "x", cols.axis.label, sort));
  if (cols.epochColumn) row.appendChild(h(doc, "th", { "data-col": "@epoch", text: "Epoch" }));
  for (const m of cols.metrics) row.appendChild(sortHeader(doc, m, labelFor(m), sort, { "data-col": m }));
  row.append(
    h(doc, "th", { "data-col": "@size", text: "Size" }),
    h(doc, "th", { "data-col": "@format", text: "Format" }),
  );
  return row;
}

/** What a screen reader says for a row: its name, default or not, its place on the axis, the headline metric. */
export function rowLabel(c, detail, cols) {
  const parts = [c.name + (c.name === detail.default_checkpoint ? " (default)" : "")];
  if (typeof c.x === "number") parts.push(`${cols.axis.label.toLowerCase()} ${fmtNum(c.x)}`);
  const m = cols.metrics[0];
  if (m && c.metrics && typeof c.metrics[m] === "number") parts.push(`${labelFor(m)} ${formatMetric(c.metrics[m])}`);
  return parts.join(", ");
}

// The rows are one Tab stop (the selected row): arrows move between them (events.js).
function checkpointRow(doc, c, detail, cols, selName) {
  const isSel = c.name === selName;
  const tr = h(doc, "tr", {
    class: `cz-ckpt${isSel ? " cz-selected" : ""}`,
    tabindex: isSel ? "0" : "-1",
    "data-testid": "cz-checkpoint",
    "data-action": "pick",
    "data-checkpoint": c.name,
    "aria-selected": isSel ? "true" : "false",
    "aria-label": rowLabel(c, detail, cols),
    ...(isSel ? { "aria-current": "true" } : {}),
  });
  const isDefault = c.name === detail.default_checkpoint;
  // A pickle whose scan said unsafe or unknown: one badge, the kernel's reason as its tooltip;
  // it moves beside the name when the format column is left out (fitTable).
  const badge = () =>
    c.pickle_warning
      ? h(doc, "span", {
          class: "cz-badge cz-badge-unsafe",
          "data-testid": "cz-unsafe",
          title: c.pickle_warning,
          text: "unsafe",
        })
      : null;
  tr.append(
    h(
      doc,
      "td",
      { class: "cz-ckpt-name" },
      c.name,
      isDefault ? h(doc, "span", { class: "cz-default", title: "default checkpoint", text: " default" }) : null,
      // the kernel found the same weights under another name (widget.payload.detail_payload)
      c.identical_to
        ? h(doc, "span", {
            class: "cz-badge cz-badge-identical",
            "data-testid": "cz-identical",
            title: `${c.name} is identical to ${c.identical_to}`,
            text: `= ${c.identical_to}`,
          })
        : null,
    ),
    h(doc, "td", { class: "cz-num", text: fmtNum(c.x) }),
  );
  if (cols.epochColumn) tr.appendChild(h(doc, "td", { class: "cz-num", "data-col": "@epoch", text: fmtNum(c.epoch) }));
  for (const m of cols.metrics)
    tr.appendChild(
      h(doc, "td", { class: "cz-num", "data-col": m, text: formatMetric(c.metrics ? c.metrics[m] : undefined) }),
    );
  tr.append(
    h(doc, "td", { class: "cz-num", "data-col": "@size", text: formatBytes(c.size) }),
    h(doc, "td", { "data-col": "@format" }, c.format || "—", badge()),
  );
  return tr;
}

function countText(detail) {
  // The kernel sends a bounded page of a long list (widget.payload.shown_checkpoints) and the count.
  const ckpts = detail.checkpoints || [];
  const all = Math.max(Number(detail.num_checkpoints) || 0, ckpts.length);
  return all > ckpts.length
    ? `${ckpts.length.toLocaleString("en-US")} of ${all.toLocaleString("en-US")} shown, spread over the run; all: zoo.checkpoints(...)`
    : `${ckpts.length}`;
}

/** The table of checkpoints, sorted as the user asked (`sort`: {key, desc}). */
export function renderTable(doc, detail, { sort, selName }) {
  const cols = columns(detail);
  const tbody = h(doc, "tbody");
  for (const c of sortCheckpoints(detail.checkpoints || [], sort.key, sort.desc))
    tbody.appendChild(checkpointRow(doc, c, detail, cols, selName));
  // no row selected (yet): the first row is the Tab stop
  if (tbody.firstChild && !tbody.querySelector('[tabindex="0"]')) tbody.firstChild.setAttribute("tabindex", "0");
  const table = h(
    doc,
    "table",
    { class: "cz-ckpts", "data-testid": "cz-checkpoints" },
    h(doc, "thead", {}, headRow(doc, detail, cols, sort)),
    tbody,
  );
  const note = h(doc, "div", { class: "cz-muted cz-hidden-cols", "data-testid": "cz-hidden-columns", hidden: true });
  note.dataset.droppable = JSON.stringify(cols.droppable);
  return [
    h(doc, "h3", { text: `Checkpoints (${countText(detail)})` }),
    h(doc, "div", { class: "cz-table-wrap" }, table),
    note,
  ];
}

/** The sort a click on a column title asks for: the same column flips, a new one starts best first. */
export function nextSort(detail, sort, key) {
  if (sort.key === key) return { key, desc: !sort.desc };
  const goal = ((detail.table_metrics || []).find((m) => m.name === key) || {}).goal;
  return { key, desc: key !== "x" && goal !== "min" }; // best first, as the kernel says
}

function chartHead(doc, detail, metric, xName) {
  const curves = detail.curves || [];
  const optionText = (m) => labelFor(m) + (loggedCurve(curves, m) ? " (logged curve)" : "");
  const names = (detail.chart_metrics || []).map((m) => m.name);
  const head = h(doc, "div", { class: "cz-chart-head" });
  if (names.length > 1) {
    const sel = h(
      doc,
      "select",
      {
        class: "cz-select",
        "data-testid": "cz-chart-metric",
        "data-action": "chart-metric",
        "aria-label": "Metric to plot",
      },
      ...names.map((m) => h(doc, "option", { value: m, text: optionText(m) })),
    );
    sel.value = metric;
    head.append(sel, ` versus ${xName}`);
  } else head.append(`${optionText(metric)} versus ${xName}`);
  return head;
}

/** The chart of `metric` against the kernel's axis; onPick(name) when a dot is clicked. */
export function renderChart(doc, detail, { metric, selName, onPick }) {
  const ckpts = detail.checkpoints || [];
  const out = [];
  if (metric && ckpts.length > 0) {
    const { points, line, logged } = chartSeries(ckpts, detail.curves || [], metric);
    const xName = (detail.axis || { label: "checkpoint order" }).label.toLowerCase();
    if (points.length > 0 || line)
      out.push(
        chartHead(doc, detail, metric, xName),
        metricFigure(points, { metric: labelFor(metric), xLabel: xName, selected: selName, onPick, line }),
      );
    if (line) {
      const thinned =
        logged > line.length
          ? ` (${line.length.toLocaleString("en-US")} of ${logged.toLocaleString("en-US")} points: each stretch's lowest and highest kept)`
          : "";
      const text = `Line: the curve logged during training${thinned}. Dots: the checkpoints (${points.length}).`;
      out.push(h(doc, "div", { class: "cz-muted cz-curve-note", "data-testid": "cz-curve-note", text }));
    }
  }
  if (detail.curves_left_out > 0) {
    const text = `${detail.curves_left_out} more logged curves are not shown here (the zoo has them: zoo.model(...).curves).`;
    out.push(h(doc, "div", { class: "cz-muted", text }));
  }
  return out;
}

function setDropped(wrap, note, droppable, n) {
  const dropped = new Set(droppable.slice(0, n));
  for (const cell of wrap.querySelectorAll("[data-col]")) cell.hidden = dropped.has(cell.getAttribute("data-col"));
  for (const badge of wrap.querySelectorAll(".cz-badge-unsafe")) {
    const row = badge.closest("tr");
    row.querySelector(dropped.has("@format") ? ".cz-ckpt-name" : '[data-col="@format"]').append(badge);
  }
  const names = droppable.slice(0, n).map((c) => labelFor(c.startsWith("@") ? c.slice(1) : c));
  note.hidden = n === 0;
  note.textContent = n ? `Not shown at this width: ${names.reverse().join(", ")} (the chart plots every metric).` : "";
}

/**
 * The checkpoint pane (a long list scrolls in it) where it was before the render (`scrollTop`),
 * then moved just enough that the selected row is in view below the sticky header: the row,
 * its chart point and Insert stay on one screen. Only the pane scrolls, never the notebook.
 */
export function keepSelectedInView(root, scrollTop = 0) {
  const wrap = root.querySelector(".cz-table-wrap");
  if (!wrap) return;
  wrap.scrollTop = scrollTop;
  const row = wrap.querySelector(".cz-ckpt.cz-selected");
  if (!row) return;
  const pane = wrap.getBoundingClientRect();
  const head = wrap.querySelector("thead");
  const top = pane.top + (head ? head.getBoundingClientRect().height : 0);
  const r = row.getBoundingClientRect();
  if (r.top < top) wrap.scrollTop -= top - r.top;
  else if (r.bottom > pane.bottom) wrap.scrollTop += r.bottom - pane.bottom;
}

/**
 * Nothing clipped: leave out table columns (in the kernel-ordered drop list) while the table
 * is wider than its box. One layout read for the widths, then a check per column left out
 * (toggling `hidden` on cells; the table is not built again). Returns how many were left out.
 */
export function fitTable(root) {
  const wrap = root.querySelector(".cz-table-wrap");
  const note = root.querySelector('[data-testid="cz-hidden-columns"]');
  if (!wrap || !note) return 0;
  const droppable = JSON.parse(note.dataset.droppable || "[]");
  setDropped(wrap, note, droppable, 0);
  const over = () => wrap.clientWidth > 0 && wrap.scrollWidth > wrap.clientWidth + 1;
  let n = 0;
  while (n < droppable.length && over()) setDropped(wrap, note, droppable, ++n);
  return n;
}
