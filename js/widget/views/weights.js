// The Weights view of the open model: a heatmap of tensors (rows, grouped by layer) by
// checkpoints (columns) of each tensor's relative change from the column's reference, filled
// as the kernel measures it (ckptzoo_widgets/widget/weights_view.py); a click on a cell shows the
// two checkpoints side by side. The kernel decides everything shown here: the rows, their
// groups and order, the columns and their references, which columns carry a label, the colour
// scale (its kind, edges, labels) and each cell's level; this file only draws it.
import { h } from "../dom.js";
import { formatMetric } from "../format.js";
import { pairBox } from "./weights-pair.js";

// A sequential ramp (viridis' anchors): ordered by lightness, readable by colour-blind eyes,
// and the same on JupyterLab's light and dark backgrounds.
const RAMP = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"];

/** The colour of the kernel's `level` out of `levels`: evenly along the ramp, interpolated. */
export function levelColour(level, levels) {
  if (typeof level !== "number" || !Number.isFinite(level)) return null;
  const t = levels > 1 ? Math.min(1, Math.max(0, level / (levels - 1))) : 1;
  const at = t * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(at));
  const mix = (a, b) => Math.round(a + (b - a) * (at - i));
  const [a, b] = [RAMP[i], RAMP[i + 1]].map((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)));
  return `#${a.map((v, k) => mix(v, b[k]).toString(16).padStart(2, "0")).join("")}`;
}

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? formatMetric(v) : "—");

/** What one cell holds, from the kernel's grid: names, its numbers, whether it is measured yet. */
export function cellInfo(grid, row, col) {
  const r = (grid.rows || [])[row];
  const c = (grid.columns || [])[col];
  if (!r || !c) return null;
  return {
    tensor: r.tensor,
    checkpoint: c.checkpoint,
    reference: c.reference,
    value: ((grid.values || [])[row] || [])[col] ?? null,
    cosine: ((grid.cosines || [])[row] || [])[col] ?? null,
    level: ((grid.levels || [])[row] || [])[col] ?? null,
    done: !!c.done,
    sampled: !!r.sampled,
    identicalTo: c.identical_to || null,
  };
}

/** One line for a cell (its hover text and the readout under the heatmap). */
export function cellText(info) {
  if (!info) return "";
  const where = `${info.tensor}, ${info.checkpoint} vs ${info.reference}`;
  if (!info.done) return `${where}: not measured yet`;
  if (info.value === null) return `${where}: no value (zero at ${info.reference})`;
  const sampled = info.sampled ? " (sampled)" : "";
  return `${where}: relative change ${num(info.value)}, cosine ${num(info.cosine)}${sampled}`;
}

/** The progress line: what the kernel measured of how much, and its state. */
export function progressText(grid) {
  const { done = 0, total = 0 } = grid.progress || {};
  if (grid.state === "complete") return `${total} of ${total} checkpoints measured`;
  if (grid.state === "stopped") return `Stopped: ${done} of ${total} checkpoints measured`;
  if (grid.state === "error") return `Stopped by an error after ${done} of ${total} checkpoints`;
  return `Measuring… ${done} of ${total} checkpoints`;
}

function toolbar(doc, grid) {
  const bar = h(doc, "div", { class: "cz-weights-bar", role: "group", "aria-label": "Change measured" });
  for (const o of grid.against_options || []) {
    const on = o.value === grid.against;
    bar.append(
      h(doc, "button", {
        type: "button",
        class: `cz-btn cz-toggle${on ? " cz-active" : ""}`,
        "data-action": "weights-against",
        "data-value": o.value,
        "data-testid": `cz-weights-against-${o.value}`,
        "aria-pressed": on ? "true" : "false",
        text: o.label,
      }),
    );
  }
  const running = grid.state === "running";
  const status = h(doc, "span", { class: "cz-muted", "data-testid": "cz-weights-progress", "aria-live": "polite" });
  status.textContent = progressText(grid);
  if (running) status.prepend(h(doc, "span", { class: "cz-spinner" }));
  bar.append(status);
  if (running)
    bar.append(
      h(doc, "button", {
        type: "button",
        class: "cz-btn",
        "data-action": "weights-stop",
        "data-testid": "cz-weights-stop",
        text: "Stop",
      }),
    );
  else if (grid.state === "stopped")
    bar.append(
      h(doc, "button", {
        type: "button",
        class: "cz-btn",
        "data-action": "weights-against",
        "data-value": grid.against,
        "data-testid": "cz-weights-resume",
        text: "Continue",
      }),
    );
  return bar;
}

function cell(doc, grid, row, col, selected) {
  const info = cellInfo(grid, row, col);
  let state = !info.done ? " cz-wcell-pending" : info.value === null ? " cz-wcell-missing" : "";
  if (selected && selected.row === row && selected.col === col) state += " cz-wcell-selected";
  const el = h(doc, "div", {
    class: `cz-wcell${state}`,
    role: "gridcell",
    "data-testid": "cz-weights-cell",
    "data-action": "weights-cell",
    "data-row": row,
    "data-col": col,
    "data-level": info.level,
    title: cellText(info),
  });
  const colour = info.done ? levelColour(info.level, (grid.scale || {}).levels) : null;
  if (colour) el.style.background = colour;
  return el;
}

