package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/internal/oidctest"
)

// Every page, as an admin sees it (so the admin and conflicts pages
// too), at 1280 px and at 360 px with touch, in French: each is checked
// with axe-core (no violation), saved as p-<page>-1280px.png and
// p-<page>-360px.png in testdata/screenshots/, and on the phone its
// header stays under 120 px and nothing is wider than the screen. The
// other browser tests take the pages in their states (a booking made, a
// question asked, English); this one makes sure none is left out.
func TestBrowserPagesBothWidths(t *testing.T) {
	chromium, axe := browserNeeds(t)
	base := startServe(t)
	day := bookingDay()
	date := day.Format(time.DateOnly)
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(h int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, paris).Format(time.RFC3339)
	}
	code, body := apiPost(t, base+"/api/v1/events", map[string]string{"X-Remote-User": "olga", "X-Remote-Name": "Olga Orga", "X-Remote-Groups": "organisers"},
		map[string]any{"title": "Assemblée de quartier", "start": at(18), "end": at(20), "room": "nantes-grand-bain", "capacity": 10, "waitlist": true})
	if code != http.StatusCreated {
		t.Fatalf("the event: %d %s", code, body)
	}
	var ev struct{ ID string }
	if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.ID == "" {
		t.Fatalf("the event's id: %v %s", err, body)
	}
	if code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "dev:ada-admin", "X-Remote-Name": "Ada Admin"},
		map[string]any{"room": "nantes-loire", "start": at(10), "end": at(11), "title": "Point du bureau"}); code != http.StatusCreated {
		t.Fatalf("Ada's booking: %d %s", code, body)
	}

	ada := openBrowser(t, chromium, 240*time.Second)
	ada.do(t, "login as an admin",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Ada Admin"),
		chromedp.Click("#g-admins"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("main h1"),
	)
	pages := []struct{ name, path string }{
		{"accueil", "/"},
		{"planning", "/sites/nantes?date=" + date},
		{"salle", "/salles/nantes-loire?week=" + date},
		{"presence", "/salles/nantes-loire/presence"},
		{"mes-reservations", "/mes-reservations"},
		{"evenements", "/evenements"},
		{"evenement", "/evenements/" + ev.ID},
		{"demandes", "/demandes"},
		{"conflits", "/conflits"},
		{"admin-salles", "/admin/salles"},
		{"aide", "/aide"},
		{"introuvable", "/sites/nulle-part"},
	}
	// ready: the page has drawn its first answer (no live region still
	// says "Chargement…").
	const ready = `(() => document.querySelector("main h1") !== null &&
		![...document.querySelectorAll("[role=status], [aria-live]")].some(e => e.textContent.includes("Chargement")))()`
	for _, width := range []int{1280, 360} {
		if width == 360 {
			ada.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
		} else {
			ada.do(t, "a desktop", chromedp.EmulateViewport(1280, 900))
		}
		for _, p := range pages {
			name := fmt.Sprintf("p-%s-%dpx", p.name, width)
			ada.do(t, name, chromedp.Navigate(base+p.path), chromedp.WaitVisible("main h1"))
			ada.waitTrue(t, name+" drawn", ready)
			if width == 360 {
				dims, err := chromedp.Run(ada.ctx, chromedp.Evaluate[[]float64](`[document.querySelector("header.site").getBoundingClientRect().height, document.documentElement.scrollWidth]`))
				if err != nil || len(dims) != 2 || dims[0] >= 120 || dims[1] > 360 {
					t.Errorf("%s on a phone: [header height, page width] = %v, want under 120 and at most 360 (%v)", p.path, dims, err)
				}
			}
			if p.name == "planning" {
				// The booking form's fields in French, as the
				// screenshots show them (Chromium runs in French).
				ada.do(t, "a start time", chromedp.SetValue("#bf-start", "14:05"), chromedp.SetValue("#bf-date", date))
				if shown := ada.shownValue(t, "#bf-start"); shown != "14:05" {
					t.Errorf("%s: the start 14:05 is drawn %q", name, shown)
				}
				if shown, want := ada.shownValue(t, "#bf-date"), day.Format("02/01/2006"); shown != want {
					t.Errorf("%s: the day %s is drawn %q, want %s", name, date, shown, want)
				}
			}
			// The page not found answers 404, which the browser reports.
			ada.check(t, axe, name, "404")
		}
	}
}

// waitTrue waits until the JS expression js is true.
func (b *browserTab) waitTrue(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never (%v; console: %v)", what, err, b.errors())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The sign-in page of a roomcal that signs in through an OpenID Connect
// provider (the one page TestBrowserPagesBothWidths cannot reach: it is
// shown to a visitor without a session), at 1280 px and at 360 px, in
// French and in English: axe-core, a screenshot each, and its link leads
// to the provider's sign-in.
func TestBrowserSignInBothWidths(t *testing.T) {
	chromium, axe := browserNeeds(t)
	idp := oidctest.New(t, oidctest.Options{Users: []oidctest.User{{ID: "u-amina", Username: "amina", Name: "Amina Diallo"}}})
	base, _ := serveOIDC(t, idp.Issuer, idp.ClientID, idp.ClientSecret, func(base string) { idp.Register(base+"/auth/callback", base+"/") })
	tab := openBrowser(t, chromium, 90*time.Second)
	for _, p := range []struct {
		name, path, words string
		phone             bool
	}{
		{"p-connexion-oidc-1280px", "/mes-reservations", "Se connecter", false},
		{"p-connexion-oidc-360px", "/mes-reservations", "Se connecter", true},
		{"p-signin-oidc-en-360px", "/mes-reservations?lang=en", "Sign in", true},
	} {
		if p.phone {
			tab.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
		}
		tab.do(t, p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible("main h1"))
		tab.waitText(t, "main", p.words)
		href, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.querySelector("main a.button").getAttribute("href")`))
		if err != nil || href != "/auth/login?next="+url.QueryEscape(p.path) {
			t.Errorf("%s: the sign-in link is %q (%v)", p.name, href, err)
		}
		if p.phone {
			if h, err := chromedp.Run(tab.ctx, chromedp.Evaluate[float64](`document.querySelector("header.site").getBoundingClientRect().height`)); err != nil || h >= 120 {
				t.Errorf("%s: the header is %.0f px high (%v)", p.name, h, err)
			}
		}
		tab.check(t, axe, p.name, "401")
	}
}
