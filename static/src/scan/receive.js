// Receive: a pallet checked against its shipment (issue 19). The screen lists
// what is on its way to this plant, by shipment and sender; the first scan of
// a device on one of them opens that shipment (no tap), and each device is
// recorded as soon as it has a weight — from the scale (a stable reading, the
// device just scanned) or typed and "Receive all". Progress is n/N of the
// shipment. At close, devices on the shipment that never came (short) and
// devices that are not on it (over) are listed, each with an explicit action:
// refuse, or receive with a note, or leave on its way. The pallet is kept on
// the handheld (pallet.js) through a reload, Back and a dead network.
import { t } from "../common/i18n.js";
import { displayId } from "./ids.js";
import * as store from "./pallet.js";
import { connectSerial, hasSerial } from "./scale.js";
import { deviceCard, frame, newEvent, parseKg, requireId, screenOf, weightInput } from "./steps.js";
import { clear, field, h, kg, when } from "./ui.js";
import { stateName } from "./words.js";

/** Why a device the lookup knows cannot be received here, or null. */
function wrongState(device, org) {
  if (device.state === "in_transit" && device.destination === org) return null;
  if (device.state === "collected" && device.custodian === org) return null;
  if (device.state === "received" && device.custodian === org) {
    return device.received_at
      ? t("✗ %(id)s was already received here (%(when)s).", { id: displayId(device.qr_id), when: when(device.received_at) })
      : t("✗ %(id)s was already received here.", { id: displayId(device.qr_id) });
  }
  return t("✗ %(id)s is %(state)s at %(org)s: it is not on its way to this plant.", {
    id: displayId(device.qr_id), state: stateName(device.state), org: device.custodian || "",
  });
}

/** The progress bar's fill (set through the CSSOM: the page's CSP has no inline styles). */
function bar(percent) {
  const el = h("span", { class: "progress-bar" });
  el.style.width = `${percent}%`;
  return el;
}

function ageText(list) {
  if (!list?.fetchedAt) return "";
  const minutes = Math.max(0, Math.round((Date.now() - list.fetchedAt) / 60000));
  return t("List as of %(when)s (%(n)d min ago)", { when: when(new Date(list.fetchedAt).toISOString()), n: minutes });
}

function shipmentName(s) {
  return s.manifest_no ? t("Manifest %(no)s", { no: s.manifest_no }) : t("No manifest, shipped %(when)s", { when: when(s.shipped_at) });
}

