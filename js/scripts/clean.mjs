// Remove the built front end (the files `npm run build` writes).
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "ckptzoo_widgets");
await rm(join(pkg, "labextension"), { recursive: true, force: true });
for (const name of ["widget.js", "widget.css"]) {
  await rm(join(pkg, "static", name), { force: true });
}
