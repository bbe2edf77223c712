// Second sanitising layer for model cards. The kernel already renders the
// markdown with raw HTML off and an allowlist; this runs DOMPurify again in
// the browser before anything reaches the DOM, with a stricter profile.
import createDOMPurify from "dompurify";

const FORBID_TAGS = [
  "script",
  "style",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "form",
  "input",
  "button",
  "textarea",
  "select",
  "option",
  "link",
  "meta",
  "base",
  "svg",
  "math",
  "template",
  "audio",
  "video",
  "source",
  "track",
  "picture",
  "portal",
  "dialog",
];
const FORBID_ATTR = ["style", "class", "id", "name", "srcset", "action", "formaction", "ping", "background"];
const SAFE_HREF = /^(https?:|mailto:|#)/i;
const SAFE_IMG = /^data:image\/(png|gif|jpeg|webp);/i;

let purifier = null;

function getPurifier(win) {
  if (purifier && purifier.__win === win) return purifier;
  const p = createDOMPurify(win);
  p.addHook("afterSanitizeAttributes", (node) => {
    if (!node || !node.tagName) return;
    const tag = node.tagName.toLowerCase();
    // No data-* attribute survives (JupyterLab command linker etc.).
    for (const attr of Array.from(node.attributes || [])) {
      if (/^data-/i.test(attr.name) || /^on/i.test(attr.name)) node.removeAttribute(attr.name);
    }
    if (tag === "a") {
      const href = (node.getAttribute("href") || "").trim();
      if (href && !SAFE_HREF.test(href)) node.removeAttribute("href");
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
    if (tag === "img") {
      // Remote images would leak a request to whoever wrote the card.
      const src = (node.getAttribute("src") || "").trim();
      if (!SAFE_IMG.test(src)) {
        const alt = node.getAttribute("alt") || "";
        const span = node.ownerDocument.createElement("span");
        span.className = "cz-img-removed";
        span.textContent = alt ? `[image: ${alt}]` : "[image]";
        node.replaceWith(span);
      }
    }
  });
  p.__win = win;
  purifier = p;
  return p;
}

/** Sanitise an HTML string; returns a DocumentFragment safe to append. */
export function sanitizeToFragment(html, win = window) {
  const p = getPurifier(win);
  return p.sanitize(String(html ?? ""), {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    SAFE_FOR_TEMPLATES: false,
    RETURN_DOM_FRAGMENT: true,
  });
}

/** Sanitise an HTML string; returns a string (used by tests). */
export function sanitizeHtml(html, win = window) {
  const frag = sanitizeToFragment(html, win);
  const div = win.document.createElement("div");
  div.appendChild(frag);
  return div.innerHTML;
}

/** Replace the children of `el` with the sanitised card. */
export function renderSafeHtml(el, html) {
  const win = (el.ownerDocument && el.ownerDocument.defaultView) || window;
  el.replaceChildren(sanitizeToFragment(html, win));
}
