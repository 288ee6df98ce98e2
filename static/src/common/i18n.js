// The JavaScript's strings come from the same gettext catalogue as the
// server's (exported to /static/dist/i18n/{lang}.json at build time).
// t("English text") returns the translation, or the English msgid itself.

let strings = {};
let language = "en";

export function pageLanguage(doc = document) {
  return doc.documentElement.lang === "en" ? "en" : "zh-CN";
}

export async function loadStrings(lang, base = "/static/dist/i18n/") {
  language = lang;
  if (lang === "en") {
    strings = {};
    return;
  }
  const response = await fetch(`${base}${lang}.json`);
  strings = response.ok ? await response.json() : {};
}

export function currentLanguage() {
  return language;
}

/** Translate; %(name)s / %(name)d placeholders are filled from `values`. */
export function t(msgid, values = {}) {
  const text = strings[msgid] || msgid;
  return text.replace(/%\((\w+)\)[sd]/g, (_, name) => String(values[name] ?? ""));
}
