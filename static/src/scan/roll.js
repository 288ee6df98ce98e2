// The handheld's label roll (SPEC §2.2, issue 19 item 5): device IDs pre-minted
// for its organisation by POST /api/v1/labels while online, kept in IndexedDB,
// so that "no label: mint a new ID" gives a device its ID at once — online or
// off — and the label can be printed before anything is sent. An ID leaves
// the roll when a collection is queued with it; the server refuses an ID
// that is not this organisation's or already on a device, so a roll copied
// to another phone cannot label two devices.
import { api } from "../common/http.js";
import { db } from "./store.js";

const STORE = "roll";
const LABELS = "labels";
/** Topped up when fewer than LOW IDs are left, by a sheet of SHEET. */
export const LOW = 10;
export const SHEET = 25;

export async function count(org) {
  return (await db()).countFromIndex(STORE, "org", org);
}

/** The next ID of the roll for `org`, removed from it; null when the roll is empty. */
export async function take(org) {
  const tx = (await db()).transaction(STORE, "readwrite");
  const cursor = await tx.store.index("org").openCursor(org);
  if (!cursor) {
    await tx.done;
    return null;
  }
  const { qr_id: id } = cursor.value;
  await cursor.delete();
  await tx.done;
  const kept = await (await db()).get(LABELS, id);
  if (kept) await (await db()).put(LABELS, { ...kept, taken: Date.now() });
  return id;
}

/** Fill the roll while online (collectors and plants only); returns how many IDs it holds. */
export async function topUp(user) {
  if (!["collector", "dismantler"].includes(user.kind)) return 0;
  const held = await count(user.org);
  if (held >= LOW) return held;
  await pruneLabels();
  let response;
  try {
    response = await api("/api/v1/labels", { method: "POST", body: { count: SHEET } });
  } catch {
    return held; // offline: the roll as it is
  }
  if (!response.ok) return held;
  const sheet = await response.json();
  const tx = (await db()).transaction(STORE, "readwrite");
  for (const id of sheet.ids || []) tx.store.put({ qr_id: id, org: user.org, sheet: sheet.sheet, added: Date.now() });
  await tx.done;
  await fetchLabels(sheet.ids || []);
  return count(user.org);
}

/** Each ID's QR label (the server's SVG), kept so that it prints with no network. */
async function fetchLabels(ids) {
  for (const id of ids) {
    try {
      const response = await fetch(`/scan/label/${id}.svg`, { credentials: "same-origin" });
      if (response.ok) await (await db()).put(LABELS, { qr_id: id, svg: await response.text() });
    } catch {
      return; // offline again: the label page of the server prints it later
    }
  }
}

/** The stored label (SVG text) of an ID of the roll, or null. */
export async function label(id) {
  return (await (await db()).get(LABELS, id))?.svg ?? null;
}

/** Labels of IDs given out more than KEEP_MS ago are dropped (printed by then, or reprinted online). */
const KEEP_MS = 7 * 24 * 3600 * 1000;

async function pruneLabels() {
  const tx = (await db()).transaction(LABELS, "readwrite");
  let cursor = await tx.store.openCursor();
  while (cursor) {
    if (cursor.value.taken && Date.now() - cursor.value.taken > KEEP_MS) await cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
}
