// The conflicts page (web/templates/conflicts.html, admins only): the
// overlapping bookings of GET /api/v1/conflicts, and the calendar entries
// roomcal cannot read in full, one sentence each.
import { t, tn, msgs, api, problemText } from "./common.js";

const root = document.getElementById("conflicts");
const lang = root.dataset.lang;
const defaultZone = root.dataset.tz || "UTC";
const rooms = JSON.parse(document.getElementById("rooms").textContent) ?? {};
const status = document.getElementById("cf-status");
const list = document.getElementById("cf-list");

const locale = lang === "en" ? "en-GB" : "fr-FR";
const fmt = (iso, zone, opts) => new Intl.DateTimeFormat(locale, { timeZone: zone, ...opts }).format(new Date(iso));
const fmtDate = (iso, zone) => fmt(iso, zone, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fmtTime = (iso, zone) => fmt(iso, zone, { hour: "2-digit", minute: "2-digit" });

// item says one of the two bookings in words.
function item(b, zone) {
  const kind = msgs["kind_" + b.kind] ?? b.kind;
  const params = { title: b.title, kind, start: fmtTime(b.start, zone), end: fmtTime(b.end, zone) };
  return b.title ? t("conflict_item", params) : t("conflict_item_untitled", params);
}

async function load() {
  const res = await api("GET", "/api/v1/conflicts");
  if (!res.ok || !Array.isArray(res.body)) {
    status.textContent = problemText(res);
    return;
  }
  const data = res.body;
  // Unreadable entries first (an entry with nothing known of it has no a),
  // then by start.
  const when = (c) => (c.a ? Date.parse(c.a.start) : -Infinity);
  data.sort((a, b) => (b.problem ? 1 : 0) - (a.problem ? 1 : 0) || when(a) - when(b));
  list.replaceChildren();
  for (const c of data) {
    const zone = rooms[c.room]?.tz ?? defaultZone;
    const room = rooms[c.room]?.name ?? c.room;
    const li = document.createElement("li");
    if (c.problem) {
      const span = c.a
        ? t("conflict_problem_span", { date: fmtDate(c.a.start, zone), start: fmtTime(c.a.start, zone), end: fmtTime(c.a.end, zone) })
        : "";
      li.textContent = t("conflict_problem", { room, object: c.problem.object, reason: c.problem.reason, span });
    } else {
      li.textContent = t("conflict_line", { room, date: fmtDate(c.a.start, zone), a: item(c.a, zone), b: item(c.b, zone) });
    }
    list.append(li);
  }
  status.textContent = data.length ? tn("conflicts_count", data.length) : t("conflicts_none");
}

load();
