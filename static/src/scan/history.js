// This shift's records on this handheld (issue 19, "Shift work"): what this
// user recorded on this device since signing in, queued or sent, with undo.
//
// An undo is honest about what the server allows (custody/corrections.py):
// - a record not yet sent is taken out of the queue (nothing reaches the server);
// - a sent record stays on the log for good: a `corrected` event may change
//   the fields the server's correction rules allow for its step (a weight, a
//   storage area, a line…), never take the step back; a step with no such
//   field says so instead of offering an undo it cannot give.
//
// The shift's list lives in localStorage under `scan.shift.<user>`: a sign-out
// forgets every `scan.` key (session.js), so a shift ends with its session.
import { t } from "../common/i18n.js";
import { displayId } from "./ids.js";
import * as queue from "./queue.js";
import { newEvent, parseKg, stepTitle } from "./steps.js";
import { clear, h, toast, when } from "./ui.js";
import { fieldName, reasonText } from "./words.js";

const KEEP = 500;

/**
 * What a correction may change, per step (the server's CORRECTABLE, less the
 * fields the handheld has no plain input for: a collection's attributes, a lot
 * shipment's manifest list).
 */
export const UNDOABLE_FIELDS = {
  collected: ["weight_kg", "brand", "model", "serial", "source"],
  shipped: ["manifest_no"],
  received: ["weight_kg"],
  stored: ["area"],
  dismantled: ["line"],
  refused: ["reason"],
  lot_treated: ["method"],
  stocktake: ["weight_kg"],
};

function key(user) {
  return `scan.shift.${user.username}`;
}

/** This user's shift on this device: {since, userId, items}; begun now if none is kept. */
export function shift(user) {
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(key(user)) || "null");
  } catch {
    kept = null;
  }
  if (kept && String(kept.userId ?? "") === String(user.id ?? "")) return kept;
  const fresh = { since: Date.now(), userId: user.id ?? null, items: [] };
  save(user, fresh);
  return fresh;
}

function save(user, kept) {
  kept.items.splice(KEEP);
  localStorage.setItem(key(user), JSON.stringify(kept));
}

function change(user, id, fields) {
  const kept = shift(user);
  const item = kept.items.find((i) => i.id === id);
  if (!item) return;
  Object.assign(item, fields);
  save(user, kept);
}

/** A record just queued (the queue's item). */
export function noteQueued(user, item) {
  const kept = shift(user);
  kept.items.unshift({
    id: item.id, step: item.step, event: item.event, summary: item.summary, created: item.created, status: "pending",
  });
  save(user, kept);
}

/** The server's answer for a queued record. */
export function noteResult(user, item, result) {
  const refused = result.status === "rejected" || result.status === "conflict";
  change(user, item.id, { status: refused ? "rejected" : "sent", error: refused ? result.error || null : null, qr_id: result.qr_id || null });
}

/**
 * The shift's records with their status now: a queued one as the queue holds it
 * (waiting, not accepted); one the queue no longer holds as sent, or removed.
 */
export async function records(user) {
  const inQueue = new Map((await queue.all()).filter((i) => queue.recordedBy(i, user)).map((i) => [i.id, i]));
  return shift(user).items.map((item) => {
    const queued = inQueue.get(item.id);
    if (queued) return { ...item, status: queued.status, error: queued.error };
    if (item.status === "sent" || item.status === "removed") return item;
    return { ...item, status: "removed" }; // discarded from the queue screen, or fixed there
  });
}

/** What undoing a sent record can do: the fields a correction may change, or none. */
export function undoOf(record) {
  const type = record.event?.type;
  if (type === "corrected") return { fields: [], why: t("A correction cannot itself be undone: correct the original record again.") };
  const fields = UNDOABLE_FIELDS[type] || [];
  if (!fields.length) return { fields, why: t("A sent record of this step cannot be undone or corrected from the handheld: the server's correction rules allow no change to it.") };
  return { fields, why: null };
}

function statusWord(status) {
  return { pending: t("waiting"), sent: t("sent"), rejected: t("not accepted"), removed: t("removed from the queue") }[status] || status;
}

function subjectOf(record) {
  const event = record.event || {};
  const id = record.qr_id || event.qr_id;
  return id ? displayId(id) : event.lot || "";
}

