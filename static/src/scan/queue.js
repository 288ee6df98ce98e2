// The offline-first queue: every step is stored in IndexedDB with its client
// event id before anything is sent, shown as pending at once, and sent when
// the network allows. The server's per-item result clears it (created,
// duplicate) or flags it (rejected or conflict, with the server's reason). Items belong
// to the user who recorded them and are only ever sent in that user's session.
import { openDB } from "idb";

const DB = "weee-scan";
const STORE = "queue";
const BATCH = 100;

let dbPromise;
function db() {
  dbPromise ??= openDB(DB, 1, {
    upgrade(database) {
      const store = database.createObjectStore(STORE, { keyPath: "id" });
      store.createIndex("created", "created");
    },
  });
  return dbPromise;
}

/** Queue one event; returns the stored item. */
export async function enqueue({ user, step, event, summary }) {
  const item = {
    id: event.id,
    user,
    step,
    event,
    summary,
    status: "pending",
    error: null,
    created: Date.now(),
  };
  await (await db()).put(STORE, item);
  return item;
}

export async function all() {
  return (await db()).getAllFromIndex(STORE, "created");
}

export async function remove(id) {
  await (await db()).delete(STORE, id);
}

export async function update(item) {
  await (await db()).put(STORE, item);
}

/**
 * Send this user's pending items. `post(events)` returns the fetch Response.
 * Returns {sent, rejected, outcome} where outcome is "ok", "offline",
 * "signed_out", "csrf" or "error". Results received are applied even when
 * a later batch fails.
 */
export async function flush(user, post, onResult = () => {}) {
  const pending = (await all()).filter((i) => i.user === user && i.status === "pending");
  let sent = 0;
  let rejected = 0;
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH);
    let response;
    try {
      response = await post(batch.map((i) => i.event));
    } catch {
      return { sent, rejected, outcome: "offline" };
    }
    if (response.status === 401 || response.type === "opaqueredirect") {
      return { sent, rejected, outcome: "signed_out" };
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.status === 403 && body?.error?.code === "csrf_failed") {
      return { sent, rejected, outcome: "csrf" };
    }
    if (!response.ok || !Array.isArray(body?.results)) {
      return { sent, rejected, outcome: response.status >= 500 ? "offline" : "error", body };
    }
    const byId = new Map(batch.map((i) => [i.id, i]));
    for (const result of body.results) {
      const item = byId.get(result.id);
      if (!item) continue;
      // A conflict (the id was used before for other content) was not recorded either.
      if (result.status === "rejected" || result.status === "conflict") {
        item.status = "rejected";
        item.error = result.error;
        await update(item);
        rejected += 1;
      } else {
        await remove(item.id);
        sent += 1;
      }
      onResult(item, result);
    }
  }
  return { sent, rejected, outcome: "ok" };
}