function rowLabel(doc, r) {
  return h(
    doc,
    "div",
    { class: "cz-wlabel", role: "rowheader", title: `${r.tensor} ${r.dtype} [${(r.shape || []).join(", ")}]` },
    r.label || r.tensor,
    r.sampled ? h(doc, "span", { class: "cz-wsampled", title: "sampled (over the byte budget)", text: " ≈" }) : null,
  );
}

function columnLabels(doc, grid) {
  const cells = [h(doc, "div", { class: "cz-wlabel" })];
  for (const c of grid.columns || []) {
    const mark = c.identical_to ? ` = ${c.identical_to}` : "";
    const title = `${c.checkpoint} vs ${c.reference}${c.identical_to ? `; identical to ${c.identical_to}` : ""}`;
    cells.push(
      h(
        doc,
        "div",
        { class: "cz-wcol", "data-testid": "cz-weights-column", title },
        c.label ? c.checkpoint + mark : "",
      ),
    );
  }
  return cells;
}

/** The heatmap: group headings, one row per tensor, the column labels below. */
export function heatmap(doc, grid, selected = null) {
  const columns = (grid.columns || []).length;
  const map = h(doc, "div", { class: "cz-heatmap", role: "grid", "data-testid": "cz-weights-heatmap" });
  map.style.gridTemplateColumns = `minmax(4em, max-content) repeat(${columns}, minmax(6px, 1fr))`;
  for (const g of grid.groups || []) {
    map.append(h(doc, "div", { class: "cz-wgroup", role: "row", "data-testid": "cz-weights-group", text: g.name }));
    for (const row of g.rows || []) {
      const r = grid.rows[row];
      if (!r) continue;
      map.append(rowLabel(doc, r));
      for (let col = 0; col < columns; col++) map.append(cell(doc, grid, row, col, selected));
    }
  }
  map.append(...columnLabels(doc, grid));
  return map;
}

/** The legend: one swatch per level with the kernel's edges, and what a missing value means. */
export function legend(doc, grid) {
  const scale = grid.scale || { levels: 0, labels: [] };
  const labels = scale.labels || [];
  const items = [];
  for (let i = 0; i < scale.levels; i++) {
    const swatch = h(doc, "span", { class: "cz-wswatch", "aria-hidden": "true" });
    swatch.style.background = levelColour(i, scale.levels);
    const top =
      i === scale.levels - 1 && scale.clipped ? `≥ ${labels[i] ?? ""}` : `${labels[i] ?? ""}–${labels[i + 1] ?? ""}`;
    items.push(h(doc, "li", {}, swatch, scale.levels === 1 ? labels[0] || "" : top));
  }
  const kind = scale.kind === "log" ? " (log scale)" : "";
  const box = h(doc, "div", { class: "cz-wlegend", "data-testid": "cz-weights-legend" });
  box.append(
    h(doc, "span", { class: "cz-muted", text: `${grid.metric_label || ""}${kind}:` }),
    h(doc, "ul", {}, ...items),
  );
  if (grid.missing_note)
    box.append(
      h(
        doc,
        "span",
        { class: "cz-muted" },
        h(doc, "span", { class: "cz-wswatch cz-wcell-missing" }),
        grid.missing_note,
      ),
    );
  return box;
}

function notes(doc, grid) {
  const out = [];
  const line = (text) => out.push(h(doc, "div", { class: "cz-muted", "data-testid": "cz-weights-note", text }));
  if (grid.rows_left_out > 0)
    line(`${grid.rows_left_out} more tensors are not drawn (cz.weight_changes has them all).`);
  if (grid.columns_left_out > 0) line(`${grid.columns_left_out} checkpoints left out, the rest spread over the run.`);
  if ((grid.without_weights || []).length) line(`No weight file: ${grid.without_weights.join(", ")}.`);
  if ((grid.skipped || []).length) line(`Not read (dtype): ${grid.skipped.join(", ")}.`);
  return out;
}

/**
 * The whole view. state: {grid, error, pair, pairError, pairLoading, selected: {row, col, tensor}, readout}.
 */
