// The rooms administration page (web/templates/admin.html): admins and
// site admins list, create, edit and retire rooms through
// /api/v1/admin/rooms. A change is sent with the revision the page read:
// when someone else changed the room meanwhile the server answers 409 and
// the page says so and shows the room as it now is. Ticking "retired"
// lists the room's bookings ahead first (…/future-bookings) and asks the
// admin to choose: cancel them (with a reason told to their owners) or
// keep the room in service; a room saved as retired without that choice
// while it has any is refused (409 future_bookings) and the list shown.
import { t, tn, msgs, detailIn, api, problemText } from "./common.js";

const root = document.getElementById("admin");
const lang = root.dataset.lang;
const sites = JSON.parse(document.getElementById("sites").textContent) ?? {};
const status = document.getElementById("ad-status");
const list = document.getElementById("ad-list");
const form = document.getElementById("ad-form");
const heading = document.getElementById("ad-form-h");
const errorBox = document.getElementById("ad-error");
const closures = document.getElementById("ad-closures");
const history = document.getElementById("ad-history");
const $ = (id) => document.getElementById(id);
const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const locale = lang === "en" ? "en-GB" : "fr-FR";
const plural = new Intl.PluralRules(locale);

// editing is the room being edited (null: a new room).
let editing = null;
let closureSeq = 0;

// ---- the bookings ahead of a room being retired ----

const futureBox = $("ad-future");
const futureList = $("ad-future-list");
const futureText = $("ad-future-text");
const futureChoice = $("ad-future-choice");

function hideFuture() {
  futureBox.hidden = true;
  futureChoice.hidden = true;
  futureList.replaceChildren();
  $("ad-cancel-future").checked = false;
  $("ad-cancel-reason").value = "";
}

// showFuture lists the bookings ahead f (the shape of …/future-bookings)
// and, when there are some, offers the choice.
function showFuture(f) {
  const tz = sites[editing?.site]?.tz ?? "UTC";
  const day = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: tz });
  const when = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short", timeZone: tz });
  const list = f?.bookings ?? [];
  futureBox.hidden = false;
  futureList.replaceChildren();
  if (!list.length) {
    futureText.textContent = t("admin_future_none");
    futureChoice.hidden = true;
    return;
  }
  const starts = list.map((b) => new Date(b.start)).sort((a, b) => a - b);
  const from = day.format(starts[0]);
  const to = day.format(starts[starts.length - 1]);
  const span = from === to ? t("admin_future_day", { from }) : t("admin_future_span", { from, to });
  futureText.textContent = tn("admin_future", list.length, { span });
  for (const b of list) {
    const li = document.createElement("li");
    const p = { when: when.format(new Date(b.start)), title: b.title, owner: b.owner_name || b.owner || "?", n: b.occurrences };
    if (b.kind === "event") {
      li.textContent = t("admin_future_event", p);
    } else {
      li.textContent = t(b.occurrences > 1 ? "admin_future_series" : "admin_future_line", p) + (b.pending ? t("admin_future_pending") : "");
    }
    futureList.append(li);
  }
  $("ad-cancel-future-text").textContent = tn("admin_cancel_future", list.length);
  futureChoice.hidden = false;
}

// loadFuture asks the server for the bookings ahead of the room being
// retired.
async function loadFuture() {
  if (!editing || editing.retired || !$("ad-retired").checked) {
    hideFuture();
    return;
  }
  futureBox.hidden = false;
  futureChoice.hidden = true;
  futureList.replaceChildren();
  futureText.textContent = t("admin_future_loading");
  const res = await api("GET", "/api/v1/admin/rooms/" + encodeURIComponent(editing.id) + "/future-bookings");
  if (!$("ad-retired").checked) {
    return; // changed their mind meanwhile
  }
  if (!res.ok) {
    futureText.textContent = adminProblem(res);
    return;
  }
  showFuture(res.body);
}

// adminProblem says why a change was refused: the server's own words
// for a room it cannot take, and who changed it first on a 409.
function adminProblem(res) {
  const detail = (b) => detailIn(b.detail) || t("err_generic", { status: res.status });
  return problemText(res, {
    400: detail, 404: detail, 413: detail, 422: detail,
    409: (b) => detailIn(b.detail) || t("admin_err_conflict"),
  });
}

const splitList = (s) => s.split(",").map((x) => x.trim()).filter((x) => x !== "");

