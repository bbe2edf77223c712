// Python syntax highlighting for the code box.
//
// The parser is @lezer/python, the grammar JupyterLab's own CodeMirror 6 uses
// for Python cells, bundled here because an anywidget cannot reach the page's
// CodeMirror instance; the colours are JupyterLab's editor variables
// (--jp-mirror-editor-*), so the box looks like a cell in every theme.
//
// Safety: the code is never parsed as HTML. Each token becomes a text node
// (inside a <span> with a fixed class), so textContent is exactly the code,
// for Copy and Insert, and no value from an index can become markup.
import { parser } from "@lezer/python";
import { highlightCode, tagHighlighter, tags as t } from "@lezer/highlight";

// Longer code is shown plain: highlighting is a nicety, not worth a slow page.
export const MAX_HIGHLIGHT = 200_000;

// lezer tags -> our classes (widget/chart.css maps them to JupyterLab's colours).
export const highlighter = tagHighlighter([
  {
    tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword],
    class: "cz-tok-keyword",
  },
  { tag: [t.bool, t.null, t.atom, t.self], class: "cz-tok-atom" },
  { tag: t.number, class: "cz-tok-number" },
  { tag: [t.special(t.string), t.escape, t.regexp], class: "cz-tok-string2" },
  { tag: [t.string, t.docString], class: "cz-tok-string" },
  { tag: t.comment, class: "cz-tok-comment" },
  { tag: [t.definition(t.variableName), t.function(t.definition(t.variableName))], class: "cz-tok-def" },
  { tag: [t.className, t.definition(t.className)], class: "cz-tok-def" },
  { tag: t.function(t.variableName), class: "cz-tok-builtin" },
  { tag: t.propertyName, class: "cz-tok-property" },
  { tag: t.variableName, class: "cz-tok-variable" },
  { tag: t.operator, class: "cz-tok-operator" },
  { tag: [t.punctuation, t.bracket, t.separator], class: "cz-tok-punctuation" },
  { tag: t.meta, class: "cz-tok-meta" },
]);

/** Fill `target` with `code`, highlighted as Python: text nodes and classed spans only. */
export function highlightPython(doc, target, code) {
  const text = typeof code === "string" ? code : "";
  target.replaceChildren();
  if (!text || text.length > MAX_HIGHLIGHT) {
    target.textContent = text;
    return target;
  }
  let tree;
  try {
    tree = parser.parse(text);
  } catch (_) {
    target.textContent = text; // the parser recovers from errors; this is only a guard
    return target;
  }
  highlightCode(
    text,
    tree,
    highlighter,
    (piece, classes) => {
      if (!classes) {
        target.appendChild(doc.createTextNode(piece));
        return;
      }
      const span = doc.createElement("span");
      span.className = classes;
      span.textContent = piece;
      target.appendChild(span);
    },
    () => target.appendChild(doc.createTextNode("\n")),
  );
  return target;
}

/** A <code> element holding `code`, highlighted (what the code box shows). */
export function highlightedCode(doc, code) {
  const el = doc.createElement("code");
  el.className = "cz-highlighted language-python";
  return highlightPython(doc, el, code);
}
