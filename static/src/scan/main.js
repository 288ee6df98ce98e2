// The handheld app (/scan): screens per step, scans from the camera, a wedge
// scanner or the keyboard, and an offline-first queue synced to /api/v1/events.
// The same bundle runs the offline sign-in screen (/scan/sign-in, signin.js).
import { api, csrfToken, setCsrfToken } from "../common/http.js";
import { loadStrings, pageLanguage, t } from "../common/i18n.js";
import * as feedback from "./feedback.js";
import { leastWeights, requiredOutputs } from "./conditions.js";
import { displayId, looksLikeLot, parseId, parseLot } from "./ids.js";
import * as custody from "./custody.js";
import * as history from "./history.js";
import * as pin from "./pin.js";
import { cameraControls, homeScanBox, volumeSetting } from "./home.js";
import * as queue from "./queue.js";
import * as roll from "./roll.js";
import * as signout from "./session.js";
import { startSignIn } from "./signin.js";
import { labelScreen, lotStepFor, readProblem, routeFor, SCREENS, STEPS_BY_KIND, stepHint, stepTitle } from "./steps.js";
import { clear, h, toast, when } from "./ui.js";
import { parseScale } from "./scale.js";
import { listenForWedge } from "./wedge.js";
import { reasonText } from "./words.js";

const root = document.getElementById("app");
const ds = root?.dataset ?? {};

const app = {
  // Whom this page was served to; `session` is whom the server last
  // confirmed the session cookie belongs to (context.json): records go out
  // only when the two are the same person, and only that person's.
  user: { username: ds.user, id: ds.userId ? Number(ds.userId) : null, org: ds.org, kind: ds.kind, role: ds.role },
  session: null,
  ended: false,
  lang: pageLanguage(),
  catalog: null,
  context: null,
  tolerancePct: 5,
  reachable: navigator.onLine,
  signedOut: false,
  current: null,
  feedback,
  name(entry) {
    return app.lang === "en" ? entry.en : entry.zh;
  },
  category(code) {
    return app.catalog.categories.find((c) => c.code === code);
  },
  /** Every matching rule's fractions: { required, oneOf }, and the key ones' least kg. */
  rule(category, attributes) {
    return {
      ...requiredOutputs(app.catalog.dismantling_rules?.rules, category, attributes),
      least: leastWeights(app.catalog.bands?.bands, category, attributes),
    };
  },
  /** A fraction's name with its hazard marks: ⚠ and its 名录 code, or the controlled substance. */
  fractionLabel(code) {
    const f = app.catalog.fractions.find((x) => x.code === code);
    if (!f) return code;
    const marks = [f.hazardous ? `⚠ ${f.hw_code ? `HW${f.hw_code.slice(-2)} ${f.hw_code}` : ""}`.trim() : "", f.controlled ? `❄ ${f.controlled}` : ""];
    return [app.name(f), ...marks.filter(Boolean)].join(" ");
  },
};

// The label roll: IDs for "no label" collections, topped up while online.
app.roll = {
  take: () => roll.take(app.user.org),
  label: (id) => roll.label(id).catch(() => null),
  topUp: () => (navigator.onLine && !app.signedOut ? roll.topUp(app.user).catch(() => 0) : Promise.resolve(0)),
};

// -- server calls -------------------------------------------------------------

/**
 * A device as the server knows it; offline, as the custody list kept on the
 * handheld says ({device, cached: true}), or {offline, unknown} when that list
 * does not hold it (unknown is false when no list is kept).
 */
async function lookup(id) {
  try {
    const response = await api(`/api/v1/devices/${encodeURIComponent(id)}`);
    if (response.ok) return { device: await response.json(), status: 200 };
    if (response.status === 401 || response.type === "opaqueredirect") setSignedOut(true);
    return { device: null, status: response.status };
  } catch {
    const device = custody.find(app.user, id);
    if (device) return { device, cached: true, status: 200 };
    return { device: null, offline: true, unknown: device === null, list: custody.cached(app.user) };
  }
}
app.lookup = lookup;

