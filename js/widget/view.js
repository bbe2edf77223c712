// The zoo browser view: binds an anywidget model to the DOM.
// The kernel searches, sorts and pages; this file renders what it is sent.
import { h, renderCard, sortCheckpoints, chartSeries, loggedCurve } from "./cards.js";
import { formatCount, formatMetric, formatBytes, formatDate, labelFor, debounce } from "./format.js";
import { metricFigure } from "./svg.js";
import { renderSafeHtml } from "./sanitize.js";
import { ComparePanel } from "./compare.js";
import { highlightedCode } from "./highlight.js";
import { requestInsert, copyText } from "./bridge.js";

const isTyping = (t) =>
  t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);

export class ZooView {
  // Typing: a short pause (quak-like), then one request; the kernel runs only the newest
  // of the requests that queue up, and answers that are not for the newest are dropped.
  constructor(model, el, { debounceMs = 50 } = {}) {
    this.model = model;
    this.el = el;
    this.doc = el.ownerDocument || document;
    this.awaitingPage = false;
    this.ckptSort = { key: "x", desc: false };
    this.chartMetric = null;
    this.fallbackShown = false;
    this.handlers = [];
    this.focusAfterRender = null;
    // The page asks, the kernel decides (ckptzoo_widgets/widget_protocol.py):
    // requests go out as custom messages; until the kernel answers the last
    // one, the view shows what was asked over the model's values.
    this.asked = {};
    this.seq = 0;
    // the newest request that changes the page (search, refresh) until the kernel answers it:
    // a page tagged with another request (`page_seq`) is an older answer and is not shown
    this.pageSeq = 0;
    this.pageDropped = false;
    this.dropCols = 0; // columns of the checkpoint table left out so that it fits the widget's width
    this.pointerInside = false;
    this.sendQuery = debounce(() => this.commitQuery(), debounceMs);
    this.build();
    this.bindModel();
    this.renderAll();
  }

  // ---- model helpers -------------------------------------------------
  get(name) {
    return Object.prototype.hasOwnProperty.call(this.asked, name) ? this.asked[name] : this.model.get(name);
  }

  /** Ask the kernel for `changes` (trait name -> value); never writes the synced state. */
  set(changes) {
    const entries = Object.entries(changes);
    const msg = { seq: ++this.seq };
    if (entries.some(([k]) => k === "selected")) Object.assign(msg, { request: "select", ref: changes.selected });
    else if (entries.some(([k]) => k === "code_library"))
      Object.assign(msg, { request: "library", library: changes.code_library });
    else {
      Object.assign(msg, { request: "search" }, changes);
      this.pageSeq = msg.seq;
    }
    Object.assign(this.asked, changes);
    this.send(msg);
    this.rerender(entries.map(([k]) => k));
  }

  send(msg) {
    try {
      this.model.send(msg);
    } catch (_) {
      /* the kernel is gone: nothing will answer */
    }
  }

  /** The kernel answered request `seq`: once the last one is answered, show the kernel's state. */
  onKernelMessage(msg) {
    if (!msg || typeof msg !== "object" || !("done" in msg)) return;
    if (this.pageSeq && typeof msg.done === "number" && msg.done >= this.pageSeq) {
      this.pageSeq = 0; // answered (or merged into a newer one): what the kernel holds now is the page
      if (this.pageDropped) this.renderPage();
    }
    if (msg.done !== null && msg.done < this.seq) return;
    const keys = Object.keys(this.asked);
    this.asked = {};
    this.rerender(keys);
  }