function roomLine(r) {
  const li = document.createElement("li");
  const text = document.createElement("span");
  const site = sites[r.site]?.name ?? r.site;
  const people = t(plural.select(r.capacity) === "one" ? "admin_people_one" : "admin_people_other", { n: r.capacity });
  text.textContent = `${r.name} — ${site}, ${people}`;
  li.append(text);
  if (r.retired) {
    const tag = document.createElement("strong");
    tag.className = "ad-retired";
    tag.textContent = " " + t("admin_retired_tag");
    li.append(tag);
  }
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.textContent = t("admin_edit");
  b.setAttribute("aria-label", t("admin_edit_room", { room: r.name }));
  b.addEventListener("click", () => edit(r.id));
  li.append(" ", b);
  return li;
}

async function loadList() {
  const res = await api("GET", "/api/v1/admin/rooms");
  if (!res.ok) {
    status.textContent = adminProblem(res);
    return;
  }
  list.replaceChildren(...res.body.map(roomLine));
  const n = res.body.length;
  status.textContent = t(plural.select(n) === "one" ? "admin_count_one" : "admin_count_other", { n });
}

function rangesText(ranges) {
  return (ranges ?? []).map((r) => `${r.from}-${r.to}`).join(", ");
}

function parseRanges(text, dayName) {
  const out = [];
  for (const part of splitList(text)) {
    // "9h-17h", "9h30 à 12h", "09:00–12:00" all read as ranges.
    const norm = part.replace(/\s+/g, "").replace(/[–à]/g, "-")
      .replace(/(\d{1,2})[hH:](\d{2})?/g, (_, h, m) => `${h}:${m ?? "00"}`);
    const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(norm);
    if (!m) {
      throw new Error(t("admin_err_hours", { day: dayName, text: part }));
    }
    const p = (n) => String(n).padStart(2, "0");
    out.push({ from: `${p(m[1])}:${m[2]}`, to: `${p(m[3])}:${m[4]}` });
  }
  return out;
}

function addClosure(c = { from: "", to: "", reason: "" }) {
  const n = ++closureSeq;
  const li = document.createElement("li");
  li.className = "ad-closure";
  const field = (key, label, type, value) => {
    const p = document.createElement("p");
    const l = document.createElement("label");
    l.htmlFor = `ad-cl-${key}-${n}`;
    l.textContent = label;
    const i = document.createElement("input");
    i.type = type;
    i.id = l.htmlFor;
    i.dataset.key = key;
    i.value = value ?? "";
    p.append(l, i);
    return p;
  };
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger";
  remove.textContent = t("admin_remove_closure");
  remove.addEventListener("click", () => {
    li.remove();
    $("ad-add-closure").focus();
  });
  li.append(field("from", t("admin_closure_from"), "date", c.from), field("to", t("admin_closure_to"), "date", c.to),
    field("reason", t("admin_closure_reason"), "text", c.reason), remove);
  closures.append(li);
  return li;
}

function showHistory(audit) {
  history.replaceChildren();
  $("ad-history-s").hidden = !audit?.length;
  const fmt = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" });
  for (const a of audit ?? []) {
    const li = document.createElement("li");
    const what = msgs["admin_action_" + a.action] ?? a.action;
    li.textContent = t("admin_history_line", { when: fmt.format(new Date(a.at)), who: a.by_name || a.by, what });
    if (a.changes?.length) {
      const ul = document.createElement("ul");
      for (const ch of a.changes) {
        const c = document.createElement("li");
        c.textContent = ch;
        ul.append(c);
      }
      li.append(ul);
    }
    history.append(li);
  }
}