async function loadContext() {
  try {
    const response = await fetch("/scan/context.json", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) {
      setSignedOut(true);
      return false;
    }
    if (!response.ok) return false;
    const context = await response.json();
    if (!sameUser(context.user, app.user)) {
      // Someone else signed in on this phone since this page was served
      // (another tab, or the page outlived a sign-out): nothing is sent,
      // nothing of theirs is stored as this user's; the page becomes theirs.
      app.session = null;
      pageOfAnotherUser(context.user);
      return false;
    }
    app.context = context;
    app.session = { username: context.user.username, id: context.user.id };
    for (const key of Object.keys(sessionStorage)) if (key.startsWith("scan.reloaded-for.")) sessionStorage.removeItem(key);
    setCsrfToken(app.context.csrf_token);
    localStorage.setItem(`scan.context.${app.user.username}`, JSON.stringify(app.context));
    setSignedOut(false);
    return true;
  } catch {
    const saved = localStorage.getItem(`scan.context.${app.user.username}`);
    if (saved && !app.context) app.context = JSON.parse(saved);
    return false;
  }
}

function sameUser(a, b) {
  return Boolean(a && b) && a.username === b.username && (b.id == null || String(a.id) === String(b.id));
}

function pageOfAnotherUser(user) {
  app.ended = true;
  clearTimeout(timer);
  // Reloaded once: the server then serves the signed-in user's own app.
  const key = `scan.reloaded-for.${user.username}`;
  if (sessionStorage.getItem(key)) return;
  sessionStorage.setItem(key, "1");
  location.reload();
}

async function loadCatalog() {
  try {
    const response = await fetch("/api/v1/catalog");
    if (response.ok) app.catalog = await response.json();
  } catch {
    // the service worker answers from its cache when offline
  }
  return app.catalog;
}

// -- recording and syncing ----------------------------------------------------

const recent = [];

app.record = async (step, events, summary, lines = []) => {
  for (const event of events) {
    const item = await queue.enqueue({ user: app.user, step, event, summary: lines[events.indexOf(event)] || summary });
    history.noteQueued(app.user, item);
    recent.unshift(item);
  }
  // Observable progress (for people: the status bar; for tests: these counters).
  root.dataset.recorded = Number(root.dataset.recorded || 0) + events.length;
  recent.splice(30);
  feedback.good();
  toast(t("Saved: %(what)s", { what: summary }));
  renderStatus();
  renderRecent();
  sync();
};

let syncing = null;
let backoff = 2000;
let timer = null;

// An undo from the shift's history holds the next sync until the queue is changed.
let paused = 0;
app.pause = () => {
  paused += 1;
  // Resumed: what waits is sent (a timer that fired meanwhile was skipped).
  return () => { paused -= 1; if (!paused) sync(); };
};
app.idle = () => syncing || Promise.resolve();
app.refreshStatus = async () => {
  const held = new Set((await queue.all()).map((i) => i.id));
  recent.splice(0, recent.length, ...recent.filter((r) => r.status !== "pending" || held.has(r.id)));
  await renderStatus();
  renderRecent();
};

