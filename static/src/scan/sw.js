// The scanner's service worker, served from /scan/sw.js (scope /scan/).
// It precaches the app shell, the bundles, the catalogues, the API catalogue
// and the barcode decoder's wasm, so the app opens and scans with no network.
// Writes (POST /api/v1/events) are never cached or replayed here: the app's
// IndexedDB queue owns them, with their client event ids.
/* global BUILD_ID, PRECACHE */
const CACHE = `scan-${BUILD_ID}`;
const SHELL = "/scan/";
const NETWORK_FIRST = ["/scan/", "/scan/context.json", "/api/v1/catalog", "/scan/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The shell needs the session: fetched with credentials, and only a
      // real page is kept (never the redirect to /login).
      await cache.addAll(PRECACHE);
      const shell = await fetch(SHELL, { credentials: "same-origin" });
      if (shell.ok && !shell.redirected) await cache.put(SHELL, shell);
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
    event.respondWith(networkFirst(request, SHELL));
  } else if (NETWORK_FIRST.includes(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});
