// Batch dismantling (SPEC §2.4, issue 19): a line opens a batch (code and
// line), each device dismantled is one scan — no form: it is recorded at once
// as `dismantled` naming the batch — and the batch's outputs are weighed per
// fraction when it closes (`batch_closed`). A stable reading of the scale fills
// the next fraction to weigh. The mass bar is the batch's: its devices' intake
// against the outputs weighed, red and blocking over the tolerance; a fraction
// the rules require of one of its devices must be weighed. The open batch is
// kept on the handheld (a reload, Back, a dead network): its records go through
// the queue like every other.
import { t } from "../common/i18n.js";
import { displayId } from "./ids.js";
import { frame, newEvent, parseKg, requireId, screenOf, stepProblem, weightInput } from "./steps.js";
import { clear, field, h, kg } from "./ui.js";

const batchKey = (user) => `scan.batch-open.${user.username}`;
// The fractions this user's line weighed at its last closing: offered again.
const weighedKey = (user) => `scan.batch-fractions.${user.username}`;

function lastWeighed(user) {
  try {
    const saved = JSON.parse(localStorage.getItem(weighedKey(user)) || "[]");
    return Array.isArray(saved) ? saved.filter((c) => typeof c === "string") : [];
  } catch {
    return [];
  }
}

function loadBatch(user) {
  try {
    const saved = JSON.parse(localStorage.getItem(batchKey(user)) || "null");
    return saved && Array.isArray(saved.devices) ? saved : null;
  } catch {
    return null;
  }
}

