package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/internal/config"
)

// The approvers' queue in a real browser: the demo's Grand Bain needs
// approval (its approvers: the group "ca", and admins as everywhere); two
// members' requests, made through the API, wait in "Demandes" for an
// admin (dev mode's login gives no other group), who refuses one with a
// reason and accepts the other. The requester's "Mes
// réservations" says "en attente de validation" meanwhile. Checked with
// axe-core at 1280 px and on a 360 px touch screen.
func TestBrowserRequests(t *testing.T) {
	chromium, axe := browserNeeds(t)
	dir := t.TempDir()
	yaml := strings.Replace(string(config.DemoYAML()), "          max_duration: 8h   # whole-day assemblies\n",
		"          max_duration: 8h   # whole-day assemblies\n          approvers: [ca]\n", 1)
	if !strings.Contains(yaml, "approvers: [ca]") {
		t.Fatal("the demo's Grand Bain rules moved: cannot add approvers")
	}
	cfg := filepath.Join(dir, "roomcal.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeWith(t, map[string]string{"ROOMCAL_CONFIG": cfg})

	day := bookingDay()
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(h int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, paris).Format(time.RFC3339)
	}
	for _, r := range []struct {
		who, name, title string
		from             int
	}{{"dev:amina-diallo", "Amina Diallo", "Assemblée des locataires", 9}, {"bruno", "Bruno Martin", "Fête des voisins", 14}} {
		code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": r.who, "X-Remote-Name": r.name},
			map[string]any{"room": "nantes-grand-bain", "start": at(r.from), "end": at(r.from + 2), "title": r.title})
		if code != http.StatusCreated || !strings.Contains(body, `"pending":true`) {
			t.Fatalf("%s's request: %d %s, want 201 pending", r.who, code, body)
		}
	}
	// A second request for a held slot is refused like any booking.
	if code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "chloe"},
		map[string]any{"room": "nantes-grand-bain", "start": at(10), "end": at(11), "title": "Chorale"}); code != http.StatusConflict {
		t.Fatalf("a request over a held slot: %d %s, want 409", code, body)
	}

	// Amina reads that her request waits.
	amina := openBrowser(t, chromium, 90*time.Second)
	amina.login(t, base, "Amina Diallo", "/")
	amina.do(t, "Mes réservations", chromedp.Navigate(base+"/mes-reservations"))
	amina.waitText(t, "#mine-table", "Assemblée des locataires — en attente de validation")
	// The room's week says so too.
	amina.do(t, "the Grand Bain's week", chromedp.Navigate(base+"/salles/nantes-grand-bain?week="+day.Format(time.DateOnly)), chromedp.WaitVisible("#calendar .ec-time-grid"))
	amina.waitText(t, "#calendar", "Assemblée des locataires (en attente de validation)")
	// She is no approver: no "Demandes" in her menu.
	if n, err := chromedp.Run(amina.ctx, chromedp.Evaluate[int](`document.querySelectorAll('nav a[href="/demandes"]').length`)); err != nil || n != 0 {
		t.Errorf("a member who answers no request sees the Demandes link (%d, %v)", n, err)
	}

	// Carla, an admin, answers.
	carla := openBrowser(t, chromium, 90*time.Second)
	carla.do(t, "login as carla, admin",
		chromedp.Navigate(base+"/login?next=/demandes"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Carla Approva"),
		chromedp.Click("#g-admins"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("nav a[href='/demandes']"),
		chromedp.Click("nav a[href='/demandes']"),
		chromedp.WaitVisible("#requests"),
	)
	carla.waitText(t, "#rq-status", "Demandes en attente : 2")
	carla.waitText(t, "#rq-list", "Assemblée des locataires")
	carla.waitText(t, "#rq-list", "demandée par Bruno Martin")
	carla.check(t, axe, "q1-demandes")

	// Refuse Bruno's, with a reason.
	carla.do(t, "refuse", chromedp.Click(`#rq-list li:nth-child(2) button.danger`), chromedp.WaitVisible("#rq-list textarea"))
	carla.check(t, axe, "q2-demandes-refus")
	carla.do(t, "the reason", chromedp.SendKeys("#rq-list textarea", "La salle est prise pour l'AG"), chromedp.Click("#rq-list form button[type=submit]"))
	carla.waitText(t, "#rq-status", "refusée")

	// On a phone: accept Amina's.
	carla.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	carla.waitText(t, "#rq-status", "Demandes en attente : 1")
	carla.check(t, axe, "q3-demandes-telephone")
	carla.do(t, "accept", chromedp.Click(`#rq-list li button:not(.danger)`))
	carla.waitText(t, "#rq-status", "acceptée")
	carla.do(t, "reload", chromedp.Reload())
	carla.waitText(t, "#rq-status", "Aucune demande en attente")
	carla.check(t, axe, "q4-demandes-vide")

	// Amina's booking is confirmed; Bruno's slot is free again.
	amina.do(t, "Mes réservations again", chromedp.Navigate(base+"/mes-reservations"))
	amina.waitText(t, "#mine-table", "Assemblée des locataires")
	if txt := amina.waitText(t, "#mine-table", "Assemblée"); strings.Contains(txt, "en attente") {
		t.Errorf("the accepted booking still says it waits: %q", txt)
	}
	if code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "chloe", "X-Remote-Groups": "ca"},
		map[string]any{"room": "nantes-grand-bain", "start": at(14), "end": at(15), "title": "Chorale"}); code != http.StatusCreated {
		t.Errorf("the refused request's slot: %d %s, want 201", code, body)
	}
}
