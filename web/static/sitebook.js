// What the day view and a room's week share: the site's wall clock,
// sending a booking with its answer in plain words, and the calendar
// component's markup made right for screen readers.
import { t, pad, wallParts, zoned, api, problemText } from "./common.js";
import "./quota.js";

// siteClock gives the conversions of a site's zone for the page's
// language: zoned (wall clock of the site to RFC 3339), wall (RFC 3339 to
// the zone-less wall clock the calendar component wants), fmtDate and
// fmtTime (in words).
export function siteClock(tz, lang) {
  const locale = lang === "en" ? "en-GB" : "fr-FR";
  return {
    zoned: (date, time) => zoned(date, time, tz),
    wall(iso) {
      const p = wallParts(Date.parse(iso), tz);
      return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
    },
    fmtTime: (iso) => new Intl.DateTimeFormat(locale, { timeZone: tz, hour: "2-digit", minute: "2-digit" }).format(new Date(iso)),
    fmtDate: (iso) => new Intl.DateTimeFormat(locale, { timeZone: tz, weekday: "long", day: "numeric", month: "long" }).format(new Date(iso)),
  };
}

// book sends one booking of the room named room; it returns {ok, message}
// in plain words, times in clock's zone, and the booking made (ok only).
export async function book(req, room, { fmtDate, fmtTime }) {
  const res = await api("POST", "/api/v1/bookings", req);
  if (res.ok) {
    const body = res.body;
    document.dispatchEvent(new CustomEvent("roomcal:booked", { detail: body }));
    return { ok: true, booking: body, message: t("booked_ok", { room, date: fmtDate(body.start ?? req.start), start: fmtTime(body.start ?? req.start), end: fmtTime(body.end ?? req.end) }) };
  }
  return failure(res, req, room, { fmtTime });
}

// failure says in words why an answer of the bookings API (api()'s) is
// not a success (req: what was asked, room: the room's name); a slot
// taken is marked conflict.
export function failure(res, req, room, { fmtTime }) {
  if (res.status === 409 && res.body.code === "conflict") {
    const slots = (res.body.conflicts ?? []).map((c) => t("err_conflict_slot", { start: fmtTime(c.start), end: fmtTime(c.end) }));
    const when = slots.length ? slots.join(t("err_conflict_and")) : t("err_conflict_slot", { start: fmtTime(req.start), end: fmtTime(req.end) });
    return { ok: false, conflict: true, message: t("err_conflict", { room, slots: when }) };
  }
  return { ok: false, message: problemText(res) };
}

// selecting is how the calendar component lets a member pick a free range
// to book, with the mouse or a finger: selecting from a press and a drag
// of at least 5 px, and nothing of the calendar's own editing. On a touch
// screen a finger held still for half a second starts the selection (the
// component's own default is a whole second), then slides to stretch it;
// a quick swipe still scrolls, and letting go at once after the hold
// picks one half-hour.
export const selecting = {
  selectable: true,
  selectMinDistance: 5,
  selectLongPressDelay: 500,
  editable: false,
  eventStartEditable: false,
  eventDurationEditable: false,
};

// show puts an answer of book in el.
export function show(el, r) {
  el.textContent = r.message;
  el.classList.toggle("ok", r.ok);
  el.classList.toggle("error", !r.ok);
}

// tidyCalendar keeps the calendar component in el readable: its ARIA
// grid roles make an incomplete table (rows without their parents), which
// misleads screen readers, so they are removed (the pages' lists in words
// and forms stand in for it); its events' <h4> titles are said one level
// below the section's <h2>; its scrolling area takes the keyboard focus,
// to scroll with the arrows.
export function tidyCalendar(el) {
  const grid = ["role", "aria-colindex", "aria-rowindex", "aria-colcount", "aria-rowcount"];
  const tidy = () => {
    for (const e of el.querySelectorAll(grid.map((a) => `[${a}]`).join(","))) {
      for (const a of grid) {
        e.removeAttribute(a);
      }
    }
    for (const h of el.querySelectorAll("h4.ec-event-title:not([aria-level])")) {
      h.setAttribute("aria-level", "3");
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

// fillDialogTimes puts the selected slot's hours in the booking dialog's
// fields, where the member can correct what the mouse or the finger
// covered; dialogSlot reads them back (on the selection's day), null
// when the end is not after the start.
export function fillDialogTimes(form, pending, clock) {
  form.elements.start.value = clock.wall(pending.start).slice(11, 16);
  form.elements.end.value = clock.wall(pending.end).slice(11, 16);
}

export function dialogSlot(form, pending, clock) {
  const date = clock.wall(pending.start).slice(0, 10);
  const start = form.elements.start.value;
  const end = form.elements.end.value;
  if (!start || !end || end <= start) {
    return null;
  }
  return { start: clock.zoned(date, start), end: clock.zoned(date, end) };
}

const weekdayKey = (date) => ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date(date + "T12:00:00Z").getUTCDay()];

// closedParts are the spans of date (YYYY-MM-DD), between the hours the
// calendar shows (min and max, "HH:MM"), when a room with opening hours h
// (the page's hours block: weekly ranges and closures) is closed, each
// with its title in words: "Fermé · ouvre à 08:00". The day view and the
// room's week draw them the same way.
export function closedParts(h, date, min, max) {
  if (!h) {
    return [];
  }
  const closure = h.closures.find((c) => c.from <= date && date <= c.to);
  if (closure) {
    return [{ from: min, to: max, title: closure.reason ? t("closed_day_reason", { reason: closure.reason }) : t("closed_day") }];
  }
  if (Object.keys(h.weekly).length === 0) {
    return [];
  }
  const open = h.weekly[weekdayKey(date)] ?? [];
  if (open.length === 0) {
    return [{ from: min, to: max, title: t("closed_day") }];
  }
  const parts = [];
  let at = min;
  for (const [from, to] of open) {
    if (from > at) {
      parts.push({ from: at, to: from, title: t("closed_until", { time: from }) });
    }
    at = to > at ? to : at;
  }
  if (at < max) {
    parts.push({ from: at, to: max, title: t("closed_from", { time: at }) });
  }
  return parts;
}
