// The events page (web/templates/events.html): the coming events
// (GET /api/v1/events, then GET /api/v1/events/{id} for each, which adds
// the member's own registration), registering and unregistering
// (POST /api/v1/events/{id}/registrations, DELETE …/registrations/me),
// and for organisers: creating an event (POST /api/v1/events), changing
// its number of seats (PATCH), cancelling it (DELETE), the attendee list
// (GET …/registrations) and its CSV download (the same with
// Accept: text/csv, saved as a file from a Blob).
//
// The seat counts follow without a reload: the list is fetched again
// every data-refresh seconds while the page is visible, when it becomes
// visible again, and right after each action. The event cards are
// updated in place, so that a refresh neither moves the keyboard focus
// nor repeats what the status lines said.
//
// An event's own page (/evenements/{id}, data-event) is the same page
// with that one event: it is fetched alone, its card has no link to
// itself, and the page's title becomes the event's.
import { t, tn, zoned, api, problemText } from "./common.js";
import { askInline } from "./ask.js";
import { showNotes } from "./notes.js";

const root = document.getElementById("events");
const lang = root.dataset.lang;
const defaultZone = root.dataset.tz || "UTC";
const me = root.dataset.me;
const isOrganiser = root.dataset.organiser === "true";
const isAdmin = root.dataset.admin === "true";
const refreshSeconds = Number(root.dataset.refresh) || 15;
const rooms = JSON.parse(document.getElementById("rooms").textContent) ?? {};
const single = root.dataset.event ?? ""; // the event of an event's page
const siteTitle = document.title.split(" — ").pop();

const status = document.getElementById("ev-status");
const list = document.getElementById("ev-list");

// ---------------------------------------------------------------------------
// Times: an event is shown in its room's zone, else the organisation's.

