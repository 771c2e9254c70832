package booking_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// lostCalendar is a fake Calendar port on which every write times out
// and nothing is ever stored (a server that lost the request).
type lostCalendar struct{ emptyCalendar }

func (lostCalendar) Create(context.Context, booking.Room, *time.Location, booking.Booking) (booking.Version, error) {
	return nil, fmt.Errorf("PUT: %w: %w", booking.ErrUnavailable, context.DeadlineExceeded)
}

func (lostCalendar) Get(_ context.Context, _ booking.Room, _ *time.Location, id string) (booking.Booking, booking.Version, error) {
	return booking.Booking{}, nil, fmt.Errorf("booking %s: %w", id, booking.ErrNotFound)
}

// TestLostWriteReleasedOnceKnown: a booking whose write times out keeps
// its slot (another claim on it conflicts) until the calendar, answering
// again, still does not have it after the grace given to late writes;
// then the slot is free. The member was answered "unavailable".
func TestLostWriteReleasedOnceKnown(t *testing.T) {
	room := booking.Room{ID: "loire", SiteID: "nantes", Calendar: "loire"}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Location: time.UTC}}, []booking.Room{room})
	if err != nil {
		t.Fatal(err)
	}
	g := redisgate.New(gatetest.Embedded(t).Client())
	svc, err := booking.NewService(booking.Options{Catalog: cat, Calendar: lostCalendar{}, Gate: g, Recurrence: noRecurrence{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	ctx := context.Background()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	_, err = svc.Book(ctx, booking.Member{ID: "ana"}, booking.Request{Room: "loire", Start: start, End: start.Add(time.Hour), Title: "Réunion"})
	if !errors.Is(err, booking.ErrUnavailable) {
		t.Fatalf("Book on a calendar that loses writes: %v, want ErrUnavailable", err)
	}
	claim := func() error {
		return g.Claim(ctx, "loire", booking.Claim{HoldID: "probe", TTL: time.Second,
			Intervals: []booking.Busy{{Start: start, End: start.Add(time.Hour), Kind: booking.KindBooking}}})
	}
	var ce *booking.ConflictError
	if err := claim(); !errors.As(err, &ce) {
		t.Fatalf("the slot right after the lost write: %v, want a conflict (held until known)", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := claim()
		if err == nil {
			return // released
		}
		if !errors.As(err, &ce) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot of a write the calendar never stored was never released")
		}
		time.Sleep(250 * time.Millisecond)
	}
}
