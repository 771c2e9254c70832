// Repeating a booking ("Répéter") in the booking dialog and the keyboard
// form of the day view and the room's week: the member picks the rhythm
// in words ("Chaque semaine, le mardi", "Chaque mois, le premier lundi")
// and until when; before anything is written, GET
// /api/v1/bookings/preview says which dates are taken or closed, each is
// listed in words, and the member books the series without them (POST
// /api/v1/bookings with skip) or nothing at all. A series with every date
// free is booked at once.
import { t, tn, msgs, detailIn, api } from "./common.js";
import { book, failure } from "./sitebook.js";

const lang = document.documentElement.lang === "en" ? "en-GB" : "fr-FR";
const DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
const NTH = ["nth_1", "nth_2", "nth_3", "nth_4"];

// civil reads a YYYY-MM-DD date as a UTC noon, for its weekday and
// month arithmetic (no zone shifts a calendar date).
const civil = (date) => new Date(date + "T12:00:00Z");
const iso = (d) => d.toISOString().slice(0, 10);

function addMonths(date, n) {
  const d = civil(date);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0, 12)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return iso(d);
}

// place says where date falls in its month: its weekday, which one of
// the month (1–5) and whether it is the month's last.
function place(date) {
  const d = civil(date);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0, 12)).getUTCDate();
  return {
    wd: d.getUTCDay(),
    weekday: new Intl.DateTimeFormat(lang, { weekday: "long", timeZone: "UTC" }).format(d),
    nth: Math.ceil(d.getUTCDate() / 7),
    isLast: d.getUTCDate() + 7 > last,
  };
}

