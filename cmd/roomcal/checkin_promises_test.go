package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestPromiseCheckIn, against Radicale and Redis: "Je suis là" is kept in
// the booking's record on the server; a booking made as its slot begins
// (at the door) counts as checked in, one made ahead does not; a
// booking that started two minutes ago and was never checked in (in the
// calendar as roomcal writes one) is cut short by the sweep even though
// Redis was flushed: its VEVENT ends about now with a note, its owner is
// told once, and admins count it as a no-show, with one of last week's:
// twice.
func TestPromiseCheckIn(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	notes := &told{}
	in := newInstance(t, b, instanceOpts{syncInterval: 200 * time.Millisecond, sweepEvery: 200 * time.Millisecond, notifier: notes})
	ctx := context.Background()

	// A booking starting in ten minutes, made now: checked in through
	// the API, and so on the server.
	start := time.Now().Add(10 * time.Minute).Truncate(time.Minute)
	a := in.book(t, "ann", "atelier", start, start.Add(time.Hour))
	var bk struct {
		ID        string
		CheckedIn string `json:"checked_in"`
	}
	if err := json.Unmarshal(a.body, &bk); a.status != 201 || err != nil {
		t.Fatalf("ann's booking: %d %s", a.status, a.body)
	}
	if bk.CheckedIn != "" {
		t.Errorf("a booking made ten minutes ahead counts as checked in: %s", a.body)
	}
	if a := in.call(t, "POST", "/api/v1/bookings/"+bk.ID+"/checkin", "bob", nil); a.status != 403 {
		t.Errorf("bob checking ann in: %d, want 403", a.status)
	}
	a = in.call(t, "POST", "/api/v1/bookings/"+bk.ID+"/checkin", "ann", nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"checked_in":"`) {
		t.Fatalf("check-in: %d %s", a.status, a.body)
	}
	obj, err := b.store.Get(ctx, "atelier", caldav.ObjectName(bk.ID))
	if err != nil || !strings.Contains(string(obj.Data), "X-ROOMCAL-CHECKED-IN:") {
		t.Fatalf("the check-in on the server: %v\n%s", err, obj.Data)
	}

	// At the door: Cat books the room from now (a slot cannot start in
	// the past): checked in at once, on the server too, and so never
	// released.
	door := time.Now().Add(time.Minute)
	a = in.book(t, "cat", "atelier", door, door.Add(7*time.Minute)) // before ann's
	var spot struct {
		ID        string
		CheckedIn string `json:"checked_in"`
	}
	if err := json.Unmarshal(a.body, &spot); a.status != 201 || err != nil || spot.CheckedIn == "" {
		t.Fatalf("a booking made as its slot begins: %d %s, want 201 checked in", a.status, a.body)
	}
	if obj, err := b.store.Get(ctx, "atelier", caldav.ObjectName(spot.ID)); err != nil || !strings.Contains(string(obj.Data), "X-ROOMCAL-CHECKED-IN:") {
		t.Fatalf("the at-the-door booking on the server is not checked in: %v\n%s", err, obj.Data)
	}

	// One of bob's bookings of last week, released then.
	week := time.Now().AddDate(0, 0, -6).UTC().Truncate(time.Hour)
	old := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:atelier_old%[1]s\r\nDTSTAMP:%[2]s\r\nDTSTART:%[2]s\r\nDTEND:%[3]s\r\nSUMMARY:Répétition\r\nSTATUS:CONFIRMED\r\nX-ROOMCAL-KIND:booking\r\nX-ROOMCAL-ORGANIZER-ID:bob\r\nX-ROOMCAL-ORGANIZER-NAME:Bob\r\nX-ROOMCAL-RELEASED:%[3]s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		strings.ToLower(testenv.RandomID()), week.Format("20060102T150405Z"), week.Add(2*time.Minute).Format("20060102T150405Z"))
	if _, err := b.store.Create(ctx, "atelier", "old-noshow.ics", []byte(old)); err != nil {
		t.Fatal(err)
	}

	// A booking of bob's that started two minutes ago, never checked in.
	began := time.Now().Add(-2 * time.Minute).UTC()
	id := "atelier_noshow" + strings.ToLower(testenv.RandomID())
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Répétition\r\nSTATUS:CONFIRMED\r\nX-ROOMCAL-KIND:booking\r\nX-ROOMCAL-ORGANIZER-ID:bob\r\nX-ROOMCAL-ORGANIZER-NAME:Bob\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		id, began.Format("20060102T150405Z"), began.Format("20060102T150405Z"), began.Add(2*time.Hour).Format("20060102T150405Z"))
	if _, err := b.store.Create(ctx, "atelier", caldav.ObjectName(id), []byte(ics)); err != nil {
		t.Fatal(err)
	}
	redis.FlushAll(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		obj, err := b.store.Get(ctx, "atelier", caldav.ObjectName(id))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(obj.Data), "X-ROOMCAL-RELEASED:") {
			unfolded := strings.ReplaceAll(string(obj.Data), "\r\n ", "")
			if !strings.Contains(unfolded, "Libérée à") {
				t.Errorf("the released booking has no note:\n%s", obj.Data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's no-show not released within 30 s:\n%s", obj.Data)
		}
		time.Sleep(200 * time.Millisecond)
	}
	on := bookingsOnServer(t, b, "atelier", began.Add(-time.Hour), began.Add(3*time.Hour))
	for _, x := range on {
		if x.Ref == id && x.End.After(time.Now().Add(2*time.Minute)) {
			t.Errorf("the released booking still ends at %s", x.End)
		}
	}
	time.Sleep(time.Second) // more sweeps: bob is told once
	if got := notes.of(booking.NoticeReleased); len(got) != 1 || got[0].Booking.Organizer.ID != "bob" {
		t.Errorf("release notices %+v, want one for bob", got)
	}
	a = in.callAs(t, "GET", "/api/v1/noshows", "root", "admins", nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"member":"bob","name":"Bob","count":2`) || strings.Contains(string(a.body), `"cat"`) || strings.Contains(string(a.body), `"ann"`) {
		t.Errorf("no-shows: %d %s, want bob twice (today's and last week's), nobody else", a.status, a.body)
	}
	// ann's checked-in booking is whole.
	a = in.call(t, "GET", "/api/v1/bookings/"+bk.ID, "ann", nil)
	var got struct {
		End       time.Time `json:"end"`
		CheckedIn string    `json:"checked_in"`
		Released  string    `json:"released"`
	}
	if err := json.Unmarshal(a.body, &got); a.status != 200 || err != nil || !got.End.Equal(start.Add(time.Hour)) || got.CheckedIn == "" || got.Released != "" {
		t.Errorf("ann's checked-in booking: %d %s, want it whole", a.status, a.body)
	}
}
