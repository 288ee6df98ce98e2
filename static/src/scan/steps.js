// One screen per floor step (SPEC §2.4). Each screen has a scan target (a
// device ID or a lot code) that the camera, a wedge scanner or typing fill,
// shows the device's state, last steps and what comes next, and records its
// events through app.record() (the offline queue).
import { t } from "../common/i18n.js";
import { matches } from "./conditions.js";
import { displayId, ID_LENGTH, isProductBarcode, looksLikeLot, parseId, parseLot } from "./ids.js";
import { cameraIcon, clear, field, h, kg, when } from "./ui.js";
import { receiveScreen } from "./receive.js";
import { batchScreen } from "./batch.js";
import { eventName, fieldName, reasonText, stateName } from "./words.js";

/** Which steps each kind of organisation records, in the order of the work. */
export const STEPS_BY_KIND = {
  collector: ["collect", "ship", "correct"],
  dismantler: ["collect", "receive", "refuse", "store", "dismantle", "batch", "ship", "lot_ship", "stocktake", "correct"],
  processor: ["lot_receive", "lot_treat", "correct"],
};

export function stepTitle(step) {
  return (
    {
      collect: t("Collect"),
      ship: t("Ship"),
      receive: t("Receive and weigh"),
      refuse: t("Refuse a shipment"),
      store: t("Store"),
      dismantle: t("Dismantle"),
      batch: t("Batch dismantling"),
      lot_ship: t("Ship an output lot"),
      lot_receive: t("Receive an output lot"),
      lot_treat: t("Treat an output lot"),
      stocktake: t("Stocktake of a lot"),
      correct: t("Correct a record"),
    }[step] || step
  );
}

export function stepHint(step) {
  return (
    {
      collect: t("Label a device and describe it"),
      ship: t("Send devices to a plant"),
      receive: t("Weigh devices in; a whole pallet at once"),
      refuse: t("Send a wrong shipment back"),
      store: t("Put devices in a storage area"),
      dismantle: t("Record the output fractions"),
      batch: t("One scan per device; weigh the outputs when the batch closes"),
      lot_ship: t("Send a lot to a processor"),
      lot_receive: t("Weigh a lot in"),
      lot_treat: t("Record how a lot was treated"),
      stocktake: t("Weigh what is in store of an open lot"),
      correct: t("Fix an earlier record (with a reason)"),
    }[step] || ""
  );
}

/** What a device needs next, for this user's organisation. */
export function nextStep(device, user) {
  if (!device) return user.kind === "processor" ? null : "collect";
  const mine = device.custodian === user.org;
  switch (device.state) {
    case "collected":
      if (!mine) return null;
      return user.kind === "dismantler" ? "receive" : "ship";
    case "in_transit":
      return device.destination === user.org && user.kind === "dismantler" ? "receive" : null;
    case "received":
      return mine ? "dismantle" : null;
    default:
      return null;
  }
}

/**
 * Where a scan from the home screen goes: {step} when the device's state and
 * this organisation allow one, else {reason, why[, link]} saying why none
 * applies (issue 19, item 3). `found` is app.lookup()'s answer; `label`, for a
 * device never collected, whether its ID was issued ("yours", "other",
 * "never"; null when unknown).
 */
export function routeFor(found, user, allowed, label, id) {
  const shown = displayId(id);
  if (found.offline) return { reason: "offline", why: t("Offline: the state of %(id)s cannot be checked now. Choose the step below.", { id: shown }) };
  const device = found.device;
  if (!device) return routeForUnknown(found, allowed, label, shown);
  const next = nextStep(device, user);
  if (next && allowed.includes(next)) return { step: next };
  const org = device.custodian || device.destination || "";
  switch (device.state) {
    case "collected":
      return { reason: "at_collector", why: t("%(id)s is at %(org)s and has not been shipped to you.", { id: shown, org }) };
    case "in_transit":
      return { reason: "in_transit", why: t("%(id)s is on its way to %(org)s.", { id: shown, org: device.destination }) };
    case "received":
      return { reason: "elsewhere", why: t("%(id)s is at %(org)s.", { id: shown, org }) };
    case "dismantled":
      if (device.dismantled_by === user.org) {
        return {
          reason: "dismantled_here",
          why: t("%(id)s was dismantled here on %(when)s: nothing more to record.", { id: shown, when: when(device.dismantled_at) }),
          link: allowed.includes("correct") ? { href: `#/correct?id=${device.qr_id}`, text: t("Correct one of its records") } : null,
        };
      }
      return { reason: "dismantled", why: t("%(id)s was dismantled by %(org)s.", { id: shown, org: device.dismantled_by || "" }) };
    default:
      return { reason: "nothing", why: t("Nothing to do for this device here.") };
  }
}

function routeForUnknown(found, allowed, label, shown) {
  if (found.status === 403) return { reason: "not_yours", why: t("%(id)s is in another organisation's records and has not been shipped to you.", { id: shown }) };
  if (found.status !== 404) return { reason: "nothing", why: t("Nothing to do for this device here.") };
  if (label === "never") return { reason: "never_issued", why: t("%(id)s was never issued as a label. Check the label; to collect the device, give it a new ID in “Collect”.", { id: shown }) };
  if (label === "other") return { reason: "other_label", why: t("%(id)s is a label of another organisation, not yet collected.", { id: shown }) };
  if (allowed.includes("collect")) return { step: "collect" };
  return { reason: "not_collected", why: t("%(id)s has not been collected yet.", { id: shown }) };
}

/** The step a scanned lot code opens for this organisation, from the lots in its context. */
export function lotStepFor(code, context, allowed) {
  const lots = context?.lots || {};
  const has = (state) => (lots[state] || []).some((l) => l.code === code);
  if (has("open")) return allowed.includes("lot_ship") ? "lot_ship" : null;
  if (has("incoming")) return allowed.includes("lot_receive") ? "lot_receive" : null;
  if (has("received")) return allowed.includes("lot_treat") ? "lot_treat" : null;
  return null;
}

