// The home screen's scan box and the camera's controls (issue 19, "Shift work"):
// a box that takes a device ID or a lot code typed or scanned, a camera button,
// and on the camera layer a continuous mode (it keeps scanning after a read,
// each read confirmed by sound and on the layer) and the torch, shown only
// where the camera's track says it has one.
import { t } from "../common/i18n.js";
import { displayId, parseId, parseLot } from "./ids.js";
import { good, setVolume, volume } from "./feedback.js";
import { cameraIcon, clear, h } from "./ui.js";

/** The home screen's box: Enter or OK hands the text to `take` (checked as any read). */
export function homeScanBox(app, take) {
  const input = h("input", {
    id: "scan-input",
    class: "scan-input",
    type: "text",
    autocomplete: "off",
    autocapitalize: "off",
    autocorrect: "off",
    spellcheck: "false",
    enterkeyhint: "go",
    placeholder: t("Scan or type a code"),
  });
  const go = () => {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    take(text);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.defaultPrevented) {
      event.preventDefault();
      go();
    }
  });
  return h("div", { class: "scan-box home-scan" },
    h("label", { for: "scan-input" }, t("Device ID or lot code")),
    h("div", { class: "scan-row" },
      input,
      h("button", { type: "button", class: "ok-button", onclick: go }, t("OK")),
      h("button", { type: "button", class: "camera-button", "aria-label": t("Scan with the camera"), title: t("Camera"), onclick: () => app.openCamera() }, cameraIcon())));
}

const CONTINUOUS = "scan.camera.continuous";

/** The camera layer's controls: continuous mode, torch, and the reads made in continuous mode. */
export function cameraControls() {
  const continuous = h("input", { type: "checkbox", id: "camera-continuous", class: "camera-continuous" });
  continuous.checked = localStorage.getItem(CONTINUOUS) === "1";
  continuous.addEventListener("change", () => localStorage.setItem(CONTINUOUS, continuous.checked ? "1" : "0"));
  const torch = h("button", { type: "button", class: "camera-torch", "aria-pressed": "false", hidden: true }, t("Torch"));
  const reads = h("ol", { class: "camera-reads", "aria-live": "polite" });
  let light = null;
  torch.addEventListener("click", async () => {
    if (!light) return;
    const on = torch.getAttribute("aria-pressed") !== "true";
    try {
      await light.set(on);
      torch.setAttribute("aria-pressed", String(on));
    } catch {
      torch.hidden = true; // the track refused after all
    }
  });
  return {
    el: h("div", { class: "camera-controls" },
      h("label", { class: "check camera-mode", for: "camera-continuous" }, continuous, t("Keep scanning")),
      torch,
      reads),
    continuous: () => continuous.checked,
    /** The camera opened: its torch ({set(on)}) or null. */
    opened(torchControl) {
      light = torchControl;
      torch.hidden = !torchControl;
      torch.setAttribute("aria-pressed", "false");
      clear(reads);
      reads.dataset.count = "0";
    },
    /** One read in continuous mode: ✓ or ✗ with what was read, newest first. */
    noteRead(text, ok) {
      const id = parseId(text).id;
      const shown = id ? displayId(id) : parseLot(text).code || text;
      reads.dataset.count = String(Number(reads.dataset.count || 0) + 1);
      reads.prepend(h("li", { class: ok ? "good" : "bad", dataset: { read: shown } }, `${ok ? "✓" : "✗"} ${shown}`));
      while (reads.children.length > 4) reads.lastChild.remove();
    },
  };
}

/** The beep volume (quiet / normal / loud), set on the phone; a tap plays the good beep at it. */
export function volumeSetting() {
  const names = { quiet: t("Quiet"), normal: t("Normal"), loud: t("Loud") };
  const buttons = Object.entries(names).map(([level, name]) => {
    const button = h("button", { type: "button", class: "volume-level", dataset: { volume: level } }, name);
    button.addEventListener("click", () => {
      setVolume(level);
      for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
      good(); // heard at the new level
    });
    button.setAttribute("aria-pressed", String(level === volume()));
    return button;
  });
  return h("div", { class: "volume-setting", role: "group", "aria-label": t("Beep volume") },
    h("span", { class: "muted" }, t("Beep volume")), ...buttons);
}
