// The start page (web/templates/start.html): "for when, for how many,
// where?" answered with chips, then the rooms free for that slot, best fit
// first, each with one button that books it (POST /api/v1/bookings). When
// nothing fits, the nearest free times at that site and the free rooms of
// the other sites, each one tap from a booking. Availability comes from
// GET /api/v1/availability?fields=free; the rooms, each site's open days
// and hours come with the page (the start-data block).
//
// Keyboard: each chip row is one radio group (Tab to it, arrows to
// choose); Enter anywhere in the questions moves to the best room's
// button, and Enter there books.
import { t, tn, pad, api, getJSON } from "./common.js";
import { siteClock, book, failure, show } from "./sitebook.js";
import { repeatFields } from "./series.js";
import { showNotes } from "./notes.js";

const root = document.getElementById("start");
const lang = root.dataset.lang;
const locale = lang === "en" ? "en-GB" : "fr-FR";
const data = JSON.parse(document.getElementById("start-data").textContent);

const form = document.getElementById("ask");
const dayChips = document.getElementById("day-chips");
const slotChips = document.getElementById("slot-chips");
const dateInput = document.getElementById("ask-date");
const slotOther = document.getElementById("slot-other");
const startSelect = document.getElementById("ask-start");
const durationSelect = document.getElementById("ask-duration");
const peopleInput = document.getElementById("ask-people");
const titleInput = document.getElementById("ask-title");
const results = document.getElementById("results");
const resultsH = document.getElementById("results-h");
const status = document.getElementById("results-status");
const list = document.getElementById("results-list");
const nearby = document.getElementById("nearby");
const done = document.getElementById("done");
const planningLink = document.getElementById("planning-link");

// The usual slots offered as one chip each: start and minutes.
const PRESETS = [["09:00", 60], ["10:00", 120], ["14:00", 60], ["14:00", 120], ["16:00", 120], ["18:00", 60]];
const DURATIONS = [30, 60, 90, 120, 180, 240, 480];

const toMin = (hhmm) => {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
};
const toClock = (min) => `${pad(Math.floor(min / 60))}:${pad(min % 60)}`;

// humanMinutes says a duration as the pages write it ("1 h 30", "30 min").
function humanMinutes(min) {
  if (min < 60) {
    return `${min} min`;
  }
  return min % 60 ? `${Math.floor(min / 60)} h ${pad(min % 60)}` : `${min / 60} h`;
}

function addDays(date, n) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// dayLabel names a day chip: today, tomorrow, else "lun. 8 déc.".
function dayLabel(day) {
  if (day.offset === 0) {
    return t("start_today");
  }
  if (day.offset === 1) {
    return t("start_tomorrow");
  }
  const [y, m, d] = day.date.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(new Date(Date.UTC(y, m - 1, d)));
}

// ---------------------------------------------------------------------------
// What the member asked.

const state = {
  site: data.site,
  date: "",
  slot: "", // the checked slot chip's value: "now", "HH:MM/minutes" or "other"
};

const site = () => data.sites.find((s) => s.id === state.site) ?? data.sites[0];
const clockOf = (s) => siteClock(s.tz, lang);

// wanted returns the slot asked for: its date, start and end (minutes
// after midnight) and the RFC 3339 instants, or null.
function wanted() {
  const s = site();
  let start, minutes;
  if (state.slot === "now") {
    [start, minutes] = [nowStart(s), 60];
  } else if (state.slot === "other") {
    [start, minutes] = [toMin(startSelect.value || "09:00"), Number(durationSelect.value || 60)];
  } else if (state.slot) {
    const [hhmm, m] = state.slot.split("/");
    [start, minutes] = [toMin(hhmm), Number(m)];
  } else {
    return null;
  }
  const end = Math.min(start + minutes, 24 * 60);
  const { zoned } = clockOf(s);
  const endDate = end === 24 * 60 ? addDays(state.date, 1) : state.date;
  return {
    date: state.date, start, end, minutes: end - start,
    from: zoned(state.date, toClock(start)), to: zoned(endDate, toClock(end % (24 * 60))),
  };
}

// nowStart is the soonest a booking made now may start at site s: now
// plus the rooms' notice, rounded up to the quarter hour, in the site's
// wall clock (minutes after midnight).
function nowStart(s) {
  const p = new Intl.DateTimeFormat("en-GB", { timeZone: s.tz, hourCycle: "h23", hour: "2-digit", minute: "2-digit" })
    .formatToParts(new Date(Date.now() + s.notice * 60000));
  const h = Number(p.find((x) => x.type === "hour").value);
  const m = Number(p.find((x) => x.type === "minute").value);
  return Math.ceil((h * 60 + m + 1) / 15) * 15;
}

