// Bundle the front-end with esbuild: `node build.mjs` (the Makefile's `assets` target).
//
// Every src/<app>/main.js becomes dist/<app>/main.js (ES modules, with shared
// chunks; npm dependencies bundled: nothing comes from a CDN at run time),
// and src/<app>/style.css becomes dist/<app>/style.css. The handheld app
// also gets the barcode decoder's wasm (served by the app, never the
// package's default CDN URL) and its service worker, dist/scan/sw.js —
// served from /scan/sw.js so it controls /scan/ — built last with the list
// of files to precache and a build id that changes whenever any of them does.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, "src");
const dist = path.join(here, "dist");
const require = createRequire(import.meta.url);
const minify = process.env.NODE_ENV !== "development";

async function exists(file) {
  return stat(file).then(() => true, () => false);
}

async function entries() {
  const found = {};
  for (const name of await readdir(src)) {
    const main = path.join(src, name, "main.js");
    if (await exists(main)) found[`${name}/main`] = main;
    const css = path.join(src, name, "style.css");
    if (await exists(css)) found[`${name}/style`] = css;
  }
  return found;
}

await rm(dist, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: await entries(),
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  chunkNames: "chunks/[name]-[hash]",
  target: ["chrome90", "safari15", "firefox100"],
  minify,
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});

await mkdir(path.join(dist, "scan"), { recursive: true });
const wasm = require.resolve("zxing-wasm/reader/zxing_reader.wasm");
await copyFile(wasm, path.join(dist, "scan", "zxing_reader.wasm"));

// What the scanner needs offline: its bundle and every chunk it imports
// (statically or on first camera use), its CSS, the wasm, both catalogues.
const outputs = result.metafile.outputs;
const toUrl = (file) => `/static/${path.relative(here, path.resolve(here, file)).split(path.sep).join("/")}`;
const needed = new Set();
const visit = (file) => {
  if (needed.has(file) || !outputs[file]) return;
  needed.add(file);
  for (const imported of outputs[file].imports) visit(imported.path);
};
visit("dist/scan/main.js");
if (outputs["dist/scan/style.css"]) needed.add("dist/scan/style.css");
const precache = [
  ...[...needed].map(toUrl),
  "/static/dist/scan/zxing_reader.wasm",
  "/static/dist/i18n/zh-CN.json",
  "/static/dist/i18n/en.json",
  "/static/css/layout.css",
  "/static/icons/scan.svg",
  "/static/icons/scan-192.png",
  "/api/v1/catalog",
  "/scan/manifest.webmanifest",
  "/scan/sign-in",
];
const hash = createHash("sha256");
for (const file of [...needed].sort()) hash.update(await readFile(path.join(here, file)));
hash.update(await readFile(wasm));
for (const file of ["css/layout.css", ...(await readdir(path.join(here, "..", "traceability", "web", "translations", "zh_Hans_CN", "LC_MESSAGES"))).filter((f) => f.endsWith(".po")).map((f) => `../traceability/web/translations/zh_Hans_CN/LC_MESSAGES/${f}`)]) {
  hash.update(await readFile(path.join(here, file)));
}
const buildId = hash.digest("hex").slice(0, 16);

await esbuild.build({
  entryPoints: { "scan/sw": path.join(src, "scan", "sw.js") },
  outdir: dist,
  bundle: true,
  format: "iife",
  target: ["chrome90", "safari15"],
  minify,
  define: { BUILD_ID: JSON.stringify(buildId), PRECACHE: JSON.stringify(precache) },
  logLevel: "warning",
});

for (const [file, info] of Object.entries(outputs)) {
  if (!file.endsWith(".map")) console.log(`${file}  ${(info.bytes / 1024).toFixed(1)} KB`);
}
console.log(`dist/scan/sw.js  build ${buildId}, ${precache.length} files precached`);
