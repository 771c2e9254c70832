// The day view (web/templates/day.html): a site's rooms against the hours
// of one day, busy and free ranges from GET /api/v1/availability, filters
// from GET /api/v1/rooms, and two ways to book (POST /api/v1/bookings):
// selecting a free range in the calendar opens a dialog, and the form
// next to it does the same with the keyboard alone.
//
// Times: the calendar component knows only the browser's zone, so the
// site's wall-clock times are given to it as zone-less strings, and what
// is selected is read back as wall-clock time in the site's zone.
import { t, csrf, detailIn, pad, wallParts, zoned as zonedIn, ruleMessage } from "./common.js";

const root = document.getElementById("day");
const site = root.dataset.site;
const tz = root.dataset.tz;
const lang = root.dataset.lang;
const day = root.dataset.date; // YYYY-MM-DD in the site's zone

const status = document.getElementById("day-status");
const form = document.getElementById("book-form");
const formResult = document.getElementById("bf-result");
const roomSelect = document.getElementById("bf-room");
const dialog = document.getElementById("book-dialog");
const dialogForm = document.getElementById("dlg-form");
const dialogResult = document.getElementById("dlg-result");

// ---------------------------------------------------------------------------
// Time zones.

// zoned turns a wall-clock date and time of the site into RFC 3339.
const zoned = (date, time) => zonedIn(date, time, tz);

