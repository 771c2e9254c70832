package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// feedServer is a server on the embedded store with a booking in
// loire, an external event in it, and an internal event.
func feedServer(t *testing.T) (srv string, stop func()) {
	t.Helper()
	ctx := context.Background()
	cat := testCatalog(t)
	store, err := caldav.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"loire", "erdre", "estuaire", "evenements", "jetons"} {
		if err := store.CreateCalendar(ctx, r, r); err != nil {
			t.Fatal(err)
		}
	}
	rc := caldav.NewRoomCalendars(store, nil)
	bk, err := booking.NewService(booking.Options{Catalog: cat, Calendar: rc, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: rc})
	if err != nil {
		t.Fatal(err)
	}
	zone := func(string) *time.Location { return cat.Zone("loire") }
	ev, err := events.NewService(events.Options{
		Calendar: caldav.NewEventCalendar(store, "evenements", zone, nil),
		Gate:     redisgate.NewEventGate(gatetest.Embedded(t).Client()), Rooms: bk, Zone: zone,
	})
	if err != nil {
		t.Fatal(err)
	}
	paris := cat.Zone("loire")
	day := time.Now().In(paris).AddDate(0, 0, 14)
	monday := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, paris)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	amina := booking.Member{ID: "amina", Name: "Amina"}
	if _, err := bk.Book(ctx, amina, booking.Request{Room: "loire", Start: monday, End: monday.Add(time.Hour), Title: "Entretien confidentiel ; RH"}); err != nil {
		t.Fatal(err)
	}
	ext := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:ext-1\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Réunion privée\r\n" +
		"DTSTART;TZID=Europe/Paris:" + monday.Add(3*time.Hour).Format("20060102T150405") + "\r\nDTEND;TZID=Europe/Paris:" + monday.Add(4*time.Hour).Format("20060102T150405") +
		"\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	if _, err := store.Create(ctx, "loire", "ext-1.ics", ext); err != nil {
		t.Fatal(err)
	}
	if err := bk.SyncRoom(ctx, "loire"); err != nil {
		t.Fatal(err)
	}
	orga := booking.Member{ID: "odile", Name: "Odile", Groups: []string{"organisers"}}
	if _, err := bk.Book(ctx, orga, booking.Request{Room: "erdre", Start: monday.AddDate(0, 0, 1), End: monday.AddDate(0, 0, 1).Add(time.Hour), Title: "Préparation AG"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Create(ctx, orga, events.Request{Title: "Assemblée générale, 2027", Start: monday.AddDate(0, 0, 2), End: monday.AddDate(0, 0, 2).Add(2 * time.Hour),
		Location: "Hangar", Capacity: 80, Waitlist: true}); err != nil {
		t.Fatal(err)
	}
	list, err := ev.List(ctx, time.Now(), time.Now().AddDate(0, 2, 0))
	if err != nil || len(list) != 1 {
		t.Fatalf("events: %v %v", list, err)
	}
	if _, _, err := ev.Register(ctx, amina, list[0].Event.ID); err != nil {
		t.Fatal(err)
	}
	// An event in a room: its LOCATION names the room and its site.
	if _, err := ev.Create(ctx, orga, events.Request{Title: "Atelier vélo", Start: monday.AddDate(0, 0, 3), End: monday.AddDate(0, 0, 3).Add(time.Hour),
		Room: "estuaire", Capacity: 10}); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{Catalog: cat, Bookings: bk, Events: ev, AuthMode: AuthDev,
		Feeds: caldav.FeedEncoder{}, FeedTokens: caldav.NewFeedTokens(store, "jetons")})
	return ts.URL, ts.Close
}

func TestFeeds(t *testing.T) {
	srv, stop := feedServer(t)
	defer stop()
	tests := []struct {
		path     string
		events   int
		want     []string
		mustNot  []string
		tzNeeded bool
	}{
		{"/feeds/rooms/loire.ics", 4, []string{"SUMMARY:Occupé", "X-WR-CALNAME:Salle Loire — Nantes"}, []string{"Entretien", "Réunion privée"}, true},
		{"/feeds/sites/nantes.ics", 5, []string{"SUMMARY:Occupé — Salle Loire"}, []string{"Entretien", "Réunion privée"}, true},
		{"/feeds/events.ics", 2, []string{"LOCATION:Hangar", "LOCATION:Estuaire\\, Saint-Nazaire", "SUMMARY:Assemblée générale\\, 2027", "Places restantes : 79 sur 80.\\nInscription : " + srv + "/evenements/ev_"}, []string{"ATTENDEE"}, true},
		{"/feeds/rooms/estuaire.ics", 1, []string{"X-WR-CALNAME:Estuaire — Saint-Nazaire", "SUMMARY:Occupé"}, []string{"Atelier vélo"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, "GET", srv+tt.path, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			text := strings.ReplaceAll(string(body), "\r\n ", "")
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("feed lacks %q", w)
				}
			}
			for _, w := range tt.mustNot {
				if strings.Contains(text, w) {
					t.Errorf("feed shows %q", w)
				}
			}
			got := pythonEvents(t, body)
			if got.events != tt.events {
				t.Errorf("python3-icalendar reads %d events, want %d", got.events, tt.events)
			}
			if tt.tzNeeded && !got.allTZIDsHaveVTimezone {
				t.Errorf("a TZID without its VTIMEZONE")
			}

			// Conditional GET.
			etag := resp.Header.Get("ETag")
			req, _ := http.NewRequest("GET", srv+tt.path, nil)
			req.Header.Set("If-None-Match", etag)
			r2, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r2.Body.Close()
			if etag == "" || r2.StatusCode != http.StatusNotModified {
				t.Fatalf("If-None-Match %s: %d", etag, r2.StatusCode)
			}
		})
	}
	if resp, _ := do(t, "GET", srv+"/feeds/rooms/nowhere.ics", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown room feed: %d", resp.StatusCode)
	}
}

