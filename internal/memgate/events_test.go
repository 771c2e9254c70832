package memgate_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/eventgatetest"
	"github.com/roomcal/roomcal/internal/memgate"
)

func TestEventContract(t *testing.T) {
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
		c := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
		g := memgate.NewEventGate(memgate.WithEventClock(c.Now))
		return eventgatetest.Target{Gate: g, Flush: func(*testing.T) { g.Flush() }}
	})
}

// The real clock works too.
func TestEventContractRealClock(t *testing.T) {
	eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
		g := memgate.NewEventGate()
		return eventgatetest.Target{Gate: g, Flush: func(*testing.T) { g.Flush() }}
	})
}

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// evFixture is an EventGate on a fake clock with event "e" loaded.
type evFixture struct {
	t   *testing.T
	ctx context.Context
	c   *clock
	g   *memgate.EventGate
}

func newEvFixture(t *testing.T, s events.Settings, regs ...events.Registration) *evFixture {
	t.Helper()
	c := &clock{now: t0}
	f := &evFixture{t: t, ctx: context.Background(), c: c, g: memgate.NewEventGate(memgate.WithEventClock(c.Now))}
	if s.Start.IsZero() {
		s.Start = t0.Add(24 * time.Hour)
	}
	ev := events.Event{ID: "e", Title: "Talk", Start: s.Start, End: s.Start.Add(time.Hour), Settings: s}
	if err := f.g.Load(f.ctx, "e", events.State{Gen: "g1", ETag: "E0", Event: ev, Registrations: regs}, ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *evFixture) register(member string) (events.Outcome, error) {
	f.t.Helper()
	return f.g.Register(f.ctx, "e", events.Registration{Member: member, Name: "N " + member, Email: member + "@x"}, f.c.Now())
}

func (f *evFixture) mustRegister(member string, want events.RegStatus, pos int) events.Outcome {
	f.t.Helper()
	o, err := f.register(member)
	if err != nil {
		f.t.Fatalf("register %s: %v", member, err)
	}
	if o.Reg.Status != want || o.Reg.Position != pos {
		f.t.Fatalf("register %s: %s at %d, want %s at %d", member, o.Reg.Status, o.Reg.Position, want, pos)
	}
	return o
}

func (f *evFixture) state() events.State {
	f.t.Helper()
	st, err := f.g.State(f.ctx, "e")
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// lineup is the state's registrations as "member:status:position".
func lineup(st events.State) []string {
	var out []string
	for _, r := range st.Registrations {
		out = append(out, fmt.Sprintf("%s:%c%d", r.Member, r.Status[0], r.Position))
	}
	return out
}

func (f *evFixture) wantLineup(want ...string) {
	f.t.Helper()
	if got := lineup(f.state()); !slices.Equal(got, want) {
		f.t.Fatalf("registrations %v, want %v", got, want)
	}
}

func (f *evFixture) written() {
	f.t.Helper()
	st := f.state()
	if err := f.g.Written(f.ctx, "e", st.Gen, st.Ver, fmt.Sprintf("E%d", st.Ver)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *evFixture) lock() booking.Lease {
	f.t.Helper()
	l, ok, err := f.g.Lock(f.ctx, "e", time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("lock: %v %v", ok, err)
	}
	return l
}

func TestEventRegisterUntilFull(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 3})
	for i, m := range []string{"a", "b", "c"} {
		o := f.mustRegister(m, events.Confirmed, 0)
		if !o.Created || o.Ver != int64(i+1) || o.Gen != "g1" || o.Reg.Seq != int64(i+1) || !o.Reg.At.Equal(t0) {
			t.Fatalf("register %s: %+v", m, o)
		}
	}
	_, err := f.register("d")
	if !errors.Is(err, events.ErrFull) {
		t.Fatalf("fourth: %v, want ErrFull", err)
	}
	if st := f.state(); st.Ver != 3 || st.Seq != 3 {
		t.Fatalf("refusal changed the state: %+v", st)
	}
}

func TestEventWaitlistPositions(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2, Waitlist: true})
	f.mustRegister("a", events.Confirmed, 0)
	f.mustRegister("b", events.Confirmed, 0)
	f.mustRegister("c", events.Waitlisted, 1)
	f.mustRegister("d", events.Waitlisted, 2)
	f.mustRegister("e", events.Waitlisted, 3)
	f.wantLineup("a:c0", "b:c0", "c:w1", "d:w2", "e:w3")
	if _, err := f.g.Unregister(f.ctx, "e", "d"); err != nil {
		t.Fatal(err)
	}
	f.wantLineup("a:c0", "b:c0", "c:w1", "e:w2")
	if o, _ := f.register("e"); o.Reg.Position != 2 {
		t.Fatalf("re-register e: %+v", o.Reg)
	}
}

