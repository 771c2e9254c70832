// A room's check-in page (web/templates/checkin.html), which the QR code
// on its door opens: the member's bookings of the room that can be
// confirmed now, each with a big "Je suis là" (POST
// /api/v1/bookings/:id/checkin).
import { t, csrf, detailIn } from "./common.js";

const root = document.getElementById("checkin");
const room = root.dataset.room;
const zone = root.dataset.tz || "UTC";
const locale = root.dataset.lang === "en" ? "en-GB" : "fr-FR";
const status = document.getElementById("ci-status");
const list = document.getElementById("ci-list");
const fmtTime = (iso) => new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
const early = 15 * 60 * 1000;

function errorMessage(code, body) {
  switch (code) {
    case 400: return t("err_invalid", { detail: detailIn(body?.detail) });
    case 401: return t("err_auth");
    case 403: return t("err_forbidden");
    case 404: return t("err_not_found");
    case 429: return t("err_rate");
    case 503: return t("err_unavailable");
  }
  return t("err_generic", { status: code });
}

async function checkIn(b, li, button) {
  button.disabled = true;
  let resp;
  try {
    resp = await fetch("/api/v1/bookings/" + encodeURIComponent(b.id) + "/checkin", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
  } catch (err) {
    status.textContent = t("err_network");
    button.disabled = false;
    return;
  }
  const body = await resp.json().catch(() => ({}));
  if (resp.ok) {
    const p = document.createElement("p");
    p.className = "ok";
    p.textContent = t("checkin_done", { title: b.title, time: fmtTime(body.checked_in) });
    button.replaceWith(p);
    status.textContent = t("checkin_done", { title: b.title, time: fmtTime(body.checked_in) });
    status.focus();
    return;
  }
  status.textContent = errorMessage(resp.status, body);
  button.disabled = false;
}

async function load() {
  const now = Date.now();
  const from = new Date(now - 24 * 3600 * 1000).toISOString();
  const to = new Date(now + early).toISOString();
  let data;
  try {
    const resp = await fetch(`/api/v1/bookings?mine=true&room=${encodeURIComponent(room)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) {
      status.textContent = errorMessage(resp.status);
      return;
    }
    data = await resp.json();
  } catch (err) {
    status.textContent = t("err_network");
    return;
  }
  // The bookings under way, or starting within 15 minutes.
  const now2 = Date.now();
  const open = data.filter((b) => Date.parse(b.start) - early <= now2 && now2 < Date.parse(b.end));
  list.replaceChildren();
  for (const b of open) {
    const li = document.createElement("li");
    const h = document.createElement("h2");
    h.textContent = b.title;
    const when = document.createElement("p");
    when.textContent = t("checkin_when", { start: fmtTime(b.start), end: fmtTime(b.end) });
    li.append(h, when);
    if (b.checked_in) {
      const p = document.createElement("p");
      p.className = "ok";
      p.textContent = t("checkin_already");
      li.append(p);
    } else {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "big";
      button.textContent = t("checkin_button");
      button.setAttribute("aria-label", t("checkin_button_label", { title: b.title }));
      button.addEventListener("click", () => checkIn(b, li, button));
      li.append(button);
    }
    list.append(li);
  }
  status.textContent = open.length ? t("checkin_count", { n: open.length }) : t("checkin_none");
}

load();
