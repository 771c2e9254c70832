// The requests page (web/templates/requests.html): the bookings of rooms
// with approvers that wait for the member's answer (GET /api/v1/requests),
// one per item, each with "Accepter" and "Refuser"; a refusal asks for
// the reason, which the requester is told.
import { t, api, problemText } from "./common.js";

const root = document.getElementById("requests");
const lang = root.dataset.lang;
const rooms = JSON.parse(document.getElementById("rooms").textContent) ?? {};
const status = document.getElementById("rq-status");
const list = document.getElementById("rq-list");

const locale = lang === "en" ? "en-GB" : "fr-FR";
const zoneOf = (room) => rooms[room]?.Timezone ?? rooms[room]?.tz ?? "UTC";
const fmt = (iso, room, opts) => new Intl.DateTimeFormat(locale, { timeZone: zoneOf(room), ...opts }).format(new Date(iso));
const fmtDate = (iso, room) => fmt(iso, room, { weekday: "long", day: "numeric", month: "long" });
const fmtTime = (iso, room) => fmt(iso, room, { hour: "2-digit", minute: "2-digit" });

// requestProblem says why an answer failed: the request may be gone, or
// answered by another approver meanwhile.
const requestProblem = (res) => problemText(res, { 404: t("requests_gone"), 409: t("requests_answered") });

// answer sends an acceptance, or a refusal with its reason.
async function answer(r, li, accept, reason) {
  const res = await api("POST", "/api/v1/requests/" + encodeURIComponent(r.id) + (accept ? "/accept" : "/refuse"), accept ? {} : { reason });
  if (res.ok) {
    li.remove();
    status.textContent = t(accept ? "requests_accepted" : "requests_refused", { title: r.title });
    if (!list.children.length) {
      list.hidden = true;
    }
    status.focus();
    return true;
  }
  status.textContent = requestProblem(res);
  return false;
}

// refuseForm asks, in the item, for the reason of a refusal.
function refuseForm(r, li, actions, refuse) {
  const form = document.createElement("form");
  form.className = "refuse";
  const id = "rq-reason-" + r.id;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = t("requests_reason_label");
  const input = document.createElement("textarea");
  input.id = id;
  input.rows = 2;
  input.maxLength = 500;
  input.required = true;
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "danger";
  send.textContent = t("requests_refuse_send");
  const back = document.createElement("button");
  back.type = "button";
  back.className = "secondary";
  back.textContent = t("requests_back");
  back.addEventListener("click", () => {
    form.replaceWith(actions);
    refuse.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!input.value.trim()) {
      input.focus();
      return;
    }
    send.disabled = true;
    if (!(await answer(r, li, false, input.value.trim()))) {
      send.disabled = false;
    }
  });
  const p = document.createElement("p");
  p.append(send, " ", back);
  form.append(label, input, p);
  actions.replaceWith(form);
  input.focus();
}

async function load() {
  const res = await api("GET", "/api/v1/requests");
  if (!res.ok || !Array.isArray(res.body)) {
    status.textContent = requestProblem(res);
    return;
  }
  const data = res.body;
  list.replaceChildren();
  for (const r of data) {
    const li = document.createElement("li");
    const h = document.createElement("h2");
    h.textContent = r.title;
    const when = document.createElement("p");
    when.textContent = t("requests_when", {
      room: r.room_name, date: fmtDate(r.start, r.room), start: fmtTime(r.start, r.room), end: fmtTime(r.end, r.room), who: r.organizer_name || r.organizer,
    });
    const actions = document.createElement("p");
    actions.className = "actions";
    const accept = document.createElement("button");
    accept.type = "button";
    accept.textContent = t("requests_accept");
    accept.setAttribute("aria-label", t("requests_accept_label", { title: r.title }));
    const refuse = document.createElement("button");
    refuse.type = "button";
    refuse.className = "danger";
    refuse.textContent = t("requests_refuse");
    refuse.setAttribute("aria-label", t("requests_refuse_label", { title: r.title }));
    accept.addEventListener("click", async () => {
      accept.disabled = true;
      if (!(await answer(r, li, true))) {
        accept.disabled = false;
      }
    });
    refuse.addEventListener("click", () => refuseForm(r, li, actions, refuse));
    actions.append(accept, " ", refuse);
    li.append(h, when, actions);
    list.append(li);
  }
  list.hidden = data.length === 0;
  status.textContent = data.length ? t("requests_count", { n: data.length }) : t("requests_none");
}

status.tabIndex = -1;
load();
