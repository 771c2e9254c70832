// The day view (web/templates/day.html): a site's rooms against the hours
// of one day, busy and free ranges from GET /api/v1/availability, filters
// from GET /api/v1/rooms, and two ways to book (POST /api/v1/bookings):
// selecting a free range in the calendar opens a dialog, and the form
// next to it does the same with the keyboard alone.
//
// Times: the calendar component knows only the browser's zone, so the
// site's wall-clock times are given to it as zone-less strings, and what
// is selected is read back as wall-clock time in the site's zone.
import { t, tn, pad, getJSON } from "./common.js";
import { siteClock, tidyCalendar, selecting, closedParts } from "./sitebook.js";
import { bookingForms } from "./bookforms.js";

const root = document.getElementById("day");
const lang = root.dataset.lang;
// The site and the day shown change without reloading the page (see
// "Changing site or day" below).
let site = root.dataset.site;
let siteName = root.dataset.siteName;
let clock = siteClock(root.dataset.tz, lang);
let day = root.dataset.date; // YYYY-MM-DD in the site's zone
const zoned = (...a) => clock.zoned(...a);
const wall = (...a) => clock.wall(...a);
const fmtDate = (...a) => clock.fmtDate(...a);
const fmtTime = (...a) => clock.fmtTime(...a);

const status = document.getElementById("day-status");
const roomSelect = document.getElementById("bf-room");

// ---------------------------------------------------------------------------
// Time zones.

// nextDay is the day after date (YYYY-MM-DD).
function nextDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

// localDate and localTime read a Date the calendar gave (its fields are
// the site's wall clock).
const localDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

// ---------------------------------------------------------------------------
// Rooms and availability.

let rooms = []; // the rooms shown, as GET /api/v1/rooms gives them
const roomName = (id) => rooms.find((r) => r.id === id)?.name ?? allRooms.get(id) ?? id;
const allRooms = new Map([...roomSelect.options].map((o) => [o.value, o.textContent.split(" — ")[0]]));

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

// The hours the calendar shows.
const SLOT_MIN = "07:00";
const SLOT_MAX = "21:00";

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
    calendar.setOption("resources", rooms.map((r) => ({ id: r.id, title: r.name, extendedProps: { room: r } })));
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
      events.push({ resourceIds: [r.room], start: wall(b.start), end: wall(b.end), title: b.pending ? t("busy_pending", { title: b.title || t("busy") }) : b.title || t("busy"), classNames: ["busy", b.kind] });
    }
  }
  for (const r of rooms) {
    for (const c of closedParts(hours[r.id], day, SLOT_MIN, SLOT_MAX)) {
      events.push({ resourceIds: [r.id], start: `${day} ${c.from}:00`, end: c.to === "24:00" ? `${nextDay(day)} 00:00:00` : `${day} ${c.to}:00`, title: c.title, classNames: ["closed"] });
    }
  }
  calendar.setOption("events", events);
  return a.stale;
}

// The rooms' opening hours (the day-hours block), to draw when each room
// is closed: "Fermé" with the hours in words.
const hours = JSON.parse(document.getElementById("day-hours")?.textContent || "{}");

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
      : tn("rooms_shown", rooms.length) + (stale ? " " + t("stale") : "");
  } catch (err) {
    console.error(err);
    status.textContent = t("load_error");
  }
}

// roomLabel is a row's head: the room's name, a link to its week, then
// its seats and equipment.
function roomLabel(arg) {
  const r = arg.resource.extendedProps?.room;
  if (!r) {
    return arg.resource.title;
  }
  const a = document.createElement("a");
  a.href = `/salles/${encodeURIComponent(r.id)}`;
  a.className = "room-name";
  a.textContent = r.name;
  const meta = document.createElement("span");
  meta.className = "room-meta";
  meta.textContent = [t("capacity_n", { n: r.capacity }), ...r.equipment].join(" · ");
  return { domNodes: [a, meta] };
}

// ---------------------------------------------------------------------------
// Booking.

// The keyboard form and the dialog a selection opens (bookforms.js).
const forms = bookingForms({
  clock: () => clock, roomName, status, refresh: () => refresh(), unselect: () => calendar?.unselect(),
});
const formRepeat = forms.formRepeat;