// repeatFields drives the repetition fields of form (booking.html's
// data-repeat block); clockOf gives the site's clock (sitebook.js's
// siteClock) of the moment: the day view changes site without reloading.
export function repeatFields(form, clockOf) {
  const select = form.elements.repeat;
  const until = form.elements.until;
  const untilRow = form.querySelector("[data-until]");
  const panel = form.querySelector("[data-series-panel]");
  const summary = panel.querySelector("[data-series-summary]");
  const list = panel.querySelector("[data-series-list]");
  const rest = panel.querySelector("[data-series-rest]");
  const bookFree = panel.querySelector('[data-series="book"]');
  const nothing = panel.querySelector('[data-series="nothing"]');
  const submit = form.querySelector("[data-book]");
  const option = (v) => select.querySelector(`option[value="${v}"]`);
  const monthlyOpt = option("monthly");
  const lastOpt = option("monthly-last");
  let date = null;
  let choose = null; // resolves the member's choice while the panel shows

  // relabel names the rhythms after date's weekday and place in its
  // month, and keeps the end of the series after it.
  function relabel(d) {
    if (!d) {
      return;
    }
    date = d;
    const p = place(d);
    option("weekly").textContent = t("repeat_weekly", { weekday: p.weekday });
    option("biweekly").textContent = t("repeat_biweekly", { weekday: p.weekday });
    monthlyOpt.textContent = p.nth <= 4 ? t("repeat_monthly", { nth: t(NTH[p.nth - 1]), weekday: p.weekday }) : "";
    lastOpt.textContent = t("repeat_monthly_last", { weekday: p.weekday });
    // Only the monthly rhythms the day has are offered (the 5th Monday
    // has no "every month" of its own; only a month's last one has
    // "the last"); one chosen that the new day lacks becomes the other.
    const was = select.value;
    const offered = [[monthlyOpt, p.nth <= 4], [lastOpt, p.isLast]];
    for (const [o] of offered) {
      o.remove();
    }
    for (const [o, on] of offered) {
      if (on) {
        select.append(o);
      }
    }
    if (was.startsWith("monthly")) {
      select.value = offered.find(([o, on]) => on && o.value === was) ? was : p.isLast ? "monthly-last" : "monthly";
    }
    until.min = d;
    if (!until.value || until.value <= d) {
      until.value = addMonths(d, 3);
    }
  }

  function shown() {
    untilRow.hidden = select.value === "";
  }

  function closePanel() {
    panel.hidden = true;
    submit.hidden = false;
    if (choose) {
      const c = choose;
      choose = null;
      c({ silent: true });
    }
  }

  select.addEventListener("change", shown);
  // Any change of what is asked makes the list shown out of date.
  form.addEventListener("input", (event) => {
    if (!panel.contains(event.target)) {
      closePanel();
    }
  });
  form.closest("dialog")?.addEventListener("close", closePanel);
  bookFree.addEventListener("click", () => choose?.({ book: true }));
  nothing.addEventListener("click", () => choose?.({ book: false }));

  // rule is the RRULE of the rhythm chosen, "" for a single booking, or
  // null when the end of the series is not after its first day.
  function rule() {
    const clock = clockOf();
    if (!select.value) {
      return "";
    }
    if (!until.value || !date || until.value <= date) {
      return null;
    }
    const p = place(date);
    const end = new Date(Date.parse(clock.zoned(until.value, "23:59"))).toISOString();
    const u = "UNTIL=" + end.replace(/[-:]/g, "").slice(0, 15) + "Z";
    switch (select.value) {
      case "weekly":
        return `FREQ=WEEKLY;${u}`;
      case "biweekly":
        return `FREQ=WEEKLY;INTERVAL=2;${u}`;
      case "monthly":
        return `FREQ=MONTHLY;BYDAY=${p.nth}${DAYS[p.wd]};${u}`;
      default:
        return `FREQ=MONTHLY;BYDAY=-1${DAYS[p.wd]};${u}`;
    }
  }

  // show lists the dates of the preview a that are not free, and waits
  // for the member's choice: {book: true}, {book: false}, or {silent:
  // true} when the form changed meanwhile.
  function show(a, note) {
    const clock = clockOf();
    const taken = a.dates.filter((d) => !d.free);
    const free = a.dates.filter((d) => d.free);
    summary.textContent = (note ? note + " " : "") + tn("series_taken", taken.length, { total: a.dates.length });
    list.replaceChildren(...taken.map((d) => {
      const li = document.createElement("li");
      const when = clock.fmtDate(d.start);
      if (d.conflicts?.length) {
        const slots = d.conflicts.map((c) => t("err_conflict_slot", { start: clock.fmtTime(c.start), end: clock.fmtTime(c.end) }));
        li.textContent = t("series_date_taken", { date: when, slots: slots.join(t("err_conflict_and")) });
      } else {
        li.textContent = t("series_date_refused", { date: when, reason: detailIn(d.detail) || (msgs["rule_" + d.rule] ?? d.rule) });
      }
      return li;
    }));
    if (free.length) {
      rest.textContent = tn("series_free_rest", free.length, { first: clock.fmtDate(free[0].start), last: clock.fmtDate(free[free.length - 1].start) });
      bookFree.textContent = tn("series_book_free", free.length);
    } else {
      rest.textContent = t("series_none_free");
    }
    bookFree.hidden = free.length === 0;
    submit.hidden = true;
    panel.hidden = false;
    summary.focus();
    return new Promise((resolve) => {
      choose = (c) => {
        choose = null;
        // The button pressed goes with the panel: the form's own button
        // takes the focus while the answer comes, not the page's body.
        const had = panel.contains(document.activeElement);
        panel.hidden = true;
        submit.hidden = false;
        if (had) {
          submit.focus();
        }
        resolve(c);
      };
    });
  }

  async function preview(req, repeats) {
    const clock = clockOf();
    const q = new URLSearchParams({ room: req.room, start: req.start, end: req.end, recurrence: req.recurrence });
    if (repeats) {
      q.set("repeats", repeats);
    }
    const res = await api("GET", "/api/v1/bookings/preview?" + q);
    if (res.ok) {
      return { a: res.body };
    }
    return { fail: failure(res, req, "", clock) };
  }

  // submit books req (one date) in room (its name) as the fields ask:
  // once, or repeated after a preview. It answers as book does, with
  // {nothing: true} when the member chose to book nothing and {silent:
  // true} when the form changed before a choice was made. how.repeats,
  // when set, is the booking req already is, to be made a series: the
  // preview counts its own slot free, and how.send(series) writes the
  // series (answering as book does) instead of a new booking.
  async function submitBooking(req, room, busy, how = {}) {
    const clock = clockOf();
    closePanel(); // a choice still pending is dropped: this asks again
    const rr = rule();
    if (rr === "" && how.send) {
      return { ok: false, message: t("err_repeat_none") };
    }
    if (rr === "") {
      return book(req, room, clock);
    }
    if (rr === null) {
      return { ok: false, message: t("err_until") };
    }
    const series = { ...req, recurrence: rr };
    busy(t("series_checking"));
    let note = "";
    for (let round = 1; ; round++) {
      const { a, fail } = await preview(series, how.repeats);
      if (fail) {
        return fail;
      }
      const skip = a.dates.filter((d) => !d.free).map((d) => d.start);
      if (skip.length) {
        busy("");
        const c = await show(a, note);
        if (c.silent) {
          return c;
        }
        if (!c.book) {
          return { ok: false, nothing: true, message: t("series_nothing") };
        }
        busy(t("booking_in_progress"));
      }
      const r = await (how.send ?? ((q) => book(q, room, clock)))({ ...series, skip });
      if (r.ok) {
        const free = a.dates.filter((d) => d.free);
        r.message = tn("series_booked", free.length, {
          room, start: clock.fmtTime(req.start), end: clock.fmtTime(req.end),
          first: clock.fmtDate(free[0].start), last: clock.fmtDate(free[free.length - 1].start),
        });
        if (skip.length) {
          r.message += " " + tn("series_skipped", skip.length, { dates: skip.map((s) => clock.fmtDate(s)).join(t("series_list_and")) });
        }
        return r;
      }
      if (!r.conflict || round === 3) {
        return r;
      }
      // A date taken between the preview and the booking: the list
      // again, as it is now.
      note = t("series_changed");
    }
  }

  return {
    relabel,
    reset(d) {
      select.value = "";
      until.value = "";
      closePanel();
      relabel(d);
      shown();
    },
    submit: submitBooking,
  };
}
