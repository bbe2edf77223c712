// The load code of the selected checkpoint: the library picker, Insert and Copy, the code box,
// and the hint shown where no frontend inserts cells. Reads state, writes DOM; the buttons and
// the picker are handled by the view's delegated listeners (data-action).
import { h } from "../dom.js";
import { highlightedCode } from "../highlight.js";

// Where the kernel named no front end; otherwise it sends the line for its own (widget/front_end.py).
const HINT =
  "This frontend cannot insert cells: copy the code above into a new cell, or run browser.insert() in a cell.";

/** state: {code, ready, libraries, library, selected, fallbackShown, hint}. Returns [nodes, the code box]. */
export function renderCode(doc, { code, ready, libraries, library, selected, fallbackShown, hint }) {
  const out = [
    h(doc, "h3", {}, "Load code ", h(doc, "span", { class: "cz-ref", "data-testid": "cz-ref", text: selected })),
  ];
  const controls = h(doc, "div", { class: "cz-code-controls" });
  if (libraries.length > 1) {
    const sel = h(
      doc,
      "select",
      {
        class: "cz-select",
        "data-testid": "cz-library",
        "data-action": "library",
        "aria-label": "Library for the load code",
      },
      ...libraries.map((l, i) => h(doc, "option", { value: i === 0 ? "" : l, text: i === 0 ? `${l} (default)` : l })),
    );
    sel.value = libraries.includes(library) && library !== libraries[0] ? library : "";
    controls.append(h(doc, "label", { class: "cz-lib-label" }, "Library ", sel));
  }
  const insert = h(doc, "button", {
    type: "button",
    class: "cz-btn cz-primary",
    "data-testid": "cz-insert",
    "data-action": "insert",
    text: "Insert code",
    title: "Put this code in a new cell below",
  });
  insert.disabled = !ready;
  const copy = h(doc, "button", {
    type: "button",
    class: "cz-btn",
    "data-testid": "cz-copy",
    "data-action": "copy",
    text: "Copy",
  });
  copy.disabled = !code;
  controls.append(insert, copy);
  const box = h(
    doc,
    "pre",
    {
      class: `cz-code${ready ? "" : " cz-pending"}`,
      "data-testid": "cz-code",
      "data-state": ready ? "ready" : "pending",
      tabindex: "0", // a long line scrolls: the box takes the focus, with a name for screen readers
      role: "region",
      "aria-label": selected ? `Load code of ${selected}` : "Load code",
    },
    highlightedCode(doc, code), // Python highlighting; text nodes only (highlight.js)
  );
  out.push(controls, box);
  if (fallbackShown)
    out.push(h(doc, "div", { class: "cz-hint", "data-testid": "cz-hint", role: "status", text: hint || HINT }));
  return [out, box];
}

/** Select the text of the code box (the fallback: the user copies it by hand). */
export function selectCode(doc, box) {
  const sel = box && doc.getSelection && doc.getSelection();
  if (!sel) return;
  const range = doc.createRange();
  range.selectNodeContents(box);
  sel.removeAllRanges();
  sel.addRange(range);
}
