// Weights from a dock scale (issue 19, "weight from the scale, not the thumb").
// A scale in keyboard-wedge mode types its reading at machine speed and Enter,
// like a barcode scanner; the wedge listener asks parseScale() first, so a
// reading never counts as a bad barcode read. The formats are data
// (scales.json: pattern, which group holds the status, the value and the
// unit, and which statuses mean stable, motion or overload). Where the browser
// has Web Serial, a scale on a USB/serial port feeds the same parser.
import SCALES from "./scales.json";

const FORMATS = SCALES.formats.map((f) => ({ ...f, regex: new RegExp(f.pattern, "i") }));

/**
 * A scale's line as {status: "stable"|"motion"|"overload", kg (a decimal string,
 * at most 3 decimals) or null, format, raw}, or null when it is no scale's.
 */
export function parseScale(raw, formats = FORMATS) {
  const text = String(raw ?? "").trim();
  for (const format of formats) {
    const m = format.regex.exec(text);
    if (!m) continue;
    const code = (m[format.status] || "").toUpperCase();
    const status = format.stable.includes(code) ? "stable"
      : format.motion.includes(code) ? "motion"
      : format.overload.includes(code) ? "overload" : null;
    if (!status) continue;
    return { status, kg: status === "stable" ? kilograms(m[format.value], m[format.unit]) : null, format: format.name, raw: text };
  }
  return null;
}

function kilograms(value, unit) {
  if (!value) return null;
  const n = Number(value.replace(/\s+/g, ""));
  if (!Number.isFinite(n) || n <= 0) return null;
  const kg = String(unit || "kg").toLowerCase() === "g" ? n / 1000 : n;
  return String(Math.round(kg * 1000) / 1000);
}

/** Whether this browser can read a serial scale (Web Serial: desktop Chromium, not every phone). */
export function hasSerial() {
  return typeof navigator !== "undefined" && "serial" in navigator;
}

/** Ask for a serial port and feed each line it sends to onLine; returns stop(). */
export async function connectSerial(onLine) {
  const port = await navigator.serial.requestPort();
  await port.open({ baudRate: SCALES.serial.baudRate });
  const reader = port.readable.pipeThrough(new TextDecoderStream()).getReader();
  let stopped = false;
  (async () => {
    let buffer = "";
    while (!stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split(/\r?\n|\r/);
      buffer = lines.pop();
      for (const line of lines) if (line.trim()) onLine(line);
    }
  })().catch(() => {});
  return async () => {
    stopped = true;
    await reader.cancel().catch(() => {});
    await port.close().catch(() => {});
  };
}
