// The printable label page (/scan/label/<code>): its print button (no inline
// script: the page's CSP allows scripts from this origin only).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
