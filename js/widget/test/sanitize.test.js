// @vitest-environment jsdom
import { describe, it, expect, vi } from "vitest";
import { sanitizeHtml, renderSafeHtml } from "../sanitize.js";

const HOSTILE = `
<h1>Totally normal model</h1>
<script>window.__pwned = 1; alert("script")</script>
<img src="http://127.0.0.1:9/evil.png" onerror="window.__pwned = 2">
<img src="x" onerror="alert('img')">
<a href="javascript:alert('link')">click me</a>
<a href="JaVaScRiPt:alert(1)">shouting</a>
<a href="https://example.org/ok">fine link</a>
<iframe src="http://127.0.0.1:9/frame"></iframe>
<form action="http://127.0.0.1:9/post"><input name="x"><button>send</button></form>
<button data-commandlinker-command="notebook:run-all-cells" data-commandlinker-args="{}">Run all</button>
<div data-commandlinker-command="terminal:create-new">open terminal</div>
<svg><script>alert(3)</script></svg>
<p style="background:url(http://127.0.0.1:9/css)" onclick="alert(4)">styled</p>
<object data="http://127.0.0.1:9/obj"></object>
<embed src="http://127.0.0.1:9/embed">
<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">
<math><mi xlink:href="javascript:alert(5)">m</mi></math>
`;

describe("sanitising a hostile card", () => {
  it("removes scripts, handlers, javascript: links, frames, forms, command linkers and remote images", () => {
    const out = sanitizeHtml(HOSTILE);
    const div = document.createElement("div");
    div.innerHTML = out;
    expect(div.querySelector("script, iframe, form, input, button, object, embed, meta, svg, math, style")).toBeNull();
    expect(div.querySelector("img")).toBeNull();
    expect(div.querySelector("[data-commandlinker-command]")).toBeNull();
    expect(out).not.toMatch(/onerror|onclick|javascript:|style=|commandlinker/i);
    for (const el of div.querySelectorAll("*")) {
      for (const a of el.attributes) expect(a.name.startsWith("on")).toBe(false);
    }
    const links = Array.from(div.querySelectorAll("a"));
    expect(links.filter((a) => a.hasAttribute("href")).map((a) => a.getAttribute("href"))).toEqual([
      "https://example.org/ok",
    ]);
    for (const a of links) expect(a.getAttribute("rel")).toContain("noopener");
    expect(div.textContent).toContain("Totally normal model");
    expect(div.textContent).toContain("[image]");
  });

  it("keeps ordinary markdown output", () => {
    const html =
      "<h2>Usage</h2><p>Some <em>text</em> and <code>code</code>.</p><ul><li>one</li></ul><table><tr><td>1</td></tr></table><pre><code>x = 1</code></pre>";
    const div = document.createElement("div");
    div.innerHTML = sanitizeHtml(html);
    expect(div.querySelector("h2").textContent).toBe("Usage");
    expect(div.querySelector("em")).not.toBeNull();
    expect(div.querySelector("table td").textContent).toBe("1");
    expect(div.querySelector("pre code").textContent).toBe("x = 1");
  });

  it("keeps inline data images, drops remote ones", () => {
    const div = document.createElement("div");
    div.innerHTML = sanitizeHtml(
      '<img src="data:image/png;base64,iVBORw0KGgo=" alt="a"><img src="https://example.org/x.png" alt="remote">',
    );
    expect(div.querySelectorAll("img").length).toBe(1);
    expect(div.textContent).toContain("[image: remote]");
  });

  it("renders into an element without executing anything", () => {
    const alert = vi.fn();
    window.alert = alert;
    const el = document.createElement("div");
    document.body.appendChild(el);
    renderSafeHtml(el, HOSTILE);
    el.querySelectorAll("a").forEach((a) => a.click());
    expect(alert).not.toHaveBeenCalled();
    expect(window.__pwned).toBeUndefined();
    el.remove();
  });

  it("treats escaped text from the kernel as text", () => {
    const div = document.createElement("div");
    div.innerHTML = sanitizeHtml("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    expect(div.querySelector("script")).toBeNull();
    expect(div.textContent).toBe("<script>alert(1)</script>");
  });
});
