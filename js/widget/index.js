// anywidget entry point for ZooBrowser and CompareView (bundled to ckptzoo_widgets/static/widget.js).
import { ZooView } from "./view.js";
import { CompareView } from "./views/compare.js";
import { echoValue } from "./host.js";

function render({ model, el }) {
  // cz.compare() reuses this bundle; its model says so with `_view`.
  if (model.get("_view") === "compare") {
    const chart = new CompareView(model, el);
    return () => chart.destroy();
  }
  const view = new ZooView(model, el);
  const stopEcho = echoValue(model); // marimo: re-runs the cells that read browser.value (host.js)
  return () => {
    stopEcho();
    view.destroy();
  };
}

export default { render };