const people = () => Math.max(1, Number(peopleInput.value) || 1);
const wishes = () => [...form.querySelectorAll('input[name="equipment"]:checked')].map((b) => b.value);

// fits reports whether room r suits the need: seats, equipment, and a
// booking that long.
function fits(r, need) {
  const eq = r.equipment.map((e) => e.toLowerCase());
  return r.capacity >= need.people && need.wishes.every((w) => eq.includes(w.toLowerCase()))
    && (!r.max_minutes || need.minutes <= r.max_minutes);
}

// bestFirst orders rooms by the seats they leave empty, then by name.
const bestFirst = (need) => (a, b) => (a.capacity - need.people) - (b.capacity - need.people) || a.name.localeCompare(b.name, locale);

// ---------------------------------------------------------------------------
// The chips.

function chip(name, value, label, checked, ariaLabel) {
  const span = document.createElement("span");
  span.className = "chip";
  const input = document.createElement("input");
  input.type = "radio";
  input.name = name;
  input.value = value;
  input.id = `${name}-${value.replace(/[^a-z0-9]/gi, "-")}`;
  input.checked = checked;
  const lab = document.createElement("label");
  lab.htmlFor = input.id;
  lab.textContent = label;
  if (ariaLabel) {
    lab.setAttribute("aria-label", ariaLabel);
  }
  span.append(input, lab);
  return span;
}

function renderDays() {
  const s = site();
  const days = s.days;
  if (!days.some((d) => d.date === state.date) && !(state.date && dateInput.value === state.date)) {
    state.date = days[0]?.date ?? s.today;
  }
  dayChips.replaceChildren(...days.map((d) => chip("day", d.date, dayLabel(d), d.date === state.date)));
  dateInput.min = s.today;
  const other = !days.some((d) => d.date === state.date);
  dateInput.value = other ? state.date : "";
  document.getElementById("day-other").checked = other;
  document.getElementById("date-other").hidden = !other;
}

// openRanges are the day's opening hours at the site, in minutes, or null
// when the page does not know them (a day beyond the chips).
function openRanges() {
  const day = site().days.find((d) => d.date === state.date);
  return day ? day.open.map((r) => [toMin(r.from), toMin(r.to)]) : null;
}

function renderSlots() {
  const s = site();
  const open = openRanges();
  const inside = (a, b) => !open || open.some(([f, to]) => a >= f && b <= to);
  const today = state.date === s.today;
  const soonest = today ? nowStart(s) : 0;
  const chips = [];
  const offered = [];
  if (today && s.now_open && inside(soonest, soonest + 60)) {
    offered.push("now");
    chips.push(chip("slot", "now", t("start_now", { start: toClock(soonest), end: toClock(soonest + 60) }), false));
  }
  for (const [hhmm, min] of PRESETS) {
    const a = toMin(hhmm);
    if (a < soonest || !inside(a, a + min)) {
      continue;
    }
    const value = `${hhmm}/${min}`;
    offered.push(value);
    chips.push(chip("slot", value, t("start_slot", { start: hhmm, d: humanMinutes(min) }), false,
      t("start_slot_words", { start: hhmm, end: toClock(a + min) })));
  }
  offered.push("other");
  chips.push(chip("slot", "other", t("start_other_time"), false));
  if (!offered.includes(state.slot)) {
    state.slot = offered[0];
  }
  slotChips.replaceChildren(...chips);
  slotChips.querySelector(`input[value="${state.slot}"]`).checked = true;

  // The other slot's fields: quarter hours while a room is open.
  const ranges = open ?? [[7 * 60, 21 * 60]];
  const keep = startSelect.value;
  const starts = [];
  for (const [f, to] of ranges) {
    for (let m = Math.ceil(Math.max(f, soonest) / 15) * 15; m + 15 <= to; m += 15) {
      starts.push(toClock(m));
    }
  }
  startSelect.replaceChildren(...starts.map((c) => new Option(c, c, false, c === keep)));
  if (!starts.includes(keep) && starts.includes("14:00")) {
    startSelect.value = "14:00";
  }
  if (!durationSelect.options.length) {
    durationSelect.replaceChildren(...DURATIONS.map((m) => new Option(humanMinutes(m), String(m), false, m === 60)));
  }
  slotOther.hidden = state.slot !== "other";
}

