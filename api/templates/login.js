// The dev mode's login page (api/templates/login.html). When a session
// is open, its writes must carry the session's CSRF token in the
// X-CSRF-Token header, which a plain form cannot send: the forms that
// hold a csrf_token field (sign out, sign in as someone else) are sent
// with fetch instead, and the browser goes where the answer leads.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  const token = form.querySelector('input[name="csrf_token"]');
  if (!token) {
    return;
  }
  event.preventDefault();
  try {
    const resp = await fetch(form.action, {
      method: "POST",
      headers: { "X-CSRF-Token": token.value },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    window.location.assign(resp.redirected ? resp.url : "/login");
  } catch (err) {
    window.location.assign("/login");
  }
});