async function sync() {
  if (app.ended || paused) return undefined;
  if (syncing) return syncing;
  syncing = (async () => {
    const post = (events) => api("/api/v1/events", { method: "POST", body: { events } });
    // Sent only in the recorder's own session: as the server confirmed it
    // (context.json), asked again after a CSRF failure — the sign of a
    // session that changed hands — before the one retry.
    let result = { sent: 0, rejected: 0, outcome: "offline" };
    if (app.session || (await loadContext())) {
      result = await queue.flush(app.session, post, onResult);
      if (result.outcome === "csrf" || result.outcome === "other_user") {
        app.session = null;
        if (await loadContext()) result = await queue.flush(app.session, post, onResult);
      }
    } else if (app.signedOut) {
      result.outcome = "signed_out";
    }
    if (app.ended) return;
    if (result.outcome === "signed_out") setSignedOut(true);
    app.reachable = result.outcome !== "offline";
    if (result.outcome === "ok") custody.refresh(app.user);
    if (result.rejected) {
      feedback.bad();
      toast(t("%(n)d records were not accepted by the server: see the queue", { n: result.rejected }), "bad");
    }
    const pending = (await queue.all()).filter((i) => queue.recordedBy(i, app.user) && i.status === "pending");
    clearTimeout(timer);
    if (pending.length && result.outcome !== "signed_out") {
      timer = setTimeout(sync, backoff);
      backoff = Math.min(backoff * 2, 60000);
    } else {
      backoff = 2000;
    }
    await renderStatus();
    renderRecent();
    if (lotsMayHaveOpened) {
      lotsMayHaveOpened = false;
      await noticeNewLots();
    }
    if (location.hash.startsWith("#/queue")) route();
    else if (location.hash.startsWith("#/history")) app.current?.refresh?.();
  })();
  try {
    await syncing;
  } finally {
    syncing = null;
  }
}

const results = new Map();
let lotsMayHaveOpened = false;
function onResult(item, result) {
  results.set(item.id, result);
  history.noteResult(app.user, item, result);
  if (item.step === "dismantle" && result.status === "created") lotsMayHaveOpened = true;
  root.dataset.settled = Number(root.dataset.settled || 0) + 1;
  const shown = recent.find((r) => r.id === item.id);
  if (shown) {
    shown.status = result.status === "rejected" || result.status === "conflict" ? "rejected" : "sent";
    shown.error = result.error || null;
    shown.qr_id = result.qr_id;
  }
}

// -- output lots opened by a dismantling: their labels, to print at once -------

const newLots = [];
const newLotsBox = h("div", { class: "new-lots", id: "new-lots", hidden: true });

async function noticeNewLots() {
  const before = new Set((app.context?.lots?.open || []).map((l) => l.code));
  if (!(await loadContext())) return;
  for (const lot of app.context.lots?.open || []) {
    if (!before.has(lot.code) && !newLots.some((l) => l.code === lot.code)) newLots.push(lot);
  }
  renderNewLots();
  if (newLots.length) feedback.good();
}

function renderNewLots() {
  newLotsBox.hidden = newLots.length === 0;
  clear(newLotsBox,
    h("p", { class: "new-lots-title" }, t("New output lots opened: print their labels.")),
    h("ul", {}, newLots.map((lot) => h("li", { class: "new-lot", dataset: { lot: lot.code } },
      h("span", {}, h("b", {}, lot.code), " ", app.fractionLabel(lot.fraction)),
      h("a", { class: "button print-label", href: `/scan/label/${lot.code}`, target: "_blank", rel: "noopener" }, t("Print label"))))),
    h("button", { type: "button", class: "dismiss", onclick: () => { newLots.splice(0); renderNewLots(); } }, t("Done")));
}

function setSignedOut(value) {
  app.signedOut = value;
  document.body.classList.toggle("signed-out", value);
  renderStatus();
}

// -- chrome: status bar, recent list ------------------------------------------

const statusBar = h("a", { class: "status-bar", href: "#/queue", id: "status" });
// Built in start(), once the strings of the user's language are loaded.
let signedOutBanner = h("div", { hidden: true });
const recentList = h("ul", { class: "recent", id: "recent" });
const main = h("div", { id: "screen" });

