// @vitest-environment jsdom
// The kernel marks a checkpoint whose pickle scanned unsafe or unknown (`pickle_warning`);
// the row shows one "unsafe" badge with the reason as plain text.
import { describe, it, expect, afterEach } from "vitest";
import { ZooView } from "../view.js";
import { FakeModel, baseState, DETAIL } from "./fake-model.js";

afterEach(() => document.body.replaceChildren());

describe("unsafe pickle badge", () => {
  it("marks only the flagged checkpoint, and its reason stays text", () => {
    const el = document.createElement("div");
    document.body.appendChild(el);
    const model = new FakeModel(baseState());
    new ZooView(model, el);
    const reason = 'model.pt: pickle imports os.system<img src=x onerror="window.pwned=1"> when loaded';
    const checkpoints = DETAIL.checkpoints.map((c, i) => ({ ...c, pickle_warning: i === 0 ? reason : null }));
    model.answer({ selected: "digits-mlp@final", detail: { ...DETAIL, checkpoints }, code_key: "digits-mlp@final#" });
    const badges = Array.from(el.querySelectorAll('[data-testid="cz-unsafe"]'));
    expect(badges.length).toBe(1);
    expect(badges[0].textContent).toBe("unsafe");
    expect(badges[0].getAttribute("title")).toBe(reason);
    expect(badges[0].closest('[data-testid="cz-checkpoint"]').getAttribute("data-checkpoint")).toBe(
      checkpoints[0].name,
    );
    expect(el.querySelector("img")).toBeNull();
    expect(window.pwned).toBeUndefined();
  });
});
