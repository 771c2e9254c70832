// My bookings (web/templates/mine.html): GET /api/v1/bookings?mine=true,
// one row each with a cancel button (DELETE /api/v1/bookings/{id} with the
// session's CSRF token).
"use strict";

const root = document.getElementById("mine");
const lang = root.dataset.lang;
const msgs = JSON.parse(document.getElementById("messages").textContent);
const rooms = JSON.parse(document.getElementById("rooms").textContent) ?? {};
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

const status = document.getElementById("mine-status");
const empty = document.getElementById("mine-empty");
const table = document.getElementById("mine-table");
const tbody = table.querySelector("tbody");

function t(key, params = {}) {
  let s = msgs[key] ?? key;
  for (const [k, v] of Object.entries(params)) {
    s = s.replaceAll("{" + k + "}", String(v));
  }
  return s;
}

const locale = lang === "en" ? "en-GB" : "fr-FR";
const zoneOf = (room) => rooms[room]?.tz ?? "UTC";
const fmt = (iso, room, opts) => new Intl.DateTimeFormat(locale, { timeZone: zoneOf(room), ...opts }).format(new Date(iso));
const fmtDate = (iso, room) => fmt(iso, room, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fmtTime = (iso, room) => fmt(iso, room, { hour: "2-digit", minute: "2-digit" });

function errorMessage(status) {
  switch (status) {
    case 401: return t("err_auth");
    case 403: return t("err_forbidden");
    case 404: return t("err_not_found");
    case 429: return t("err_rate");
    case 503: return t("err_unavailable");
  }
  return t("err_generic", { status });
}

async function cancel(b, row, button) {
  button.disabled = true;
  let resp;
  try {
    resp = await fetch("/api/v1/bookings/" + encodeURIComponent(b.id), {
      method: "DELETE",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
  } catch (err) {
    status.textContent = t("err_network");
    button.disabled = false;
    return;
  }
  if (resp.status === 204 || resp.ok) {
    row.remove();
    status.textContent = t("mine_cancelled", { title: b.title });
    if (!tbody.children.length) {
      table.hidden = true;
      empty.hidden = false;
    }
    return;
  }
  status.textContent = errorMessage(resp.status);
  button.disabled = false;
}

// askConfirm asks, in the row, whether to cancel for good: a slip of the
// finger must not cancel a booking.
function askConfirm(b, row, td, button) {
  const box = document.createElement("div");
  box.className = "confirm";
  const q = document.createElement("p");
  q.textContent = t("mine_confirm", { title: b.title });
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "danger confirm-yes";
  yes.textContent = t("mine_confirm_yes");
  const no = document.createElement("button");
  no.type = "button";
  no.className = "secondary";
  no.textContent = t("mine_confirm_no");
  no.addEventListener("click", () => {
    td.replaceChildren(button);
    button.focus();
  });
  yes.addEventListener("click", () => cancel(b, row, yes));
  box.append(q, yes, " ", no);
  td.replaceChildren(box);
  no.focus();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function load() {
  let list;
  try {
    const resp = await fetch("/api/v1/bookings?mine=true", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) {
      status.textContent = errorMessage(resp.status);
      return;
    }
    list = await resp.json();
  } catch (err) {
    status.textContent = t("err_network");
    return;
  }
  list.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  tbody.replaceChildren();
  for (const b of list) {
    const row = document.createElement("tr");
    const date = fmtDate(b.start, b.room);
    row.append(
      cell(t("mine_when", { date, start: fmtTime(b.start, b.room), end: fmtTime(b.end, b.room) })),
      cell(rooms[b.room]?.name ?? b.room),
      cell(b.title),
    );
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "danger";
    button.textContent = t("mine_cancel");
    button.setAttribute("aria-label", t("mine_cancel_label", { title: b.title, date }));
    button.addEventListener("click", () => askConfirm(b, row, td, button));
    td.append(button);
    row.append(td);
    tbody.append(row);
  }
  status.textContent = "";
  table.hidden = list.length === 0;
  empty.hidden = list.length !== 0;
}

load();

// My personal feed: POST /api/v1/me/feed makes a new token (revoking the
// previous one) and answers its URL, shown this once; DELETE revokes it.
const feedStatus = document.getElementById("feed-status");
const feedLink = document.getElementById("feed-link");
const feedURL = document.getElementById("feed-url");
const feedWebcal = document.getElementById("feed-webcal");

async function feedCall(method) {
  try {
    return await fetch("/api/v1/me/feed", {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
  } catch (err) {
    feedStatus.textContent = t("err_network");
    return null;
  }
}

document.getElementById("feed-new").addEventListener("click", async () => {
  const resp = await feedCall("POST");
  if (!resp) return;
  if (resp.status !== 201) {
    feedStatus.textContent = errorMessage(resp.status);
    return;
  }
  const { url } = await resp.json();
  feedURL.value = url;
  feedWebcal.href = url.replace(/^https?:/, "webcal:");
  feedLink.hidden = false;
  feedStatus.textContent = t("feed_created");
  feedURL.focus();
  feedURL.select();
});

document.getElementById("feed-revoke").addEventListener("click", async () => {
  const resp = await feedCall("DELETE");
  if (!resp) return;
  if (resp.status !== 204) {
    feedStatus.textContent = errorMessage(resp.status);
    return;
  }
  feedLink.hidden = true;
  feedURL.value = "";
  feedStatus.textContent = t("feed_revoked");
});
