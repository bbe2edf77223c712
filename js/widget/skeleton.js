// The zoo browser's DOM skeleton, built once per view: header, toolbar (search, filters, sort,
// Compare), error and warning boxes, the list (status, notes, cards, pager) and the detail. The
// listeners sit on these containers (delegation) and call back into the view (view.js); renders
// never rebuild the skeleton, they replace the containers' children.
import { h } from "./dom.js";
import { onStatusClick, onDetailEvent } from "./events.js";
import { ComparePanel } from "./views/compare.js";
import { WeightsPanel } from "./views/weights.js";
import { onGridKey, bindWindow } from "./keys.js";

export function buildSkeleton(view) {
  const d = view.doc;
  view.root = h(d, "div", { class: "cz-root", "data-testid": "cz-root", "data-lm-suppress-shortcuts": "true" });
  const toolbar = buildToolbar(view, d);
  view.errorBox = h(d, "div", { class: "cz-error", "data-testid": "cz-error", role: "alert", hidden: true });
  view.warnBox = h(d, "details", { class: "cz-warnings", "data-testid": "cz-warnings", hidden: true });
  view.status = h(d, "div", { class: "cz-status", "data-testid": "cz-status", "aria-live": "polite" });
  view.status.addEventListener("click", (e) => onStatusClick(view, e));
  view.grid = h(d, "div", { class: "cz-grid", "data-testid": "cz-grid", role: "list" });
  for (const type of ["click", "change"]) view.grid.addEventListener(type, (e) => view.onGridEvent(e));
  view.grid.addEventListener("keydown", (e) => view.compare.onGridEvent(e) || onGridKey(view, e));
  view.prevBtn = h(d, "button", { class: "cz-btn", "data-testid": "cz-prev", type: "button", text: "‹ Previous" });
  view.nextBtn = h(d, "button", { class: "cz-btn", "data-testid": "cz-next", type: "button", text: "Next ›" });
  view.prevBtn.addEventListener("click", () => view.page(-1));
  view.nextBtn.addEventListener("click", () => view.page(1));
  view.pageLabel = h(d, "span", { class: "cz-page-label" });
  view.moreBtn = h(d, "button", { class: "cz-btn", "data-testid": "cz-more", type: "button", text: "Load more" });
  view.moreBtn.addEventListener("click", () => view.loadMore());
  view.pager = h(d, "div", { class: "cz-pager" }, view.prevBtn, view.pageLabel, view.nextBtn, view.moreBtn);
  view.notesBox = h(d, "div", { class: "cz-notes", "data-testid": "cz-notes", "aria-live": "polite" });
  const list = [view.compare.panel, view.status, view.notesBox, view.grid, view.pager];
  view.listView = h(d, "div", { class: "cz-list-view" }, ...list);
  view.detailView = h(d, "div", { class: "cz-detail", "data-testid": "cz-detail", hidden: true });
  view.weights = new WeightsPanel(view); // the detail's Weights tab (views/weights.js)
  for (const type of ["click", "change", "keydown"])
    view.detailView.addEventListener(type, (e) => onDetailEvent(view, e));
  view.root.append(buildHeader(view, d), toolbar, view.errorBox, view.warnBox, view.listView, view.detailView);
  bindWindow(view);
  view.el.replaceChildren(view.root);
}

function buildToolbar(view, d) {
  const maxlength = String((view.model.get("contract") || {}).text || 256);
  const search = {
    type: "search",
    class: "cz-search",
    "data-testid": "cz-search",
    placeholder: "Search models…  (press / to focus)",
    maxlength,
    "aria-label": "Search models",
    autocomplete: "off",
    spellcheck: "false",
  };
  view.search = h(d, "input", search);
  view.search.addEventListener("input", () => {
    view.showAwaiting();
    view.sendQuery();
  });
  view.search.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    view.sendQuery.flush();
  });
  view.filterBox = h(d, "span", { class: "cz-filters" });
  view.sortEl = h(d, "select", { class: "cz-select", "data-testid": "cz-sort", "aria-label": "Sort by" });
  const toolbar = h(d, "div", { class: "cz-toolbar" }, view.search, view.filterBox, view.sortEl);
  toolbar.addEventListener("change", (e) => {
    const name = e.target === view.sortEl ? "sort" : e.target.getAttribute("data-filter");
    if (!name) return;
    view.showAwaiting();
    view.set({ [name]: e.target.value });
  });
  view.compare = new ComparePanel(view); // checkboxes on cards, a Compare button, a panel
  toolbar.appendChild(view.compare.button);
  return toolbar;
}

function buildHeader(view, d) {
  const header = h(d, "div", { class: "cz-header" }, h(d, "span", { class: "cz-title", text: "Checkpoint zoo" }));
  view.sourceLabel = h(d, "span", { class: "cz-source", "data-testid": "cz-source" });
  // Re-read the source (a runs folder, an MLflow experiment) so new checkpoints appear.
  const attrs = { class: "cz-btn cz-refresh", "data-testid": "cz-refresh", type: "button", text: "↻ Refresh" };
  const refresh = h(d, "button", { ...attrs, title: "Read the source again", "aria-label": "Refresh" });
  refresh.addEventListener("click", () => view.protocol.refresh());
  header.append(view.sourceLabel, refresh);
  return header;
}