func TestEventRegisterIdempotent(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 1, Waitlist: true})
	first := f.mustRegister("a", events.Confirmed, 0)
	f.c.Advance(t, time.Minute)
	again, err := f.g.Register(f.ctx, "e", events.Registration{Member: "a", Name: "Other"}, f.c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Ver != first.Ver || again.Reg != first.Reg {
		t.Fatalf("again %+v, first %+v", again, first)
	}
	f.written()
	again, _ = f.register("a")
	if again.Ver != 0 || again.Created {
		t.Fatalf("after durable: %+v", again)
	}
	// A live registration is returned even when registration is closed.
	st := f.state()
	ev := st.Event
	ev.Settings.Cancelled = true
	if _, err := f.g.Configure(f.ctx, "e", ev); err != nil {
		t.Fatal(err)
	}
	if o, err := f.register("a"); err != nil || o.Reg.Member != "a" {
		t.Fatalf("cancelled, registered: %+v %v", o, err)
	}
}

func TestEventRegisterClosed(t *testing.T) {
	start := t0.Add(24 * time.Hour)
	full := []events.Registration{{Member: "z", Seq: 1, Status: events.Confirmed}}
	tests := []struct {
		name string
		s    events.Settings
		regs []events.Registration
		at   time.Time
		want error
	}{
		{"cancelled", events.Settings{Cancelled: true}, nil, t0, events.ErrClosed},
		{"before opens", events.Settings{Opens: t0.Add(time.Hour)}, nil, t0, events.ErrClosed},
		{"at opens", events.Settings{Opens: t0}, nil, t0, nil},
		{"at closes", events.Settings{Closes: t0.Add(time.Hour)}, nil, t0.Add(time.Hour), events.ErrClosed},
		{"before closes", events.Settings{Closes: t0.Add(time.Hour)}, nil, t0.Add(time.Hour - 1), nil},
		{"at start", events.Settings{}, nil, start, events.ErrClosed},
		{"before start", events.Settings{}, nil, start.Add(-1), nil},
		{"closed before full", events.Settings{Cancelled: true}, full, t0, events.ErrClosed},
		{"full", events.Settings{}, full, t0, events.ErrFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Capacity = 1
			f := newEvFixture(t, tt.s, tt.regs...)
			o, err := f.g.Register(f.ctx, "e", events.Registration{Member: "a"}, tt.at)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil || !o.Created || o.Reg.Status != events.Confirmed {
				t.Fatalf("got %+v %v", o, err)
			}
		})
	}
}

func TestEventUnregister(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2, Waitlist: true})
	for _, m := range []string{"a", "b", "c", "d"} {
		f.register(m)
	}
	o, err := f.g.Unregister(f.ctx, "e", "a")
	if err != nil || !o.Found || o.Ver != 5 || o.Gen != "g1" {
		t.Fatalf("unregister a: %+v %v", o, err)
	}
	f.wantLineup("b:c0", "c:c0", "d:w1")
	// Again: not found, the removal still pending.
	o, _ = f.g.Unregister(f.ctx, "e", "a")
	if o.Found || o.Ver != 5 {
		t.Fatalf("unregister a again: %+v", o)
	}
	// A waitlisted member leaving promotes no one.
	o, _ = f.g.Unregister(f.ctx, "e", "d")
	if !o.Found || o.Ver != 6 {
		t.Fatalf("unregister d: %+v", o)
	}
	f.wantLineup("b:c0", "c:c0")
	f.written()
	o, _ = f.g.Unregister(f.ctx, "e", "a")
	if o.Found || o.Ver != 0 {
		t.Fatalf("unregister a after durable: %+v", o)
	}
	o, _ = f.g.Unregister(f.ctx, "e", "never")
	if o.Found || o.Ver != 0 {
		t.Fatalf("unregister unknown: %+v", o)
	}
}

