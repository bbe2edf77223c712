// The open model: its title and badges, the model card (sanitised HTML), the metadata table,
// and beside them the checkpoints (views/checkpoints.js) and the load code (views/code.js).
import { h } from "../dom.js";
import { formatCount, formatMetric, formatDate, labelFor } from "../format.js";
import { renderSafeHtml } from "../sanitize.js";
import { renderTable, renderChart } from "./checkpoints.js";
import { renderCode } from "./code.js";

function fmtValue(k, v) {
  if (k === "num_params") return `${formatCount(v)} (${Number(v).toLocaleString("en-US")})`;
  if (k === "created") return formatDate(v);
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "number") return formatMetric(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function head(doc, title) {
  const close = h(doc, "button", {
    class: "cz-btn cz-close",
    type: "button",
    "data-testid": "cz-close",
    "data-action": "close",
    "aria-label": "Close (Escape)",
    text: "← Back",
  });
  return h(doc, "div", { class: "cz-detail-head" }, close, h(doc, "h2", { class: "cz-detail-title", text: title }));
}

function cardAndMetadata(doc, detail) {
  // model card: markdown rendered and sanitised in the kernel, sanitised again here
  const card = h(doc, "div", { class: "cz-markdown", "data-testid": "cz-model-card" });
  renderSafeHtml(card, detail.card_html || "");
  if (!detail.card_html) card.appendChild(h(doc, "p", { class: "cz-muted", text: "No model card." }));
  const meta = h(doc, "table", { class: "cz-meta", "data-testid": "cz-metadata" });
  for (const [k, v] of detail.metadata || []) {
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    meta.appendChild(h(doc, "tr", {}, h(doc, "th", { text: labelFor(k) }), h(doc, "td", { text: fmtValue(k, v) })));
  }
  const parts = [h(doc, "h3", { text: "Model card" }), card, h(doc, "h3", { text: "Metadata" }), meta];
  return h(doc, "div", { class: "cz-detail-left" }, ...parts);
}

/** The detail's two tabs: the checkpoints (the overview) and the Weights view (views/weights.js). */
function tabs(doc, weightsOpen) {
  const tab = (name, text, on) =>
    h(doc, "button", {
      type: "button",
      class: `cz-btn cz-tab${on ? " cz-active" : ""}`,
      role: "tab",
      "aria-selected": on ? "true" : "false",
      "data-action": "weights-tab",
      "data-tab": name,
      "data-testid": `cz-tab-${name}`,
      text,
    });
  return h(
    doc,
    "div",
    { class: "cz-tabs", role: "tablist" },
    tab("overview", "Checkpoints", !weightsOpen),
    tab("weights", "Weights", weightsOpen),
  );
}

/** "step 98000 is identical to main": the kernel's list of checkpoints that repeat another. */
function duplicatesNote(doc, detail) {
  const found = detail.duplicates || [];
  if (!found.length) return null;
  const more = (detail.num_duplicates || 0) - found.length;
  const items = found.map((d) => h(doc, "li", { text: d.text || `${d.checkpoint} is identical to ${d.same_as}` }));
  if (more > 0) items.push(h(doc, "li", { text: `… and ${more} more (zoo.duplicates(...))` }));
  const title = `Identical checkpoints (${detail.num_duplicates || found.length})`;
  return h(
    doc,
    "details",
    { class: "cz-duplicates", "data-testid": "cz-duplicates", open: true },
    h(doc, "summary", { text: title }),
    h(doc, "ul", {}, ...items),
  );
}

/**
 * The detail of model `id`. state: {detail, filters, loading, sort, chartMetric, selName, code: {...}},
 * onPick(name) for the chart's dots. Returns {nodes, codeBox}.
 */
export function renderDetail(doc, id, state) {
  const { detail } = state;
  const top = head(doc, detail.name || id);
  if (detail.id !== id) {
    const waiting = state.error ? "" : "Loading…";
    const status = h(
      doc,
      "div",
      { class: "cz-status" },
      waiting ? h(doc, "span", { class: "cz-spinner" }) : null,
      waiting,
    );
    return { nodes: [top, status], codeBox: null };
  }
  const badges = h(doc, "div", { class: "cz-badges" });
  for (const { key } of state.filters)
    if (detail[key]) badges.appendChild(h(doc, "span", { class: `cz-badge cz-badge-${key}`, text: detail[key] }));
  top.appendChild(badges);
  const weights = state.weights || { open: false };
  top.appendChild(tabs(doc, weights.open));
  if (weights.open) return { nodes: [top, weights.node], codeBox: null };
  const table = renderTable(doc, detail, { sort: state.sort, selName: state.selName });
  const chart = renderChart(doc, detail, { metric: state.chartMetric, selName: state.selName, onPick: state.onPick });
  const [code, codeBox] = renderCode(doc, state.code);
  // the load code right under the checkpoints: the picked row and Insert stay close (a long list scrolls in its pane)
  const right = h(doc, "div", { class: "cz-detail-right" }, duplicatesNote(doc, detail), ...table, ...code, ...chart);
  return { nodes: [top, h(doc, "div", { class: "cz-detail-body" }, right, cardAndMetadata(doc, detail))], codeBox };
}
