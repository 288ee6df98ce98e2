// The scanner's service worker, served from /scan/sw.js (scope /scan/).
// It precaches the app shell, the bundles, the catalogues, the API catalogue
// and the barcode decoder's wasm, so the app opens and scans with no network.
// Writes (POST /api/v1/events) are never cached or replayed here: the app's
// IndexedDB queue owns them, with their client event ids.
// After a sign-out (session.js) no page of the previous user is served: a
// sign-out made offline is finished first, and until it can be, /scan/ shows
// the sign-in screen (/scan/sign-in, precached), never the cached app.
/* global BUILD_ID, PRECACHE */
import { finishSignOut, pendingSignOut } from "./session.js";

const CACHE = `scan-${BUILD_ID}`;
const SHELL = "/scan/";
const SIGN_IN = "/scan/sign-in";
const NETWORK_FIRST = ["/scan/", "/scan/context.json", "/api/v1/catalog", "/scan/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The shell needs the session: fetched with credentials, and only a
      // real page is kept (never the redirect to /login).
      await cache.addAll(PRECACHE);
      if (!(await pendingSignOut())) {
        const shell = await fetch(SHELL, { credentials: "same-origin" });
        if (shell.ok && !shell.redirected) await cache.put(SHELL, shell);
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith("scan-") && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && request.method === "GET") await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

/** A page of the app: the network's, else the cached shell — unless a sign-out waits. */
async function navigate(request, url) {
  const cache = await caches.open(CACHE);
  const signingOut = Boolean(await pendingSignOut());
  if (signingOut && !(await finishSignOut())) {
    const signIn = await cache.match(SIGN_IN);
    if (signIn) return signIn;
  }
  const key = url.pathname === SIGN_IN ? SIGN_IN : SHELL;
  try {
    const response = await fetch(request);
    const isShell = url.pathname === "/scan/" || url.pathname === "/scan" || key === SIGN_IN;
    if (response.ok && !response.redirected && isShell) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    // The shell names its user: never served while their sign-out is unfinished.
    const cached = (signingOut && key === SHELL ? null : await cache.match(key)) || (await cache.match(SIGN_IN));
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/scan")) {
    event.respondWith(navigate(request, url));
  } else if (NETWORK_FIRST.includes(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});