export function renderWeights(doc, state) {
  const { grid, error } = state;
  const out = [];
  if (error)
    out.push(h(doc, "div", { class: "cz-error", role: "alert", "data-testid": "cz-weights-error", text: error }));
  if (!grid) {
    if (!error)
      out.push(
        h(
          doc,
          "div",
          { class: "cz-status" },
          h(doc, "span", { class: "cz-spinner" }),
          "Reading the checkpoints' headers…",
        ),
      );
    return out;
  }
  out.push(toolbar(doc, grid));
  const from = grid.against === "start" ? `from ${grid.start}` : "from the previous checkpoint";
  out.push(
    h(doc, "div", {
      class: "cz-muted",
      text: `Each cell: a tensor's relative change ${from}. Hover for values; click for both checkpoints.`,
    }),
  );
  if (grid.error) out.push(h(doc, "div", { class: "cz-error", role: "alert", text: grid.error }));
  out.push(heatmap(doc, grid, state.selected), legend(doc, grid));
  out.push(
    h(doc, "div", {
      class: "cz-wreadout",
      "data-testid": "cz-weights-readout",
      "aria-live": "polite",
      text: state.readout || "",
    }),
  );
  out.push(...notes(doc, grid));
  const pair = pairBox(doc, state);
  if (pair) out.push(pair);
  return out;
}

/**
 * The Weights tab of the browser's detail: asks the kernel through the view's protocol
 * ("weights", "weights-stop", "weights-pair") and draws its answers ("weights-data",
 * "weights-pair" messages, handed over by the view's one listener: `receive`; an answer to
 * an older request is not shown). Its node is kept
 * across renders of the detail; listeners are attached once, on that node.
 */
export class WeightsPanel {
  constructor(view) {
    this.view = view;
    this.doc = view.doc;
    this.node = h(this.doc, "div", { class: "cz-weights", "data-testid": "cz-weights" });
    this.reset(null);
    this.node.addEventListener("click", (e) => this.onClick(e));
    for (const type of ["mouseover", "focusin"]) this.node.addEventListener(type, (e) => this.onHover(e));
  }

  reset(modelId) {
    Object.assign(this, { modelId, grid: null, error: "", asked: null, pair: null, pairAsked: null });
    Object.assign(this, { pairError: "", pairLoading: false, selected: null, readout: "" });
  }

  running() {
    return !!this.grid && this.grid.state === "running";
  }

  /** The open model changed: what was measured for another one is dropped (and stopped). */
  follow(id) {
    if (id === this.modelId) return;
    if (this.running()) this.view.protocol.send("weights-stop");
    this.reset(id);
    this.render();
  }

  /** What the detail shows for model `id`: this node, when its Weights tab is open. */
  forDetail(id) {
    this.follow(id);
    return { open: !!id && this.view.ui.weightsFor === id, node: this.node };
  }

  /** The detail's tabs: "weights" opens this view (asking for the grid the first time). */
  setTab(tab) {
    const id = this.view.selectedModelId();
    this.follow(id);
    if (tab === "weights" && id && this.asked === null) this.ask("previous");
    this.view.setUi({ weightsFor: tab === "weights" ? id : null });
  }

  ask(against) {
    this.asked = this.view.protocol.send("weights", { against });
    this.error = this.asked === null ? "The kernel is not answering." : "";
    this.render();
  }

  receive(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.event === "weights-data" && msg.seq === this.asked) {
      if (msg.data && typeof msg.data === "object") this.grid = msg.data;
      this.error = typeof msg.error === "string" ? msg.error : "";
      this.render();
    } else if (msg.event === "weights-pair" && msg.seq === this.pairAsked) {
      this.pair = msg.data && typeof msg.data === "object" ? msg.data : null;
      this.pairError = typeof msg.error === "string" ? msg.error : "";
      this.pairLoading = false;
      this.render();
    }
  }

  onClick(e) {
    const target = e.target.closest && e.target.closest("[data-action]");
    if (!target || !this.node.contains(target)) return;
    const action = target.getAttribute("data-action");
    if (action === "weights-against") this.ask(target.getAttribute("data-value"));
    else if (action === "weights-stop") this.view.protocol.send("weights-stop");
    else if (action === "weights-cell") this.pick(Number(target.dataset.row), Number(target.dataset.col));
    else if (action === "weights-pair-close") {
      Object.assign(this, { pair: null, pairError: "", pairLoading: false, selected: null, pairAsked: null });
      this.render();
    }
  }

  /** A click on a cell: the kernel's two checkpoints of that column, side by side. */
  pick(row, col) {
    const info = this.grid && cellInfo(this.grid, row, col);
    if (!info) return;
    this.selected = { row, col, tensor: info.tensor };
    this.readout = cellText(info);
    this.pairAsked = this.view.protocol.send("weights-pair", { checkpoint: info.checkpoint });
    Object.assign(this, { pair: null, pairError: "", pairLoading: this.pairAsked !== null });
    this.render();
  }

  onHover(e) {
    const cellEl = e.target.closest && e.target.closest('[data-action="weights-cell"]');
    if (!cellEl || !this.grid) return;
    this.readout = cellText(cellInfo(this.grid, Number(cellEl.dataset.row), Number(cellEl.dataset.col)));
    const box = this.node.querySelector('[data-testid="cz-weights-readout"]');
    if (box) box.textContent = this.readout;
  }

  render() {
    const { grid, error, pair, pairError, pairLoading, selected, readout } = this;
    this.node.replaceChildren(
      ...renderWeights(this.doc, { grid, error, pair, pairError, pairLoading, selected, readout }),
    );
  }
}
