package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
)

// fakeRooms books every room and records the releases; releases fail
// while failing is set.
type fakeRooms struct {
	mu       sync.Mutex
	n        int
	released []string
	failing  bool
}

func (r *fakeRooms) BookForEvent(_ context.Context, _ booking.Member, room, _ string, _, _ time.Time) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return fmt.Sprintf("%s_b%d", room, r.n), nil
}

func (r *fakeRooms) MoveForEvent(context.Context, booking.Member, string, string, time.Time, time.Time) error {
	return nil
}

func (r *fakeRooms) CancelForEvent(context.Context, booking.Member, string) error { return nil }

func (r *fakeRooms) ReleaseForEvent(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return fmt.Errorf("release %s: %w", id, booking.ErrUnavailable)
	}
	r.released = append(r.released, id)
	return nil
}

func (r *fakeRooms) RoomName(room string) (string, error) { return "Salle " + room, nil }

func (r *fakeRooms) releases() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.released...)
}

// phantom is an events.Calendar whose change listing also names ghost as
// deleted, as a listing that missed an object would.
type phantom struct {
	events.Calendar
	ghost string
}

func (p *phantom) Changes(ctx context.Context, token string) (events.Changes, error) {
	ch, err := p.Calendar.Changes(ctx, token)
	if p.ghost != "" {
		ch.Deleted = append(ch.Deleted, p.ghost)
	}
	return ch, err
}

// TestDeletedOutsideFreesRoom: an event deleted straight from the
// calendar (as in Nextcloud) is forgotten and its room booking released;
// if the release fails the event is kept and tried again on the next
// pass; a listing that names as deleted an event still there frees
// nothing.
func TestDeletedOutsideFreesRoom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rooms := &fakeRooms{}
	cal := &phantom{Calendar: f.cal}
	svc, err := events.NewService(events.Options{
		Calendar: cal, Gate: f.gate, Rooms: rooms, Now: f.clock.Now,
		Zone: func(string) *time.Location { return paris },
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 5, 14, 0, 0, 0, paris)
	create := func(title string) events.Event {
		t.Helper()
		ev, err := svc.Create(ctx, orga, events.Request{Title: title, Start: start, End: start.Add(time.Hour), Room: "loire", Capacity: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	kept, gone := create("Atelier gardé"), create("Atelier effacé")
	if err := svc.Sync(ctx); err != nil { // the first pass loads the index
		t.Fatal(err)
	}

	// A listing that names the kept event as deleted: it is read again,
	// found, and keeps its room.
	cal.ghost = kept.ID
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rooms.releases(); len(got) != 0 {
		t.Fatalf("a listing's mistake released %v", got)
	}
	if _, err := svc.Get(ctx, orga, kept.ID); err != nil {
		t.Fatalf("the event still in the calendar was forgotten: %v", err)
	}
	cal.ghost = ""

	// Deleted in the calendar while the rooms cannot be reached: kept.
	if err := f.store.Delete(ctx, calendar, caldav.ObjectName(gone.ID), ""); err != nil {
		t.Fatal(err)
	}
	rooms.mu.Lock()
	rooms.failing = true
	rooms.mu.Unlock()
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, orga, gone.ID); err != nil {
		t.Fatalf("the deleted event was forgotten though its room is still held: %v", err)
	}

	// The next pass releases the room and forgets the event.
	rooms.mu.Lock()
	rooms.failing = false
	rooms.mu.Unlock()
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rooms.releases(); len(got) != 1 || got[0] != gone.RoomBooking {
		t.Fatalf("released %v, want [%s]", got, gone.RoomBooking)
	}
	if _, err := svc.Get(ctx, orga, gone.ID); !errors.Is(err, booking.ErrNotFound) {
		t.Fatalf("the deleted event: %v, want not found", err)
	}
	if _, err := svc.Get(ctx, orga, kept.ID); err != nil {
		t.Fatalf("the other event: %v", err)
	}
}
