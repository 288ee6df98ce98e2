// Keyboard-wedge scanners type a code at machine speed and end with Enter.
// We listen on the whole document (capture phase), whatever has focus, and
// tell a scan from a person typing by the gaps between keys. With a Chinese
// input method active the keys arrive as "Process" (isComposing): the
// character is then read from the physical key (event.code), so the IME
// cannot swallow the scan; the burst's keystrokes are kept out of fields.

// Scanners send a key every few ms; people rarely keep under 100 ms a key
// for 8 keys. A burst counts only if `accepts` it (an ID, label URL or lot
// code), so fast typing of anything else into a field is never taken away.
const MAX_GAP_MS = 100;
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

export function listenForWedge(onScan, accepts = () => true, doc = document) {
  let buffer = "";
  let last = 0;
  let target = null;
  let before = null;

  doc.addEventListener(
    "keydown",
    (event) => {
      const now = event.timeStamp || performance.now();
      const gap = now - last;
      if (event.key === "Enter" || event.code === "Enter" || event.code === "NumpadEnter") {
        const burst = buffer;
        buffer = "";
        if (burst.length >= MIN_LENGTH && gap <= MAX_GAP_MS * 2 && accepts(burst)) {
          event.preventDefault();
          event.stopPropagation();
          // The burst landed in a field as it was typed: put the field back.
          if (target && before !== null && "value" in target) target.value = before;
          onScan(burst, "wedge");
        }
        target = null;
        before = null;
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const char = charOf(event);
      if (char === null) return;
      if (gap > MAX_GAP_MS) {
        buffer = "";
        target = doc.activeElement;
        before = target && "value" in target ? target.value : null;
      }
      buffer += char;
      last = now;
      if (event.isComposing || event.key === "Process") event.preventDefault();
    },
    true,
  );
}
