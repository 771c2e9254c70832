package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A room's week page and the moves of "Mes réservations", in a real
// browser: a member opens the Salle Loire's week, reads its rules in
// words, finds its feed link (which a calendar app can fetch), books
// through the page's form, with the mouse, and with a finger on a touch
// screen; in "Mes réservations" she moves that booking onto a
// slot someone else took (made through the API) and reads which slot is
// taken, then onto a free slot; she registers to an event an organiser
// made through the API, and finds it under "Mes inscriptions". Each page
// is checked with axe-core and saved as a screenshot.
func TestBrowserRoom(t *testing.T) {
	chromium, axe := browserNeeds(t)
	began := time.Now()
	base := startServe(t)

	amina := openBrowser(t, chromium, 60*time.Second)

	day := bookingDay()
	date := day.Format(time.DateOnly)
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(h int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, paris).Format(time.RFC3339)
	}

	// Someone else's booking, and an organiser's event, through the API
	// (dev mode takes identity headers from loopback).
	if code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "bruno", "X-Remote-Name": "Bruno Martin"},
		map[string]any{"room": "nantes-loire", "start": at(14), "end": at(15), "title": "Atelier de Bruno"}); code != http.StatusCreated {
		t.Fatalf("Bruno's booking: %d %s", code, body)
	}
	const event = "Assemblée de quartier"
	if code, body := apiPost(t, base+"/api/v1/events", map[string]string{"X-Remote-User": "olga", "X-Remote-Name": "Olga Orga", "X-Remote-Groups": "organisers"},
		map[string]any{"title": event, "start": at(18), "end": at(20), "location": "Jardin partagé", "capacity": 10, "waitlist": true}); code != http.StatusCreated {
		t.Fatalf("the event: %d %s", code, body)
	}

	// 1. Sign in, straight to the Salle Loire's week.
	amina.do(t, "login",
		chromedp.Navigate(base+"/salles/nantes-loire?week="+date),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Amina Diallo"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("#room"),
	)
	amina.waitText(t, "#room-status", "Semaine chargée")
	amina.do(t, "the week calendar", chromedp.WaitVisible("#calendar .ec-time-grid"))
	amina.waitText(t, "#calendar", "Atelier de Bruno")
	amina.waitText(t, "#room-rules", "4 h par réservation")
	amina.waitText(t, "#room-rules", "réservez au moins 15 min avant le début")
	amina.waitText(t, "#room-rules", "tous les membres")
	amina.waitText(t, "#room-hours", "de 08:00 à 20:00")
	amina.waitText(t, "#room-facts", "vidéoprojecteur")

	// The feed link: a calendar app gets the room's calendar.
	feed, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.getElementById("room-feed-url").value`))
	if err != nil || !strings.HasSuffix(feed, "/feeds/rooms/nantes-loire.ics") {
		t.Fatalf("feed link %q (%v)", feed, err)
	}
	webcal, err := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.getElementById("room-feed-webcal").getAttribute("href")`))
	if err != nil || webcal != strings.Replace(feed, "http:", "webcal:", 1) {
		t.Errorf("webcal link %q for %q (%v)", webcal, feed, err)
	}
	resp, err := http.Get(feed)
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") || !strings.Contains(string(ics), "BEGIN:VCALENDAR") {
		t.Errorf("room feed: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), ics)
	}
	// Closed hours are drawn, in words, on their own day: all of Sunday,
	// Saturday from 13:00 (or the year-end closure when the week holds it).
	closed := amina.closedInWeek(t)
	if sun := closed["sun"]; len(sun) != 1 || !strings.HasPrefix(sun[0], "Fermé toute la journée") {
		t.Errorf("Sunday's closed hours: %q, want one \"Fermé toute la journée\" (all: %q)", sun, closed)
	}
	if sat := strings.Join(closed["sat"], " | "); !strings.HasSuffix(sat, "Fermé · depuis 13:00") && !strings.HasPrefix(sat, "Fermé toute la journée") {
		t.Errorf("Saturday's closed hours: %q, want \"Fermé · depuis 13:00\" (all: %q)", sat, closed)
	}
	amina.waitText(t, "#room .legend", "Fermé")
	amina.check(t, axe, "r1-salle-semaine")

	// 2. Book through the page's form.
	amina.do(t, "fill the booking form",
		chromedp.SetValue("#bf-date", date),
		chromedp.SetValue("#bf-start", "10:00"),
		chromedp.SetValue("#bf-end", "11:00"),
		chromedp.SendKeys("#bf-title", "Réunion du bureau\r"),
	)
	amina.waitText(t, "#bf-result", "C'est réservé : Salle Loire")
	amina.waitText(t, "#calendar", "Réunion du bureau")
	amina.check(t, axe, "r2-salle-reservee")

	// 2b. Book by selecting a free range in the week: 11:00–12:00 of the
	// same day, then the dialog.
	amina.selectWeekRange(t, day.Weekday(), 11, 12)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	amina.waitText(t, "#dlg-when", "de 11:00 à 12:00")
	amina.check(t, axe, "r2b-salle-dialogue")
	amina.do(t, "book in the dialog", chromedp.SendKeys("#dlg-title", "Permanence\r"))
	amina.waitText(t, "#room-status", "C'est réservé : Salle Loire")
	amina.waitText(t, "#calendar", "Permanence")

	// 2c. On a tablet's touch screen: a finger held still on 12:00, then
	// slid down to 13:00, opens the dialog for that hour.
	amina.do(t, "a tablet", chromedp.EmulateViewport(800, 1000, chromedp.EmulateTouch), chromedp.Reload())
	amina.waitText(t, "#room-status", "Semaine chargée")
	amina.do(t, "the week calendar", chromedp.WaitVisible("#calendar .ec-time-grid"))
	p0, p1 := amina.weekPoints(t, day.Weekday(), 12, 13)
	amina.touchSlide(t, "hold and slide", p0, p1, 700*time.Millisecond)
	amina.do(t, "the booking dialog", chromedp.WaitVisible("#book-dialog"))
	amina.waitText(t, "#dlg-when", "de 12:00 à 13:00")
	amina.do(t, "book on the tablet", chromedp.SendKeys("#dlg-title", "Point tablette\r"))
	amina.waitText(t, "#room-status", "C'est réservé : Salle Loire")
	amina.waitText(t, "#calendar", "Point tablette")
	amina.do(t, "back to a desktop", chromedp.EmulateViewport(1280, 900))

	// 2d. On a phone, 360 px: the week's days are seven columns side by
	// side (scrolling sideways), none narrower than a short word, and a
	// booking sits in its own day's column.
	amina.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	amina.waitText(t, "#room-status", "Semaine chargée")
	amina.waitText(t, "#calendar", "Atelier de Bruno")
	amina.checkWeekColumns(t, day.Weekday(), "Atelier de Bruno")
	amina.check(t, axe, "r2d-salle-semaine-360px")
	amina.do(t, "back to a desktop", chromedp.EmulateViewport(1280, 900), chromedp.Reload())

	// 3. Move it onto Bruno's slot: which slot is taken, in words.
	amina.do(t, "my bookings", chromedp.Navigate(base+"/mes-reservations"), chromedp.WaitVisible("#mine-table"))
	amina.waitText(t, "#mine-table", "Réunion du bureau")
	amina.do(t, "open the move form", chromedp.Click("#mine-table button.move"), chromedp.WaitVisible(".move-form"))
	amina.do(t, "move onto a taken slot",
		chromedp.SetValue(".move-form input[name=date]", date),
		chromedp.SetValue(".move-form input[name=start]", "14:30"),
		chromedp.SetValue(".move-form input[name=end]", "15:30"),
		chromedp.Click(".move-form button[type=submit]"),
	)
	msg := amina.waitText(t, ".move-result", "Ce créneau est déjà pris")
	if !strings.Contains(msg, "Salle Loire") || !strings.Contains(msg, "de 14:00 à 15:00") {
		t.Errorf("conflict message %q does not say which slot is taken", msg)
	}
	amina.check(t, axe, "r3-deplacer-conflit", "status of 409")

	// 3b. Onto a Sunday, when the room is closed: which rule, in words.
	sunday := day.AddDate(0, 0, (7-int(day.Weekday()))%7).Format(time.DateOnly)
	amina.do(t, "move onto a closed day",
		chromedp.SetValue(".move-form input[name=date]", sunday),
		chromedp.Click(".move-form button[type=submit]"),
	)
	amina.waitText(t, ".move-result", "Cette réservation n'est pas permise (salle fermée à ces heures)")
	amina.check(t, axe, "r3b-deplacer-regle", "status of 422")

	// 4. Then onto a free slot.
	amina.do(t, "move onto a free slot",
		chromedp.SetValue(".move-form input[name=date]", date),
		chromedp.SetValue(".move-form input[name=start]", "16:00"),
		chromedp.SetValue(".move-form input[name=end]", "17:00"),
		chromedp.Click(".move-form button[type=submit]"),
	)
	amina.waitText(t, "#mine-status", "La réservation « Réunion du bureau » est déplacée")
	amina.waitText(t, "#mine-table", "16:00 – 17:00")
	amina.check(t, axe, "r4-deplacee")

	// 5. Register to the event, and find it under "Mes inscriptions".
	amina.do(t, "events", chromedp.Navigate(base+"/evenements"), chromedp.WaitVisible("#events"))
	amina.waitText(t, "#ev-list", event)
	amina.clickInEvent(t, event, "button.register")
	amina.waitText(t, "#ev-list", "Vous êtes inscrit·e.")
	amina.do(t, "my bookings again", chromedp.Navigate(base+"/mes-reservations"), chromedp.WaitVisible("#mine-table"))
	amina.waitText(t, "#regs-list", event)
	amina.waitText(t, "#regs-list", "Inscription confirmée")
	amina.check(t, axe, "r5-mes-inscriptions")
	amina.do(t, "unregister", chromedp.Click("#regs-list button"))
	amina.waitText(t, "#regs-list .confirm", "Vous avez une place confirmée")
	amina.do(t, "confirm", chromedp.Click("#regs-list .confirm-yes"))
	amina.waitText(t, "#regs-status", "Vous êtes désinscrit·e de « "+event+" »")
	amina.waitText(t, "#regs-empty", "aucun événement")
	if f, _ := chromedp.Run(amina.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "regs-status" {
		t.Errorf("after leaving, the focus is on %q, not the answer", f)
	}

	t.Logf("room browser test took %s", time.Since(began).Round(time.Millisecond))
}

