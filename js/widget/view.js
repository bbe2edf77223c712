// The zoo browser: binds an anywidget model to the DOM. The kernel searches, sorts, pages and
// decides (ckptzoo_widgets/widget/contract.py); this file wires the protocol (protocol.js), the
// page's own UI state (store.js) and the views (views/*.js) together. Listeners are attached
// once, on the view's containers (delegation, skeleton.js); renders read state and write DOM.
import { h } from "./dom.js";
import { debounce } from "./format.js";
import { Protocol } from "./protocol.js";
import { Store } from "./store.js";
import { filterSelects, rangeSelects, sortItems, statusNodes, noteNodes, cardNodes } from "./views/list.js";
import { pagerState, loadMoreChanges } from "./views/list.js";
import { renderDetail } from "./views/detail.js";
import { fitTable, keepSelectedInView } from "./views/checkpoints.js";
import { detailState, insert, insertWhenReady } from "./events.js";
import { buildSkeleton } from "./skeleton.js";

const PAGE_KEYS = ["offset", "limit", "query", "sort"];
const DETAIL_KEYS = ["detail", "selected", "code", "code_key", "libraries", "code_library"];

export class ZooView {
  // Typing: a short pause (quak-like), then one request; the kernel runs only the newest
  // of the requests that queue up, and answers that are not for the newest are dropped.
  constructor(model, el, { debounceMs = 50 } = {}) {
    this.model = model;
    this.el = el;
    this.doc = el.ownerDocument || document;
    this.protocol = new Protocol(model);
    this.store = new Store(this.protocol, {
      awaitingPage: false,
      ckptSort: { key: "x", desc: false },
      chartMetric: null,
      fallbackShown: false,
      focusAfterRender: null,
      lastOpened: null,
    });
    this.pageDropped = false;
    this.pointerInside = false;
    this.handlers = [];
    // the pause is the kernel's (`search_pause_ms`: longer for a live source, which counts requests)
    this.sendQuery = debounce(
      () => this.commitQuery(),
      () => this.model.get("search_pause_ms") ?? debounceMs,
    );
    this.build();
    this.bindModel();
    this.renderAll();
  }

  get(name) {
    return this.store.get(name);
  }

  get ui() {
    return this.store.ui;
  }

  /** Ask the kernel for `changes` (trait name -> value); never writes the synced state. */
  set(changes) {
    this.protocol.ask(changes);
    this.rerender(Object.keys(changes));
  }

  on(name, fn) {
    this.model.on(name, fn);
    this.handlers.push([name, fn]);
  }

  destroy() {
    this.sendQuery.cancel();
    this.compare.destroy();
    this.resizeObserver?.disconnect();
    this.win?.removeEventListener("keydown", this.onWindowKey, true);
    for (const [name, fn] of this.handlers) this.model.off(name, fn);
    this.handlers = [];
    this.el.replaceChildren();
  }

  filterKeys() {
    return [...(this.get("filters") || []), ...(this.get("ranges") || [])].map((f) => f.key);
  }

  /** The kernel answered: once the newest request is answered, show the kernel's state. */
  onKernelMessage(msg) {
    this.weights.receive(msg); // the Weights tab's answers (views/weights.js)
    const settled = this.protocol.receive(msg);
    if (settled.page && this.pageDropped) this.renderPage();
    if (settled.keys.length) this.rerender(settled.keys);
  }

  rerender(keys) {
    const filters = this.filterKeys();
    if (keys.some((k) => ["selected", "code_library"].includes(k))) this.renderDetail();
    if (keys.includes("compare_set")) this.compare.sync();
    if (keys.some((k) => filters.includes(k))) this.renderFilters();
    if (keys.includes("sort")) this.renderSort();
    if (keys.some((k) => PAGE_KEYS.includes(k) || filters.includes(k))) {
      this.renderStatus();
      this.renderPager();
    }
  }

  // ---- DOM skeleton: built once, listeners on the containers (skeleton.js) ----------
  build() {
    buildSkeleton(this);
  }

  bindModel() {
    const page = () => this.renderPage();
    for (const n of ["cards", "total", "page_version"]) this.on(`change:${n}`, page);
    this.on("msg:custom", (msg) => this.onKernelMessage(msg));
    this.on("change:loading", () => this.renderStatus());
    for (const n of ["filters", "ranges"]) this.on(`change:${n}`, () => this.renderFilters());
    this.on("change:more", () => this.renderPage());
    this.on("change:notes", () => this.renderNotes());
    this.on("change:ready", () => this.renderReady());
    this.on("change:sort_options", () => this.renderSort());
    this.on("change:sort", () => {
      this.renderSort();
      if (!this.protocol.staleAnswer()) this.renderGrid();
    });
    this.on("change:query", () => {
      if (this.doc.activeElement !== this.search) this.search.value = this.get("query") || "";
    });
    for (const n of ["offset", "limit"]) this.on(`change:${n}`, () => this.renderPager());
    for (const n of ["error", "warnings"]) this.on(`change:${n}`, () => this.renderError());
    this.on("change:suggestions", () => this.renderStatus());
    this.on("change:source_label", () => this.renderHeader());
    for (const n of DETAIL_KEYS) this.on(`change:${n}`, () => this.renderDetail());
  }