async function renderStatus() {
  const everyone = await queue.all();
  const items = everyone.filter((i) => queue.recordedBy(i, app.user));
  const pending = items.filter((i) => i.status === "pending").length;
  const rejected = items.filter((i) => i.status === "rejected").length;
  const held = everyone.length - items.length;
  const online = navigator.onLine && app.reachable;
  statusBar.dataset.pending = pending;
  statusBar.dataset.rejected = rejected;
  statusBar.dataset.held = held;
  statusBar.className = `status-bar ${online ? "online" : "offline"}${rejected ? " has-rejected" : ""}`;
  clear(statusBar,
    h("span", { class: "dot" }, online ? t("Online") : t("Offline")),
    h("span", { class: "pending-count" }, t("%(n)d waiting", { n: pending })),
    rejected ? h("span", { class: "rejected-count" }, t("%(n)d not accepted", { n: rejected })) : null,
    held ? h("span", { class: "held-count" }, t("%(n)d held for others", { n: held })) : null);
  signedOutBanner.hidden = !app.signedOut;
}

function statusLabel(item) {
  return { pending: t("waiting"), sent: t("sent"), rejected: t("not accepted") }[item.status] || item.status;
}

function renderRecent() {
  const heading = document.querySelector(".recent-title");
  if (heading) heading.hidden = recent.length === 0;
  clear(recentList, recent.slice(0, 8).map((item) =>
    h("li", { class: `recent-item ${item.status}`, dataset: { id: item.id, status: item.status } },
      h("span", { class: "what" }, item.summary, item.qr_id && item.qr_id !== item.event?.qr_id ? ` → ${displayId(item.qr_id)}` : ""),
      h("span", { class: "chip" }, statusLabel(item)),
      item.step === "collect" && (item.qr_id || item.event?.qr_id)
        ? h("a", { class: "print-label", href: `#/label?id=${item.qr_id || item.event.qr_id}` }, t("Print label")) : null,
      item.error ? h("span", { class: "reason", lang: app.lang }, reasonText(item.error)) : null)));
}

// -- screens ------------------------------------------------------------------

function stepsForUser() {
  return STEPS_BY_KIND[app.user.kind] || [];
}

function homeScreen() {
  const message = h("div", { class: "home-message", role: "alert", hidden: true });
  const say = (route) => {
    message.hidden = false;
    message.dataset.reason = route.reason;
    clear(message, h("p", {}, route.why),
      route.link ? h("a", { class: "button", href: route.link.href }, route.link.text) : null);
  };
  return {
    el: h("div", { class: "screen home", dataset: { step: "home" } },
      message,
      homeScanBox(app, (text) => onScan(text, "typed")),
      // Shift work within thumb's reach, above the steps (the step tiles run below the fold).
      h("nav", { class: "shift-links" },
        h("a", { class: "button shift-link tile-history", href: "#/history" }, t("This shift")),
        h("a", { class: "button shift-link tile-switch", href: "#/switch" }, t("Switch user"))),
      h("p", { class: "muted scan-anywhere" }, t("Scan a label on any screen, or choose a step:")),
      h("nav", { class: "tiles" }, stepsForUser().map((step) =>
        h("a", { class: "tile", href: `#/${step}`, dataset: { step } }, h("b", {}, stepTitle(step)), h("small", {}, stepHint(step))))),
      h("a", { class: "tile tile-queue", href: "#/queue" }, h("b", {}, t("Queue")), h("small", {}, t("What is waiting to be sent or was not accepted"))),
      volumeSetting()),
    /** A device opens the step its state and this organisation allow; otherwise the home screen says why. */
    async onScan(raw) {
      message.hidden = true;
      const lot = parseLot(raw).code;
      if (lot) {
        const step = lotStepFor(lot, app.context, stepsForUser());
        if (step) location.hash = `#/${step}?lot=${encodeURIComponent(lot)}`;
        else bad(say, { reason: "lot_not_here", why: t("Lot %(code)s is not one your organisation can record a step for.", { code: lot }) });
        return;
      }
      const id = parseId(raw).id;
      const found = await lookup(id);
      const label = found.status === 404 ? await labelState(id) : null;
      const route = routeFor(found, app.user, stepsForUser(), label, id);
      if (route.step) location.hash = `#/${route.step}?id=${id}`;
      else bad(say, route);
    },
    onBadRead: (_raw, text) => say({ reason: "bad_read", why: text }),
  };
}

