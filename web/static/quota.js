// What is left of the member's quotas, in words, in every element with
// data-quota on the page (the booking form and dialog, booking.html):
// "Il vous reste 3 h cette semaine à Nantes". Self-contained: a page
// shows it by having such an element and loading this module (sitebook.js
// does); it asks again after each booking (the "roomcal:booked" event).
// The quotas shown are those of the element's own data-site or data-room
// when it has one, else of the page's site (#day[data-site]) or room
// (#room[data-room]), else all of the member's.
import { t, api } from "./common.js";

// duration says a number of minutes the way a member reads it.
function duration(min) {
  const h = Math.floor(min / 60);
  const m = min % 60;
  if (h === 0) return t("quota_minutes", { m });
  if (m === 0) return t("quota_hours", { h });
  return t("quota_hours_minutes", { h, m: String(m).padStart(2, "0") });
}

// lines are the sentences of one quota.
function lines(q) {
  const out = [];
  const room = q.scope === "room";
  if (q.per_week_minutes > 0) {
    out.push(t(room ? "quota_week_room" : "quota_week_site", { left: duration(q.left_week_minutes), site: q.site_name, room: q.room_name }));
  }
  if (q.ahead > 0) {
    out.push(t(room ? "quota_ahead_room" : "quota_ahead_site", { used: q.used_ahead, max: q.ahead, site: q.site_name, room: q.room_name }));
  }
  if (q.longest_minutes > 0) {
    out.push(t("quota_longest", { max: duration(q.longest_minutes) }));
  }
  return out;
}

export async function refreshQuotas() {
  const els = document.querySelectorAll("[data-quota]");
  if (els.length === 0) return;
  const pageSite = document.querySelector("#day[data-site]")?.dataset.site;
  const pageRoom = document.querySelector("#room[data-room]")?.dataset.room;
  const res = await api("GET", "/api/v1/me/quotas");
  if (!res.ok) return;
  const body = res.body;
  for (const el of els) {
    const room = el.dataset.room || pageRoom;
    const site = el.dataset.site || pageSite;
    const mine = (body.quotas ?? []).filter((q) => (room ? (q.rooms ?? []).includes(room) : site ? q.site === site : true));
    const text = mine.flatMap(lines).join(" ");
    el.textContent = text;
    el.hidden = text === "";
  }
}

document.addEventListener("roomcal:booked", refreshQuotas);
refreshQuotas();
