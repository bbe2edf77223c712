// @vitest-environment jsdom
import { describe, it, expect } from "vitest";
import { highlightPython, highlightedCode, MAX_HIGHLIGHT } from "../highlight.js";

const CODE = `import ckptzoo_widgets as cz

# the checkpoint, verified against its sha256
mlp_epoch_2 = cz.load("digits-mlp@epoch-2")
x = [1, 2.5, None, True]
def f(a):
    return a
`;

const spans = (el, cls) => [...el.querySelectorAll(`span.${cls}`)].map((s) => s.textContent);

describe("highlightPython", () => {
  it("keeps the code exactly as text and colours keywords, strings, comments, numbers", () => {
    const el = highlightedCode(document, CODE);
    expect(el.tagName).toBe("CODE");
    expect(el.textContent).toBe(CODE);
    expect(spans(el, "cz-tok-keyword")).toEqual(expect.arrayContaining(["import", "as", "def", "return"]));
    expect(spans(el, "cz-tok-string")).toEqual(['"digits-mlp@epoch-2"']);
    expect(spans(el, "cz-tok-comment")).toEqual(["# the checkpoint, verified against its sha256"]);
    expect(spans(el, "cz-tok-number")).toEqual(["1", "2.5"]);
    expect(spans(el, "cz-tok-atom")).toEqual(["None", "True"]);
    expect(spans(el, "cz-tok-def")).toEqual(["f"]);
    expect(spans(el, "cz-tok-variable")).toEqual(expect.arrayContaining(["mlp_epoch_2", "cz", "x", "a"]));
    expect(spans(el, "cz-tok-property")).toEqual(["load"]);
  });

  it("never turns values from an index into markup", () => {
    const hostile = `model = cz.load("<img src=x onerror=alert(1)>@</code><script>alert(2)</script>")\n# <b>bold</b>\n`;
    const el = highlightedCode(document, hostile);
    expect(el.querySelector("img, script, b")).toBeNull();
    expect([...el.querySelectorAll("*")].every((n) => n.tagName === "SPAN" && n.attributes.length === 1)).toBe(true);
    expect(el.textContent).toBe(hostile);
  });

  it("shows broken, empty and very long code plain", () => {
    const broken = 'x = cz.load("unterminated\n)))) ::';
    expect(highlightedCode(document, broken).textContent).toBe(broken);
    expect(highlightedCode(document, "").textContent).toBe("");
    expect(highlightedCode(document, undefined).textContent).toBe("");
    const long = "x = 1\n".repeat(Math.ceil(MAX_HIGHLIGHT / 6) + 1);
    const el = highlightPython(document, document.createElement("code"), long);
    expect(el.children.length).toBe(0);
    expect(el.textContent).toBe(long);
  });
});