function nowIso() {
  return new Date().toISOString();
}

export function newEvent(type, fields) {
  return { id: crypto.randomUUID(), type, occurred_at: nowIso(), ...fields };
}

function clean(value) {
  const text = String(value ?? "").trim();
  return text === "" ? undefined : text;
}

export function weightInput(name, required, placeholder) {
  return h("input", {
    name,
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    required,
    placeholder: placeholder || "0.000",
    class: "weight",
  });
}

function textInput(name, attrs = {}) {
  return h("input", { name, type: "text", autocomplete: "off", ...attrs });
}

function select(name, options, placeholder) {
  return h(
    "select",
    { name },
    placeholder ? h("option", { value: "" }, placeholder) : null,
    options.map(([value, label]) => h("option", { value }, label)),
  );
}

/** A decimal weight in kg, or an error message (checked before queueing). */
export function parseKg(raw, required) {
  const text = String(raw ?? "").trim().replace(",", ".").replace(/\s*kg$/i, "");
  if (!text) return required ? { error: t("Enter the weight in kg.") } : { value: undefined };
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(text)) return { error: t("A weight in kg, at most 3 decimals.") };
  if (Number(text) <= 0) return { error: t("The weight must be more than 0.") };
  return { value: text };
}

// -- the scan target ---------------------------------------------------------

/**
 * The field a scan fills: typed input validated as the user types (a device
 * ID's check character; a lot code's form, and that it is one of `lots`, the
 * lots this step may take here), a camera button, and what was scanned.
 * kind: "device" or "lot". Lot codes are read in any case and shown in the
 * canonical one; the phone keyboard neither capitalises nor corrects them.
 */
function scanBox(app, { kind = "device", onValue, label, lots = null }) {
  const input = h("input", {
    id: "scan-input",
    class: kind === "lot" ? "scan-input lot" : "scan-input",
    type: "text",
    autocomplete: "off",
    autocapitalize: kind === "lot" ? "off" : "characters",
    autocorrect: "off",
    spellcheck: "false",
    enterkeyhint: "done",
    placeholder: kind === "lot" ? t("Scan or type a lot code") : t("Scan or type a device ID"),
  });
  const status = h("div", { class: "scan-status", "aria-live": "polite" });
  const camera = h(
    "button",
    { type: "button", class: "camera-button", "aria-label": t("Scan with the camera"), title: t("Camera"), onclick: () => app.openCamera() },
    cameraIcon(),
  );
  const ok = h("button", { type: "button", class: "ok-button", onclick: () => take(input.value, "typed") }, t("OK"));
  const show = (className, text) => {
    status.className = `scan-status${className ? ` ${className}` : ""}`;
    status.textContent = text;
  };

  /** What the text is worth as a lot here: {code} or {problem}; {} while still incomplete. */
  function lotCheck(text, typing) {
    const parsed = parseLot(text);
    if (!parsed.code) return typing ? {} : { problem: readProblem(text, "lot") };
    if (lots && !lots.includes(parsed.code)) return { problem: t("✗ Lot %(code)s is not one this step can take here.", { code: parsed.code }) };
    return { code: parsed.code };
  }

  function feedback(raw, typing = true) {
    const text = String(raw).trim();
    if (!text) return show("", "");
    if (kind === "lot") {
      const found = lotCheck(text, typing);
      if (found.code) return show("good", `✓ ${found.code}`);
      return found.problem ? show("bad", found.problem) : show("", "");
    }
    const parsed = parseId(text);
    if (parsed.id) return show("good", `✓ ${displayId(parsed.id)}`);
    if (parsed.reason === "too_short") return show("", t("%(n)d of %(total)d characters", { n: parsed.length, total: ID_LENGTH }));
    return show("bad", idProblem(parsed));
  }

  function take(raw, how) {
    const text = String(raw ?? "").trim();
    if (!text) return false;
    const value = kind === "lot" ? lotCheck(text, false).code : parseId(text).id;
    if (!value) {
      // Typed text stays for the user to fix; a scan's never lands in the field.
      if (how === "typed") input.value = text;
      feedback(text, false);
      app.feedback.bad();
      return false;
    }
    input.value = kind === "lot" ? value : displayId(value);
    feedback(value);
    onValue(value, how);
    return true;
  }

  input.addEventListener("input", () => feedback(input.value));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.defaultPrevented) {
      event.preventDefault();
      take(input.value, "typed");
    }
  });
  const el = h(
    "div",
    { class: "scan-box" },
    h("label", { for: "scan-input" }, label || (kind === "lot" ? t("Lot") : t("Device ID"))),
    h("div", { class: "scan-row" }, input, ok, camera),
    status,
  );
  return {
    el, input, take,
    clear: () => { input.value = ""; feedback(""); },
    /** A read that is no use here: said under the field, which keeps what it had. */
    refuse: (message) => show("bad", message),
  };
}

/** Why a scanned or typed text is not what the screen wants ("device" or "lot"), naming it. */
export function readProblem(raw, want = "device") {
  const text = String(raw ?? "").trim();
  const read = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  const parsed = parseId(text);
  if (want === "lot" && parsed.id) return t("✗ “%(read)s” is a device ID, not a lot code.", { read: displayId(parsed.id) });
  if (want === "device" && looksLikeLot(text)) return t("✗ “%(read)s” is a lot code, not a device ID.", { read: parseLot(text).code });
  if (isProductBarcode(text)) return t("✗ “%(read)s” is a product barcode (EAN/UPC), not a trace label.", { read });
  if (parsed.reason === "check_character_mismatch") return t("✗ “%(read)s”: the check character is wrong (a damaged label or a typo). Re-scan.", { read });
  if (want === "lot") return t("✗ “%(read)s” is not a lot code.", { read });
  return t("✗ “%(read)s” is not a device ID.", { read });
}