  rerender(keys) {
    if (keys.some((k) => ["selected", "code_library"].includes(k))) this.renderDetail();
    const filters = this.filterKeys();
    if (keys.some((k) => filters.includes(k))) this.renderFilters();
    if (keys.includes("sort")) this.renderSort();
    if (keys.some((k) => ["offset", "limit", "query", "sort", ...filters].includes(k))) {
      this.renderStatus();
      this.renderPager();
    }
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

  // ---- DOM skeleton --------------------------------------------------
  build() {
    const d = this.doc;
    this.root = h(d, "div", { class: "cz-root", "data-testid": "cz-root", "data-lm-suppress-shortcuts": "true" });

    this.search = h(d, "input", {
      type: "search",
      class: "cz-search",
      "data-testid": "cz-search",
      placeholder: "Search models…  (press / to focus)",
      maxlength: String((this.model.get("contract") || {}).text || 256),
      "aria-label": "Search models",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.search.addEventListener("input", () => {
      this.showAwaiting();
      this.sendQuery();
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        this.sendQuery.flush();
      }
    });

    this.filterBox = h(d, "span", { class: "cz-filters" });
    this.filterBox.addEventListener("change", (e) => {
      const name = e.target.getAttribute("data-filter");
      if (!name) return;
      this.showAwaiting();
      this.set({ [name]: e.target.value });
    });
    const toolbar = h(d, "div", { class: "cz-toolbar" }, this.search, this.filterBox);
    this.sortEl = h(d, "select", { class: "cz-select", "data-testid": "cz-sort", "aria-label": "Sort by" });
    this.sortEl.addEventListener("change", () => {
      this.showAwaiting();
      this.set({ sort: this.sortEl.value });
    });
    toolbar.appendChild(this.sortEl);
    this.compare = new ComparePanel(this); // checkboxes on cards, a Compare button, a panel (compare.js)
    toolbar.appendChild(this.compare.button);

    this.errorBox = h(d, "div", { class: "cz-error", "data-testid": "cz-error", role: "alert", hidden: true });
    this.warnBox = h(d, "details", { class: "cz-warnings", "data-testid": "cz-warnings", hidden: true });

    this.status = h(d, "div", { class: "cz-status", "data-testid": "cz-status", "aria-live": "polite" });
    this.grid = h(d, "div", { class: "cz-grid", "data-testid": "cz-grid", role: "list" });
    this.grid.addEventListener("click", (e) => {
      const card = e.target.closest && e.target.closest(".cz-card");
      if (card && this.grid.contains(card)) this.openModel(card.getAttribute("data-model-id"));
    });
    this.grid.addEventListener("keydown", (e) => this.onGridKey(e));

    this.prevBtn = h(d, "button", { class: "cz-btn", "data-testid": "cz-prev", type: "button", text: "‹ Previous" });
    this.nextBtn = h(d, "button", { class: "cz-btn", "data-testid": "cz-next", type: "button", text: "Next ›" });
    this.prevBtn.addEventListener("click", () => this.page(-1));
    this.nextBtn.addEventListener("click", () => this.page(1));
    this.pageLabel = h(d, "span", { class: "cz-page-label" });
    this.pager = h(d, "div", { class: "cz-pager" }, this.prevBtn, this.pageLabel, this.nextBtn);

    this.listView = h(d, "div", { class: "cz-list-view" }, this.compare.panel, this.status, this.grid, this.pager);
    this.detailView = h(d, "div", { class: "cz-detail", "data-testid": "cz-detail", hidden: true });

    const header = h(d, "div", { class: "cz-header" }, h(d, "span", { class: "cz-title", text: "Checkpoint zoo" }));
    this.sourceLabel = h(d, "span", { class: "cz-source", "data-testid": "cz-source" });
    header.appendChild(this.sourceLabel);
    // Re-read the source (a runs folder, an MLflow experiment) so new checkpoints appear.
    const refresh = { class: "cz-btn cz-refresh", "data-testid": "cz-refresh", type: "button", text: "↻ Refresh" };
    this.refreshBtn = h(d, "button", { ...refresh, title: "Read the source again", "aria-label": "Refresh" });
    this.refreshBtn.addEventListener("click", () => {
      this.pageSeq = ++this.seq;
      this.send({ seq: this.seq, request: "refresh" });
    });
    header.appendChild(this.refreshBtn);

    this.root.append(header, toolbar, this.errorBox, this.warnBox, this.listView, this.detailView);
    this.root.addEventListener("keydown", (e) => this.onRootKey(e));
    // `/` focuses the search box when the focus or the pointer is anywhere in the
    // widget. A click on plain text leaves the focus on the notebook, so listen
    // on the window, before JupyterLab's shortcuts see the key.
    this.root.addEventListener("pointerenter", () => (this.pointerInside = true));
    this.root.addEventListener("pointerleave", () => (this.pointerInside = false));
    this.win = this.doc.defaultView;
    this.onWindowKey = (e) => this.onSlash(e);
    this.win?.addEventListener("keydown", this.onWindowKey, true);
    // Lay out by the widget's own width (CSS container queries do the columns;
    // this fits the checkpoint table's metric columns to the width).
    if (this.win && this.win.ResizeObserver) {
      this.lastWidth = 0;
      this.resizeObserver = new this.win.ResizeObserver((entries) => {
        const width = Math.round(entries[0].contentRect.width);
        if (width === this.lastWidth) return;
        const wider = width > this.lastWidth;
        this.lastWidth = width;
        if (wider) this.dropCols = 0;
        if (this.isDetailOpen()) this.renderDetail();
      });
      this.resizeObserver.observe(this.root);
    }
    this.el.replaceChildren(this.root);
  }

  /** Is the kernel's page the answer to an older request than the newest this view sent? */
  staleAnswer() {
    const answered = this.model.get("page_seq");
    return this.pageSeq > 0 && typeof answered === "number" && answered !== this.pageSeq;
  }

  renderPage() {
    this.pageDropped = this.staleAnswer();
    if (this.pageDropped) return; // the newest answer is on its way
    this.awaitingPage = this.sendQuery.pending(); // typed since: that query is still to be asked
    this.renderStatus();
    this.renderGrid();
    this.renderPager();
  }

  bindModel() {
    const page = () => this.renderPage();
    this.on("change:cards", page);
    this.on("change:total", page);
    this.on("change:page_version", page);
    this.on("msg:custom", (msg) => this.onKernelMessage(msg));
    this.on("change:loading", () => this.renderStatus());
    this.on("change:filters", () => this.renderFilters());
    this.on("change:sort_options", () => this.renderSort());
    this.on("change:sort", () => {
      this.renderSort();
      if (!this.staleAnswer()) this.renderGrid();
    });
    for (const name of ["task", "library", "license"]) this.on(`change:${name}`, () => this.renderFilters());
    this.on("change:query", () => {
      if (this.doc.activeElement !== this.search) this.search.value = this.get("query") || "";
    });
    this.on("change:offset", () => this.renderPager());
    this.on("change:limit", () => this.renderPager());
    this.on("change:error", () => this.renderError());
    this.on("change:suggestions", () => this.renderStatus());
    this.on("change:warnings", () => this.renderError());
    this.on("change:source_label", () => this.renderHeader());
    const detail = () => this.renderDetail();
    for (const n of ["detail", "selected", "code", "code_key", "libraries", "code_library"])
      this.on(`change:${n}`, detail);
  }

  renderAll() {
    this.search.value = this.get("query") || "";
    this.renderHeader();
    this.renderFilters();
    this.renderSort();
    this.renderError();
    this.renderStatus();
    this.renderGrid();
    this.renderPager();
    this.renderDetail();
  }

  // ---- list ----------------------------------------------------------
  commitQuery() {
    const q = this.search.value;
    if (q === (this.get("query") || "")) {
      this.awaitingPage = false;
      this.renderStatus();
      return;
    }
    this.set({ query: q });
  }

  showAwaiting() {
    this.awaitingPage = true;
    this.renderStatus();
  }

  page(dir) {
    const limit = this.get("limit") || 24;
    const offset = this.get("offset") || 0;
    const total = this.get("total") || 0;
    const next = Math.max(0, offset + dir * limit);
    if (next === offset || next >= total) return;
    this.showAwaiting();
    this.set({ offset: next });
  }

  renderHeader() {
    this.sourceLabel.textContent = this.get("source_label") || "";
  }

  filterKeys() {
    return (this.get("filters") || []).map((f) => f.key);
  }

  renderFilters() {
    const d = this.doc;
    const sels = (this.get("filters") || []).map((f) => {
      const current = this.get(f.key) || "";
      const values = Array.from(f.values || []);
      if (current && !values.includes(current)) values.push(current);
      const sel = h(
        d,
        "select",
        {
          class: "cz-select",
          "data-testid": `cz-filter-${f.key}`,
          "data-filter": f.key,
          "aria-label": `Filter by ${String(f.label).toLowerCase()}`,
        },
        h(d, "option", { value: "", text: f.all_label }),
        ...values.map((v) => h(d, "option", { value: v, text: v })),
      );
      sel.value = current;
      sel.disabled = values.length === 0;
      return sel;
    });
    this.filterBox.replaceChildren(...sels);
  }

  renderSort() {
    const d = this.doc;
    const option = (o) => h(d, "option", { value: o.value, text: o.label });
    const items = [];
    const groups = new Map();
    for (const o of this.get("sort_options") || []) {
      if (!o.group) items.push(option(o));
      else {
        if (!groups.has(o.group)) {
          groups.set(o.group, h(d, "optgroup", { label: o.group }));
          items.push(groups.get(o.group));
        }
        groups.get(o.group).appendChild(option(o));
      }
    }
    this.sortEl.replaceChildren(...items);
    this.sortEl.value = this.get("sort") || "";
  }

  renderError() {
    const err = this.get("error") || "";
    this.errorBox.hidden = !err;
    this.errorBox.replaceChildren();
    if (err) {
      this.errorBox.append(h(this.doc, "b", { text: "Problem: " }), err);
    }
    const warnings = this.get("warnings") || [];
    this.warnBox.hidden = warnings.length === 0;
    this.warnBox.replaceChildren(
      h(this.doc, "summary", {
        text: `${warnings.length} problem${warnings.length === 1 ? "" : "s"} while opening the zoo`,
      }),
      h(this.doc, "ul", {}, ...warnings.map((w) => h(this.doc, "li", { text: String(w) }))),
    );
  }

  renderStatus() {
    const total = this.get("total") || 0;
    const offset = this.get("offset") || 0;
    const n = (this.get("cards") || []).length;
    const busy = this.awaitingPage || !!this.get("loading");
    this.root.classList.toggle("cz-busy", busy);
    this.status.replaceChildren();
    if (busy)
      this.status.appendChild(
        h(this.doc, "span", { class: "cz-spinner", "data-testid": "cz-loading", "aria-label": "loading" }),
      );
    if (total === 0) {
      if (!this.get("error") && !busy) this.status.append(...this.noMatch());
      return;
    }
    const text = `${(offset + 1).toLocaleString("en-US")}–${(offset + n).toLocaleString("en-US")} of ${total.toLocaleString("en-US")} model${total === 1 ? "" : "s"}`;
    this.status.appendChild(h(this.doc, "span", { text }));
  }

  /** "No models match", with close ids to try and a way to clear the filters. */
  noMatch() {
    const d = this.doc;
    const out = [h(d, "span", { "data-testid": "cz-no-match", text: "No models match." })];
    const close = this.get("suggestions") || [];
    if (close.length) {
      out.push(h(d, "span", { text: "Did you mean" }));
      for (const id of close) {
        const btn = h(d, "button", { type: "button", class: "cz-link", "data-testid": "cz-suggestion", text: id });
        btn.addEventListener("click", () => {
          this.search.value = id;
          this.showAwaiting();
          this.set({ query: id });
        });
        out.push(btn);
      }
    }
    const filters = this.filterKeys();
    const filtered = filters.some((name) => this.get(name));
    if (filtered || this.get("query")) {
      const clear = h(d, "button", {
        type: "button",
        class: "cz-link",
        "data-testid": "cz-clear",
        text: filtered ? "Clear the filters" : "Clear the search",
      });
      clear.addEventListener("click", () => {
        this.showAwaiting();
        if (filtered) this.set(Object.fromEntries(filters.map((name) => [name, ""])));
        else {
          this.search.value = "";
          this.set({ query: "" });
        }
      });
      out.push(clear);
    }
    return out;
  }

  renderGrid() {
    const cards = this.get("cards") || [];
    const sortKey = this.get("sort") || "";
    const focusedId = this.grid.contains(this.doc.activeElement)
      ? this.doc.activeElement.getAttribute("data-model-id")
      : null;
    const filters = this.get("filters") || [];
    this.grid.replaceChildren(...cards.map((c) => renderCard(this.doc, c, { sortKey, filters })));
    this.compare.decorate(this.grid);
    if (focusedId) {
      const again = this.cardEl(focusedId);
      if (again) again.focus();
    }
  }

  renderPager() {
    const total = this.get("total") || 0;
    const limit = this.get("limit") || 24;
    const offset = this.get("offset") || 0;
    this.pager.hidden = total <= limit && offset === 0;
    this.prevBtn.disabled = offset <= 0;
    this.nextBtn.disabled = offset + limit >= total;
    const pages = Math.max(1, Math.ceil(total / limit));
    this.pageLabel.textContent = `page ${Math.floor(offset / limit) + 1} of ${pages.toLocaleString("en-US")}`;
  }

  cardEl(id) {
    return (
      Array.from(this.grid.querySelectorAll(".cz-card")).find((c) => c.getAttribute("data-model-id") === id) || null
    );
  }

  onGridKey(e) {
    const cards = Array.from(this.grid.querySelectorAll(".cz-card"));
    const i = cards.indexOf(this.doc.activeElement);
    if (i < 0) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      this.openModel(cards[i].getAttribute("data-model-id"));
      return;
    }
    const cols = this.columns(cards);
    const moves = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: cols,
      ArrowUp: -cols,
      Home: -i,
      End: cards.length - 1 - i,
    };
    if (!(e.key in moves)) return;
    e.preventDefault();
    e.stopPropagation();
    const j = Math.min(cards.length - 1, Math.max(0, i + moves[e.key]));
    cards[j].focus();
  }