const locale = lang === "en" ? "en-GB" : "fr-FR";
const zoneOf = (ev) => rooms[ev.room]?.tz ?? defaultZone;
const fmt = (iso, zone, opts) => new Intl.DateTimeFormat(locale, { timeZone: zone, ...opts }).format(new Date(iso));
const fmtDate = (iso, zone) => fmt(iso, zone, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fmtTime = (iso, zone) => fmt(iso, zone, { hour: "2-digit", minute: "2-digit" });
const fmtDateTime = (iso, zone) => t("ev_datetime", { date: fmtDate(iso, zone), time: fmtTime(iso, zone) });

// when says when an event is, in words.
function when(ev) {
  const zone = zoneOf(ev);
  if (fmtDate(ev.start, zone) === fmtDate(ev.end, zone)) {
    return t("ev_when", { date: fmtDate(ev.start, zone), start: fmtTime(ev.start, zone), end: fmtTime(ev.end, zone) });
  }
  return t("ev_when_days", { start: fmtDateTime(ev.start, zone), end: fmtDateTime(ev.end, zone) });
}

// ---------------------------------------------------------------------------
// Calling the API.

// problemMessage says in plain words why a request on an event failed.
const problemMessage = (res) => problemText(res, {
  404: t("err_event_gone"),
  "409 full": t("err_full"),
  "422 registration_closed": t("err_registration_closed"),
});

// say shows a message in an aria-live line, as an error or not.
function say(el, text, kind = "") {
  el.classList.remove("ok", "error");
  if (kind) el.classList.add(kind);
  el.textContent = text;
}

// ---------------------------------------------------------------------------
// The cards.

const cards = new Map(); // event id → card

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

// seatsText says how many seats are left.
function seatsText(ev) {
  if (ev.status === "cancelled") return t("ev_cancelled");
  const left = ev.capacity - ev.confirmed_count;
  if (left > 1) return t("seats_left", { left, capacity: ev.capacity });
  if (left === 1) return t("seats_left_one", { capacity: ev.capacity });
  if (!ev.waitlist) return t("seats_full");
  if (ev.waitlist_count === 0) return t("seats_full_waitlist_empty");
  if (ev.waitlist_count === 1) return t("seats_full_waitlist_one");
  return t("seats_full_waitlist", { n: ev.waitlist_count });
}

// windowText says when registration opens or closes ("" when it is open
// with no end but the event's start); open tells whether it is open now.
function windowState(ev) {
  const now = Date.now();
  const zone = zoneOf(ev);
  if (ev.registration_opens_at && Date.parse(ev.registration_opens_at) > now) {
    return { open: false, text: t("reg_opens", { date: fmtDateTime(ev.registration_opens_at, zone) }) };
  }
  const closes = ev.registration_closes_at || ev.start;
  if (Date.parse(closes) <= now) return { open: false, text: t("reg_closed") };
  if (ev.registration_closes_at) {
    return { open: true, text: t("reg_closes", { date: fmtDateTime(ev.registration_closes_at, zone) }) };
  }
  return { open: true, text: "" };
}

const canManage = (ev) => isAdmin || (isOrganiser && ev.organizer?.id === me);

// makeCard builds the card of one event; update fills it.
function makeCard(ev) {
  const c = { ev };
  const hid = "ev-h-" + ev.id;
  c.title = el("h2", { id: hid });
  c.when = el("p", { class: "when" });
  c.where = el("p", { class: "where" });
  c.by = el("p", { class: "by" });
  c.description = el("p", { class: "description" });
  c.seats = el("p", { class: "seats" });
  c.window = el("p", { class: "window" });
  c.mine = el("p", { class: "mine" });
  c.register = el("button", { type: "button", class: "register" });
  c.unregister = el("button", { type: "button", class: "secondary unregister" });
  c.register.addEventListener("click", () => register(c));
  c.unregister.addEventListener("click", () => {
    // A confirmed seat goes to someone else: ask first.
    if (c.ev.my_registration?.status !== "confirmed") {
      unregister(c);
      return;
    }
    askInline(c.actions, t("ev_leave_confirm", { title: c.ev.title }), t("ev_leave_yes"), t("ev_leave_no"), async () => {
      // The button pressed went away: the answer's line takes the focus
      // at once (not once the answer is there: the focus would sit on
      // the page's body meanwhile).
      c.msg.tabIndex = -1;
      c.msg.focus();
      await unregister(c);
    }, c.unregister);
  });
  c.msg = el("p", { class: "result", role: "status", "aria-live": "polite" });
  c.actions = el("p", { class: "actions" }, c.register, c.unregister);
  c.li = el("li", { class: "event" });
  c.article = el("article", { "aria-labelledby": hid },
    c.title, c.when, c.where, c.by, c.description, c.seats, c.window, c.mine, c.actions, c.msg);
  if (!single) {
    // The event's own page, whose address an organiser shares.
    c.link = el("a", { class: "permalink", href: "/evenements/" + encodeURIComponent(ev.id) });
    c.article.insertBefore(el("p", {}, c.link), c.actions);
  }
  c.li.append(c.article);
  update(c, ev);
  return c;
}

// update fills the card c with ev. A change seen by a background
// refresh (someone else's action) clears the card's last message, which
// would otherwise tell an outdated story; keepMsg keeps it (the member's
// own action just said what happened).
function update(c, ev, keepMsg = false) {
  c.ev = ev;
  const key = [ev.status, ev.my_registration?.status, ev.my_registration?.position].join("|");
  if (!keepMsg && c.key !== undefined && c.key !== key) say(c.msg, "");
  c.key = key;
  const cancelled = ev.status === "cancelled";
  c.li.classList.toggle("cancelled", cancelled);
  c.title.textContent = ev.title;
  if (c.link) {
    c.link.textContent = t("ev_link");
    c.link.setAttribute("aria-label", t("ev_link_label", { title: ev.title }));
  }
  c.when.textContent = when(ev);
  // Where: the room and its site (three sites: a room's name alone does
  // not say which town), else the free-text place.
  const room = rooms[ev.room];
  c.where.textContent = room ? t("ev_where_room", { room: room.name, site: room.site })
    : ev.location ? t("ev_where", { place: ev.location }) : t("ev_where_none");
  c.by.textContent = t("ev_by", { name: ev.organizer?.name ?? "" });
  c.description.textContent = ev.description ?? "";
  c.description.hidden = !ev.description;
  c.seats.textContent = seatsText(ev);
  c.seats.classList.toggle("full", !cancelled && ev.confirmed_count >= ev.capacity);

  const mine = ev.my_registration;
  c.mine.hidden = !mine || cancelled;
  c.mine.classList.toggle("ok", !!mine && mine.status === "confirmed");
  if (mine?.status === "confirmed") c.mine.textContent = t("my_confirmed");
  else if (mine?.status === "waitlisted") c.mine.textContent = t("my_waitlisted", { n: mine.position });
  else c.mine.textContent = "";

  const win = windowState(ev);
  c.window.textContent = cancelled ? "" : win.text;
  c.window.hidden = cancelled || !win.text;

  const full = ev.confirmed_count >= ev.capacity;
  const waitlistJoin = full && ev.waitlist;
  c.register.textContent = t(waitlistJoin ? "ev_register_waitlist" : "ev_register");
  c.register.setAttribute("aria-label", t(waitlistJoin ? "ev_register_waitlist_label" : "ev_register_label", { title: ev.title }));
  c.unregister.textContent = t("ev_unregister");
  c.unregister.setAttribute("aria-label", t("ev_unregister_label", { title: ev.title }));
  const focused = document.activeElement;
  c.register.hidden = cancelled || !!mine || !win.open || (full && !ev.waitlist);
  c.unregister.hidden = cancelled || !mine;
  c.actions.hidden = c.register.hidden && c.unregister.hidden;
  // A button that went away takes the focus to its twin, or the title.
  if (focused && focused.hidden && (focused === c.register || focused === c.unregister)) {
    const twin = focused === c.register ? c.unregister : c.register;
    (twin.hidden ? c.title : twin).focus();
  }

  if (canManage(ev) && !cancelled) {
    if (!c.manage) makeManage(c);
    c.capacity.placeholder = String(ev.capacity);
    if (document.activeElement !== c.capacity && !c.capacityDirty) c.capacity.value = String(ev.capacity);
    if (c.attendeesShown) loadAttendees(c);
  } else if (c.manage) {
    c.manage.remove();
    c.manage = null;
  }
}

// ---------------------------------------------------------------------------
// Registering.

async function register(c) {
  gen++;
  const ev = c.ev;
  c.register.disabled = true;
  say(c.msg, t("ev_in_progress"));
  const res = await api("POST", "/api/v1/events/" + encodeURIComponent(ev.id) + "/registrations");
  const body = res.body;
  gen++; // loads begun meanwhile are outdated too
  c.register.disabled = false;
  if (res.status === 201 || res.status === 200) {
    if (body.status === "waitlisted") say(c.msg, t("ev_waitlisted_ok", { title: ev.title, n: body.position }), "ok");
    else say(c.msg, t("ev_registered_ok", { title: ev.title }), "ok");
  } else {
    say(c.msg, problemMessage(res), "error");
  }
  await refreshOne(c);
  refresh();
}

async function unregister(c) {
  gen++;
  const ev = c.ev;
  c.unregister.disabled = true;
  say(c.msg, t("ev_in_progress"));
  const res = await api("DELETE", "/api/v1/events/" + encodeURIComponent(ev.id) + "/registrations/me");
  gen++; // loads begun meanwhile are outdated too
  c.unregister.disabled = false;
  if (res.status === 204) say(c.msg, t("ev_unregistered_ok", { title: ev.title }), "ok");
  else say(c.msg, problemMessage(res), "error");
  await refreshOne(c);
  refresh();
}

// refreshOne fetches one event again and updates its card.
async function refreshOne(c) {
  const res = await api("GET", "/api/v1/events/" + encodeURIComponent(c.ev.id));
  const body = res.body;
  if (res.ok) update(c, body, true);
}

// ---------------------------------------------------------------------------
// Organisers: seats, cancelling, who registered.

function makeManage(c) {
  const ev = c.ev;
  const id = ev.id;
  c.manage = el("details", { class: "manage" });
  const summary = el("summary", {}, t("ev_manage"));

  // The number of seats.
  const capId = "cap-" + id;
  c.capacity = el("input", { type: "number", id: capId, min: "1", max: "5000", inputMode: "numeric", required: true });
  c.capacity.addEventListener("input", () => { c.capacityDirty = true; });
  const capForm = el("form", { class: "capacity" },
    el("label", { htmlFor: capId }, t("ev_capacity_label")), " ", c.capacity, " ",
    el("button", { type: "submit", class: "secondary" }, t("ev_capacity_save")));
  capForm.addEventListener("submit", (e) => {
    e.preventDefault();
    changeCapacity(c);
  });

  // Who registered.
  c.attendees = el("div", { class: "attendees" });
  const show = el("button", { type: "button", class: "secondary" }, t("ev_attendees_show"));
  show.addEventListener("click", async () => {
    c.attendeesShown = true;
    await loadAttendees(c);
    c.attendees.querySelector("table, p")?.focus();
  });
  const csv = el("button", { type: "button", class: "secondary csv" }, t("ev_csv"));
  csv.addEventListener("click", () => downloadCSV(c, csv, false));
  const sheet = el("button", { type: "button", class: "secondary sheet" }, t("ev_sheet"));
  sheet.addEventListener("click", () => downloadCSV(c, sheet, true));

  // Cancelling, with a confirmation.
  const cancelBox = el("div", { class: "cancel-box" });
  const cancel = el("button", { type: "button", class: "danger" }, t("ev_cancel"));
  cancel.addEventListener("click", () => askCancel(c, cancelBox, cancel));
  cancelBox.append(cancel);

  c.manageMsg = el("p", { class: "result", role: "status", "aria-live": "polite" });
  c.manage.append(summary, capForm, el("p", { class: "actions" }, show, " ", sheet, " ", csv), c.attendees, cancelBox, c.manageMsg);
  c.article.append(c.manage);
}

async function changeCapacity(c) {
  gen++;
  const n = Number(c.capacity.value);
  if (!Number.isInteger(n) || n < 1) {
    say(c.manageMsg, t("err_invalid", { detail: t("ev_capacity_label") }), "error");
    c.capacity.focus();
    return;
  }
  const res = await api("PATCH", "/api/v1/events/" + encodeURIComponent(c.ev.id), { capacity: n });
  const body = res.body;
  gen++; // loads begun meanwhile are outdated too
  if (res.ok) {
    c.capacityDirty = false;
    say(c.manageMsg, t("ev_capacity_ok", { title: body.title ?? c.ev.title, n: body.capacity ?? n }), "ok");
    update(c, body, true);
  } else {
    say(c.manageMsg, problemMessage(res), "error");
  }
  refresh();
}

// loadAttendees shows the registrations: confirmed first, then the
// waiting list in order (the API's order).
async function loadAttendees(c) {
  const res = await api("GET", "/api/v1/events/" + encodeURIComponent(c.ev.id) + "/registrations");
  const body = res.body;
  if (!res.ok) {
    say(c.manageMsg, problemMessage(res), "error");
    return;
  }
  const regs = Array.isArray(body) ? body : [];
  const confirmed = regs.filter((r) => r.status === "confirmed");
  const waiting = regs.filter((r) => r.status !== "confirmed");
  if (!regs.length) {
    c.attendees.replaceChildren(el("p", { tabIndex: -1 }, t("ev_attendees_none")));
    return;
  }
  const tbody = el("tbody");
  for (const r of [...confirmed, ...waiting]) {
    tbody.append(el("tr", {},
      el("td", {}, r.name || r.member || ""),
      el("td", {}, r.email ?? ""),
      el("td", {}, r.status === "confirmed" ? t("att_confirmed") : t("att_waitlisted", { n: r.position }))));
  }
  const table = el("table", { class: "attendees-table", tabIndex: -1 },
    el("caption", {}, t("ev_attendees_caption", { title: c.ev.title, confirmed: tn("ev_confirmed_n", confirmed.length), waiting: waiting.length })),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("col_name")),
      el("th", { scope: "col" }, t("col_email")),
      el("th", { scope: "col" }, t("col_status")))),
    tbody);
  c.attendees.replaceChildren(table);
}

