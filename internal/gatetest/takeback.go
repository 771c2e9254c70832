package gatetest

import (
	"errors"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// testTakeBack: a booking written to the calendar, its commit refused
// (its hold lost, the slot taken meanwhile) and so deleted again, may be
// in a state read from the calendar in between. TakeBack, called once
// the deletion is done, removes it at once: its slot is free and it no
// longer counts against its member's quota; a sync pass whose reading
// predates the deletion does not bring it back (its fenced put is
// skipped), and the pass that finds it deleted clears the tombstone.
func testTakeBack(f *fixture) {
	x := busy("X", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	x.Organizer = "ann"
	keep := busy("K", booking.KindBooking, at(0, 14, 0), at(0, 15, 0))
	// The state was loaded while the calendar held X (written, not yet
	// taken back).
	f.load(f.room, map[string]booking.ObjectState{"X": obj("x1", x), "K": obj("k1", keep)})
	// A sync pass starts reading before the deletion: it knows X.
	_, seen, err := f.g.Objects(f.ctx, f.room)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.g.TakeBack(f.ctx, f.room, "X", booking.ObjectState{}); err != nil {
		f.t.Fatalf("TakeBack: %v", err)
	}
	same(f.t, "Busy after TakeBack", f.busy(at(0, 0, 0), at(1, 0, 0)), keep)
	// Its slot is free, and it counts no more for ann: one booking ahead
	// is allowed and passes.
	c := claimOf("h1", longTTL, busy("", booking.KindBooking, at(0, 10, 0), at(0, 11, 0)))
	c.Intervals[0].Organizer = "ann"
	c.Quota = &booking.QuotaCheck{Member: "ann", Rooms: []string{f.room}, Now: at(-1, 0, 0), Ahead: 1}
	f.mustClaim(c)
	f.release("h1")
	// Taking back again changes nothing.
	if err := f.g.TakeBack(f.ctx, f.room, "X", booking.ObjectState{}); err != nil {
		f.t.Fatal(err)
	}
	// The stale reading puts X again, fenced on what it knew (and a
	// reading that did not know X, fenced on '-'): both skipped.
	if err := f.g.Apply(f.ctx, f.room, "t2", map[string]booking.ObjectState{"X": obj("x1", x)}, nil, seen); err != nil {
		f.t.Fatal(err)
	}
	if err := f.g.Apply(f.ctx, f.room, "t2", map[string]booking.ObjectState{"X": obj("x1", x)}, nil, map[string]string{}); err != nil {
		f.t.Fatal(err)
	}
	same(f.t, "Busy after stale readings of the taken-back booking", f.busy(at(0, 0, 0), at(1, 0, 0)), keep)
	// The next pass sees it deleted, fenced on the tombstone's ETag: the
	// gate forgets it.
	_, now, err := f.g.Objects(f.ctx, f.room)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, ok := now["X"]; !ok {
		f.t.Fatalf("the tombstone is not known to the gate: %v", now)
	}
	if err := f.g.Apply(f.ctx, f.room, "t3", nil, []string{"X"}, now); err != nil {
		f.t.Fatal(err)
	}
	if _, after, _ := f.g.Objects(f.ctx, f.room); after["X"] != "" {
		f.t.Errorf("the tombstone outlived the pass that found X deleted: %v", after)
	}
	same(f.t, "Busy at the end", f.busy(at(0, 0, 0), at(1, 0, 0)), keep)
}

// testTakeBackDuringLoad: without state, a Load may be reading the
// calendar while it holds the booking about to be taken back; TakeBack
// refuses that Load (ErrLeaseLost), and the next reader installs.
func testTakeBackDuringLoad(f *fixture) {
	lease, ok, err := f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	x := busy("X", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	stale := booking.Snapshot{Token: "t", Lease: lease.ID, Objects: map[string]booking.ObjectState{"X": obj("x1", x)}}
	if err := f.g.TakeBack(f.ctx, f.room, "X", booking.ObjectState{}); err != nil {
		f.t.Fatalf("TakeBack without state: %v", err)
	}
	if err := f.g.Load(f.ctx, f.room, stale); !errors.Is(err, booking.ErrLeaseLost) {
		f.t.Fatalf("Load read before the take-back: %v, want ErrLeaseLost", err)
	}
	lease.Release()
	lease, ok, err = f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	defer lease.Release()
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t", Lease: lease.ID}); err != nil {
		f.t.Fatal(err)
	}
	same(f.t, "Busy after the reading made again", f.busy(at(0, 0, 0), at(1, 0, 0)))
}

// testTakeBackChange: a change (a move) written, its commit refused and
// written back as it was: a state read while the calendar held the move
// (it lists the booking in its new slot) has it back in its old one at
// once, with the ETag of the version written back; readings that
// predate the writing back do not undo it.
func testTakeBackChange(f *fixture) {
	old := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	moved := busy("A", booking.KindBooking, at(0, 14, 0), at(0, 15, 0))
	f.load(f.room, map[string]booking.ObjectState{"A": obj("moved", moved)})
	if err := f.g.TakeBack(f.ctx, f.room, "A", obj("back", old)); err != nil {
		f.t.Fatalf("TakeBack of a change: %v", err)
	}
	same(f.t, "Busy after the change was taken back", f.busy(at(0, 0, 0), at(1, 0, 0)), old)
	// Readings that predate the writing back: one that knew A before the
	// move, one that knew the state loaded with the move.
	for _, known := range []map[string]string{{"A": "orig"}, {"A": "moved"}, {}} {
		if err := f.g.Apply(f.ctx, f.room, "t2", map[string]booking.ObjectState{"A": obj("moved", moved)}, nil, known); err != nil {
			f.t.Fatal(err)
		}
	}
	same(f.t, "Busy after stale readings of the move", f.busy(at(0, 0, 0), at(1, 0, 0)), old)
	if _, etags, err := f.g.Objects(f.ctx, f.room); err != nil || etags["A"] != "back" {
		f.t.Errorf("ETag of A at the gate: %v %v, want back", etags, err)
	}
	// The new slot is free.
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 14, 0), at(0, 15, 0))))
}
