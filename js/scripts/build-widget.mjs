// Bundle the anywidget front end (js/widget/index.js) into one ES module that
// the Python package serves as `_esm`: ckptzoo_widgets/static/widget.js.
// A stylesheet js/widget/widget.css, when present, becomes static/widget.css.
//
//   node scripts/build-widget.mjs            production build (minified)
//   node scripts/build-widget.mjs --dev      readable output with inline source map
import { build } from "esbuild";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const jsRoot = join(here, "..");
const entry = join(jsRoot, "widget", "index.js");
const css = join(jsRoot, "widget", "widget.css");
const outDir = join(jsRoot, "..", "ckptzoo_widgets", "static");
const dev = process.argv.includes("--dev");

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

if (!(await exists(entry))) {
  console.error(`build-widget: missing entry point ${entry}`);
  process.exit(1);
}

await mkdir(outDir, { recursive: true });

await build({
  entryPoints: [entry],
  outfile: join(outDir, "widget.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: !dev,
  sourcemap: dev ? "inline" : false,
  legalComments: "eof",
  logLevel: "info",
});

const cssOut = join(outDir, "widget.css");
if (await exists(css)) {
  await build({
    entryPoints: [css],
    outfile: cssOut,
    bundle: true,
    minify: !dev,
    logLevel: "info",
  });
} else {
  // No stylesheet in the sources: do not ship a stale one.
  await rm(cssOut, { force: true });
}
