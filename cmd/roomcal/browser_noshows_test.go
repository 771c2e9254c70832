package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/testenv"
)

// Repeated no-shows, counted for admins on the rooms administration
// page: the demo over Radicale, its Bulle asking for a check-in; the
// calendar holds bookings released for want of one (as the sweep leaves
// them, X-ROOMCAL-RELEASED): two of Bruno's, one of Chloé's, and one of
// Amina's checked in, which is no no-show. The admin reads Bruno first,
// twice, then Chloé, at 1280 px and on a 360 px touch screen (axe-core
// clean); a site admin, who administers rooms but not the count over
// every site, has no such section.
func TestBrowserNoShows(t *testing.T) {
	chromium, axe := browserNeeds(t)
	yaml := strings.Replace(string(config.DemoYAML()), "        rules:\n          max_duration: 2h\n",
		"        rules:\n          max_duration: 2h\n          checkin_within: 15m\n", 1)
	if !strings.Contains(yaml, "checkin_within: 15m") {
		t.Fatal("the demo's Bulle rules moved: cannot ask for a check-in")
	}
	cfg := filepath.Join(t.TempDir(), "roomcal.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, store := onRadicale(t, map[string]string{"ROOMCAL_CONFIG": cfg})
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	for i, b := range []struct {
		who, name, prop string
		daysAgo         int
	}{{"bruno", "Bruno Martin", "X-ROOMCAL-RELEASED", 3}, {"bruno", "Bruno Martin", "X-ROOMCAL-RELEASED", 10}, {"chloe", "", "X-ROOMCAL-RELEASED", 5},
		{"dev:amina-diallo", "Amina Diallo", "X-ROOMCAL-CHECKED-IN", 4}} {
		start := time.Now().AddDate(0, 0, -b.daysAgo).Truncate(time.Hour)
		id := fmt.Sprintf("nantes-bulle_past%d%s", i, strings.ToLower(testenv.RandomID()))
		ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + id + "\r\nDTSTAMP:" + stamp(start) +
			"\r\nDTSTART:" + stamp(start) + "\r\nDTEND:" + stamp(start.Add(20*time.Minute)) + "\r\nSUMMARY:Entretien\r\nSTATUS:CONFIRMED\r\nX-ROOMCAL-KIND:booking\r\n" +
			"X-ROOMCAL-ORGANIZER-ID:" + b.who + "\r\nX-ROOMCAL-ORGANIZER-NAME:" + b.name + "\r\n" + b.prop + ":" + stamp(start.Add(15*time.Minute)) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if _, err := store.Create(context.Background(), "nantes-bulle", caldav.ObjectName(id), []byte(ics)); err != nil {
			t.Fatal(err)
		}
	}
	base := startServeWith(t, vars)
	if code, body := httpGetAs(t, base+"/admin/salles", "nina", "admins-nantes"); code != 200 || strings.Contains(body, "ad-noshows") {
		t.Errorf("a site admin's page: %d, shows the no-shows section: %v", code, strings.Contains(body, "ad-noshows"))
	}

	ada := openBrowser(t, chromium, 90*time.Second)
	ada.do(t, "login as an admin",
		chromedp.Navigate(base+"/admin/salles"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Ada Admin"),
		chromedp.Click("#g-admins"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("#admin"),
	)
	ada.waitText(t, "#ad-noshows-status", "2 membres ont des réservations non confirmées.")
	// By name; by member id when the booking records none (Chloé's).
	list := ada.waitText(t, "#ad-noshows", "Bruno Martin : 2 réservations non confirmées, la dernière le ")
	if !strings.Contains(list, "chloe : 1 réservation non confirmée, le ") || strings.Index(list, "Bruno") > strings.Index(list, "chloe") || strings.Contains(list, "Amina") {
		t.Errorf("the no-shows as listed: %q, want Bruno (twice) before Chloé, not Amina", list)
	}
	ada.check(t, axe, "n1-absences")
	ada.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	ada.waitText(t, "#ad-noshows", "Bruno Martin : 2 réservations non confirmées")
	width, err := chromedp.Run(ada.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 360 {
		t.Errorf("the page is %d px wide on a 360 px screen (%v)", width, err)
	}
	ada.check(t, axe, "n2-absences-360px")
}
