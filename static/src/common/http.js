// Calls to this app's JSON API from a signed-in page: the session cookie
// plus the CSRF token the page carries in <meta name="csrf-token">.

export function csrfToken(doc = document) {
  const meta = doc.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

export function setCsrfToken(token, doc = document) {
  const meta = doc.querySelector('meta[name="csrf-token"]');
  if (meta && token) meta.setAttribute("content", token);
}

/** fetch() with credentials and, for writes, the X-CSRFToken header. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    redirect: "manual",
    signal,
  });
}