document.getElementById("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  refresh();
});

function onSelect(info) {
  const room = info.resource?.id;
  if (!room) {
    return;
  }
  forms.open({ room, start: zoned(localDate(info.start), localTime(info.start)), end: zoned(localDate(info.end), localTime(info.end)) });
}

// ---------------------------------------------------------------------------
// Changing site or day: the page stays, its parts follow, the address
// too (so Back and a reload show the same), and the focus stays on what
// was pressed.

const dayHeading = document.getElementById("day-heading");
const dateInput = document.getElementById("day-date");
const prevLink = document.getElementById("day-prev");
const nextLink = document.getElementById("day-next");

function addDays(date, n) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

const siteLinks = () => [...document.querySelectorAll("ul.sites a")];

// show moves the page to site s (a site link's data) and day date.
async function showDay(siteLink, date, push) {
  if (siteLink) {
    site = siteLink.dataset.site;
    siteName = siteLink.dataset.name;
    clock = siteClock(siteLink.dataset.tz, lang);
  }
  day = date;
  const url = `/sites/${encodeURIComponent(site)}?date=${day}`;
  if (push) {
    history.pushState({ site, day }, "", url);
  }
  for (const a of siteLinks()) {
    a.href = `/sites/${encodeURIComponent(a.dataset.site)}?date=${day}`;
    if (a.dataset.site === site) {
      a.setAttribute("aria-current", "page");
    } else {
      a.removeAttribute("aria-current");
    }
  }
  prevLink.href = `/sites/${encodeURIComponent(site)}?date=${addDays(day, -1)}`;
  nextLink.href = `/sites/${encodeURIComponent(site)}?date=${addDays(day, 1)}`;
  document.querySelector("form.date-form").action = `/sites/${encodeURIComponent(site)}`;
  dateInput.value = day;
  document.getElementById("bf-date").value = day;
  formRepeat.relabel(day);
  dayHeading.textContent = t("day_heading", { site: siteName });
  currentSiteInView();
  document.title = `${t("day_title", { site: siteName })} — ${t("site_name")}`;
  document.getElementById("day-long").textContent = fmtDate(zoned(day, "12:00"));
  calendar?.setOption("date", day);
  await refresh();
}

for (const a of siteLinks()) {
  a.addEventListener("click", (event) => {
    event.preventDefault();
    showDay(a, day, true);
  });
}
for (const [a, n] of [[prevLink, -1], [nextLink, 1]]) {
  a.addEventListener("click", (event) => {
    event.preventDefault();
    showDay(null, addDays(day, n), true);
  });
}
document.querySelector("form.date-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (dateInput.value) {
    showDay(null, dateInput.value, true);
  }
});
// On a phone the "Afficher" button is not shown (app.css): a day picked
// applies at once. (Not on wider screens, where the field takes typed
// digits and would apply each partial date.)
const narrow = window.matchMedia("(max-width: 40rem)");
dateInput.addEventListener("change", () => {
  if (narrow.matches && dateInput.value && dateInput.value !== day) {
    showDay(null, dateInput.value, true);
  }
});

// The sites' row scrolls sideways on a phone: the current site in view.
function currentSiteInView() {
  const a = document.querySelector('ul.sites a[aria-current="page"]');
  const row = a?.closest("ul");
  if (row && row.scrollWidth > row.clientWidth) {
    row.scrollLeft = a.offsetLeft - row.offsetLeft - 8;
  }
}

window.addEventListener("popstate", () => {
  const m = location.pathname.match(/^\/sites\/([^/]+)$/);
  const date = new URLSearchParams(location.search).get("date") || day;
  const link = m ? siteLinks().find((a) => a.dataset.site === decodeURIComponent(m[1])) : null;
  showDay(link ?? null, date, false);
});
history.replaceState({ site, day }, "", location.href);
currentSiteInView();

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
    slotMinTime: SLOT_MIN,
    slotMaxTime: SLOT_MAX,
    slotDuration: "00:30",
    // The whole day in view on a wide screen; a phone scrolls sideways.
    slotWidth: Math.max(32, Math.floor((el.clientWidth - 340) / 28)),
    ...selecting,
    select: onSelect,
    resourceLabelContent: roomLabel,
  });
  tidyCalendar(el);
}
refresh();
