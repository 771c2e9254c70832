package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/caldav"
)

// "Répéter" in a real browser, over Radicale: a member selects a slot of
// the day view, asks for it every week for six weeks, and reads, before
// anything is written, which dates are taken (by someone else's
// bookings) or closed (the demo's year-end closure, when the weeks meet
// it), each in words; she books the series without them, and the
// series in Radicale skips exactly those dates (EXDATE). On a phone, in
// English, with a finger, another series meets a taken date and she
// books nothing: nothing is written. Both screens pass axe-core.
func TestBrowserSeries(t *testing.T) {
	chromium, axe := browserNeeds(t)
	vars, store := onRadicale(t, nil)
	base := startServeWith(t, vars)

	paris, _ := time.LoadLocation("Europe/Paris")
	first := bookingDay()
	dates := make([]time.Time, 6) // the series: six weeks from first
	for i := range dates {
		dates[i] = first.AddDate(0, 0, 7*i)
	}
	at := func(d time.Time, h, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, paris)
	}
	// The demo's closure (demo.yaml): those dates are refused.
	closed := func(d time.Time) bool {
		day := d.Format(time.DateOnly)
		return day >= "2026-12-24" && day <= "2027-01-01"
	}
	bruno := map[string]string{"X-Remote-User": "bruno", "X-Remote-Name": "Bruno Martin"}
	// Bruno takes two of the dates of the Salle Erdre, each overlapping
	// 10:00–12:00 only in part.
	var skipped []time.Time
	var open []time.Time
	for _, d := range dates[1:] {
		if !closed(d) {
			open = append(open, d)
		}
	}
	if len(open) < 3 {
		t.Fatalf("too few open dates in the series %v", dates)
	}
	for i, d := range open[:2] {
		s, e := at(d, 10, 30), at(d, 11, 0)
		if i == 1 {
			s, e = at(d, 11, 30), at(d, 12, 30)
		}
		if code, body := apiPost(t, base+"/api/v1/bookings", bruno,
			map[string]any{"room": "nantes-erdre", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": "Atelier de Bruno"}); code != http.StatusCreated {
			t.Fatalf("Bruno's booking: %d %s", code, body)
		}
	}
	for _, d := range dates {
		if closed(d) || d.Equal(open[0]) || d.Equal(open[1]) {
			skipped = append(skipped, at(d, 10, 0))
		}
	}

	// 1. At 1280 px, with the mouse: the day view, a selection of
	// 10:00–12:00 of the Salle Erdre, then "Répéter".
	amina := openBrowser(t, chromium, 120*time.Second)
	desk := &member{browserTab: amina}
	dayPath := "/sites/nantes?date=" + first.Format(time.DateOnly)
	amina.login(t, base, "Amina Diallo", dayPath)
	amina.waitText(t, "#day-status", "salles affichées")
	amina.do(t, "the calendar", chromedp.WaitVisible("#calendar .ec-timeline"))
	amina.selectRange(t, "nantes-erdre", 10, 12)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	amina.waitText(t, "#dlg-when", "de 10:00 à 12:00")
	weekday := frenchWeekdays[first.Weekday()]
	if label := amina.waitText(t, `#dlg-repeat option[value="weekly"]`, "Chaque semaine"); label != "Chaque semaine, le "+weekday {
		t.Errorf("the weekly choice reads %q, want it to name the %s", label, weekday)
	}
	amina.pickRepeat(t, "dlg", "weekly", dates[5])
	amina.do(t, "the title", chromedp.SendKeys("#dlg-title", "Chorale"))
	desk.press(t, "Réserver", `document.getElementById("dlg-book")`)

	// The dates that are not free, in words, before anything is written.
	summary := amina.waitText(t, "#dlg-series-summary", "ne sont pas libres")
	if want := fmt.Sprintf("%d dates sur 6 ne sont pas libres", len(skipped)); !strings.Contains(summary, want) {
		t.Errorf("the series' summary reads %q, want %q", summary, want)
	}
	items := amina.seriesItems(t, "dlg")
	if len(items) != len(skipped) {
		t.Fatalf("the list names %d dates, want %d: %q", len(items), len(skipped), items)
	}
	for i, s := range skipped {
		want := frenchDate(s)
		if !strings.HasPrefix(items[i], want+" : ") {
			t.Errorf("skipped date %d reads %q, want it to start with %q", i, items[i], want)
		}
		switch {
		case closed(s) && !strings.Contains(items[i], "Fermeture de fin d'année"):
			t.Errorf("closed date %q does not say why", items[i])
		case s.Equal(at(open[0], 10, 0)) && !strings.Contains(items[i], "déjà pris de 10:30 à 11:00"):
			t.Errorf("taken date %q does not say which hours are taken", items[i])
		}
	}
	if n := objectsTitled(t, store, "nantes-erdre", "Chorale"); n != 0 {
		t.Fatalf("the preview wrote %d objects", n)
	}
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "dlg-series-summary" {
		t.Errorf("the list of taken dates does not take the focus (%q has it)", f)
	}
	amina.check(t, axe, "s1-serie-dates-prises")
	free := len(dates) - len(skipped)
	desk.press(t, "Réserver les dates libres", fmt.Sprintf(`[...document.querySelectorAll("#book-dialog button")].find(b => b.textContent.trim() === %q)`,
		fmt.Sprintf("Réserver les %d dates libres", free)))
	msg := amina.waitText(t, "#day-status", "C'est réservé : Salle Erdre")
	if want := fmt.Sprintf("%d dates de 10:00 à 12:00", free); !strings.Contains(msg, want) || !strings.Contains(msg, fmt.Sprintf("%d dates sautées", len(skipped))) {
		t.Errorf("the series' message %q lacks %q or the skipped dates", msg, want)
	}

	// What Radicale holds: one object, every week but the skipped dates.
	ev, starts := seriesInRadicale(t, store, "nantes-erdre", "Chorale", paris, first)
	if !strings.Contains(ev.RRule, "FREQ=WEEKLY") {
		t.Errorf("RRULE %q", ev.RRule)
	}
	if got, want := times(ev.ExDates), times(skipped); got != want {
		t.Errorf("EXDATE in Radicale: %s, want %s", got, want)
	}
	var want []time.Time
	for _, d := range dates {
		if s := at(d, 10, 0); !containsTime(skipped, s) {
			want = append(want, s)
		}
	}
	if got, w := times(starts), times(want); got != w {
		t.Errorf("the series in Radicale happens on %s, want %s", got, w)
	}

	// 2. At 360 px, a phone's touch screen, in English: a series of the
	// Salle Loire meets Bruno's booking; "Book nothing" writes nothing.
	if code, body := apiPost(t, base+"/api/v1/bookings", bruno,
		map[string]any{"room": "nantes-loire", "start": at(open[2], 14, 0).Format(time.RFC3339), "end": at(open[2], 15, 0).Format(time.RFC3339), "title": "Atelier de Bruno"}); code != http.StatusCreated {
		t.Fatalf("Bruno's booking: %d %s", code, body)
	}
	phone := &member{browserTab: amina, touch: true}
	amina.do(t, "a phone, in English", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+dayPath+"&lang=en"))
	amina.waitText(t, "#day-status", "rooms shown")
	amina.do(t, "the calendar", chromedp.WaitVisible("#calendar .ec-timeline"))
	// The row in view (rangePoints scrolls it there), then the hours
	// slid left until 13:00 is at the rooms' column, as a finger would.
	amina.rangePoints(t, "nantes-loire", 8, 9)
	amina.do(t, "scroll to the afternoon", chromedp.Evaluate[chromedp.Void](`void (() => {
		const main = document.querySelector("#calendar .ec-main");
		const slot = document.querySelector('#calendar .ec-header .ec-slot time[datetime$="T13:00:00"]').closest(".ec-slot");
		const side = document.querySelector("#calendar .ec-body .ec-sidebar").getBoundingClientRect();
		main.scrollLeft += slot.getBoundingClientRect().left - side.right;
	})()`))
	p0, p1 := amina.labelPoints(t, "nantes-loire", 14, 15)
	if p0.X < 100 || p1.X > 360-30 {
		t.Fatalf("14:00–15:00 is not inside the scrolled view: %v %v", p0, p1)
	}
	amina.touchSlide(t, "hold and slide over 14:00–15:00", p0, p1, 700*time.Millisecond)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	amina.waitText(t, "#dlg-when", "from 14:00 to 15:00")
	amina.pickRepeat(t, "dlg", "weekly", dates[5])
	amina.do(t, "the title", chromedp.SendKeys("#dlg-title", "Choir"))
	phone.press(t, "Book", `document.getElementById("dlg-book")`)
	amina.waitText(t, "#dlg-series-summary", "not free")
	items = amina.seriesItems(t, "dlg")
	taken := englishDate(at(open[2], 14, 0)) + ": already taken from 14:00 to 15:00"
	found := false
	for _, it := range items {
		found = found || it == taken
	}
	if !found {
		t.Errorf("the list %q does not name %q", items, taken)
	}
	amina.check(t, axe, "s2-series-taken-en-360px")
	phone.press(t, "Book nothing", `[...document.querySelectorAll("#book-dialog button")].find(b => b.textContent.trim() === "Book nothing")`)
	amina.waitText(t, "#dlg-result", "Nothing was booked.")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "dlg-repeat" {
		t.Errorf("after booking nothing the focus is on %q, not the repetition", f)
	}
	if n := objectsTitled(t, store, "nantes-loire", "Choir"); n != 0 {
		t.Errorf("booking nothing wrote %d objects", n)
	}
	amina.check(t, axe, "s3-series-nothing-en-360px")

	// 3. The keyboard form, at 1280 px, in French: La Bulle every month
	// on the same weekday of the month ("le premier lundi"…), on two
	// dates that are both free: booked at once, without a list.
	d, d2, nth := monthlyPair(first, closed)
	amina.do(t, "the day view in French", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/sites/nantes?date="+d.Format(time.DateOnly)+"&lang=fr"))
	amina.waitText(t, "#day-status", "salles affichées")
	amina.do(t, "the form's room, day and hours", chromedp.SetValue("#bf-room", "nantes-bulle"), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void (() => {
		const d = document.getElementById("bf-date"); d.value = %q; d.dispatchEvent(new Event("input", {bubbles: true}));
	})()`, d.Format(time.DateOnly))), chromedp.SetValue("#bf-start", "09:00"), chromedp.SetValue("#bf-end", "10:00"))
	monthly := fmt.Sprintf("Chaque mois, le %s %s", []string{"premier", "deuxième", "troisième", "quatrième"}[nth-1], frenchWeekdays[d.Weekday()])
	if label := amina.waitText(t, `#bf-repeat option[value="monthly"]`, "Chaque mois"); label != monthly {
		t.Errorf("the monthly choice reads %q, want %q", label, monthly)
	}
	amina.pickRepeat(t, "bf", "monthly", d2)
	amina.do(t, "the title, and Enter", chromedp.SendKeys("#bf-title", "Comptabilité\r"))
	msg = amina.waitText(t, "#bf-result", "C'est réservé : La Bulle")
	if want := "2 dates de 09:00 à 10:00, du " + frenchDate(d) + " au " + frenchDate(d2); !strings.Contains(msg, want) {
		t.Errorf("the monthly series' message %q lacks %q", msg, want)
	}
	if open, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[bool](`!document.querySelector("#book-form [data-series-panel]").hidden`)); open {
		t.Error("a series with every date free showed a list")
	}
	ev, starts = seriesInRadicale(t, store, "nantes-bulle", "Comptabilité", paris, d)
	wantRule := fmt.Sprintf("FREQ=MONTHLY;BYDAY=%d%s", nth, strings.ToUpper(d.Weekday().String()[:2]))
	if !strings.HasPrefix(ev.RRule, wantRule) || len(ev.ExDates) != 0 {
		t.Errorf("the monthly series in Radicale: RRULE %q, EXDATE %v; want %s… and none", ev.RRule, ev.ExDates, wantRule)
	}
	if got, w := times(starts), times([]time.Time{at(d, 9, 0), at(d2, 9, 0)}); got != w {
		t.Errorf("the monthly series happens on %s, want %s", got, w)
	}
	amina.check(t, axe, "s4-serie-mensuelle")
}