// wall turns an RFC 3339 instant into the site's wall clock, as the
// calendar wants it ("2026-12-01 09:00:00").
function wall(iso) {
  const p = wallParts(Date.parse(iso), tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

// nextDay is the day after date (YYYY-MM-DD).
function nextDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

// Human forms of an instant, in the site's zone and the page's language.
const locale = lang === "en" ? "en-GB" : "fr-FR";
const fmtTime = (iso) => new Intl.DateTimeFormat(locale, { timeZone: tz, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
const fmtDate = (iso) => new Intl.DateTimeFormat(locale, { timeZone: tz, weekday: "long", day: "numeric", month: "long" }).format(new Date(iso));

// localDate and localTime read a Date the calendar gave (its fields are
// the site's wall clock).
const localDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

// ---------------------------------------------------------------------------
// Rooms and availability.

let rooms = []; // the rooms shown, as GET /api/v1/rooms gives them
const roomName = (id) => rooms.find((r) => r.id === id)?.name ?? allRooms.get(id) ?? id;
const allRooms = new Map([...roomSelect.options].map((o) => [o.value, o.textContent.split(" — ")[0]]));

async function getJSON(url) {
  const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!resp.ok) {
    throw new Error(`${url}: ${resp.status}`);
  }
  return resp.json();
}

function filterQuery() {
  const q = new URLSearchParams({ site });
  const cap = document.getElementById("f-capacity").value;
  if (cap) {
    q.set("min_capacity", cap);
  }
  for (const box of document.querySelectorAll('#filters input[name="equipment"]:checked')) {
    q.append("equipment", box.value);
  }
  return q;
}

let calendar = null;

async function loadRooms() {
  rooms = await getJSON("/api/v1/rooms?" + filterQuery());
  const chosen = roomSelect.value;
  roomSelect.replaceChildren(...rooms.map((r) => {
    const o = document.createElement("option");
    o.value = r.id;
    o.textContent = [r.name, t("capacity_n", { n: r.capacity }), r.equipment.join(", ")].filter(Boolean).join(" — ");
    o.selected = r.id === chosen;
    return o;
  }));
  if (calendar) {
    calendar.setOption("resources", rooms.map((r) => ({ id: r.id, title: `${r.name} (${r.capacity})` })));
  }
}

async function loadAvailability() {
  const q = new URLSearchParams({ site, from: zoned(day, "00:00"), to: zoned(nextDay(day), "00:00") });
  const a = await getJSON("/api/v1/availability?" + q);
  showText(a);
  if (!calendar) {
    return a.stale;
  }
  const events = [];
  for (const r of a.rooms) {
    for (const f of r.free) {
      events.push({ resourceIds: [r.room], start: wall(f.start), end: wall(f.end), display: "background", classNames: ["free"] });
    }
    for (const b of r.busy) {
      events.push({ resourceIds: [r.room], start: wall(b.start), end: wall(b.end), title: b.title || t("busy"), classNames: ["busy", b.kind] });
    }
  }
  calendar.setOption("events", events);
  return a.stale;
}

// showText lists each shown room's free ranges in words: the calendar
// for those who cannot see it or drag a mouse.
function showText(a) {
  const shown = new Set(rooms.map((r) => r.id));
  const items = a.rooms.filter((r) => shown.has(r.room)).map((r) => {
    const li = document.createElement("li");
    const slots = r.free.map((f) => t("text_slot", { start: fmtTime(f.start), end: fmtTime(f.end) }));
    li.textContent = slots.length
      ? t("text_room_free", { room: roomName(r.room), slots: slots.join(t("err_conflict_and")) })
      : t("text_room_full", { room: roomName(r.room) });
    return li;
  });
  document.getElementById("day-text-list").replaceChildren(...items);
}

async function refresh() {
  status.textContent = t("loading");
  try {
    await loadRooms();
    const stale = await loadAvailability();
    status.textContent = rooms.length === 0 ? t("no_rooms")
      : t("rooms_shown", { n: rooms.length }) + (stale ? " " + t("stale") : "");
  } catch (err) {
    console.error(err);
    status.textContent = t("load_error");
  }
}

// ---------------------------------------------------------------------------
// Booking.

// book sends one booking; it returns {ok, message} in plain words.
async function book(req) {
  let resp;
  try {
    resp = await fetch("/api/v1/bookings", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(req),
    });
  } catch (err) {
    return { ok: false, message: t("err_network") };
  }
  const body = await resp.json().catch(() => ({}));
  const room = roomName(req.room);
  if (resp.ok) {
    return { ok: true, message: t("booked_ok", { room, date: fmtDate(body.start ?? req.start), start: fmtTime(body.start ?? req.start), end: fmtTime(body.end ?? req.end) }) };
  }
  switch (resp.status) {
    case 409: {
      const slots = (body.conflicts ?? []).map((c) => t("err_conflict_slot", { start: fmtTime(c.start), end: fmtTime(c.end) }));
      const when = slots.length ? slots.join(t("err_conflict_and")) : t("err_conflict_slot", { start: fmtTime(req.start), end: fmtTime(req.end) });
      return { ok: false, message: t("err_conflict", { room, slots: when }) };
    }
    case 422:
      if (body.code === "rule_violation") {
        return { ok: false, message: ruleMessage(body) };
      }
      return { ok: false, message: t("err_invalid", { detail: detailIn(body.detail) }) };
    case 400:
      return { ok: false, message: t("err_invalid", { detail: detailIn(body.detail) }) };
    case 401:
      return { ok: false, message: t("err_auth") };
    case 403:
      return { ok: false, message: t("err_forbidden") };
    case 404:
      return { ok: false, message: t("err_not_found") };
    case 429:
      return { ok: false, message: t("err_rate") };
    case 503:
      return { ok: false, message: t("err_unavailable") };
  }
  return { ok: false, message: t("err_generic", { status: resp.status }) };
}

function show(el, r) {
  el.textContent = r.message;
  el.classList.toggle("ok", r.ok);
  el.classList.toggle("error", !r.ok);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = new FormData(form);
  const title = String(f.get("title") ?? "").trim();
  const date = String(f.get("date") ?? "");
  const start = String(f.get("start") ?? "");
  const end = String(f.get("end") ?? "");
  if (!f.get("room") || !title || !date || !start || !end) {
    show(formResult, { ok: false, message: t("err_missing") });
    return;
  }
  if (end <= start) {
    show(formResult, { ok: false, message: t("err_end_before_start") });
    return;
  }
  const req = { room: f.get("room"), start: zoned(date, start), end: zoned(date, end), title };
  const description = String(f.get("description") ?? "").trim();
  if (description) {
    req.description = description;
  }
  formResult.textContent = t("booking_in_progress");
  const r = await book(req);
  show(formResult, r);
  if (r.ok) {
    form.elements.title.value = "";
    form.elements.description.value = "";
    await refresh();
  }
});

document.getElementById("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  refresh();
});