  // ---- events (delegated) ------------------------------------------------------
  onGridEvent(e) {
    if (this.compare.onGridEvent(e) || e.type !== "click") return;
    const card = e.target.closest && e.target.closest(".cz-card");
    if (card && this.grid.contains(card)) this.openModel(card.getAttribute("data-model-id"));
  }

  setUi(changes) {
    this.store.set(changes);
    this.renderDetail();
  }

  // ---- list --------------------------------------------------------------------
  commitQuery() {
    const q = this.search.value;
    if (q === (this.get("query") || "")) {
      this.store.ui.awaitingPage = false;
      this.renderStatus();
      return;
    }
    this.set({ query: q });
  }

  showAwaiting() {
    this.store.ui.awaitingPage = true;
    this.renderStatus();
  }

  page(dir) {
    const limit = this.get("limit") || 24;
    const offset = this.get("offset") || 0;
    const next = Math.max(0, offset + dir * limit);
    const total = this.get("total");
    if (next === offset || (next > offset && (total === null ? !this.get("more") : next >= (total || 0)))) return;
    this.showAwaiting();
    this.set({ offset: next });
  }

  /** "Load more" (a source that does not say how many): the kernel's next cards. */
  loadMore() {
    if (!this.get("more")) return;
    this.showAwaiting();
    const at = { limit: this.get("limit") || 24, offset: this.get("offset") || 0 };
    this.set(loadMoreChanges(at, this.model.get("contract") || {}));
  }

  renderPage() {
    this.pageDropped = this.protocol.staleAnswer();
    if (this.pageDropped) return; // the newest answer is on its way
    this.store.ui.awaitingPage = this.sendQuery.pending(); // typed since: that query is still to be asked
    this.renderStatus();
    this.renderGrid();
    this.renderPager();
  }

  renderAll() {
    this.search.value = this.get("query") || "";
    this.renderHeader();
    this.renderFilters();
    this.renderSort();
    this.renderError();
    this.renderPage();
    this.renderNotes();
    this.renderReady();
    this.renderDetail();
  }

  renderNotes() {
    this.notesBox.replaceChildren(...noteNodes(this.doc, this.get("notes")));
  }

  /** Nothing open yet (a live source's first page on its way, or it failed): search, menus and Compare wait. */
  renderReady() {
    const off = this.get("ready") === false;
    this.root.classList.toggle("cz-not-ready", off);
    for (const el of [this.search, this.sortEl, ...this.filterBox.querySelectorAll("select")]) el.disabled = off;
    this.compare.updateButton();
  }

  renderHeader() {
    this.sourceLabel.textContent = this.get("source_label") || "";
  }

  renderFilters() {
    const filters = this.get("filters") || [];
    const ranges = this.get("ranges") || [];
    const valueOf = (k) => this.get(k);
    const selects = [...filterSelects(this.doc, filters, valueOf), ...rangeSelects(this.doc, ranges, valueOf)];
    if (this.get("ready") === false) for (const s of selects) s.disabled = true;
    this.filterBox.replaceChildren(...selects);
    // each filter's trait (the kernel names them in `filters` and `ranges`): listened to once
    this.boundFilters ||= new Set();
    for (const { key } of [...filters, ...ranges])
      if (!this.boundFilters.has(key)) {
        this.boundFilters.add(key);
        this.on(`change:${key}`, () => this.renderFilters());
      }
  }

  renderSort() {
    this.sortEl.replaceChildren(...sortItems(this.doc, this.get("sort_options") || []));
    this.sortEl.value = this.get("sort") || "";
  }

  renderError() {
    const d = this.doc;
    const err = this.get("error") || "";
    this.errorBox.hidden = !err;
    this.errorBox.replaceChildren(...(err ? [h(d, "b", { text: "Problem: " }), err] : []));
    const warnings = this.get("warnings") || [];
    this.warnBox.hidden = warnings.length === 0;
    const summary = `${warnings.length} problem${warnings.length === 1 ? "" : "s"} while opening the zoo`;
    const items = warnings.map((w) => h(d, "li", { text: String(w) }));
    this.warnBox.replaceChildren(h(d, "summary", { text: summary }), h(d, "ul", {}, ...items));
  }