// ---------------------------------------------------------------------------
// Availability.

const cache = new Map(); // "site|from|to" -> promise of the answer

function availability(siteID, from, to) {
  const key = `${siteID}|${from}|${to}`;
  if (!cache.has(key)) {
    const q = new URLSearchParams({ site: siteID, from, to, fields: "free" });
    const p = getJSON("/api/v1/availability?" + q);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return cache.get(key);
}

// freeOf returns room's free intervals in answer a, as milliseconds.
function freeOf(a, room) {
  return (a.rooms.find((r) => r.room === room)?.free ?? []).map((f) => [Date.parse(f.start), Date.parse(f.end)]);
}

const covers = (free, from, to) => free.some(([a, b]) => a <= from && b >= to);

// ---------------------------------------------------------------------------
// The answer.

let searching = 0;

async function search() {
  const mine = ++searching;
  const s = site();
  const w = wanted();
  planningLink.href = `${s.planning}?date=${state.date}`;
  history.replaceState(null, "", `?site=${encodeURIComponent(s.id)}`);
  if (!w) {
    return;
  }
  const need = { people: people(), wishes: wishes(), minutes: w.minutes };
  const clock = clockOf(s);
  const when = t("start_when_words", { date: clock.fmtDate(w.from), start: toClock(w.start), end: toClock(w.end % 1440) });
  status.textContent = t("loading");
  status.className = "status";
  let day;
  try {
    day = await availability(s.id, clock.zoned(w.date, "00:00"), clock.zoned(addDays(w.date, 1), "00:00"));
  } catch (err) {
    console.error(err);
    if (mine === searching) {
      status.textContent = t("load_error");
    }
    return;
  }
  if (mine !== searching) {
    return;
  }
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const free = s.rooms.filter((r) => fits(r, need) && covers(freeOf(day, r.id), from, to)).sort(bestFirst(need));
  fill(list, free.map((r) => [s, r, w.from, w.to, false]));
  if (free.length) {
    nearby.hidden = true;
    status.textContent = tn("start_found", free.length, { when, site: s.name });
  } else {
    status.textContent = t("start_none", { when, site: s.name });
    await offerNearby(s, day, w, need, mine);
  }
  if (reveal && mine === searching) {
    reveal = false;
    showAnswer();
  }
}

// reveal asks the next search to bring its answer into view: set when a
// member picks a time, the last of the usual questions.
let reveal = false;

// showAnswer scrolls, as little as needed, until the first answer (the
// best room's card, or the nearest other choices) is in view: on a phone
// the rooms are below the questions, and a member who just chose a time
// should not have to know to scroll. Focus stays on the chip.
function showAnswer() {
  const first = list.querySelector("li") ?? (nearby.hidden ? resultsH : nearby);
  const r = first.getBoundingClientRect();
  if (r.top >= 0 && r.bottom <= window.innerHeight) {
    return;
  }
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  first.scrollIntoView({ block: "nearest", behavior: calm ? "auto" : "smooth" });
}

// offerNearby lists, when no room fits, the nearest free times of the
// same length at the site (up to three, the best room for each) and the
// other sites' free rooms at the asked time (the best one per site).
async function offerNearby(s, day, w, need, mine) {
  const wantFrom = Date.parse(w.from);
  const len = w.minutes * 60000;
  const candidates = [];
  const quarter = 15 * 60000;
  for (const r of s.rooms.filter((r) => fits(r, need))) {
    for (const [a, b] of freeOf(day, r.id)) {
      const first = Math.ceil(a / quarter) * quarter;
      const last = Math.floor((b - len) / quarter) * quarter;
      if (last < first) {
        continue;
      }
      const start = Math.min(Math.max(wantFrom, first), last);
      candidates.push({ r, start });
    }
  }
  candidates.sort((x, y) => Math.abs(x.start - wantFrom) - Math.abs(y.start - wantFrom) || bestFirst(need)(x.r, y.r));
  const times = [];
  for (const c of candidates) {
    if (!times.some((o) => o.start === c.start) && times.length < 3) {
      times.push(c);
    }
  }
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  fill(document.getElementById("nearby-times"), times.map((c) => [s, c.r, iso(c.start), iso(c.start + len), false]));
  document.getElementById("nearby-times-h").hidden = times.length === 0;

  const others = [];
  for (const o of data.sites.filter((x) => x.id !== s.id)) {
    const oz = clockOf(o).zoned;
    const endDate = w.end === 24 * 60 ? addDays(w.date, 1) : w.date;
    const from = oz(w.date, toClock(w.start));
    const to = oz(endDate, toClock(w.end % 1440));
    try {
      const a = await availability(o.id, from, to);
      const best = o.rooms.filter((r) => fits(r, need) && covers(freeOf(a, r.id), Date.parse(from), Date.parse(to))).sort(bestFirst(need))[0];
      if (best) {
        others.push([o, best, from, to, true]);
      }
    } catch (err) {
      console.error(err);
    }
  }
  if (mine !== searching) {
    return;
  }
  fill(document.getElementById("nearby-sites"), others);
  document.getElementById("nearby-sites-h").hidden = others.length === 0;
  nearby.hidden = times.length === 0 && others.length === 0;
  if (nearby.hidden) {
    status.textContent += " " + t("start_none_anywhere");
  }
}

// fill makes ul list the options (option's arguments each), leaving it
// untouched when it lists them already: a button being pressed is not
// replaced under the finger by the same one.
function fill(ul, options) {
  const key = options.map(([s, r, from, to]) => `${s.id}|${r.id}|${from}|${to}`).join(" ");
  if (ul.dataset.key === key) {
    return;
  }
  ul.dataset.key = key;
  ul.replaceChildren(...options.map((o) => option(...o)));
}

// option is one room offered for [from, to): its name (a link to its
// page), seats and equipment, and the button that books it.
let optionSeq = 0;
function option(s, r, from, to, withSite) {
  const clock = clockOf(s);
  const li = document.createElement("li");
  li.className = "room-card";
  const h = document.createElement("h3");
  h.id = `opt-${++optionSeq}`;
  const a = document.createElement("a");
  a.href = r.url;
  a.textContent = r.name;
  h.append(a);
  if (withSite) {
    const small = document.createElement("span");
    small.className = "site-name";
    small.textContent = s.name;
    h.append(" ", small);
  }
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [tn("start_seats", r.capacity), r.equipment.join(", ")].filter(Boolean).join(" · ");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "book";
  b.textContent = t("start_book", { start: clock.fmtTime(from), end: clock.fmtTime(to) });
  b.setAttribute("aria-describedby", h.id);
  b.addEventListener("click", () => reserve(s, r, from, to, b));
  li.append(h, meta, b);
  return li;
}

// defaultTitle is "Réunion de <prénom>" (with the French elision).
function defaultTitle() {
  const name = data.first_name || "";
  if (!name) {
    return t("start_default_title_anon");
  }
  return /^[aeiouyàâéèêëîïôûüh]/i.test(name) ? t("start_default_title_elided", { name }) : t("start_default_title", { name });
}

let booked = null; // the booking just made: {id, title}

async function reserve(s, r, from, to, button) {
  const title = titleInput.value.trim() || defaultTitle();
  button.disabled = true;
  status.textContent = t("booking_in_progress");
  const res = await book({ room: r.id, start: from, end: to, title }, r.name, clockOf(s));
  button.disabled = false;
  if (!res.ok) {
    cache.clear();
    status.textContent = res.message;
    status.className = "status error";
    resultsH.focus();
    await search();
    status.textContent = res.message + " " + status.textContent;
    status.className = "status error";
    return;
  }
  booked = { id: res.booking?.id, title, s, r, from, to };
  closeRepeat();
  repeatOpen.hidden = !booked.id;
  cache.clear();
  document.getElementById("done-what").textContent = res.message;
  document.getElementById("rename-title").value = title;
  document.getElementById("done-result").textContent = "";
  form.hidden = true;
  results.hidden = true;
  done.hidden = false;
  document.getElementById("done-h").focus();
}

document.getElementById("rename").addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("done-result");
  const title = document.getElementById("rename-title").value.trim();
  if (!booked?.id || !title) {
    return;
  }
  const res = await api("PATCH", `/api/v1/bookings/${encodeURIComponent(booked.id)}`, { title });
  if (res.ok) {
    booked.title = title;
    out.textContent = t("start_renamed", { title });
    out.className = "result ok";
  } else {
    out.textContent = t("start_rename_failed");
    out.className = "result error";
  }
});

