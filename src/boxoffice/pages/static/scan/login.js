// The scanner's sign-in page: a staff member's login link ends in #loginToken=...; the
// fragment never reaches a server, so it is read here into the staff token field, and
// dropped from the address bar (and so from the history).
const form = document.querySelector("form[data-staff-login]");
const m = /(?:^#|&)loginToken=([^&]+)/.exec(location.hash);
if (form && m) {
  const field = form.querySelector("#staff_token");
  try { field.value = decodeURIComponent(m[1]); } catch { field.value = m[1]; }
  history.replaceState(null, "", location.pathname + location.search);
  form.querySelector("button[type=submit]").focus();
}