func TestEventConfigure(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2, Waitlist: true})
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		f.register(m)
	}
	ev := f.state().Event
	ev.Description = "new"
	ev.Settings.Capacity = 4
	o, err := f.g.Configure(f.ctx, "e", ev)
	if err != nil || o.Ver != 6 {
		t.Fatalf("raise: %+v %v", o, err)
	}
	f.wantLineup("a:c0", "b:c0", "c:c0", "d:c0", "e:w1")
	if st := f.state(); st.Event.Description != "new" || st.Event.Settings.Capacity != 4 {
		t.Fatalf("event %+v", st.Event)
	}
	ev.Settings.Capacity = 1
	ev.Settings.Waitlist = false
	if _, err := f.g.Configure(f.ctx, "e", ev); err != nil {
		t.Fatal(err)
	}
	f.wantLineup("a:c0", "b:c0", "c:c0", "d:c0", "e:w1")
	if _, err := f.register("x"); !errors.Is(err, events.ErrFull) {
		t.Fatalf("register over a lowered cap: %v", err)
	}
	ev.Settings.Waitlist = true
	f.g.Configure(f.ctx, "e", ev)
	f.mustRegister("x", events.Waitlisted, 2)
	// Leaving while still over the cap promotes no one.
	f.g.Unregister(f.ctx, "e", "a")
	f.wantLineup("b:c0", "c:c0", "d:c0", "e:w1", "x:w2")
	for _, bad := range []events.Event{{ID: "other", Settings: events.Settings{Capacity: 1}}, {Settings: events.Settings{Capacity: 0}}} {
		if _, err := f.g.Configure(f.ctx, "e", bad); err == nil {
			t.Fatalf("configure %+v: no error", bad)
		}
	}
}

func TestEventReconcile(t *testing.T) {
	durable := []events.Registration{
		{Member: "a", Seq: 1, Status: events.Confirmed},
		{Member: "b", Seq: 2, Status: events.Confirmed},
		{Member: "w", Seq: 3, Status: events.Waitlisted},
	}
	f := newEvFixture(t, events.Settings{Capacity: 2, Waitlist: false, Closes: t0.Add(-time.Hour)}, durable...)
	ev := f.state().Event
	// Pending changes: c waits (via a reopened window), a leaves.
	open := ev
	open.Settings.Closes, open.Settings.Waitlist = time.Time{}, true
	f.g.Configure(f.ctx, "e", open)
	f.mustRegister("c", events.Waitlisted, 2)
	f.g.Configure(f.ctx, "e", ev)   // closed again, no waiting list
	f.g.Unregister(f.ctx, "e", "a") // promotes w
	f.wantLineup("b:c0", "w:c0", "c:w1")
	before := f.state()

	// The same ETag: nothing is done.
	st, err := f.g.Reconcile(f.ctx, "e", before.ETag, events.Event{Title: "ignored"}, nil, t0)
	if err != nil || !reflect.DeepEqual(st, before) {
		t.Fatalf("same etag: %+v %v", st, err)
	}

	// The object lists a (removal pending: not re-added), not b (durable:
	// removed outside, promoting c), not c (pending: kept), w, and x and
	// y added outside (waitlisted though there is no waiting list and
	// the window is closed).
	outside := ev
	outside.Title = "Renamed"
	outside.Start = ev.Start.Add(time.Hour)
	outside.Settings = events.Settings{Capacity: 99}
	present := []events.Registration{
		{Member: "a"}, {Member: "w"}, {Member: "x", Name: "X"},
		{Member: "y", At: t0.Add(-time.Hour)}, {Member: "x"},
	}
	now := t0.Add(time.Minute)
	st, err = f.g.Reconcile(f.ctx, "e", "E-out", outside, present, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lineup(st), []string{"w:c0", "c:c0", "x:w1", "y:w2"}; !slices.Equal(got, want) {
		t.Fatalf("after reconcile %v, want %v", got, want)
	}
	if st.Ver != before.Ver+1 || st.ETag != "E-out" || st.Seq != 6 {
		t.Fatalf("ver %d etag %q seq %d", st.Ver, st.ETag, st.Seq)
	}
	x, _ := st.Find("x")
	y, _ := st.Find("y")
	if x.Name != "X" || x.Seq != 5 || !x.At.Equal(now) || y.Seq != 6 || !y.At.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("added %+v %+v", x, y)
	}
	wantSettings := ev.Settings
	wantSettings.Start = outside.Start
	if st.Event.Title != "Renamed" || !st.Event.Start.Equal(outside.Start) || st.Event.Settings != wantSettings {
		t.Fatalf("event %+v", st.Event)
	}
	if got := f.state(); !reflect.DeepEqual(got, st) {
		t.Fatalf("returned %+v, held %+v", st, got)
	}

	// With no ev.Start, the settings' Start is ev.Settings.Start.
	noStart := outside
	noStart.Start = time.Time{}
	noStart.Settings.Start = ev.Start.Add(2 * time.Hour)
	st3, err := f.g.Reconcile(f.ctx, "e", "E-nostart", noStart, present, now)
	if err != nil || !st3.Event.Settings.Start.Equal(noStart.Settings.Start) || st3.Event.Settings.Capacity != 2 {
		t.Fatalf("no start: %+v %v", st3.Event, err)
	}
	l := f.lock()
	if err := f.g.Rollback(f.ctx, "e", st.Gen, l.ID); err != nil {
		t.Fatal(err)
	}

	// A new ETag that changes nothing takes no version.
	st = f.state()
	st2, err := f.g.Reconcile(f.ctx, "e", "E-out2", st.Event, []events.Registration{{Member: "w"}, {Member: "b"}, {Member: "a"}}, now)
	if err != nil || st2.Ver != st.Ver || st2.ETag != "E-out2" {
		t.Fatalf("etag only: ver %d etag %q %v", st2.Ver, st2.ETag, err)
	}
}

