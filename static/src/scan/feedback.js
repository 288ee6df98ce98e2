// A scan is confirmed by ear and by hand as well as on screen: floor staff
// wear gloves and look at the device, not the phone.
let audio;

function tone(frequency, ms) {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = frequency;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + ms / 1000);
  } catch {
    // no audio (autoplay policy before the first tap): the screen still says it
  }
}

export function good() {
  tone(1320, 90);
  navigator.vibrate?.(60);
}

export function bad() {
  tone(330, 250);
  navigator.vibrate?.([120, 80, 120]);
}
