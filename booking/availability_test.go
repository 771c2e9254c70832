package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// emptyCalendar is a hand-written fake of the Calendar port: every room's
// calendar is empty. Enough to exercise what the service computes itself.
type emptyCalendar struct{ booking.Calendar }

func (emptyCalendar) Read(context.Context, booking.Room, *time.Location, booking.Interval) (booking.Snapshot, []booking.ObjectProblem, error) {
	return booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{}}, nil, nil
}

func (emptyCalendar) Busy(context.Context, booking.Room, *time.Location, time.Time, time.Time) ([]booking.Busy, []booking.ObjectProblem, error) {
	return nil, nil, nil
}

// oneBusyCalendar is a fake Calendar port with one object, busy once.
type oneBusyCalendar struct {
	booking.Calendar
	b booking.Busy
}

func (c oneBusyCalendar) Read(context.Context, booking.Room, *time.Location, booking.Interval) (booking.Snapshot, []booking.ObjectProblem, error) {
	return booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{c.b.Ref: {ETag: "1", Busy: []booking.Busy{c.b}}}}, nil, nil
}

func (c oneBusyCalendar) Busy(_ context.Context, _ booking.Room, _ *time.Location, from, to time.Time) ([]booking.Busy, []booking.ObjectProblem, error) {
	if c.b.Overlaps(from, to, 0) {
		return []booking.Busy{c.b}, nil, nil
	}
	return nil, nil, nil
}

// TestFreeKeepsTheRules: free time starts no earlier than the minimum
// notice, stops at the booking horizon, and keeps the opening hours, so
// the page never offers a slot that a booking would be refused.
func TestFreeKeepsTheRules(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 10, 7, 0, 0, paris) // a Tuesday
	hours := booking.OpeningHours{Weekly: map[time.Weekday][]booking.TimeRange{}}
	for d := time.Monday; d <= time.Friday; d++ {
		hours.Weekly[d] = []booking.TimeRange{{From: booking.Clock(8, 0), To: booking.Clock(18, 0)}}
	}
	room := booking.Room{ID: "loire", SiteID: "nantes", Calendar: "loire", Hours: hours,
		Rules: booking.Rules{MinNotice: time.Hour, MaxAhead: 2 * 24 * time.Hour}}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: paris}}, []booking.Room{room})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := booking.NewService(booking.Options{
		Catalog: cat, Calendar: emptyCalendar{}, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: noRecurrence{},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 24, 0, 0, 0, 0, paris)
	a, err := svc.Availability(context.Background(), "", "loire", from, from.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, paris) }
	want := []booking.Interval{
		{Start: at(24, 11, 7), End: at(24, 18, 0)}, // today: from now + 1h notice
		{Start: at(25, 8, 0), End: at(25, 18, 0)},
		{Start: at(26, 8, 0), End: at(26, 10, 7)}, // the 2-day horizon
	}
	got := a.Rooms[0].Free
	if len(got) != len(want) {
		t.Fatalf("free %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("free[%d] = [%v, %v), want [%v, %v)", i, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
	}
}

