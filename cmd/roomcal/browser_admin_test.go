package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The rooms administration page in a real browser: an admin creates a
// room with its hours, a closure and a rule, finds it in the members'
// API at once, edits it, meets another admin's change made meanwhile
// (409: the page says so and shows the room as it now is), types hours
// the page cannot read, retires the room (its booking ahead listed
// first; refused without a choice; cancelled with a reason), and does it
// again on a 360 px touch screen. Each step is checked with axe-core.
func TestBrowserAdminRooms(t *testing.T) {
	chromium, axe := browserNeeds(t)
	began := time.Now()
	base := startServe(t)
	ada := openBrowser(t, chromium, 90*time.Second)

	// A member who is not a room admin reads that the page is not for
	// them (and no nav link leads there).
	if code, body := httpGetAs(t, base+"/admin/salles", "mia", ""); code != 200 || !strings.Contains(body, "réservée aux administrateurs") || strings.Contains(body, `href="/admin/salles"`) {
		t.Fatalf("the page for a member: %d %s", code, body)
	}

	// 1. Sign in as an admin, straight to the page.
	ada.do(t, "login as an admin",
		chromedp.Navigate(base+"/admin/salles"),
		chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Ada Admin"),
		chromedp.Click("#g-admins"),
		chromedp.Submit("#name"),
		chromedp.WaitVisible("#admin"),
	)
	ada.waitText(t, "#ad-status", "salles.")
	ada.waitText(t, "#ad-list", "Salle Loire")
	ada.check(t, axe, "a1-admin-salles")

	// 2. A new room.
	ada.do(t, "new room form", chromedp.Click("#ad-new"), chromedp.WaitVisible("#ad-form"))
	ada.waitText(t, "#ad-form-h", "Nouvelle salle")
	ada.do(t, "fill the new room",
		chromedp.SendKeys("#ad-id", "atelier-verne"),
		chromedp.SetValue("#ad-site", "nantes"),
		chromedp.SendKeys("#ad-name", "Atelier Jules Verne"),
		chromedp.SetValue("#ad-capacity", "14"),
		chromedp.SendKeys("#ad-description", "Grande salle lumineuse"),
		chromedp.SendKeys("#ad-directions", "Bâtiment B, 2e étage"),
		chromedp.SendKeys("#ad-equipment", "vidéoprojecteur, tableau blanc"),
		chromedp.SendKeys("#ad-accessibility", "accès fauteuil"),
		chromedp.Click("#ad-always"),
		chromedp.WaitVisible("#ad-h-mon"),
		chromedp.SendKeys("#ad-h-mon", "09:00-12:00, 14:00-18:00"),
		chromedp.SendKeys("#ad-h-tue", "9h-17h"),
		chromedp.Click("#ad-add-closure"),
		chromedp.WaitVisible(".ad-closure input[data-key=from]"),
		chromedp.SetValue(".ad-closure input[data-key=from]", "2030-08-01"),
		chromedp.SetValue(".ad-closure input[data-key=to]", "2030-08-15"),
		chromedp.SendKeys(".ad-closure input[data-key=reason]", "Travaux"),
		chromedp.SetValue("#ad-max-duration", "120"),
		chromedp.SendKeys("#ad-approvers", "accueil-nantes"),
		chromedp.SetValue("#ad-quota-scope", "room"),
		chromedp.SetValue("#ad-quota-week", "6"),
	)
	ada.check(t, axe, "a2-admin-nouvelle-salle")
	ada.do(t, "save the new room", chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-status", "La salle « Atelier Jules Verne » est enregistrée.")
	ada.waitText(t, "#ad-list", "Atelier Jules Verne — Nantes")

	// Members see it at once, with what the admin wrote.
	var room struct {
		Name          string              `json:"name"`
		Capacity      int                 `json:"capacity"`
		Description   string              `json:"description"`
		Accessibility []string            `json:"accessibility"`
		Hours         map[string][]any    `json:"opening_hours"`
		Closures      []map[string]string `json:"closures"`
		Rules         struct {
			MaxDuration int `json:"max_duration_minutes"`
		} `json:"rules"`
	}
	code, body := httpGetAs(t, base+"/api/v1/rooms/atelier-verne", "mia", "")
	if err := json.Unmarshal([]byte(body), &room); code != 200 || err != nil {
		t.Fatalf("the new room for members: %d %s", code, body)
	}
	if room.Capacity != 14 || room.Description != "Grande salle lumineuse" || len(room.Accessibility) != 1 ||
		len(room.Hours["mon"]) != 2 || len(room.Hours["tue"]) != 1 || len(room.Hours["wed"]) != 0 ||
		len(room.Closures) != 1 || room.Closures[0]["reason"] != "Travaux" || room.Rules.MaxDuration != 120 {
		t.Fatalf("the new room as members read it: %s", body)
	}

	_, body = httpGetAs(t, base+"/api/v1/admin/rooms/atelier-verne", "bob", "admins")
	if !strings.Contains(body, `"approvers":["accueil-nantes"]`) || !strings.Contains(body, `"scope":"room","per_week_minutes":360`) {
		t.Errorf("approval and quota as the admin set them: %s", body)
	}

	// 3. Edit it: the history says who created it.
	ada.do(t, "edit the room", chromedp.Click(`#ad-list button[aria-label="Modifier la salle Atelier Jules Verne"]`), chromedp.WaitVisible("#ad-form"))
	ada.waitText(t, "#ad-form-h", "Modifier la salle Atelier Jules Verne")
	ada.waitText(t, "#ad-history", "Ada Admin : salle créée")
	ada.do(t, "change the capacity", chromedp.SetValue("#ad-capacity", "16"), chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-status", "est enregistrée")

	// 3b. Import the room's past calendar: a dry run first, then the
	// import; the history says so.
	ics := filepath.Join(t.TempDir(), "salle.ics")
	start := bookingDay().AddDate(0, 0, 1).UTC()
	export := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:rdv-1@example.org\r\nDTSTAMP:20261101T090000Z\r\nSUMMARY:Rendez-vous\r\n" +
		"DTSTART:" + start.Add(9*time.Hour).Format("20060102T150405Z") + "\r\nDTEND:" + start.Add(10*time.Hour).Format("20060102T150405Z") +
		"\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:bad@example.org\r\nDTSTAMP:20261101T090000Z\r\nSUMMARY:Sans début\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(ics, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	ada.do(t, "edit for the import", chromedp.Click(`#ad-list button[aria-label="Modifier la salle Atelier Jules Verne"]`), chromedp.WaitVisible("#ad-import-file"))
	ada.do(t, "choose the file", chromedp.SetUploadFiles("#ad-import-file", []string{ics}), chromedp.Click("#ad-import-dry"))
	ada.waitText(t, "#ad-import-result", "1 entrée serait importée.")
	ada.waitText(t, "#ad-import-result", "1 entrée illisible.")
	ada.check(t, axe, "a2b-admin-import-essai")
	ada.do(t, "import", chromedp.Click("#ad-import-go"))
	ada.waitText(t, "#ad-import-result", "1 entrée importée.")
	ada.waitText(t, "#ad-history", "agenda importé")
	ada.do(t, "import again", chromedp.Click("#ad-import-go"))
	ada.waitText(t, "#ad-import-result", "1 entrée déjà dans l'agenda.")
	ada.do(t, "close", chromedp.Click("#ad-cancel"))

	// 4. Another admin changes it while Ada has it open.
	ada.do(t, "edit again", chromedp.Click(`#ad-list button[aria-label="Modifier la salle Atelier Jules Verne"]`), chromedp.WaitVisible("#ad-form"))
	ada.waitText(t, "#ad-history", "capacity: 14 → 16")
	var cur map[string]any
	_, body = httpGetAs(t, base+"/api/v1/admin/rooms/atelier-verne", "bob", "admins")
	if err := json.Unmarshal([]byte(body), &cur); err != nil {
		t.Fatal(err)
	}
	delete(cur, "audit")
	delete(cur, "id")
	cur["name"] = "Atelier Verne"
	if code, body := httpPutAs(t, base+"/api/v1/admin/rooms/atelier-verne", "bob", "admins", cur); code != 200 {
		t.Fatalf("Bob's change: %d %s", code, body)
	}
	ada.do(t, "Ada saves over it", chromedp.SetValue("#ad-capacity", "18"), chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-error", "Quelqu'un d'autre vient de modifier cette salle")
	ada.waitText(t, "#ad-error", "Voici la salle telle qu'elle est maintenant")
	ada.waitText(t, "#ad-form-h", "Modifier la salle Atelier Verne")
	ada.check(t, axe, "a3-admin-conflit", "status of 409")

	// 5. Hours the page cannot read: said in words, nothing sent.
	ada.do(t, "bad hours", chromedp.SetValue("#ad-h-wed", "le matin"), chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-error", "Mercredi : « le matin » n'est pas une plage")
	if _, err := chromedp.Run(ada.ctx, chromedp.Evaluate[bool](`(document.getElementById("ad-h-wed").value = "") === ""`)); err != nil {
		t.Fatalf("clear the hours: %v", err)
	}

	// 6. Retire it. Mia has a booking ahead there: the page lists it
	// first and asks; saved without choosing, the room is not retired
	// (409) and the page says why; "keep it in service" unticks; then
	// Ada cancels it with a reason, and the room is retired.
	miaBooks(t, base, "atelier-verne", 1, "Atelier tricot")
	ada.do(t, "tick retired", chromedp.Click("#ad-retired"))
	ada.waitText(t, "#ad-future-text", "Cette salle a encore 1 réservation à venir (le ")
	ada.waitText(t, "#ad-future-list", "« Atelier tricot », réservée par mia (demande en attente de validation)")
	ada.waitText(t, "#ad-cancel-future-text", "Annuler cette réservation et retirer la salle")
	ada.check(t, axe, "a4a-admin-retrait-reservations")
	ada.do(t, "save without choosing", chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-error", "Cette salle a encore 1 réservation à venir")
	ada.waitText(t, "#ad-error", "elle n'est pas retirée")
	if _, body := httpGetAs(t, base+"/api/v1/admin/rooms/atelier-verne", "bob", "admins"); !strings.Contains(body, `"retired":false`) {
		t.Fatalf("the room after a retirement refused for its booking ahead: %s", body)
	}
	ada.do(t, "keep it in service", chromedp.Click("#ad-keep"))
	if hidden, err := chromedp.Run(ada.ctx, chromedp.Evaluate[bool](`document.getElementById("ad-future").hidden && !document.getElementById("ad-retired").checked && document.activeElement.id === "ad-retired"`)); err != nil || !hidden {
		t.Errorf("after keeping the room in service: panel hidden, box unticked, focus on it: %v %v", hidden, err)
	}
	ada.do(t, "retire, cancelling the booking",
		chromedp.Click("#ad-retired"),
		chromedp.WaitVisible("#ad-cancel-future"),
		chromedp.Click("#ad-cancel-future"),
		chromedp.SendKeys("#ad-cancel-reason", "La salle ferme pour travaux."),
		chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-status", "La salle « Atelier Verne » est retirée du service ; 1 réservation annulée, son auteur·rice est prévenu·e.")
	ada.waitText(t, "#ad-list", "(retirée)")
	if _, body := httpGetAs(t, base+"/api/v1/bookings?mine=true", "mia", ""); strings.Contains(body, "atelier-verne") {
		t.Errorf("mia's booking in the retired room is still there: %s", body)
	}
	if _, body := httpGetAs(t, base+"/api/v1/rooms?site=nantes", "mia", ""); strings.Contains(body, "atelier-verne") {
		t.Errorf("a retired room is still listed for members: %s", body)
	}
	ada.check(t, axe, "a4-admin-retiree", "status of 409")

	// 7. On a phone, 360 px with touch: the list and the form fit the
	// width, and tapping works.
	ada.do(t, "a phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Reload())
	ada.waitText(t, "#ad-list", "(retirée)")
	ada.do(t, "tap edit", chromedp.Click(`#ad-list button[aria-label="Modifier la salle Atelier Verne"]`), chromedp.WaitVisible("#ad-form"))
	ada.waitText(t, "#ad-history", "salle retirée du service")
	width, err := chromedp.Run(ada.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 360 {
		t.Errorf("the page is %d px wide on a 360 px screen (%v)", width, err)
	}
	ada.check(t, axe, "a5-admin-360px")
	ada.do(t, "put it back in service", chromedp.Click("#ad-retired"), chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-status", "est enregistrée")
	if _, body := httpGetAs(t, base+"/api/v1/rooms?site=nantes", "mia", ""); !strings.Contains(body, "atelier-verne") {
		t.Errorf("the room back in service is not listed: %s", body)
	}

	// 8. Retiring on the phone: the booking ahead shown, fitting the
	// width, cancelled with a reason by tapping.
	miaBooks(t, base, "atelier-verne", 2, "Atelier couture")
	ada.do(t, "tap edit again", chromedp.Click(`#ad-list button[aria-label="Modifier la salle Atelier Verne"]`), chromedp.WaitVisible("#ad-form"))
	ada.do(t, "tap retired", chromedp.Click("#ad-retired"))
	ada.waitText(t, "#ad-future-list", "« Atelier couture », réservée par mia")
	width, err = chromedp.Run(ada.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 360 {
		t.Errorf("the retirement's list is %d px wide on a 360 px screen (%v)", width, err)
	}
	ada.check(t, axe, "a6-admin-retrait-360px")
	ada.do(t, "tap cancel and save",
		chromedp.Click("#ad-cancel-future"),
		chromedp.SendKeys("#ad-cancel-reason", "Salle fermée."),
		chromedp.Click("#ad-save"))
	ada.waitText(t, "#ad-status", "1 réservation annulée")
	ada.waitText(t, "#ad-list", "(retirée)")
	t.Logf("admin browser test took %s", time.Since(began).Round(time.Millisecond))
}

// miaBooks books room for Mia outside the browser, on the Tuesday
// weeks weeks after bookingDay's week, 10:00–11:00 in Paris.
func miaBooks(t *testing.T, base, room string, weeks int, title string) {
	t.Helper()
	d := bookingDay()
	for d.Weekday() != time.Tuesday {
		d = d.AddDate(0, 0, 1)
	}
	d = d.AddDate(0, 0, 7*(weeks-1))
	start := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, d.Location())
	code, body := httpAs(t, http.MethodPost, base+"/api/v1/bookings", "mia", "", map[string]any{
		"room": room, "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339), "title": title,
	})
	if code != 201 {
		t.Fatalf("mia books %s: %d %s", room, code, body)
	}
}

// httpGetAs fetches url outside the browser as a member (dev mode takes
// identity headers from loopback).
func httpGetAs(t *testing.T, url, user, groups string) (int, string) {
	t.Helper()
	return httpAs(t, http.MethodGet, url, user, groups, nil)
}

func httpPutAs(t *testing.T, url, user, groups string, body any) (int, string) {
	t.Helper()
	return httpAs(t, http.MethodPut, url, user, groups, body)
}

func httpAs(t *testing.T, method, url, user, groups string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("X-Remote-User", user)
	req.Header.Set("X-Remote-Groups", groups)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}
