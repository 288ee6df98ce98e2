// The sign-in screen (/scan/sign-in) the service worker shows when /scan/ is
// opened offline after a sign-out: it names nobody, says whose records wait
// on the phone, and signs in through /login once the network is back — first
// finishing a sign-out made offline, then with a fresh CSRF token (the one
// in the cached page belongs to a session that is gone).
import { loadStrings, pageLanguage, t } from "../common/i18n.js";
import * as queue from "./queue.js";
import * as signout from "./session.js";
import { clear, h } from "./ui.js";

function unsentText(user, n) {
  if (n === 1) return t("1 record not yet sent stays on this device for %(user)s. It is sent when %(user)s signs in again.", { user });
  return t("%(n)d records not yet sent stay on this device for %(user)s. They are sent when %(user)s signs in again.", { n, user });
}

async function freshToken() {
  const response = await fetch("/scan/sign-in", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) return null;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  return page.querySelector("input[name=csrf_token]")?.value || null;
}

export async function startSignIn(section) {
  await loadStrings(pageLanguage());
  const problem = section.querySelector("#sign-in-problem");
  const form = section.querySelector("form");
  const held = section.querySelector("#held-on-phone");
  const byUser = new Map();
  for (const item of await queue.all()) byUser.set(item.user, (byUser.get(item.user) || 0) + 1);
  clear(held, [...byUser].map(([user, n]) => h("li", { dataset: { user, count: n } }, unsentText(user, n))));
  held.hidden = byUser.size === 0;
  const offline = () => {
    problem.textContent = t("No network: connect the phone to sign in. Records not yet sent stay on this device.");
    problem.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    let token = null;
    try {
      if (await signout.finishSignOut()) token = await freshToken();
    } catch {
      token = null;
    }
    if (!token) {
      offline();
      return;
    }
    form.querySelector("input[name=csrf_token]").value = token;
    form.submit();
  });
  section.dataset.ready = "true";
}