// TestAvailabilityReuse: an answer is given again only while no room
// changed, never when it shows a hold, and the clipping by the minimum
// notice moves by whole minutes.
func TestAvailabilityReuse(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 7, 30, 0, time.UTC)
	room := booking.Room{ID: "loire", SiteID: "nantes", Calendar: "loire", Rules: booking.Rules{MinNotice: time.Hour}}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: time.UTC}}, []booking.Room{room})
	if err != nil {
		t.Fatal(err)
	}
	g := redisgate.New(gatetest.Embedded(t).Client())
	svc, err := booking.NewService(booking.Options{
		Catalog: cat, Calendar: emptyCalendar{}, Gate: g, Recurrence: noRecurrence{},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	from := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	ask := func() booking.Availability {
		t.Helper()
		a, err := svc.Availability(ctx, "nantes", "", from, from.AddDate(0, 0, 2))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := ask()
	if first.Key == "" || len(first.Rooms[0].Free) == 0 {
		t.Fatalf("first answer: %+v", first)
	}
	if got := first.Rooms[0].Free[0].Start; !got.Equal(time.Date(2026, 11, 24, 11, 8, 0, 0, time.UTC)) {
		t.Fatalf("free from %v: the notice is not rounded up to the minute", got)
	}
	if again := ask(); again.Key != first.Key {
		t.Fatalf("nothing changed, yet the key moved: %q then %q", first.Key, again.Key)
	}

	slot := booking.Busy{Ref: "b1", Kind: booking.KindBooking, Start: from.Add(14 * time.Hour), End: from.Add(15 * time.Hour)}
	if err := g.Apply(ctx, "loire", "", map[string]booking.ObjectState{"b1": {ETag: "e", Busy: []booking.Busy{slot}}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	changed := ask()
	if changed.Key == first.Key || len(changed.Rooms[0].Busy) != 1 {
		t.Fatalf("a change in the gate is not seen: %+v", changed)
	}

	hold := booking.Claim{HoldID: "h", TTL: time.Hour, Intervals: []booking.Busy{{Start: from.Add(16 * time.Hour), End: from.Add(17 * time.Hour)}}}
	if err := g.Claim(ctx, "loire", hold); err != nil {
		t.Fatal(err)
	}
	if held := ask(); held.Key != "" || len(held.Rooms[0].Busy) != 2 {
		t.Fatalf("an answer with a hold: key %q, busy %v", held.Key, held.Rooms[0].Busy)
	}
	if err := g.Release(ctx, "loire", "h"); err != nil {
		t.Fatal(err)
	}
	if released := ask(); released.Key == "" || len(released.Rooms[0].Busy) != 1 {
		t.Fatalf("after the release: %+v", released)
	}

	before := ask().Key
	now = now.Add(20 * time.Second) // 10:07:50, still the same minute
	if ask().Key != before {
		t.Fatalf("the key moved within the minute")
	}
	now = now.Add(20 * time.Second) // 10:08:10
	if later := ask(); later.Key == before || !later.Rooms[0].Free[0].Start.Equal(time.Date(2026, 11, 24, 11, 9, 0, 0, time.UTC)) {
		t.Fatalf("a minute later: key %q (was %q), free from %v", later.Key, before, later.Rooms[0].Free[0].Start)
	}
}

type noRecurrence struct{}

func (noRecurrence) Occurrences(string, time.Time, time.Time, *time.Location, int) ([]booking.Interval, error) {
	return nil, booking.ErrInvalid
}

// TestFreeAgreesWithTheGate: the free time offered around a busy
// interval follows the buffered overlap rule of the one table the gate's
// Lua is tested on (gatetest.OverlapCases): a slot is offered exactly
// when the gate would let it be claimed.
func TestFreeAgreesWithTheGate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range gatetest.OverlapCases {
		t.Run(tc.Name, func(t *testing.T) {
			room := booking.Room{ID: "loire", SiteID: "nantes", Calendar: "loire", Rules: booking.Rules{Buffer: tc.Buffer}}
			cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: time.UTC}}, []booking.Room{room})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := booking.NewService(booking.Options{
				Catalog: cat, Calendar: oneBusyCalendar{b: tc.Busy("x")}, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: noRecurrence{},
				Now: func() time.Time { return gatetest.OverlapBase.AddDate(0, 0, -7) },
			})
			if err != nil {
				t.Fatal(err)
			}
			day := gatetest.OverlapBase.Truncate(24 * time.Hour)
			a, err := svc.Availability(ctx, "", "loire", day, day.AddDate(0, 0, 1))
			if err != nil {
				t.Fatal(err)
			}
			offered := false
			for _, f := range a.Rooms[0].Free {
				if !f.Start.After(tc.Start) && !f.End.Before(tc.End) {
					offered = true
				}
			}
			if offered == tc.Clash {
				t.Errorf("[%s, %s) offered = %v with free %v, but the rule says clash = %v",
					tc.Start.Format("15:04:05.000"), tc.End.Format("15:04:05.000"), offered, a.Rooms[0].Free, tc.Clash)
			}
		})
	}
}