export function idProblem(parsed) {
  switch (parsed.reason) {
    case "check_character_mismatch":
      return t("✗ Check character wrong: a typo? Re-scan or retype.");
    case "invalid_character":
      return t("✗ “%(char)s” cannot be in a device ID.", { char: parsed.char });
    case "too_long":
      return t("✗ Too long: a device ID has %(total)d characters.", { total: ID_LENGTH });
    case "not_a_device_url":
      return t("✗ Not a device label.");
    default:
      return t("✗ Not a device ID.");
  }
}

// -- the device card ---------------------------------------------------------

/** The step of the screen shown ("store", "dismantle", …). */
function shownStep() {
  return location.hash.replace(/^#\/?/, "").split("?")[0];
}

/**
 * Why `step` cannot be recorded for the device in its state, for this user's
 * organisation, or null: checked on the screen before anything is queued,
 * offline too from the custody list (issue 19). Steps with checks of their
 * own (collect, refuse, correct) are not judged here.
 */
export function stepProblem(step, device, user) {
  const mine = device.custodian === user.org;
  const ok = {
    receive: (device.state === "in_transit" && device.destination === user.org) || (device.state === "collected" && mine),
    store: device.state === "received" && mine,
    dismantle: device.state === "received" && mine,
    ship: mine && (device.state === "collected" || device.state === "received"),
  }[step];
  if (ok === undefined || ok) return null;
  return t("✗ %(id)s is “%(state)s” (%(org)s): “%(step)s” cannot be recorded for it.", {
    id: displayId(device.qr_id), state: stateName(device.state), org: device.custodian || "", step: stepTitle(step),
  });
}

/** How old the kept custody list is, in words. */
export function listAge(fetchedAt) {
  const minutes = Math.max(0, Math.round((Date.now() - fetchedAt) / 60000));
  return t("the list of %(when)s (%(n)d min ago)", { when: when(new Date(fetchedAt).toISOString()), n: minutes });
}

function flagProblem(app, card, problem) {
  card.dataset.problem = problem;
  card.append(h("p", { class: "card-problem", role: "alert" }, problem));
  app.feedback.bad();
}

function offlineCard(app, card, id, found) {
  const step = shownStep();
  const judged = found.unknown && ["store", "dismantle", "ship"].includes(step);
  clear(card, h("h2", {}, displayId(id)), h("p", { class: "muted" },
    found.unknown ? t("Offline: not in this organisation's custody by %(list)s.", { list: listAge(found.list.fetchedAt) })
      : t("Offline: the device's state will be checked when this is sent.")));
  if (judged) flagProblem(app, card, t("✗ %(id)s is not held here (or is an unknown ID): “%(step)s” cannot be recorded for it.", { id: displayId(id), step: stepTitle(step) }));
}

export function deviceCard(app, id) {
  const card = h("section", { class: "device-card", dataset: { id } }, h("p", { class: "muted" }, t("Looking up…")));
  app.lookup(id).then((found) => {
    if (found.offline) {
      offlineCard(app, card, id, found);
      return;
    }
    const device = found.device;
    if (!device) {
      clear(
        card,
        h("h2", {}, displayId(id)),
        h("p", { class: "state state-new", dataset: { state: found.status === 404 ? "new" : "hidden" } },
          found.status === 404 ? t("New label: not yet collected") : t("Not visible to your organisation")),
      );
      return;
    }
    const category = app.category(device.category);
    const next = nextStep(device, app.user);
    const weight = device.received_weight_kg ?? device.collected_weight_kg;
    clear(
      card,
      h("h2", {}, displayId(device.qr_id), " ", h("span", { class: "category" }, category ? app.name(category) : device.category)),
      h("p", {},
        h("span", { class: `state state-${device.state}`, dataset: { state: device.state } }, stateName(device.state)),
        device.custodian ? h("span", { class: "muted" }, " · ", device.custodian) : null,
        weight ? h("span", { class: "muted" }, " · ", kg(weight)) : null),
      h("ol", { class: "history" },
        device.events.slice(-3).reverse().map((e) =>
          h("li", {}, h("b", {}, eventName(e.type)), " ", h("span", { class: "muted" }, `${e.org} · ${when(e.occurred_at)}`)))),
      h("p", { class: "next" }, t("Next:"), " ",
        next && location.hash.startsWith(`#/${next}`) ? h("b", { class: "next-here" }, "✓ ", stepTitle(next))
        : next ? h("a", { href: `#/${next}?id=${device.qr_id}`, class: "next-step" }, stepTitle(next))
             : device.state === "dismantled" ? t("done — the outputs are in lots") : t("nothing for your organisation")),
    );
    if (found.cached) {
      card.dataset.cached = "true";
      card.append(h("p", { class: "muted cached-note" }, t("Offline: state from %(list)s.", { list: listAge(device.fetchedAt) })));
    }
    const problem = stepProblem(shownStep(), device, app.user);
    if (problem) flagProblem(app, card, problem);
    card.device = device;
    card.dispatchEvent(new CustomEvent("device", { detail: device }));
  });
  return card;
}

// -- screens -----------------------------------------------------------------

/** Common frame: the scan box, a slot for the device card, the form, the submit button. */
export function frame(app, step, { kind = "device", onValue, form, submitLabel, onSubmit, scanLabel, lots }) {
  // A new scan starts afresh: the last device's problem is not this one's.
  const taken = (value, how) => { message.textContent = ""; onValue(value, how); };
  const box = scanBox(app, { kind, onValue: taken, label: scanLabel, lots });
  const message = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary submit" }, submitLabel || t("Record"));
  const formEl = h("form", { class: "step-form", novalidate: true }, form, message, submit);
  formEl.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    // A device the step cannot take (its state, or not held here) is never queued.
    const flagged = formEl.querySelector(".device-card[data-problem]");
    const problem = flagged ? flagged.dataset.problem : await onSubmit(formEl);
    if (problem) {
      message.textContent = problem;
      app.feedback.bad();
    }
  });
  const el = h("div", { class: "screen", dataset: { step } }, box.el, formEl);
  return { el, box, form: formEl, message };
}

