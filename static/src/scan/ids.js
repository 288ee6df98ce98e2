// Device IDs as traceability/labels/ids.py defines them: 13 Crockford base32
// symbols and a mod-37 check symbol. Checked here as the user types, so a
// typo is caught on the handheld, before anything is queued.

const DATA = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK = DATA + "*~$=U";
export const ID_LENGTH = 14;
const LOOKALIKES = { O: "0", I: "1", L: "1" };

/** Canonical ID of a label URL (…/d/ID) or a typed/scanned ID: {id} or {error, reason}. */
export function parseId(raw) {
  let text = String(raw ?? "").normalize("NFKC").trim();
  if (!text) return { reason: "empty" };
  if (text.includes("/")) {
    const path = text.includes("://") ? safePath(text) : text.split(/[?#]/)[0];
    const parts = path.replace(/\/+$/, "").split("/");
    if (parts.length < 2 || parts[parts.length - 2].toLowerCase() !== "d") {
      return { reason: "not_a_device_url" };
    }
    text = decodeURIComponent(parts[parts.length - 1]);
  }
  const candidate = text
    .replace(/[\s\-‐‑‒–—―−_]+/g, "")
    .toUpperCase()
    .replace(/[OIL]/g, (c) => LOOKALIKES[c]);
  for (const c of candidate) if (!CHECK.includes(c)) return { reason: "invalid_character", char: c };
  if (candidate.length < ID_LENGTH) return { reason: "too_short", length: candidate.length };
  if (candidate.length > ID_LENGTH) return { reason: "too_long", length: candidate.length };
  const data = candidate.slice(0, -1);
  for (const c of data) if (!DATA.includes(c)) return { reason: "invalid_character", char: c };
  if (checkSymbol(data) !== candidate[ID_LENGTH - 1]) return { reason: "check_character_mismatch" };
  return { id: candidate };
}

function safePath(text) {
  try {
    return new URL(text).pathname;
  } catch {
    return text;
  }
}

export function checkSymbol(data) {
  // BigInt: 13 symbols are 65 bits, more than a double holds exactly.
  let value = 0n;
  for (const c of data) value = value * 32n + BigInt(DATA.indexOf(c));
  return CHECK[Number(value % 37n)];
}

/** 7KQ2-M9XD-4TZP-AB: how people read an ID off a screen. */
export function displayId(id) {
  return `${id.slice(0, 4)}-${id.slice(4, 8)}-${id.slice(8, 12)}-${id.slice(12)}`;
}

/**
 * A lot code, {plant}-{fraction}-{number} (traceability/lots/models.py lot_code),
 * read in any case: {code} in the canonical case (the plant's code upper, the
 * fraction's lower, as the server hashed it) or {reason}. Scanners and phone
 * keyboards change the case; the code is the same.
 */
export function parseLot(raw) {
  const text = String(raw ?? "").normalize("NFKC").trim().replace(/[‐‑‒–—―−]/g, "-");
  if (!text) return { reason: "empty" };
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)-([A-Za-z_]+)-(\d{5})$/.exec(text);
  if (!m) return { reason: "not_a_lot_code" };
  return { code: `${m[1].toUpperCase()}-${m[2].toLowerCase()}-${m[3]}` };
}

/** Whether the text is a lot code in any case. */
export function looksLikeLot(raw) {
  return Boolean(parseLot(raw).code);
}

/** GS1 check digit of an EAN-8/UPC-A/EAN-13/GTIN-14: a manufacturer's barcode, not a label. */
export function isProductBarcode(raw) {
  const digits = String(raw ?? "").trim();
  if (!/^(\d{8}|\d{12,14})$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 2, w = 3; i >= 0; i -= 1, w = 4 - w) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}
