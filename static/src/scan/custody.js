// The devices this organisation holds or is about to receive (GET /api/v1/custody),
// kept on the handheld with the time they were fetched (issue 19, "check before
// submit, offline too"): offline, a scanned device's state comes from here, so
// a wrong state or an ID the organisation does not hold is stopped on the
// screen, and the screen says how old the list is. Per user, in localStorage.
import { api } from "../common/http.js";

const key = (user) => `scan.custody.${user.username}`;
const EVERY_MS = 60_000;

let memo = null; // {user, list, byId}

export function cached(user) {
  if (memo?.user === user.username) return memo.list;
  try {
    const list = JSON.parse(localStorage.getItem(key(user)) || "null");
    memo = { user: user.username, list, byId: new Map((list?.devices || []).map((d) => [d.qr_id, d])) };
    return list;
  } catch {
    return null;
  }
}

/** The cached device (with the list's fetch time), or null; undefined when no list is kept. */
export function find(user, id) {
  const list = cached(user);
  if (!list) return undefined;
  const device = memo.byId.get(id);
  if (!device) return null;
  const received = device.state === "received";
  return {
    ...device,
    received_weight_kg: received ? device.weight_kg : null,
    collected_weight_kg: received ? null : device.weight_kg,
    events: [],
    fetchedAt: list.fetchedAt,
  };
}

/** Fetched afresh when online, at most once a minute unless `force`. */
export async function refresh(user, force = false) {
  const list = cached(user);
  if (!force && list && Date.now() - list.fetchedAt < EVERY_MS) return list;
  try {
    const response = await api("/api/v1/custody");
    if (!response.ok) return list;
    const body = await response.json();
    const fresh = { fetchedAt: Date.now(), asOf: body.as_of, truncated: body.truncated, devices: body.devices };
    localStorage.setItem(key(user), JSON.stringify(fresh));
    memo = null;
    return cached(user);
  } catch {
    return list;
  }
}
