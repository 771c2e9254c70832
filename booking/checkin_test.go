package booking_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Check-in with a room that asks for it within 10 minutes: "Je suis là"
// from 15 minutes before the start keeps the booking whole; a booking not
// checked in is cut short when the sweep finds it 10 minutes after its
// start, with a note, its owner told, and counted as a no-show for
// admins, whatever the gate lost (all of it is in the calendar); a
// booking made at the door counts as checked in.
func TestCheckInAndNoShow(t *testing.T) {
	f := newRoomFixture(t, booking.Rules{CheckInWithin: 10 * time.Minute})
	ctx := context.Background()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 24, h, m, 0, 0, time.UTC) }
	set := func(t time.Time) { f.now.Store(&t) }
	book := func(m booking.Member, start time.Time) booking.Booking {
		t.Helper()
		b, err := f.svc.Book(ctx, m, booking.Request{Room: "ag", Start: start, End: start.Add(2 * time.Hour), Title: "Réunion de " + m.Name})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	here := book(ann, at(10, 0))
	gone := book(bob, at(13, 0))
	if !here.CheckedIn.IsZero() || !gone.CheckedIn.IsZero() {
		t.Fatal("bookings made hours ahead are checked in")
	}
	// Too early, someone else's, then in time.
	set(at(9, 40))
	if _, err := f.svc.CheckIn(ctx, ann, here.ID); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("check-in 20 min before the start: %v, want too early", err)
	}
	set(at(9, 50))
	if _, err := f.svc.CheckIn(ctx, bob, here.ID); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("bob checking ann in: %v, want ErrForbidden", err)
	}
	b, err := f.svc.CheckIn(ctx, ann, here.ID)
	if err != nil || !b.CheckedIn.Equal(at(9, 50)) {
		t.Fatalf("check-in: %+v %v", b, err)
	}
	if _, err := f.svc.CheckIn(ctx, ann, here.ID); err != nil {
		t.Errorf("checking in twice: %v", err)
	}
	// The gate forgets everything; the sweep runs after both starts.
	f.e.FlushAll()
	set(at(13, 9))
	runSweep(t, f)
	if b, _ := f.svc.Get(ctx, bob, gone.ID); !b.End.Equal(at(15, 0)) {
		t.Errorf("bob's booking released before its 10 minutes: ends %s", b.End)
	}
	set(at(13, 10).Add(20 * time.Second))
	runSweep(t, f)
	b, err = f.svc.Get(ctx, bob, gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !b.End.Equal(at(13, 11)) || b.Released.IsZero() || !strings.Contains(b.Description, "Libérée à 13:10") {
		t.Errorf("bob's no-show: ends %s, released %s, description %q; want cut at 13:11 with a note", b.End, b.Released, b.Description)
	}
	if a, _ := f.svc.Get(ctx, ann, here.ID); !a.End.Equal(at(12, 0)) || !a.Released.IsZero() {
		t.Errorf("ann's checked-in booking: ends %s, released %s; want it whole", a.End, a.Released)
	}
	// The rest of bob's slot is free; ann books it at the door: checked in.
	door, err := f.svc.Book(ctx, ann, booking.Request{Room: "ag", Start: at(13, 15), End: at(14, 0), Title: "Au pied levé"})
	if err != nil || door.CheckedIn.IsZero() {
		t.Fatalf("a booking made at the door: %+v %v, want checked in", door, err)
	}
	if _, err := f.svc.CheckIn(ctx, bob, gone.ID); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("checking in a released booking: %v, want too late", err)
	}
	if k := f.told.kinds(); len(k) != 1 || k[0] != booking.NoticeReleased {
		t.Errorf("notices %v, want one release", k)
	}
	admin := booking.Member{ID: "root", Groups: []string{booking.GroupAdmins}}
	ns, err := f.svc.NoShows(ctx, admin, 90)
	if err != nil || len(ns) != 1 || ns[0].Member != "bob" || ns[0].Count != 1 {
		t.Errorf("no-shows %+v %v, want bob once", ns, err)
	}
	if _, err := f.svc.NoShows(ctx, ann, 90); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("no-shows for a member: %v, want ErrForbidden", err)
	}
}

// runSweep runs the sync loop briefly: one pass syncs and sweeps.
func runSweep(t *testing.T, f *approvalFixture) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.svc.RunSync(ctx) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
}
