package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The member pages in a real browser (headless Chromium): a member signs
// in through /login, books a room with the keyboard form of the day view
// and by selecting a range in the calendar, finds the bookings in "Mes
// réservations" and cancels one; a second member, in a browser context of their own,
// books the same slot and reads which slot is taken in plain French. Each
// page is checked with axe-core (no violation at all) and
// saved as a screenshot under testdata/screenshots/ (git-ignored). The
// English pages are checked at 360 px wide, and signing out at the end.
//
// It needs Chromium (/usr/bin/chromium, or ROOMCAL_TEST_CHROMIUM) and
// the front-end files of `make assets` (web/static/vendor/ built into the
// binary, web/node_modules/axe-core), which `make test` installs; like
// every test here, it fails, saying what to install, when they are
// missing: a test never passes because its tools are absent.

const (
	axePath        = "../../web/node_modules/axe-core/axe.min.js"
	screenshotsDir = "../../testdata/screenshots"
)

// browserNeeds fails a test whose browser or files are missing; it
// returns Chromium's path and axe-core's source.
func browserNeeds(t *testing.T) (string, string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+" (or run make test, which installs them)", args...)
	}
	chromium := os.Getenv("ROOMCAL_TEST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(chromium); err != nil {
		missing("no Chromium at %s: apt-get install chromium", chromium)
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		missing("axe-core is not installed (run `make assets`): %v", err)
	}
	if chromium == "/usr/bin/chromium" {
		if _, err := os.Stat("/usr/lib/chromium/locales/fr.pak"); err != nil {
			missing("Chromium has no French (its date and time fields would read 12/08/2026, 02:05 PM on French pages): apt-get install chromium-l10n")
		}
	}
	if _, err := os.Stat("../../web/static/vendor/event-calendar.min.js"); err != nil {
		missing("the calendar files are not built (run `make assets`): %v", err)
	}
	return chromium, string(axe)
}

// bookingDay is a day the demo rules let anyone book at 10:00: a weekday
// at least two days ahead, outside the year-end closure.
func bookingDay() time.Time {
	paris, _ := time.LoadLocation("Europe/Paris")
	d := time.Now().In(paris).AddDate(0, 0, 2)
	for {
		wd := d.Weekday()
		closed := (d.Month() == time.December && d.Day() >= 24) || (d.Month() == time.January && d.Day() == 1)
		if wd != time.Saturday && wd != time.Sunday && !closed {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
}

// browserTab is one tab, with the console errors it reported.
type browserTab struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func (b *browserTab) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, string(a.Value)+a.Description)
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		if e.Entry.Level != log.EntryLevelError || strings.HasSuffix(e.Entry.URL, "/favicon.ico") {
			return
		}
		msg = "log: " + e.Entry.Text + " " + e.Entry.URL
	default:
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// errors returns and forgets the errors reported so far.
func (b *browserTab) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errs
	b.errs = nil
	return out
}

// do runs the actions, failing the test with what the step was.
func (b *browserTab) do(t *testing.T, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v (console: %v)", step, err, b.errors())
	}
}

// waitText waits until the element sel holds want, and returns its text.
func (b *browserTab) waitText(t *testing.T, sel, want string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.textContent.includes(%q) ? e.textContent : ""; })()`, sel, want)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	txt, err := chromedp.Run(ctx, chromedp.Poll[string](js, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent ?? "(no element)"`, sel)))
		t.Fatalf("%s never said %q; it says %q (console: %v)", sel, want, got, b.errors())
	}
	return txt
}