// "Répéter cette réservation…": after booking, the booking just made can
// become a series (PATCH /api/v1/bookings/{id} with recurrence), with
// the same fields and the same list of the dates that are not free as
// the planning's "Répéter" (series.js). The booking itself took its
// taps; repeating it is one more choice, never in the way of the usual
// three.
const repeatOpen = document.getElementById("repeat-open");
const repeatForm = document.getElementById("repeat-form");
const repeatResult = document.getElementById("rp-result");
const doneResult = document.getElementById("done-result");
let repeat = null; // the fields, once opened
let repeatClock = null;

function closeRepeat() {
  repeatForm.hidden = true;
  repeatOpen.setAttribute("aria-expanded", "false");
  repeatResult.textContent = "";
  repeatResult.className = "result";
}

repeatOpen.addEventListener("click", () => {
  if (!repeatForm.hidden) {
    closeRepeat();
    return;
  }
  repeatClock = clockOf(booked.s);
  repeat ??= repeatFields(repeatForm, () => repeatClock);
  repeat.reset(repeatClock.wall(booked.from).slice(0, 10));
  const select = repeatForm.elements.repeat;
  select.value = "weekly"; // the usual wish; the member may choose another
  select.dispatchEvent(new Event("change", { bubbles: true }));
  repeatForm.hidden = false;
  repeatOpen.setAttribute("aria-expanded", "true");
  select.focus();
});

repeatForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!booked?.id) {
    return;
  }
  const b = booked;
  const req = { room: b.r.id, start: b.from, end: b.to, title: b.title };
  const say = (m) => {
    repeatResult.textContent = m;
    repeatResult.className = "result";
  };
  say(t("booking_in_progress"));
  const r = await repeat.submit(req, b.r.name, say, {
    repeats: b.id,
    send: async (q) => {
      const res = await api("PATCH", `/api/v1/bookings/${encodeURIComponent(b.id)}`, { recurrence: q.recurrence, skip: q.skip });
      return res.ok ? { ok: true, booking: res.body } : failure(res, q, b.r.name, repeatClock);
    },
  });
  if (r.silent) {
    return;
  }
  if (r.nothing) {
    say(r.message);
    repeatForm.elements.repeat.focus();
    return;
  }
  if (!r.ok) {
    show(repeatResult, r);
    repeatForm.querySelector("[data-book]").focus(); // not the body, when the series' buttons went
    return;
  }
  closeRepeat();
  repeatOpen.hidden = true; // a series now
  show(doneResult, r);
  doneResult.focus();
});

document.getElementById("again").addEventListener("click", async () => {
  done.hidden = true;
  form.hidden = false;
  results.hidden = false;
  titleInput.value = "";
  // The focus goes to the answers at once, and the answer comes into
  // their live region: moved only once the search is done, it would take
  // the focus from a field the member went on to meanwhile (a slow
  // answer took the people field from under the fingers typing "14").
  resultsH.focus();
  await search();
});

// ---------------------------------------------------------------------------
// Changes.

form.addEventListener("change", (event) => {
  const el = event.target;
  if (el === peopleInput || el === titleInput) {
    return; // the people: on input; the title: asks nothing
  }
  if (el.name === "site") {
    state.site = el.value;
    renderDays();
    renderSlots();
  } else if (el.name === "day" && el.value === "other") {
    // Another day: its date field, which starts from the day chosen.
    document.getElementById("date-other").hidden = false;
    dateInput.value = state.date;
    dateInput.focus();
    return;
  } else if (el.name === "day") {
    state.date = el.value;
    dateInput.value = "";
    document.getElementById("date-other").hidden = true;
    renderSlots();
  } else if (el === dateInput) {
    if (!dateInput.value) {
      return;
    }
    state.date = dateInput.value;
    renderSlots();
  } else if (el.name === "slot") {
    state.slot = el.value;
    slotOther.hidden = state.slot !== "other";
    reveal = state.slot !== "other";
  }
  search();
});

peopleInput.addEventListener("input", () => search());
for (const [id, step] of [["people-less", -1], ["people-more", 1]]) {
  document.getElementById(id).addEventListener("click", () => {
    peopleInput.value = String(Math.min(500, Math.max(1, people() + step)));
    search();
  });
}

// Enter in the questions goes to the best room's button (or, when none
// fits, to the answer).
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  await search();
  (results.querySelector("button.book") ?? resultsH).focus();
});

titleInput.placeholder = defaultTitle();
renderDays();
renderSlots();
search();
showNotes();