function fill(r) {
  $("ad-id").value = r.id ?? "";
  $("ad-site").value = r.site ?? Object.keys(sites)[0] ?? "";
  $("ad-name").value = r.name ?? "";
  $("ad-capacity").value = r.capacity ?? "";
  $("ad-description").value = r.description ?? "";
  $("ad-directions").value = r.directions ?? "";
  $("ad-equipment").value = (r.equipment ?? []).join(", ");
  $("ad-accessibility").value = (r.accessibility ?? []).join(", ");
  const hours = r.opening_hours ?? { always: true };
  $("ad-always").checked = !!hours.always;
  for (const d of days) {
    $("ad-h-" + d).value = hours.always ? "" : rangesText(hours[d]);
  }
  syncAlways();
  closures.replaceChildren();
  for (const c of r.closures ?? []) {
    addClosure(c);
  }
  const rules = r.rules ?? {};
  $("ad-max-duration").value = rules.max_duration_minutes ?? 0;
  $("ad-min-notice").value = rules.min_notice_minutes ?? 0;
  $("ad-max-ahead").value = rules.max_ahead_days ?? 0;
  $("ad-buffer").value = rules.buffer_minutes ?? 0;
  $("ad-groups").value = (rules.allowed_groups ?? []).join(", ");
  const quota = rules.quota ?? {};
  $("ad-approvers").value = (rules.approvers ?? []).join(", ");
  $("ad-approval-within").value = rules.approval_within_days ?? 0;
  $("ad-checkin").value = rules.checkin_within_minutes ?? 0;
  $("ad-quota-scope").value = quota.scope || "site";
  $("ad-quota-week").value = (quota.per_week_minutes ?? 0) / 60;
  $("ad-quota-ahead").value = quota.ahead ?? 0;
  $("ad-quota-longest").value = quota.longest_minutes ?? 0;
  $("ad-quota-exempt").value = (quota.exempt ?? []).join(", ");
  $("ad-retired").checked = !!r.retired;
  hideFuture();
  showHistory(r.audit);
}

function syncAlways() {
  const always = $("ad-always").checked;
  $("ad-week").hidden = always;
}

function read() {
  const num = (id) => Number($(id).value || 0);
  const body = {
    site: $("ad-site").value,
    name: $("ad-name").value,
    capacity: num("ad-capacity"),
    description: $("ad-description").value,
    directions: $("ad-directions").value,
    equipment: splitList($("ad-equipment").value),
    accessibility: splitList($("ad-accessibility").value),
    retired: $("ad-retired").checked,
    opening_hours: { always: $("ad-always").checked },
    closures: [],
    rules: {
      max_duration_minutes: num("ad-max-duration"),
      min_notice_minutes: num("ad-min-notice"),
      max_ahead_days: num("ad-max-ahead"),
      buffer_minutes: num("ad-buffer"),
      allowed_groups: splitList($("ad-groups").value),
      approvers: splitList($("ad-approvers").value),
      approval_within_days: num("ad-approval-within"),
      checkin_within_minutes: Math.round(num("ad-checkin")),
      quota: {
        scope: $("ad-quota-scope").value,
        per_week_minutes: Math.round(num("ad-quota-week") * 60),
        ahead: Math.round(num("ad-quota-ahead")),
        longest_minutes: Math.round(num("ad-quota-longest")),
        exempt: splitList($("ad-quota-exempt").value),
      },
    },
  };
  if (!body.opening_hours.always) {
    for (const d of days) {
      body.opening_hours[d] = parseRanges($("ad-h-" + d).value, msgs["weekday_" + d] ?? d);
    }
  }
  for (const li of closures.children) {
    const v = (k) => li.querySelector(`[data-key="${k}"]`).value.trim();
    if (!v("from") && !v("to") && !v("reason")) {
      continue;
    }
    const from = v("from");
    body.closures.push({ from, to: v("to") || from, reason: v("reason") });
  }
  if (editing) {
    body.revision = editing.revision;
    if (body.retired && !futureChoice.hidden && $("ad-cancel-future").checked) {
      body.cancel_future = true;
      body.cancel_reason = $("ad-cancel-reason").value;
    }
  } else {
    body.id = $("ad-id").value.trim();
  }
  return body;
}

function open(r) {
  editing = r;
  errorBox.textContent = "";
  fill(r ?? {});
  $("ad-id-p").hidden = !!r;
  $("ad-retire-fs").hidden = !r;
  $("ad-import-s").hidden = !r;
  $("ad-import-result").replaceChildren();
  $("ad-import-file").value = "";
  heading.textContent = r ? t("admin_edit_heading", { room: r.name }) : t("admin_new_heading");
  form.hidden = false;
  heading.focus();
}

