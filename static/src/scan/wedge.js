// Keyboard-wedge scanners type a code at machine speed and end with Enter.
// We listen on the whole document (capture phase), whatever has focus, and
// tell a scan from a person by speed and content: the keys before Enter must
// form a device ID, a label URL or a lot code (`accepts`), typed at no more
// than MEAN_GAP_MS a key on average — a scanner sends one every few ms, a
// person needs well over 100 ms for each of 14 random symbols. A pause of
// PAUSE_MS starts afresh. Fast typing of anything else is never taken away.
//
// With a Chinese input method active the keys arrive as "Process"
// (isComposing): the character is then read from the physical key
// (event.code), so the IME cannot swallow the scan. Keys of a scan that
// landed in a field are taken out of it again.
//
// A burst — at least MIN_BURST keys each within BURST_GAP_MS of the last (one
// stall of a busy phone allowed), and Enter — is a scanner's read whatever it says (issue 19, item 1): a read that
// is not a device ID or lot code (a product's EAN-13, a damaged label, a
// wrong check character) is still taken out of the field it landed in, its
// Enter never submits a form, and onScan(text, "wedge") is told so that it
// can give the error feedback naming what was read.
//
// A dock scale in keyboard-wedge mode types its reading the same way
// (`ST,GS,+0022.50kg`): a burst that `isScale` takes is a weight, told to
// onScale(text) before any check of barcodes, so it is never a bad read and
// never lands in the field that had focus.

const MEAN_GAP_MS = 80;
const PAUSE_MS = 500;
const MIN_LENGTH = 8; // IDs have 14 symbols, lot codes and label URLs more
const BURST_GAP_MS = 60; // a person's keys come 100–300 ms apart; a scanner's a few ms
const STALL_MS = 400; // a busy phone's pause inside a burst
const MIN_BURST = 6; // an EAN-8 has 8; fewer fast keys may be a person's roll-over
const MIN_SCALE_BURST = 3;

const CODE_CHARS = {
  Minus: "-", Slash: "/", Period: ".", Semicolon: ":", Equal: "=", Backquote: "~",
  Digit4: "$", Digit8: "*",
};

function charOf(event) {
  if (event.key && event.key.length === 1 && !event.isComposing) return event.key;
  const code = event.code || "";
  if (/^Key[A-Z]$/.test(code)) return code.slice(3);
  if (/^Digit\d$/.test(code)) return event.shiftKey && CODE_CHARS[code] ? CODE_CHARS[code] : code.slice(5);
  if (/^Numpad\d$/.test(code)) return code.slice(6);
  return CODE_CHARS[code] || null;
}

/** The longest recent run of keys that is fast enough and accepted, or null. */
export function findScan(keys, accepts) {
  for (let start = 0; start <= keys.length - MIN_LENGTH; start += 1) {
    const run = keys.slice(start);
    const text = run.map((k) => k.char).join("");
    const mean = (run[run.length - 1].at - run[0].at) / Math.max(1, run.length - 1);
    if (mean <= MEAN_GAP_MS && accepts(text)) return { text, first: run[0] };
  }
  return null;
}

/**
 * The trailing run of a scanner's keys before Enter: keys within BURST_GAP_MS of
 * the one before; a longer gap (up to STALL_MS) only inside a fast run — a busy
 * phone may stall once mid-burst — never before a person's slow keys, which stay
 * where they were typed.
 */
export function trailingBurst(keys, enterAt, minBurst = MIN_BURST) {
  if (!keys.length || enterAt - keys[keys.length - 1].at > STALL_MS) return null;
  const gap = (i) => keys[i].at - keys[i - 1].at;
  let start = keys.length - 1;
  while (start > 0) {
    const g = gap(start);
    const fastBefore = start > 1 && gap(start - 1) <= BURST_GAP_MS;
    if (g <= BURST_GAP_MS || (g <= STALL_MS && fastBefore)) start -= 1;
    else break;
  }
  const run = keys.slice(start);
  const mean = (run[run.length - 1].at - run[0].at) / Math.max(1, run.length - 1);
  if (run.length < minBurst || mean > BURST_GAP_MS) return null;
  return { text: run.map((k) => k.char).join(""), first: run[0] };
}

function restore({ target, before }) {
  if (!target || before === null || !("value" in target) || target.value === before) return;
  target.value = before;
  target.dispatchEvent(new Event("input", { bubbles: true }));
}

export function listenForWedge(onScan, accepts = () => true, doc = document, { isScale = () => false, onScale = () => {} } = {}) {
  let keys = [];

  doc.addEventListener(
    "keydown",
    (event) => {
      const now = event.timeStamp || performance.now();
      const last = keys[keys.length - 1];
      if (last && now - last.at > PAUSE_MS) keys = [];
      if (event.key === "Enter" || event.code === "Enter" || event.code === "NumpadEnter") {
        // A scale's line may be short (MT-SICS overload: "S +"); no person types it in 3 fast keys.
        const weighed = trailingBurst(keys, now, MIN_SCALE_BURST);
        if (weighed && isScale(weighed.text)) {
          keys = [];
          event.preventDefault();
          event.stopPropagation();
          restore(weighed.first);
          onScale(weighed.text);
          return;
        }
        const burst = trailingBurst(keys, now);
        const found = (burst && accepts(burst.text) ? burst : null)
          || (keys.length >= MIN_LENGTH ? findScan(keys, accepts) : null)
          || burst;
        keys = [];
        if (!found) return;
        event.preventDefault();
        event.stopPropagation();
        restore(found.first);
        onScan(found.text, "wedge");
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const char = charOf(event);
      if (char === null) return;
      const target = doc.activeElement;
      keys.push({ char, at: now, target, before: target && "value" in target ? target.value : null });
      if (keys.length > 256) keys = keys.slice(-128);
      if (event.isComposing || event.key === "Process") event.preventDefault();
    },
    true,
  );
}
