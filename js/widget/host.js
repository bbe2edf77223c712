// What the notebook front end needs from the page, as the kernel decided it
// (ckptzoo_widgets/widget/front_end.py, sent in the `front_end` trait).
//
// marimo re-runs the cells that read a widget only when the page writes one of its traits.
// Where the kernel says the front end is `reactive`, the page writes the kernel's own `value`
// back, once per new value: the kernel accepts that echo without applying or re-sending
// anything (ZooBrowser.set_state), and marimo re-runs the cells that read `browser.value`.

/** Echo each new kernel `value` back where the front end is reactive. Returns the unsubscribe. */
export function echoValue(model) {
  let last = JSON.stringify(model.get("value") ?? null);
  const onValue = () => {
    if (!(model.get("front_end") || {}).reactive) return;
    const value = model.get("value");
    const key = JSON.stringify(value ?? null);
    if (key === last) return; // our own echo, or the same value sent again
    last = key;
    model.set("value", value);
    model.save_changes();
  };
  model.on("change:value", onValue);
  return () => model.off("change:value", onValue);
}
