package gatetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// A room retired at the gate takes no claim from then on, whatever the
// claimant's catalog says; an import (EvenRetired) still may; what was
// held or booked before stays and commits. Back in service, it takes
// claims again. After a flush the gate knows it again from the snapshot
// (the settings record in the calendar).
func testRetire(f *fixture) {
	f.load(f.room, nil)
	c1 := claimOf("h1", longTTL, span(at(0, 9, 0), at(0, 10, 0)))
	f.mustClaim(c1)
	if err := f.g.Retire(f.ctx, f.room, true); err != nil {
		f.t.Fatalf("Retire: %v", err)
	}
	c2 := claimOf("h2", longTTL, span(at(1, 9, 0), at(1, 10, 0)))
	if err := f.claim(c2); !errors.Is(err, booking.ErrRetired) {
		f.t.Fatalf("claim in a retired room: %v, want ErrRetired", err)
	}
	// A claim retried under a hold taken before is refused too: a
	// retired room takes no claim at all.
	if err := f.claim(c1); !errors.Is(err, booking.ErrRetired) {
		f.t.Errorf("claim retried under a hold taken before the retirement: %v, want ErrRetired", err)
	}
	// The hold taken before still commits (a booking made before the
	// retirement, as those already in the calendar, stays).
	b1 := busy("b1", booking.KindBooking, at(0, 9, 0), at(0, 10, 0))
	if err := f.g.Commit(f.ctx, f.room, "h1", "b1", "e1", []booking.Busy{b1}, 0, nil); err != nil {
		f.t.Fatalf("commit of a hold taken before the retirement: %v", err)
	}
	imp := claimOf("imp", longTTL, span(at(2, 9, 0), at(2, 10, 0)))
	imp.EvenRetired = true
	f.mustClaim(imp)
	f.release("imp")
	// Saying it again changes nothing.
	if err := f.g.Retire(f.ctx, f.room, true); err != nil {
		f.t.Fatal(err)
	}
	if err := f.claim(c2); !errors.Is(err, booking.ErrRetired) {
		f.t.Fatalf("claim after a second Retire: %v, want ErrRetired", err)
	}
	same(f.t, "Busy of the retired room", f.busy(at(0, 0, 0), at(7, 0, 0)), b1)

	// Back in service.
	if err := f.g.Retire(f.ctx, f.room, false); err != nil {
		f.t.Fatal(err)
	}
	f.mustClaim(c2)
	f.release("h2")

	// A flush: the gate knows it again from the snapshot.
	f.tg.Flush(f.t)
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t", Retired: true}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.claim(c2); !errors.Is(err, booking.ErrRetired) {
		f.t.Fatalf("claim after a Load of a retired room: %v, want ErrRetired", err)
	}
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t"}); err != nil {
		f.t.Fatal(err)
	}
	f.mustClaim(c2)
}

// Retiring a room that has no state marks nothing (a Load will derive it
// from the calendar) but refuses a Load whose reading of the calendar
// was under way: it may have read the settings record from before the
// retirement. The next reader installs.
func testRetireDuringLoad(f *fixture) {
	lease, ok, err := f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	// The reader read the calendar before the record said retired.
	stale := booking.Snapshot{Token: "t", Lease: lease.ID}
	if err := f.g.Retire(f.ctx, f.room, true); err != nil {
		f.t.Fatalf("Retire of a room without state: %v", err)
	}
	if err := f.g.Load(f.ctx, f.room, stale); !errors.Is(err, booking.ErrLeaseLost) {
		f.t.Fatalf("Load read before the retirement: %v, want ErrLeaseLost", err)
	}
	lease.Release()
	if _, err := f.g.Token(f.ctx, f.room); !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("a refused Load left state: %v", err)
	}
	// The next reader reads the record as it is now.
	lease, ok, err = f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	defer lease.Release()
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t", Lease: lease.ID, Retired: true}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.claim(claimOf("h", longTTL, span(at(0, 9, 0), at(0, 10, 0)))); !errors.Is(err, booking.ErrRetired) {
		f.t.Fatalf("claim: %v, want ErrRetired", err)
	}
	// With state, a retirement leaves the refresh lock alone.
	if err := f.g.Retire(f.ctx, f.room, false); err != nil {
		f.t.Fatal(err)
	}
	if ok, err := lease.Extend(f.ctx, time.Minute); err != nil || !ok {
		f.t.Errorf("the lease after a Retire of a room with state: %v %v, want still held", ok, err)
	}
	f.mustClaim(claimOf("h", longTTL, span(at(0, 9, 0), at(0, 10, 0))))
}

// testRetireIfClear: the check a retirement without cancelling makes,
// in the same step as the mark. Bookings and events' bookings ending
// after the given time keep the room (a long one too), past ones and
// outside events do not; a booking being written (a live hold) keeps
// it; with nothing left it is retired. Without state, ErrNoState.
func testRetireIfClear(f *fixture) {
	past := busy("P", booking.KindBooking, at(0, 8, 0), at(0, 9, 0))
	fut := busy("F", booking.KindBooking, at(2, 9, 0), at(2, 10, 0))
	fut2 := busy("F", booking.KindBooking, at(9, 9, 0), at(9, 10, 0))
	ev := busy("V", booking.KindEvent, at(3, 9, 0), at(3, 10, 0))
	ext := busy("E", booking.KindExternal, at(2, 11, 0), at(2, 12, 0))
	long := busy("L", booking.KindBooking, at(0, 0, 0), at(3, 0, 0))
	f.load(f.room, map[string]booking.ObjectState{"P": obj("p", past), "F": obj("f", fut, fut2), "V": obj("v", ev), "E": obj("e", ext), "L": obj("l", long)})
	after := at(1, 0, 0)
	got, err := f.g.RetireIfClear(f.ctx, f.room, after)
	if err != nil {
		f.t.Fatal(err)
	}
	if fmt.Sprint(got.Refs) != "[F L V]" || got.Holds != 0 || got.Clear() {
		f.t.Fatalf("RetireIfClear with bookings ahead: %+v, want refs [F L V], no hold", got)
	}
	c := claimOf("h1", longTTL, span(at(4, 9, 0), at(4, 10, 0)))
	f.mustClaim(c) // not retired
	if got, err = f.g.RetireIfClear(f.ctx, f.room, after); err != nil || got.Holds != 1 {
		f.t.Fatalf("RetireIfClear with a booking being written: %+v %v, want 1 hold", got, err)
	}
	f.release("h1")
	if err := f.g.Apply(f.ctx, f.room, "", nil, []string{"F", "V", "L"}, nil); err != nil {
		f.t.Fatal(err)
	}
	if got, err = f.g.RetireIfClear(f.ctx, f.room, after); err != nil || !got.Clear() {
		f.t.Fatalf("RetireIfClear with nothing ahead: %+v %v, want clear", got, err)
	}
	if err := f.claim(claimOf("h2", longTTL, span(at(4, 9, 0), at(4, 10, 0)))); !errors.Is(err, booking.ErrRetired) {
		f.t.Fatalf("claim once retired if clear: %v, want ErrRetired", err)
	}
	f.tg.Flush(f.t)
	if _, err := f.g.RetireIfClear(f.ctx, f.room, after); !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("RetireIfClear without state: %v, want ErrNoState", err)
	}
}
