package main

// Import of a room's past calendar (issue 15, item 5), through the HTTP
// API against Radicale and Redis.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/testenv"
)

type importEntry struct {
	UID  string `json:"uid"`
	With []struct {
		Kind string `json:"kind"`
	} `json:"with"`
}

type importReport struct {
	DryRun     bool          `json:"dry_run"`
	Imported   []importEntry `json:"imported"`
	Existing   []importEntry `json:"existing"`
	Clashes    []importEntry `json:"clashes"`
	Unreadable []struct {
		UID    string `json:"uid"`
		Reason string `json:"reason"`
	} `json:"unreadable"`
}

func uids(xs []importEntry) string {
	var out []string
	for _, x := range xs {
		out = append(out, x.UID)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (r importReport) summary() string {
	var bad []importEntry
	for _, u := range r.Unreadable {
		bad = append(bad, importEntry{UID: u.UID})
	}
	return fmt.Sprintf("imported [%s] existing [%s] clashes [%s] unreadable [%s]", uids(r.Imported), uids(r.Existing), uids(r.Clashes), uids(bad))
}

// exportOf writes an export of a room calendar as Nextcloud gives it:
// a booking 3 days ahead at 10:00 that clashes with one made through
// roomcal, one at 15:00 that does not, a weekly series, an Appointments
// booking with an attendee, one from last year, a cancelled one, and one
// without DTSTART.
func exportOf(day time.Time) string {
	at := func(d, h int) string {
		return day.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour).UTC().Format("20060102T150405Z")
	}
	ev := func(uid, summary, extra string) string {
		return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T090000Z\r\nSUMMARY:" + summary + "\r\n" + extra + "END:VEVENT\r\n"
	}
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sabre//Sabre VObject 4.5.6//EN\r\n" +
		ev("clash@example.org", "Réunion posée à la main", "DTSTART:"+at(3, 10)+"\r\nDTEND:"+at(3, 11)+"\r\n") +
		ev("free@example.org", "Atelier", "DTSTART:"+at(3, 15)+"\r\nDTEND:"+at(3, 16)+"\r\n") +
		ev("weekly@example.org", "Permanence", "DTSTART:"+at(4, 8)+"\r\nDTEND:"+at(4, 9)+"\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n") +
		ev("appointment-7f3a@example.org", "Rendez-vous : Léa Martin", "DTSTART:"+at(5, 9)+"\r\nDTEND:"+at(5, 10)+"\r\n"+
			"ORGANIZER;CN=Accueil:mailto:accueil@example.org\r\nATTENDEE;CN=Léa Martin;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:lea@example.org\r\n") +
		ev("last-year@example.org", "AG 2025", "DTSTART:20251115T090000Z\r\nDTEND:20251115T120000Z\r\n") +
		ev("cancelled@example.org", "Annulé", "DTSTART:"+at(6, 10)+"\r\nDTEND:"+at(6, 11)+"\r\nSTATUS:CANCELLED\r\n") +
		ev("no-start@example.org", "Sans début", "DTEND:"+at(6, 12)+"\r\n") +
		"END:VCALENDAR\r\n"
}

// TestImportRoomCalendar: a dry run lists what would be imported, what
// clashes and what cannot be read, and writes nothing; the import keeps
// UIDs, skips the clash, mails no one (SCHEDULE-AGENT=CLIENT), and is
// idempotent; imported entries hold their slots against new bookings;
// two imports of one file at once on two replicas add every entry once.
func TestImportRoomCalendar(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.RedisURL(t))
	x, _ := newAdminInstance(t, b, time.Hour)
	y, _ := newAdminInstance(t, b, time.Hour)
	d := time.Now().In(paris)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, paris)
	// A booking through roomcal at 10:00 three days ahead (loire is
	// open around the clock, without rules).
	if a := x.book(t, "mia", "loire", day.AddDate(0, 0, 3).Add(10*time.Hour), day.AddDate(0, 0, 3).Add(11*time.Hour)); a.status != 201 {
		t.Fatalf("mia's booking: %d %s", a.status, a.body)
	}
	ics := exportOf(day)
	objects := func() int {
		ch, err := b.store.Changes(context.Background(), "loire", "")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range ch.Changed {
			if o.Name != booking.SettingsRef+".ics" { // the import is noted in the room's record
				n++
			}
		}
		return n
	}
	before := objects()

	post := func(in *instance, dry bool) importReport {
		a := in.as(t, roomAdmin, "POST", "/api/v1/admin/rooms/loire/import", map[string]any{"ics": ics, "dry_run": dry}, "")
		if a.status != 200 {
			t.Fatalf("import (dry %v): %d %s", dry, a.status, a.body)
		}
		var r importReport
		if err := json.Unmarshal(a.body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	const readable = "appointment-7f3a@example.org,cancelled@example.org,free@example.org,last-year@example.org,weekly@example.org"
	want := "imported [" + readable + "] existing [] clashes [clash@example.org] unreadable [no-start@example.org]"
	dry := post(x, true)
	if got := dry.summary(); got != want || !dry.DryRun {
		t.Fatalf("dry run:\n got  %s\n want %s", got, want)
	}
	if len(dry.Clashes[0].With) != 1 || dry.Clashes[0].With[0].Kind != "booking" {
		t.Errorf("the clash is with %+v, want mia's booking", dry.Clashes[0].With)
	}
	if n := objects(); n != before {
		t.Fatalf("a dry run wrote: %d objects, were %d", n, before)
	}

	done := post(x, false)
	if got := done.summary(); got != want {
		t.Fatalf("import:\n got  %s\n want %s", got, want)
	}
	if n := objects(); n != before+5 {
		t.Fatalf("%d objects after the import, want %d", n, before+5)
	}
	obj, err := b.store.Get(context.Background(), "loire", caldav.ObjectName("appointment-7f3a@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(obj.Data), "\r\n ", ""), "\r\n") {
		if (strings.HasPrefix(line, "ATTENDEE") || strings.HasPrefix(line, "ORGANIZER")) && !strings.Contains(line, "SCHEDULE-AGENT=CLIENT") {
			t.Errorf("imported %q would make Nextcloud mail someone", line)
		}
	}
	if !strings.Contains(string(obj.Data), "UID:appointment-7f3a@example.org") {
		t.Errorf("the UID was not kept:\n%s", obj.Data)
	}

	// Again, on the other replica: nothing added.
	again := post(y, false)
	wantAgain := "imported [] existing [" + readable + "] clashes [clash@example.org] unreadable [no-start@example.org]"
	if got := again.summary(); got != wantAgain {
		t.Fatalf("second import:\n got  %s\n want %s", got, wantAgain)
	}
	if n := objects(); n != before+5 {
		t.Fatalf("%d objects after the second import, want %d", n, before+5)
	}

	// Imported entries hold their slots: the 15:00 and the second week
	// of the series.
	if a := y.book(t, "sam", "loire", day.AddDate(0, 0, 3).Add(15*time.Hour), day.AddDate(0, 0, 3).Add(16*time.Hour)); a.status != 409 {
		t.Errorf("booking over an imported entry: %d %s", a.status, a.body)
	}
	if a := y.book(t, "sam", "loire", day.AddDate(0, 0, 11).Add(8*time.Hour), day.AddDate(0, 0, 11).Add(9*time.Hour)); a.status != 409 {
		t.Errorf("booking over an imported series: %d %s", a.status, a.body)
	}
	// The import is in the room's history.
	got := decodeAs[adminRoom](t, x.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/loire", nil, ""))
	if len(got.Audit) == 0 || got.Audit[0].Action != "imported" || got.Audit[0].Changes[0] != "imported: 5" {
		t.Errorf("history after the import: %+v", got.Audit)
	}

	// The fixture export of a Nextcloud room calendar, into another room,
	// by two replicas at once: every entry once.
	fixture, err := os.ReadFile("/work/shared/fixtures/ical/room-calendar-nextcloud-export.ics")
	if err != nil {
		fixture, err = os.ReadFile("../../caldav/testdata/room-calendar-nextcloud-export.ics")
	}
	if err != nil {
		t.Fatal(err)
	}
	ics = string(fixture)
	var wg sync.WaitGroup
	reports := make([]importReport, 2)
	for i, in := range []*instance{x, y} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := in.as(t, roomAdmin, "POST", "/api/v1/admin/rooms/erdre/import", map[string]any{"ics": ics}, "")
			if a.status != 200 {
				t.Errorf("import %d: %d %s", i, a.status, a.body)
				return
			}
			_ = json.Unmarshal(a.body, &reports[i])
		}()
	}
	wg.Wait()
	ch, err := b.store.Changes(context.Background(), "erdre", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changed) != 8 { // 7 entries and the room's record (the import noted)
		t.Errorf("erdre holds %d objects after two imports of 7 entries at once", len(ch.Changed))
	}
	for i, r := range reports {
		if len(r.Unreadable) != 0 {
			t.Errorf("import %d could not read %+v", i, r.Unreadable)
		}
	}
	if n := len(reports[0].Imported) + len(reports[1].Imported); n != 7 {
		t.Errorf("%d entries reported imported by the two imports, want 7: %s / %s", n, reports[0].summary(), reports[1].summary())
	}
}

// TestImportKeepsDeclaredRoom: an import into a room that the pages
// never edited (declared in roomcal.yaml only) keeps its history in the
// room's record without freezing its settings: a replica started with
// an edited roomcal.yaml has the room as the file now says, with the
// import in its history; the first save in the pages then makes the
// record whole, from the file's values.
func TestImportKeepsDeclaredRoom(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.RedisURL(t))
	x, xcat := newAdminInstance(t, b, time.Hour)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sabre//Sabre VObject 4.5.6//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:ag-2025@example.org\r\nDTSTAMP:20251101T090000Z\r\nSUMMARY:AG 2025\r\n" +
		"DTSTART:20251115T090000Z\r\nDTEND:20251115T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if a := x.as(t, roomAdmin, "POST", "/api/v1/admin/rooms/loire/import", map[string]any{"ics": ics}, ""); a.status != 200 {
		t.Fatalf("import: %d %s", a.status, a.body)
	}
	st, _, err := caldav.NewRoomSettingsStore(b.store, nil).ReadSettings(context.Background(), "loire")
	if err != nil || !st.Declared || st.Revision != 1 || len(st.Audit) != 1 || st.Audit[0].Action != "imported" {
		t.Fatalf("loire's record after the import: %+v, %v; want a history-only record with the import", st, err)
	}
	if r, _ := xcat.Room("loire"); r.Capacity != 12 || r.Name != "Salle Loire" {
		t.Errorf("loire on the importing replica: %+v, want as declared", r)
	}

	// roomcal.yaml edited: a replica started with it has loire as the
	// file says, and the import in its history.
	edited := func(rooms []booking.Room) {
		for i := range rooms {
			if rooms[i].ID == "loire" {
				rooms[i].Capacity, rooms[i].Name = 30, "Salle Loire rénovée"
				rooms[i].Equipment = []string{"visio"}
			}
		}
	}
	y, ycat := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, rooms: edited})
	if r, _ := ycat.Room("loire"); r.Capacity != 30 || r.Name != "Salle Loire rénovée" {
		t.Fatalf("loire on a replica of the edited roomcal.yaml: %+v, want capacity 30 as the file now says", r)
	}
	got := decodeAs[adminRoom](t, y.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/loire", nil, ""))
	if got.Capacity != 30 || got.Revision != 1 || len(got.Audit) != 1 || got.Audit[0].Action != "imported" {
		t.Fatalf("loire in the admin page of that replica: %+v", got)
	}
	// A second import keeps it history-only.
	again := strings.Replace(ics, "ag-2025@", "ag-2024@", 1)
	if a := y.as(t, roomAdmin, "POST", "/api/v1/admin/rooms/loire/import", map[string]any{"ics": again}, ""); a.status != 200 {
		t.Fatalf("second import: %d %s", a.status, a.body)
	}
	if st, _, err := caldav.NewRoomSettingsStore(b.store, nil).ReadSettings(context.Background(), "loire"); err != nil || !st.Declared || st.Revision != 2 {
		t.Fatalf("loire's record after a second import: %+v, %v", st, err)
	}
	if r, _ := ycat.Room("loire"); r.Capacity != 30 {
		t.Errorf("loire after the second import: capacity %d, want 30", r.Capacity)
	}

	// The first save in the pages: a whole record, from what the page
	// sent over the file's values, the history kept.
	body := map[string]any{"id": "loire", "site": "nantes", "name": "Salle Loire rénovée", "capacity": 32,
		"equipment": []string{"visio"}, "opening_hours": map[string]any{"always": true}, "revision": 2}
	upd := y.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/loire", body, "")
	if upd.status != 200 {
		t.Fatalf("first save of loire in the pages: %d %s", upd.status, upd.body)
	}
	saved := decodeAs[adminRoom](t, upd)
	if saved.Revision != 3 || len(saved.Audit) != 3 || saved.Audit[0].Action != "edited" || strings.Join(saved.Audit[0].Changes, ";") != "capacity: 30 → 32" {
		t.Errorf("after the first save: %+v, want revision 3 and one change, of capacity", saved)
	}
	if st, _, err := caldav.NewRoomSettingsStore(b.store, nil).ReadSettings(context.Background(), "loire"); err != nil || st.Declared || st.Room.Capacity != 32 {
		t.Fatalf("loire's record after a save: %+v, %v; want a whole record", st, err)
	}
	within(t, 5*time.Second, "the saved record on the first replica", func() bool {
		r, _ := xcat.Room("loire")
		return r.Capacity == 32
	})
}