// check runs axe-core on the page, fails on any violation and on errors
// the browser reported (but those that contain one of expected), and
// saves a screenshot as name.png.
func (b *browserTab) check(t *testing.T, axe, name string, expected ...string) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[*runtime.RemoteObject](axe)); err != nil {
		t.Fatalf("%s: loading axe-core: %v", name, err)
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]violation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.html)})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	// Zero violations, whatever their impact (issue 13).
	for _, v := range res {
		t.Errorf("%s: accessibility (%s) %s: %s, e.g. %v", name, v.Impact, v.ID, v.Help, v.Nodes)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	if err := os.MkdirAll(screenshotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotsDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
next:
	for _, e := range b.errors() {
		for _, x := range expected {
			if strings.Contains(e, x) {
				continue next
			}
		}
		t.Errorf("%s: the browser reported an error: %s", name, e)
	}
}

// login signs in as name through the dev login page, landing on next.
func (b *browserTab) login(t *testing.T, base, name, next string) {
	t.Helper()
	b.do(t, "login as "+name,
		chromedp.Navigate(base+next),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", name),
		chromedp.Submit("#name"),
		chromedp.WaitNotPresent("#name"), // the login page is gone
		chromedp.WaitVisible("main h1"),
	)
}

// fillBookingForm fills the keyboard form of the day view and sends it
// with Enter. (Date and time inputs are set by value: how they take
// typed digits depends on the browser's locale.)
func (b *browserTab) fillBookingForm(t *testing.T, room, date, start, end, title string) {
	t.Helper()
	b.do(t, "fill the booking form",
		chromedp.SetValue("#bf-room", room),
		chromedp.SetValue("#bf-date", date),
		chromedp.SetValue("#bf-start", start),
		chromedp.SetValue("#bf-end", end),
		chromedp.SendKeys("#bf-title", title+"\r"),
	)
}

func TestBrowserBooking(t *testing.T) {
	chromium, axe := browserNeeds(t)
	began := time.Now()

	// The server: dev mode, embedded store, demo rooms.
	base := startServe(t)

	// The browser.
	amina := openBrowser(t, chromium, 90*time.Second)

	day := bookingDay()
	date := day.Format(time.DateOnly)
	dayPath := "/sites/nantes?date=" + date

	// 1. The login page, in French; sign in; the day view shows the
	// rooms against the hours.
	amina.do(t, "the login page", chromedp.Navigate(base+dayPath), chromedp.WaitVisible("#name"))
	amina.waitText(t, "main h1", "Connexion")
	amina.check(t, axe, "0-connexion")
	amina.login(t, base, "Amina Diallo", dayPath)
	amina.waitText(t, "#day-status", "salles affichées")
	amina.do(t, "the calendar", chromedp.WaitVisible("#calendar .ec-timeline"))
	amina.check(t, axe, "1-jour")

	// 1b. Each row names its room (a link to its week) with its seats and
	// equipment.
	amina.waitText(t, "#calendar .ec-row-head", "vidéoprojecteur")
	if n, err := chromedp.Run(amina.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#calendar .ec-row-head a[href="/salles/nantes-loire"]').length`)); err != nil || n != 1 {
		t.Errorf("the Salle Loire's row has %d links to its week (%v)", n, err)
	}
	// Closed hours are drawn, in words.
	amina.waitText(t, "#calendar", "Fermé · ouvre à 08:00")
	amina.waitText(t, "#calendar", "Fermé · depuis 20:00")
	// 1c. Changing site and day does not reload the page, and the focus
	// stays on what was pressed; Back comes back.
	amina.do(t, "mark the page", chromedp.Evaluate[chromedp.Void](`void (window.stayed = true)`))
	amina.do(t, "another site", chromedp.Click(`ul.sites a[data-site="saint-nazaire"]`))
	amina.waitText(t, "main h1", "Salles de Saint-Nazaire")
	amina.waitText(t, "#calendar .ec-row-head", "Salle Estuaire")
	amina.do(t, "the next day", chromedp.Click("#day-next"))
	next := day.AddDate(0, 0, 1).Format(time.DateOnly)
	amina.waitText(t, "#day-status", "salle")
	state, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`[window.stayed === true, location.pathname + location.search, document.activeElement.id, document.getElementById("day-date").value].join(" ")`))
	if want := "true /sites/saint-nazaire?date=" + next + " day-next " + next; err != nil || state != want {
		t.Errorf("after changing site and day: %q, want %q (%v)", state, want, err)
	}
	amina.do(t, "back twice", chromedp.NavigateBack(), chromedp.NavigateBack())
	amina.waitText(t, "main h1", "Salles de Nantes")
	amina.waitText(t, "#calendar .ec-row-head", "Salle Loire")
	if back, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`[window.stayed === true, location.pathname + location.search].join(" ")`)); err != nil || back != "true "+dayPath {
		t.Errorf("after Back twice: %q (%v)", back, err)
	}

	// 2. Book with the keyboard form.
	amina.fillBookingForm(t, "nantes-loire", date, "10:00", "11:00", "Réunion du bureau")
	msg := amina.waitText(t, "#bf-result", "C'est réservé")
	if !strings.Contains(msg, "Salle Loire") || !strings.Contains(msg, "10:00") || !strings.Contains(msg, "11:00") {
		t.Errorf("booking message %q lacks the room or the times", msg)
	}
	// The booking shows in the calendar as taken.
	amina.waitText(t, "#calendar", "Réunion du bureau")
	amina.check(t, axe, "2-jour-reserve")

	// 3. Book by selecting a range in the calendar: drag over the free
	// hour 14:00–15:00 of the Salle Erdre, then the dialog.
	amina.selectRange(t, "nantes-erdre", 14, 15)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	amina.waitText(t, "#dlg-when", "Salle Erdre")
	amina.check(t, axe, "3-dialogue")
	amina.do(t, "book in the dialog", chromedp.SendKeys("#dlg-title", "Atelier vélo\r"))
	amina.waitText(t, "#day-status", "C'est réservé : Salle Erdre")

	// 4. Both bookings are in "Mes réservations".
	amina.do(t, "open my bookings", chromedp.Click(`a[href="/mes-reservations"]`), chromedp.WaitVisible("#mine-table"))
	amina.waitText(t, "#mine-table", "Réunion du bureau")
	amina.waitText(t, "#mine-table", "Atelier vélo")
	amina.check(t, axe, "4-mes-reservations")

	// 4b. Her personal calendar link: made on the page, it serves her
	// bookings to any calendar app; deleted on the page, it serves
	// nothing.
	amina.waitText(t, "#feed-state", "Vous n'avez pas encore de lien")
	amina.do(t, "make my feed link", chromedp.Click("#feed-new"))
	amina.waitText(t, "#feed-status", "Nouveau lien créé")
	amina.waitText(t, "#feed-state", "Vous avez un lien, créé le")
	// A second link warns that the first stops working.
	first, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.getElementById("feed-url").value`))
	amina.do(t, "make another link", chromedp.Click("#feed-new"))
	amina.waitText(t, "#feed-actions .confirm", "remplace l'ancien")
	amina.check(t, axe, "4d-lien-remplacer")
	amina.do(t, "yes, a new link", chromedp.Click("#feed-actions .confirm-yes"))
	pollCtx, cancelPoll := context.WithTimeout(amina.ctx, 15*time.Second)
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](fmt.Sprintf(`document.getElementById("feed-url").value !== %q`, first), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("no new link: %v", err)
	}
	cancelPoll()
	if code, _ := httpGet(t, base+first[strings.Index(first, "/feeds/me/"):]); code != 404 {
		t.Errorf("the first link still answers %d after a new one", code)
	}
	// After a reload, the page still knows there is one, and since when.
	amina.do(t, "reload my bookings", chromedp.Reload(), chromedp.WaitVisible("#mine-table"))
	amina.waitText(t, "#feed-state", "Vous avez un lien, créé le")
	amina.do(t, "make a link to delete", chromedp.Click("#feed-new"), chromedp.Click("#feed-actions .confirm-yes"))
	amina.waitText(t, "#feed-status", "Nouveau lien créé")
	feedURL, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.getElementById("feed-url").value`))
	if err != nil || !strings.Contains(feedURL, "/feeds/me/") {
		t.Fatalf("feed link %q", feedURL)
	}
	feedPath := feedURL[strings.Index(feedURL, "/feeds/me/"):]
	if code, body := httpGet(t, base+feedPath); code != 200 || !strings.Contains(body, "Réunion du bureau") {
		t.Fatalf("personal feed: %d\n%s", code, body)
	}
	amina.check(t, axe, "4c-lien-agenda")
	amina.do(t, "delete my feed link", chromedp.Click("#feed-revoke"))
	amina.waitText(t, "#feed-actions .confirm", "Supprimer votre lien ?")
	amina.do(t, "yes, delete it", chromedp.Click("#feed-actions .confirm-yes"))
	amina.waitText(t, "#feed-status", "Lien supprimé")
	amina.waitText(t, "#feed-state", "Vous n'avez pas encore de lien")
	if code, _ := httpGet(t, base+feedPath); code != 404 {
		t.Fatalf("deleted feed link still answers %d", code)
	}

	// 5. Someone else, in a browser context of their own, wants the same
	// slot and reads, in plain French, which slot is taken.
	bruno := &browserTab{}
	ctxB, cancelB := chromedp.NewContext(amina.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) { bruno.listen(ev) }))
	t.Cleanup(cancelB)
	bruno.ctx = ctxB
	if err := chromedp.Do(ctxB); err != nil {
		t.Fatalf("a second browser context: %v", err)
	}
	bruno.login(t, base, "Bruno Martin", dayPath)
	bruno.waitText(t, "#day-status", "4 salles affichées")
	// The filters, with the keyboard: 10 seats at least and a projector
	// leave the Salle Loire and the Grand Bain.
	bruno.do(t, "filter", chromedp.Click("details.filters-box summary"), chromedp.Click(`input[name="equipment"][value="vidéoprojecteur"]`), chromedp.SendKeys("#f-capacity", "10\r"))
	bruno.waitText(t, "#day-status", "2 salles affichées")
	if n, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#bf-room option").length * 10 + document.querySelectorAll("#calendar .ec-row-head").length`)); err != nil || n != 22 {
		t.Errorf("after filtering, %d options and %d calendar rows, want 2 and 2 (%v)", n/10, n%10, err)
	}
	bruno.fillBookingForm(t, "nantes-loire", date, "10:30", "11:30", "Point équipe")
	msg = bruno.waitText(t, "#bf-result", "Ce créneau est déjà pris")
	if !strings.Contains(msg, "Salle Loire") || !strings.Contains(msg, "de 10:00 à 11:00") {
		t.Errorf("conflict message %q does not say which slot is taken", msg)
	}
	bruno.check(t, axe, "5-conflit", "status of 409")

	// 6. Amina cancels one booking.
	amina.do(t, "cancel", chromedp.Click(`#mine-table tbody tr:first-child button`))
	amina.waitText(t, "#mine-table", "Annuler vraiment « Réunion du bureau » ?")
	amina.check(t, axe, "4b-annuler-confirmer")
	amina.do(t, "confirm", chromedp.Click(`#mine-table .confirm-yes`))
	amina.waitText(t, "#mine-status", "La réservation « Réunion du bureau » est annulée")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "mine-status" {
		t.Errorf("after « Oui, annuler » the focus is on %q, not the answer", f)
	}

	// 6b. On a phone the planning is near the top, in French (the longer
	// words) as in English (7b).
	amina.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(base+dayPath))
	amina.waitText(t, "#day-status", "salles affichées")
	amina.checkPlanningTop(t, "French")
	amina.check(t, axe, "5b-jour-telephone")
	// The "Afficher" button is not shown on a phone: a day picked applies.
	amina.do(t, "pick the next day", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void (() => {
		const d = document.getElementById("day-date"); d.value = %q; d.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, next)))
	amina.waitText(t, "#day-long", frenchDate(day.AddDate(0, 0, 1)))
	if loc, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`location.search`)); err != nil || loc != "?date="+next {
		t.Errorf("a day picked on a phone shows %q (%v), want ?date=%s", loc, err, next)
	}

	// 7. The English pages, and the day view at 360 px wide.
	amina.do(t, "desktop again", chromedp.EmulateViewport(1280, 900))
	amina.do(t, "English", chromedp.Navigate(base+dayPath+"&lang=en"))
	amina.waitText(t, "#day-status", "rooms shown")
	amina.do(t, "narrow", chromedp.EmulateViewport(360, 740))
	amina.check(t, axe, "6-day-en-360px")

	// 7b. On a phone's touch screen: a quick swipe over the free hours of
	// the Salle Erdre scrolls and books nothing; a finger held still,
	// then slid over 08:00–08:30 (the room opens at 08:00), opens the
	// booking dialog for that half-hour. (The calendar scrolls by itself
	// while a finger selects within 24 px of its edge: the slot is kept
	// clear of it.)
	amina.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	amina.waitText(t, "#day-status", "rooms shown")
	amina.do(t, "the calendar", chromedp.WaitVisible("#calendar .ec-timeline"))
	amina.checkPlanningTop(t, "English")
	p0, p1 := amina.rangePoints(t, "nantes-erdre", 8, 8.5)
	if p1.X >= 360-40 {
		t.Fatalf("08:00–08:30 is not well inside a 360 px screen: %v %v", p0, p1)
	}
	amina.quickSwipe(t, p0, p1)
	p0, p1 = amina.rangePoints(t, "nantes-erdre", 8, 8.5)
	amina.touchSlide(t, "hold and slide", p0, p1, 700*time.Millisecond)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	when := amina.waitText(t, "#dlg-when", "Salle Erdre")
	if !strings.Contains(when, "08:00") || !strings.Contains(when, "08:30") {
		t.Errorf("the touch selection is %q, not 08:00–08:30", when)
	}
	amina.check(t, axe, "6b-touch-dialog-en-360px")
	amina.do(t, "book on the phone", chromedp.SendKeys("#dlg-title", "Choir rehearsal\r"))
	msg = amina.waitText(t, "#day-status", "Booked: Salle Erdre")
	if !strings.Contains(msg, "08:00") || !strings.Contains(msg, "08:30") {
		t.Errorf("touch booking message %q", msg)
	}
	amina.waitText(t, "#calendar", "Choir rehearsal")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "day-status" {
		t.Errorf("after booking in the dialog the focus is on %q, not the answer", f)
	}

	// 7c. On a scrolled view: the hours slid left until 14:00 is at the
	// rooms' column, a finger held then slid over 15:00–16:00 of the
	// Salle Erdre selects that (found by the hours' labels where they
	// are now), and the dialog lets the member correct the end.
	amina.do(t, "scroll to the afternoon", chromedp.Evaluate[chromedp.Void](`void (() => {
		const main = document.querySelector("#calendar .ec-main");
		const label = document.querySelector('#calendar .ec-header .ec-slot time[datetime$="T14:00:00"]');
		const side = document.querySelector("#calendar .ec-body .ec-sidebar").getBoundingClientRect();
		main.scrollLeft += label.getBoundingClientRect().left - side.right;
	})()`))
	time.Sleep(200 * time.Millisecond)
	p0, p1 = amina.labelPoints(t, "nantes-erdre", 15, 16)
	if p0.X < 120 || p1.X > 360-30 {
		t.Fatalf("15:00–16:00 is not inside the scrolled view: %v %v", p0, p1)
	}
	amina.touchSlide(t, "hold and slide on the scrolled view", p0, p1, 700*time.Millisecond)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	when = amina.waitText(t, "#dlg-when", "Salle Erdre")
	if !strings.Contains(when, "15:00") || !strings.Contains(when, "16:00") {
		t.Errorf("the touch selection on the scrolled view is %q, not 15:00–16:00", when)
	}
	amina.do(t, "correct the end", chromedp.SetValue("#dlg-end", "16:30"), chromedp.Evaluate[chromedp.Void](`void document.getElementById("dlg-end").dispatchEvent(new Event("input", {bubbles: true}))`))
	amina.waitText(t, "#dlg-when", "16:30")
	amina.do(t, "book the corrected slot", chromedp.SendKeys("#dlg-title", "Choir again\r"))
	msg = amina.waitText(t, "#day-status", "16:30")
	if !strings.Contains(msg, "Booked: Salle Erdre") || !strings.Contains(msg, "15:00") {
		t.Errorf("corrected touch booking message %q", msg)
	}

	// 8. The events page, then signing out: the form posts the CSRF
	// token as a field, the login page stays in English, and the pages
	// want a member again.
	amina.do(t, "events", chromedp.Navigate(base+"/evenements"), chromedp.WaitVisible("main h1"))
	amina.check(t, axe, "7-events-en-360px")
	amina.do(t, "sign out", chromedp.Click(".logout button"), chromedp.WaitVisible("#name"))
	amina.waitText(t, "main h1", "Sign in")
	amina.check(t, axe, "8-login-en-360px")
	amina.do(t, "my bookings after signing out", chromedp.Navigate(base+"/mes-reservations"), chromedp.WaitVisible("#name"))
	if loc, err := chromedp.Run(amina.ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/login?next=%2Fmes-reservations") {
		t.Errorf("after signing out, my bookings led to %q (%v), not to the login page", loc, err)
	}

	t.Logf("browser test took %s", time.Since(began).Round(time.Millisecond))
}

