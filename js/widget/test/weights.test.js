// The Weights view (views/weights.js): it draws the kernel's grid (weights.json holds real
// payloads of the built-in digits MLP, written by tests/weights/test_weights_view.py) and asks
// through the protocol; it never orders, scales or pairs anything itself.
// @vitest-environment jsdom
import { describe, it, expect, afterEach } from "vitest";
import { ZooView } from "../view.js";
import { levelColour, cellInfo, cellText, heatmap, legend, renderWeights } from "../views/weights.js";
import { pairTable } from "../views/weights-pair.js";
import { FakeModel, baseState, CONTRACT, DETAIL } from "./fake-model.js";
import WEIGHTS from "./weights.json";

const { partial, complete, pair } = WEIGHTS;
const cells = (root) => [...root.querySelectorAll('[data-testid="cz-weights-cell"]')];

afterEach(() => document.body.replaceChildren());

describe("drawing the kernel's grid", () => {
  it("colours run along the ramp by the kernel's level, from its first to its last colour", () => {
    expect(levelColour(0, 8)).toBe("#440154");
    expect(levelColour(7, 8)).toBe("#fde725");
    expect(levelColour(null, 8)).toBe(null);
    expect(levelColour(0, 1)).toBe("#fde725"); // one level: every value the same
    const lum = (c) => [1, 3, 5].reduce((s, k) => s + parseInt(c.slice(k, k + 2), 16), 0);
    const ramp = [...Array(8).keys()].map((i) => lum(levelColour(i, 8)));
    expect(ramp.slice(1).every((v, i) => v > ramp[i])).toBe(true); // lighter level by level
  });

  it("rows come grouped and ordered as the kernel sent them, one cell per column", () => {
    const map = heatmap(document, complete);
    expect([...map.querySelectorAll('[data-testid="cz-weights-group"]')].map((g) => g.textContent)).toEqual([
      "hidden",
      "out",
    ]);
    expect(cells(map).length).toBe(complete.rows.length * complete.columns.length);
    const labels = [...map.querySelectorAll('[data-testid="cz-weights-column"]')].map((c) => c.textContent);
    expect(labels).toEqual(complete.columns.map((c) => c.checkpoint));
  });

  it("a cell's colour is the kernel's level, even where the value would rank it otherwise", () => {
    const forged = { ...complete, levels: complete.levels.map((row) => row.map((l) => (l === null ? null : 7 - l))) };
    const drawn = cells(heatmap(document, forged));
    for (const el of drawn) {
      const level = forged.levels[el.dataset.row][el.dataset.col];
      expect(el.dataset.level ?? null).toBe(level === null ? null : String(level));
    }
    const first = drawn.find((el) => el.dataset.row === "1" && el.dataset.col === "0");
    const probe = document.createElement("div");
    probe.style.background = levelColour(forged.levels[1][0], 8);
    expect(first.style.background).toBe(probe.style.background);
  });

  it("a partial grid shows measured columns coloured and the rest pending", () => {
    const drawn = cells(heatmap(document, partial));
    const done = partial.progress.done;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(partial.columns.length);
    for (const el of drawn) {
      const pending = Number(el.dataset.col) >= done;
      expect(el.classList.contains("cz-wcell-pending")).toBe(pending);
    }
  });

  it("hover text names the tensor, the two checkpoints and the kernel's numbers", () => {
    const info = cellInfo(complete, 1, 0);
    expect(cellText(info)).toBe(
      `hidden.weight, epoch-1 vs epoch-0: relative change ${complete.values[1][0]}, cosine ${complete.cosines[1][0]}`,
    );
    expect(cellText(cellInfo(complete, 0, 0))).toBe("hidden.bias, epoch-1 vs epoch-0: no value (zero at epoch-0)");
    expect(cellText(cellInfo(partial, 1, 7))).toContain("not measured yet");
    expect(cellInfo(complete, 99, 0)).toBe(null);
  });

  it("the legend is the kernel's labels, the top level open-ended when the kernel says it clips", () => {
    const items = [...legend(document, complete).querySelectorAll("li")].map((li) => li.textContent);
    const { labels, levels, clipped } = complete.scale;
    expect(items.length).toBe(levels);
    expect(items[0]).toBe(`${labels[0]}–${labels[1]}`);
    expect(items.at(-1)).toBe(clipped ? `≥ ${labels[levels - 1]}` : `${labels[levels - 1]}–${labels[levels]}`);
  });

  it("the pair: both checkpoints' numbers side by side, the clicked tensor marked", () => {
    const table = pairTable(document, pair, "out.weight");
    const rows = [...table.querySelectorAll('[data-testid="cz-weights-pair-row"]')];
    expect(rows.map((r) => r.dataset.tensor)).toEqual(pair.rows.map((r) => r.tensor));
    const head = [...table.querySelectorAll("thead tr:first-child th")].map((t) => t.textContent);
    expect(head).toEqual(["", pair.a.checkpoint, pair.b.checkpoint, "Change"]);
    expect(rows.find((r) => r.classList.contains("cz-selected")).dataset.tensor).toBe("out.weight");
  });

  it("names from the kernel are text, never markup", () => {
    const hostile = structuredClone(complete);
    hostile.rows[0].label = '<img src=x onerror="alert(1)">';
    hostile.groups[0].name = "<b>x</b>";
    const root = document.createElement("div");
    root.append(...renderWeights(document, { grid: hostile }));
    expect(root.querySelector("img, b")).toBe(null);
    expect(root.textContent).toContain("<b>x</b>");
  });
});