// monthlyPair finds, from first on, a weekday d (its week of the month,
// nth, at most the 4th) whose date in the next month, the same weekday
// of the same week, is d2, with both open: a monthly series of two
// dates.
func monthlyPair(first time.Time, closed func(time.Time) bool) (d, d2 time.Time, nth int) {
	for d = first; ; d = d.AddDate(0, 0, 1) {
		nth = (d.Day()-1)/7 + 1
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || nth > 4 || closed(d) {
			continue
		}
		m := time.Date(d.Year(), d.Month()+1, 1, 12, 0, 0, 0, d.Location())
		for m.Weekday() != d.Weekday() {
			m = m.AddDate(0, 0, 1)
		}
		d2 = m.AddDate(0, 0, 7*(nth-1))
		if !closed(d2) {
			return d, d2, nth
		}
	}
}

// pickRepeat chooses the rhythm value and the last day until in the
// repetition fields of the form whose ids start with prefix. (A select's
// list and a date picker are the browser's own, out of the page's reach:
// their values are set, with the events a choice sends.)
func (b *browserTab) pickRepeat(t *testing.T, prefix, value string, until time.Time) {
	t.Helper()
	b.do(t, "Répéter: "+value, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void (() => {
		const s = document.getElementById(%q), u = document.getElementById(%q);
		s.value = %q; s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true}));
		u.value = %q; u.dispatchEvent(new Event("input", {bubbles: true})); u.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, prefix+"-repeat", prefix+"-until", value, until.Format(time.DateOnly))))
	if vis, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!document.getElementById(%q).closest("[data-until]").hidden`, prefix+"-until"))); err != nil || !vis {
		t.Fatalf("the end of the series is not asked for (%v)", err)
	}
}

// seriesItems are the lines of the list of dates that are not free.
func (b *browserTab) seriesItems(t *testing.T, prefix string) []string {
	t.Helper()
	items, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.getElementById(%q).closest("[data-series-panel]").querySelectorAll("li")].map(li => li.textContent)`, prefix+"-series-summary")))
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// objectsTitled counts the objects of calendar cal whose SUMMARY is title.
func objectsTitled(t *testing.T, store caldav.Store, cal, title string) int {
	t.Helper()
	ch, err := store.Changes(context.Background(), cal, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range ch.Changed {
		obj, err := store.Get(context.Background(), cal, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(obj.Data), "SUMMARY:"+title+"\r\n") {
			n++
		}
	}
	return n
}

// seriesInRadicale reads the one object titled title from Radicale and
// the starts of its instances over the next 90 days from first.
func seriesInRadicale(t *testing.T, store caldav.Store, cal, title string, loc *time.Location, first time.Time) (caldav.Event, []time.Time) {
	t.Helper()
	from := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	objs, err := store.Query(context.Background(), cal, from, from.AddDate(0, 0, 90))
	if err != nil {
		t.Fatal(err)
	}
	var found []caldav.Event
	var starts []time.Time
	for _, o := range objs {
		it, err := caldav.ParseObject(o, loc)
		if err != nil {
			t.Fatal(err)
		}
		m := it.Master()
		if m == nil || m.Summary != title {
			continue
		}
		found = append(found, *m)
		ins, err := it.Instances(from, from.AddDate(0, 0, 90))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			starts = append(starts, in.Start)
		}
	}
	if len(found) != 1 {
		t.Fatalf("Radicale holds %d objects titled %q, want 1", len(found), title)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	return found[0], starts
}

func times(ts []time.Time) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.UTC().Format(time.RFC3339))
	}
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

func containsTime(ts []time.Time, x time.Time) bool {
	for _, t := range ts {
		if t.Equal(x) {
			return true
		}
	}
	return false
}

var (
	frenchWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths   = [...]string{"", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// frenchDate is a date as the pages say it in French ("lundi 14 décembre").
func frenchDate(d time.Time) string {
	return fmt.Sprintf("%s %d %s", frenchWeekdays[d.Weekday()], d.Day(), frenchMonths[d.Month()])
}

// englishDate is a date as the pages say it in English ("Monday 14 December").
func englishDate(d time.Time) string {
	return fmt.Sprintf("%s %d %s", d.Weekday(), d.Day(), d.Month())
}