// maxPlanningTop is how far down a 360 × 740 phone's page the day view's
// planning may start: with it higher than 400 px, the hours' header and
// at least three rooms' rows show on the first screen, under the site,
// the day and the folded filters, without scrolling.
const maxPlanningTop = 400

// checkPlanningTop fails when the day view's planning (the calendar,
// its hours' header first) starts further down the page than
// maxPlanningTop.
func (b *browserTab) checkPlanningTop(t *testing.T, lang string) {
	t.Helper()
	b.do(t, "the calendar", chromedp.WaitVisible("#calendar .ec-timeline"))
	parts, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]float64](`(() => {
		const top = (q) => { const e = document.querySelector(q); return e ? e.getBoundingClientRect().top + scrollY : -1; };
		return {calendar: top("#calendar"), h1: top("main h1"), pick: top("section.pick"), filters: top("details.filters-box"), section: top("section.calendar"), legend: top("section.calendar .legend"), status: top("#day-status"), width: innerWidth};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if parts["width"] != 360 || parts["calendar"] < 0 || parts["calendar"] > maxPlanningTop {
		t.Errorf("%s, on a phone, the planning starts %.0f px down (at most %d; the parts' tops: %v)", lang, parts["calendar"], maxPlanningTop, parts)
	}
	t.Logf("%s, on a phone, the planning starts %.0f px down", lang, parts["calendar"])
}

// point is a place on the screen, in CSS pixels.
type point struct{ X, Y float64 }

// rangePoints finds where the hours from–to of room's row are in the
// day view's calendar, scrolling the row into view: just inside the
// start of from and the end of to.
func (b *browserTab) rangePoints(t *testing.T, room string, from, to float64) (point, point) {
	t.Helper()
	// The room's row header gives the row and where the hours begin
	// (slotMinTime, 07:00); the header's labels of 07:00 and 08:00 give
	// the width of an hour.
	js := fmt.Sprintf(`(() => {
		const head = [...document.querySelectorAll("#calendar .ec-row-head")].find(e => e.textContent.trim().startsWith(%q));
		const label = (h) => document.querySelector('#calendar .ec-header .ec-slot time[datetime$="T' + String(h).padStart(2, "0") + ':00:00"]');
		if (!head || !label(7) || !label(8)) return null;
		head.scrollIntoView({block: "center"});
		const r = head.getBoundingClientRect();
		const hour = label(8).getBoundingClientRect().left - label(7).getBoundingClientRect().left;
		const x = (h) => r.right + (h - 7) * hour;
		const y = r.top + r.height / 2;
		return [{x: x(%g) + 5, y}, {x: x(%g) - 5, y}];
	})()`, roomLabel(room), from, to)
	pts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]point](js))
	if err != nil || len(pts) != 2 {
		t.Fatalf("where are the hours %g–%g of %s? %v %v", from, to, room, pts, err)
	}
	return pts[0], pts[1]
}

// labelPoints finds the hours from–to of room's row by the hours'
// header cells where they are now (the timeline may be scrolled sideways):
// just inside the start of from and the end of to.
func (b *browserTab) labelPoints(t *testing.T, room string, from, to int) (point, point) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const head = [...document.querySelectorAll("#calendar .ec-row-head")].find(e => e.textContent.trim().startsWith(%q));
		const label = (h) => document.querySelector('#calendar .ec-header .ec-slot time[datetime$="T' + String(h).padStart(2, "0") + ':00:00"]');
		if (!head || !label(%d) || !label(%d)) return null;
		const r = head.getBoundingClientRect();
		const y = r.top + r.height / 2;
		const left = (h) => label(h).closest(".ec-slot").getBoundingClientRect().left;
		return [{x: left(%d) + 5, y}, {x: left(%d) - 5, y}];
	})()`, roomLabel(room), from, to, from, to)
	pts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]point](js))
	if err != nil || len(pts) != 2 {
		t.Fatalf("where are the hours %d–%d of %s? %v %v", from, to, room, pts, err)
	}
	return pts[0], pts[1]
}

