package booking_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// roomsCalendar is a fake Calendar port: each room's objects, and a
// change counter per room that serves as its sync token.
type roomsCalendar struct {
	booking.Calendar
	mu   sync.Mutex
	objs map[string]map[string]booking.ObjectState // room → ref → state
	rev  map[string]int                            // room → changes so far
	at   map[string]map[string]int                 // room → ref → rev of its last change
}

func newRoomsCalendar() *roomsCalendar {
	return &roomsCalendar{objs: map[string]map[string]booking.ObjectState{}, rev: map[string]int{}, at: map[string]map[string]int{}}
}

func (c *roomsCalendar) put(room, ref string, b booking.Busy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objs[room] == nil {
		c.objs[room], c.at[room] = map[string]booking.ObjectState{}, map[string]int{}
	}
	c.rev[room]++
	b.Ref = ref
	c.objs[room][ref] = booking.ObjectState{ETag: fmt.Sprint(c.rev[room]), Busy: []booking.Busy{b}}
	c.at[room][ref] = c.rev[room]
}

func (c *roomsCalendar) Read(_ context.Context, room booking.Room, _ *time.Location, _ booking.Interval) (booking.Snapshot, []booking.ObjectProblem, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	objs := map[string]booking.ObjectState{}
	for ref, o := range c.objs[room.ID] {
		objs[ref] = o
	}
	return booking.Snapshot{Token: fmt.Sprint(c.rev[room.ID]), Objects: objs}, nil, nil
}

func (c *roomsCalendar) Changes(_ context.Context, room booking.Room, _ *time.Location, token string, _ map[string]string, _ booking.Interval) (booking.Delta, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var since int
	fmt.Sscan(token, &since)
	d := booking.Delta{Token: fmt.Sprint(c.rev[room.ID]), Put: map[string]booking.ObjectState{}}
	for ref, rev := range c.at[room.ID] {
		if rev > since {
			d.Put[ref] = c.objs[room.ID][ref]
		}
	}
	return d, nil
}

// TestQuietSyncKeepsAnswers: a sync pass that finds no change keeps
// every memoised availability answer; one that finds a change in one
// room makes new answers for that room only.
func TestQuietSyncKeepsAnswers(t *testing.T) {
	rooms := []booking.Room{
		{ID: "loire", SiteID: "nantes", Calendar: "loire"},
		{ID: "erdre", SiteID: "nantes", Calendar: "erdre"},
	}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: time.UTC}}, rooms)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)
	day := time.Date(2031, 3, 5, 0, 0, 0, 0, time.UTC)
	cal := newRoomsCalendar()
	cal.put("loire", "a", booking.Busy{Kind: booking.KindExternal, Start: day.Add(9 * time.Hour), End: day.Add(10 * time.Hour)})
	svc, err := booking.NewService(booking.Options{
		Catalog: cat, Calendar: cal, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: noRecurrence{},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ask := func(site, room string) booking.Availability {
		t.Helper()
		a, err := svc.Availability(ctx, site, room, day, day.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if a.Key == "" {
			t.Fatalf("answer for %s%s not reusable", site, room)
		}
		return a
	}
	syncAll := func() {
		t.Helper()
		for _, r := range rooms {
			if err := svc.SyncRoom(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	site, erdre := ask("nantes", ""), ask("", "erdre")
	for pass := range 3 {
		syncAll()
		if a := ask("nantes", ""); a.Key != site.Key {
			t.Fatalf("quiet pass %d: site answer key %q, was %q", pass, a.Key, site.Key)
		}
		if a := ask("", "erdre"); a.Key != erdre.Key {
			t.Fatalf("quiet pass %d: erdre answer key %q, was %q", pass, a.Key, erdre.Key)
		}
	}
	cal.put("loire", "b", booking.Busy{Kind: booking.KindExternal, Start: day.Add(14 * time.Hour), End: day.Add(15 * time.Hour)})
	syncAll()
	a := ask("nantes", "")
	if a.Key == site.Key {
		t.Fatal("site answer kept after a change in loire")
	}
	if len(a.Rooms[0].Busy)+len(a.Rooms[1].Busy) != 2 {
		t.Fatalf("site answer after the change: %+v", a.Rooms)
	}
	if e := ask("", "erdre"); e.Key != erdre.Key {
		t.Fatalf("erdre's answer changed (%q, was %q) though only loire did", e.Key, erdre.Key)
	}
}