type feedReading struct {
	events                int
	allTZIDsHaveVTimezone bool
}

// pythonEvents reads a feed with Debian's python3-icalendar, a parser
// roomcal does not use, and counts its VEVENTs and checks that every
// TZID has its VTIMEZONE.
func pythonEvents(t *testing.T, body []byte) feedReading {
	t.Helper()
	const script = `
import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
tzs = {str(c['TZID']) for c in cal.walk('VTIMEZONE')}
used = set()
n = 0
for ev in cal.walk('VEVENT'):
    n += 1
    for p in ('DTSTART', 'DTEND'):
        if p in ev and 'TZID' in ev[p].params:
            used.add(str(ev[p].params['TZID']))
    ev.decoded('DTSTART')
print(n, int(used <= tzs))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar cannot read the feed (apt-get install python3-icalendar): %v\n%s", err, out)
	}
	var r feedReading
	var ok int
	if _, err := fmt.Sscan(string(out), &r.events, &ok); err != nil {
		t.Fatalf("python says %q", out)
	}
	r.allTZIDsHaveVTimezone = ok == 1
	return r
}

// TestPersonalFeed: a member's token gives a feed of their own bookings
// (with titles) and registrations, nobody else's; a new token revokes the
// old one, and a revoked token gives 404.
func TestPersonalFeed(t *testing.T) {
	srv, stop := feedServer(t)
	defer stop()
	// linkState is GET /api/v1/me/feed: whether a link exists, since when.
	linkState := func() (bool, time.Time) {
		t.Helper()
		resp, body := do(t, "GET", srv+"/api/v1/me/feed", nil)
		var st struct {
			Exists    bool   `json:"exists"`
			CreatedAt string `json:"created_at"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &st) != nil {
			t.Fatalf("link state: %d %s", resp.StatusCode, body)
		}
		at, _ := time.Parse(time.RFC3339, st.CreatedAt)
		return st.Exists, at
	}
	if exists, at := linkState(); exists || !at.IsZero() {
		t.Fatalf("before any link: exists %v, made %v", exists, at)
	}
	before := time.Now().Add(-time.Second)
	resp, body := do(t, "POST", srv+"/api/v1/me/feed", nil) // as amina
	var tok struct{ URL string }
	if resp.StatusCode != 201 || json.Unmarshal(body, &tok) != nil || !strings.Contains(tok.URL, "/feeds/me/") {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	if exists, at := linkState(); !exists || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("after making a link: exists %v, made %v", exists, at)
	}
	path := tok.URL[strings.Index(tok.URL, "/feeds/me/"):]
	feed, err := http.Get(srv + path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(feed.Body)
	feed.Body.Close()
	if cc := feed.Header.Get("Cache-Control"); cc != "private, max-age=60" {
		t.Errorf("personal feed Cache-Control %q, want private: no shared cache may keep it", cc)
	}
	text := strings.ReplaceAll(string(data), "\r\n ", "")
	if feed.StatusCode != 200 || !strings.Contains(text, `SUMMARY:Entretien confidentiel \; RH`) ||
		!strings.Contains(text, `SUMMARY:Assemblée générale\, 2027`) || strings.Contains(text, "Préparation AG") {
		t.Fatalf("personal feed: %d\n%s", feed.StatusCode, text)
	}
	if got := pythonEvents(t, data); got.events != 2 || !got.allTZIDsHaveVTimezone {
		t.Fatalf("python3-icalendar reads %+v", got)
	}

	resp, body = do(t, "POST", srv+"/api/v1/me/feed", nil)
	if resp.StatusCode != 201 {
		t.Fatalf("renew: %d %s", resp.StatusCode, body)
	}
	if r, _ := http.Get(srv + path); r == nil || r.StatusCode != 404 {
		t.Fatalf("the old token after renewal: %v", r)
	}
	_ = json.Unmarshal(body, &tok)
	path = tok.URL[strings.Index(tok.URL, "/feeds/me/"):]
	if resp, _ := do(t, "DELETE", srv+"/api/v1/me/feed", nil); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if r, _ := http.Get(srv + path); r == nil || r.StatusCode != 404 {
		t.Fatalf("a revoked token: %v", r)
	}
	if exists, at := linkState(); exists || !at.IsZero() {
		t.Fatalf("after removing the link: exists %v, made %v", exists, at)
	}
}