/** A batch code for now, Beijing time: the line and the shift's date and hour. */
function suggestedCode(line) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${line || "L1"}-${parts.year}${parts.month}${parts.day}-${parts.hour}`;
}

const CODE = /^[A-Za-z0-9_.:/-]{1,64}$/;

export function batchScreen(app, prefill = {}) {
  const user = app.user;
  let batch = loadBatch(user);
  const save = () => (batch ? localStorage.setItem(batchKey(user), JSON.stringify(batch)) : localStorage.removeItem(batchKey(user)));
  const tolerance = app.tolerancePct;
  const head = h("section", { class: "batch-head" });
  const list = h("ul", { class: "batch-devices" });
  const closing = h("section", { class: "batch-closing", hidden: true });
  const outputs = h("div", { class: "outputs" });
  const barFill = h("div", { class: "balance-fill" });
  const balance = h("div", { class: "balance", role: "meter", "aria-label": t("Mass balance") }, barFill);
  const balanceText = h("span", { class: "balance-text" });
  const closeError = h("p", { class: "form-error close-error", role: "alert" });
  const closeButton = h("button", { type: "button", class: "primary close-batch", onclick: () => finish() }, t("Close the batch"));

  // -- opening ------------------------------------------------------------------

  const lineInput = h("input", { name: "line", type: "text", autocomplete: "off", autocapitalize: "off", value: localStorage.getItem("scan.line") || "L1" });
  const codeInput = h("input", { name: "batch", type: "text", autocomplete: "off", autocapitalize: "off", value: suggestedCode(lineInput.value) });
  lineInput.addEventListener("input", () => { codeInput.value = suggestedCode(lineInput.value.trim()); });
  const openError = h("p", { class: "form-error", role: "alert" });
  function open() {
    const code = codeInput.value.trim();
    const line = lineInput.value.trim();
    if (!CODE.test(code)) { openError.textContent = t("The batch code may contain letters, digits and _ . : / - only."); app.feedback.bad(); return; }
    if (line && !CODE.test(line)) { openError.textContent = t("The line may contain letters, digits and _ . : / - only."); app.feedback.bad(); return; }
    localStorage.setItem("scan.line", line);
    batch = { code, line: line || null, devices: [], weights: {}, extra: [], closing: false, opened: new Date().toISOString() };
    save();
    render();
  }

  // -- scanning devices ---------------------------------------------------------

  const intake = () => batch.devices.reduce((sum, d) => sum + (Number(d.kg) || 0), 0);

  function renderHead() {
    if (!batch) {
      clear(head,
        h("h2", {}, t("Open a batch")),
        h("p", { class: "muted" }, t("A batch is one run of the line: scan each device as it is dismantled, weigh the outputs per fraction when the batch closes.")),
        h("div", { class: "two" }, field(t("Line"), lineInput), field(t("Batch code"), codeInput)),
        openError,
        h("button", { type: "button", class: "primary open-batch", onclick: open }, t("Open the batch")));
      return;
    }
    const n = batch.devices.length;
    clear(head,
      h("div", { class: "batch-open", dataset: { batch: batch.code, devices: n } },
        h("p", {}, t("Batch %(code)s", { code: batch.code }), batch.line ? h("span", { class: "muted" }, " · ", t("line %(line)s", { line: batch.line })) : null),
        h("p", { class: "batch-count" }, h("b", {}, t("%(n)d devices dismantled, %(kg)s in", { n, kg: kg(intake().toFixed(3)) }))),
        batch.closing ? null : h("button", { type: "button", class: "start-closing", disabled: !n, onclick: startClosing }, t("Close the batch: weigh the outputs"))));
  }

  function showDevice(d, n) {
    list.prepend(h("li", { class: "batch-device", dataset: { id: d.id } },
      h("span", { class: "muted" }, `${n}. `), h("b", {}, displayId(d.id)), " ", h("span", { class: "muted" }, `${d.name || d.category || ""}${d.kg ? " · " + kg(d.kg) : ""}`)));
  }

  async function add(id) {
    if (!batch) { openError.textContent = t("Open a batch first."); app.feedback.bad(); return; }
    if (batch.closing) { screen.box.refuse(t("The batch is being closed: weigh its outputs, or go back to scanning.")); app.feedback.bad(); return; }
    if (batch.devices.some((d) => d.id === id)) {
      screen.box.refuse(t("✗ %(id)s is already in this batch.", { id: displayId(id) }));
      app.feedback.bad();
      return;
    }
    const found = await app.lookup(id);
    let problem = null;
    if (found.offline) {
      if (found.unknown) problem = t("✗ %(id)s is not held here (or is an unknown ID): “%(step)s” cannot be recorded for it.", { id: displayId(id), step: t("Batch dismantling") });
    } else if (!found.device) {
      problem = "✗ " + (found.status === 404
        ? t("%(id)s has not been collected yet.", { id: displayId(id) })
        : t("%(id)s is in another organisation's records and has not been shipped to you.", { id: displayId(id) }));
    } else {
      problem = stepProblem("dismantle", found.device, user);
    }
    if (problem) { screen.box.refuse(problem); app.feedback.bad(); return; }
    const device = found.device || {};
    const category = device.category ? app.category(device.category) : null;
    const d = {
      id, category: device.category || null, attributes: device.attributes || {},
      name: category ? app.name(category) : null, kg: device.received_weight_kg ?? null,
    };
    await app.record("batch", [newEvent("dismantled", { qr_id: id, batch: batch.code, line: batch.line || undefined })],
      `${displayId(id)} · ${t("batch %(code)s", { code: batch.code })}`);
    batch.devices.push(d);
    save();
    showDevice(d, batch.devices.length);
    screen.box.clear();
    renderHead();
  }

  // -- closing: one weighing per fraction ---------------------------------------

  /** The fractions to weigh: those the rules require of the batch's devices, then those
   * weighed at the last closing, the plant's open lots' and those added. */
  function fractionsToWeigh() {
    const required = new Set();
    const groups = [];
    for (const d of batch.devices) {
      if (!d.category) continue;
      const rule = app.rule(d.category, d.attributes || {});
      for (const code of rule.required || []) required.add(code);
      for (const g of rule.oneOf || []) if (!groups.some((x) => x.join() === g.join())) groups.push(g);
    }
    const open = (app.context?.lots?.open || []).map((l) => l.fraction);
    const also = [...groups.flat(), ...lastWeighed(user), ...open, ...batch.extra].filter((c, i, all) => !required.has(c) && all.indexOf(c) === i);
    return { required: [...required], groups, also };
  }

  function outputRow(code, required) {
    const input = weightInput(`out_${code}`, required, t("kg"));
    input.value = batch.weights[code] || "";
    input.dataset.fraction = code;
    input.addEventListener("input", () => { batch.weights[code] = input.value.trim(); save(); update(); });
    return h("div", { class: `output${required ? " required" : ""}`, dataset: { fraction: code } },
      field(`${app.fractionLabel(code)}${required ? " *" : ""}`, input));
  }

  function renderClosing() {
    closing.hidden = !batch?.closing;
    screen.form.hidden = Boolean(batch?.closing);
    if (!batch?.closing) return;
    const { required, also } = fractionsToWeigh();
    const current = app.catalog.fractions.filter((f) => !f.legacy && !required.includes(f.code) && !also.includes(f.code));
    const adder = h("select", { name: "add_fraction" }, h("option", { value: "" }, t("+ Add a fraction")),
      current.map((f) => h("option", { value: f.code }, app.fractionLabel(f.code))));
    adder.addEventListener("change", () => { if (adder.value) { batch.extra.push(adder.value); save(); renderClosing(); } });
    clear(outputs, required.map((c) => outputRow(c, true)), also.map((c) => outputRow(c, false)));
    clear(closing,
      h("h2", {}, t("Weigh the outputs of batch %(code)s", { code: batch.code })),
      h("p", { class: "muted" }, t("Put each fraction on the scale: a stable reading fills the next fraction. Or type the weights.")),
      outputs, field(t("Other fraction"), adder),
      h("div", { class: "balance-box" }, balance, balanceText),
      closeError,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "back-to-scanning", onclick: () => { batch.closing = false; save(); render(); } }, t("Back to scanning")),
        closeButton));
    update();
  }

  /** The batch's mass balance and what still blocks the closing, or null. */
  function update() {
    if (!batch?.closing) return null;
    let total = 0;
    for (const input of outputs.querySelectorAll("input")) {
      const n = Number(String(input.value).replace(",", "."));
      if (Number.isFinite(n) && n > 0) total += n;
    }
    const inKg = intake();
    const share = inKg ? total / inKg : 0;
    const over = inKg > 0 && share > 1 + tolerance / 100;
    barFill.style.width = `${Math.min(100, share * 100 / (1 + tolerance / 100))}%`;
    balance.className = `balance ${over ? "over" : share > 1 ? "near" : ""}`;
    balance.dataset.over = over ? "true" : "false";
    balanceText.textContent = `${t("Outputs %(out)s of %(in)s intake", { out: kg(total.toFixed(3)), in: kg(inKg.toFixed(3)) })} (${Math.round(share * 100)} %)`;
    const problem = over
      ? t("✗ The outputs weigh more than the batch's intake plus %(pct)s %: check the weights.", { pct: tolerance })
      : missingText();
    closeButton.disabled = Boolean(problem);
    // What blocks the closing is said as it stands: the tolerance, or what is still to weigh.
    closeError.textContent = problem || "";
    return problem;
  }

  function missingText() {
    const { required, groups } = fractionsToWeigh();
    const weighed = (c) => Number(String(batch.weights[c] || "").replace(",", ".")) > 0;
    const missing = required.filter((c) => !weighed(c)).map((c) => app.fractionLabel(c));
    for (const g of groups) if (!g.some(weighed)) missing.push(g.map((c) => app.fractionLabel(c)).join(" / "));
    return missing.length ? t("✗ Still to weigh: %(names)s", { names: missing.join(", ") }) : null;
  }

  function startClosing() {
    batch.closing = true;
    save();
    render();
    outputs.querySelector("input")?.focus();
  }

  /** A stable reading of the scale: the weight of the next fraction to weigh (the focused one first). */
  function onWeight(reading) {
    const say = (text) => { app.feedback.warn(); screen.box.refuse(text); };
    if (reading.status !== "stable" || !reading.kg) {
      return say(reading.status === "overload" ? t("⚠ The scale is overloaded: nothing recorded.") : t("⚠ The scale is not steady yet: nothing recorded. Wait for a stable weight."));
    }
    if (!batch?.closing) return say(t("⚠ %(kg)s read from the scale: the outputs are weighed when the batch closes.", { kg: kg(reading.kg) }));
    const inputs = [...outputs.querySelectorAll("input")];
    const focused = inputs.includes(document.activeElement) && !document.activeElement.value ? document.activeElement : null;
    const target = focused || inputs.find((i) => !i.value);
    if (!target) return say(t("⚠ %(kg)s read from the scale: every fraction is weighed. Add a fraction, or clear one to weigh it again.", { kg: kg(reading.kg) }));
    target.value = reading.kg;
    batch.weights[target.dataset.fraction] = reading.kg;
    save();
    app.feedback.good();
    const next = inputs.find((i) => !i.value);
    (next || closeButton).focus();
    update();
    return undefined;
  }

  async function finish() {
    const problem = update();
    if (problem) { closeError.textContent = problem; app.feedback.bad(); return; }
    const weighed = [];
    for (const input of outputs.querySelectorAll("input")) {
      const weight = parseKg(input.value, false);
      if (weight.error) { closeError.textContent = `${app.fractionLabel(input.dataset.fraction)}: ${weight.error}`; app.feedback.bad(); return; }
      if (weight.value !== undefined) weighed.push({ fraction: input.dataset.fraction, weight_kg: weight.value });
    }
    const summary = t("Batch %(code)s closed: %(n)d devices, %(f)d fractions", { code: batch.code, n: batch.devices.length, f: weighed.length });
    await app.record("batch", [newEvent("batch_closed", { batch: batch.code, outputs: weighed })], summary,
      [`${summary} · ${weighed.map((o) => `${app.fractionLabel(o.fraction)} ${o.weight_kg}`).join(", ")}`]);
    localStorage.setItem(weighedKey(user), JSON.stringify(weighed.map((o) => o.fraction)));
    const done = { code: batch.code, n: batch.devices.length, f: weighed.length };
    batch = null;
    save();
    render();
    head.prepend(h("p", { class: "batch-closed", dataset: { batch: done.code, devices: done.n, fractions: done.f } }, "✓ ", summary));
  }

  function render() {
    renderHead();
    clear(list);
    (batch?.devices || []).forEach((d, i) => showDevice(d, i + 1));
    screen.box.el.hidden = !batch; // before a batch is open, a scan has nowhere to go
    renderClosing();
  }

  const screen = frame(app, "batch", {
    onValue: (id) => add(id),
    form: [h("p", { class: "muted" }, t("Scan each device as it is dismantled: one scan records it in the batch.")), list],
    submitLabel: t("Check"),
    onSubmit: async () => requireId(null),
  });
  screen.form.querySelector("button.submit")?.remove();
  screen.el.prepend(head);
  screen.el.append(closing);
  render();
  if (prefill.qr_id && batch) screen.box.take(prefill.qr_id, "prefill");
  return screenOf(screen, {
    focus: () => (batch ? (batch.closing ? outputs.querySelector("input:placeholder-shown") : null)?.focus() : codeInput.focus()),
    onWeight,
    judges: true,
  });
}