// The dialog opened by a selection in the calendar.
let pending = null;

dialogForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!pending) {
    return;
  }
  const title = dialogForm.elements.title.value.trim();
  if (!title) {
    show(dialogResult, { ok: false, message: t("err_missing") });
    return;
  }
  const req = { ...pending, title };
  const description = dialogForm.elements.description.value.trim();
  if (description) {
    req.description = description;
  }
  dialogResult.textContent = t("booking_in_progress");
  const r = await book(req);
  if (r.ok) {
    dialog.close();
    show(status, r);
    await refresh();
    show(status, r);
  } else {
    show(dialogResult, r);
  }
});

document.getElementById("dlg-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  pending = null;
  calendar?.unselect();
});

function onSelect(info) {
  const room = info.resource?.id;
  if (!room) {
    return;
  }
  const date = localDate(info.start);
  pending = { room, start: zoned(date, localTime(info.start)), end: zoned(localDate(info.end), localTime(info.end)) };
  document.getElementById("dlg-when").textContent = t("dialog_when", {
    room: roomName(room), date: fmtDate(pending.start), start: fmtTime(pending.start), end: fmtTime(pending.end),
  });
  dialogForm.elements.title.value = "";
  dialogForm.elements.description.value = "";
  dialogResult.textContent = "";
  dialogResult.className = "result";
  dialog.showModal();
  dialogForm.elements.title.focus();
}

// ---------------------------------------------------------------------------
// Start.

// The day in words next to the title ("mercredi 25 novembre"): the date
// field shows it in figures only.
document.getElementById("day-long").textContent = fmtDate(zoned(day, "12:00"));

const el = document.getElementById("calendar");
if (el && window.EventCalendar) {
  calendar = window.EventCalendar.create(el, {
    view: "resourceTimelineDay",
    date: day,
    locale: lang === "en" ? "en-GB" : "fr",
    headerToolbar: { start: "", center: "", end: "" },
    resources: [],
    events: [],
    height: "auto",
    slotMinTime: "07:00",
    slotMaxTime: "21:00",
    slotDuration: "00:30",
    // The whole day in view on a wide screen; a phone scrolls sideways.
    slotWidth: Math.max(32, Math.floor((el.clientWidth - 340) / 28)),
    selectable: true,
    selectMinDistance: 5,
    editable: false,
    eventStartEditable: false,
    eventDurationEditable: false,
    select: onSelect,
    resourceLabelContent: (arg) => arg.resource.title,
  });
  // The component's ARIA roles make an incomplete table (rows without
  // their parents), which misleads screen readers: they are removed, and
  // the list in words (showText) and the form stand in for it. Its
  // scrolling area takes the keyboard focus, to scroll with the arrows.
  const grid = ["role", "aria-colindex", "aria-rowindex", "aria-colcount", "aria-rowcount"];
  const tidy = () => {
    for (const e of el.querySelectorAll(grid.map((a) => `[${a}]`).join(","))) {
      for (const a of grid) {
        e.removeAttribute(a);
      }
    }
    const main = el.querySelector(".ec-main");
    if (main && !main.hasAttribute("tabindex")) {
      main.tabIndex = 0;
      main.setAttribute("aria-label", t("calendar_scroll_label"));
    }
  };
  new MutationObserver(tidy).observe(el, { childList: true, subtree: true, attributes: true, attributeFilter: grid });
  tidy();
}
refresh();