async function edit(id) {
  status.className = "status";
  status.textContent = t("loading");
  const res = await api("GET", "/api/v1/admin/rooms/" + encodeURIComponent(id));
  if (!res.ok) {
    status.textContent = adminProblem(res);
    return;
  }
  status.textContent = "";
  open(res.body);
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  errorBox.textContent = "";
  let body;
  try {
    body = read();
  } catch (err) {
    errorBox.textContent = err.message;
    return;
  }
  const save = $("ad-save");
  save.disabled = true;
  const res = editing
    ? await api("PUT", "/api/v1/admin/rooms/" + encodeURIComponent(editing.id), body)
    : await api("POST", "/api/v1/admin/rooms", body);
  save.disabled = false;
  if (!res.ok) {
    errorBox.textContent = adminProblem(res);
    if (res.body?.code === "future_bookings") {
      // Not retired: the bookings ahead, as the server found them now.
      showFuture(res.body.future);
      errorBox.focus?.();
      return;
    }
    if (res.status === 409 && editing) {
      // Show the room as it is now; the admin makes their change again.
      const now = await api("GET", "/api/v1/admin/rooms/" + encodeURIComponent(editing.id));
      if (now.ok) {
        const msg = errorBox.textContent;
        open(now.body);
        errorBox.textContent = msg + " " + t("admin_reloaded");
      }
    }
    errorBox.focus?.();
    return;
  }
  form.hidden = true;
  editing = null;
  await loadList();
  const cancelled = res.body.cancelled;
  status.textContent = cancelled?.length
    ? tn("admin_saved_cancelled", cancelled.length, { room: res.body.name })
    : t("admin_saved", { room: res.body.name });
  status.className = "status ok";
});

$("ad-cancel").addEventListener("click", () => {
  form.hidden = true;
  editing = null;
  $("ad-new").focus();
});
$("ad-new").addEventListener("click", () => {
  status.className = "status";
  status.textContent = "";
  open(null);
});
$("ad-add-closure").addEventListener("click", () => addClosure().querySelector("input").focus());
$("ad-always").addEventListener("change", syncAlways);
$("ad-retired").addEventListener("change", loadFuture);
$("ad-keep").addEventListener("click", () => {
  $("ad-retired").checked = false;
  hideFuture();
  errorBox.textContent = "";
  $("ad-retired").focus();
});

// importFile sends the chosen .ics file to the room (dry: says what
// would happen, writes nothing) and shows the report.
async function importFile(dry) {
  const out = $("ad-import-result");
  out.replaceChildren();
  const file = $("ad-import-file").files[0];
  if (!file || !editing) {
    out.textContent = t("admin_import_choose");
    return;
  }
  let ics;
  try {
    ics = await file.text();
  } catch {
    out.textContent = t("admin_import_choose");
    return;
  }
  const res = await api("POST", "/api/v1/admin/rooms/" + encodeURIComponent(editing.id) + "/import", { ics, dry_run: dry });
  if (!res.ok) {
    out.textContent = adminProblem(res);
    return;
  }
  const r = res.body;
  const fmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: sites[editing.site]?.tz ?? "UTC" });
  const group = (key, lines, text) => {
    const n = lines.length;
    const p = document.createElement("p");
    p.textContent = t(key + (plural.select(n) === "one" ? "_one" : "_other"), { n });
    out.append(p);
    if (!n) {
      return;
    }
    const ul = document.createElement("ul");
    for (const l of lines.slice(0, 50)) {
      const li = document.createElement("li");
      li.textContent = text(l);
      ul.append(li);
    }
    out.append(ul);
  };
  const when = (l) => `${l.title || l.uid} — ${fmt.format(new Date(l.start))}`;
  group(dry ? "admin_import_would" : "admin_import_done", r.imported, when);
  group("admin_import_clashes", r.clashes, when);
  group("admin_import_existing", r.existing, when);
  group("admin_import_unreadable", r.unreadable, (u) => `${u.uid || "?"} : ${u.reason}`);
  if (!dry && r.imported.length) {
    const now = await api("GET", "/api/v1/admin/rooms/" + encodeURIComponent(editing.id));
    if (now.ok) {
      editing = now.body;
      showHistory(now.body.audit);
    }
  }
}

$("ad-import-dry").addEventListener("click", () => importFile(true));
$("ad-import-go").addEventListener("click", () => importFile(false));

// loadNoShows lists, for admins, the members whose bookings were
// released for want of a check-in, repeated ones first.
async function loadNoShows() {
  const box = $("ad-noshows");
  if (!box) {
    return;
  }
  const out = $("ad-noshows-status");
  const res = await api("GET", "/api/v1/noshows");
  if (!res.ok) {
    out.textContent = adminProblem(res);
    return;
  }
  const day = new Intl.DateTimeFormat(locale, { dateStyle: "long" });
  box.replaceChildren(...res.body.map((n) => {
    const li = document.createElement("li");
    li.textContent = tn("admin_noshows_line", n.count, { who: n.name || n.member, last: day.format(new Date(n.last)) });
    if (n.count > 1) {
      li.className = "repeated";
    }
    return li;
  }));
  out.textContent = res.body.length ? tn("admin_noshows_count", res.body.length) : t("admin_noshows_none");
}

loadList();
loadNoShows();
