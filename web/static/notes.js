// The notes a member sees on their next visit until they dismiss them
// (GET /api/v1/me/notes; dismissing one is PATCH /api/v1/me/preferences
// {"dismiss": key}, kept on the calendar server with the member's
// preferences). For now one kind: "Bonne nouvelle : une place s'est
// libérée", a seat that came free for them on an event's waiting list.
//
// The pages a member lands on (start, "Mes réservations", events) call
// showNotes(): the notes go right under the page's heading, each with its
// own heading, a link to the event and a button to hide it. Hiding one
// says so in the notes' status line, which takes the focus (the button
// is gone, the focus must not fall to the page's body).
import { t, api, problemText } from "./common.js";

const lang = document.documentElement.lang;
const locale = lang === "en" ? "en-GB" : "fr-FR";

function fmtWhen(iso, zone) {
  const opts = { timeZone: zone || "UTC" };
  const date = new Intl.DateTimeFormat(locale, { ...opts, weekday: "long", day: "numeric", month: "long" }).format(new Date(iso));
  const time = new Intl.DateTimeFormat(locale, { ...opts, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  return t("ev_datetime", { date, time });
}

let count = 0;

function promotedNote(n, box, status) {
  const id = "note-" + (++count);
  const sec = document.createElement("section");
  sec.className = "note good";
  sec.setAttribute("aria-labelledby", id);
  sec.dataset.key = n.key;
  const h = document.createElement("h2");
  h.id = id;
  h.textContent = t("note_promoted_title");
  const p = document.createElement("p");
  p.textContent = t("note_promoted_text", { title: n.event.title, when: fmtWhen(n.event.start, n.event.timezone) });
  sec.append(h, p);
  if (n.event.place) {
    const where = document.createElement("p");
    where.textContent = t("note_promoted_place", { place: n.event.place });
    sec.append(where);
  }
  const actions = document.createElement("p");
  actions.className = "note-actions";
  const link = document.createElement("a");
  link.href = "/evenements/" + encodeURIComponent(n.event.id);
  link.textContent = t("note_promoted_link", { title: n.event.title });
  const hide = document.createElement("button");
  hide.type = "button";
  hide.className = "secondary";
  hide.textContent = t("note_dismiss");
  hide.addEventListener("click", async () => {
    hide.disabled = true;
    const res = await api("PATCH", "/api/v1/me/preferences", { dismiss: n.key });
    if (!res.ok) {
      hide.disabled = false;
      status.textContent = problemText(res);
      status.classList.add("error");
      hide.focus();
      return;
    }
    const next = sec.nextElementSibling?.querySelector("button");
    sec.remove();
    status.classList.remove("error");
    status.textContent = t("note_dismissed");
    (next ?? status).focus();
  });
  actions.append(link, " ", hide);
  sec.append(actions);
  return sec;
}

// showNotes fetches the member's notes and shows them under the page's
// first heading; it says nothing when there are none or the server does
// not answer (the page works without them).
export async function showNotes() {
  const res = await api("GET", "/api/v1/me/notes");
  if (!res.ok || !Array.isArray(res.body)) return;
  const notes = res.body.filter((n) => n.kind === "promoted" && n.event);
  if (!notes.length) return;
  const box = document.createElement("div");
  box.id = "notes";
  box.className = "notes";
  const status = document.createElement("p");
  status.className = "status";
  status.setAttribute("role", "status");
  status.tabIndex = -1;
  for (const n of notes) box.append(promotedNote(n, box, status));
  box.append(status);
  const main = document.getElementById("main");
  const h1 = main?.querySelector("h1");
  if (h1) h1.after(box);
  else main?.prepend(box);
}
