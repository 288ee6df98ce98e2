// Bundle the front-end with esbuild: `node build.mjs` (the Makefile's `assets` target).
//
// Every src/<app>/main.js becomes dist/<app>/main.js (an ES module bundle with
// its npm dependencies; nothing is fetched from a CDN at run time). The
// handheld app also gets its service worker (dist/scan/sw.js, served from
// /scan/sw.js so that it controls /scan/) and the barcode decoder's wasm,
// which the app serves itself and precaches.
import * as esbuild from "esbuild";
import { copyFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, "src");
const dist = path.join(here, "dist");
const require = createRequire(import.meta.url);

async function exists(file) {
  return stat(file).then(() => true, () => false);
}

async function entries() {
  const found = {};
  for (const name of await readdir(src)) {
    for (const entry of ["main", "sw"]) {
      const file = path.join(src, name, `${entry}.js`);
      if (await exists(file)) found[`${name}/${entry}`] = file;
    }
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
  format: "esm",
  target: ["chrome90", "safari15", "firefox100"],
  minify: process.env.NODE_ENV !== "development",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});

// The ZXing reader's wasm: served from /static/dist/scan/, located by the
// app's `locateFile` (never the package's default jsDelivr URL).
await mkdir(path.join(dist, "scan"), { recursive: true });
const wasm = require.resolve("zxing-wasm/reader/zxing_reader.wasm");
await copyFile(wasm, path.join(dist, "scan", "zxing_reader.wasm"));

for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith(".map")) console.log(`${file}  ${(info.bytes / 1024).toFixed(1)} KB`);
}
