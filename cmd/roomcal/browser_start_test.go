package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The start page in a real browser, counting what a member does: every
// press is a real mouse click (desktop) or a real finger tap (phone, CDP
// touch events) on the chip or button a member would press, found by
// what it says. A member books in at most three presses from the start
// page: the day, "14:00 · 2 h", the room's button.

// maxPresses is what issue 13 allows from the start page to a booking.
const maxPresses = 3

// member is a browser tab that counts the presses it makes.
type member struct {
	*browserTab
	touch   bool
	presses int
	// inView: the member presses only what the screen shows, as one who
	// does not know to scroll would; a press of anything out of view
	// fails the test (the page must bring it into view).
	inView bool
}

// press finds the element the JS expression find returns, waits for it
// to be still, scrolls it into view if it is not (failing the test when
// the member presses only what is in view), and presses its middle with
// the mouse or a finger; what says what it is, for the failure message.
func (m *member) press(t *testing.T, what, find string) {
	t.Helper()
	if m.touch {
		// Two taps at one place within a moment are a double tap, which
		// the browser does not click: a member's taps are further apart.
		time.Sleep(400 * time.Millisecond)
	}
	// Where the element is, once the page has stopped moving (a smooth
	// scroll, a list filling in): the same place on two reads in a row.
	type place struct {
		X, Y   float64
		InView bool
	}
	js := fmt.Sprintf(`(() => { const e = (%s); if (!e) return null; const r = e.getBoundingClientRect();
		return {x: r.left + r.width / 2, y: r.top + r.height / 2,
			inView: r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth}; })()`, find)
	ctx, cancel := context.WithTimeout(m.ctx, 15*time.Second)
	defer cancel()
	var at *place
	for scrolled := false; ; {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[*place](js))
		if err == nil && got != nil && at != nil && *got == *at {
			if got.InView {
				break
			}
			if m.inView && !scrolled {
				t.Errorf("press %s: it is out of view; a member would have to know to scroll to find it", what)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void (%s).scrollIntoView({block: "center"})`, find))); err != nil {
				t.Fatalf("press %s: scroll into view: %v", what, err)
			}
			scrolled, got = true, nil
		}
		if err == nil {
			at = got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("press %s: not on the page, or never still and in view (%v; console: %v)", what, err, m.errors())
		case <-time.After(100 * time.Millisecond):
		}
	}
	p := point{X: at.X, Y: at.Y}
	m.presses++
	if m.touch {
		tap := func(typ input.DispatchTouchEventType, points []*input.TouchPoint) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: points})
				return err
			})
		}
		m.do(t, "tap "+what,
			tap(input.DispatchTouchEventTypeTouchStart, []*input.TouchPoint{{X: p.X, Y: p.Y}}),
			chromedp.Sleep(60*time.Millisecond),
			tap(input.DispatchTouchEventTypeTouchEnd, []*input.TouchPoint{}))
		return
	}
	m.do(t, "click "+what,
		chromedp.MouseEvent("mousePressed", p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent("mouseReleased", p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
}

// chipJS finds the chip of the row row (a container's id) whose label
// says label, exactly.
func chipJS(row, label string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#%s label")].find(l => l.textContent.trim() === %q)`, row, label)
}

// dayChipJS finds the day chip of date (YYYY-MM-DD): its label, which
// says "Demain" or "lun. 7 déc.".
func dayChipJS(date string) string {
	return fmt.Sprintf(`document.querySelector('#day-chips label[for="day-%s"]')`, date)
}

// bookButtonJS finds the first room's button that says label, in the
// list list (a container's id).
func bookButtonJS(list, label string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#%s button.book")].find(b => b.textContent.trim() === %q)`, list, label)
}

// quickDay is the first weekday from tomorrow outside the year-end
// closure: the demo's Nantes rooms are open 08:00–20:00 on it.
func quickDay() time.Time {
	paris, _ := time.LoadLocation("Europe/Paris")
	d := time.Now().In(paris).AddDate(0, 0, 1)
	for {
		wd := d.Weekday()
		closed := (d.Month() == time.December && d.Day() >= 24) || (d.Month() == time.January && d.Day() == 1)
		if wd != time.Saturday && wd != time.Sunday && !closed {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
}

func TestBrowserStartPage(t *testing.T) {
	chromium, axe := browserNeeds(t)
	base := startServe(t)
	tab := openBrowser(t, chromium, 120*time.Second)
	date := quickDay().Format(time.DateOnly)

	// 1. A desktop, 1280 px, the mouse: Amina books for two people
	// (the default), the day, 14:00 for two hours.
	amina := &member{browserTab: tab, inView: true}
	amina.login(t, base, "Amina Diallo", "/")
	amina.waitText(t, "main h1", "Pour quand, pour combien, où ?")
	amina.waitText(t, "#results-status", "libre")
	amina.check(t, axe, "10-accueil")
	amina.press(t, "the day chip", dayChipJS(date))
	amina.press(t, "14:00 · 2 h", chipJS("slot-chips", "14:00 · 2 h"))
	amina.waitText(t, "#results-status", "de 14:00 à 16:00")
	// Best fit first: La Bulle (4 seats) before the Salle Erdre (6).
	order, err := chromedp.Run(amina.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#results-list h3 a")].map(a => a.textContent)`))
	if err != nil || len(order) < 2 || !strings.HasPrefix(order[0], "La Bulle") || order[1] != "Salle Erdre" {
		t.Errorf("rooms for two people, 14:00–16:00: %v (%v); want La Bulle, then the Salle Erdre", order, err)
	}
	amina.check(t, axe, "11-accueil-choix")
	amina.press(t, "the best room's button", bookButtonJS("results-list", "Réserver 14:00 – 16:00"))
	msg := amina.waitText(t, "#done-what", "C'est réservé")
	if !strings.Contains(msg, "La Bulle") || !strings.Contains(msg, "14:00") || !strings.Contains(msg, "16:00") {
		t.Errorf("booked %q, not La Bulle 14:00–16:00", msg)
	}
	if amina.presses > maxPresses {
		t.Errorf("desktop: %d presses from the start page to a booking, want at most %d", amina.presses, maxPresses)
	}
	t.Logf("desktop: booked in %d presses", amina.presses)
	focused, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "done-h" {
		t.Errorf("after booking the focus is on %q, not the confirmation", focused)
	}
	// The title was the default, and can be changed afterwards.
	if v, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.getElementById("rename-title").value`)); v != "Réunion d'Amina" {
		t.Errorf("default title %q, want « Réunion d'Amina »", v)
	}
	amina.check(t, axe, "12-accueil-reserve")
	amina.do(t, "rename", chromedp.Evaluate[chromedp.Void](`void (document.getElementById("rename-title").value = "")`), chromedp.SendKeys("#rename-title", "Point compta\r"))
	amina.waitText(t, "#done-result", "Point compta")
	mine, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`fetch("/api/v1/bookings", {headers: {Accept: "application/json"}}).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(mine, `"title":"Point compta"`) || !strings.Contains(mine, `"room":"nantes-bulle"`) {
		t.Errorf("her bookings after renaming: %s (%v)", mine, err)
	}

	// 2. A phone, 360 px, a finger: Bruno, the same day and slot; La
	// Bulle is taken, so the Salle Erdre comes first.
	bruno := &member{browserTab: &browserTab{}, touch: true, inView: true}
	ctxB, cancelB := chromedp.NewContext(tab.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) { bruno.listen(ev) }))
	t.Cleanup(cancelB)
	bruno.ctx = ctxB
	if err := chromedp.Do(ctxB); err != nil {
		t.Fatalf("a second browser context: %v", err)
	}
	bruno.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	bruno.login(t, base, "Bruno Martin", "/")
	bruno.waitText(t, "#results-status", "libre")
	bruno.check(t, axe, "13-accueil-360px")
	// The header leaves the question in view: under 120 px on a phone.
	if h, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[float64](`document.querySelector("header.site").getBoundingClientRect().height`)); err != nil || h >= 120 {
		t.Errorf("the header is %.0f px high on a phone, want under 120 (%v)", h, err)
	}
	// Nothing sticks out sideways (a page wider than the phone is zoomed
	// out, and taps land elsewhere).
	if w, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 360 {
		t.Errorf("the start page is %d px wide on a 360 px phone (%v)", w, err)
	}
	bruno.press(t, "the day chip", dayChipJS(date))
	bruno.press(t, "14:00 · 2 h", chipJS("slot-chips", "14:00 · 2 h"))
	bruno.waitText(t, "#results-status", "de 14:00 à 16:00")
	bruno.waitText(t, "#results-list", "Salle Erdre")
	first, _ := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`document.querySelector("#results-list h3 a").textContent`))
	if first != "Salle Erdre" {
		t.Errorf("on the phone the first room is %q, want the Salle Erdre (La Bulle is taken)", first)
	}
	bruno.press(t, "the best room's button", bookButtonJS("results-list", "Réserver 14:00 – 16:00"))
	msg = bruno.waitText(t, "#done-what", "C'est réservé")
	if !strings.Contains(msg, "Salle Erdre") {
		t.Errorf("booked %q on the phone, not the Salle Erdre", msg)
	}
	if bruno.presses > maxPresses {
		t.Errorf("phone: %d taps from the start page to a booking, want at most %d", bruno.presses, maxPresses)
	}
	t.Logf("phone: booked in %d taps", bruno.presses)
	bruno.check(t, axe, "14-accueil-reserve-360px")

	// 3. Nothing fits: fourteen people at 14:00 for two hours, once the
	// Grand Bain (the one Nantes room that seats them) is booked. The
	// page says so and offers the Grand Bain at the nearest free times
	// and the Salle Estuaire at Saint-Nazaire; one tap books it. Off
	// the usual path, Bruno scrolls to what he looks for.
	bruno.inView = false
	bruno.press(t, "book another room", `document.getElementById("again")`)
	bruno.do(t, "fourteen people", chromedp.Evaluate[chromedp.Void](`void (document.getElementById("ask-people").value = "")`), chromedp.SendKeys("#ask-people", "14"))
	// Only the Grand Bain seats fourteen at Nantes.
	bruno.waitText(t, "#results-status", "Une salle libre")
	// Typed at once, while the page still looked for rooms: the field
	// kept the focus and both digits (the answer to "again", when it
	// came, must not have taken the focus back).
	if got, _ := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`document.activeElement.id + " " + document.getElementById("ask-people").value`)); got != "ask-people 14" {
		t.Errorf("typing 14 people right after « Réserver une autre salle »: %q, want the field focused with 14", got)
	}
	bruno.waitText(t, "#results-list", "Le Grand Bain")
	bruno.press(t, "the Grand Bain", bookButtonJS("results-list", "Réserver 14:00 – 16:00"))
	bruno.waitText(t, "#done-what", "Le Grand Bain")
	bruno.press(t, "book another room", `document.getElementById("again")`)
	bruno.waitText(t, "#results-status", "Aucune salle ne convient")
	times := bruno.waitText(t, "#nearby-times", "Le Grand Bain")
	if !strings.Contains(times, "Réserver 16:15 – 18:15") || !strings.Contains(times, "Réserver 11:45 – 13:45") {
		t.Errorf("nearest free times of the Grand Bain (15 min kept around bookings): %q", times)
	}
	bruno.waitText(t, "#nearby-sites", "Salle Estuaire")
	bruno.check(t, axe, "15-accueil-rien-360px")
	bruno.presses = 0
	bruno.press(t, "the Salle Estuaire", bookButtonJS("nearby-sites", "Réserver 14:00 – 16:00"))
	msg = bruno.waitText(t, "#done-what", "Salle Estuaire")
	if !strings.Contains(msg, "14:00") || !strings.Contains(msg, "16:00") {
		t.Errorf("booked at another site: %q", msg)
	}
	// His last booking was at Saint-Nazaire: the start page now opens
	// there (kept on the server, so on any device).
	deadline := time.Now().Add(10 * time.Second)
	for {
		bruno.do(t, "the start page again", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#ask"))
		checked, _ := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`document.querySelector('input[name="site"]:checked')?.value ?? ""`))
		if checked == "saint-nazaire" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after booking at Saint-Nazaire the start page opens on %q", checked)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if errs := bruno.errors(); len(errs) > 0 {
		t.Errorf("the phone's browser reported: %v", errs)
	}

	// Every member page on the phone, in French, checked and saved; the
	// header under 120 px and nothing wider than the screen on each.
	for _, p := range []struct{ path, ready, name string }{
		{"/sites/saint-nazaire?date=" + date, "#calendar .ec-timeline", "17-planning-360px"},
		{"/salles/saint-nazaire-estuaire?week=" + date, "#calendar .ec-time-grid", "18-salle-360px"},
		{"/mes-reservations", "#mine-table", "19-mes-reservations-360px"},
		{"/evenements", "#ev-list", "20-evenements-360px"},
	} {
		bruno.do(t, p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(p.ready))
		time.Sleep(300 * time.Millisecond) // the page's first answer
		dims, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[[]float64](`[document.querySelector("header.site").getBoundingClientRect().height, document.documentElement.scrollWidth]`))
		if err != nil || len(dims) != 2 || dims[0] >= 120 || dims[1] > 360 {
			t.Errorf("%s on a phone: [header height, page width] = %v, want under 120 and at most 360 (%v)", p.path, dims, err)
		}
		bruno.check(t, axe, p.name)
	}
}

