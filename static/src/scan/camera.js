// Camera scanning with the barcode-detector ponyfill (ZXing compiled to
// WebAssembly). Its wasm is served by this app (/static/dist/scan/) and
// precached by the service worker; the package would otherwise fetch it
// from a CDN.
import { BarcodeDetector, prepareZXingModule } from "barcode-detector/ponyfill";

export const WASM_URL = "/static/dist/scan/zxing_reader.wasm";

prepareZXingModule({
  overrides: {
    locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM_URL : prefix + path),
  },
});

let detector;

/**
 * Open the camera into `video`; calls onCode(text) for each QR read; returns
 * stop(), with stop.torch = {set(on)} when the camera's track has a torch
 * (its capabilities say so), null otherwise.
 *
 * A label that stays in view is reported once: it is reported again only after
 * it has been out of view for 1.5 s, or another label was read (continuous
 * scanning along a pallet must not read one device twice).
 */
export async function startCamera(video, onCode) {
  detector ??= new BarcodeDetector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 1280 } },
    audio: false,
  });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  await video.play();
  let running = true;
  let lastText = "";
  let lastSeen = 0;
  const tick = async () => {
    if (!running) return;
    try {
      if (video.readyState >= 2) {
        const codes = await detector.detect(video);
        const text = codes[0]?.rawValue;
        if (text) {
          const fresh = text !== lastText || Date.now() - lastSeen > 1500;
          lastText = text;
          lastSeen = Date.now();
          if (fresh) onCode(text);
        }
      }
    } catch {
      // a frame that cannot be read: try the next one
    }
    if (running) setTimeout(tick, 150);
  };
  tick();
  const stop = () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  stop.torch = torchOf(stream.getVideoTracks()[0]);
  return stop;
}

/** The track's torch, where its capabilities list one (most phones' back cameras; no laptop's). */
function torchOf(track) {
  const capabilities = track?.getCapabilities?.() || {};
  if (!capabilities.torch) return null;
  return { set: (on) => track.applyConstraints({ advanced: [{ torch: Boolean(on) }] }) };
}
