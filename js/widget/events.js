// The browser's delegated listeners: one per container (the status line, the detail), acting on
// the data-action attribute of what was clicked, changed or keyed. Renders never attach listeners.
import { nextSort, chartMetricOf } from "./views/checkpoints.js";
import { selectCode } from "./views/code.js";
import { requestInsert, copyText } from "./bridge.js";

export function onStatusClick(view, e) {
  const btn = e.target.closest && e.target.closest("[data-action]");
  if (!btn) return;
  const action = btn.getAttribute("data-action");
  view.showAwaiting();
  if (action === "suggest") {
    view.search.value = btn.getAttribute("data-id");
    view.set({ query: view.search.value });
  } else if (action === "clear-filters") view.set(Object.fromEntries(view.filterKeys().map((k) => [k, ""])));
  else if (action === "clear-search") {
    view.search.value = "";
    view.set({ query: "" });
  }
}

export function onDetailEvent(view, e) {
  const target = e.target.closest && e.target.closest("[data-action]");
  if (!target || !view.detailView.contains(target)) return;
  const action = target.getAttribute("data-action");
  if (e.type === "keydown") return onDetailKey(view, e, target, action);
  if (e.type === "change" && action === "chart-metric") view.setUi({ chartMetric: target.value });
  else if (e.type === "change" && action === "library") {
    view.store.ui.fallbackShown = false;
    view.set({ code_library: target.value });
  } else if (e.type !== "click") return;
  else if (action === "pick") view.pickCheckpoint(target.getAttribute("data-checkpoint"));
  else if (action === "ckpt-sort")
    view.setUi({ ckptSort: nextSort(view.get("detail") || {}, view.ui.ckptSort, target.getAttribute("data-key")) });
  else if (action === "close") view.closeModel();
  else if (action === "weights-tab") view.weights.setTab(target.getAttribute("data-tab"));
  else if (action === "insert") insert(view);
  else if (action === "copy") copy(view, target);
}

export function onDetailKey(view, e, target, action) {
  if (action !== "pick") return;
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    e.stopPropagation();
    view.pickCheckpoint(target.getAttribute("data-checkpoint"));
  } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    e.stopPropagation();
    const sib = e.key === "ArrowDown" ? target.nextElementSibling : target.previousElementSibling;
    if (sib) sib.focus();
  }
}

export function detailState(view, id) {
  const detail = view.get("detail") || {};
  const selected = view.get("selected") || "";
  return {
    detail,
    error: view.get("error"),
    filters: view.get("filters") || [],
    sort: view.ui.ckptSort,
    chartMetric: chartMetricOf(detail, view.ui.chartMetric),
    selName: selected.includes("@") ? selected.slice(selected.indexOf("@") + 1) : detail.default_checkpoint,
    onPick: (n) => view.pickCheckpoint(n),
    code: {
      code: view.get("code") || "",
      ready: view.codeReady(),
      libraries: view.get("libraries") || [],
      library: view.get("code_library") || "",
      selected,
      fallbackShown: view.ui.fallbackShown,
      hint: (view.get("front_end") || {}).hint || "", // the kernel's line for this front end (front_end.py)
    },
    id,
  };
}

export async function copy(view, button) {
  const ok = await copyText(view.get("code") || "", view.doc);
  button.textContent = ok ? "Copied" : "Select and copy";
  if (!ok) selectCode(view.doc, view.codeEl);
}

/** Insert code: the labextension inserts a cell; where nobody handles the event, the fallback. */
export function insert(view) {
  if (!view.codeReady()) return false;
  const handled = requestInsert(view.el, view.get("code"));
  view.protocol.send("insert", { handled });
  if (!handled) {
    view.store.ui.fallbackShown = true;
    view.renderDetail();
    selectCode(view.doc, view.codeEl);
  }
  return handled;
}
