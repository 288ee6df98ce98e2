// What the receive screen keeps on the handheld (issue 19, "receiving against
// the shipment"): the pallet being received — its shipment, each scanned
// device with its weight and whether it was recorded, the decisions at close —
// survives a reload, Back and a dead network; and the list of what is on its
// way to this plant (GET /api/v1/shipments/incoming) with the time it was
// fetched, so the pallet is checked against its shipment offline too.
// Both per user, in localStorage (small, and read before the first paint).
import { api } from "../common/http.js";

const palletKey = (user) => `scan.pallet.${user.username}`;
const incomingKey = (user) => `scan.incoming.${user.username}`;

export function emptyPallet() {
  return { shipment: null, rows: [], closing: false, decisions: {}, started: new Date().toISOString() };
}

export function loadPallet(user) {
  try {
    const saved = JSON.parse(localStorage.getItem(palletKey(user)) || "null");
    return saved && Array.isArray(saved.rows) ? saved : emptyPallet();
  } catch {
    return emptyPallet();
  }
}

export function savePallet(user, pallet) {
  localStorage.setItem(palletKey(user), JSON.stringify(pallet));
}

export function dropPallet(user) {
  localStorage.removeItem(palletKey(user));
}

/** The cached list: {fetchedAt (ms), shipments: [...]} or null. */
export function cachedIncoming(user) {
  try {
    return JSON.parse(localStorage.getItem(incomingKey(user)) || "null");
  } catch {
    return null;
  }
}

/** Fetch what is on its way (when online) and cache it; the cache otherwise. */
export async function refreshIncoming(user) {
  try {
    const response = await api("/api/v1/shipments/incoming");
    if (response.ok) {
      const body = await response.json();
      const list = { fetchedAt: Date.now(), asOf: body.as_of, shipments: body.shipments };
      localStorage.setItem(incomingKey(user), JSON.stringify(list));
      return list;
    }
  } catch {
    // offline: the cached list, with its age shown
  }
  return cachedIncoming(user);
}

/** The shipment a device is travelling under, in `list`. */
export function shipmentOf(list, id) {
  return (list?.shipments || []).find((s) => s.devices.some((d) => d.qr_id === id)) || null;
}

/** A shipment as the pallet keeps it: what it is, and its devices' IDs. */
export function palletShipment(shipment) {
  const { devices, ...rest } = shipment;
  return { ...rest, devices: devices.map((d) => d.qr_id) };
}

/**
 * The over/short of a pallet at close: short = on the shipment, never
 * recorded here; over = scanned here, not on the shipment; unweighed = on
 * the shipment, scanned, not yet recorded (to weigh before closing).
 */
export function overShort(pallet) {
  if (!pallet.shipment) {
    return { short: [], over: [], unweighed: pallet.rows.filter((r) => !r.recorded).map((r) => r.id) };
  }
  const onShipment = new Set(pallet.shipment?.devices || []);
  const rows = new Map(pallet.rows.map((r) => [r.id, r]));
  const short = [...onShipment].filter((id) => !rows.has(id));
  const over = pallet.rows.filter((r) => !onShipment.has(r.id) && !r.recorded).map((r) => r.id);
  const unweighed = pallet.rows.filter((r) => onShipment.has(r.id) && !r.recorded).map((r) => r.id);
  return { short, over, unweighed };
}
