package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/testenv"
)

// TestPromiseUnreadableObjectIsBusy: objects put straight in a room's
// calendar with rules roomcal could not expand before (FREQ=MINUTELY) are
// busy at every instance, and one it cannot read (a Windows TZID sent
// without its VTIMEZONE, as Outlook does) is busy over its first instance,
// read in the site's zone, and listed to admins with the reason: a
// booking over either is refused.
func TestPromiseUnreadableObjectIsBusy(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond})
	daily, _ := slot(6, 9)
	odd, _ := slot(8, 14)
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	put := func(name, uid string, lines ...string) {
		t.Helper()
		ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Thunderbird//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T090000Z\r\n" +
			strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if _, err := b.store.Create(context.Background(), "loire", name, []byte(ics)); err != nil {
			t.Fatalf("put %s on the server: %v", name, err)
		}
	}
	// Through the sync loop: the room's state is built first.
	if a := in.call(t, "GET", availabilityPath("loire", daily), "amina", nil); a.status != 200 {
		t.Fatalf("availability: %d %s", a.status, a.body)
	}
	put("minutely.ics", "minutely-1", "SUMMARY:Tous les 1440 minutes", "DTSTART:"+utc(daily), "DTEND:"+utc(daily.Add(time.Hour)),
		"RRULE:FREQ=MINUTELY;INTERVAL=1440;COUNT=3")
	const win = "TZID=W. Europe Standard Time:"
	put("outlook.ics", "outlook-1", "SUMMARY:Comité (Outlook)", "DTSTART;"+win+odd.Format("20060102T150405"),
		"DTEND;"+win+odd.Add(time.Hour).Format("20060102T150405"), "RRULE:FREQ=WEEKLY;COUNT=4")

	busyAt := func(at time.Time) bool {
		var av struct {
			Rooms []struct {
				Busy []struct{ Start, End, Kind string }
			}
		}
		a := in.call(t, "GET", availabilityPath("loire", at), "amina", nil)
		if err := json.Unmarshal(a.body, &av); err != nil || len(av.Rooms) != 1 {
			t.Fatalf("availability %d: %s", a.status, a.body)
		}
		for _, bz := range av.Rooms[0].Busy {
			s, _ := time.Parse(time.RFC3339, bz.Start)
			e, _ := time.Parse(time.RFC3339, bz.End)
			if !s.After(at) && e.After(at) && bz.Kind == "external" {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(15 * time.Second)
	for !busyAt(daily.AddDate(0, 0, 2)) || !busyAt(odd) {
		if time.Now().After(deadline) {
			t.Fatalf("the objects put on the server never showed as busy: third MINUTELY instance %v, unreadable object %v",
				busyAt(daily.AddDate(0, 0, 2)), busyAt(odd))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, at := range []time.Time{daily, daily.AddDate(0, 0, 1), daily.AddDate(0, 0, 2), odd} {
		if a := in.book(t, fmt.Sprintf("membre-%d", i), "loire", at.Add(15*time.Minute), at.Add(45*time.Minute)); a.status != 409 {
			t.Errorf("booking over %s: %d %s; want 409", at.Format(time.RFC3339), a.status, a.body)
		}
	}
	if a := in.book(t, "bastien", "loire", daily.AddDate(0, 0, 3), daily.AddDate(0, 0, 3).Add(time.Hour)); a.status != 201 {
		t.Errorf("booking after the last MINUTELY instance: %d %s; want 201", a.status, a.body)
	}

	a := in.callAs(t, "GET", "/api/v1/conflicts", "root", "admins", nil)
	var conflicts []struct {
		Room    string
		A       *struct{ Start, End, Kind string }
		B       *struct{ Kind string }
		Problem *struct{ Object, Reason string }
	}
	if err := json.Unmarshal(a.body, &conflicts); err != nil || a.status != 200 {
		t.Fatalf("conflicts: %d %s", a.status, a.body)
	}
	if len(conflicts) != 1 {
		t.Fatalf("conflicts: %s; want the unreadable object alone", a.body)
	}
	c := conflicts[0]
	if c.Room != "loire" || c.Problem == nil || c.Problem.Object != "outlook" || !strings.Contains(c.Problem.Reason, "W. Europe Standard Time") || c.B != nil {
		t.Fatalf("conflicts: %s; want outlook listed with its reason", a.body)
	}
	if c.A == nil {
		t.Fatalf("conflicts: %s; want the interval counted busy", a.body)
	}
	if s, err := time.Parse(time.RFC3339, c.A.Start); err != nil || !s.Equal(odd) {
		t.Errorf("conflicts: %s; want the interval counted busy, from %s", a.body, odd.Format(time.RFC3339))
	}
}