  renderStatus() {
    const busy = this.ui.awaitingPage || !!this.get("loading");
    this.root.classList.toggle("cz-busy", busy);
    const state = {
      total: this.get("total") === null ? null : this.get("total") || 0, // null: the source does not say
      more: !!this.get("more"),
      offset: this.get("offset") || 0,
      shown: (this.get("cards") || []).length,
      busy,
      error: this.get("error"),
      suggestions: this.get("suggestions") || [],
      filtered: this.filterKeys().some((k) => this.get(k)),
      query: this.get("query"),
    };
    this.status.replaceChildren(...statusNodes(this.doc, state));
  }

  renderGrid() {
    const focused = this.grid.contains(this.doc.activeElement)
      ? this.doc.activeElement.getAttribute("data-model-id")
      : null;
    const opts = { sortKey: this.get("sort") || "", filters: this.get("filters") || [] };
    this.grid.replaceChildren(...cardNodes(this.doc, this.get("cards") || [], opts));
    this.compare.decorate(this.grid);
    if (focused) this.cardEl(focused)?.focus();
  }

  renderPager() {
    const p = pagerState({
      total: this.get("total") === null ? null : this.get("total") || 0,
      limit: this.get("limit") || 24,
      offset: this.get("offset") || 0,
      more: !!this.get("more"),
    });
    this.pager.hidden = p.hidden;
    this.prevBtn.disabled = !p.prev;
    this.nextBtn.disabled = !p.next;
    this.nextBtn.hidden = this.get("total") === null; // a source that does not say how many: "Load more"
    this.moreBtn.hidden = !p.more;
    this.pageLabel.textContent = p.label;
  }

  cardEl(id) {
    return (
      Array.from(this.grid.querySelectorAll(".cz-card")).find((c) => c.getAttribute("data-model-id") === id) || null
    );
  }

  // ---- detail ------------------------------------------------------------------
  selectedModelId() {
    const sel = this.get("selected") || "";
    return sel ? sel.split("@")[0] : "";
  }

  isDetailOpen() {
    return !!this.selectedModelId();
  }

  openModel(id) {
    if (!id) return;
    this.store.set({ fallbackShown: false, chartMetric: null, ckptSort: { key: "x", desc: false } });
    // the focus goes to the selected checkpoint row once the detail is drawn (Back until then)
    this.store.set({ lastOpened: id, focusAfterRender: "row", insertWhenReady: null });
    this.set({ selected: id });
  }

  closeModel() {
    const id = this.selectedModelId() || this.ui.lastOpened;
    this.store.ui.fallbackShown = false;
    this.store.ui.insertWhenReady = null;
    this.set({ selected: "" });
    (this.cardEl(id) || this.search).focus(); // the card that was open, else the search box
  }

  pickCheckpoint(name) {
    const id = this.selectedModelId();
    if (!id || !name) return;
    this.store.ui.fallbackShown = false;
    this.store.ui.insertWhenReady = null; // another row: an Enter pressed before is not for it
    this.set({ selected: `${id}@${name}` });
  }

  codeReady() {
    const key = `${this.get("selected") || ""}#${this.get("code_library") || ""}`;
    return !!this.get("code") && this.get("code_key") === key;
  }

  renderDetail() {
    const id = this.selectedModelId();
    this.detailView.hidden = !id;
    this.listView.hidden = !!id;
    if (!id) {
      this.detailView.replaceChildren();
      return;
    }
    const d = this.doc;
    const active = this.detailView.contains(d.activeElement) ? d.activeElement : null;
    const { nodes, codeBox } = renderDetail(d, id, { ...detailState(this, id), weights: this.weights.forDetail(id) });
    const paneTop = this.detailView.querySelector(".cz-table-wrap")?.scrollTop || 0;
    this.detailView.replaceChildren(...nodes);
    this.codeEl = codeBox;
    fitTable(this.detailView);
    keepSelectedInView(this.detailView, paneTop);
    this.restoreFocus(active);
    insertWhenReady(this); // Enter on a row whose code had not arrived yet
  }

  restoreFocus(active) {
    const find = (sel) => this.detailView.querySelector(sel);
    const row = active && active.getAttribute("data-checkpoint");
    const testid = active && active.getAttribute("data-testid");
    if (this.ui.focusAfterRender === "row") {
      // just opened: the selected row (the Tab stop of the rows) once drawn, Back while it loads
      const target = find('.cz-ckpt[tabindex="0"]') || find('[data-testid="cz-close"]');
      target?.focus();
      if (this.get("detail")?.id === this.selectedModelId()) this.store.ui.focusAfterRender = null;
    } else if (row) find(`[data-checkpoint="${CSS && CSS.escape ? CSS.escape(row) : row}"]`)?.focus();
    else if (testid) find(`[data-testid="${testid}"]`)?.focus();
  }

  insert() {
    return insert(this);
  }
}
