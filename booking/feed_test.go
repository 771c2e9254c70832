package booking_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// bigCalendar is a fake Calendar port whose room holds n one-hour
// objects, one a day from 30 days back; it counts how often the service
// reads it.
type bigCalendar struct {
	booking.Calendar
	n           int
	start       time.Time
	reads, busy atomic.Int64
}

func (c *bigCalendar) Read(context.Context, booking.Room, *time.Location, booking.Interval) (booking.Snapshot, []booking.ObjectProblem, error) {
	c.reads.Add(1)
	objs := make(map[string]booking.ObjectState, c.n)
	for i := 0; i < c.n; i++ {
		ref := fmt.Sprintf("ev-%04d", i)
		s := c.start.Add(time.Duration(i) * 4 * time.Hour)
		objs[ref] = booking.ObjectState{ETag: "e", Busy: []booking.Busy{{Ref: ref, Kind: booking.KindExternal, Start: s, End: s.Add(time.Hour), Title: "x"}}}
	}
	return booking.Snapshot{Token: "t1", Objects: objs}, nil, nil
}

func (c *bigCalendar) Busy(context.Context, booking.Room, *time.Location, time.Time, time.Time) ([]booking.Busy, []booking.ObjectProblem, error) {
	c.busy.Add(1)
	return nil, nil, fmt.Errorf("the feed went to the calendar")
}

// TestFeedFromCache: a room feed of a room with 2,000 events is read
// from the gate's copy once the room is loaded, not from the calendar,
// and leaves no hold in it.
func TestFeedFromCache(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	room := booking.Room{ID: "loire", SiteID: "nantes", Calendar: "loire"}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: time.UTC}}, []booking.Room{room})
	if err != nil {
		t.Fatal(err)
	}
	cal := &bigCalendar{n: 2000, start: now.AddDate(0, 0, -5)}
	svc, err := booking.NewService(booking.Options{Catalog: cat, Calendar: cal, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: noRecurrence{},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	from, to := svc.FeedRange()
	for i := 0; i < 3; i++ {
		_, _, busy, err := svc.RoomBusy(context.Background(), "loire", from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(busy) != 2000 {
			t.Fatalf("feed has %d busy intervals, want 2000", len(busy))
		}
	}
	if cal.busy.Load() != 0 || cal.reads.Load() != 1 {
		t.Fatalf("calendar read %d times in full and queried %d times for three feeds; want one load and no query", cal.reads.Load(), cal.busy.Load())
	}
}
