// The offline-first queue: every step is stored in IndexedDB with its client
// event id before anything is sent, shown as pending at once, and sent when
// the network allows. The server's per-item result clears it (created,
// duplicate) or flags it (rejected or conflict, with the server's reason). Items belong
// to the user who recorded them (username and user id, as the server knows
// them) and are only ever sent in that user's session, naming them as
// `recorded_by` so that the server refuses them under anyone else's
// (issue 15 finding 7). Other users' items are held, never dropped.
import { db } from "./store.js";

const STORE = "queue";
const BATCH = 100;

/** Whether `item` was recorded by `user` ({username, id}). Items queued before
 * user ids were kept carry the username only. */
export function recordedBy(item, user) {
  if (!user || item.user !== user.username) return false;
  return item.userId == null || user.id == null || String(item.userId) === String(user.id);
}

/** Queue one event recorded by `user` ({username, id}); returns the stored item. */
export async function enqueue({ user, step, event, summary }) {
  const item = {
    id: event.id,
    user: user.username,
    userId: user.id == null ? null : Number(user.id),
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

function withRecorder(item) {
  const recorder = { username: item.user };
  if (item.userId != null) recorder.user_id = item.userId;
  return { ...item.event, recorded_by: recorder };
}

/**
 * Send the pending items of `user` — the session's user as the server last
 * confirmed it ({username, id}), never the page's idea of it. `post(events)`
 * returns the fetch Response. Returns {sent, rejected, outcome} where outcome
 * is "ok", "offline", "signed_out", "csrf", "other_user" (the server says
 * the session is someone else's: the items stay pending) or "error".
 * Results received are applied even when a later batch fails.
 */
export async function flush(user, post, onResult = () => {}) {
  const pending = (await all()).filter((i) => recordedBy(i, user) && i.status === "pending");
  let sent = 0;
  let rejected = 0;
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH);
    let response;
    try {
      response = await post(batch.map(withRecorder));
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
    let otherUser = false;
    for (const result of body.results) {
      const item = byId.get(result.id);
      if (!item) continue;
      if (result.status === "rejected" && result.error?.code === "recorder_mismatch") {
        otherUser = true; // held for its recorder: neither refused nor dropped
        continue;
      }
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
    if (otherUser) return { sent, rejected, outcome: "other_user" };
  }
  return { sent, rejected, outcome: "ok" };
}