// downloadCSV fetches the list as CSV (a link cannot ask for text/csv)
// and saves it as a file.
async function downloadCSV(c, button, forSheet) {
  button.disabled = true;
  const res = await api("GET", "/api/v1/events/" + encodeURIComponent(c.ev.id) + "/registrations" + (forSheet ? "?format=tableur" : ""),
    undefined, { accept: "text/csv" });
  button.disabled = false;
  if (!res.ok) {
    say(c.manageMsg, problemMessage(res), "error");
    return;
  }
  const blob = res.body;
  // The UTF-8 name (filename*) when given: the title keeps its accents.
  const cd = res.resp.headers.get("Content-Disposition") ?? "";
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  const m = /filename="([^"]+)"/.exec(cd);
  const file = utf8 ? decodeURIComponent(utf8[1]) : m ? m[1] : "inscriptions-" + c.ev.id + ".csv";
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: file, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  say(c.manageMsg, t("ev_csv_ok", { file }), "ok");
}

function askCancel(c, box, button) {
  const q = el("p", {}, t("ev_cancel_confirm", { title: c.ev.title }));
  const yes = el("button", { type: "button", class: "danger confirm-yes" }, t("ev_cancel_yes"));
  const no = el("button", { type: "button", class: "secondary" }, t("ev_cancel_no"));
  no.addEventListener("click", () => {
    box.replaceChildren(button);
    button.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    gen++;
    const res = await api("DELETE", "/api/v1/events/" + encodeURIComponent(c.ev.id));
    gen++; // loads begun meanwhile are outdated too
    if (res.status === 204) {
      say(c.msg, t("ev_cancelled_ok", { title: c.ev.title }), "ok");
      c.title.tabIndex = -1;
      c.title.focus();
      await refreshOne(c);
    } else {
      yes.disabled = false;
      say(c.manageMsg, problemMessage(res), "error");
    }
    refresh();
  });
  box.replaceChildren(el("div", { class: "confirm" }, q, yes, " ", no));
  no.focus();
}

