// Quick user switch on a shared handheld (issue 19, "Shift work"): after a full
// sign-in, a user sets a PIN on this phone; later anyone switches to them with
// it. The PIN never leaves the phone in clear: PBKDF2-SHA-256 (WebCrypto) over
// the PIN with a random salt kept here gives the verifier the server checks
// against the signed key it gave (traceability/accounts/pins.py). A PIN ends
// with the session it was set in (sign-out, expiry); wrong PINs count as failed
// sign-ins (the server's growing delays) and after FORGET_AFTER in a row the
// phone forgets the PIN: a full sign-in again. Switching needs the network
// (the server session changes hands); the queue keeps each record under its
// recorder, sent only in their session (queue.js).
import { api } from "../common/http.js";
import { t } from "../common/i18n.js";
import { clear, h, toast, when } from "./ui.js";

const STORE = "pin.users"; // not "scan.": a sign-out forgets its own user's PIN only
const ITERATIONS = 210000;
const FORGET_AFTER = 5;
const PIN = /^\d{4,8}$/;

function all() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE) || "{}");
    const now = Date.now();
    // A PIN whose session has ended is of no use: dropped.
    return Object.fromEntries(Object.entries(kept).filter(([, p]) => !p.expires_at || Date.parse(p.expires_at) > now));
  } catch {
    return {};
  }
}

function saveAll(users) {
  localStorage.setItem(STORE, JSON.stringify(users));
}

/** Forget `username`'s PIN on this phone (their sign-out; too many wrong PINs). */
export function forget(username) {
  const users = all();
  delete users[username];
  saveAll(users);
}

function hex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The PIN's verifier: PBKDF2-SHA-256 with the phone's salt (hex). */
export async function verifier(pin, saltHex) {
  const salt = new Uint8Array(saltHex.match(/../g).map((b) => parseInt(b, 16)));
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS }, material, 256);
  return hex(bits);
}

async function setPin(app, pin) {
  const salt = hex(crypto.getRandomValues(new Uint8Array(16)));
  const response = await api("/scan/pin", { method: "POST", body: { verifier: await verifier(pin, salt) } });
  if (!response.ok) throw new Error(String(response.status));
  const answer = await response.json();
  const users = all();
  users[app.user.username] = { user_id: answer.user_id, salt, key: answer.key, expires_at: answer.expires_at, failures: 0 };
  saveAll(users);
}

/** {ok} or {problem}: the server's answer to a switch with this PIN. */
async function switchTo(username, pin) {
  const users = all();
  const kept = users[username];
  if (!kept) return { problem: t("No PIN is set for %(user)s on this phone.", { user: username }) };
  let response;
  try {
    response = await api("/scan/pin/switch", { method: "POST", body: { key: kept.key, verifier: await verifier(pin, kept.salt) } });
  } catch {
    return { problem: t("Switching users needs the network.") };
  }
  if (response.ok) {
    kept.failures = 0;
    saveAll(users);
    return { ok: true };
  }
  const error = (await response.json().catch(() => ({}))).error || {};
  if (response.status === 429) return { problem: t("Too many wrong PINs. Try again in %(n)d s.", { n: error.retry_after || 0 }) };
  if (error.code === "pin_expired") {
    forget(username);
    return { problem: t("The session of %(user)s has ended: sign in with the password.", { user: username }), gone: true };
  }
  if (error.code === "wrong_pin") {
    kept.failures = (kept.failures || 0) + 1;
    if (kept.failures >= FORGET_AFTER) {
      forget(username);
      return { problem: t("Wrong PIN %(n)d times: this phone forgot the PIN of %(user)s. Sign in with the password.", { n: kept.failures, user: username }), gone: true };
    }
    saveAll(users);
    return { problem: t("Wrong PIN (%(n)d of %(max)d tries).", { n: kept.failures, max: FORGET_AFTER }) };
  }
  return { problem: t("The server did not accept the switch.") };
}

function pinInput(name, label) {
  const input = h("input", { name, type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "8", pattern: "[0-9]*", class: "pin-input" });
  return { input, el: h("div", { class: "field" }, h("label", {}, label), input) };
}

function mine(app, render) {
  const own = all()[app.user.username];
  if (own) {
    return h("section", { class: "my-pin", dataset: { set: "true" } },
      h("h2", {}, t("My PIN")),
      h("p", {}, t("Your PIN is set on this phone until your session ends (%(when)s).", { when: when(own.expires_at) })),
      h("button", { type: "button", class: "forget-pin", onclick: () => { forget(app.user.username); render(); } }, t("Remove my PIN")));
  }
  const first = pinInput("pin", t("New PIN (4 to 8 digits)"));
  const again = pinInput("pin_again", t("The same PIN again"));
  const problem = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "step-form set-pin" }, first.el, again.el, problem,
    h("button", { type: "submit", class: "primary submit" }, t("Set my PIN")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!PIN.test(first.input.value)) problem.textContent = t("A PIN is 4 to 8 digits.");
    else if (first.input.value !== again.input.value) problem.textContent = t("The two PINs differ.");
    else {
      try {
        await setPin(app, first.input.value);
        app.feedback.good();
        toast(t("PIN set: others can switch to you on this phone with it."));
        render();
        return;
      } catch {
        problem.textContent = t("Setting a PIN needs the network.");
      }
    }
    app.feedback.bad();
  });
  return h("section", { class: "my-pin", dataset: { set: "false" } },
    h("h2", {}, t("My PIN")),
    h("p", { class: "muted" }, t("Set a PIN to come back to this phone without your password while your session lasts.")),
    form);
}

function others(app, render) {
  const users = Object.keys(all()).filter((u) => u !== app.user.username).sort();
  if (!users.length) return h("p", { class: "muted no-others" }, t("Nobody else has set a PIN on this phone: the others sign in with their password."));
  const pin = pinInput("switch_pin", t("PIN"));
  const problem = h("p", { class: "form-error", role: "alert" });
  let chosen = users.length === 1 ? users[0] : null;
  const buttons = users.map((u) => h("button", { type: "button", class: `switch-user${u === chosen ? " chosen" : ""}`, dataset: { user: u }, onclick: (e) => {
    chosen = u;
    for (const b of buttons) b.classList.toggle("chosen", b === e.currentTarget);
    pin.input.focus();
  } }, u));
  const form = h("form", { class: "step-form switch-form" }, h("div", { class: "switch-users" }, buttons), pin.el, problem,
    h("button", { type: "submit", class: "primary submit" }, t("Switch")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    if (!chosen) problem.textContent = t("Choose who is taking the phone.");
    else if (!PIN.test(pin.input.value)) problem.textContent = t("A PIN is 4 to 8 digits.");
    else {
      const result = await switchTo(chosen, pin.input.value);
      pin.input.value = "";
      if (result.ok) {
        app.feedback.good();
        location.replace("/scan/");
        return;
      }
      problem.textContent = result.problem;
      if (result.gone) render(result.problem); // that user's PIN is gone: said above the list
    }
    app.feedback.bad();
  });
  return form;
}

/** The switch screen: whom to switch to (with their PIN), and this user's own PIN. */
export function switchScreen(app) {
  const body = h("div");
  const render = (notice = null) => clear(body,
    notice ? h("p", { class: "alert switch-notice", role: "alert" }, notice) : null,
    h("section", { class: "switch-to" }, h("h2", {}, t("Who takes the phone")), others(app, render)),
    mine(app, render));
  render();
  return { el: h("div", { class: "screen switch", dataset: { step: "switch" } }, body) };
}