function bad(say, route) {
  feedback.bad();
  toast(route.why, "bad");
  say(route);
}

/** Whether a never-collected ID was issued as a label, and to whom: "yours", "other", "never"; null offline. */
async function labelState(id) {
  try {
    const response = await fetch(`/scan/ids/${encodeURIComponent(id)}.json`, { credentials: "same-origin", cache: "no-store" });
    return response.ok ? (await response.json()).issued : null;
  } catch {
    return null;
  }
}

function queueScreen() {
  const list = h("ul", { class: "queue-list" });
  queue.all().then((items) => {
    const mine = items.filter((i) => queue.recordedBy(i, app.user));
    const others = items.filter((i) => !queue.recordedBy(i, app.user));
    clear(list,
      mine.length || others.length ? null : h("li", { class: "muted" }, t("Nothing waiting.")),
      mine.map((item) => h("li", { class: `queue-item ${item.status}`, dataset: { id: item.id, status: item.status } },
        h("div", {}, h("b", {}, stepTitle(item.step)), " · ", item.summary),
        h("div", { class: "muted" }, when(new Date(item.created).toISOString()), " · ", statusLabel(item)),
        item.error ? h("p", { class: "reason", lang: app.lang }, reasonText(item.error)) : null,
        item.error ? h("p", { class: "server-message", lang: "en" }, item.error.message) : null,
        item.status === "rejected" ? h("div", { class: "actions" },
          h("button", { type: "button", class: "fix", onclick: () => fix(item) }, t("Fix")),
          h("button", { type: "button", class: "discard", onclick: () => discard(item) }, t("Discard"))) : null)),
      others.map((item) => h("li", { class: "queue-item held", dataset: { id: item.id, status: "held", recorder: item.user } },
        h("div", {}, h("b", {}, stepTitle(item.step)), " · ", item.summary),
        h("div", { class: "muted" }, when(new Date(item.created).toISOString())),
        h("p", { class: "held-note" }, t("Held: recorded by %(user)s, waiting for them to sign in.", { user: item.user })))));
  });
  return {
    el: h("div", { class: "screen", dataset: { step: "queue" } },
      h("button", { type: "button", class: "primary", onclick: () => sync() }, t("Send now")), list),
    onScan: (raw) => homeScreen().onScan(raw),
  };
}

async function discard(item) {
  if (!confirm(t("Discard this record? It will not be sent."))) return;
  await queue.remove(item.id);
  await renderStatus();
  route();
}

/** Open the item's step with its values, as a new record; the refused one is dropped. */
async function fix(item) {
  await queue.remove(item.id);
  pendingPrefill = { ...item.event, weight_kg: item.event.weight_kg };
  await renderStatus();
  location.hash = `#/${item.step}`;
}

let pendingPrefill = null;

app.route = () => route();

async function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  // Lots and destinations change as others work: fetched afresh for the lot screens.
  if (path.startsWith("lot_") || path === "stocktake") await loadContext();
  const params = new URLSearchParams(query || "");
  let screen;
  let title;
  if (path === "queue") {
    screen = queueScreen();
    title = t("Queue");
  } else if (path === "history") {
    screen = history.historyScreen(app);
    screen.onScan = (raw) => homeScreen().onScan(raw);
    title = t("This shift");
  } else if (path === "switch") {
    screen = pin.switchScreen(app);
    screen.onScan = (raw) => homeScreen().onScan(raw);
    title = t("Switch user");
  } else if (path === "label") {
    screen = labelScreen(app, params.get("id"));
    title = t("Label");
  } else if (SCREENS[path] && stepsForUser().includes(path)) {
    const prefill = pendingPrefill || {};
    pendingPrefill = null;
    if (params.get("id")) prefill.qr_id = params.get("id");
    if (params.get("lot")) prefill.lot = params.get("lot");
    screen = SCREENS[path](app, prefill);
    title = stepTitle(path);
  } else {
    screen = homeScreen();
    title = null;
  }
  app.current = screen;
  clear(main,
    title ? h("div", { class: "screen-head" }, h("a", { href: "#/", class: "back", "aria-label": t("Back") }, "‹"), h("h1", {}, title)) : null,
    screen.el);
  renderRecent();
  if (!["queue", "label", "history", "switch"].includes(path) && title) main.append(h("h2", { class: "recent-title" }, t("Recorded here")), recentList);
  renderRecent();
  window.scrollTo(0, 0);
  // What the user types next (a weight after the first scan) goes where it belongs.
  screen.focus?.();
}

