// The two ways to book of the day view and a room's week (booking.html),
// written once for both pages: the keyboard form, and the dialog that a
// selection in the calendar opens. Each checks its fields, books through
// its repetition fields (series.js: once, or a series after a preview),
// says the answer in words and keeps the focus off the page's body.
import { t } from "./common.js";
import { show, fillDialogTimes, dialogSlot } from "./sitebook.js";
import { repeatFields } from "./series.js";

// bookingForms wires both. o.clock() is the site's clock of the moment
// (sitebook.js's siteClock: the day view changes site without
// reloading); o.roomName(id) names a room; o.room is the room of a room's
// week (its form has no room field); o.status is the page's answer line;
// o.refresh() shows the calendar again; o.unselect() drops the
// calendar's selection. It answers the keyboard form's repetition fields
// (repeatFields) and open(pending), which opens the dialog for the
// selected slot {room, start, end}.
export function bookingForms(o) {
  const form = document.getElementById("book-form");
  const formResult = document.getElementById("bf-result");
  const dialog = document.getElementById("book-dialog");
  const dialogForm = document.getElementById("dlg-form");
  const dialogResult = document.getElementById("dlg-result");
  const when = document.getElementById("dlg-when");
  const formRepeat = repeatFields(form, o.clock);
  const dialogRepeat = repeatFields(dialogForm, o.clock);
  const formDate = document.getElementById("bf-date");
  formRepeat.relabel(formDate.value);
  formDate.addEventListener("input", () => formRepeat.relabel(formDate.value));
  let pending = null; // the slot the dialog books

  // send books req with the fields of f (a description, the repetition
  // repeat) and says the progress in result; a choice to book nothing is
  // said there too, the focus back on the repetition. It answers as
  // repeat.submit does.
  async function send(f, req, repeat, result) {
    const description = f.elements.description.value.trim();
    if (description) {
      req.description = description;
    }
    result.textContent = t("booking_in_progress");
    result.className = "result";
    const r = await repeat.submit(req, o.roomName(req.room), (m) => { result.textContent = m; result.className = "result"; });
    if (r.nothing) {
      result.textContent = r.message;
      f.elements.repeat.focus();
    }
    return r;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const room = o.room ?? f.get("room");
    const title = String(f.get("title") ?? "").trim();
    const date = String(f.get("date") ?? "");
    const start = String(f.get("start") ?? "");
    const end = String(f.get("end") ?? "");
    if (!room || !title || !date || !start || !end) {
      show(formResult, { ok: false, message: t("err_missing") });
      return;
    }
    if (end <= start) {
      show(formResult, { ok: false, message: t("err_end_before_start") });
      return;
    }
    const clock = o.clock();
    const r = await send(form, { room, start: clock.zoned(date, start), end: clock.zoned(date, end), title }, formRepeat, formResult);
    if (r.silent || r.nothing) {
      return;
    }
    show(formResult, r);
    form.querySelector("[data-book]").focus(); // not the body, when the series' buttons went
    if (r.ok) {
      form.elements.title.value = "";
      form.elements.description.value = "";
      await o.refresh();
    }
  });

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
    const slot = dialogSlot(dialogForm, pending, o.clock());
    if (!slot) {
      show(dialogResult, { ok: false, message: t("err_end_before_start") });
      return;
    }
    const r = await send(dialogForm, { ...pending, ...slot, title }, dialogRepeat, dialogResult);
    if (r.silent || r.nothing) {
      return;
    }
    if (!r.ok) {
      show(dialogResult, r);
      return;
    }
    dialog.close();
    show(o.status, r);
    await o.refresh();
    show(o.status, r);
    o.status.focus(); // not the page's body: the answer, said again
  });

  document.getElementById("dlg-close").addEventListener("click", () => dialog.close());

  // The dialog's sentence says the slot, as selected or corrected.
  function say(slot) {
    const clock = o.clock();
    when.textContent = t("dialog_when", {
      room: o.roomName(pending.room), date: clock.fmtDate(slot.start), start: clock.fmtTime(slot.start), end: clock.fmtTime(slot.end),
    });
  }
  dialogForm.addEventListener("input", (event) => {
    const slot = pending && ["start", "end"].includes(event.target.name) ? dialogSlot(dialogForm, pending, o.clock()) : null;
    if (slot) {
      say(slot);
    }
  });
  dialog.addEventListener("close", () => {
    pending = null;
    o.unselect();
  });

  return {
    formRepeat,
    open(p) {
      const clock = o.clock();
      pending = p;
      say(p);
      fillDialogTimes(dialogForm, p, clock);
      dialogRepeat.reset(clock.wall(p.start).slice(0, 10));
      dialogForm.elements.title.value = "";
      dialogForm.elements.description.value = "";
      dialogResult.textContent = "";
      dialogResult.className = "result";
      dialog.showModal();
      dialogForm.elements.title.focus();
    },
  };
}
