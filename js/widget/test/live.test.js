// @vitest-environment jsdom
// The browser on a live zoo (hf:): what the kernel sends when the source does not say how many
// (total null, more), its notes, its range menu, its pause before a search, where each card came
// from, and the controls held while nothing is open. The page draws; the kernel decides.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { ZooView } from "../view.js";
import { FakeModel, baseState, CARDS, CONTRACT } from "./fake-model.js";
import { statusNodes, pagerState, loadMoreChanges } from "../views/list.js";

let el;
beforeEach(() => {
  el = document.createElement("div");
  document.body.appendChild(el);
});
afterEach(() => {
  document.body.replaceChildren();
  vi.useRealTimers();
});

const q = (id) => el.querySelector(`[data-testid="${id}"]`);
const qa = (id) => Array.from(el.querySelectorAll(`[data-testid="${id}"]`));
const RANGES = [
  {
    key: "num_params",
    label: "Parameters",
    all_label: "Any size",
    options: [
      { value: "max:100M", label: "< 100M" },
      { value: "min:1B,max:7B", label: "1B - 7B" },
    ],
  },
];
const live = (extra = {}) =>
  baseState({
    total: null,
    more: true,
    notes: [],
    ready: true,
    ranges: RANGES,
    search_pause_ms: 300,
    cards: CARDS.map((c) => ({ ...c, from: "hf:", num_checkpoints: null })),
    ...extra,
  });

describe("a source that does not say how many", () => {
  it("counts what was shown with a plus, and offers Load more instead of Next", () => {
    new ZooView(new FakeModel(live()), el);
    expect(q("cz-count").textContent).toBe("1–2 of 2+ models");
    expect(q("cz-more").hidden).toBe(false);
    expect(q("cz-next").hidden).toBe(true);
  });

  it("Load more asks for a bigger page up to the kernel's largest, then the next page", () => {
    const model = new FakeModel(live());
    new ZooView(model, el);
    q("cz-more").click();
    expect(model.requests()).toEqual([{ request: "search", limit: 24 + CONTRACT.limits.page_size }]);
    const last = { limit: CONTRACT.limits.max_limit, offset: 0 };
    expect(loadMoreChanges(last, CONTRACT.limits)).toEqual({ offset: CONTRACT.limits.max_limit });
  });

  it("hides Load more at the end, and knows an empty unknown page is not 'no match' yet", () => {
    expect(pagerState({ total: null, limit: 24, offset: 0, more: false }).hidden).toBe(true);
    const nodes = statusNodes(document, { total: null, offset: 0, shown: 0, busy: true, more: false });
    expect(nodes.map((n) => n.dataset.testid)).toEqual(["cz-loading"]);
  });
});

describe("the kernel's decisions on a live zoo", () => {
  it("shows each note on a line, each card's source, and no checkpoint count before a model is opened", () => {
    const model = new FakeModel(live({ notes: ["hf:: offline: showing what was seen before"] }));
    new ZooView(model, el);
    expect(qa("cz-note").map((n) => n.textContent)).toEqual(["hf:: offline: showing what was seen before"]);
    expect(qa("cz-card-source").map((n) => n.textContent)).toEqual(["hf:", "hf:"]);
    expect(el.querySelector(".cz-ckpts")).toBeNull();
    model.kernelSet({ notes: [] });
    expect(qa("cz-note")).toEqual([]);
  });

  it("offers the kernel's parameter ranges and asks with the range chosen", () => {
    const model = new FakeModel(live());
    new ZooView(model, el);
    const sel = q("cz-filter-num_params");
    expect(Array.from(sel.options).map((o) => o.text)).toEqual(["Any size", "< 100M", "1B - 7B"]);
    sel.value = "min:1B,max:7B";
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.requests()).toEqual([{ request: "search", num_params: "min:1B,max:7B" }]);
  });

  it("waits the kernel's pause after a key: one request for a word typed a key at a time", () => {
    vi.useFakeTimers();
    const model = new FakeModel(live());
    new ZooView(model, el);
    const input = q("cz-search");
    for (const text of ["p", "py", "pyt", "pyth", "pythi", "pythia"]) {
      input.value = text;
      input.dispatchEvent(new Event("input"));
      vi.advanceTimersByTime(120); // a key every 120 ms: shorter than the kernel's 300 ms pause
    }
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(model.requests()).toEqual([{ request: "search", query: "pythia" }]);
  });

  it("holds the search box, the menus and Compare while nothing is open, and frees them when it is", () => {
    const model = new FakeModel(live({ ready: false, cards: [], total: 0, more: false, loading: true }));
    new ZooView(model, el);
    const held = () =>
      [q("cz-search"), q("cz-sort"), q("cz-filter-task"), q("cz-filter-num_params"), q("cz-compare-button")].map(
        (e) => e.disabled,
      );
    expect(held()).toEqual([true, true, true, true, true]);
    model.kernelSet({ ready: true, cards: live().cards, loading: false, total: null, more: true });
    expect(held().slice(0, 4)).toEqual([false, false, false, false]);
    expect(q("cz-compare-button").disabled).toBe(true); // nothing ticked yet
  });
});
