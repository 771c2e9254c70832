package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// "Répéter cette réservation…" on the start page, after the usual three
// taps (which it does not add to). At 1280 px with the mouse, in French:
// Amina books La Bulle, then repeats it every week for two more weeks;
// one of those dates is Bruno's, so before anything is written the page
// lists it, and "Réserver les N dates libres" makes her booking a series
// without it (one booking, its RRULE and EXDATE). At 360 px with a
// finger, in English: Carla repeats hers every week, every date free,
// booked at once. The focus is never left on the page's body; axe-core
// finds nothing.
func TestBrowserStartRepeat(t *testing.T) {
	chromium, axe := browserNeeds(t)
	base := startServe(t)
	tab := openBrowser(t, chromium, 150*time.Second)
	day := quickDay()
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(d time.Time, h, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, paris)
	}
	closed := func(d time.Time) bool {
		s := d.Format(time.DateOnly)
		return s >= "2026-12-24" && s <= "2027-01-01"
	}
	// Five weeks: the year-end closure (nine days) takes two at most, so
	// at least two dates stay free whatever today is.
	var weeks []time.Time
	for i := 0; i < 5; i++ {
		weeks = append(weeks, day.AddDate(0, 0, 7*i))
	}
	// Bruno holds La Bulle on the second week, 15:00–15:30.
	if code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "bruno", "X-Remote-Name": "Bruno Martin"},
		map[string]any{"room": "nantes-bulle", "title": "Atelier de Bruno",
			"start": at(weeks[1], 15, 0).Format(time.RFC3339), "end": at(weeks[1], 15, 30).Format(time.RFC3339)}); code != http.StatusCreated {
		t.Fatalf("Bruno's booking: %d %s", code, body)
	}
	var notFree []time.Time
	for _, w := range weeks[1:] {
		if closed(w) || w.Equal(weeks[1]) {
			notFree = append(notFree, w)
		}
	}

	amina := &member{browserTab: tab, inView: true}
	amina.login(t, base, "Amina Diallo", "/")
	amina.waitText(t, "#results-status", "libre")
	amina.press(t, "the day chip", dayChipJS(day.Format(time.DateOnly)))
	amina.press(t, "14:00 · 2 h", chipJS("slot-chips", "14:00 · 2 h"))
	amina.waitText(t, "#results-status", "de 14:00 à 16:00")
	amina.press(t, "the best room's button", bookButtonJS("results-list", "Réserver 14:00 – 16:00"))
	amina.waitText(t, "#done-what", "C'est réservé : La Bulle")
	if amina.presses > maxPresses {
		t.Errorf("%d presses to book, want at most %d: repeating must come after", amina.presses, maxPresses)
	}
	amina.inView = false
	amina.press(t, "Répéter cette réservation…", `document.getElementById("repeat-open")`)
	amina.watchBodyFocus(t)
	amina.waitText(t, `#rp-repeat option[value="weekly"]`, "Chaque semaine, le "+frenchWeekdays[day.Weekday()])
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id + " " + document.getElementById("rp-repeat").value`)); f != "rp-repeat weekly" {
		t.Errorf("the repetition opens with %q focused and chosen, want rp-repeat on weekly", f)
	}
	amina.pickRepeat(t, "rp", "weekly", weeks[4])
	amina.check(t, axe, "t1-accueil-repeter")
	amina.press(t, "Répéter", `document.querySelector("#repeat-form [data-book]")`)
	summary := amina.waitText(t, "#rp-series-summary", "pas libre")
	items := amina.seriesItems(t, "rp")
	if len(items) != len(notFree) || !strings.HasPrefix(items[0], frenchDate(weeks[1])+" : ") {
		t.Errorf("the dates not free: %q (summary %q), want %d starting with %s", items, summary, len(notFree), frenchDate(weeks[1]))
	}
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "rp-series-summary" {
		t.Errorf("the list of dates not free does not take the focus (%q has it)", f)
	}
	amina.check(t, axe, "t2-accueil-repeter-dates-prises")
	free := len(weeks) - len(notFree)
	amina.press(t, "Réserver les dates libres", fmt.Sprintf(`[...document.querySelectorAll("#repeat-form button")].find(b => b.textContent.trim() === %q)`,
		fmt.Sprintf("Réserver les %d dates libres", free)))
	msg := amina.waitText(t, "#done-result", "C'est réservé : La Bulle")
	if want := fmt.Sprintf("%d dates de 14:00 à 16:00", free); !strings.Contains(msg, want) {
		t.Errorf("the series' message %q lacks %q", msg, want)
	}
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "done-result" {
		t.Errorf("after repeating the focus is on %q, not the answer", f)
	}
	amina.noBodyFocus(t, "1280 px")
	// One booking, a series now, without the dates that were not free.
	type bookingJSON struct {
		ID, Room, Recurrence string
		Skip                 []string
	}
	mine, err := chromedp.Run(amina.ctx, chromedp.Evaluate[[]bookingJSON](`fetch("/api/v1/bookings?mine=true", {headers: {Accept: "application/json"}}).then(r => r.json())
		.then(l => Promise.all([...new Set(l.map(b => b.id))].map(id => fetch("/api/v1/bookings/" + encodeURIComponent(id), {headers: {Accept: "application/json"}}).then(r => r.json()))))`, chromedp.EvalAwaitPromise))
	if err != nil || len(mine) != 1 || !strings.HasPrefix(mine[0].Recurrence, "FREQ=WEEKLY;UNTIL=") || len(mine[0].Skip) != len(notFree) {
		t.Fatalf("her bookings after repeating: %+v (%v); want one weekly series skipping %d dates", mine, err, len(notFree))
	}
	if want := at(weeks[1], 14, 0).Format(time.RFC3339); mine[0].Skip[0] != want {
		t.Errorf("the series skips %v, want %s first", mine[0].Skip, want)
	}
	if v, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[bool](`document.getElementById("repeat-open").hidden && document.getElementById("repeat-form").hidden`)); !v {
		t.Error("a series is offered to be repeated again")
	}
	amina.check(t, axe, "t3-accueil-repete")

	// A phone, 360 px, a finger, in English, in a browser context of
	// her own: Carla, four weeks.
	carla := &member{browserTab: &browserTab{}, touch: true, inView: true}
	ctxC, cancelC := chromedp.NewContext(tab.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) { carla.listen(ev) }))
	t.Cleanup(cancelC)
	carla.ctx = ctxC
	if err := chromedp.Do(ctxC); err != nil {
		t.Fatalf("a second browser context: %v", err)
	}
	carla.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	carla.login(t, base, "Carla Petit", "/?lang=en")
	carla.waitText(t, "#results-status", "free")
	carla.press(t, "the day chip", dayChipJS(day.Format(time.DateOnly)))
	carla.press(t, "16:00 · 2 h", chipJS("slot-chips", "16:00 · 2 h"))
	carla.waitText(t, "#results-status", "16:00 to 18:00")
	carla.press(t, "the best room's button", bookButtonJS("results-list", "Book 16:00 – 18:00"))
	carla.waitText(t, "#done-what", "Booked")
	if carla.presses > maxPresses {
		t.Errorf("phone: %d taps to book, want at most %d", carla.presses, maxPresses)
	}
	carla.inView = false
	carla.press(t, "Repeat this booking…", `document.getElementById("repeat-open")`)
	carla.watchBodyFocus(t)
	carla.waitText(t, `#rp-repeat option[value="weekly"]`, "Every week, on "+day.Weekday().String())
	carla.pickRepeat(t, "rp", "weekly", weeks[3])
	carla.check(t, axe, "t4-start-repeat-en-360px")
	open := 0
	for _, w := range weeks[:4] {
		if !closed(w) {
			open++
		}
	}
	carla.press(t, "Repeat", `document.querySelector("#repeat-form [data-book]")`)
	if open < 4 { // the closure: its dates are listed first
		carla.waitText(t, "#rp-series-summary", "not free")
		carla.press(t, "Book the free dates", fmt.Sprintf(`[...document.querySelectorAll("#repeat-form button")].find(b => b.textContent.trim() === %q)`, fmt.Sprintf("Book the %d free dates", open)))
	}
	msg = carla.waitText(t, "#done-result", "Booked:")
	if want := fmt.Sprintf("%d dates from 16:00 to 18:00", open); !strings.Contains(msg, want) {
		t.Errorf("the phone's series: %q, want %s", msg, want)
	}
	if f, _ := chromedp.Run(carla.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "done-result" {
		t.Errorf("after repeating on the phone the focus is on %q, not the answer", f)
	}
	carla.noBodyFocus(t, "360 px")
	carla.check(t, axe, "t5-start-repeated-en-360px")
}
