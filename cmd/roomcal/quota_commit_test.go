package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// gatedCalendar holds the creation of bookings titled held until open
// is closed, after telling entered: a calendar write that is slow, with
// the test choosing what happens meanwhile.
type gatedCalendar struct {
	booking.Calendar
	held    string
	entered chan struct{}
	open    chan struct{}
}

func (c *gatedCalendar) Create(ctx context.Context, room booking.Room, loc *time.Location, b booking.Booking) (booking.Version, error) {
	if b.Title == c.held {
		close(c.entered)
		<-c.open
	}
	return c.Calendar.Create(ctx, room, loc, b)
}

// TestPromiseQuotaHoldLostAtCommit: a quota of one booking ahead, on two
// replicas over Radicale and Redis. Ann's first booking is claimed, and
// Redis is flushed while its calendar write is under way: its hold is
// gone. Her second booking, on the other replica, is claimed after the
// flush (the state loaded again from the calendar, which has not the
// first yet), written and acknowledged. Then the first write lands: its
// commit decides the quota again and refuses it (422 quota_ahead, as at
// claim), and the written booking is taken back. Exactly one booking is
// acknowledged and on the server. Without the quota at commit, both were.
func TestPromiseQuotaHoldLostAtCommit(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	oneAhead := func(rooms []booking.Room) {
		for i := range rooms {
			if rooms[i].SiteID == "sn" {
				rooms[i].Rules.Quota.Ahead = 1
			}
		}
	}
	gate := &gatedCalendar{held: "Première", entered: make(chan struct{}), open: make(chan struct{})}
	x := newInstance(t, b, instanceOpts{rooms: oneAhead, calendar: func(c booking.Calendar) booking.Calendar {
		gate.Calendar = c
		return gate
	}})
	y := newInstance(t, b, instanceOpts{rooms: oneAhead})
	bookAs := func(in *instance, title string, days int) answer {
		s, e := slot(days, 10)
		return in.call(t, "POST", "/api/v1/bookings", "ann", map[string]any{
			"room": "port", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": title,
		})
	}

	first := make(chan answer, 1)
	go func() { first <- bookAs(x, "Première", 3) }()
	select {
	case <-gate.entered: // claimed; the write is under way
	case a := <-first:
		t.Fatalf("first booking answered before its write: %d %s", a.status, a.body)
	case <-time.After(30 * time.Second):
		t.Fatal("the first booking never reached its calendar write")
	}
	redis.FlushAll(t)
	second := bookAs(y, "Seconde", 4)
	if second.status != 201 {
		t.Fatalf("second booking, claimed after the flush: %d %s, want 201", second.status, second.body)
	}
	close(gate.open)
	var a answer
	select {
	case a = <-first:
	case <-time.After(60 * time.Second):
		t.Fatal("the first booking never answered")
	}
	var p struct{ Code, Rule string }
	_ = json.Unmarshal(a.body, &p)
	if a.status != 422 || p.Code != "rule_violation" || p.Rule != "quota_ahead" {
		t.Errorf("first booking, whose hold was lost and whose quota was used meanwhile: %d %s, want 422 quota_ahead", a.status, a.body)
	}
	from, _ := slot(0, 0)
	onServer := bookingsOnServer(t, b, "port", from, from.AddDate(0, 0, 14))
	var sec struct{ ID string }
	_ = json.Unmarshal(second.body, &sec)
	if len(onServer) != 1 || onServer[0].Ref != sec.ID {
		t.Errorf("Radicale holds %+v, want only the second booking %s", onServer, sec.ID)
	}
	// The gate agrees: ann has her one booking ahead, no more.
	s, e := slot(5, 10)
	if a := y.book(t, "ann", "quai", s, e); a.status != 422 {
		t.Errorf("a third booking: %d %s, want 422", a.status, a.body)
	}
}
