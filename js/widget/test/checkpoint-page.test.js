// @vitest-environment jsdom
// A model with more checkpoints than the kernel sends (hostile zoos, issue 17): the page says how many it shows.
import { describe, it, expect, afterEach } from "vitest";
import { ZooView } from "../view.js";
import { FakeModel, baseState, DETAIL } from "./fake-model.js";

afterEach(() => document.body.replaceChildren());

function open(detail) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const model = new FakeModel(baseState());
  new ZooView(model, el);
  model.answer({ selected: "digits-mlp@final", detail, code: "x = 1\n", code_key: "digits-mlp@final#" });
  return el;
}

const heading = (el) =>
  Array.from(el.querySelectorAll("h3"))
    .map((h) => h.textContent)
    .find((t) => t.startsWith("Checkpoints"));

describe("the checkpoint list's count", () => {
  it("says N of M when the kernel sent a page of a longer list", () => {
    const el = open({ ...DETAIL, num_checkpoints: 20000 });
    expect(heading(el)).toBe(
      `Checkpoints (${DETAIL.checkpoints.length} of 20,000 shown, spread over the run; all: zoo.checkpoints(...))`,
    );
  });
  it("says only N when every checkpoint was sent (or the count is missing)", () => {
    expect(heading(open({ ...DETAIL, num_checkpoints: DETAIL.checkpoints.length }))).toBe(
      `Checkpoints (${DETAIL.checkpoints.length})`,
    );
    const without = { ...DETAIL };
    delete without.num_checkpoints;
    expect(heading(open(without))).toBe(`Checkpoints (${DETAIL.checkpoints.length})`);
  });
});