// maxKeys is what issue 13 allows for a quick booking by keyboard alone.
const maxKeys = 12

// keyboard is a tab that counts the keys it presses.
type keyboard struct {
	*browserTab
	keys int
}

// press presses key (a kb constant or a character) n times, letting the
// page answer after each.
func (k *keyboard) press(t *testing.T, key string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		k.keys++
		k.do(t, fmt.Sprintf("key %q", key), chromedp.KeyEvent(key), chromedp.Sleep(120*time.Millisecond))
	}
}

// focused says what has the focus: its id, or its tag and text.
func (k *keyboard) focused(t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(k.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e.id || (e.tagName + ":" + e.textContent.trim().slice(0, 40)); })()`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserStartKeyboard: the quick booking by keyboard alone, from
// the start page as it loads: the skip link, the day's chips (one Tab,
// then arrows), the slot's chips (one Tab, then arrows), Enter to go to
// the best room's button, Enter to book; at most twelve keys, and the
// focus never falls to the page's body.
func TestBrowserStartKeyboard(t *testing.T) {
	chromium, axe := browserNeeds(t)
	base := startServe(t)
	tab := openBrowser(t, chromium, 90*time.Second)
	tab.login(t, base, "Chloé Petit", "/")
	tab.waitText(t, "#results-status", "libre")
	k := &keyboard{browserTab: tab}
	date := quickDay().Format(time.DateOnly)

	// How many arrows a member presses: from the checked chip to the one
	// wanted, as the page shows them.
	arrows := func(row, value string) int {
		t.Helper()
		n, err := chromedp.Run(k.ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => {
			const all = [...document.querySelectorAll('input[name="%s"]')];
			return all.findIndex(e => e.value === %q) - all.findIndex(e => e.checked);
		})()`, row, value)))
		if err != nil || n < 0 {
			t.Fatalf("the %s chip %s is not after the checked one (%d, %v)", row, value, n, err)
		}
		return n
	}
	k.press(t, "\t", 1) // the skip link
	k.press(t, "\r", 1) // to the page's content
	k.press(t, "\t", 1) // the day's chips
	if f := k.focused(t); !strings.HasPrefix(f, "day-") {
		t.Fatalf("one Tab after the skip link the focus is on %q, not the day's chips", f)
	}
	k.press(t, kb.ArrowRight, arrows("day", date))
	k.press(t, "\t", 1) // the slot's chips
	if f := k.focused(t); !strings.HasPrefix(f, "slot-") {
		t.Fatalf("one Tab after the days the focus is on %q, not the slot's chips", f)
	}
	k.press(t, kb.ArrowRight, arrows("slot", "14:00/120"))
	k.waitText(t, "#results-status", "de 14:00 à 16:00")
	k.press(t, "\r", 1) // to the best room's button
	if f := k.focused(t); f != "BUTTON:Réserver 14:00 – 16:00" {
		t.Fatalf("Enter in the questions led to %q, not the best room's button", f)
	}
	k.press(t, "\r", 1) // book it
	msg := k.waitText(t, "#done-what", "C'est réservé")
	if !strings.Contains(msg, "La Bulle") || !strings.Contains(msg, "14:00") {
		t.Errorf("booked by keyboard: %q", msg)
	}
	if f := k.focused(t); f != "done-h" {
		t.Errorf("after booking the focus is on %q, not the confirmation", f)
	}
	if k.keys > maxKeys {
		t.Errorf("%d key presses to book by keyboard, want at most %d", k.keys, maxKeys)
	}
	t.Logf("booked by keyboard in %d key presses", k.keys)
	k.check(t, axe, "16-accueil-clavier")
	// "Réserver une autre salle" by keyboard: the focus goes to the answer.
	k.press(t, "\t", 5) // the title, its button, "Répéter cette réservation…", my bookings, another room
	if f := k.focused(t); f != "again" {
		t.Fatalf("five Tabs after booking: %q, not « Réserver une autre salle »", f)
	}
	k.press(t, "\r", 1)
	time.Sleep(300 * time.Millisecond)
	if f := k.focused(t); f != "results-h" {
		t.Errorf("after « Réserver une autre salle » the focus is on %q", f)
	}
}
