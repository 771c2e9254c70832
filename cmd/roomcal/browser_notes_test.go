package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/api"
)

// devCall sends a request to `roomcal serve` in dev mode as p (the
// identity headers are believed from loopback) and returns the status
// and body.
func devCall(t *testing.T, base string, p person, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(api.HeaderUser, p.id)
	req.Header.Set(api.HeaderName, p.name)
	req.Header.Set(api.HeaderGroups, p.groups)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// promotedMember makes, on the server at base, an event with one seat
// and a waiting list, registers Amina then Bruno (who waits), and
// unregisters Amina: Bruno is promoted. It returns the event's title.
func promotedMember(t *testing.T, base string) string {
	t.Helper()
	const title = "Atelier réparation vélo"
	day := bookingDay()
	at := func(h int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, day.Location()).Format(time.RFC3339)
	}
	orga := person{id: "dev:olga-orga", name: "Olga Orga", groups: "organisers"}
	code, body := devCall(t, base, orga, "POST", "/api/v1/events", map[string]any{
		"title": title, "start": at(10), "end": at(11), "room": "nantes-loire", "capacity": 1, "waitlist": true})
	if code != http.StatusCreated {
		t.Fatalf("create the event: %d %s", code, body)
	}
	var ev struct{ ID string }
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	amina := person{id: "dev:amina-diallo", name: "Amina Diallo"}
	bruno := person{id: "dev:bruno-martin", name: "Bruno Martin"}
	for _, p := range []person{amina, bruno} {
		if code, body := devCall(t, base, p, "POST", "/api/v1/events/"+ev.ID+"/registrations", nil); code != http.StatusCreated {
			t.Fatalf("register %s: %d %s", p.name, code, body)
		}
	}
	if code, body := devCall(t, base, amina, "DELETE", "/api/v1/events/"+ev.ID+"/registrations/me", nil); code != http.StatusNoContent {
		t.Fatalf("unregister Amina: %d %s", code, body)
	}
	return title
}

// TestBrowserPromotedNote: a member promoted from the waiting list sees
// "Bonne nouvelle : une place s'est libérée" wherever they land (the
// start page, "Mes réservations", the events), in French and in English
// at 360 px, until they dismiss it; dismissed, it says so, the focus
// stays on the page (not its body), and it stays gone after a reload of
// every page. Each state is checked with axe-core and saved as a
// screenshot (testdata/screenshots/n*.png).
func TestBrowserPromotedNote(t *testing.T) {
	chromium, axe := browserNeeds(t)
	base := startServe(t)
	title := promotedMember(t, base)

	bruno := openBrowser(t, chromium, 90*time.Second)
	bruno.login(t, base, "Bruno Martin", "/")
	const heading = "Bonne nouvelle : une place s'est libérée"
	note := bruno.waitText(t, "#notes", heading)
	for _, want := range []string{"« " + title + " »", "votre place est maintenant confirmée", "à 10:00", "Lieu : Salle Loire, Nantes"} {
		if !bytes.Contains([]byte(note), []byte(want)) {
			t.Errorf("the note says %q, without %q", note, want)
		}
	}
	// Under the page's heading, before the questions.
	if order, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`(() => {
		const h1 = document.querySelector("main h1"), n = document.getElementById("notes");
		return h1.nextElementSibling === n ? "after h1" : "elsewhere";
	})()`)); err != nil || order != "after h1" {
		t.Errorf("the note is %s (%v)", order, err)
	}
	bruno.check(t, axe, "n1-bonne-nouvelle-accueil")

	for _, page := range []struct{ path, ready, shot string }{
		{"/mes-reservations", "#regs-list", "n2-bonne-nouvelle-mes-reservations"},
		{"/evenements", "#ev-list", "n3-bonne-nouvelle-evenements"},
	} {
		bruno.do(t, "open "+page.path, chromedp.Navigate(base+page.path), chromedp.WaitReady(page.ready))
		bruno.waitText(t, "#notes", heading)
		bruno.waitText(t, "#notes", title)
		bruno.check(t, axe, page.shot)
	}

	bruno.do(t, "English, 360 px wide", chromedp.EmulateViewport(360, 740, chromedp.EmulateTouch), chromedp.Navigate(base+"/?lang=en"))
	bruno.waitText(t, "#notes", "Good news: a seat has come free")
	bruno.waitText(t, "#notes", "your seat is now confirmed")
	bruno.check(t, axe, "n4-good-news-360px")

	// Dismissed on the phone, in French.
	bruno.do(t, "French again", chromedp.Navigate(base+"/evenements?lang=fr"), chromedp.WaitReady("#ev-list"))
	bruno.waitText(t, "#notes", heading)
	bruno.do(t, "dismiss", chromedp.Click("#notes .note button"))
	bruno.waitText(t, "#notes [role=status]", "Message masqué.")
	if n, err := chromedp.Run(bruno.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#notes .note").length`)); err != nil || n != 0 {
		t.Errorf("%d note(s) still shown once dismissed (%v)", n, err)
	}
	if f, _ := chromedp.Run(bruno.ctx, chromedp.Evaluate[string](`document.activeElement.tagName + " " + (document.activeElement.getAttribute("role") ?? "")`)); f != "P status" {
		t.Errorf("after dismissing, the focus is on %q, not the notes' status line", f)
	}
	bruno.check(t, axe, "n5-bonne-nouvelle-masquee-360px")

	// Gone for good: every page, reloaded, shows no note once its own
	// call for notes has been answered.
	for _, page := range []struct{ path, ready string }{{"/evenements", "#ev-list"}, {"/", "#ask"}, {"/mes-reservations", "#regs-list"}} {
		bruno.do(t, "reload "+page.path, chromedp.Navigate(base+page.path), chromedp.WaitReady(page.ready))
		ctx, cancel := context.WithTimeout(bruno.ctx, 10*time.Second)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/v1/me/notes").then(r => r.json()).then(notes =>
			new Promise(ok => setTimeout(() => ok(notes.length * 100 + document.querySelectorAll("#notes .note").length), 300)))`,
			chromedp.EvalAwaitPromise))
		cancel()
		if err != nil || n != 0 {
			t.Errorf("%s after dismissing: %d note(s) from the API, %d shown (%v)", page.path, n/100, n%100, err)
		}
	}
}
