// @vitest-environment jsdom
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { ZooView } from "../view.js";
import widget from "../index.js";
import { FakeModel, baseState, DETAIL, CARDS } from "./fake-model.js";
import { INSERT_EVENT } from "../bridge.js";

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

function openDetail(model, selected = "digits-mlp@final") {
  model.answer({
    selected,
    detail: DETAIL,
    libraries: ["numpy", "ckptzoo"],
    code: `import ckptzoo_widgets as cz\nmodel = cz.load(${JSON.stringify(selected)})\n`,
    code_key: `${selected}#`,
  });
}

describe("ZooView", () => {
  it("renders through the anywidget entry point and cleans up", () => {
    const model = new FakeModel(baseState());
    const cleanup = widget.render({ model, el });
    expect(qa("cz-card").length).toBe(2);
    cleanup();
    expect(el.children.length).toBe(0);
    expect(model.listeners["change:cards"]).toEqual([]);
  });

  it("renders the page it is sent, with all test hooks", () => {
    new ZooView(new FakeModel(baseState()), el);
    for (const id of ["cz-search", "cz-sort", "cz-filter-task", "cz-filter-library", "cz-filter-license", "cz-error"])
      expect(q(id)).not.toBeNull();
    expect(q("cz-sort").tagName).toBe("SELECT");
    expect(qa("cz-card").map((c) => c.getAttribute("data-model-id"))).toEqual(["digits-mlp", "digits-cnn"]);
    expect(q("cz-status").textContent).toContain("1–2 of 2 models");
    expect(q("cz-error").hidden).toBe(true);
    const licenses = Array.from(q("cz-filter-license").options).map((o) => o.value);
    expect(licenses).toEqual(["", "apache-2.0", "mit"]);
    const sorts = Array.from(q("cz-sort").options).map((o) => o.value);
    expect(sorts).toContain("-val_accuracy");
    expect(sorts).toContain("val_loss");
  });

  it("debounces the search box and sends the query once", () => {
    vi.useFakeTimers();
    const model = new FakeModel(baseState());
    new ZooView(model, el, { debounceMs: 150 });
    const input = q("cz-search");
    for (const text of ["m", "ml", "mlp"]) {
      input.value = text;
      input.dispatchEvent(new Event("input"));
    }
    expect(model.sent).toEqual([]);
    expect(q("cz-loading")).not.toBeNull();
    vi.advanceTimersByTime(200);
    expect(model.requests()).toEqual([{ request: "search", query: "mlp" }]);
    model.answer({ query: "mlp", cards: [CARDS[0]], total: 1, page_version: 2 });
    expect(q("cz-loading")).toBeNull();
    expect(qa("cz-card").length).toBe(1);
  });

  it("sends the query 50 ms after the last key by default", () => {
    vi.useFakeTimers();
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const input = q("cz-search");
    input.value = "mlp";
    input.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(40);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(model.requests()).toEqual([{ request: "search", query: "mlp" }]);
  });

  it("drops an answer to an older query and shows the newest one", () => {
    vi.useFakeTimers();
    const model = new FakeModel(baseState({ page_seq: 0 }));
    new ZooView(model, el);
    const input = q("cz-search");
    const type = (text) => {
      input.value = text;
      input.dispatchEvent(new Event("input"));
      vi.advanceTimersByTime(60);
    };
    type("m");
    type("mlp");
    const [first, second] = model.sent.map((m) => m.seq);
    expect(second).toBeGreaterThan(first);
    const ids = () => qa("cz-card").map((c) => c.getAttribute("data-model-id"));
    // the kernel answers "m" while "mlp" is on its way: not shown, the spinner stays
    model.kernelSet({ query: "m", cards: [CARDS[1]], total: 1, page_seq: first, page_version: 2 });
    model.emit("msg:custom", { done: first });
    expect(ids()).toEqual(["digits-mlp", "digits-cnn"]);
    expect(q("cz-loading")).not.toBeNull();
    model.kernelSet({ query: "mlp", cards: [CARDS[0]], total: 1, page_seq: second, page_version: 3 });
    expect(ids()).toEqual(["digits-mlp"]);
    model.emit("msg:custom", { done: second });
    expect(ids()).toEqual(["digits-mlp"]);
    expect(q("cz-loading")).toBeNull();
  });

  it("shows the kernel's page once it says the newest request is done, whatever the page's tag", () => {
    vi.useFakeTimers();
    const model = new FakeModel(baseState({ page_seq: 0 }));
    new ZooView(model, el);
    const input = q("cz-search");
    input.value = "cnn";
    input.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(60);
    const [seq] = model.sent.map((m) => m.seq);
    // another view of the same widget asked later: the page carries its tag
    model.kernelSet({ query: "cnn", cards: [CARDS[1]], total: 1, page_seq: seq + 7, page_version: 2 });
    expect(qa("cz-card").length).toBe(2);
    model.emit("msg:custom", { done: seq });
    expect(qa("cz-card").map((c) => c.getAttribute("data-model-id"))).toEqual(["digits-cnn"]);
    expect(q("cz-loading")).toBeNull();
  });

  it("keeps the spinner when an answer arrives while newer keys wait for their pause", () => {
    vi.useFakeTimers();
    const model = new FakeModel(baseState({ page_seq: 0 }));
    new ZooView(model, el);
    const input = q("cz-search");
    input.focus(); // typing: the kernel's echo of the query does not overwrite the box
    input.value = "ml";
    input.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(60);
    const [seq] = model.sent.map((m) => m.seq);
    input.value = "mlp";
    input.dispatchEvent(new Event("input"));
    model.kernelSet({ query: "ml", cards: [CARDS[0]], total: 1, page_seq: seq, page_version: 2 });
    model.emit("msg:custom", { done: seq });
    expect(qa("cz-card").length).toBe(1); // shown: the best answer so far
    expect(q("cz-loading")).not.toBeNull(); // but "mlp" is still to come
    vi.advanceTimersByTime(60);
    expect(model.requests().at(-1)).toEqual({ request: "search", query: "mlp" });
  });

  it("sends sort and filter changes as the API's keys", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const sort = q("cz-sort");
    sort.value = "-val_accuracy";
    sort.dispatchEvent(new Event("change", { bubbles: true }));
    const task = q("cz-filter-task");
    task.value = "image-classification";
    task.dispatchEvent(new Event("change", { bubbles: true })); // as a browser sends it
    expect(model.requests()).toEqual([
      { request: "search", sort: "-val_accuracy" },
      { request: "search", task: "image-classification" },
    ]);
    expect(model.saved).toEqual([]); // the page never writes the synced state
  });

  it("pages with next and previous", () => {
    const model = new FakeModel(baseState({ total: 60, limit: 24 }));
    new ZooView(model, el);
    expect(q("cz-prev").disabled).toBe(true);
    q("cz-next").click();
    expect(model.requests()).toEqual([{ request: "search", offset: 24 }]);
    model.answer({ offset: 24, page_version: 2 });
    expect(q("cz-prev").disabled).toBe(false);
    q("cz-next").click();
    expect(model.requests().at(-1)).toEqual({ request: "search", offset: 48 });
    model.answer({ offset: 48, page_version: 3 });
    expect(q("cz-next").disabled).toBe(true);
  });

  it("opens a card, shows the sanitised card, metadata, checkpoints, chart and code", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    qa("cz-card")[0].click();
    expect(model.requests()).toEqual([{ request: "select", ref: "digits-mlp" }]);
    expect(q("cz-detail").hidden).toBe(false);
    expect(q("cz-detail").textContent).toContain("Loading");
    openDetail(model);
    expect(q("cz-model-card").querySelector("h1").textContent).toBe("Digits MLP");
    expect(q("cz-metadata").textContent).toContain("40.0K");
    expect(q("cz-metadata").textContent).not.toContain("architecture");
    expect(qa("cz-checkpoint").map((r) => r.getAttribute("data-checkpoint"))).toEqual(["epoch-1", "epoch-5", "final"]);
    expect(el.querySelector('[data-checkpoint="final"]').getAttribute("aria-selected")).toBe("true");
    expect(q("cz-chart").querySelectorAll("circle").length).toBe(3);
    expect(q("cz-code").textContent).toContain('cz.load("digits-mlp@final")');
    expect(q("cz-insert").disabled).toBe(false);
    expect(Array.from(q("cz-library").options).map((o) => o.value)).toEqual(["", "ckptzoo"]);
  });

  it("sorts the checkpoint list by a metric and by step", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    openDetail(model);
    q("cz-ckpt-sort-val_loss").click();
    expect(qa("cz-checkpoint").map((r) => r.getAttribute("data-checkpoint"))).toEqual(["final", "epoch-5", "epoch-1"]);
    q("cz-ckpt-sort-val_loss").click();
    expect(qa("cz-checkpoint").map((r) => r.getAttribute("data-checkpoint"))).toEqual(["epoch-1", "epoch-5", "final"]);
    q("cz-ckpt-sort-val_accuracy").click();
    expect(qa("cz-checkpoint").map((r) => r.getAttribute("data-checkpoint"))).toEqual(["final", "epoch-5", "epoch-1"]);
    q("cz-ckpt-sort-x").click();
    expect(qa("cz-checkpoint").map((r) => r.getAttribute("data-checkpoint"))).toEqual(["epoch-1", "epoch-5", "final"]);
  });

  it("picks a checkpoint and holds Insert until the kernel's code matches", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    openDetail(model);
    el.querySelector('[data-checkpoint="epoch-1"]').click();
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "digits-mlp@epoch-1" });
    expect(q("cz-insert").disabled).toBe(true);
    expect(q("cz-code").getAttribute("data-state")).toBe("pending");
    model.answer({ selected: "digits-mlp@epoch-1", code: "x = 'epoch-1'\n", code_key: "digits-mlp@epoch-1#" });
    expect(q("cz-insert").disabled).toBe(false);
    expect(q("cz-code").textContent).toBe("x = 'epoch-1'\n");
  });

  it("Insert dispatches the event; a handled event shows no fallback", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    openDetail(model);
    const got = [];
    document.body.addEventListener(
      INSERT_EVENT,
      (e) => {
        got.push(e.detail.code);
        e.preventDefault();
      },
      { once: true },
    );
    q("cz-insert").click();
    expect(got).toEqual([model.get("code")]);
    expect(q("cz-hint")).toBeNull();
    expect(model.requests().at(-1)).toEqual({ request: "insert", handled: true });
  });

  it("shows the fallback (code box, copy button, hint) when nobody handles the event", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    openDetail(model);
    q("cz-insert").click();
    expect(q("cz-hint").textContent).toContain("copy the code");
    expect(q("cz-copy")).not.toBeNull();
    expect(q("cz-code").textContent).toContain("cz.load");
    expect(model.requests().at(-1)).toEqual({ request: "insert", handled: false });
  });

  it("keyboard: / focuses search, arrows move between cards, Enter opens, Escape closes", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const cards = qa("cz-card");
    cards[0].focus();
    cards[0].dispatchEvent(new KeyboardEvent("keydown", { key: "/", bubbles: true }));
    expect(document.activeElement).toBe(q("cz-search"));
    cards[0].focus();
    cards[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(document.activeElement).toBe(cards[1]);
    cards[1].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
    expect(document.activeElement).toBe(cards[0]);
    cards[0].dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "digits-mlp" });
    openDetail(model);
    model.answer();
    q("cz-close").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.requests().at(-1)).toEqual({ request: "select", ref: "" });
    expect(q("cz-detail").hidden).toBe(true);
    expect(document.activeElement.getAttribute("data-model-id")).toBe("digits-mlp");
  });

  it("keeps arrow keys from reaching the notebook's shortcuts", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const outer = vi.fn();
    document.body.addEventListener("keydown", outer);
    qa("cz-card")[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(outer).not.toHaveBeenCalled();
    document.body.removeEventListener("keydown", outer);
  });

  it("shows the kernel's state again once it answers, whatever it decided", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    qa("cz-card")[0].click();
    expect(q("cz-detail").hidden).toBe(false);
    model.answer({ error: "Could not open 'digits-mlp': gone" }); // the kernel kept selected = ""
    expect(q("cz-detail").hidden).toBe(true);
    expect(q("cz-error").textContent).toContain("gone");
  });

  it("shows errors in a box and keeps working", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    model.kernelSet({
      error: "Could not open source 'nope.json': file not found",
      cards: [],
      total: 0,
      page_version: 2,
    });
    expect(q("cz-error").hidden).toBe(false);
    expect(q("cz-error").textContent).toContain("file not found");
    model.kernelSet({ error: "", cards: CARDS, total: 2, page_version: 3 });
    expect(q("cz-error").hidden).toBe(true);
    expect(qa("cz-card").length).toBe(2);
    model.kernelSet({ warnings: ["entry 3 skipped: bad id"] });
    expect(q("cz-warnings").hidden).toBe(false);
    expect(q("cz-warnings").textContent).toContain("bad id");
  });

  it("renders a hostile model card harmlessly", () => {
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const alert = vi.fn();
    window.alert = alert;
    openDetail(model);
    model.kernelSet({
      detail: {
        ...DETAIL,
        card_html:
          '<p>hi</p><script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a><iframe src="about:blank"></iframe><form><button>go</button></form><button data-commandlinker-command="notebook:run-all-cells">run</button>',
      },
    });
    const card = q("cz-model-card");
    expect(card.querySelector("script, img, iframe, form, button, [data-commandlinker-command]")).toBeNull();
    card.querySelectorAll("a").forEach((a) => a.click());
    expect(alert).not.toHaveBeenCalled();
  });
});

