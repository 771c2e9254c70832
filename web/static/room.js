// One room's week (web/templates/room.html): busy and free ranges from
// GET /api/v1/availability?room=, in @event-calendar's timeGridWeek view,
// and two ways to book (POST /api/v1/bookings): selecting a free range in
// the calendar opens a dialog, and the form below does the same with the
// keyboard alone. The rules, hours and feed link are in the page itself.
//
// Times, as in day.js: the calendar knows only the browser's zone, so the
// site's wall-clock times are given to it as zone-less strings, and what
// is selected is read back as wall-clock time in the site's zone.
import { t, pad, getJSON } from "./common.js";
import { siteClock, tidyCalendar, selecting, closedParts } from "./sitebook.js";
import { bookingForms } from "./bookforms.js";

const root = document.getElementById("room");
const room = root.dataset.room;
const tz = root.dataset.tz;
const lang = root.dataset.lang;
const clock = siteClock(tz, lang);
const { zoned, wall, fmtDate, fmtTime } = clock;
const week = root.dataset.week; // the Monday, YYYY-MM-DD in the site's zone
const roomName = JSON.parse(document.getElementById("room-name").textContent);
// The room's opening hours and closures, to draw closed hours as "Fermé"
// with the hours in words, as the day view does.
const hours = JSON.parse(document.getElementById("room-open-hours")?.textContent || "null");
const slotMin = root.dataset.slotMin || "07:00";
const slotMax = root.dataset.slotMax || "21:00";

const status = document.getElementById("room-status");

function addDays(date, n) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

const localDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

// ---------------------------------------------------------------------------
// Availability.

let calendar = null;

async function loadAvailability() {
  const q = new URLSearchParams({ room, from: zoned(week, "00:00"), to: zoned(addDays(week, 7), "00:00") });
  const a = await getJSON("/api/v1/availability?" + q);
  const mine = a.rooms.find((r) => r.room === room) ?? { free: [], busy: [] };
  showText(mine);
  if (calendar) {
    const events = [];
    for (const f of mine.free) {
      events.push({ start: wall(f.start), end: wall(f.end), display: "background", classNames: ["free"] });
    }
    for (const b of mine.busy) {
      events.push({ start: wall(b.start), end: wall(b.end), title: b.pending ? t("busy_pending", { title: b.title || t("busy") }) : b.title || t("busy"), classNames: ["busy", b.kind] });
    }
    for (let i = 0; i < 7; i++) {
      const date = addDays(week, i);
      for (const c of closedParts(hours, date, slotMin, slotMax)) {
        const end = c.to === "24:00" ? `${addDays(date, 1)} 00:00:00` : `${date} ${c.to}:00`;
        events.push({ start: `${date} ${c.from}:00`, end, title: c.title, classNames: ["closed"] });
      }
    }
    calendar.setOption("events", events);
  }
  return a.stale;
}

// showText lists each day's free ranges in words: the calendar for those
// who cannot see it or drag a mouse.
function showText(r) {
  const items = [];
  for (let i = 0; i < 7; i++) {
    const date = addDays(week, i);
    const noon = zoned(date, "12:00");
    const slots = r.free.filter((f) => wall(f.start).slice(0, 10) === date)
      .map((f) => t("text_slot", { start: fmtTime(f.start), end: fmtTime(f.end) }));
    const li = document.createElement("li");
    li.textContent = slots.length
      ? t("room_text_day_free", { date: fmtDate(noon), slots: slots.join(t("err_conflict_and")) })
      : t("room_text_day_full", { date: fmtDate(noon) });
    items.push(li);
  }
  document.getElementById("room-text-list").replaceChildren(...items);
}

async function refresh() {
  status.textContent = t("loading");
  try {
    const stale = await loadAvailability();
    status.textContent = t("room_loaded") + (stale ? " " + t("stale") : "");
  } catch (err) {
    console.error(err);
    status.textContent = t("load_error");
  }
}

// ---------------------------------------------------------------------------
// Booking.

// The keyboard form and the dialog a selection opens (bookforms.js).
const forms = bookingForms({
  clock: () => clock, roomName: () => roomName, room, status, refresh: () => refresh(), unselect: () => calendar?.unselect(),
});
const formRepeat = forms.formRepeat;

function onSelect(info) {
  forms.open({ room, start: zoned(localDate(info.start), localTime(info.start)), end: zoned(localDate(info.end), localTime(info.end)) });
}

// The feed link: selected whole when it takes the focus, to copy it.
const feed = document.getElementById("room-feed-url");
feed.addEventListener("focus", () => feed.select());

// ---------------------------------------------------------------------------
// Start.

// The week in words ("du lundi 23 novembre au dimanche 29 novembre"):
// the page itself has it in figures only.
document.getElementById("room-week-h").textContent =
  t("room_week_heading", { from: fmtDate(zoned(week, "12:00")), to: fmtDate(zoned(addDays(week, 6), "12:00")) });

const el = document.getElementById("calendar");
if (el && window.EventCalendar) {
  calendar = window.EventCalendar.create(el, {
    view: "timeGridWeek",
    date: week,
    firstDay: 1,
    locale: lang === "en" ? "en-GB" : "fr",
    headerToolbar: { start: "", center: "", end: "" },
    events: [],
    height: "auto",
    allDaySlot: false,
    slotMinTime: slotMin,
    slotMaxTime: slotMax,
    slotDuration: "00:30",
    ...selecting,
    select: onSelect,
  });
  tidyCalendar(el);
}
refresh();