// ---------------------------------------------------------------------------
// The list, fetched again and again.

let loading = null;
let again = false; // load once more when the running load ends
let loadedOnce = false;
let lastCount = 0; // how many events the status line last counted
// gen counts the member's actions: a load that began before one is
// outdated, and its answers are dropped.
let gen = 0;

// load fetches the coming events, then each one (for the member's own
// registration), and updates the cards; announce says so in the status
// line (a manual refresh), a background refresh says nothing unless it
// fails.
async function load() {
  const g = gen;
  const announce = announceNext;
  let full;
  if (single) {
    const res = await api("GET", "/api/v1/events/" + encodeURIComponent(single));
    const body = res.body;
    if (res.status === 404) {
      for (const c of cards.values()) c.li.remove();
      cards.clear();
      say(status, t("event_not_found"), "error");
      return;
    }
    if (!res.ok) {
      say(status, problemMessage(res), "error");
      return;
    }
    full = [body];
    document.title = body.title + " — " + siteTitle;
  } else {
    const res = await api("GET", "/api/v1/events");
    const body = res.body;
    if (!res.ok) {
      say(status, problemMessage(res), "error");
      return;
    }
    const summaries = Array.isArray(body) ? body : [];
    full = await Promise.all(summaries.map(async (s) => {
      const one = await api("GET", "/api/v1/events/" + encodeURIComponent(s.id));
      return one.ok ? one.body : s;
    }));
  }
  if (g !== gen) {
    again = true;
    return;
  }
  full.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const seen = new Set();
  let prev = null;
  for (const ev of full) {
    seen.add(ev.id);
    let c = cards.get(ev.id);
    if (c) {
      update(c, ev);
    } else {
      c = makeCard(ev);
      cards.set(ev.id, c);
    }
    // Keep the order by start, moving nodes only when needed.
    const want = prev ? prev.li.nextSibling : list.firstChild;
    if (want !== c.li) list.insertBefore(c.li, want);
    prev = c;
  }
  for (const [id, c] of cards) {
    if (!seen.has(id)) {
      c.li.remove();
      cards.delete(id);
    }
  }
  const now = () => new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date());
  if (single) {
    // One event: nothing to count; the status line only answers a
    // manual refresh, or clears an old error.
    if (announce) {
      announceNext = false;
      say(status, t("event_updated", { time: now() }));
    } else if (!loadedOnce || status.classList.contains("error")) {
      say(status, "");
    }
    loadedOnce = true;
    return;
  }
  const count = full.length ? tn("events_loaded", full.length) : t("events_empty");
  if (!loadedOnce || full.length !== lastCount) {
    say(status, count);
    loadedOnce = true;
    lastCount = full.length;
  } else if (announce) {
    announceNext = false;
    say(status, t("events_updated", { time: now() }));
  } else if (status.classList.contains("error")) {
    say(status, "");
  }
}