// Reconcile takes removals as Unregister does: a durable registration
// missing from the object is removed, and a seat it frees goes to the
// head of the waiting list.
func TestEventReconcileRemovedOutside(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 1, Waitlist: true},
		events.Registration{Member: "a", Seq: 1, Status: events.Confirmed},
		events.Registration{Member: "b", Seq: 2, Status: events.Waitlisted},
		events.Registration{Member: "c", Seq: 3, Status: events.Waitlisted})
	st, err := f.g.Reconcile(f.ctx, "e", "E1", f.state().Event, []events.Registration{{Member: "b"}, {Member: "c"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lineup(st), []string{"b:c0", "c:w1"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// a's removal is pending: the old object, listing a, does not bring
	// a back.
	st, _ = f.g.Reconcile(f.ctx, "e", "E2", f.state().Event, []events.Registration{{Member: "a"}, {Member: "b"}, {Member: "c"}}, t0)
	if got, want := lineup(st), []string{"b:c0", "c:w1"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Rollback puts back exactly the state at Durable, but for Seq.
func TestEventRollbackExact(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2, Waitlist: true},
		events.Registration{Member: "a", Seq: 1, Status: events.Confirmed, At: t0},
		events.Registration{Member: "b", Seq: 2, Status: events.Confirmed, At: t0},
		events.Registration{Member: "w", Seq: 3, Status: events.Waitlisted, At: t0})
	f.register("c")
	f.g.Unregister(f.ctx, "e", "b") // promotes w
	f.written()                     // durable: a, w, c waits
	f.g.Unregister(f.ctx, "e", "x") // nothing
	durableState := f.state()

	// A mix of changes.
	f.register("d")
	f.g.Unregister(f.ctx, "e", "a") // promotes c
	f.register("a")
	f.register("b")
	ev := durableState.Event
	ev.Settings.Capacity = 5
	ev.Title = "Bigger"
	f.g.Configure(f.ctx, "e", ev)
	f.g.Unregister(f.ctx, "e", "w")
	f.g.Reconcile(f.ctx, "e", "E-out", ev, []events.Registration{{Member: "a"}, {Member: "c"}, {Member: "d"}, {Member: "z"}}, t0)
	f.g.Unregister(f.ctx, "e", "z")
	after := f.state()
	if after.Ver <= durableState.Ver {
		t.Fatalf("no change: %+v", after)
	}

	l := f.lock()
	defer l.Release()
	if err := f.g.Rollback(f.ctx, "e", after.Gen, l.ID); err != nil {
		t.Fatal(err)
	}
	got := f.state()
	want := durableState
	want.Ver, want.Durable, want.Seq = after.Ver, after.Ver, after.Seq
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after rollback\n got %+v\nwant %+v", got, want)
	}
	p, err := f.g.Progress(f.ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Failed, []events.VerRange{{From: durableState.Ver, To: after.Ver}}) || p.Durable != after.Ver {
		t.Fatalf("progress %+v", p)
	}
	if _, err := p.Settle(after.Gen, after.Ver); !errors.Is(err, events.ErrRolledBack) {
		t.Fatalf("settle rolled back: %v", err)
	}
	if done, err := p.Settle(after.Gen, durableState.Ver); !done || err != nil {
		t.Fatalf("settle durable: %v %v", done, err)
	}
	// The rolled-back members are not pending removals any more: an
	// outside object listing them re-adds them, and new arrivals get
	// fresh arrival numbers.
	o := f.mustRegister("d", events.Waitlisted, 2)
	if o.Reg.Seq != after.Seq+1 || o.Ver != after.Ver+1 {
		t.Fatalf("register after rollback: %+v", o)
	}
	// Nothing pending: a second rollback records no range.
	f.written()
	if err := f.g.Rollback(f.ctx, "e", after.Gen, l.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.g.Progress(f.ctx, "e"); len(p.Failed) != 1 {
		t.Fatalf("failed %+v", p.Failed)
	}
}

// Rollback after Reconcile puts back the ETag, so the next Reconcile of
// the same object applies its changes again.
func TestEventRollbackReconcile(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2})
	ev := f.state().Event
	f.g.Reconcile(f.ctx, "e", "E1", ev, []events.Registration{{Member: "x"}}, t0)
	l := f.lock()
	if err := f.g.Rollback(f.ctx, "e", "g1", l.ID); err != nil {
		t.Fatal(err)
	}
	if st := f.state(); st.ETag != "E0" || len(st.Registrations) != 0 {
		t.Fatalf("after rollback %+v", st)
	}
	st, _ := f.g.Reconcile(f.ctx, "e", "E1", ev, []events.Registration{{Member: "x"}}, t0)
	if got := lineup(st); !slices.Equal(got, []string{"x:c0"}) {
		t.Fatalf("reconciled again: %v", got)
	}
}

func TestEventRollbackLease(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 2})
	f.register("a")
	if err := f.g.Rollback(f.ctx, "e", "g1", ""); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("no lease: %v", err)
	}
	if err := f.g.Rollback(f.ctx, "e", "g1", "42"); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("unknown lease: %v", err)
	}
	l := f.lock()
	if err := f.g.Rollback(f.ctx, "e", "other", l.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("other generation: %v", err)
	}
	f.c.Advance(t, time.Minute)
	if err := f.g.Rollback(f.ctx, "e", "g1", l.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("expired lease: %v", err)
	}
	if got := lineup(f.state()); !slices.Equal(got, []string{"a:c0"}) {
		t.Fatalf("refused rollback changed the state: %v", got)
	}
	l = f.lock()
	f.g.Drop(f.ctx, "e")
	if err := f.g.Rollback(f.ctx, "e", "g1", l.ID); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("after drop: %v", err)
	}
	f.g.Flush()
	if err := f.g.Rollback(f.ctx, "e", "g1", l.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("after flush: %v", err)
	}
}

