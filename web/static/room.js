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
import { siteClock, show, tidyCalendar, selecting, fillDialogTimes, dialogSlot, closedParts } from "./sitebook.js";
import { repeatFields } from "./series.js";

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
const form = document.getElementById("book-form");
const formResult = document.getElementById("bf-result");
const dialog = document.getElementById("book-dialog");
const dialogForm = document.getElementById("dlg-form");
const dialogResult = document.getElementById("dlg-result");
// "Répéter": the repetition fields of the keyboard form and the dialog.
const formRepeat = repeatFields(form, () => clock);
const dialogRepeat = repeatFields(dialogForm, () => clock);
const formDate = document.getElementById("bf-date");
formRepeat.relabel(formDate.value);
formDate.addEventListener("input", () => formRepeat.relabel(formDate.value));

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

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = new FormData(form);
  const title = String(f.get("title") ?? "").trim();
  const date = String(f.get("date") ?? "");
  const start = String(f.get("start") ?? "");
  const end = String(f.get("end") ?? "");
  if (!title || !date || !start || !end) {
    show(formResult, { ok: false, message: t("err_missing") });
    return;
  }
  if (end <= start) {
    show(formResult, { ok: false, message: t("err_end_before_start") });
    return;
  }
  const req = { room, start: zoned(date, start), end: zoned(date, end), title };
  const description = String(f.get("description") ?? "").trim();
  if (description) {
    req.description = description;
  }
  formResult.textContent = t("booking_in_progress");
  formResult.className = "result";
  const r = await formRepeat.submit(req, roomName, (m) => { formResult.textContent = m; formResult.className = "result"; });
  if (r.silent) {
    return;
  }
  if (r.nothing) {
    formResult.textContent = r.message;
    form.elements.repeat.focus();
    return;
  }
  show(formResult, r);
  form.querySelector("[data-book]").focus(); // not the body, when the series' buttons went
  if (r.ok) {
    form.elements.title.value = "";
    form.elements.description.value = "";
    await refresh();
  }
});

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
  const slot = dialogSlot(dialogForm, pending, clock);
  if (!slot) {
    show(dialogResult, { ok: false, message: t("err_end_before_start") });
    return;
  }
  const req = { ...pending, ...slot, title };
  const description = dialogForm.elements.description.value.trim();
  if (description) {
    req.description = description;
  }
  dialogResult.textContent = t("booking_in_progress");
  dialogResult.className = "result";
  const r = await dialogRepeat.submit(req, roomName, (m) => { dialogResult.textContent = m; dialogResult.className = "result"; });
  if (r.silent) {
    return;
  }
  if (r.nothing) {
    dialogResult.textContent = r.message;
    dialogForm.elements.repeat.focus();
    return;
  }
  if (r.ok) {
    dialog.close();
    await refresh();
    show(status, r);
    status.focus(); // not the page's body: the answer, said again
  } else {
    show(dialogResult, r);
  }
});

document.getElementById("dlg-close").addEventListener("click", () => dialog.close());

// Corrected hours show in the dialog's sentence.
dialogForm.addEventListener("input", (event) => {
  const slot = pending && ["start", "end"].includes(event.target.name) ? dialogSlot(dialogForm, pending, clock) : null;
  if (slot) {
    document.getElementById("dlg-when").textContent = t("dialog_when", {
      room: roomName, date: fmtDate(slot.start), start: fmtTime(slot.start), end: fmtTime(slot.end),
    });
  }
});
dialog.addEventListener("close", () => {
  pending = null;
  calendar?.unselect();
});

function onSelect(info) {
  pending = { room, start: zoned(localDate(info.start), localTime(info.start)), end: zoned(localDate(info.end), localTime(info.end)) };
  document.getElementById("dlg-when").textContent = t("dialog_when", {
    room: roomName, date: fmtDate(pending.start), start: fmtTime(pending.start), end: fmtTime(pending.end),
  });
  fillDialogTimes(dialogForm, pending, clock);
  dialogRepeat.reset(clock.wall(pending.start).slice(0, 10));
  dialogForm.elements.title.value = "";
  dialogForm.elements.description.value = "";
  dialogResult.textContent = "";
  dialogResult.className = "result";
  dialog.showModal();
  dialogForm.elements.title.focus();
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
