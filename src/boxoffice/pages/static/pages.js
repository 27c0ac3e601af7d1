// Shared by every page (no inline scripts: the Content-Security-Policy forbids them).
// "Go back" links on error pages, without javascript: URLs.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-back]");
  if (a) { e.preventDefault(); if (history.length > 1) history.back(); else location.href = "/"; }
});
// After an htmx swap that carries an alert, move focus to it so that keyboard and screen
// reader users hear what went wrong.
document.addEventListener("htmx:afterSwap", (e) => {
  const alert = e.detail.target && e.detail.target.querySelector && e.detail.target.querySelector("[role=alert]");
  if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
});