describe("ZooView keyboard and empty results", () => {
  it("/ focuses the search box when the pointer is over the widget, not while typing elsewhere", () => {
    new ZooView(new FakeModel(baseState()), el);
    const outside = document.createElement("textarea");
    document.body.appendChild(outside);
    const key = (target) =>
      target.dispatchEvent(new KeyboardEvent("keydown", { key: "/", bubbles: true, cancelable: true }));
    document.body.focus();
    key(document.body);
    expect(document.activeElement).not.toBe(q("cz-search")); // pointer elsewhere
    q("cz-root").dispatchEvent(new Event("pointerenter"));
    key(document.body);
    expect(document.activeElement).toBe(q("cz-search"));
    outside.focus();
    expect(key(outside)).toBe(true); // not cancelled: the "/" is typed
    expect(document.activeElement).toBe(outside);
  });

  it("no match: offers close ids and clearing the filters", () => {
    const model = new FakeModel(baseState({ cards: [], total: 0, task: "x", suggestions: ["digits-mlp"] }));
    new ZooView(model, el);
    expect(q("cz-no-match").textContent).toBe("No models match.");
    q("cz-suggestion").click();
    expect(model.requests().at(-1)).toEqual({ request: "search", query: "digits-mlp" });
    model.answer({ query: "digits-mlp", page_version: 2 });
    q("cz-clear").click();
    expect(model.requests().at(-1)).toEqual({ request: "search", task: "", library: "", license: "" });
  });
});
