package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// "Mes réservations" and a series, in a real browser over Radicale: a
// weekly series of three dates is one entry in words ("Chaque lundi,
// 10:00 – 12:00, jusqu'au 21 décembre 2026") with its next date, and
// unfolds to its dates. At 1280 px with the mouse, in French, Amina
// cancels the second date alone: at once Bruno books it, the third is
// still refused to him, and Radicale holds the series with that date as
// an EXDATE; then "Annuler…" → "Cette date seulement" cancels the next
// one. At 360 px with a finger, in English, the entry names its skipped
// dates, and "Cancel…" → "The whole series…" asks again before
// cancelling it all. The focus never falls to the page's body; axe-core
// finds nothing at each step.
func TestBrowserMineSeries(t *testing.T) {
	chromium, axe := browserNeeds(t)
	vars, store := onRadicale(t, nil)
	base := startServeWith(t, vars)
	paris, _ := time.LoadLocation("Europe/Paris")
	closed := func(d time.Time) bool {
		day := d.Format(time.DateOnly)
		return day >= "2026-12-24" && day <= "2027-01-01"
	}
	first := bookingDay()
	for closed(first.AddDate(0, 0, 7)) || closed(first.AddDate(0, 0, 14)) {
		first = first.AddDate(0, 0, 7)
	}
	dates := []time.Time{first, first.AddDate(0, 0, 7), first.AddDate(0, 0, 14)}
	at := func(d time.Time, h int) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, paris) }
	last := time.Date(dates[2].Year(), dates[2].Month(), dates[2].Day(), 23, 59, 0, 0, paris).UTC()
	amina := map[string]string{"X-Remote-User": "dev:amina-diallo", "X-Remote-Name": "Amina Diallo"}
	bruno := map[string]string{"X-Remote-User": "bruno", "X-Remote-Name": "Bruno Martin"}
	if code, body := apiPost(t, base+"/api/v1/bookings", amina, map[string]any{"room": "nantes-loire", "title": "Chorale",
		"start": at(dates[0], 10).Format(time.RFC3339), "end": at(dates[0], 12).Format(time.RFC3339),
		"recurrence": "FREQ=WEEKLY;UNTIL=" + last.Format("20060102T150405Z")}); code != http.StatusCreated {
		t.Fatalf("the series: %d %s", code, body)
	}
	brunoBooks := func(d time.Time) int {
		code, _ := apiPost(t, base+"/api/v1/bookings", bruno, map[string]any{"room": "nantes-loire", "title": "Atelier de Bruno",
			"start": at(d, 10).Format(time.RFC3339), "end": at(d, 11).Format(time.RFC3339)})
		return code
	}
	if code := brunoBooks(dates[1]); code != http.StatusConflict {
		t.Fatalf("Bruno on the series' second date: %d, want 409", code)
	}

	tab := openBrowser(t, chromium, 150*time.Second)
	desk := &member{browserTab: tab}
	tab.login(t, base, "Amina Diallo", "/mes-reservations")
	weekday := frenchWeekdays[first.Weekday()]
	tab.waitText(t, "#mine-table", "Chaque "+weekday)
	entry := func() (words, next string, rows int) {
		t.Helper()
		type e struct {
			Words, Next string
			Rows        int
		}
		got, err := chromedp.Run(tab.ctx, chromedp.Evaluate[e](`({words: document.querySelector("#mine-table .series-words")?.textContent ?? "",
			next: document.querySelector("#mine-table .series-next")?.textContent ?? "", rows: document.querySelectorAll("#mine-table tbody > tr").length})`))
		if err != nil {
			t.Fatal(err)
		}
		return got.Words, got.Next, got.Rows
	}
	words, next, rows := entry()
	if want := fmt.Sprintf("Chaque %s, 10:00 – 12:00, jusqu'au %d %s %d", weekday, dates[2].Day(), frenchMonths[dates[2].Month()], dates[2].Year()); words != want {
		t.Errorf("the series reads %q, want %q", words, want)
	}
	if want := "Prochaine date : " + frenchDate(dates[0]); next != want || rows != 1 {
		t.Errorf("the series: next %q (want %q), %d rows (want one entry)", next, want, rows)
	}
	tab.check(t, axe, "m1-serie-mes-reservations")

	desk.press(t, "Voir les 3 prochaines dates", `document.querySelector("#mine-table .series-show")`)
	tab.watchBodyFocus(t)
	tab.waitText(t, "#mine-table .series-dates", frenchDate(dates[2]))
	if n, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#mine-table .series-dates li").length`)); n != 3 {
		t.Errorf("the series unfolds to %d dates, want 3", n)
	}
	tab.check(t, axe, "m2-serie-dates")
	desk.press(t, "Annuler cette date (the second)", `document.querySelectorAll("#mine-table .series-dates button.skip-date")[1]`)
	tab.waitText(t, "#mine-table .series-dates", "Annuler seulement la date du "+frenchDate(dates[1])+" ?")
	if f, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); f != "secondary confirm-no" {
		t.Errorf("the question does not take the focus on its safe answer (%q has it)", f)
	}
	desk.press(t, "Oui, annuler cette date", `document.querySelector("#mine-table .series-dates .confirm-yes")`)
	tab.waitText(t, "#mine-status", "La date du "+frenchDate(dates[1])+" de « Chorale » est annulée ; les autres dates restent réservées.")
	if f, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "mine-status" {
		t.Errorf("after cancelling a date the focus is on %q, not the answer", f)
	}
	tab.waitText(t, "#mine-table", "Date sautée : "+frenchDate(dates[1]))
	// The freed date is anyone's at once; the others are still held.
	if code := brunoBooks(dates[1]); code != http.StatusCreated {
		t.Errorf("Bruno on the freed date: %d, want 201", code)
	}
	if code := brunoBooks(dates[2]); code != http.StatusConflict {
		t.Errorf("Bruno on the series' third date: %d, want 409", code)
	}
	ev, starts := seriesInRadicale(t, store, "nantes-loire", "Chorale", paris, first)
	if got, want := times(ev.ExDates), times([]time.Time{at(dates[1], 10)}); got != want {
		t.Errorf("EXDATE in Radicale: %s, want %s", got, want)
	}
	if got, want := times(starts), times([]time.Time{at(dates[0], 10), at(dates[2], 10)}); got != want {
		t.Errorf("the series in Radicale happens on %s, want %s", got, want)
	}
	tab.check(t, axe, "m3-serie-date-annulee")

	// "Annuler…": this date only (the next one), or the whole series.
	desk.press(t, "Annuler…", `document.querySelector("#mine-table .series-cancel")`)
	tab.waitText(t, "#mine-table", "Que voulez-vous annuler dans « Chorale » ?")
	tab.check(t, axe, "m4-serie-annuler-choix")
	desk.press(t, "Cette date seulement", `document.querySelector("#mine-table .series-only")`)
	tab.waitText(t, "#mine-status", "La date du "+frenchDate(dates[0])+" de « Chorale » est annulée")
	tab.waitText(t, "#mine-table", "Prochaine date : "+frenchDate(dates[2]))
	if f, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "mine-status" {
		t.Errorf("after cancelling the next date the focus is on %q, not the answer", f)
	}
	if _, starts := seriesInRadicale(t, store, "nantes-loire", "Chorale", paris, first); times(starts) != times([]time.Time{at(dates[2], 10)}) {
		t.Errorf("after two dates cancelled the series happens on %s", times(starts))
	}
	tab.noBodyFocus(t, "1280 px")

	// At 360 px, a finger, in English: the whole series.
	phone := &member{browserTab: tab, touch: true}
	tab.do(t, "a phone, in English", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/mes-reservations?lang=en"))
	tab.waitText(t, "#mine-table", "Every "+first.Weekday().String())
	words, _, _ = entry()
	if want := fmt.Sprintf("Every %s, 10:00 – 12:00, until %d %s %d", first.Weekday(), dates[2].Day(), dates[2].Month(), dates[2].Year()); words != want {
		t.Errorf("the series reads %q in English, want %q", words, want)
	}
	tab.waitText(t, "#mine-table", "Skipped dates: "+englishDate(dates[0])+" and "+englishDate(dates[1]))
	tab.check(t, axe, "m5-series-en-360px")
	phone.press(t, "Cancel…", `document.querySelector("#mine-table .series-cancel")`)
	tab.watchBodyFocus(t)
	tab.waitText(t, "#mine-table", "What do you want to cancel in “Chorale”?")
	phone.press(t, "The whole series…", `document.querySelector("#mine-table .series-all")`)
	tab.waitText(t, "#mine-table", "Cancel the whole series “Chorale”?")
	if f, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); f != "secondary confirm-no" {
		t.Errorf("the second question does not take the focus on its safe answer (%q has it)", f)
	}
	tab.check(t, axe, "m6-series-cancel-all-en-360px")
	phone.press(t, "Yes, cancel the whole series", `document.querySelector("#mine-table .confirm-yes")`)
	tab.waitText(t, "#mine-status", "The series “Chorale” is cancelled.")
	if f, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "mine-status" {
		t.Errorf("after cancelling the series the focus is on %q, not the answer", f)
	}
	if n := objectsTitled(t, store, "nantes-loire", "Chorale"); n != 0 {
		t.Errorf("the cancelled series is still in Radicale (%d objects)", n)
	}
	if code := brunoBooks(dates[2]); code != http.StatusCreated {
		t.Errorf("Bruno on the last date of the cancelled series: %d, want 201", code)
	}
	tab.noBodyFocus(t, "360 px")
	tab.check(t, axe, "m7-series-cancelled-en-360px")
}

// watchBodyFocus starts noting, every few milliseconds, whether the
// page's body has the focus (an action whose button went away and left
// the focus nowhere); noBodyFocus fails the test if it was ever seen.
func (b *browserTab) watchBodyFocus(t *testing.T) {
	t.Helper()
	b.do(t, "watch the focus", chromedp.Evaluate[chromedp.Void](`void (() => {
		window.bodyFocus = [];
		clearInterval(window.bodyFocusWatch);
		window.bodyFocusWatch = setInterval(() => {
			const e = document.activeElement;
			if (!e || e === document.body) window.bodyFocus.push(document.getElementById("mine-status")?.textContent ?? "");
		}, 5);
	})()`))
}

func (b *browserTab) noBodyFocus(t *testing.T, where string) {
	t.Helper()
	seen, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.bodyFocus ?? ["(not watched)"]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) > 0 {
		t.Errorf("%s: the focus fell to the page's body %d times (the answer line said %q)", where, len(seen), seen[0])
	}
}
