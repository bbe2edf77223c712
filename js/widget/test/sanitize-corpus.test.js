// @vitest-environment jsdom
// The browser's own layer on its own: every hostile card of the shared corpus
// (tests/hostile/cards/payloads.json), raw, through DOMPurify as the view uses it.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { sanitizeToFragment } from "../sanitize.js";

// vitest runs from js/ (npm test)
const corpus = JSON.parse(readFileSync(resolve(process.cwd(), "../tests/hostile/cards/payloads.json"), "utf8"));
const BASE = "http://127.0.0.1:9/hostile";
const SAFE_HREF = /^(https?:|mailto:|#)/i;
const BAD_TAGS =
  "script,style,iframe,frame,object,embed,form,input,button,textarea,select,link,meta,base,svg,math,img,template,audio,video,source,dialog,portal,noscript";

describe("hostile card corpus through DOMPurify", () => {
  it("has at least 60 payloads", () => {
    expect(corpus.payloads.length).toBeGreaterThanOrEqual(60);
  });
  for (const p of corpus.payloads) {
    it(`${p.id} ${p.name}`, () => {
      const div = document.createElement("div");
      div.appendChild(sanitizeToFragment(p.card.replaceAll("{BASE}", BASE), window));
      expect(div.querySelector(BAD_TAGS)).toBeNull();
      for (const el of div.querySelectorAll("*")) {
        for (const attr of el.attributes) {
          expect(attr.name).not.toMatch(/^(on|data-|style$|src|srcset|action|formaction|ping|xlink)/i);
        }
      }
      for (const a of div.querySelectorAll("a[href]")) expect(a.getAttribute("href")).toMatch(SAFE_HREF);
    });
  }
});
