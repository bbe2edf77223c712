import { describe, expect, it } from "vitest";
import { echoValue } from "../host.js";
import { FakeModel } from "./fake-model.js";
import { renderCode } from "../views/code.js";

const PICK = { ref: "digits-mlp@epoch-2", model: "digits-mlp", checkpoint: "epoch-2", library: "ckptzoo", code: "x" };

describe("echoValue", () => {
  it("writes each new kernel value back once where the front end is reactive (marimo)", () => {
    const model = new FakeModel({ value: {}, front_end: { name: "marimo", reactive: true } });
    echoValue(model);
    model.kernelSet({ value: PICK });
    expect(model.saved).toEqual([{ value: PICK }]);
    model.kernelSet({ value: { ...PICK } }); // the same value again: no second write
    model.kernelSet({ value: { ...PICK, ref: "digits-mlp@epoch-30" } });
    expect(model.saved.map((s) => s.value.ref)).toEqual(["digits-mlp@epoch-2", "digits-mlp@epoch-30"]);
  });

  it("writes nothing elsewhere (Jupyter: the page never writes the kernel's state)", () => {
    const model = new FakeModel({ value: {}, front_end: { name: "jupyter", reactive: false } });
    echoValue(model);
    model.kernelSet({ value: PICK });
    expect(model.saved).toEqual([]);
  });

  it("stops when unsubscribed", () => {
    const model = new FakeModel({ value: {}, front_end: { reactive: true } });
    const stop = echoValue(model);
    stop();
    model.kernelSet({ value: PICK });
    expect(model.saved).toEqual([]);
  });
});

describe("the fallback's hint", () => {
  const state = { code: "x = 1\n", ready: true, libraries: ["ckptzoo"], library: "", selected: "m@c" };
  const hintOf = (extra) => {
    const [nodes] = renderCode(document, { ...state, fallbackShown: true, ...extra });
    return nodes.find((n) => n.dataset && n.dataset.testid === "cz-hint").textContent;
  };

  it("is the line the kernel sent for its front end", () => {
    expect(hintOf({ hint: "marimo: Copy the code into a new cell" })).toBe("marimo: Copy the code into a new cell");
  });

  it("is the generic line when the kernel sent none", () => {
    expect(hintOf({ hint: "" })).toContain("run browser.insert() in a cell");
  });
});
