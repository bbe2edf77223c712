// anywidget entry point for ZooBrowser (bundled to ckptzoo_widgets/static/widget.js).
import { ZooView } from "./view.js";

function render({ model, el }) {
  const view = new ZooView(model, el);
  return () => view.destroy();
}

export default { render };
