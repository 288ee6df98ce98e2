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

const MEAN_GAP_MS = 80;
const PAUSE_MS = 500;
const MIN_LENGTH = 8; // IDs have 14 symbols, lot codes and label URLs more

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

export function listenForWedge(onScan, accepts = () => true, doc = document) {
  let keys = [];

  doc.addEventListener(
    "keydown",
    (event) => {
      const now = event.timeStamp || performance.now();
      const last = keys[keys.length - 1];
      if (last && now - last.at > PAUSE_MS) keys = [];
      if (event.key === "Enter" || event.code === "Enter" || event.code === "NumpadEnter") {
        const found = keys.length >= MIN_LENGTH ? findScan(keys, accepts) : null;
        keys = [];
        if (!found) return;
        event.preventDefault();
        event.stopPropagation();
        const { target, before } = found.first;
        if (target && before !== null && "value" in target) target.value = before;
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
