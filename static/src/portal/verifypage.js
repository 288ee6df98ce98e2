// The "verify this page" button of the device page: the proof bundle fetched and checked
// here (verify.js), the trust anchors from the deployment's published trust file
// (GET /api/v1/ledger), the roots from the chain through the deployment's JSON-RPC.
import { loadStrings, pageLanguage, t } from "../common/i18n.js";
import { rpcClient, verifyBundle } from "./verify.js";

const CAUSES = {
  digest: () => t("its content does not hash to its digest: it was changed after it was recorded"),
  prev: () => t("it does not name the previous event: the chain of records is broken"),
  pending: () => t("not anchored yet"),
  root: () => t("its batch root is not on the chain"),
  submitter: () => t("anchored by a submitter the trust file does not accept"),
  proof: () => t("its Merkle proof does not lead to the root on the chain"),
  unhashable: () => t("its content cannot be hashed"),
};
const REFUSALS = {
  chain: () => t("the node serves another chain than the trust file names"),
  genesis: () => t("the node's chain was reset or replaced: its genesis block is not the trusted one"),
  registry: () => t("the bundle names another registry than the trust file"),
  owner: () => t("the registry is not owned by the regulator the trust file names"),
};

function beijing(seconds) {
  const text = new Date(seconds * 1000).toLocaleString("sv-SE", { timeZone: "Asia/Shanghai" });
  return t("%(time)s (Beijing time)", { time: text });
}

function line(result, maxDelay, recorded) {
  const li = document.createElement("li");
  li.dataset.verifyEvent = result.id;
  let status = result.status;
  let detail = result.cause ? (CAUSES[result.cause] || (() => result.cause))() : "";
  if (status === "verified") {
    detail = t("block %(block)s · %(time)s", { block: result.block, time: beijing(result.timestamp) });
    const at = Date.parse(recorded) / 1000;
    if (result.timestamp < at - 300 || result.timestamp > at + maxDelay) {
      status = "late";
      detail += " · " + t("anchored late");
    }
  }
  li.dataset.status = status;
  const badge = document.createElement("span");
  badge.className = `badge ${status === "verified" ? "ok" : status === "pending" || status === "late" ? "wait" : "bad"}`;
  badge.textContent = t(status);
  const what = document.createElement("strong");
  what.textContent = ` ${t(result.type)} `;
  const id = document.createElement("code");
  id.textContent = result.id.slice(0, 8);
  id.title = result.id;
  const why = document.createElement("span");
  why.textContent = ` — ${detail}`;
  li.append(badge, what, id, why);
  return li;
}

async function run(button, out) {
  button.disabled = true;
  out.dataset.verifyOutcome = "running";
  out.replaceChildren(Object.assign(document.createElement("p"), { textContent: t("Verifying in your browser…") }));
  const summary = document.createElement("p");
  const list = document.createElement("ul");
  list.className = "verify-events";
  try {
    const get = async (url) => {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.json();
    };
    const [bundle, ledger] = await Promise.all([get(button.dataset.bundle), get(button.dataset.trust)]);
    if (!ledger.trust) throw Object.assign(new Error(t("this deployment publishes no trust anchors")), { code: "trust" });
    const results = await verifyBundle(bundle, ledger.trust, rpcClient(button.dataset.rpc));
    const maxDelay = Number(button.dataset.maxDelay || 86400);
    const recorded = new Map(bundle.events.map((e) => [String(e.content?.id), e.content?.recorded_at]));
    const items = results.map((r) => line(r, maxDelay, recorded.get(r.id)));
    list.append(...items);
    const bad = items.filter((li) => !["verified", "late"].includes(li.dataset.status)).length;
    out.dataset.verifyOutcome = bad || !items.length ? "failed" : "verified";
    summary.className = bad ? "alert" : "verify-ok";
    summary.textContent = bad
      ? t("%(bad)d of %(n)d events fail verification in your browser.", { bad, n: items.length })
      : t("All %(n)d events verified in your browser against the chain.", { n: items.length });
  } catch (error) {
    out.dataset.verifyOutcome = "refused";
    summary.className = "alert";
    const why = error.code && REFUSALS[error.code] ? REFUSALS[error.code]() : error.message;
    summary.textContent = t("Verification refused: %(why)s", { why });
  }
  out.replaceChildren(summary, list);
  button.disabled = false;
}

export async function initVerifyButtons() {
  const buttons = document.querySelectorAll("button[data-verify-page]");
  if (!buttons.length) return;
  await loadStrings(pageLanguage());
  for (const button of buttons) {
    const out = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", () => run(button, out));
    button.dataset.ready = "true";
  }
}