// -- scanning -----------------------------------------------------------------

function onScan(raw, how) {
  const text = String(raw).trim();
  if (!text || app.ended) return;
  // A read is checked before any screen sees it: what the screen cannot take
  // gives the error sound and vibration and names what was read, and changes
  // no field (issue 19, item 1). The home screen takes devices and lots.
  const lotScreen = location.hash.includes("lot_") || location.hash.startsWith("#/stocktake");
  const home = !app.current?.el?.dataset || app.current.el.dataset.step === "home";
  const takes = home ? parseId(text).id || looksLikeLot(text) : lotScreen ? looksLikeLot(text) : parseId(text).id;
  document.body.dataset.lastScan = text;
  document.body.dataset.lastScanHow = how;
  if (!takes) {
    const problem = readProblem(text, lotScreen ? "lot" : "device");
    root.dataset.badReads = Number(root.dataset.badReads || 0) + 1;
    document.body.dataset.lastBadRead = text;
    feedback.bad();
    toast(problem, "bad");
    app.current?.onBadRead?.(text, problem);
    return;
  }
  // A screen that judges the device itself (receive: its shipment, its state) gives the feedback.
  if (!app.current?.judges) feedback.good();
  sync(); // a scan is a sign of life: send what waits
  app.current?.onScan(text, how);
}

/**
 * A scale's reading (a wedge burst or a serial line): the screen that takes
 * weights gets it; a motion or overload reading, or a screen that takes none,
 * gives the warning feedback and records nothing.
 */
function onScale(raw) {
  const reading = parseScale(raw);
  if (!reading || app.ended) return;
  root.dataset.scaleReads = Number(root.dataset.scaleReads || 0) + 1;
  document.body.dataset.lastScale = `${reading.status}:${reading.kg ?? ""}`;
  if (app.current?.onWeight) {
    app.current.onWeight(reading);
    return;
  }
  feedback.warn();
  toast(t("A scale reading: this screen takes no weight."), "warn");
}
app.scaleLine = onScale;

let stopCamera = null;
const video = h("video", { muted: true, playsinline: true, autoplay: true });
let cameraLayer = h("div", { hidden: true });
// Built in start(): continuous mode, torch, the reads of continuous mode.
let camera = null;

app.openCamera = async () => {
  cameraLayer.hidden = false;
  try {
    stopCamera = await startCameraLazily(video, (text) => {
      // Continuous: the camera stays open and each read is confirmed (sound, list).
      if (!camera.continuous()) {
        closeCamera();
        onScan(text, "camera");
        return;
      }
      const before = Number(root.dataset.badReads || 0);
      onScan(text, "camera");
      camera.noteRead(String(text).trim(), Number(root.dataset.badReads || 0) === before);
    });
    camera.opened(stopCamera.torch || null);
  } catch (error) {
    closeCamera();
    toast(t("The camera could not be opened: %(why)s", { why: cameraProblem(error) }), "bad");
  }
};