func TestEventLoad(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	g := memgate.NewEventGate(memgate.WithEventClock(c.Now))
	ev := events.Event{Title: "T", Start: t0.Add(time.Hour), Settings: events.Settings{Capacity: 2, Start: t0.Add(time.Hour)}}
	st := events.State{
		Ver: 7, Durable: 3, ETag: "E7", Event: ev, Seq: 2,
		Registrations: []events.Registration{
			{Member: "u1", Name: "U1"},
			{Member: "w", Seq: 9, Status: events.Waitlisted, Position: 5, At: t0.In(time.FixedZone("X", 3600))},
			{Member: "a", Seq: 4, Status: events.Confirmed},
			{Member: "u2", At: t0.Add(-time.Hour)},
			{Member: "a", Seq: 0},
		},
	}
	if err := g.Load(ctx, "e", st, "7"); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("load with a lease not held: %v", err)
	}
	if _, err := g.State(ctx, "e"); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("state: %v", err)
	}
	l, _, _ := g.Lock(ctx, "e", time.Minute)
	if err := g.Load(ctx, "e", st, l.ID); err != nil {
		t.Fatal(err)
	}
	got, err := g.State(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if got.Gen == "" || got.Ver != 7 || got.Durable != 7 || got.ETag != "E7" || got.Seq != 11 || got.Event.ID != "e" {
		t.Fatalf("loaded %+v", got)
	}
	if l := lineup(got); !slices.Equal(l, []string{"a:c0", "u1:c0", "w:w1", "u2:w2"}) {
		t.Fatalf("lineup %v", l)
	}
	u1, _ := got.Find("u1")
	u2, _ := got.Find("u2")
	w, _ := got.Find("w")
	if u1.Seq != 10 || u2.Seq != 11 || !u1.At.Equal(t0) || !u2.At.Equal(t0.Add(-time.Hour)) || w.At.Location() != time.UTC {
		t.Fatalf("u1 %+v u2 %+v w %+v", u1, u2, w)
	}
	// Loaded registrations are durable.
	if o, _ := g.Register(ctx, "e", events.Registration{Member: "a"}, t0); o.Ver != 0 {
		t.Fatalf("register loaded: %+v", o)
	}

	// With the lease and a state present: left as it is.
	other := st
	other.Gen, other.Registrations = "g9", nil
	if err := g.Load(ctx, "e", other, l.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := g.State(ctx, "e"); !reflect.DeepEqual(again, got) {
		t.Fatalf("state replaced: %+v", again)
	}
	// Without a lease: replaced.
	if err := g.Load(ctx, "e", other, ""); err != nil {
		t.Fatal(err)
	}
	if again, _ := g.State(ctx, "e"); again.Gen != "g9" || len(again.Registrations) != 0 || again.Seq != 2 {
		t.Fatalf("not replaced: %+v", again)
	}
	// A flush takes the lease.
	g.Flush()
	if err := g.Load(ctx, "e", st, l.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("load after flush: %v", err)
	}
	// Each Load without a Gen makes a new one.
	g.Load(ctx, "e", events.State{Event: ev}, "")
	s1, _ := g.State(ctx, "e")
	g.Load(ctx, "e", events.State{Event: ev}, "")
	s2, _ := g.State(ctx, "e")
	if s1.Gen == s2.Gen {
		t.Fatalf("same generation %q twice", s1.Gen)
	}
}

func TestEventWritten(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 1, Waitlist: true})
	f.register("a")
	f.register("b")
	f.g.Unregister(f.ctx, "e", "a")
	if err := f.g.Written(f.ctx, "e", "other", 3, "X"); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("other generation: %v", err)
	}
	if err := f.g.Written(f.ctx, "e", "g1", 2, "E2"); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.g.Progress(f.ctx, "e"); p.Durable != 2 || p.Ver != 3 {
		t.Fatalf("progress %+v", p)
	}
	if err := f.g.Written(f.ctx, "e", "g1", 3, "E3"); err != nil {
		t.Fatal(err)
	}
	// An older Written does not move Durable back.
	if err := f.g.Written(f.ctx, "e", "g1", 1, "E3"); err != nil {
		t.Fatal(err)
	}
	st := f.state()
	if st.Durable != 3 || st.ETag != "E3" {
		t.Fatalf("state %+v", st)
	}
	if o, _ := f.g.Unregister(f.ctx, "e", "a"); o.Ver != 0 || o.Found {
		t.Fatalf("durable removal: %+v", o)
	}
	if o, _ := f.register("b"); o.Ver != 0 {
		t.Fatalf("durable promotion: %+v", o)
	}
	// Nothing left to undo.
	l := f.lock()
	f.g.Rollback(f.ctx, "e", "g1", l.ID)
	if got := f.state(); !reflect.DeepEqual(got, st) {
		t.Fatalf("rollback with nothing pending changed %+v to %+v", st, got)
	}
	// Durable never passes Ver.
	f.register("z")
	if err := f.g.Written(f.ctx, "e", "g1", 99, "E99"); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.g.Progress(f.ctx, "e"); p.Durable != 4 || p.Ver != 4 {
		t.Fatalf("written ahead: %+v", p)
	}
}

