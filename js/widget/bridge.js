// The cell-insertion protocol (docs/frontend.md, "The labextension"): a bubbling,
// cancelable, composed DOM CustomEvent. The labextension listening on the
// notebook node inserts a code cell below the widget's cell and cancels the
// event. Nobody cancelling means no extension here: the caller shows the
// fallback (code box, copy button, hint).

export const INSERT_EVENT = "ckptzoo:insert-code";

/**
 * Dispatch the insert event from `el`. Returns true when a frontend handled it. `anchor` (the
 * kernel's `insert_anchor`) names this browser: the labextension tags the cells it inserts with
 * it and puts the next one below the last of them, read from the notebook (survives a reload).
 */
export function requestInsert(el, code, anchor = "") {
  const Ev =
    (el.ownerDocument && el.ownerDocument.defaultView && el.ownerDocument.defaultView.CustomEvent) || CustomEvent;
  const ev = new Ev(INSERT_EVENT, {
    bubbles: true,
    cancelable: true,
    composed: true,
    detail: anchor ? { code: String(code), anchor: String(anchor) } : { code: String(code) },
  });
  const notCancelled = el.dispatchEvent(ev);
  return !notCancelled;
}

/** Copy text to the clipboard; falls back to a hidden textarea. Resolves to true on success. */
export async function copyText(text, doc = document) {
  try {
    if (
      doc.defaultView &&
      doc.defaultView.navigator &&
      doc.defaultView.navigator.clipboard &&
      doc.defaultView.isSecureContext
    ) {
      await doc.defaultView.navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) {
    // fall through
  }
  try {
    const ta = doc.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    doc.body.appendChild(ta);
    ta.select();
    const ok = doc.execCommand ? doc.execCommand("copy") : false;
    ta.remove();
    return !!ok;
  } catch (_) {
    return false;
  }
}