/** Why the camera did not open, in the user's words (never the browser's error name). */
function cameraProblem(error) {
  switch (error?.name) {
    case "NotFoundError":
    case "OverconstrainedError":
      return t("this phone has no camera that can scan");
    case "NotAllowedError":
    case "SecurityError":
      return t("the camera is not allowed for this app: allow it in the browser's settings");
    case "NotReadableError":
    case "AbortError":
      return t("another app is using the camera");
    default:
      return t("an unexpected error");
  }
}

function closeCamera() {
  stopCamera?.();
  stopCamera = null;
  cameraLayer.hidden = true;
}

async function startCameraLazily(videoEl, onCode) {
  // The decoder (and its 1 MB wasm) loads only when the camera is first used.
  const { startCamera } = await import("./camera.js");
  return startCamera(videoEl, onCode);
}

// -- signing out --------------------------------------------------------------

/** The header's sign-out: works offline; this user's unsent records stay theirs. */
async function signOut(event) {
  event.preventDefault();
  app.ended = true;
  clearTimeout(timer);
  closeCamera();
  const unsent = (await queue.all()).filter((i) => queue.recordedBy(i, app.user)).length;
  pin.forget(app.user.username); // a PIN ends with its user's session
  await signout.beginSignOut(app.user.username, csrfToken());
  const told = await signout.finishSignOut();
  for (const el of document.querySelectorAll(".topbar .who, .topbar .logout, #toast")) el.remove();
  const user = app.user.username;
  let kept;
  if (unsent === 1) kept = t("1 record not yet sent stays on this device for %(user)s. It is sent when %(user)s signs in again.", { user });
  else if (unsent) kept = t("%(n)d records not yet sent stay on this device for %(user)s. They are sent when %(user)s signs in again.", { n: unsent, user });
  else kept = t("Nothing of %(user)s waits to be sent.", { user });
  clear(root, h("section", { class: "screen signed-out-screen", dataset: { step: "signed-out", unsent } },
    h("h1", {}, t("Signed out")),
    h("p", { class: "unsent" }, kept),
    told ? null : h("p", { class: "muted offline-note" }, t("No network: the server is told as soon as this phone is online. Until then this phone shows the sign-in screen.")),
    h("a", { class: "button primary sign-in", href: "/scan/" }, t("Sign in"))));
  root.dataset.signedOut = told ? "done" : "pending";
}

// -- start --------------------------------------------------------------------

async function start() {
  await loadStrings(app.lang);
  // A sign-out made offline is finished before this page acts for anyone.
  if (await signout.pendingSignOut()) {
    if (await signout.finishSignOut()) location.replace("/scan/");
    else location.replace("/scan/sign-in");
    return;
  }
  document.querySelector(".topbar form.logout")?.addEventListener("submit", signOut);
  signedOutBanner = h("div", { class: "banner", role: "alert", hidden: true },
    t("Signed out. Your queued records are kept on this phone."), " ",
    h("a", { href: "/login?next=/scan/" }, t("Sign in again")));
  camera = cameraControls();
  cameraLayer = h("div", { class: "camera-layer", hidden: true },
    video, h("div", { class: "aim" }), camera.el,
    h("button", { type: "button", class: "camera-close", onclick: () => closeCamera() }, t("Close camera")));
  clear(root, signedOutBanner, statusBar, newLotsBox, main, cameraLayer);
  await Promise.all([loadContext(), loadCatalog()]);
  await custody.refresh(app.user, true);
  if (!app.catalog) {
    clear(main, h("p", { class: "alert" }, t("The app could not load its catalogue. Connect once to the network.")));
    return;
  }
  listenForWedge(onScan, (text) => Boolean(parseId(text).id) || looksLikeLot(text), document, {
    isScale: (text) => Boolean(parseScale(text)),
    onScale,
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => renderStatus());
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && sync());
  route();
  await renderStatus();
  root.dataset.ready = "true";
  sync();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/scan/sw.js", { scope: "/scan/" }).catch(() => {});
  }
}

if (root) start();
else if (document.getElementById("sign-in")) startSignIn(document.getElementById("sign-in"));
