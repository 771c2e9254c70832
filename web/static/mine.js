// My bookings (web/templates/mine.html): GET /api/v1/bookings?mine=true,
// one row each (a series is one row: see seriesRow) with a move button (an inline form: PATCH
// /api/v1/bookings/{id}) and a cancel button (DELETE /api/v1/bookings/{id}),
// both with the session's CSRF token; and my registrations to coming
// events (GET /api/v1/events, then GET /api/v1/events/{id} for
// my_registration), each with an unregister button (DELETE
// /api/v1/events/{id}/registrations/me).
import { t, tn, pad, wallParts, zoned, api, problemText } from "./common.js";
import { askInline } from "./ask.js";
import { showNotes } from "./notes.js";

const root = document.getElementById("mine");
const lang = root.dataset.lang;
const rooms = JSON.parse(document.getElementById("rooms").textContent) ?? {};

const status = document.getElementById("mine-status");
status.tabIndex = -1; // takes the focus when what was pressed goes away
const empty = document.getElementById("mine-empty");
const table = document.getElementById("mine-table");
const tbody = table.querySelector("tbody");

const locale = lang === "en" ? "en-GB" : "fr-FR";
const zoneOf = (room) => rooms[room]?.tz ?? "UTC";
const fmt = (iso, room, opts) => new Intl.DateTimeFormat(locale, { timeZone: zoneOf(room), ...opts }).format(new Date(iso));
const fmtDate = (iso, room) => fmt(iso, room, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fmtTime = (iso, room) => fmt(iso, room, { hour: "2-digit", minute: "2-digit" });


async function cancel(b, row, button) {
  button.disabled = true;
  // A disabled button loses the focus: the answer's line takes it now,
  // not once the answer is there (the body would have it meanwhile).
  status.focus();
  const res = await api("DELETE", "/api/v1/bookings/" + encodeURIComponent(b.id));
  if (res.ok) {
    if (row.nextElementSibling?.classList.contains("move-row")) {
      row.nextElementSibling.remove();
    }
    row.remove();
    status.textContent = t("mine_cancelled", { title: b.title });
    status.focus(); // the row is gone: the answer takes the focus, not the body
    if (!tbody.children.length) {
      table.hidden = true;
      empty.hidden = false;
    }
    return;
  }
  status.textContent = problemText(res);
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
  const kept = [...td.childNodes];
  no.addEventListener("click", () => {
    td.replaceChildren(...kept);
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

// row makes the row of a single booking: when, room, title, and its
// buttons (cancel, move).
function singleRow(b) {
  const row = document.createElement("tr");
  const date = fmtDate(b.start, b.room);
  row.append(
    cell(t("mine_when", { date, start: fmtTime(b.start, b.room), end: fmtTime(b.end, b.room) })),
    roomCell(b),
    cell(b.pending ? t("mine_pending", { title: b.title }) : b.title),
  );
  const td = document.createElement("td");
  const moveButton = document.createElement("button");
  moveButton.type = "button";
  moveButton.className = "secondary move";
  moveButton.textContent = t("mine_move");
  moveButton.setAttribute("aria-label", t("mine_move_label", { title: b.title, date }));
  moveButton.setAttribute("aria-expanded", "false");
  moveButton.addEventListener("click", () => openMove(b, row, moveButton));
  const button = document.createElement("button");
  button.type = "button";
  button.className = "danger";
  button.textContent = t("mine_cancel");
  button.setAttribute("aria-label", t("mine_cancel_label", { title: b.title, date }));
  button.addEventListener("click", () => askConfirm(b, row, td, button));
  td.append(button, " ", moveButton);
  row.append(td);
  return row;
}

function roomCell(b) {
  const td = document.createElement("td");
  const a = document.createElement("a");
  a.href = "/salles/" + encodeURIComponent(b.room) + "?week=" + wallDate(b.start, b.room);
  a.textContent = rooms[b.room]?.name ?? b.room;
  a.title = t("room_link_title");
  td.append(a);
  return td;
}

async function load() {
  const res = await api("GET", "/api/v1/bookings?mine=true");
  if (!res.ok || !Array.isArray(res.body)) {
    status.textContent = problemText(res);
    return;
  }
  const list = res.body;
  list.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  // A series is one entry, however many of its dates the list holds:
  // each booking is read once (GET /api/v1/bookings/{id}) for its
  // repetition and skipped dates.
  const dates = new Map(); // id → its dates in the list, soonest first
  for (const b of list) {
    if (!dates.has(b.id)) {
      dates.set(b.id, []);
    }
    dates.get(b.id).push(b);
  }
  const details = new Map(await Promise.all([...dates.keys()].map(async (id) => {
    const one = await api("GET", "/api/v1/bookings/" + encodeURIComponent(id));
    return [id, one.ok ? one.body : null];
  })));
  tbody.replaceChildren();
  for (const [id, ds] of dates) {
    const full = details.get(id);
    if (full?.recurrence) {
      tbody.append(seriesRow(full, ds));
    } else {
      tbody.append(singleRow(ds[0]));
    }
  }
  status.textContent = "";
  table.hidden = dates.size === 0;
  empty.hidden = dates.size !== 0;
}

// ---------------------------------------------------------------------------
// A series: one entry in words ("Chaque mardi, 10:00 – 12:00, jusqu'au 30
// juin"), its skipped dates, its next dates unfolded on demand; a date
// is cancelled alone (POST /api/v1/bookings/{id}/skip: free for others
// at once) or the whole series, after a confirmation.

const WEEKDAYS = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };
const NTH = ["nth_1", "nth_2", "nth_3", "nth_4"];

// weekdayName names weekday wd (0: Sunday) in the page's language.
const weekdayName = (wd) => new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" }).format(new Date(Date.UTC(2026, 0, 4 + wd, 12)));

// ruleWords says a series' repetition in words, with its hours and its
// end: "Chaque mardi, 10:00 – 12:00, jusqu'au 30 juin".
function ruleWords(b) {
  const parts = Object.fromEntries(b.recurrence.split(";").map((p) => p.split("=")));
  const interval = Number(parts.INTERVAL ?? 1);
  const byday = (parts.BYDAY ?? "").split(",").filter(Boolean);
  const first = wallParts(Date.parse(b.start), zoneOf(b.room));
  const firstWd = new Date(Date.UTC(first.year, first.month - 1, first.day, 12)).getUTCDay();
  let rhythm = t("mine_series_other");
  if (parts.FREQ === "DAILY" && interval === 1 && !byday.length) {
    rhythm = t("mine_series_daily");
  } else if (parts.FREQ === "WEEKLY" && interval <= 2) {
    const days = byday.length ? byday.map((d) => WEEKDAYS[d]).filter((d) => d !== undefined) : [firstWd];
    const weekday = new Intl.ListFormat(locale, { type: "conjunction" }).format(days.map(weekdayName));
    rhythm = t(interval === 1 ? "mine_series_weekly" : "mine_series_biweekly", { weekday });
  } else if (parts.FREQ === "MONTHLY" && interval === 1 && byday.length === 1) {
    const m = /^([+-]?\d)([A-Z]{2})$/.exec(byday[0]);
    if (m && WEEKDAYS[m[2]] !== undefined) {
      const n = Number(m[1]);
      const weekday = weekdayName(WEEKDAYS[m[2]]);
      if (n === -1) {
        rhythm = t("mine_series_monthly_last", { weekday });
      } else if (n >= 1 && n <= 4) {
        rhythm = t("mine_series_monthly", { nth: t(NTH[n - 1]), weekday });
      }
    }
  }
  let when = t("mine_series_when", { rhythm, start: fmtTime(b.start, b.room), end: fmtTime(b.end, b.room) });
  if (parts.UNTIL) {
    const u = parts.UNTIL;
    const iso = `${u.slice(0, 4)}-${u.slice(4, 6)}-${u.slice(6, 8)}T${u.slice(9, 11) || "00"}:${u.slice(11, 13) || "00"}:00Z`;
    when = t("mine_series_until", { when, date: fmt(iso, b.room, { day: "numeric", month: "long", year: "numeric" }) });
  } else if (parts.COUNT) {
    when = tn("mine_series_count", Number(parts.COUNT), { when });
  }
  return when;
}

const dayWords = (iso, room) => fmt(iso, room, { weekday: "long", day: "numeric", month: "long" });

let seriesSeq = 0;

// seriesRow makes the entry of series b (GET /api/v1/bookings/{id}),
// ds its next dates as the list has them.
function seriesRow(b, ds) {
  const n = ++seriesSeq;
  const row = document.createElement("tr");
  row.className = "series";
  const when = document.createElement("td");
  const words = document.createElement("p");
  words.className = "series-words";
  words.textContent = ruleWords(b);
  const next = document.createElement("p");
  next.className = "series-next";
  next.textContent = t("mine_series_next", { date: dayWords(ds[0].start, b.room) });
  when.append(words, next);
  if (b.skip?.length) {
    const skipped = document.createElement("p");
    skipped.className = "series-skipped";
    const list = new Intl.ListFormat(locale, { type: "conjunction" }).format(b.skip.map((s) => dayWords(s, b.room)));
    skipped.textContent = tn("mine_series_skipped", b.skip.length, { dates: list });
    when.append(skipped);
  }
  row.append(when, roomCell(b), cell(b.pending ? t("mine_pending", { title: b.title }) : b.title));

  const td = document.createElement("td");
  const cancelButton = document.createElement("button");
  cancelButton.type = "button";
  cancelButton.className = "danger series-cancel";
  cancelButton.textContent = t("mine_series_cancel");
  cancelButton.setAttribute("aria-label", t("mine_series_cancel_label", { title: b.title }));
  const actions = document.createElement("div");
  actions.className = "actions";
  cancelButton.addEventListener("click", () => chooseCancel(b, ds[0], actions, cancelButton));
  const show = document.createElement("button");
  show.type = "button";
  show.className = "secondary series-show";
  const label = (what) => {
    show.textContent = what;
    show.setAttribute("aria-label", t("mine_series_show_label", { what, title: b.title }));
  };
  label(tn("mine_series_show", ds.length));
  show.setAttribute("aria-expanded", "false");
  show.setAttribute("aria-controls", `series${n}-dates`);
  show.addEventListener("click", () => toggleDates(b, ds, row, show, n, label));
  actions.append(cancelButton, " ", show);
  td.append(actions);
  row.append(td);
  return row;
}

// toggleDates unfolds (or folds) the series' next dates under its row,
// each with a button to cancel that date alone.
function toggleDates(b, ds, row, button, n, label) {
  const next = row.nextElementSibling;
  if (next?.classList.contains("dates-row")) {
    next.remove();
    button.setAttribute("aria-expanded", "false");
    label(tn("mine_series_show", ds.length));
    button.focus();
    return;
  }
  const tr = document.createElement("tr");
  tr.className = "dates-row";
  const td = document.createElement("td");
  td.colSpan = 4;
  const ul = document.createElement("ul");
  ul.id = `series${n}-dates`;
  ul.className = "series-dates";
  ul.setAttribute("aria-label", t("mine_series_dates_label", { title: b.title }));
  for (const d of ds) {
    const li = document.createElement("li");
    const date = dayWords(d.start, b.room);
    const text = document.createElement("span");
    text.textContent = t("mine_when", { date, start: fmtTime(d.start, b.room), end: fmtTime(d.end, b.room) });
    const box = document.createElement("span");
    box.className = "actions";
    const skip = document.createElement("button");
    skip.type = "button";
    skip.className = "secondary skip-date";
    skip.textContent = t("mine_skip");
    skip.setAttribute("aria-label", t("mine_skip_label", { date, title: b.title }));
    skip.addEventListener("click", () => askInline(box, t("mine_skip_confirm", { date, title: b.title }),
      t("mine_skip_yes"), t("mine_confirm_no"), () => skipDate(b, d), skip));
    box.append(skip);
    li.append(text, " ", box);
    ul.append(li);
  }
  td.append(ul);
  tr.append(td);
  row.after(tr);
  button.setAttribute("aria-expanded", "true");
  label(t("mine_series_hide"));
}

// chooseCancel asks, in the row, what to cancel: the next date alone, or
// the whole series (asked again: a slip of the finger must not cancel a
// term's bookings).
function chooseCancel(b, next, box, back) {
  const kept = [...box.childNodes];
  const restore = () => box.replaceChildren(...kept);
  const wrap = document.createElement("div");
  wrap.className = "confirm";
  const q = document.createElement("p");
  q.textContent = t("mine_series_choice", { title: b.title });
  const date = dayWords(next.start, b.room);
  const one = document.createElement("button");
  one.type = "button";
  one.className = "secondary series-only";
  one.textContent = t("mine_series_only_next", { date });
  one.addEventListener("click", () => {
    one.disabled = true;
    skipDate(b, next);
  });
  const all = document.createElement("button");
  all.type = "button";
  all.className = "danger series-all";
  all.textContent = t("mine_series_all");
  all.addEventListener("click", () => askInline(box, t("mine_series_all_confirm", { title: b.title }),
    t("mine_series_all_yes"), t("mine_confirm_no"), () => cancelSeries(b), all));
  const no = document.createElement("button");
  no.type = "button";
  no.className = "secondary confirm-no";
  no.textContent = t("mine_confirm_no");
  no.addEventListener("click", () => {
    restore();
    back.focus();
  });
  wrap.append(q, one, " ", all, " ", no);
  box.replaceChildren(wrap);
  no.focus();
}

// skipDate cancels date d of series b alone; the list is then read
// again, and the answer takes the focus (never the body).
async function skipDate(b, d) {
  status.focus();
  const res = await api("POST", "/api/v1/bookings/" + encodeURIComponent(b.id) + "/skip", { start: d.start });
  if (!res.ok) {
    status.textContent = problemText(res);
    await load();
    status.focus();
    return;
  }
  await load();
  status.textContent = t("mine_skipped", { date: dayWords(d.start, b.room), title: b.title });
  status.focus();
}

async function cancelSeries(b) {
  status.focus();
  const res = await api("DELETE", "/api/v1/bookings/" + encodeURIComponent(b.id));
  if (!res.ok) {
    status.textContent = problemText(res);
    return;
  }
  await load();
  status.textContent = t("mine_series_cancelled", { title: b.title });
  status.focus();
}

// ---------------------------------------------------------------------------
// Moving a booking.

// wallDate and wallTime are an instant's day and time in room's zone.
function wallDate(iso, room) {
  const p = wallParts(Date.parse(iso), zoneOf(room));
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}
function wallTime(iso, room) {
  const p = wallParts(Date.parse(iso), zoneOf(room));
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

let moveSeq = 0;

function field(id, label, type, value) {
  const p = document.createElement("span");
  const l = document.createElement("label");
  l.htmlFor = id;
  l.textContent = label;
  const input = document.createElement("input");
  // The page's language before the type: a date or time field made
  // outside the page takes the language it has then for its format
  // (Chromium drawing fields in the page's language: 08/12/2026 in
  // French, not 12/08/2026).
  input.lang = document.documentElement.lang;
  input.type = type;
  input.id = id;
  input.name = id.split("-").pop();
  input.required = true;
  input.value = value;
  if (type === "time") {
    input.step = "300";
  }
  p.append(l, " ", input);
  return p;
}

// openMove shows, under the booking's row, a form to move it: the day,
// the start and the end, filled with the booking's own.
function openMove(b, row, button) {
  const next = row.nextElementSibling;
  if (next?.classList.contains("move-row")) {
    next.remove();
    button.setAttribute("aria-expanded", "false");
    button.focus();
    return;
  }
  const n = ++moveSeq;
  const tr = document.createElement("tr");
  tr.className = "move-row";
  const td = document.createElement("td");
  td.colSpan = 4;
  const form = document.createElement("form");
  form.className = "move-form";
  form.setAttribute("aria-label", t("mine_move_form_label", { title: b.title }));
  const times = document.createElement("p");
  times.className = "times";
  times.append(
    field(`mv${n}-date`, t("date_label"), "date", wallDate(b.start, b.room)), " ",
    field(`mv${n}-start`, t("start_label"), "time", wallTime(b.start, b.room)), " ",
    field(`mv${n}-end`, t("end_label"), "time", wallTime(b.end, b.room)),
  );
  const actions = document.createElement("p");
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = t("mine_move_save");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "secondary";
  close.textContent = t("close");
  close.addEventListener("click", () => {
    tr.remove();
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  actions.append(save, " ", close);
  const result = document.createElement("p");
  result.className = "result move-result";
  result.setAttribute("role", "alert");
  form.append(times, actions, result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    move(b, form, result, save);
  });
  td.append(form);
  tr.append(td);
  row.after(tr);
  button.setAttribute("aria-expanded", "true");
  form.querySelector("input").focus();
}

function showResult(el, ok, message) {
  el.textContent = message;
  el.classList.toggle("ok", ok);
  el.classList.toggle("error", !ok);
}

async function move(b, form, result, save) {
  const date = form.elements.date.value;
  const start = form.elements.start.value;
  const end = form.elements.end.value;
  if (!date || !start || !end) {
    showResult(result, false, t("mine_move_missing"));
    return;
  }
  if (end <= start) {
    showResult(result, false, t("err_end_before_start"));
    return;
  }
  const zone = zoneOf(b.room);
  const req = { start: zoned(date, start, zone), end: zoned(date, end, zone) };
  const room = rooms[b.room]?.name ?? b.room;
  save.disabled = true;
  result.textContent = t("mine_move_in_progress");
  const res = await api("PATCH", "/api/v1/bookings/" + encodeURIComponent(b.id), req);
  const body = res.body;
  save.disabled = false;
  if (res.ok) {
    const s = body.start ?? req.start;
    const e = body.end ?? req.end;
    await load();
    status.focus(); // the form is gone: the answer takes the focus, not the body
    status.textContent = t("mine_moved", { title: b.title, date: fmtDate(s, b.room), start: fmtTime(s, b.room), end: fmtTime(e, b.room) });
    return;
  }
  // A slot taken says by what, in the room's hours.
  showResult(result, false, problemText(res, {
    409: (p) => {
      const slots = (p.conflicts ?? []).map((c) => t("err_conflict_slot", { start: fmtTime(c.start, b.room), end: fmtTime(c.end, b.room) }));
      const when = slots.length ? slots.join(t("err_conflict_and")) : t("err_conflict_slot", { start: fmtTime(req.start, b.room), end: fmtTime(req.end, b.room) });
      return t("err_conflict", { room, slots: when });
    },
  }));
}

load();

// ---------------------------------------------------------------------------
// My registrations to coming events.

const regsStatus = document.getElementById("regs-status");
regsStatus.tabIndex = -1;
const regsEmpty = document.getElementById("regs-empty");
const regsList = document.getElementById("regs-list");
// evZone is the room whose zone an event is shown in: its own, else the
// first room's (the organisation's zone).
const evZone = (ev) => ev.room || Object.keys(rooms)[0];

async function unregister(ev, li, button) {
  button.disabled = true;
  regsStatus.focus(); // as in cancel: never the body while the answer comes
  const res = await api("DELETE", "/api/v1/events/" + encodeURIComponent(ev.id) + "/registrations/me");
  if (res.ok) {
    li.remove();
    regsStatus.textContent = t("regs_unregistered", { title: ev.title });
    regsStatus.focus(); // the item is gone: the answer takes the focus, not the body
    if (!regsList.children.length) {
      regsList.hidden = true;
      regsEmpty.hidden = false;
    }
    return;
  }
  regsStatus.textContent = problemText(res);
  button.disabled = false;
}

async function loadRegistrations() {
  regsStatus.textContent = t("loading");
  const res = await api("GET", "/api/v1/events");
  if (!res.ok || !Array.isArray(res.body)) {
    regsStatus.textContent = problemText(res);
    return;
  }
  const now = Date.now();
  const coming = res.body.filter((ev) => Date.parse(ev.end) > now && ev.status !== "cancelled");
  const details = await Promise.all(coming.map(async (ev) => {
    const one = await api("GET", "/api/v1/events/" + encodeURIComponent(ev.id));
    return one.ok ? one.body : null;
  }));
  const mine = details.filter((ev) => ev?.my_registration);
  mine.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  regsList.replaceChildren(...mine.map((ev) => {
    const li = document.createElement("li");
    const h = document.createElement("h3");
    h.textContent = ev.title;
    const when = document.createElement("p");
    when.textContent = t("mine_when", { date: fmtDate(ev.start, evZone(ev)), start: fmtTime(ev.start, evZone(ev)), end: fmtTime(ev.end, evZone(ev)) });
    const st = document.createElement("p");
    st.className = "reg-status";
    const reg = ev.my_registration;
    st.textContent = reg.status === "waitlisted"
      ? t("regs_waitlisted", { n: reg.position ?? "?" })
      : t("regs_confirmed");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "danger";
    button.textContent = t("regs_unregister");
    button.setAttribute("aria-label", t("regs_unregister_label", { title: ev.title }));
    // Leaving a confirmed seat gives it away: ask first.
    const actions = document.createElement("p");
    actions.className = "actions";
    actions.append(button);
    button.addEventListener("click", () => reg.status === "confirmed"
      ? askInline(actions, t("ev_leave_confirm", { title: ev.title }), t("ev_leave_yes"), t("ev_leave_no"), () => unregister(ev, li, button), button)
      : unregister(ev, li, button));
    li.append(h, when, st, actions);
    return li;
  }));
  regsStatus.textContent = "";
  regsList.hidden = mine.length === 0;
  regsEmpty.hidden = mine.length !== 0;
}

loadRegistrations();
showNotes();

// My personal feed: POST /api/v1/me/feed makes a new token (revoking the
// previous one) and answers its URL, shown this once; DELETE revokes it.
const feedStatus = document.getElementById("feed-status");
const feedLink = document.getElementById("feed-link");
const feedURL = document.getElementById("feed-url");
const feedWebcal = document.getElementById("feed-webcal");

// Whether a link exists, and since when (the link itself is shown only
// when made): GET /api/v1/me/feed.
const feedState = document.getElementById("feed-state");
const feedActions = document.getElementById("feed-actions");
const feedNew = document.getElementById("feed-new");
const feedRevoke = document.getElementById("feed-revoke");
let feedExists = false;

async function loadFeedState() {
  const res = await api("GET", "/api/v1/me/feed");
  if (!res.ok) {
    if (!res.status) feedStatus.textContent = problemText(res);
    return;
  }
  showFeedState(res.body.exists, res.body.created_at);
}

function showFeedState(exists, createdAt) {
  feedExists = exists;
  feedRevoke.hidden = !exists;
  if (!exists) {
    feedState.textContent = t("feed_none");
  } else if (createdAt) {
    const d = new Date(createdAt);
    const locale = document.documentElement.lang === "en" ? "en-GB" : "fr-FR";
    feedState.textContent = t("feed_exists", {
      date: new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric" }).format(d),
      time: new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(d),
    });
  } else {
    feedState.textContent = t("feed_exists_undated");
  }
}

// A new link stops the old one; removing stops it too: both ask first.
feedNew.addEventListener("click", () => {
  if (!feedExists) {
    makeFeedLink();
    return;
  }
  askInline(feedActions, t("feed_new_confirm"), t("feed_new_yes"), t("feed_keep"), makeFeedLink, feedNew);
});
feedRevoke.addEventListener("click", () => {
  askInline(feedActions, t("feed_revoke_confirm"), t("feed_revoke_yes"), t("feed_keep"), revokeFeedLink, feedRevoke);
});
loadFeedState();

async function makeFeedLink() {
  const res = await api("POST", "/api/v1/me/feed");
  if (res.status !== 201) {
    feedStatus.textContent = problemText(res);
    return;
  }
  const { url } = res.body;
  feedURL.value = url;
  feedWebcal.href = url.replace(/^https?:/, "webcal:");
  feedLink.hidden = false;
  feedStatus.textContent = t("feed_created");
  showFeedState(true, new Date().toISOString());
  feedURL.focus();
  feedURL.select();
}

async function revokeFeedLink() {
  const res = await api("DELETE", "/api/v1/me/feed");
  if (res.status !== 204) {
    feedStatus.textContent = problemText(res);
    return;
  }
  feedLink.hidden = true;
  feedURL.value = "";
  feedStatus.textContent = t("feed_revoked");
  showFeedState(false);
  feedStatus.focus(); // the button pressed is gone: the answer takes the focus
}

// My e-mail notices: GET /api/v1/me/preferences gives my choices (a kind
// absent takes its default, said by data-default); each change is sent
// at once with PATCH /api/v1/me/preferences ({"notices": {kind: on}} or
// {"lang": …}). 404: this roomcal keeps no preferences.
const noticesKinds = document.getElementById("notices-kinds");
const noticesStatus = document.getElementById("notices-status");
const noticesLang = document.getElementById("notices-lang");

async function savePrefs(body, undo) {
  const res = await api("PATCH", "/api/v1/me/preferences", body);
  if (res.status === 200) {
    noticesStatus.textContent = t("notices_saved");
    return;
  }
  undo();
  noticesStatus.textContent = problemText(res);
}

async function loadNotices() {
  const res = await api("GET", "/api/v1/me/preferences");
  if (res.status !== 200) {
    noticesStatus.textContent = res.status === 404 ? t("notices_off") : problemText(res);
    return;
  }
  const prefs = res.body;
  for (const box of noticesKinds.querySelectorAll("input[data-kind]")) {
    const kind = box.dataset.kind;
    box.checked = prefs.notices?.[kind] ?? box.dataset.default === "true";
    box.addEventListener("change", () =>
      savePrefs({ notices: { [kind]: box.checked } }, () => { box.checked = !box.checked; }));
  }
  noticesLang.value = prefs.lang ?? "";
  let lastLang = noticesLang.value;
  noticesLang.addEventListener("change", () => {
    const was = lastLang;
    lastLang = noticesLang.value;
    savePrefs({ lang: noticesLang.value }, () => { noticesLang.value = was; lastLang = was; });
  });
  noticesKinds.disabled = false;
}

loadNotices();
