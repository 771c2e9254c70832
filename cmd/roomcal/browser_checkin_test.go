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

// A room's check-in page in a real browser, as the QR code on its door
// opens it: the demo's Bulle asks for a check-in within 15 minutes and is
// open around the clock here; Amina's booking starts in ten minutes, so
// the page offers "Je suis là", which confirms it. Checked with axe-core
// at 1280 px and on a 360 px touch screen; the QR code is an SVG.
func TestBrowserCheckIn(t *testing.T) {
	chromium, axe := browserNeeds(t)
	yaml := strings.Replace(string(config.DemoYAML()), "        rules:\n          max_duration: 2h\n",
		"        rules:\n          max_duration: 2h\n          min_notice: 0\n          checkin_within: 15m\n        hours: {mon-sun: \"00:00-24:00\"}\n", 1)
	if !strings.Contains(yaml, "checkin_within: 15m") {
		t.Fatal("the demo's Bulle rules moved: cannot ask for a check-in")
	}
	cfg := filepath.Join(t.TempDir(), "roomcal.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeWith(t, map[string]string{"ROOMCAL_CONFIG": cfg})
	start := time.Now().Add(10 * time.Minute).Truncate(time.Minute)
	code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "dev:amina-diallo", "X-Remote-Name": "Amina Diallo"},
		map[string]any{"room": "nantes-bulle", "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339), "title": "Entretien"})
	if code != http.StatusCreated {
		t.Fatalf("Amina's booking: %d %s", code, body)
	}

	amina := openBrowser(t, chromium, 90*time.Second)
	amina.do(t, "login, then the door's page",
		chromedp.Navigate(base+"/salles/nantes-bulle/presence"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Amina Diallo"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("#checkin"),
	)
	amina.waitText(t, "#ci-status", "Réservations à confirmer : 1")
	amina.waitText(t, "#ci-list", "Entretien")
	amina.check(t, axe, "c1-presence")
	amina.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	amina.waitText(t, "#ci-status", "Réservations à confirmer : 1")
	amina.check(t, axe, "c2-presence-telephone")
	amina.do(t, "Je suis là", chromedp.Click("#ci-list button"))
	amina.waitText(t, "#ci-status", "Présence confirmée pour « Entretien »")
	amina.check(t, axe, "c3-presence-confirmee")
	amina.do(t, "reload", chromedp.Reload())
	amina.waitText(t, "#ci-list", "Présence déjà confirmée")

	// The QR code for the door (any member may print it).
	amina.do(t, "the room's week", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/salles/nantes-bulle"), chromedp.WaitVisible("#room"))
	amina.waitText(t, "main", "Je suis là : confirmer ma présence")
	req, _ := http.NewRequest("GET", base+"/salles/nantes-bulle/qr.svg", nil)
	req.Header.Set("X-Remote-User", "dev:amina-diallo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("the door's QR code: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