// refresh loads the list; while a load runs, it asks for one more after
// it (the running one may have begun before the latest change).
let announceNext = false; // a manual refresh waits to be announced
function refresh(announce = false) {
  announceNext ||= announce;
  if (loading) {
    again = true;
    return loading;
  }
  loading = load().finally(() => {
    loading = null;
    if (again) {
      again = false;
      refresh();
    }
  });
  return loading;
}

let timer = null;
function schedule() {
  clearInterval(timer);
  timer = null;
  if (document.visibilityState === "visible") {
    timer = setInterval(() => refresh(), refreshSeconds * 1000);
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
  schedule();
});
window.addEventListener("focus", () => refresh());
document.getElementById("ev-refresh").addEventListener("click", () => refresh(true));

refresh();
schedule();

// ---------------------------------------------------------------------------
// Creating an event (organisers).

const form = document.getElementById("ev-form");
if (form) {
  const result = document.getElementById("nf-result");
  const field = (name) => form.elements[name];
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const title = field("title").value.trim();
    const date = field("date").value;
    const start = field("start").value;
    const end = field("end").value;
    const capacity = Number(field("capacity").value);
    const room = field("room").value;
    if (!title || !date || !start || !end || !Number.isInteger(capacity) || capacity < 1) {
      say(result, t("ev_err_missing"), "error");
      (!title ? field("title") : !date ? field("date") : !start ? field("start") : !end ? field("end") : field("capacity")).focus();
      return;
    }
    if (end <= start) {
      say(result, t("err_end_before_start"), "error");
      field("end").focus();
      return;
    }
    const zone = rooms[room]?.tz ?? defaultZone;
    const req = {
      title, start: zoned(date, start, zone), end: zoned(date, end, zone), capacity,
      waitlist: field("waitlist").checked,
    };
    const description = field("description").value.trim();
    if (description) req.description = description;
    if (room) req.room = room;
    else if (field("location").value.trim()) req.location = field("location").value.trim();
    for (const [name, key] of [["opens", "registration_opens_at"], ["closes", "registration_closes_at"]]) {
      const v = field(name).value; // YYYY-MM-DDTHH:MM
      if (v) req[key] = zoned(v.slice(0, 10), v.slice(11, 16), zone);
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    say(result, t("ev_creating"));
    const res = await api("POST", "/api/v1/events", req);
    const body = res.body;
    button.disabled = false;
    if (res.status === 201) {
      say(result, t("ev_created_ok", { title: body.title ?? title, when: when(body.start ? body : req) }), "ok");
      form.reset();
      refresh();
      return;
    }
    if (res.status === 409 && body.code === "conflict") {
      const slots = (body.conflicts ?? []).map((c) => t("err_conflict_slot", { start: fmtTime(c.start, zone), end: fmtTime(c.end, zone) }));
      const whenTaken = slots.length ? slots.join(t("err_conflict_and")) : t("err_conflict_slot", { start, end });
      say(result, t("err_conflict", { room: rooms[room]?.name ?? room, slots: whenTaken }), "error");
      return;
    }
    say(result, problemMessage(res), "error");
  });
}

showNotes();