  columns(cards) {
    if (cards.length < 2) return 1;
    const top = cards[0].offsetTop;
    let n = 0;
    for (const c of cards) {
      if (c.offsetTop !== top) break;
      n += 1;
    }
    return n === cards.length && top === 0 && cards[1].offsetTop === 0 && cards[0].offsetLeft === cards[1].offsetLeft
      ? 1
      : Math.max(1, n);
  }

  onSlash(e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || !this.root.isConnected) return;
    const active = this.doc.activeElement;
    const focusInside = this.root.contains(e.target) || this.root.contains(active);
    // Typing a "/" in a text box or a cell editor is typing, wherever the pointer is.
    if (isTyping(e.target) || (!focusInside && isTyping(active))) return;
    if (!focusInside && !this.pointerInside) return;
    e.preventDefault();
    e.stopPropagation();
    this.search.focus();
    this.search.select();
  }

  onRootKey(e) {
    if (e.key === "Escape" && this.isDetailOpen()) {
      e.preventDefault();
      e.stopPropagation();
      this.closeModel();
      return;
    }
    if (
      ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", " ", "Home", "End"].includes(e.key) &&
      !isTyping(e.target)
    ) {
      // Keep notebook command-mode shortcuts (move cell, enter edit mode) out of the widget.
      e.stopPropagation();
    }
  }

  // ---- detail --------------------------------------------------------
  selectedModelId() {
    const sel = this.get("selected") || "";
    return sel ? sel.split("@")[0] : "";
  }

  isDetailOpen() {
    return !!this.selectedModelId();
  }

  openModel(id) {
    if (!id) return;
    this.fallbackShown = false;
    this.chartMetric = null;
    this.dropCols = 0;
    this.ckptSort = { key: "x", desc: false };
    this.lastOpened = id;
    this.focusAfterRender = "close";
    this.set({ selected: id });
  }

  closeModel() {
    const id = this.selectedModelId() || this.lastOpened;
    this.fallbackShown = false;
    this.set({ selected: "" });
    const card = id ? this.cardEl(id) : null;
    if (card) card.focus();
  }

  pickCheckpoint(name) {
    const id = this.selectedModelId();
    if (!id || !name) return;
    this.fallbackShown = false;
    this.set({ selected: `${id}@${name}` });
  }

  codeReady() {
    const key = `${this.get("selected") || ""}#${this.get("code_library") || ""}`;
    return !!this.get("code") && this.get("code_key") === key;
  }

  renderDetail() {
    const d = this.doc;
    const id = this.selectedModelId();
    const open = !!id;
    this.detailView.hidden = !open;
    this.listView.hidden = open;
    if (!open) {
      this.detailView.replaceChildren();
      return;
    }
    const detail = this.get("detail") || {};
    const activeRow = this.detailView.contains(d.activeElement)
      ? d.activeElement.getAttribute("data-checkpoint")
      : null;
    const activeTestId = this.detailView.contains(d.activeElement) ? d.activeElement.getAttribute("data-testid") : null;

    const closeBtn = h(d, "button", {
      class: "cz-btn cz-close",
      type: "button",
      "data-testid": "cz-close",
      "aria-label": "Close (Escape)",
      text: "← Back",
    });
    closeBtn.addEventListener("click", () => this.closeModel());
    const head = h(
      d,
      "div",
      { class: "cz-detail-head" },
      closeBtn,
      h(d, "h2", { class: "cz-detail-title", text: detail.name || id }),
    );
    if (detail.id !== id) {
      const waiting = this.get("error") ? "" : "Loading…";
      this.detailView.replaceChildren(
        head,
        h(d, "div", { class: "cz-status" }, waiting ? h(d, "span", { class: "cz-spinner" }) : null, waiting),
      );
      if (this.focusAfterRender === "close") closeBtn.focus();
      return;
    }
    const badges = h(d, "div", { class: "cz-badges" });
    for (const k of ["task", "library", "license"])
      if (detail[k]) badges.appendChild(h(d, "span", { class: `cz-badge cz-badge-${k}`, text: detail[k] }));
    head.appendChild(badges);

    // model card (markdown rendered and sanitised in the kernel, sanitised again here)
    const cardBody = h(d, "div", { class: "cz-markdown", "data-testid": "cz-model-card" });
    renderSafeHtml(cardBody, detail.card_html || "");
    if (!detail.card_html) cardBody.appendChild(h(d, "p", { class: "cz-muted", text: "No model card." }));

    // metadata
    const meta = h(d, "table", { class: "cz-meta", "data-testid": "cz-metadata" });
    for (const row of detail.metadata || []) {
      const [k, v] = row;
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
      meta.appendChild(h(d, "tr", {}, h(d, "th", { text: labelFor(k) }), h(d, "td", { text: this.fmtValue(k, v) })));
    }

    const left = h(
      d,
      "div",
      { class: "cz-detail-left" },
      h(d, "h3", { text: "Model card" }),
      cardBody,
      h(d, "h3", { text: "Metadata" }),
      meta,
    );
    // Nothing clipped: leave out checkpoint-table columns until the table fits.
    for (;;) {
      const right = h(d, "div", { class: "cz-detail-right" }, ...this.renderCheckpoints(detail), ...this.renderCode());
      this.detailView.replaceChildren(head, h(d, "div", { class: "cz-detail-body" }, right, left));
      const wrap = this.detailView.querySelector(".cz-table-wrap");
      const over = wrap && wrap.clientWidth > 0 && wrap.scrollWidth > wrap.clientWidth + 1;
      if (!over || this.dropCols >= this.maxDrop) break;
      this.dropCols += 1;
    }
    this.renderedId = id;

    if (this.focusAfterRender === "close") {
      closeBtn.focus();
      this.focusAfterRender = null;
    } else if (activeRow) {
      const row = this.detailView.querySelector(
        `[data-checkpoint="${CSS && CSS.escape ? CSS.escape(activeRow) : activeRow}"]`,
      );
      if (row) row.focus();
    } else if (activeTestId) {
      const el = this.detailView.querySelector(`[data-testid="${activeTestId}"]`);
      if (el) el.focus();
    }
  }

  fmtValue(k, v) {
    if (k === "num_params") return `${formatCount(v)} (${Number(v).toLocaleString("en-US")})`;
    if (k === "created") return formatDate(v);
    if (Array.isArray(v)) return v.join(", ");
    if (typeof v === "number") return formatMetric(v);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  renderCheckpoints(detail) {
    const d = this.doc;
    const ckpts = detail.checkpoints || [];
    const selected = this.get("selected") || "";
    const selName = selected.includes("@") ? selected.slice(selected.indexOf("@") + 1) : detail.default_checkpoint;
    // The kernel's decisions (widget_contract.with_decisions): the metric columns with their goal,
    // the chart's metrics, the axis and each checkpoint's place on it (`x`).
    const goals = Object.fromEntries((detail.table_metrics || []).map((m) => [m.name, m.goal]));
    const metrics = (detail.table_metrics || []).map((m) => m.name);
    const curves = Array.isArray(detail.curves) ? detail.curves : [];
    const plottable = (detail.chart_metrics || []).map((m) => m.name);
    if (!this.chartMetric || !plottable.includes(this.chartMetric)) this.chartMetric = plottable[0] || null;
    const axis = detail.axis || { key: "checkpoint", label: "Checkpoint order" };
    const hasStep = axis.key === "step";
    const hasEpoch = ckpts.some((c) => typeof c.epoch === "number");

    const sortHeader = (key, label) => {
      const active = this.ckptSort.key === key;
      const btn = h(d, "button", {
        type: "button",
        class: `cz-th-sort${active ? " cz-active" : ""}`,
        "data-testid": `cz-ckpt-sort-${key}`,
        "aria-sort": active ? (this.ckptSort.desc ? "descending" : "ascending") : "none",
        text: label + (active ? (this.ckptSort.desc ? " ↓" : " ↑") : ""),
      });
      btn.addEventListener("click", () => {
        this.ckptSort = active
          ? { key, desc: !this.ckptSort.desc }
          : { key, desc: key !== "x" && goals[key] !== "min" }; // best first, as the kernel says
        this.renderDetail();
      });
      return h(d, "th", {}, btn);
    };
    const headRow = h(d, "tr", {}, h(d, "th", { text: "Checkpoint" }), sortHeader("x", axis.label));
    // Columns left out, in this order, until the table fits the widget: metrics
    // from the last (the headline stays), then format, epoch, size.
    const droppable = [...metrics.slice(1).reverse(), "@format", ...(hasStep && hasEpoch ? ["@epoch"] : []), "@size"];
    this.maxDrop = droppable.length;
    this.dropCols = Math.min(this.dropCols, droppable.length);
    const dropped = new Set(droppable.slice(0, this.dropCols));
    const shown = metrics.filter((m) => !dropped.has(m));
    const showEpoch = hasStep && hasEpoch && !dropped.has("@epoch");
    if (showEpoch) headRow.appendChild(h(d, "th", { text: "Epoch" }));
    for (const m of shown) headRow.appendChild(sortHeader(m, labelFor(m)));
    if (!dropped.has("@size")) headRow.append(h(d, "th", { text: "Size" }));
    if (!dropped.has("@format")) headRow.append(h(d, "th", { text: "Format" }));

    const tbody = h(d, "tbody");
    const rows = sortCheckpoints(ckpts, this.ckptSort.key, this.ckptSort.desc);
    for (const c of rows) {
      const isSel = c.name === selName;
      const tr = h(d, "tr", {
        class: `cz-ckpt${isSel ? " cz-selected" : ""}`,
        tabindex: "0",
        "data-testid": "cz-checkpoint",
        "data-checkpoint": c.name,
        "aria-selected": isSel ? "true" : "false",
      });
      tr.appendChild(
        h(
          d,
          "td",
          { class: "cz-ckpt-name" },
          c.name,
          c.name === detail.default_checkpoint
            ? h(d, "span", { class: "cz-default", title: "default checkpoint", text: " default" })
            : null,
        ),
      );
      tr.appendChild(h(d, "td", { class: "cz-num", text: fmtNum(c.x) }));
      if (showEpoch) tr.appendChild(h(d, "td", { class: "cz-num", text: fmtNum(c.epoch) }));
      for (const m of shown)
        tr.appendChild(h(d, "td", { class: "cz-num", text: formatMetric(c.metrics ? c.metrics[m] : undefined) }));
      // A pickle whose scan said unsafe or unknown: one badge, the kernel's reason as its tooltip.
      // It stays visible when the format column is left out (then beside the name).
      const unsafe = c.pickle_warning
        ? h(d, "span", {
            class: "cz-badge cz-badge-unsafe",
            "data-testid": "cz-unsafe",
            title: c.pickle_warning,
            text: "unsafe",
          })
        : null;
      if (!dropped.has("@size")) tr.append(h(d, "td", { class: "cz-num", text: formatBytes(c.size) }));
      if (!dropped.has("@format")) tr.append(h(d, "td", {}, c.format || "—", unsafe));
      else if (unsafe) tr.firstChild.append(" ", unsafe);
      tr.addEventListener("click", () => this.pickCheckpoint(c.name));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          e.stopPropagation();
          this.pickCheckpoint(c.name);
        } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          e.stopPropagation();
          const sib = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
          if (sib) sib.focus();
        }
      });
      tbody.appendChild(tr);
    }
    const table = h(
      d,
      "table",
      { class: "cz-ckpts", "data-testid": "cz-checkpoints" },
      h(d, "thead", {}, headRow),
      tbody,
    );

    // The kernel sends a bounded page of a long list (widget_payload.shown_checkpoints) and the count.
    const all = Math.max(Number(detail.num_checkpoints) || 0, ckpts.length);
    const count =
      all > ckpts.length
        ? `${ckpts.length.toLocaleString("en-US")} of ${all.toLocaleString("en-US")} shown, spread over the run; all: zoo.checkpoints(...)`
        : `${ckpts.length}`;
    const out = [h(d, "h3", { text: `Checkpoints (${count})` }), h(d, "div", { class: "cz-table-wrap" }, table)];
    const hidden = droppable
      .slice(0, this.dropCols)
      .map((c) => (c.startsWith("@") ? labelFor(c.slice(1)) : labelFor(c)));
    if (hidden.length)
      out.push(
        h(d, "div", {
          class: "cz-muted cz-hidden-cols",
          "data-testid": "cz-hidden-columns",
          text: `Not shown at this width: ${hidden.reverse().join(", ")} (the chart plots every metric).`,
        }),
      );
    if (this.chartMetric && ckpts.length > 0) {
      const { points, line, logged } = chartSeries(ckpts, curves, this.chartMetric);
      const xName = axis.label.toLowerCase();
      const chartHead = h(d, "div", { class: "cz-chart-head" });
      const optionText = (m) => labelFor(m) + (loggedCurve(curves, m) ? " (logged curve)" : "");
      if (plottable.length > 1) {
        const sel = h(
          d,
          "select",
          { class: "cz-select", "data-testid": "cz-chart-metric", "aria-label": "Metric to plot" },
          ...plottable.map((m) => h(d, "option", { value: m, text: optionText(m) })),
        );
        sel.value = this.chartMetric;
        sel.addEventListener("change", () => {
          this.chartMetric = sel.value;
          this.renderDetail();
        });
        chartHead.append(sel, ` versus ${xName}`);
      } else {
        chartHead.append(`${optionText(this.chartMetric)} versus ${xName}`);
      }
      if (points.length > 0 || line) {
        out.push(
          chartHead,
          metricFigure(points, {
            metric: labelFor(this.chartMetric),
            xLabel: xName,
            selected: selName,
            onPick: (n) => this.pickCheckpoint(n),
            line,
          }),
        );
      }
      if (line) {
        const thinned =
          logged > line.length
            ? ` (${line.length.toLocaleString("en-US")} of ${logged.toLocaleString("en-US")} points: each stretch's lowest and highest kept)`
            : "";
        out.push(
          h(d, "div", {
            class: "cz-muted cz-curve-note",
            "data-testid": "cz-curve-note",
            text: `Line: the curve logged during training${thinned}. Dots: the checkpoints (${points.length}).`,
          }),
        );
      }
    }
    if (detail.curves_left_out > 0)
      out.push(
        h(d, "div", {
          class: "cz-muted",
          text: `${detail.curves_left_out} more logged curves are not shown here (the zoo has them: zoo.model(...).curves).`,
        }),
      );
    return out;
  }

  renderCode() {
    const d = this.doc;
    const code = this.get("code") || "";
    const ready = this.codeReady();
    const libs = this.get("libraries") || [];
    const selected = this.get("selected") || "";
    const out = [
      h(d, "h3", {}, "Load code ", h(d, "span", { class: "cz-ref", "data-testid": "cz-ref", text: selected })),
    ];

    const controls = h(d, "div", { class: "cz-code-controls" });
    if (libs.length > 1) {
      const sel = h(
        d,
        "select",
        { class: "cz-select", "data-testid": "cz-library", "aria-label": "Library for the load code" },
        ...libs.map((l, i) => h(d, "option", { value: i === 0 ? "" : l, text: i === 0 ? `${l} (default)` : l })),
      );
      const cur = this.get("code_library") || "";
      sel.value = libs.includes(cur) && cur !== libs[0] ? cur : "";
      sel.addEventListener("change", () => {
        this.fallbackShown = false;
        this.set({ code_library: sel.value });
      });
      controls.append(h(d, "label", { class: "cz-lib-label" }, "Library ", sel));
    }
    const insert = h(d, "button", {
      type: "button",
      class: "cz-btn cz-primary",
      "data-testid": "cz-insert",
      text: "Insert code",
      title: "Put this code in a new cell below",
    });
    insert.disabled = !ready;
    insert.addEventListener("click", () => this.insert());
    const copy = h(d, "button", { type: "button", class: "cz-btn", "data-testid": "cz-copy", text: "Copy" });
    copy.disabled = !code;
    copy.addEventListener("click", async () => {
      const ok = await copyText(this.get("code") || "", d);
      copy.textContent = ok ? "Copied" : "Select and copy";
      if (!ok) this.selectCode();
    });
    controls.append(insert, copy);
    out.push(controls);

    this.codeEl = h(
      d,
      "pre",
      {
        class: `cz-code${ready ? "" : " cz-pending"}`,
        "data-testid": "cz-code",
        "data-state": ready ? "ready" : "pending",
        tabindex: "0",
      },
      highlightedCode(d, code), // Python highlighting; text nodes only (highlight.js)
    );
    out.push(this.codeEl);
    if (this.fallbackShown) {
      out.push(
        h(d, "div", {
          class: "cz-hint",
          "data-testid": "cz-hint",
          role: "status",
          text: "This frontend cannot insert cells: copy the code above into a new cell, or run browser.insert() in a cell.",
        }),
      );
    }
    return out;
  }

  selectCode() {
    if (!this.codeEl) return;
    const sel = this.doc.getSelection && this.doc.getSelection();
    if (!sel) return;
    const range = this.doc.createRange();
    range.selectNodeContents(this.codeEl);
    sel.removeAllRanges();
    sel.addRange(range);
  }

  insert() {
    if (!this.codeReady()) return false;
    const code = this.get("code");
    const handled = requestInsert(this.el, code);
    this.send({ request: "insert", handled });
    if (!handled) {
      this.fallbackShown = true;
      this.renderDetail();
      this.selectCode();
    }
    return handled;
  }
}

function fmtNum(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toLocaleString("en-US") : "—";
}

export { formatCount, formatMetric };