/** What the app drives of a screen: scans, reads it refuses, the field to focus once shown. */
export function screenOf(screen, extra = {}) {
  return {
    el: screen.el,
    onScan: (raw, how) => screen.box.take(raw, how),
    onBadRead: (_raw, message) => screen.box.refuse(message),
    ...extra,
  };
}

function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function requireId(id) {
  return id ? null : t("Scan or type the device ID first.");
}

export function collectScreen(app, prefill = {}) {
  let qrId = prefill.qr_id || null;
  const slot = h("div", { class: "card-slot" });
  const categories = app.catalog.categories;
  const category = select("category", categories.map((c) => [c.code, app.name(c)]), t("Choose…"));
  const attributes = h("div", { class: "attributes" });
  const mint = h("input", { type: "checkbox", name: "mint", id: "mint" });
  const newLabel = h("div", { class: "new-label-slot" });
  app.roll.topUp();
  // An attribute that applies only under a condition (an LCD's backlight, a desktop's
  // display) is shown, and sent, only while the others meet it.
  // The catalogue lists an attribute after those its condition names.
  const applies = () => {
    const spec = categories.find((c) => c.code === category.value);
    if (!spec) return;
    const shown = {};
    for (const [name, a] of Object.entries(spec.attributes)) {
      const box = attributes.querySelector(`[data-attribute="${name}"]`);
      const input = box.querySelector("select, input");
      const on = matches(a.applies, shown);
      box.style.display = on ? "" : "none";
      input.disabled = !on;
      if (on) Object.assign(shown, attributeValues({ attributes: { [name]: a } }, { [input.name]: input.value }));
    }
  };
  const showAttributes = () => {
    const spec = categories.find((c) => c.code === category.value);
    clear(attributes, spec ? Object.entries(spec.attributes).map(([name, a]) => attributeField(name, a)) : []);
    applies();
  };
  category.addEventListener("change", showAttributes);
  attributes.addEventListener("change", applies);
  const sources = [["household", t("household")], ["business", t("business")], ["public", t("public institution")], ["trade_in", t("trade-in")]];
  const screen = frame(app, "collect", {
    onValue: (id) => {
      qrId = id;
      mint.checked = false;
      clear(slot, deviceCard(app, id));
    },
    scanLabel: t("Pre-printed label"),
    form: [
      newLabel,
      slot,
      h("div", { class: "check" }, mint, h("label", { for: "mint" }, t("No label: mint a new ID"))),
      field(t("Category"), category),
      attributes,
      field(t("Weight (kg)"), weightInput("weight_kg", false), t("optional")),
      h("details", { class: "more" }, h("summary", {}, t("Brand, model, serial, source")),
        field(t("Brand"), textInput("brand")),
        field(t("Model"), textInput("model")),
        field(t("Serial no."), textInput("serial")),
        field(t("Source"), select("source", sources, "—"))),
    ],
    submitLabel: t("Record collection"),
    onSubmit: async (form) => {
      const v = values(form);
      if (!qrId && !mint.checked) return t("Scan the label, or tick “mint a new ID”.");
      if (!v.category) return t("Choose the category.");
      const spec = categories.find((c) => c.code === v.category);
      const attrs = attributeValues(spec, v);
      for (const [name, a] of Object.entries(spec.attributes)) {
        if (a.required && attrs[name] === undefined && matches(a.applies, attrs)) {
          return t("Enter “%(name)s”.", { name: attributeLabel(name) });
        }
      }
      const weight = parseKg(v.weight_kg, false);
      if (weight.error) return weight.error;
      const event = newEvent("collected", {
        category: v.category, attributes: attrs, weight_kg: weight.value,
        brand: clean(v.brand), model: clean(v.model), serial: clean(v.serial), source: clean(v.source),
      });
      // "No label": the next ID of the handheld's roll, so the label prints now, online or not;
      // with the roll empty the server mints one when this is sent.
      const minted = qrId && !mint.checked ? null : await app.roll.take();
      if (qrId && !mint.checked) event.qr_id = qrId;
      else if (minted) event.qr_id = minted;
      const shownId = event.qr_id ? displayId(event.qr_id) : t("(new ID)");
      await app.record("collect", [event], `${app.name(spec)} ${shownId}`);
      clear(newLabel, minted ? labelOffer(minted) : mint.checked ? h("p", { class: "muted" }, t("The label roll is empty: the new ID comes when this record is sent (see below).")) : null);
      app.roll.topUp();
      form.reset();
      showAttributes();
      qrId = null;
      screen.box.clear();
      clear(slot);
      return null;
    },
  });
  if (prefill.category) {
    category.value = prefill.category;
    showAttributes();
  }
  if (qrId) screen.box.take(qrId, "prefill");
  return screenOf(screen);
}

/** A device ID just given from the roll (or by the server), with its label to print. */
export function labelOffer(id) {
  return h("div", { class: "new-label", dataset: { id } },
    h("p", {}, t("New ID:"), " ", h("b", { class: "new-id" }, displayId(id))),
    h("a", { class: "button primary print-label", href: `#/label?id=${id}` }, t("Print label")));
}

/**
 * A device ID's QR label to print (issue 19, item 5): the one kept with the
 * handheld's label roll, so it prints with no network; else the server's.
 */