// weekPoints finds where the hours from–to of weekday wd are in the
// room's week calendar, scrolling the day into view: just inside the
// start of from and the end of to.
func (b *browserTab) weekPoints(t *testing.T, wd time.Weekday, from, to int) (point, point) {
	t.Helper()
	// The day's column spans the hours the calendar shows, from
	// data-slot-min to data-slot-max.
	js := fmt.Sprintf(`(() => {
		const col = document.querySelector("#calendar .ec-body .ec-day.ec-%s");
		if (!col) return null;
		col.scrollIntoView({block: "center"});
		const root = document.getElementById("room").dataset;
		const h = (s) => Number(s.split(":")[0]);
		const min = h(root.slotMin), max = h(root.slotMax);
		const r = col.getBoundingClientRect();
		const hour = r.height / (max - min);
		const x = r.left + r.width / 3;
		const y = (v) => r.top + (v - min) * hour;
		return [{x, y: y(%d) + 5}, {x, y: y(%d) - 5}];
	})()`, strings.ToLower(wd.String()[:3]), from, to)
	pts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]point](js))
	if err != nil || len(pts) != 2 {
		t.Fatalf("where are the hours %d–%d of %s? %v %v", from, to, wd, pts, err)
	}
	return pts[0], pts[1]
}

// selectWeekRange drags the mouse over the hours from–to of weekday wd
// in the room's week calendar.
func (b *browserTab) selectWeekRange(t *testing.T, wd time.Weekday, from, to int) {
	t.Helper()
	p0, p1 := b.weekPoints(t, wd, from, to)
	b.do(t, "drag over "+wd.String(),
		chromedp.MouseEvent("mousePressed", p0.X, p0.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent("mouseMoved", p0.X, (p0.Y+p1.Y)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", p1.X, p1.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseReleased", p1.X, p1.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
}

// apiPost posts body as JSON with the headers, outside the browser.
func apiPost(t *testing.T, url string, headers map[string]string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// closedInWeek is the text of each closed block of the room's week, by
// the day ("mon"…) whose column holds it.
func (b *browserTab) closedInWeek(t *testing.T) map[string][]string {
	t.Helper()
	type block struct{ Day, Text string }
	blocks, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]block](`(() => {
		const cols = [...document.querySelectorAll("#calendar .ec-body .ec-day")].map(e => {
			const r = e.getBoundingClientRect();
			const day = [...e.classList].find(c => /^ec-(mon|tue|wed|thu|fri|sat|sun)$/.test(c)) ?? "";
			return {day: day.slice(3), left: r.left, right: r.right};
		});
		return [...document.querySelectorAll("#calendar .ec-event.closed")].map(e => {
			const r = e.getBoundingClientRect();
			const x = r.left + r.width / 2;
			return {day: (cols.find(c => x >= c.left && x < c.right) ?? {day: "?"}).day, text: (e.querySelector(".ec-event-title") ?? e).textContent.trim()};
		});
	})()`))
	if err != nil {
		t.Fatalf("closed blocks of the week: %v", err)
	}
	by := map[string][]string{}
	for _, bl := range blocks {
		by[bl.Day] = append(by[bl.Day], bl.Text)
	}
	return by
}

// checkWeekColumns fails when two days of the room's week share a
// column (or a day is too narrow to read), and when the booking titled
// title is not inside the column of weekday wd.
func (b *browserTab) checkWeekColumns(t *testing.T, wd time.Weekday, title string) {
	t.Helper()
	type column struct {
		Day         string
		Left, Width float64
	}
	cols, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]column](`[...document.querySelectorAll("#calendar .ec-body .ec-day")].map(e => {
		const r = e.getBoundingClientRect();
		const day = [...e.classList].find(c => /^ec-(mon|tue|wed|thu|fri|sat|sun)$/.test(c)) ?? "";
		return {day: day.slice(3), left: r.left, width: r.width};
	})`))
	if err != nil || len(cols) != 7 {
		t.Fatalf("the week's day columns: %v (%v)", cols, err)
	}
	for i, c := range cols {
		if c.Width < 60 {
			t.Errorf("%s is %.0f px wide: too narrow to read", c.Day, c.Width)
		}
		for _, d := range cols[:i] {
			if c.Left < d.Left+d.Width-1 && d.Left < c.Left+c.Width-1 {
				t.Errorf("%s and %s share a column (%.0f+%.0f and %.0f+%.0f)", d.Day, c.Day, d.Left, d.Width, c.Left, c.Width)
			}
		}
	}
	want := strings.ToLower(wd.String()[:3])
	at, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(() => {
		const e = [...document.querySelectorAll("#calendar .ec-event")].find(e => e.textContent.includes(%q));
		if (!e) return -1;
		const r = e.getBoundingClientRect();
		return r.left + r.width / 2;
	})()`, title)))
	if err != nil || at < 0 {
		t.Fatalf("the booking %q is not in the week (%v)", title, err)
	}
	for _, c := range cols {
		if at >= c.Left && at < c.Left+c.Width && c.Day != want {
			t.Errorf("%q shows under %s, not %s", title, c.Day, want)
		}
	}
}