// selectRange drags the mouse over the hours from–to of room's row in
// the calendar.
func (b *browserTab) selectRange(t *testing.T, room string, from, to float64) {
	t.Helper()
	p0, p1 := b.rangePoints(t, room, from, to)
	b.do(t, "drag over "+room,
		chromedp.MouseEvent("mousePressed", p0.X, p0.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent("mouseMoved", (p0.X+p1.X)/2, p0.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", p1.X, p1.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseReleased", p1.X, p1.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
}

// touchSlide puts a finger down at p0, holds it still for hold, slides
// it to p1 in steps and lifts it: the touch screen's way of selecting a
// range (with a long enough hold) or of scrolling (without).
func (b *browserTab) touchSlide(t *testing.T, what string, p0, p1 point, hold time.Duration) {
	t.Helper()
	touch := func(typ input.DispatchTouchEventType, p point) chromedp.Action[chromedp.Void] {
		points := []*input.TouchPoint{{X: p.X, Y: p.Y}}
		if typ == input.DispatchTouchEventTypeTouchEnd {
			points = []*input.TouchPoint{} // the end carries no point
		}
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: points})
			return err
		})
	}
	actions := []chromedp.Action[chromedp.Void]{touch(input.DispatchTouchEventTypeTouchStart, p0), chromedp.Sleep(hold)}
	const steps = 6
	for i := 1; i <= steps; i++ {
		f := float64(i) / steps
		actions = append(actions, touch(input.DispatchTouchEventTypeTouchMove, point{p0.X + (p1.X-p0.X)*f, p0.Y + (p1.Y-p0.Y)*f}), chromedp.Sleep(20*time.Millisecond))
	}
	actions = append(actions, touch(input.DispatchTouchEventTypeTouchEnd, p1))
	b.do(t, what, actions...)
}

