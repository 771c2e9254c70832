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

// The page says what is left of a member's weekly quota, in words, next
// to the booking form: the demo with a quota of 4 h a week per site.
// Amina, who has booked nothing, reads "Il vous reste 4 h cette semaine
// à Nantes" at 1280 px and on a 360 px touch screen (axe-core clean);
// when the site is still open this week for an hour, she books one and
// reads 3 h. (The numbers under several bookings, across replicas and a
// FLUSHALL: TestPromiseQuotaWeekLeft.)
func TestBrowserQuotaLeft(t *testing.T) {
	chromium, axe := browserNeeds(t)
	const line = "  # quota_per_week: 6h   # booked hours in one week (Monday to Sunday)\n"
	demo := string(config.DemoYAML())
	if !strings.Contains(demo, line) {
		t.Fatal("the demo's commented quota line moved: cannot turn it on")
	}
	cfg := filepath.Join(t.TempDir(), "roomcal.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(demo, line, "  quota_per_week: 4h\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeWith(t, map[string]string{"ROOMCAL_CONFIG": cfg})
	amina := openBrowser(t, chromium, 90*time.Second)
	amina.login(t, base, "Amina Diallo", "/sites/nantes")
	amina.waitText(t, "#day [data-quota]", "Il vous reste 4 h cette semaine à Nantes — Île de Nantes.")
	amina.check(t, axe, "k1-quota")

	// An open hour left this week (Nantes: 08:00–20:00 on weekdays,
	// 09:00–13:00 on Saturdays, the demo's year-end closure), starting
	// at least 20 minutes from now: book it and read 3 h.
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	start := time.Date(now.Year(), now.Month(), now.Day(), now.Hour()+1, 0, 0, 0, paris)
	if start.Sub(now) < 20*time.Minute {
		start = start.Add(time.Hour)
	}
	open := func(s time.Time) bool {
		if (s.Month() == time.December && s.Day() >= 24) || (s.Month() == time.January && s.Day() == 1) {
			return false
		}
		switch s.Weekday() {
		case time.Sunday:
			return false
		case time.Saturday:
			return s.Hour() >= 9 && s.Hour() < 12
		}
		return s.Hour() >= 8 && s.Hour() < 19
	}
	weekEnd := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, paris).AddDate(0, 0, 1)
	for weekEnd.Weekday() != time.Monday {
		weekEnd = weekEnd.AddDate(0, 0, 1)
	}
	for start.Before(weekEnd) && !open(start) {
		start = start.Add(time.Hour)
	}
	if !start.Before(weekEnd) {
		t.Logf("no open hour left in Nantes this week (now %s): only the full quota was checked", now.Format(time.RFC3339))
	} else {
		code, body := apiPost(t, base+"/api/v1/bookings", map[string]string{"X-Remote-User": "dev:amina-diallo", "X-Remote-Name": "Amina Diallo"},
			map[string]any{"room": "nantes-loire", "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339), "title": "Point d'équipe"})
		if code != http.StatusCreated {
			t.Fatalf("amina books %s: %d %s", start, code, body)
		}
		amina.do(t, "reload", chromedp.Reload())
		amina.waitText(t, "#day [data-quota]", "Il vous reste 3 h cette semaine à Nantes — Île de Nantes.")
	}

	amina.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	amina.waitText(t, "#day [data-quota]", "cette semaine à Nantes — Île de Nantes.")
	width, err := chromedp.Run(amina.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 360 {
		t.Errorf("the day page is %d px wide on a 360 px screen (%v)", width, err)
	}
	amina.check(t, axe, "k2-quota-360px")
}