export function receiveScreen(app, prefill = {}) {
  const user = app.user;
  let pallet = store.loadPallet(user);
  let incoming = store.cachedIncoming(user);
  const loaded = store.refreshIncoming(user).then((list) => { incoming = list; renderHead(); });
  const rows = new Map(); // id → {li, input, chip}
  let lastScanned = null; // the device a scale reading weighs
  const list = h("ol", { class: "pallet" });
  const count = h("span", { class: "count" }, "0");
  const head = h("section", { class: "shipment-panel" });
  const closing = h("section", { class: "over-short", hidden: true });
  const save = () => store.savePallet(user, pallet);
  const rowOf = (id) => pallet.rows.find((r) => r.id === id);

  function progress() {
    const on = new Set(pallet.shipment?.devices || []);
    return { done: pallet.rows.filter((r) => r.recorded && on.has(r.id)).length, total: on.size };
  }

  function renderHead() {
    if (pallet.shipment) {
      const s = pallet.shipment;
      const { done, total } = progress();
      clear(head,
        h("div", { class: "receiving", dataset: { shipment: s.key } },
          h("p", {}, h("b", {}, s.sender_name), " ", h("span", { class: "muted" }, s.sender), " · ", shipmentName(s)),
          h("div", { class: "progress", dataset: { done, total } },
            bar(total ? (100 * done) / total : 0),
            h("b", { class: "progress-text" }, t("%(done)d of %(total)d received", { done, total }))),
          h("button", { type: "button", class: "close-pallet", onclick: startClosing }, t("Close pallet: over/short"))));
      return;
    }
    const shipments = incoming?.shipments || [];
    clear(head,
      h("h2", {}, t("On its way to this plant")),
      incoming ? h("p", { class: "muted incoming-age", dataset: { fetched: incoming.fetchedAt } }, ageText(incoming)) : null,
      shipments.length
        ? h("ul", { class: "incoming" }, shipments.map((s) => h("li", {},
          h("button", { type: "button", class: "shipment", dataset: { key: s.key }, onclick: () => choose(s) },
            h("b", {}, s.sender_name), " · ", shipmentName(s), " · ", t("%(n)d devices", { n: s.devices.length })))))
        : h("p", { class: "muted" }, incoming ? t("Nothing is on its way to this plant.") : t("Offline: the list of shipments is not on this phone yet.")),
      shipments.length ? h("p", { class: "muted" }, t("Scan a device of the pallet: its shipment opens.")) : null,
      // Devices received without a shipment (the plant's own collections): the pallet still closes.
      pallet.rows.some((r) => r.recorded)
        ? h("button", { type: "button", class: "close-pallet", onclick: startClosing }, t("Close the pallet")) : null);
  }

  function choose(shipment) {
    pallet.shipment = store.palletShipment(shipment);
    for (const row of pallet.rows) row.over = !pallet.shipment.devices.includes(row.id);
    save();
    for (const row of pallet.rows) paintRow(row);
    renderHead();
  }

  function paintRow(row) {
    const shown = rows.get(row.id);
    if (!shown) return;
    const status = row.recorded ? "recorded" : row.over ? "over" : "waiting";
    shown.li.dataset.status = status;
    shown.li.className = `pallet-row ${status}`;
    if (row.kg && shown.input.value !== row.kg) shown.input.value = row.kg;
    shown.input.disabled = row.recorded;
    shown.remove.hidden = row.recorded;
    clear(shown.chip, {
      recorded: "✓ " + t("received") + (row.kg ? " " + kg(row.kg) : ""),
      over: t("not on this shipment"),
      waiting: t("waiting for a weight"),
    }[status]);
  }

  function showRow(row) {
    const weight = weightInput(`weight_${row.id}`, true, t("kg"));
    weight.value = row.kg || prefill.weight_kg || "";
    weight.addEventListener("input", () => { row.kg = weight.value.trim() || null; row.how = "typed"; save(); });
    const chip = h("span", { class: "chip" });
    const remove = h("button", { type: "button", class: "remove", "aria-label": t("Remove"), onclick: () => drop(row.id) }, "✕");
    const li = h("li", { class: "pallet-row", dataset: { id: row.id } },
      deviceCard(app, row.id),
      h("div", { class: "row-weight" }, field(t("Weight (kg)"), weight), chip, remove));
    rows.set(row.id, { li, input: weight, chip, remove });
    list.prepend(li);
    paintRow(row);
    count.textContent = pallet.rows.length;
  }

  function drop(id) {
    pallet.rows = pallet.rows.filter((r) => r.id !== id);
    rows.get(id)?.li.remove();
    rows.delete(id);
    if (lastScanned === id) lastScanned = null;
    count.textContent = pallet.rows.length;
    save();
    renderHead();
  }

  /** A scanned device: checked against the shipment and its state before it joins the pallet. */
  async function add(id) {
    const existing = rowOf(id);
    if (existing?.recorded) {
      screen.box.refuse(t("✗ %(id)s is already received on this pallet.", { id: displayId(id) }));
      app.feedback.bad();
      return;
    }
    if (existing) {
      app.feedback.good();
      lastScanned = id;
      rows.get(id)?.input.focus();
      return;
    }
    await loaded;
    const travelling = store.shipmentOf(incoming, id);
    if (!travelling) {
      const found = await app.lookup(id);
      const problem = found.device ? wrongState(found.device, user.org) : null;
      if (problem) {
        screen.box.refuse(problem);
        app.feedback.bad();
        return;
      }
    }
    if (!pallet.shipment && travelling) choose(travelling);
    const over = Boolean(pallet.shipment) && !pallet.shipment.devices.includes(id);
    const row = { id, kg: null, how: null, recorded: false, over, at: Date.now() };
    pallet.rows.push(row);
    save();
    showRow(row);
    lastScanned = id;
    rows.get(id).input.focus();
    if (over) {
      app.feedback.warn();
      screen.box.refuse(t("⚠ %(id)s is not on this shipment: it is listed at close.", { id: displayId(id) }));
    } else {
      app.feedback.good();
    }
    renderHead();
  }

  async function record(row, how) {
    await app.record("receive", [newEvent("received", { qr_id: row.id, weight_kg: row.kg })],
      `${displayId(row.id)} · ${row.kg} kg`);
    row.recorded = true;
    row.how = how;
    save();
    paintRow(row);
    renderHead();
  }

  /** A scale's reading: the weight of the device just scanned, recorded when it is on the shipment. */
  async function onWeight(reading) {
    const say = (text) => { app.feedback.warn(); screen.box.refuse(text); };
    if (reading.status !== "stable" || !reading.kg) {
      return say(reading.status === "overload" ? t("⚠ The scale is overloaded: nothing recorded.") : t("⚠ The scale is not steady yet: nothing recorded. Wait for a stable weight."));
    }
    const row = lastScanned && rowOf(lastScanned);
    if (!row || row.recorded) return say(t("⚠ %(kg)s read from the scale: scan the device first.", { kg: kg(reading.kg) }));
    row.kg = reading.kg;
    row.how = "scale";
    save();
    paintRow(row);
    lastScanned = null;
    if (row.over) {
      app.feedback.good();
      screen.box.refuse(t("%(id)s weighed %(kg)s: not on this shipment, decided at close.", { id: displayId(row.id), kg: kg(row.kg) }));
      return undefined;
    }
    await record(row, "scale");
    screen.box.clear();
    return undefined;
  }

  // -- closing: over/short, each an explicit action ---------------------------

  function decisionButtons(id, kind) {
    const choices = kind === "short"
      ? [["refuse", t("Refuse: not delivered")], ["wait", t("Leave on its way")]]
      : [["refuse", t("Refuse and send back")], ["receive", t("Receive with a note")]];
    const decided = pallet.decisions[id]?.action;
    return h("div", { class: "decision", dataset: { id, kind, decided: decided || "" } },
      choices.map(([action, label]) => h("button", {
        type: "button", class: `choice choice-${action}${decided === action ? " chosen" : ""}`, dataset: { action },
        onclick: () => { pallet.decisions[id] = { ...pallet.decisions[id], action }; save(); renderClosing(); },
      }, label)),
      kind === "over" && decided === "receive" ? noteInput(id) : null);
  }

  function noteInput(id) {
    const input = h("input", { type: "text", class: "over-note", name: `note_${id}`, autocomplete: "off",
      value: pallet.decisions[id]?.note ?? t("On the pallet of %(shipment)s, not on its list.", { shipment: pallet.shipment.manifest_no || pallet.shipment.key }) });
    input.addEventListener("input", () => { pallet.decisions[id].note = input.value; save(); });
    pallet.decisions[id].note ??= input.value;
    return field(t("Note"), input);
  }

  function renderClosing() {
    const { short, over, unweighed } = store.overShort(pallet);
    const line = (id, kind) => h("li", { class: `os-line ${kind}`, dataset: { id, kind } },
      h("b", {}, displayId(id)), rowOf(id)?.kg ? ` · ${kg(rowOf(id).kg)}` : "", decisionButtons(id, kind));
    const undecided = [...short, ...over].filter((id) => !pallet.decisions[id]?.action
      || (pallet.decisions[id].action === "receive" && !rowOf(id)?.kg));
    const { done, total } = progress();
    clear(closing,
      h("h2", {}, t("Over/short of this pallet")),
      h("p", { class: "os-summary", dataset: { done, total, short: short.length, over: over.length } },
        t("%(done)d of %(total)d received; %(short)d short, %(over)d over.", { done, total, short: short.length, over: over.length })),
      unweighed.length ? h("p", { class: "form-error unweighed" }, t("Still to weigh: %(ids)s", { ids: unweighed.map(displayId).join(", ") })) : null,
      short.length ? [h("h3", {}, t("Short: on the shipment, not on the pallet")), h("ul", { class: "os-list" }, short.map((id) => line(id, "short")))] : null,
      over.length ? [h("h3", {}, t("Over: on the pallet, not on the shipment")), h("ul", { class: "os-list" }, over.map((id) => line(id, "over")))] : null,
      undecided.length ? h("p", { class: "muted" }, t("Choose an action for each line (an over received needs its weight).")) : null,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "back-to-pallet", onclick: () => { pallet.closing = false; save(); renderClosing(); } }, t("Back to the pallet")),
        h("button", { type: "button", class: "primary finish-pallet", disabled: Boolean(undecided.length || unweighed.length), onclick: finish }, t("Close the pallet"))));
    closing.hidden = !pallet.closing;
    screen.form.hidden = pallet.closing;
  }

  function startClosing() {
    pallet.closing = true;
    save();
    renderClosing();
  }

  async function finish() {
    const { short, over } = store.overShort(pallet);
    const key = pallet.shipment ? pallet.shipment.manifest_no || pallet.shipment.key : "";
    const events = [];
    const lines = [];
    for (const id of short) {
      if (pallet.decisions[id].action !== "refuse") continue;
      events.push(newEvent("refused", { qr_id: id, reason: t("Not delivered with %(shipment)s.", { shipment: key }) }));
      lines.push(displayId(id) + " · " + t("refused: not delivered"));
    }
    for (const id of over) {
      const d = pallet.decisions[id];
      if (d.action === "refuse") {
        events.push(newEvent("refused", { qr_id: id, reason: t("Not on %(shipment)s: sent back.", { shipment: key }) }));
        lines.push(displayId(id) + " · " + t("refused: not on the shipment"));
      } else {
        const note = String(d.note || "").trim() || t("Not on %(shipment)s.", { shipment: key });
        events.push(newEvent("received", { qr_id: id, weight_kg: rowOf(id).kg, note }));
        lines.push(`${displayId(id)} · ${rowOf(id).kg} kg · ${note}`);
      }
    }
    const { done, total } = progress();
    const summary = pallet.shipment
      ? t("Pallet %(shipment)s closed: %(done)d of %(total)d, %(short)d short, %(over)d over", { shipment: key, done, total, short: short.length, over: over.length })
      : t("%(n)d devices received", { n: pallet.rows.filter((r) => r.recorded).length });
    if (events.length) await app.record("receive", events, summary, lines);
    store.dropPallet(user);
    pallet = store.emptyPallet();
    rows.clear();
    clear(list);
    count.textContent = "0";
    closing.hidden = true;
    screen.form.hidden = false;
    clear(head, h("p", { class: "pallet-closed", dataset: { short: short.length, over: over.length, done, total } }, "✓ ", summary));
    loaded.then(() => store.refreshIncoming(user)).then((l) => { incoming = l; });
  }

  // -- the screen -------------------------------------------------------------

  const serial = hasSerial()
    ? h("button", { type: "button", class: "serial-scale", onclick: async () => {
      try {
        await connectSerial((line) => app.scaleLine(line));
        serial.textContent = t("Scale connected");
      } catch {
        app.feedback.warn();
      }
    } }, t("Connect a scale (USB)"))
    : null;
  const screen = frame(app, "receive", {
    onValue: (id) => add(id),
    form: [head,
      h("p", { class: "muted" }, t("Scan each device, then weigh it: a stable reading of the scale records it. Or type the weights and receive them together.")),
      serial,
      h("p", {}, t("Devices:"), " ", count), list],
    submitLabel: t("Receive all"),
    onSubmit: async () => {
      const waiting = pallet.rows.filter((r) => !r.recorded && !r.over);
      if (!waiting.length) return requireId(null);
      const events = [];
      for (const row of waiting) {
        const weight = parseKg(rows.get(row.id)?.input.value, true);
        if (weight.error) return `${displayId(row.id)}: ${weight.error}`;
        row.kg = weight.value;
        events.push(newEvent("received", { qr_id: row.id, weight_kg: weight.value }));
      }
      await app.record("receive", events, t("%(n)d devices received", { n: events.length }), events.map((e) => `${displayId(e.qr_id)} · ${e.weight_kg} kg`));
      for (const row of waiting) { row.recorded = true; row.how ??= "typed"; paintRow(row); }
      if (!pallet.shipment) {
        store.dropPallet(user);
        pallet = store.emptyPallet();
        rows.clear(); clear(list); count.textContent = "0";
      }
      save();
      screen.box.clear();
      renderHead();
      return null;
    },
  });
  screen.el.append(closing);
  for (const row of pallet.rows) showRow(row);
  renderHead();
  renderClosing();
  if (prefill.qr_id) screen.box.take(prefill.qr_id, "prefill");
  const lastOpen = [...pallet.rows].reverse().find((r) => !r.recorded);
  if (lastOpen) lastScanned = lastOpen.id;
  return screenOf(screen, {
    focus: () => (lastScanned ? rows.get(lastScanned)?.input.focus() : null),
    onWeight,
    judges: true,
  });
}
