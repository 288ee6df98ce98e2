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

/** Open the camera into `video`; calls onCode(text) for each QR read; returns stop(). */
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
  let lastAt = 0;
  const tick = async () => {
    if (!running) return;
    try {
      if (video.readyState >= 2) {
        const codes = await detector.detect(video);
        const text = codes[0]?.rawValue;
        // The same label stays in view for a while: report it once.
        if (text && (text !== lastText || Date.now() - lastAt > 3000)) {
          lastText = text;
          lastAt = Date.now();
          onCode(text);
        }
      }
    } catch {
      // a frame that cannot be read: try the next one
    }
    if (running) setTimeout(tick, 150);
  };
  tick();
  return () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
}
