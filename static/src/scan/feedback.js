// A scan is confirmed by ear and by hand as well as on screen: floor staff
// wear gloves and look at the device, not the phone. Three kinds, each its
// own sound and vibration: good (one short high beep), warning (two middle
// beeps: nothing was recorded, do it again — a moving scale), error (one long
// low tone: this read or step is wrong). How loud is the phone's setting
// (quiet / normal / loud: a dock is noisy), kept on the device across sign-ins.
let audio;

/** The volume levels and their gain; "loud" is full scale. */
export const VOLUMES = { quiet: 0.15, normal: 0.5, loud: 1 };
const VOLUME_KEY = "device.volume"; // not "scan.": signing out keeps the phone's setting

export function volume() {
  const saved = typeof localStorage === "undefined" ? null : localStorage.getItem(VOLUME_KEY);
  return saved in VOLUMES ? saved : "normal";
}

export function setVolume(level) {
  if (!(level in VOLUMES)) return;
  localStorage.setItem(VOLUME_KEY, level);
}

function tone(frequency, ms, delayMs = 0) {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = frequency;
    gain.gain.value = VOLUMES[volume()];
    osc.connect(gain).connect(audio.destination);
    const at = audio.currentTime + delayMs / 1000;
    osc.start(at);
    osc.stop(at + ms / 1000);
  } catch {
    // no audio (autoplay policy before the first tap): the screen still says it
  }
}

export function good() {
  tone(1320, 90);
  navigator.vibrate?.(60);
}

export function warn() {
  tone(740, 110);
  tone(740, 110, 170);
  navigator.vibrate?.([60, 60, 60, 60, 60]);
}

export function bad() {
  tone(330, 250);
  navigator.vibrate?.([120, 80, 120]);
}