export function labelScreen(app, raw) {
  const id = parseId(raw).id;
  if (!id) return { el: h("div", { class: "screen", dataset: { step: "label" } }, h("p", { class: "alert" }, readProblem(raw))) };
  const sheet = h("div", { class: "label-print" }, h("p", { class: "muted" }, t("Looking up…")));
  app.roll.label(id).then((svg) => {
    const src = svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` : `/scan/label/${id}.svg`;
    clear(sheet, h("img", { class: "label-image", src, alt: displayId(id), dataset: { source: svg ? "handheld" : "server" } }));
  });
  const print = h("button", { type: "button", class: "primary print no-print", onclick: () => window.print() }, t("Print label"));
  return {
    el: h("div", { class: "screen label-screen", dataset: { step: "label", id } },
      sheet,
      h("p", { class: "muted no-print" }, t("Stick the label where a scanner can reach it. It prints at 50 × 30 mm on a label printer, or on any page.")),
      print,
      h("a", { class: "button no-print", href: "#/collect" }, t("Back to Collect"))),
    onScan: () => {},
  };
}

/** The attributes the form holds, typed as the API takes them (only those shown). */
function attributeValues(spec, formValues) {
  const attrs = {};
  for (const [name, a] of Object.entries(spec.attributes)) {
    const raw = clean(formValues[`attr_${name}`]);
    if (raw === undefined) continue;
    attrs[name] = a.kind === "enum" ? raw : a.kind === "bool" ? raw === "true" : Number(raw);
  }
  return attrs;
}

export function attributeLabel(name) {
  return (
    {
      display: t("Display"), screen_in: t("Screen size (in)"), volume_l: t("Volume (L)"), type: t("Type"),
      dry_load_kg: t("Dry load (kg)"), form: t("Form"), cooling_w: t("Cooling capacity (W)"),
      backlight: t("Backlight"), with_display: t("Came with its display"),
    }[name] || name
  );
}

function attributeValue(value) {
  return (
    {
      crt: t("CRT"), flat: t("flat panel"), lcd: t("LCD"), plasma: t("plasma"), oled: t("OLED"),
      rear_projection: t("rear projection"), ccfl: t("CCFL (mercury lamps)"), led: t("LED"),
      single_tub: t("single tub"), spin_dryer: t("spin dryer"), agitator: t("agitator"),
      twin_tub: t("twin tub"), top_load_auto: t("top-load automatic"), drum: t("drum"),
      integral: t("window (integral)"), split: t("split"), multi_split: t("multi-split"),
      desktop: t("desktop"), all_in_one: t("all-in-one"), laptop: t("laptop"), tablet: t("tablet"), palmtop: t("palmtop"),
    }[value] || value
  );
}

function attributeField(name, spec) {
  const input = spec.kind === "enum"
    ? select(`attr_${name}`, spec.values.map((v) => [v, attributeValue(v)]), t("Choose…"))
    : spec.kind === "bool"
      ? select(`attr_${name}`, [["true", t("yes")], ["false", t("no")]], t("Choose…"))
      : h("input", { name: `attr_${name}`, type: "text", inputmode: "numeric", autocomplete: "off",
          placeholder: spec.min && spec.max ? `${spec.min}–${spec.max}` : "" });
  const box = field(attributeLabel(name) + (spec.required ? " *" : ""), input);
  box.dataset.attribute = name;
  return box;
}

export function shipScreen(app, prefill = {}) {
  let qrId = null;
  const slot = h("div", { class: "card-slot" });
  const destinations = app.context?.destinations?.device || [];
  const to = select("to", destinations.map((o) => [o.code, `${o.code} · ${o.name}`]), t("Choose…"));
  if (prefill.to) to.value = prefill.to;
  const screen = frame(app, "ship", {
    onValue: (id) => { qrId = id; clear(slot, deviceCard(app, id)); },
    form: [slot, field(t("Destination"), to), field(t("Manifest no."), textInput("manifest_no"), t("optional"))],
    submitLabel: t("Record shipment"),
    onSubmit: async (form) => {
      const v = values(form);
      const missing = requireId(qrId);
      if (missing) return missing;
      if (!v.to) return t("Choose the destination.");
      await app.record("ship", [newEvent("shipped", { qr_id: qrId, to: v.to, manifest_no: clean(v.manifest_no) })],
        `${displayId(qrId)} → ${v.to}`);
      qrId = null; screen.box.clear(); clear(slot);
      return null;
    },
  });
  if (prefill.qr_id) screen.box.take(prefill.qr_id, "prefill");
  return screenOf(screen);
}

function simpleDeviceScreen(app, step, { type, fieldName: name, label, submitLabel, prefill = {}, input, problemOf }) {
  let qrId = null;
  let device = null;
  const slot = h("div", { class: "card-slot" });
  const control = input || textInput(name, { required: true });
  if (prefill[name]) control.value = prefill[name];
  const screen = frame(app, step, {
    onValue: (id) => {
      qrId = id;
      device = null;
      const card = deviceCard(app, id);
      // What the step cannot take is said as soon as the device is known, not after sending.
      card.addEventListener("device", (e) => {
        device = e.detail;
        const problem = problemOf?.(device);
        screen.message.textContent = problem || "";
        if (problem) app.feedback.bad();
      });
      clear(slot, card);
    },
    form: [slot, field(label, control)],
    submitLabel,
    onSubmit: async (form) => {
      const v = values(form);
      const missing = requireId(qrId);
      if (missing) return missing;
      const problem = device && problemOf?.(device);
      if (problem) return problem;
      const text = clean(v[name]);
      if (!text) return t("Enter “%(name)s”.", { name: label });
      await app.record(step, [newEvent(type, { qr_id: qrId, [name]: text })], `${displayId(qrId)} · ${text}`);
      qrId = null; screen.box.clear(); clear(slot); form.reset();
      return null;
    },
  });
  if (prefill.qr_id) screen.box.take(prefill.qr_id, "prefill");
  return screenOf(screen);
}

export function refuseScreen(app, prefill) {
  return simpleDeviceScreen(app, "refuse", {
    type: "refused", fieldName: "reason", label: t("Reason"), submitLabel: t("Refuse and send back"), prefill,
    problemOf: (device) => {
      if (device.destination === app.user.org) return null;
      if (device.custodian === app.user.org && device.received_at) return reasonText({ code: "already_received" });
      return t("Only a shipment on its way to you can be refused: this device is not being shipped to you.");
    },
  });
}

export function storeScreen(app, prefill = {}) {
  const area = textInput("area", { required: true, value: localStorage.getItem("scan.area") || "" });
  area.addEventListener("change", () => localStorage.setItem("scan.area", area.value));
  return simpleDeviceScreen(app, "store", {
    type: "stored", fieldName: "area", label: t("Storage area"), submitLabel: t("Record storage"), prefill, input: area,
  });
}

/** Required fractions of the category (the dismantling rules), then a running mass balance. */
export function dismantleScreen(app, prefill = {}) {
  let qrId = null;
  let intakeKg = null;
  const slot = h("div", { class: "card-slot" });
  const outputs = h("div", { class: "outputs" });
  const bar = h("div", { class: "balance-fill" });
  const balanceText = h("span", { class: "balance-text" });
  const balance = h("div", { class: "balance", role: "meter", "aria-label": t("Mass balance") }, bar);
  const batch = textInput("batch", { value: localStorage.getItem("scan.batch") || "" });
  const line = textInput("line", { value: localStorage.getItem("scan.line") || "" });
  // Old records' fractions (a battery of no stated chemistry) are not offered.
  const current = app.catalog.fractions.filter((f) => !f.legacy);
  const adder = select("add_fraction", current.map((f) => [f.code, app.fractionLabel(f.code)]), t("+ Add a fraction"));
  const tolerance = app.tolerancePct;
  let least = {};

  const outputRow = (code, required, weight = "", hint = undefined) => {
    const input = weightInput(`out_${code}`, required, least[code] ? `≥ ${least[code]} ${t("kg")}` : t("kg"));
    input.value = weight;
    input.dataset.fraction = code;
    input.addEventListener("input", update);
    return h("div", { class: `output${required ? " required" : ""}`, dataset: { fraction: code } },
      field(`${app.fractionLabel(code)}${required ? " *" : ""}`, input, hint));
  };
  function update() {
    let total = 0;
    for (const input of outputs.querySelectorAll("input")) {
      const n = Number(String(input.value).replace(",", "."));
      if (Number.isFinite(n) && n > 0) total += n;
    }
    if (!intakeKg) {
      bar.style.width = "0%";
      balanceText.textContent = t("Outputs %(out)s (intake weight unknown)", { out: kg(total) });
      return;
    }
    const share = total / intakeKg;
    bar.style.width = `${Math.min(100, share * 100 / (1 + tolerance / 100))}%`;
    balance.className = `balance ${share > 1 + tolerance / 100 ? "over" : share > 1 ? "near" : ""}`;
    const text = t("Outputs %(out)s of %(in)s intake", { out: kg(total), in: kg(intakeKg) });
    balanceText.textContent = `${text} (${Math.round(share * 100)} %)`;
  }
  adder.addEventListener("change", () => {
    if (adder.value && !outputs.querySelector(`[data-fraction="${adder.value}"]`)) outputs.append(outputRow(adder.value, false));
    adder.value = "";
    update();
  });
  const showRequired = (device) => {
    intakeKg = device?.received_weight_kg ? Number(device.received_weight_kg) : null;
    const rule = device ? app.rule(device.category, device.attributes || {}) : null;
    least = rule?.least || {};
    clear(outputs, (rule?.required || []).map((code) => outputRow(code, true)));
    for (const group of rule?.oneOf || []) {
      const hint = t("one of: %(names)s", { names: group.map((c) => fractionName(app, c)).join(" / ") });
      for (const code of group) outputs.append(outputRow(code, false, "", hint));
    }
    for (const o of prefill.outputs || []) {
      const existing = outputs.querySelector(`input[data-fraction="${o.fraction}"]`);
      if (existing) existing.value = o.weight_kg;
      else outputs.append(outputRow(o.fraction, false, o.weight_kg));
    }
    update();
  };
  const screen = frame(app, "dismantle", {
    onValue: (id) => {
      qrId = id;
      const card = deviceCard(app, id);
      card.addEventListener("device", (e) => showRequired(e.detail));
      clear(slot, card);
      showRequired(null);
    },
    form: [slot,
      h("h3", {}, t("Outputs")), outputs, field(t("Other fraction"), adder),
      h("div", { class: "balance-box" }, balance, balanceText),
      h("div", { class: "two" }, field(t("Batch"), batch), field(t("Line"), line))],
    submitLabel: t("Record dismantling"),
    onSubmit: async (form) => {
      const missing = requireId(qrId);
      if (missing) return missing;
      const list = [];
      for (const input of outputs.querySelectorAll("input")) {
        const required = input.closest(".output").classList.contains("required");
        const weight = parseKg(input.value, required);
        if (weight.error) return `${fieldName("fraction")} ${input.dataset.fraction}: ${weight.error}`;
        if (weight.value !== undefined) list.push({ fraction: input.dataset.fraction, weight_kg: weight.value });
      }
      if (!list.length) return t("Enter at least one output weight.");
      localStorage.setItem("scan.batch", batch.value);
      localStorage.setItem("scan.line", line.value);
      await app.record("dismantle",
        [newEvent("dismantled", { qr_id: qrId, outputs: list, batch: clean(batch.value), line: clean(line.value) })],
        `${displayId(qrId)} · ${list.map((o) => `${fractionName(app, o.fraction)} ${o.weight_kg}`).join(", ")}`);
      qrId = null; intakeKg = null; screen.box.clear(); clear(slot); clear(outputs); update();
      return null;
    },
  });
  update();
  if (prefill.qr_id) screen.box.take(prefill.qr_id, "prefill");
  return screenOf(screen);
}

function fractionName(app, code) {
  const fraction = app.catalog.fractions.find((f) => f.code === code);
  return fraction ? app.name(fraction) : code;
}

function lotChoices(app, lots, onPick) {
  if (!lots.length) return h("p", { class: "muted" }, t("No lots waiting."));
  return h("ul", { class: "lot-list" }, lots.map((lot) => {
    const fraction = app.catalog.fractions.find((f) => f.code === lot.fraction);
    const devices = t("Devices: %(n)d", { n: lot.device_count });
    const name = fraction ? app.fractionLabel(lot.fraction) : lot.fraction;
    return h("li", {}, h("button", { type: "button", class: "lot-choice", dataset: { lot: lot.code }, onclick: () => onPick(lot.code) },
      h("b", {}, lot.code), h("span", {}, `${name}${lot.hazardous && !fraction ? " ⚠" : ""} · ${kg(lot.weight_g / 1000)} · ${devices}`)),
    h("a", { class: "lot-label", href: `/scan/label/${lot.code}`, target: "_blank", rel: "noopener", dataset: { lot: lot.code } }, t("Label")));
  }));
}

function lotScreen(app, step, { lots, type, fields, submitLabel, build, onLot, weighs = false, prefill = {} }) {
  let lot = null;
  const chosen = h("p", { class: "chosen-lot" });
  const screen = frame(app, step, {
    kind: "lot",
    lots: lots.map((l) => l.code),
    onValue: (code) => {
      lot = code;
      const label = t("Lot");
      chosen.textContent = `${label}: ${code}`;
      chosen.dataset.lot = code;
      for (const button of screen.el.querySelectorAll(".lot-choice")) {
        button.classList.toggle("selected", button.dataset.lot === code);
      }
      onLot?.(lots.find((l) => l.code === code) || { code });
    },
    form: [lotChoices(app, lots, (code) => screen.box.take(code, "list")), chosen, ...fields],
    submitLabel,
    onSubmit: async (form) => {
      if (!lot) return t("Scan, type or choose the lot first.");
      const built = build(values(form), form);
      if (built.error) return built.error;
      await app.record(step, [newEvent(type, { lot, ...built.fields })], `${lot} · ${built.summary}`);
      lot = null; chosen.textContent = ""; screen.box.clear(); form.reset();
      onLot?.(null);
      return null;
    },
  });
  if (prefill.lot) screen.box.take(prefill.lot, "prefill");
  // A stable reading of the scale weighs the lot just scanned and records it (stocktake).
  const onWeight = (reading) => {
    const say = (text) => { app.feedback.warn(); screen.box.refuse(text); };
    if (reading.status !== "stable" || !reading.kg) {
      return say(reading.status === "overload" ? t("⚠ The scale is overloaded: nothing recorded.") : t("⚠ The scale is not steady yet: nothing recorded. Wait for a stable weight."));
    }
    if (!lot) return say(t("⚠ %(kg)s read from the scale: scan the lot first.", { kg: kg(reading.kg) }));
    screen.form.querySelector("input[name=weight_kg]").value = reading.kg;
    screen.form.requestSubmit();
    return undefined;
  };
  return screenOf(screen, weighs ? { onWeight } : {});
}

/** The fraction's waste code (国家危险废物名录) for a hazardous lot, else "". */
function hwCodeOf(app, lot) {
  const fraction = app.catalog.fractions.find((f) => f.code === lot?.fraction);
  return fraction?.hazardous && fraction?.hw_code ? fraction.hw_code : "";
}

/** One truck of a shipment: its transfer manifest (转移联单) number, code, carrier and weight. */
function manifestRow(hwCode, hazardous) {
  const transporter = textInput("transporter", { value: localStorage.getItem("scan.transporter") || "" });
  const code = textInput("hw_code", { value: hwCode, placeholder: "900-045-49", disabled: !hazardous });
  const row = h("fieldset", { class: "manifest" },
    h("legend", {}, t("Truck")),
    field(t("Manifest no."), textInput("number", { required: true, inputmode: "numeric" }), t("the transfer manifest (转移联单) number")),
    h("div", { class: "two" }, field(t("Waste code"), code), field(t("Weight (kg)"), weightInput("weight_kg", true))),
    field(t("Transporter"), transporter),
    h("button", { type: "button", class: "remove-manifest", onclick: () => row.remove() }, t("Remove this truck")));
  return row;
}

/** The manifests typed in, or an error naming what is missing. */
function manifestsOf(form, hazardous) {
  const out = [];
  for (const row of form.querySelectorAll("fieldset.manifest")) {
    const get = (name) => clean(row.querySelector(`[name=${name}]`).value);
    const number = get("number");
    if (!number) return { error: t("Enter “%(name)s”.", { name: t("Manifest no.") }) };
    const transporter = get("transporter");
    if (!transporter) return { error: t("Enter “%(name)s”.", { name: t("Transporter") }) };
    const weight = parseKg(get("weight_kg"), true);
    if (weight.error) return { error: `${number}: ${weight.error}` };
    const item = { number, transporter, weight_kg: weight.value };
    if (hazardous) {
      const code = get("hw_code");
      if (!code) return { error: t("Enter “%(name)s”.", { name: t("Waste code") }) };
      item.hw_code = code;
    }
    out.push(item);
  }
  if (!out.length) return { error: t("Add the manifest of each truck.") };
  localStorage.setItem("scan.transporter", out[out.length - 1].transporter);
  return { manifests: out };
}

export function lotShipScreen(app, prefill) {
  const to = select("to", (app.context?.destinations?.lot || []).map((o) => [o.code, `${o.code} · ${o.name}`]), t("Choose…"));
  const lots = app.context?.lots?.open || [];
  let current = null;
  const list = h("div", { class: "manifests" });
  // Only 名录 waste carries a waste code (a controlled substance, e.g. refrigerant, does not).
  const wasteOf = (lot) => !!app.catalog.fractions.find((f) => f.code === lot?.fraction)?.hazardous;
  const addTruck = () => list.append(manifestRow(hwCodeOf(app, current), wasteOf(current)));
  const add = h("button", { type: "button", class: "add-manifest", onclick: addTruck }, t("Add a truck"));
  addTruck();
  return lotScreen(app, "lot_ship", {
    lots, type: "lot_shipped", prefill,
    fields: [field(t("Processor"), to), h("h3", {}, t("Transfer manifests")), list, add],
    submitLabel: t("Record lot shipment"),
    onLot: (lot) => {
      current = lot;
      clear(list);
      addTruck();
    },
    build: (v, form) => {
      if (!v.to) return { error: t("Choose the destination.") };
      const found = manifestsOf(form, !!current?.hazardous);
      if (found.error) return found;
      const total = found.manifests.reduce((sum, m) => sum + Number(m.weight_kg), 0);
      return { fields: { to: v.to, manifests: found.manifests }, summary: `→ ${v.to} · ${found.manifests.length} × ${t("Manifest no.")} · ${kg(total)}` };
    },
  });
}

export function lotReceiveScreen(app, prefill) {
  const lots = app.context?.lots?.incoming || [];
  const weights = h("div", { class: "manifest-weights" });
  let current = null;
  const show = (lot) => {
    current = lot;
    const numbers = lot?.manifests || [];
    clear(weights, numbers.length
      ? numbers.map((n) => field(`${t("Manifest no.")} ${n}`, weightInput("weight_kg", true), t("weigh this truck's load")))
      : field(t("Weight (kg)"), weightInput("weight_kg", true)));
  };
  show(null);
  return lotScreen(app, "lot_receive", {
    lots, type: "lot_received", prefill, onLot: show,
    fields: [weights],
    submitLabel: t("Record lot receipt"),
    build: (_v, form) => {
      const inputs = [...form.querySelectorAll(".manifest-weights input")];
      const numbers = current?.manifests || [];
      if (!numbers.length) {
        const weight = parseKg(inputs[0]?.value, true);
        return weight.error ? { error: weight.error } : { fields: { weight_kg: weight.value }, summary: `${weight.value} kg` };
      }
      const manifests = [];
      for (const [index, number] of numbers.entries()) {
        const weight = parseKg(inputs[index]?.value, true);
        if (weight.error) return { error: `${number}: ${weight.error}` };
        manifests.push({ number, weight_kg: weight.value });
      }
      const total = manifests.reduce((sum, m) => sum + Number(m.weight_kg), 0);
      return { fields: { manifests }, summary: kg(total) };
    },
  });
}

export function stocktakeScreen(app, prefill) {
  return lotScreen(app, "stocktake", {
    lots: app.context?.lots?.open || [], type: "stocktake", prefill, weighs: true,
    fields: [field(t("Weight (kg)"), weightInput("weight_kg", true), t("weigh what is in store of this lot"))],
    submitLabel: t("Record stocktake"),
    build: (v) => {
      const weight = parseKg(v.weight_kg, true);
      return weight.error ? { error: weight.error } : { fields: { weight_kg: weight.value }, summary: `${weight.value} kg` };
    },
  });
}

export function lotTreatScreen(app, prefill) {
  return lotScreen(app, "lot_treat", {
    lots: app.context?.lots?.received || [], type: "lot_treated", prefill,
    fields: [field(t("Treatment method"), textInput("method", { required: true }))],
    submitLabel: t("Record treatment"),
    build: (v) => (clean(v.method) ? { fields: { method: clean(v.method) }, summary: clean(v.method) } : { error: t("Enter “%(name)s”.", { name: t("Treatment method") }) }),
  });
}

/** Which fields of which step a correction may change (custody/corrections.py). */
const CORRECTABLE = {
  collected: ["weight_kg", "brand", "model", "serial", "source"],
  shipped: ["manifest_no"],
  received: ["weight_kg"],
  stored: ["area"],
  dismantled: ["line"],
  refused: ["reason"],
};

export function correctScreen(app, prefill = {}) {
  let qrId = null;
  const slot = h("div", { class: "card-slot" });
  const which = select("corrects", [], t("Choose the record…"));
  const fieldSelect = select("field", [], t("Choose the field…"));
  const value = textInput("value", { required: true });
  const reason = textInput("reason", { required: true });
  let events = [];
  which.addEventListener("change", () => {
    const event = events.find((e) => e.id === which.value);
    clear(fieldSelect, h("option", { value: "" }, t("Choose the field…")),
      (CORRECTABLE[event?.type] || []).map((f) => h("option", { value: f }, fieldName(f))));
  });
  const screen = frame(app, "correct", {
    onValue: (id) => {
      qrId = id;
      const card = deviceCard(app, id);
      card.addEventListener("device", (e) => {
        events = e.detail.events.filter((ev) => ev.org === app.user.org && CORRECTABLE[ev.type]);
        clear(which, h("option", { value: "" }, t("Choose the record…")),
          events.map((ev) => h("option", { value: ev.id }, `${eventName(ev.type)} · ${when(ev.occurred_at)}`)));
      });
      clear(slot, card);
    },
    form: [slot, field(t("Record to correct"), which), field(t("Field"), fieldSelect), field(t("Correct value"), value), field(t("Reason"), reason)],
    submitLabel: t("Record correction"),
    onSubmit: async (form) => {
      const v = values(form);
      const missing = requireId(qrId);
      if (missing) return missing;
      if (!v.corrects || !v.field) return t("Choose the record and the field.");
      if (!clean(v.value) || !clean(v.reason)) return t("Enter the correct value and the reason.");
      let corrected = clean(v.value);
      if (v.field === "weight_kg") {
        const weight = parseKg(corrected, true);
        if (weight.error) return weight.error;
        corrected = weight.value;
      }
      await app.record("correct", [newEvent("corrected", { corrects: v.corrects, reason: clean(v.reason), fields: { [v.field]: corrected } })],
        `${displayId(qrId)} · ${fieldName(v.field)} = ${corrected}`);
      qrId = null; screen.box.clear(); clear(slot); form.reset();
      return null;
    },
  });
  if (prefill.qr_id) screen.box.take(prefill.qr_id, "prefill");
  return screenOf(screen);
}

export const SCREENS = {
  collect: collectScreen,
  ship: shipScreen,
  receive: receiveScreen,
  refuse: refuseScreen,
  store: storeScreen,
  dismantle: dismantleScreen,
  batch: batchScreen,
  lot_ship: lotShipScreen,
  lot_receive: lotReceiveScreen,
  lot_treat: lotTreatScreen,
  stocktake: stocktakeScreen,
  correct: correctScreen,
};