describe("the Weights tab in the browser", () => {
  function openDetail() {
    const model = new FakeModel(baseState());
    const el = document.body.appendChild(document.createElement("div"));
    const view = new ZooView(model, el);
    const detail = {
      ...DETAIL,
      duplicates: [{ checkpoint: "epoch-1", same_as: "final", text: "epoch-1 is identical to final (same file)" }],
      num_duplicates: 1,
    };
    detail.checkpoints = DETAIL.checkpoints.map((c) => (c.name === "epoch-1" ? { ...c, identical_to: "final" } : c));
    model.answer({ selected: "digits-mlp@final", detail, code: "x = 1\n", code_key: "digits-mlp@final#" });
    return { model, el, view };
  }
  const click = (el, testid) => el.querySelector(`[data-testid="${testid}"]`).click();
  const kernelSays = (model, msg) => model.emit("msg:custom", msg);

  it("the overview flags checkpoints the kernel found identical", () => {
    const { el } = openDetail();
    expect(el.querySelector('[data-testid="cz-duplicates"]').textContent).toContain(
      "epoch-1 is identical to final (same file)",
    );
    expect(el.querySelector('[data-testid="cz-identical"]').textContent).toBe("= final");
  });

  it("asks for the grid, draws only the answer to its request, stops and pairs through the protocol", () => {
    const { model, el } = openDetail();
    click(el, "cz-tab-weights");
    const asked = model.sent.at(-1);
    expect(model.requests().at(-1)).toEqual({ request: "weights", against: "previous" });
    kernelSays(model, { event: "weights-data", seq: asked.seq + 5, data: complete }); // not its request
    expect(cells(el).length).toBe(0);
    kernelSays(model, { event: "weights-data", seq: asked.seq, data: partial });
    expect(cells(el).length).toBe(partial.rows.length * partial.columns.length);
    click(el, "cz-weights-stop");
    expect(model.requests().at(-1)).toEqual({ request: "weights-stop" });
    kernelSays(model, { event: "weights-data", seq: asked.seq, data: complete });
    expect(el.querySelector('[data-testid="cz-weights-stop"]')).toBe(null);
    expect(el.querySelector('[data-testid="cz-weights-progress"]').textContent).toContain("8 of 8");

    const target = cells(el).find((c) => c.dataset.row === "3" && c.dataset.col === "1");
    target.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(el.querySelector('[data-testid="cz-weights-readout"]').textContent).toContain("out.weight, epoch-2");
    target.click();
    const pairAsk = model.sent.at(-1);
    // the page names the column; the kernel picks its reference
    expect(model.requests().at(-1)).toEqual({ request: "weights-pair", checkpoint: "epoch-2" });
    kernelSays(model, { event: "weights-pair", seq: pairAsk.seq, data: pair });
    const box = el.querySelector('[data-testid="cz-weights-pair"]');
    expect(box.textContent).toContain(`${pair.a.checkpoint} → ${pair.b.checkpoint}`);
    expect(box.querySelector(".cz-selected").dataset.tensor).toBe("out.weight");

    click(el, "cz-weights-against-start");
    expect(model.requests().at(-1)).toEqual({ request: "weights", against: "start" });
    for (const msg of model.sent) {
      expect(Object.keys(CONTRACT.requests)).toContain(msg.request);
      for (const f of Object.keys(msg).filter((k) => k !== "request" && k !== "seq"))
        expect(CONTRACT.requests[msg.request]).toContain(f);
    }
    expect(model.saved).toEqual([]); // nothing written to the kernel's state
  });

  it("an error from the kernel is one line; back on the overview the checkpoints show again", () => {
    const { model, el } = openDetail();
    click(el, "cz-tab-weights");
    kernelSays(model, { event: "weights-data", seq: model.sent.at(-1).seq, error: "digits-mlp: no safetensors" });
    expect(el.querySelector('[data-testid="cz-weights-error"]').textContent).toBe("digits-mlp: no safetensors");
    click(el, "cz-tab-overview");
    expect(el.querySelector('[data-testid="cz-weights"]')).toBe(null);
    expect(el.querySelector('[data-testid="cz-checkpoints"]')).not.toBe(null);
  });
});
