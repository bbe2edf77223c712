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

// Keys in the detail (docs/widget.md, "Keyboard"). On a checkpoint row: arrows, Home and End move
// to a row and select it, Enter inserts its code, Space selects it. On the column titles: left,
// right, Home and End move between them (one Tab stop), Enter and Space sort (they are buttons).
const ROW_MOVES = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
const SORT_MOVES = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };

/** The item `key` moves to from `current` among `items` (clamped at the ends); null when `key` is not a move. */
export function stepTo(items, current, key, moves) {
  if (!Object.prototype.hasOwnProperty.call(moves, key) || items.length === 0) return null;
  const i = Math.max(0, items.indexOf(current));
  return items[Math.min(items.length - 1, Math.max(0, i + moves[key]))];
}

export function onDetailKey(view, e, target, action) {
  if (action === "pick") onRowKey(view, e, target);
  else if (action === "ckpt-sort") onSortKey(e, target);
}

function onRowKey(view, e, row) {
  const name = row.getAttribute("data-checkpoint");
  const rows = Array.from(row.parentNode.querySelectorAll('[data-action="pick"]'));
  const next = e.key === "Enter" || e.key === " " ? row : stepTo(rows, row, e.key, ROW_MOVES);
  if (!next) return;
  e.preventDefault();
  e.stopPropagation();
  if (e.key === "Enter") insertCheckpoint(view, name);
  else if (e.key === " ") view.pickCheckpoint(name);
  else if (next !== row) {
    next.focus(); // the render that follows keeps the focus on it (view.restoreFocus)
    view.pickCheckpoint(next.getAttribute("data-checkpoint"));
  }
}

function onSortKey(e, button) {
  const shown = (b) => !b.closest("[hidden]"); // a column left out at this width (fitTable)
  const items = Array.from(button.closest("tr").querySelectorAll('[data-action="ckpt-sort"]')).filter(shown);
  const next = stepTo(items, button, e.key, SORT_MOVES);
  if (!next) return;
  e.preventDefault();
  e.stopPropagation();
  for (const b of items) b.setAttribute("tabindex", b === next ? "0" : "-1");
  next.focus();
}

/**
 * Enter on a checkpoint row: insert its code. When the kernel has not sent that code yet (the
 * row was just reached), select it and insert once the code arrives (view.renderDetail).
 */
export function insertCheckpoint(view, name) {
  const ref = `${view.selectedModelId()}@${name}`;
  if (view.get("selected") === ref && view.codeReady()) return insert(view);
  view.pickCheckpoint(name);
  view.store.ui.insertWhenReady = ref;
  return false;
}

/** After each render of the detail: the insert Enter asked for, once the kernel sent that row's code. */
export function insertWhenReady(view) {
  const ref = view.ui.insertWhenReady;
  if (!ref || ref !== view.get("selected") || !view.codeReady()) return false;
  view.store.ui.insertWhenReady = null;
  return insert(view);
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
      hint: (view.get("front_end") || {}).hint || "", // the kernel's line for this front end (widget/front_end.py)
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
  const handled = requestInsert(view.el, view.get("code"), view.get("insert_anchor") || "");
  view.protocol.send("insert", { handled });
  if (!handled) {
    view.store.ui.fallbackShown = true;
    view.renderDetail();
    selectCode(view.doc, view.codeEl);
  }
  return handled;
}
