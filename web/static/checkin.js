// A room's check-in page (web/templates/checkin.html), which the QR code
// on its door opens: the member's bookings of the room that can be
// confirmed now, each with a big "Je suis là" (POST
// /api/v1/bookings/:id/checkin).
import { t, api, problemText } from "./common.js";

const root = document.getElementById("checkin");
const room = root.dataset.room;
const zone = root.dataset.tz || "UTC";
const locale = root.dataset.lang === "en" ? "en-GB" : "fr-FR";
const status = document.getElementById("ci-status");
const list = document.getElementById("ci-list");
const fmtTime = (iso) => new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
const early = 15 * 60 * 1000;

async function checkIn(b, li, button) {
  button.disabled = true;
  const res = await api("POST", "/api/v1/bookings/" + encodeURIComponent(b.id) + "/checkin");
  if (res.ok) {
    const p = document.createElement("p");
    p.className = "ok";
    p.textContent = t("checkin_done", { title: b.title, time: fmtTime(res.body.checked_in) });
    button.replaceWith(p);
    status.textContent = t("checkin_done", { title: b.title, time: fmtTime(res.body.checked_in) });
    status.focus();
    return;
  }
  status.textContent = problemText(res);
  button.disabled = false;
}

async function load() {
  const now = Date.now();
  const from = new Date(now - 24 * 3600 * 1000).toISOString();
  const to = new Date(now + early).toISOString();
  const res = await api("GET", `/api/v1/bookings?mine=true&room=${encodeURIComponent(room)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  if (!res.ok || !Array.isArray(res.body)) {
    status.textContent = problemText(res);
    return;
  }
  const data = res.body;
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
