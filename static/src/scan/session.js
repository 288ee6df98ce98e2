// Signing out of the handheld, also with no network (SPEC §4.4; issue 15
// finding 7). The session cookie is HttpOnly: only the server can end it.
// So a sign-out is first written down here (with the CSRF token the server
// wants for POST /logout), the user's stored context and cached pages are
// forgotten at once, and the POST goes out now or — offline — before
// anything else once the network is back (the service worker does it before
// any /scan/ page is fetched, the app before it starts). Until then the
// phone shows the sign-in screen, never the previous user's app.
// The user's unsent records stay in the queue, bound to them.
import { db } from "./store.js";

const STORE = "session";
const KEY = "signout";
// The responses the service worker keeps that name the user (the shell with
// its CSRF token and identity, the context with org, role and lots).
const PERSONAL = ["/scan/", "/scan/context.json"];

export async function pendingSignOut() {
  return (await (await db()).get(STORE, KEY)) || null;
}

/** Write the sign-out down and forget what the phone stored for `username`. */
export async function beginSignOut(username, csrf) {
  await (await db()).put(STORE, { username, csrf, at: Date.now() }, KEY);
  if (typeof localStorage !== "undefined") {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("scan.")) localStorage.removeItem(key);
    }
  }
  for (const name of await caches.keys()) {
    if (!name.startsWith("scan-")) continue;
    const cache = await caches.open(name);
    for (const path of PERSONAL) await cache.delete(path);
  }
}

/**
 * Tell the server (POST /logout with the signed-out session's CSRF token).
 * True when no sign-out waits any more; false when the network is down.
 * Any answer ends the wait: a redirect is the sign-out; a refusal means the
 * cookie no longer holds that session (it ended, or someone signed in since).
 */
export async function finishSignOut() {
  const pending = await pendingSignOut();
  if (!pending) return true;
  // A network that answers nothing counts as none: the user is not kept waiting.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 8000);
  try {
    await fetch("/logout", {
      method: "POST",
      body: new URLSearchParams({ csrf_token: pending.csrf }),
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
  await (await db()).delete(STORE, KEY);
  return true;
}