func TestEventProgressFailedExpire(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 5})
	l, _, _ := f.g.Lock(f.ctx, "e", time.Hour)
	rollback := func() {
		t.Helper()
		if err := f.g.Rollback(f.ctx, "e", "g1", l.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.register("a")
	f.register("b")
	rollback() // (0, 2]
	f.c.Advance(t, 5*time.Minute)
	f.register("a")
	rollback() // (2, 3]
	p, _ := f.g.Progress(f.ctx, "e")
	if !slices.Equal(p.Failed, []events.VerRange{{From: 0, To: 2}, {From: 2, To: 3}}) {
		t.Fatalf("failed %v", p.Failed)
	}
	f.c.Advance(t, 5*time.Minute)
	p, _ = f.g.Progress(f.ctx, "e")
	if !slices.Equal(p.Failed, []events.VerRange{{From: 0, To: 2}, {From: 2, To: 3}}) {
		t.Fatalf("at ten minutes: %v", p.Failed)
	}
	f.c.Advance(t, time.Second)
	p, _ = f.g.Progress(f.ctx, "e")
	if !slices.Equal(p.Failed, []events.VerRange{{From: 2, To: 3}}) {
		t.Fatalf("after ten minutes: %v", p.Failed)
	}
	f.c.Advance(t, 5*time.Minute)
	p, _ = f.g.Progress(f.ctx, "e")
	if len(p.Failed) != 0 {
		t.Fatalf("after fifteen minutes: %v", p.Failed)
	}
}

func TestEventLockExpiry(t *testing.T) {
	f := newEvFixture(t, events.Settings{Capacity: 1})
	l := f.lock()
	if _, ok, err := f.g.Lock(f.ctx, "e", time.Minute); ok || err != nil {
		t.Fatalf("second lock: %v %v", ok, err)
	}
	f.c.Advance(t, time.Minute-time.Nanosecond)
	if _, ok, _ := f.g.Lock(f.ctx, "e", time.Minute); ok {
		t.Fatal("locked before expiry")
	}
	f.c.Advance(t, time.Nanosecond)
	l2 := f.lock()
	l.Release() // no longer l's: leaves l2 alone
	if _, ok, _ := f.g.Lock(f.ctx, "e", time.Minute); ok {
		t.Fatal("a stale release freed the lock")
	}
	l2.Release()
	l3 := f.lock()
	// A lock on an event without state works; Drop leaves the lock.
	if _, ok, err := f.g.Lock(f.ctx, "other", time.Minute); !ok || err != nil {
		t.Fatalf("lock other: %v %v", ok, err)
	}
	if err := f.g.Drop(f.ctx, "e"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.g.State(f.ctx, "e"); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("state after drop: %v", err)
	}
	if err := f.g.Load(f.ctx, "e", events.State{Event: events.Event{Settings: events.Settings{Capacity: 1}}}, l3.ID); err != nil {
		t.Fatalf("load after drop: %v", err)
	}
	f.g.Flush()
	f.lock()
	if _, _, err := f.g.Lock(f.ctx, "e", 0); err == nil {
		t.Fatal("zero ttl: no error")
	}
}

func TestEventNoState(t *testing.T) {
	ctx := context.Background()
	g := memgate.NewEventGate()
	now := time.Now()
	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, events.ErrNoState) {
			t.Errorf("%s: %v, want ErrNoState", name, err)
		}
	}
	for range 2 {
		_, err := g.Register(ctx, "e", events.Registration{Member: "a"}, now)
		check("register", err)
		_, err = g.Unregister(ctx, "e", "a")
		check("unregister", err)
		_, err = g.Configure(ctx, "e", events.Event{Settings: events.Settings{Capacity: 1}})
		check("configure", err)
		_, err = g.Reconcile(ctx, "e", "x", events.Event{}, nil, now)
		check("reconcile", err)
		_, err = g.State(ctx, "e")
		check("state", err)
		_, err = g.Progress(ctx, "e")
		check("progress", err)
		check("written", g.Written(ctx, "e", "g", 0, "x"))
		_, err = g.IndexRange(ctx, now, now.Add(time.Hour))
		check("index range", err)
		_, err = g.IndexToken(ctx)
		check("index token", err)
		check("index put", g.IndexPut(ctx, "e", now))
		check("index del", g.IndexDel(ctx, "e"))
		check("set index token", g.SetIndexToken(ctx, "t"))
		if sums, err := g.Summaries(ctx, []string{"e"}); err != nil || len(sums) != 0 {
			t.Errorf("summaries: %v %v", sums, err)
		}
		// Load, then flush: no state again.
		if err := g.Load(ctx, "e", events.State{Event: events.Event{Settings: events.Settings{Capacity: 1}}}, ""); err != nil {
			t.Fatal(err)
		}
		if err := g.IndexLoad(ctx, "", nil); err != nil {
			t.Fatal(err)
		}
		g.Flush()
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.State(cancelled, "e"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestEventSummaries(t *testing.T) {
	ctx := context.Background()
	g := memgate.NewEventGate()
	for i, id := range []string{"x", "y"} {
		ev := events.Event{Title: id, Settings: events.Settings{Capacity: 1, Waitlist: true}}
		regs := []events.Registration{{Member: "a"}}
		if i == 1 {
			regs = append(regs, events.Registration{Member: "b"}, events.Registration{Member: "c"})
		}
		if err := g.Load(ctx, id, events.State{Event: ev, Registrations: regs}, ""); err != nil {
			t.Fatal(err)
		}
	}
	sums, err := g.Summaries(ctx, []string{"y", "missing", "x", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[0].Event.ID != "y" || sums[0].Confirmed != 1 || sums[0].Waitlisted != 2 ||
		sums[1].Event.ID != "x" || sums[1].Confirmed != 1 || sums[1].Waitlisted != 0 {
		t.Fatalf("summaries %+v", sums)
	}
}

// What the gate returns is a copy.
func TestEventNoAliasing(t *testing.T) {
	ctx := context.Background()
	g := memgate.NewEventGate()
	groups := []string{"staff"}
	ev := events.Event{Organizer: booking.Member{ID: "o", Groups: groups}, Settings: events.Settings{Capacity: 1}}
	regs := []events.Registration{{Member: "a", Seq: 1, Status: events.Confirmed}}
	if err := g.Load(ctx, "e", events.State{Event: ev, Registrations: regs}, ""); err != nil {
		t.Fatal(err)
	}
	groups[0] = "changed"
	regs[0].Member = "changed"
	st, _ := g.State(ctx, "e")
	st.Event.Organizer.Groups[0] = "changed too"
	st.Registrations[0].Status = events.Waitlisted
	sums, _ := g.Summaries(ctx, []string{"e"})
	sums[0].Event.Organizer.Groups[0] = "changed three"
	st, _ = g.State(ctx, "e")
	if st.Event.Organizer.Groups[0] != "staff" || st.Registrations[0].Member != "a" || st.Registrations[0].Status != events.Confirmed {
		t.Fatalf("aliased: %+v", st)
	}
}

func TestEventIndex(t *testing.T) {
	ctx := context.Background()
	g := memgate.NewEventGate()
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	if err := g.IndexLoad(ctx, "tok1", map[string]time.Time{"c": h(2), "a": h(1), "b": h(1), "z": h(5), "old": h(-1)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to time.Time
		want     []string
	}{
		{h(0), h(5), []string{"a", "b", "c"}},
		{h(1), h(2), []string{"a", "b"}},
		{h(-10), h(10), []string{"old", "a", "b", "c", "z"}},
		{h(5), h(5), nil},
		{h(6), h(0), nil},
	}
	for _, tt := range tests {
		got, err := g.IndexRange(ctx, tt.from, tt.to)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("range [%v, %v): %v %v, want %v", tt.from, tt.to, got, err, tt.want)
		}
	}
	g.IndexPut(ctx, "a", h(3))                               // moved
	g.IndexPut(ctx, "n", h(1).In(time.FixedZone("X", 7200))) // new
	g.IndexDel(ctx, "c")
	g.IndexDel(ctx, "never")
	if got, _ := g.IndexRange(ctx, h(0), h(5)); !slices.Equal(got, []string{"b", "n", "a"}) {
		t.Fatalf("after put and del: %v", got)
	}
	if tok, err := g.IndexToken(ctx); tok != "tok1" || err != nil {
		t.Fatalf("token %q %v", tok, err)
	}
	g.SetIndexToken(ctx, "tok2")
	if tok, _ := g.IndexToken(ctx); tok != "tok2" {
		t.Fatalf("token %q", tok)
	}
	g.IndexLoad(ctx, "", map[string]time.Time{"q": h(1)})
	if got, _ := g.IndexRange(ctx, h(0), h(5)); !slices.Equal(got, []string{"q"}) {
		t.Fatalf("after reload: %v", got)
	}
	if tok, _ := g.IndexToken(ctx); tok != "" {
		t.Fatalf("token after reload %q", tok)
	}
}

// Many concurrent registrations: exactly Capacity confirmed, the rest
// waitlisted at positions 1..n, arrival numbers 1..N once each.
func TestEventConcurrentRegister(t *testing.T) {
	const n, capacity = 500, 50
	f := newEvFixture(t, events.Settings{Capacity: capacity, Waitlist: true})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if _, err := f.g.Register(f.ctx, "e", events.Registration{Member: fmt.Sprintf("m%03d", i)}, t0); err != nil {
				errs <- err
			}
			// Readers race with the writers.
			if _, err := f.g.State(f.ctx, "e"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := f.state()
	confirmed, waitlisted := st.Counts()
	if confirmed != capacity || waitlisted != n-capacity || st.Ver != n || st.Seq != n {
		t.Fatalf("confirmed %d waitlisted %d ver %d seq %d", confirmed, waitlisted, st.Ver, st.Seq)
	}
	seqs := map[int64]bool{}
	for i, r := range st.Registrations {
		seqs[r.Seq] = true
		if i < capacity && (r.Status != events.Confirmed || r.Position != 0) ||
			i >= capacity && (r.Status != events.Waitlisted || r.Position != i-capacity+1) {
			t.Fatalf("registration %d: %+v", i, r)
		}
		if i > 0 && st.Registrations[i-1].Status == r.Status && st.Registrations[i-1].Seq >= r.Seq {
			t.Fatalf("out of order at %d", i)
		}
		if r.Status == events.Confirmed && r.Seq > int64(capacity) {
			t.Fatalf("confirmed late arrival %+v", r)
		}
	}
	if len(seqs) != n {
		t.Fatalf("%d distinct arrival numbers", len(seqs))
	}
}

// Concurrent unregistrations and registrations on a full event keep the
// invariants: no more confirmed than Capacity, and a waiting list only
// when the event is full.
func TestEventConcurrentChurn(t *testing.T) {
	const capacity = 10
	f := newEvFixture(t, events.Settings{Capacity: capacity, Waitlist: true})
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			for i := range 50 {
				m := fmt.Sprintf("m%d", (w*7+i)%60)
				if i%3 == 0 {
					f.g.Unregister(f.ctx, "e", m)
				} else {
					f.g.Register(f.ctx, "e", events.Registration{Member: m}, t0)
				}
			}
		})
	}
	wg.Wait()
	st := f.state()
	confirmed, waitlisted := st.Counts()
	if confirmed > capacity || waitlisted > 0 && confirmed < capacity {
		t.Fatalf("confirmed %d, waitlisted %d", confirmed, waitlisted)
	}
}