// quickSwipe slides a finger from p0 to p1 at once, and fails when that
// opens the booking dialog. A swipe is quick when, as the page saw it,
// the finger moved before the hold that starts a selection
// (selectLongPressDelay, 500 ms, sitebook.js) was over: each touch event
// sent through CDP waits for the browser's answer, and on a loaded
// machine the first move has come 600 ms after the touch, which the page
// rightly took for a hold and slide (a selection). So the page's own
// clock is read (the events' timeStamp): a try whose first move came too
// late is not a swipe, and is made again; five slow tries fail the test.
// Once the finger is lifted (touchend, after the pointerup that would
// select) the answer is known: no waiting on time.
func (b *browserTab) quickSwipe(t *testing.T, p0, p1 point) {
	t.Helper()
	const hold = 500 // ms, selectLongPressDelay
	type touchLog struct {
		Start, Move, End float64
		Dialog           bool
	}
	for try := 1; ; try++ {
		b.do(t, "listen to the finger", chromedp.Evaluate[chromedp.Void](`void (() => {
			const log = window.touchLog = {start: -1, move: -1, end: -1};
			if (window.touchLogOn) return;
			window.touchLogOn = true;
			const at = (k) => (e) => { const l = window.touchLog; if (l[k] < 0) l[k] = e.timeStamp; };
			addEventListener("touchstart", at("start"), {capture: true, passive: true});
			addEventListener("touchmove", at("move"), {capture: true, passive: true});
			addEventListener("touchend", at("end"), {capture: true, passive: true});
		})()`))
		b.touchSlide(t, "swipe", p0, p1, 0)
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Poll[*touchLog](`window.touchLog.end < 0 ? null :
			{start: touchLog.start, move: touchLog.move, end: touchLog.end, dialog: document.getElementById("book-dialog").open}`,
			chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err != nil || got == nil {
			t.Fatalf("the swipe never ended (%v)", err)
		}
		if first := got.Move - got.Start; got.Move >= 0 && first < hold {
			if got.Dialog {
				t.Fatalf("a quick swipe (its first move %.0f ms after the touch) opened the booking dialog", first)
			}
			return
		}
		t.Logf("swipe %d: the first move came %.0f ms after the touch, a hold to the page: not a swipe, once more", try, got.Move-got.Start)
		if got.Dialog {
			b.do(t, "close the dialog", chromedp.Evaluate[chromedp.Void](`void document.getElementById("book-dialog").close()`))
		}
		if try == 5 {
			t.Fatal("five swipes were all too slow to be swipes: the machine is too loaded to tell")
		}
	}
}

// roomLabel is how the calendar names a demo room.
func roomLabel(room string) string {
	return map[string]string{"nantes-loire": "Salle Loire", "nantes-erdre": "Salle Erdre"}[room]
}

// httpGet fetches url outside the browser (as a calendar app would).
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// shownValue is the text the date or time field sel shows, as drawn
// (its user-agent shadow tree, which the page's scripts cannot read, and
// a screenshot shows): "08/12/2026" for 8 December in French. It reads
// the tree with DOM.describeNode, which leaves chromedp's own tracking
// of the page's nodes alone (DOM.getDocument would not).
func (b *browserTab) shownValue(t *testing.T, sel string) string {
	t.Helper()
	obj, err := chromedp.Run(b.ctx, chromedp.Evaluate[*runtime.RemoteObject](fmt.Sprintf(`document.querySelector(%q)`, sel)))
	if err != nil || obj.ObjectID == "" {
		t.Fatalf("no field %s (%v)", sel, err)
	}
	depth, pierce := int64(-1), true
	res, err := chromedp.Run(b.ctx, func(ctx context.Context, tg *chromedp.Target) (dom.DescribeNodeResult, error) {
		return cdp.Call(ctx, tg, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: obj.ObjectID, Depth: &depth, Pierce: &pierce})
	})
	if err != nil {
		t.Fatalf("the tree of %s: %v", sel, err)
	}
	var text strings.Builder
	var collect func(n *cdp.Node)
	collect = func(n *cdp.Node) {
		if n.NodeType == 3 { // a text node
			text.WriteString(n.NodeValue)
		}
		for _, c := range append(append([]*cdp.Node{}, n.ShadowRoots...), n.Children...) {
			collect(c)
		}
	}
	collect(res.Node)
	return text.String()
}

// openBrowser starts headless Chromium and its first tab; the tab's ctx
// is the parent of the other members' contexts. After limit, a hung
// browser is closed, so the test ends instead of the whole run.
func openBrowser(t *testing.T, chromium string, limit time.Duration) *browserTab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		// Chromium in French, as a member's browser: on Linux its
		// language comes from LANGUAGE (--lang is not heeded), given
		// its French files (chromium-l10n, which scripts/test.sh
		// installs). Date and time fields then read 08/12/2026 and
		// 14:05, not 12/08/2026 and 02:05 PM, in the screenshots; the
		// English pages' (en-GB) read the same.
		chromedp.Env("LANGUAGE=fr"),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab := &browserTab{}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) { tab.listen(ev) }))
	t.Cleanup(cancel)
	tab.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout
		t.Fatalf("starting Chromium: %v", err)
	}
	watchdog := time.AfterFunc(limit, cancel)
	t.Cleanup(func() { watchdog.Stop() })
	return tab
}
