// anywidget entry point for ZooBrowser and CompareView (bundled to ckptzoo_widgets/static/widget.js).
import { ZooView } from "./view.js";
import { CompareView } from "./views/compare.js";

function render({ model, el }) {
  // cz.compare() reuses this bundle; its model says so with `_view`.
  const view = model.get("_view") === "compare" ? new CompareView(model, el) : new ZooView(model, el);
  return () => view.destroy();
}

export default { render };