/** The history screen. `app` gives record(), idle() (the sync in flight) and pause(). */
export function historyScreen(app) {
  const list = h("ul", { class: "history-list" });
  const since = h("p", { class: "muted history-since" });
  const render = async () => {
    const rows = await records(app.user);
    clear(since, t("Your records on this handheld since you signed in (%(when)s).", { when: when(new Date(shift(app.user).since).toISOString()) }));
    clear(list, rows.length ? rows.map((record) => row(app, record, render)) : h("li", { class: "muted" }, t("Nothing recorded yet this shift.")));
    list.dataset.count = rows.length;
  };
  render();
  return { el: h("div", { class: "screen history", dataset: { step: "history" } }, since, list), refresh: render };
}

function row(app, record, render) {
  const box = h("div", { class: "undo-box" });
  const actions = [];
  if (record.status === "pending" || record.status === "rejected") {
    actions.push(h("button", { type: "button", class: "undo", onclick: () => unqueue(app, record, box, render) }, t("Undo")));
  } else if (record.status === "sent") {
    const undo = undoOf(record);
    if (undo.fields.length) actions.push(h("button", { type: "button", class: "undo correct", onclick: () => correctForm(app, record, undo.fields, box, render) }, t("Undo by correcting")));
    else box.append(h("p", { class: "no-undo muted" }, undo.why));
  }
  return h("li", { class: `history-item ${record.status}`, dataset: { id: record.id, status: record.status, type: record.event?.type || "" } },
    h("div", { class: "history-what" }, h("b", {}, stepTitle(record.step)), " · ", record.summary || subjectOf(record)),
    h("div", { class: "muted" }, when(new Date(record.created).toISOString()), " · ", h("span", { class: "chip" }, statusWord(record.status))),
    record.error ? h("p", { class: "reason", lang: app.lang }, reasonText(record.error)) : null,
    actions.length ? h("div", { class: "actions" }, actions) : null,
    box);
}

/** A record not yet sent leaves the queue; one the running sync just sent is corrected instead. */
async function unqueue(app, record, box, render) {
  if (!confirm(t("Take this record out of the queue? It will not be sent."))) return;
  const resume = app.pause();
  try {
    await app.idle();
    const still = (await queue.all()).find((i) => i.id === record.id);
    if (!still) {
      toast(t("This record was sent meanwhile: it can only be corrected now."), "warn");
      await render();
      return;
    }
    await queue.remove(record.id);
    change(app.user, record.id, { status: "removed" });
    app.feedback.good();
    toast(t("Taken out of the queue: %(what)s", { what: record.summary }));
  } finally {
    resume();
  }
  await app.refreshStatus();
  await render();
  clear(box);
}

/** A `corrected` event for a sent record: the field, its right value, why. */
function correctForm(app, record, fields, box, render) {
  const event = record.event || {};
  const choose = h("select", { name: "field" }, fields.map((f) => h("option", { value: f }, fieldName(f))));
  const value = h("input", { name: "value", autocomplete: "off", autocapitalize: "none" });
  const reason = h("input", { name: "reason", autocomplete: "off" });
  const problem = h("p", { class: "form-error", role: "alert" });
  const fill = () => {
    const was = event[choose.value];
    value.value = was == null ? "" : String(was);
    value.inputMode = choose.value === "weight_kg" ? "decimal" : "text";
  };
  choose.addEventListener("change", fill);
  fill();
  const form = h("form", { class: "correct-form step-form" },
    h("p", { class: "muted" }, t("A sent record stays on the log: a correction changes one of its fields and says why.")),
    h("div", { class: "field" }, h("label", {}, t("Field")), choose),
    h("div", { class: "field" }, h("label", {}, t("Correct value")), value),
    h("div", { class: "field" }, h("label", {}, t("Reason")), reason),
    problem,
    h("button", { type: "submit", class: "primary submit" }, t("Record correction")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let fixed = value.value.trim();
    const why = reason.value.trim();
    if (!fixed || !why) {
      problem.textContent = t("Enter the correct value and the reason.");
      app.feedback.bad();
      return;
    }
    if (choose.value === "weight_kg") {
      const weight = parseKg(fixed, true);
      if (weight.error) {
        problem.textContent = weight.error;
        app.feedback.bad();
        return;
      }
      fixed = weight.value;
    }
    if (String(event[choose.value] ?? "") === String(fixed)) {
      problem.textContent = t("That is the value already recorded.");
      app.feedback.bad();
      return;
    }
    await app.record("correct", [newEvent("corrected", { corrects: record.id, reason: why, fields: { [choose.value]: fixed } })],
      `${subjectOf(record)} · ${fieldName(choose.value)} = ${fixed}`);
    clear(box);
    await render();
  });
  clear(box, form);
  value.focus();
}
