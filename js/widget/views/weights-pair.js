// One column of the Weights view, its two checkpoints side by side: each tensor's norm, mean
// and std in both, and the change between them, as the kernel measured them
// (ckptzoo_widgets/widget/weights_grid.py, `pair_payload`).
import { h } from "../dom.js";
import { formatMetric } from "../format.js";

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? formatMetric(v) : "—");

/** The two checkpoints of one column side by side: each tensor's norm, mean, std, and the change. */
export function pairTable(doc, pair, selectedTensor = null) {
  const th = (text, attrs = {}) => h(doc, "th", { ...attrs, text });
  const stats = ["norm", "mean", "std"];
  const top = h(
    doc,
    "tr",
    {},
    th(""),
    th(pair.a.checkpoint, { colspan: 3 }),
    th(pair.b.checkpoint, { colspan: 3 }),
    th("Change", { colspan: 2 }),
  );
  const names = h(
    doc,
    "tr",
    {},
    th("Tensor"),
    ...stats.map((s) => th(s)),
    ...stats.map((s) => th(s)),
    th("relative"),
    th("cosine"),
  );
  const body = h(doc, "tbody");
  for (const r of pair.rows || []) {
    const sel = r.tensor === selectedTensor;
    const td = (v) => h(doc, "td", { class: "cz-num", text: num(v) });
    body.append(
      h(
        doc,
        "tr",
        { class: sel ? "cz-selected" : null, "data-testid": "cz-weights-pair-row", "data-tensor": r.tensor },
        h(doc, "th", { scope: "row", text: r.tensor + (r.sampled ? " ≈" : "") + (r.identical ? " (identical)" : "") }),
        ...stats.map((s) => td((r.a || {})[s])),
        ...stats.map((s) => td((r.b || {})[s])),
        td(r.relative),
        td(r.cosine),
      ),
    );
  }
  return h(doc, "table", { class: "cz-wpair-table" }, h(doc, "thead", {}, top, names), body);
}

export function pairBox(doc, state) {
  const { pair, pairError, pairLoading, selected } = state;
  if (!pair && !pairError && !pairLoading) return null;
  const box = h(doc, "div", { class: "cz-wpair", "data-testid": "cz-weights-pair" });
  const close = h(doc, "button", {
    type: "button",
    class: "cz-btn",
    "data-action": "weights-pair-close",
    "data-testid": "cz-weights-pair-close",
    text: "Close",
  });
  if (pairError) box.append(h(doc, "div", { class: "cz-error", role: "alert", text: pairError }), close);
  else if (pairLoading || !pair)
    box.append(
      h(doc, "div", { class: "cz-status" }, h(doc, "span", { class: "cz-spinner" }), "Loading the two checkpoints…"),
    );
  else {
    const title = `${pair.a.checkpoint} → ${pair.b.checkpoint}, side by side`;
    box.append(
      h(doc, "div", { class: "cz-wpair-head" }, h(doc, "h4", { text: title }), close),
      pairTable(doc, pair, selected ? selected.tensor : null),
    );
  }
  return box;
}
