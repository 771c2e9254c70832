package redisgate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/testenv"
)

// eventGate returns an EventGate on the shared test Redis under a prefix
// of its own, deleted when t ends.
func eventGate(t *testing.T) (*EventGate, redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "t" + testenv.RandomID() + ":"
	t.Cleanup(func() {
		keys, _ := c.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
		_ = c.Close()
	})
	return NewEventGate(c, WithPrefix(prefix)), c
}

var (
	evNow   = time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)
	evStart = evNow.Add(7 * 24 * time.Hour)
)

func testEvent(id string, capacity int, waitlist bool) events.Event {
	return events.Event{
		ID: id, Title: "Talk " + id, Description: "about things",
		Start: evStart, End: evStart.Add(time.Hour), Location: "Hall",
		Organizer: booking.Member{ID: "org", Name: "Org", Email: "org@example.com"},
		Settings:  events.Settings{Capacity: capacity, Waitlist: waitlist, Start: evStart},
		Created:   evNow.Add(-time.Hour),
	}
}

// newEvent loads a fresh event (no lease) and returns its id and state.
func newEvent(t *testing.T, g *EventGate, capacity int, waitlist bool) (string, events.State) {
	t.Helper()
	id := "ev" + testenv.RandomID()
	if err := g.Load(context.Background(), id, events.State{ETag: `"e0"`, Event: testEvent(id, capacity, waitlist)}, ""); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return id, mustState(t, g, id)
}

func mustState(t *testing.T, g *EventGate, id string) events.State {
	t.Helper()
	st, err := g.State(context.Background(), id)
	if err != nil {
		t.Fatalf("State %s: %v", id, err)
	}
	return st
}

func reg(member string) events.Registration {
	return events.Registration{Member: member, Name: "Name " + member, Email: member + "@example.com"}
}

func mustRegister(t *testing.T, g *EventGate, id, member string) events.Outcome {
	t.Helper()
	out, err := g.Register(context.Background(), id, reg(member), evNow)
	if err != nil {
		t.Fatalf("Register %s: %v", member, err)
	}
	return out
}

// layout is "member:status:position" for every registration, in order.
func layout(st events.State) []string {
	var out []string
	for _, r := range st.Registrations {
		out = append(out, fmt.Sprintf("%s:%s:%d", r.Member, r.Status, r.Position))
	}
	return out
}

func wantLayout(t *testing.T, st events.State, want ...string) {
	t.Helper()
	if got := layout(st); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("registrations\n got %v\nwant %v", got, want)
	}
}

func TestEventRegister(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()

	tests := []struct {
		name     string
		capacity int
		waitlist bool
		members  []string
		errAt    int // index of the first member refused (-1: none)
		err      error
		want     []string
	}{
		{"until full", 2, false, []string{"a", "b", "c"}, 2, events.ErrFull, []string{"a:confirmed:0", "b:confirmed:0"}},
		{"waiting list", 2, true, []string{"a", "b", "c", "d", "e"}, -1, nil,
			[]string{"a:confirmed:0", "b:confirmed:0", "c:waitlisted:1", "d:waitlisted:2", "e:waitlisted:3"}},
		{"one seat", 1, false, []string{"a", "b"}, 1, events.ErrFull, []string{"a:confirmed:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, st0 := newEvent(t, g, tc.capacity, tc.waitlist)
			for i, m := range tc.members {
				out, err := g.Register(ctx, id, reg(m), evNow)
				if i == tc.errAt {
					if !errors.Is(err, tc.err) {
						t.Fatalf("Register %s: %v, want %v", m, err, tc.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Register %s: %v", m, err)
				}
				if !out.Created || out.Gen != st0.Gen || out.Ver != int64(i+1) || out.Reg.Seq != int64(i+1) {
					t.Fatalf("Register %s: %+v", m, out)
				}
				if out.Reg.Member != m || out.Reg.Name != "Name "+m || out.Reg.Email != m+"@example.com" || !out.Reg.At.Equal(evNow) || out.Reg.At.Location() != time.UTC {
					t.Fatalf("Register %s: registration %+v", m, out.Reg)
				}
			}
			st := mustState(t, g, id)
			wantLayout(t, st, tc.want...)
			if st.Seq != int64(len(tc.want)) || st.Ver != int64(len(tc.want)) || st.Durable != 0 {
				t.Fatalf("state seq %d ver %d durable %d", st.Seq, st.Ver, st.Durable)
			}
		})
	}

	t.Run("again", func(t *testing.T) {
		id, st := newEvent(t, g, 1, true)
		mustRegister(t, g, id, "a")
		first := mustRegister(t, g, id, "b")
		again := mustRegister(t, g, id, "b")
		if again.Created || again.Ver != first.Ver || again.Reg != first.Reg {
			t.Fatalf("again: %+v, first %+v", again, first)
		}
		if err := g.Written(ctx, id, st.Gen, 2, `"e1"`); err != nil {
			t.Fatal(err)
		}
		again = mustRegister(t, g, id, "b")
		if again.Created || again.Ver != 0 || again.Reg.Position != 1 || again.Reg.Status != events.Waitlisted {
			t.Fatalf("again after written: %+v", again)
		}
		// A full event without a waiting list still answers a member
		// already registered.
		if _, err := g.Configure(ctx, id, testEvent(id, 1, false)); err != nil {
			t.Fatal(err)
		}
		if out := mustRegister(t, g, id, "b"); out.Created {
			t.Fatalf("again without waiting list: %+v", out)
		}
	})
}

func TestEventClosed(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	tests := []struct {
		name string
		set  func(*events.Settings)
		now  time.Time
		err  error
	}{
		{"open", func(*events.Settings) {}, evNow, nil},
		{"cancelled", func(s *events.Settings) { s.Cancelled = true }, evNow, events.ErrClosed},
		{"before opens", func(s *events.Settings) { s.Opens = evNow.Add(time.Minute) }, evNow, events.ErrClosed},
		{"at opens", func(s *events.Settings) { s.Opens = evNow }, evNow, nil},
		{"at closes", func(s *events.Settings) { s.Closes = evNow }, evNow, events.ErrClosed},
		{"before closes", func(s *events.Settings) { s.Closes = evNow.Add(time.Millisecond) }, evNow, nil},
		{"at start", func(*events.Settings) {}, evStart, events.ErrClosed},
		{"closes after start", func(s *events.Settings) { s.Closes = evStart.Add(time.Minute) }, evStart, nil},
		{"no start", func(s *events.Settings) { s.Start = time.Time{} }, evStart.Add(time.Hour), nil},
		// Closed comes before full.
		{"closed and full", func(s *events.Settings) { s.Capacity = 0; s.Cancelled = true }, evNow, events.ErrClosed},
		{"full", func(s *events.Settings) { s.Capacity = 0 }, evNow, events.ErrFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "ev" + testenv.RandomID()
			ev := testEvent(id, 5, false)
			tc.set(&ev.Settings)
			if err := g.Load(ctx, id, events.State{Event: ev}, ""); err != nil {
				t.Fatal(err)
			}
			_, err := g.Register(ctx, id, reg("a"), tc.now)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Register: %v, want %v", err, tc.err)
			}
		})
	}
}

func TestEventUnregister(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id, st := newEvent(t, g, 2, true)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		mustRegister(t, g, id, m)
	}

	out, err := g.Unregister(ctx, id, "a")
	if err != nil || !out.Found || out.Ver != 6 || out.Gen != st.Gen {
		t.Fatalf("Unregister a: %+v %v", out, err)
	}
	wantLayout(t, mustState(t, g, id), "b:confirmed:0", "c:confirmed:0", "d:waitlisted:1", "e:waitlisted:2")

	// A waitlisted member leaving promotes no one.
	if out, err = g.Unregister(ctx, id, "d"); err != nil || !out.Found || out.Ver != 7 {
		t.Fatalf("Unregister d: %+v %v", out, err)
	}
	wantLayout(t, mustState(t, g, id), "b:confirmed:0", "c:confirmed:0", "e:waitlisted:1")

	// Not registered: the removal's version while it is not durable.
	if out, err = g.Unregister(ctx, id, "a"); err != nil || out.Found || out.Ver != 6 {
		t.Fatalf("Unregister a again: %+v %v", out, err)
	}
	if out, err = g.Unregister(ctx, id, "zz"); err != nil || out.Found || out.Ver != 0 {
		t.Fatalf("Unregister zz: %+v %v", out, err)
	}
	if err := g.Written(ctx, id, st.Gen, 7, `"e1"`); err != nil {
		t.Fatal(err)
	}
	if out, err = g.Unregister(ctx, id, "a"); err != nil || out.Found || out.Ver != 0 {
		t.Fatalf("Unregister a after written: %+v %v", out, err)
	}

	// Registering again after a removal takes a new seq, at the end.
	if out := mustRegister(t, g, id, "a"); out.Reg.Seq != 6 || out.Reg.Position != 2 {
		t.Fatalf("Register a again: %+v", out)
	}
}

func TestEventConfigure(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id, _ := newEvent(t, g, 2, true)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		mustRegister(t, g, id, m)
	}

	steps := []struct {
		name     string
		capacity int
		waitlist bool
		do       func(t *testing.T)
		want     []string
	}{
		{"raise promotes at once", 4, true, nil,
			[]string{"a:confirmed:0", "b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:waitlisted:1"}},
		{"lower removes no one", 2, true, nil,
			[]string{"a:confirmed:0", "b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:waitlisted:1"}},
		{"new registrants wait", 2, true, func(t *testing.T) { mustRegister(t, g, id, "f") },
			[]string{"a:confirmed:0", "b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:waitlisted:1", "f:waitlisted:2"}},
		{"leaving above the cap promotes no one", 2, true, func(t *testing.T) {
			if _, err := g.Unregister(ctx, id, "a"); err != nil {
				t.Fatal(err)
			}
		}, []string{"b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:waitlisted:1", "f:waitlisted:2"}},
		{"waiting list off keeps who waits", 2, false, nil,
			[]string{"b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:waitlisted:1", "f:waitlisted:2"}},
		{"raise without waiting list still promotes", 5, false, nil,
			[]string{"b:confirmed:0", "c:confirmed:0", "d:confirmed:0", "e:confirmed:0", "f:confirmed:0"}},
	}
	for _, s := range steps {
		ev := testEvent(id, s.capacity, s.waitlist)
		ev.Title = s.name
		before := mustState(t, g, id)
		out, err := g.Configure(ctx, id, ev)
		if err != nil {
			t.Fatalf("%s: Configure: %v", s.name, err)
		}
		if out.Ver != before.Ver+1 {
			t.Fatalf("%s: Configure ver %d, state was at %d", s.name, out.Ver, before.Ver)
		}
		if s.do != nil {
			s.do(t)
		}
		st := mustState(t, g, id)
		wantLayout(t, st, s.want...)
		if st.Event.Title != s.name || st.Event.Settings.Capacity != s.capacity || st.Event.Settings.Waitlist != s.waitlist {
			t.Fatalf("%s: event %+v", s.name, st.Event)
		}
	}
	if _, err := g.Configure(ctx, id, testEvent("other", 1, false)); err == nil {
		t.Fatal("Configure with another event's id: no error")
	}
}

func TestEventReconcile(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()

	// Each case starts from an event of capacity 2 set up by setup:
	// durable registers members and makes them durable.
	type setup func(t *testing.T, id string, gen string)
	durable := func(members ...string) setup {
		return func(t *testing.T, id, gen string) {
			for _, m := range members {
				mustRegister(t, g, id, m)
			}
			st := mustState(t, g, id)
			if err := g.Written(ctx, id, gen, st.Ver, `"e1"`); err != nil {
				t.Fatal(err)
			}
		}
	}
	then := func(a, b setup) setup {
		return func(t *testing.T, id, gen string) { a(t, id, gen); b(t, id, gen) }
	}
	pending := func(f func(t *testing.T, id string)) setup {
		return func(t *testing.T, id, _ string) { f(t, id) }
	}
	tests := []struct {
		name     string
		waitlist bool
		setup    setup
		present  []string
		etag     string
		newVer   bool
		want     []string
	}{
		{"same etag does nothing", true, durable("a", "b"), nil, `"e1"`, false,
			[]string{"a:confirmed:0", "b:confirmed:0"}},
		{"nothing changed", true, durable("a", "b"), []string{"a", "b"}, `"e2"`, false,
			[]string{"a:confirmed:0", "b:confirmed:0"}},
		{"added outside: seat then waiting even without a list", false, durable("a"), []string{"a", "x", "y", "x"}, `"e2"`, true,
			[]string{"a:confirmed:0", "x:confirmed:0", "y:waitlisted:1"}},
		{"removed outside promotes", true, durable("a", "b", "x"), []string{"b", "x"}, `"e2"`, true,
			[]string{"b:confirmed:0", "x:confirmed:0"}},
		{"removed outside, waiting one removed too", true, durable("a", "b", "c"), []string{"b"}, `"e2"`, true,
			[]string{"b:confirmed:0"}},
		{"pending registration kept", true, then(durable("a"), pending(func(t *testing.T, id string) { mustRegister(t, g, id, "p") })),
			[]string{"a"}, `"e2"`, false, []string{"a:confirmed:0", "p:confirmed:0"}},
		{"pending removal kept", true, then(durable("a", "b"), pending(func(t *testing.T, id string) {
			if _, err := g.Unregister(ctx, id, "b"); err != nil {
				t.Fatal(err)
			}
		})), []string{"a", "b"}, `"e2"`, false, []string{"a:confirmed:0"}},
		{"durable removal re-added outside", true, then(durable("a", "b"), pending(func(t *testing.T, id string) {
			if _, err := g.Unregister(ctx, id, "b"); err != nil {
				t.Fatal(err)
			}
			st := mustState(t, g, id)
			if err := g.Written(ctx, id, st.Gen, st.Ver, `"e1"`); err != nil {
				t.Fatal(err)
			}
		})), []string{"a", "b"}, `"e2"`, true, []string{"a:confirmed:0", "b:confirmed:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, st0 := newEvent(t, g, 2, tc.waitlist)
			tc.setup(t, id, st0.Gen)
			before := mustState(t, g, id)
			var present []events.Registration
			for _, m := range tc.present {
				present = append(present, reg(m))
			}
			// The same event (only members change here), with settings
			// that are to be ignored.
			ev := before.Event
			ev.Settings = events.Settings{Capacity: 99, Cancelled: true}
			st, err := g.Reconcile(ctx, id, tc.etag, ev, present, evNow.Add(time.Minute))
			if err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			wantLayout(t, st, tc.want...)
			if !reflect.DeepEqual(st, mustState(t, g, id)) {
				t.Fatalf("Reconcile answered %+v, State %+v", st, mustState(t, g, id))
			}
			if tc.newVer != (st.Ver == before.Ver+1) || (!tc.newVer && st.Ver != before.Ver) {
				t.Fatalf("ver %d, was %d (new version wanted: %v)", st.Ver, before.Ver, tc.newVer)
			}
			if st.ETag != tc.etag {
				t.Fatalf("etag %s, want %s", st.ETag, tc.etag)
			}
			if st.Event.Settings != before.Event.Settings {
				t.Fatalf("settings changed: %+v, was %+v", st.Event.Settings, before.Event.Settings)
			}
			for _, r := range st.Registrations {
				if b, ok := before.Find(r.Member); !ok && (!r.At.Equal(evNow.Add(time.Minute)) || r.Seq <= before.Seq) {
					t.Fatalf("added %+v", r)
				} else if ok && r.Seq != b.Seq {
					t.Fatalf("seq of %s changed: %+v, was %+v", r.Member, r, b)
				}
			}
		})
	}

	t.Run("fields and start", func(t *testing.T) {
		id, st0 := newEvent(t, g, 2, true)
		ev := testEvent(id, 7, false)
		ev.Title = "Moved"
		ev.Start = evStart.Add(24 * time.Hour)
		ev.End = ev.Start.Add(time.Hour)
		ev.Settings.Cancelled = true
		st, err := g.Reconcile(ctx, id, `"e9"`, ev, nil, evNow)
		if err != nil {
			t.Fatal(err)
		}
		want := st0.Event.Settings
		want.Start = ev.Start
		if st.Event.Title != "Moved" || !st.Event.Start.Equal(ev.Start) || st.Event.Settings != want || st.Ver != 1 {
			t.Fatalf("after reconcile: %+v ver %d", st.Event, st.Ver)
		}
		// The given At is kept.
		at := evNow.Add(-48 * time.Hour)
		st, err = g.Reconcile(ctx, id, `"e10"`, ev, []events.Registration{{Member: "mailto:x@example.com", Email: "x@example.com", At: at}}, evNow)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := st.Find("mailto:x@example.com"); !ok || !r.At.Equal(at) || r.Seq != 1 || r.Status != events.Confirmed {
			t.Fatalf("added outside: %+v", st.Registrations)
		}
	})
}

// The state after Rollback is exactly the one at Durable, whatever was
// done since; Progress reports the range as failed.
func TestEventRollback(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id, st0 := newEvent(t, g, 3, true)
	gen := st0.Gen
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		mustRegister(t, g, id, m)
	}
	if _, err := g.Unregister(ctx, id, "d"); err != nil {
		t.Fatal(err)
	}
	if err := g.Written(ctx, id, gen, 6, `"e6"`); err != nil {
		t.Fatal(err)
	}
	// Pending: a removal not yet durable, which a rollback must restore.
	if _, err := g.Unregister(ctx, id, "e"); err != nil {
		t.Fatal(err)
	}
	if err := g.Written(ctx, id, gen, 7, `"e7"`); err != nil {
		t.Fatal(err)
	}
	atDurable := mustState(t, g, id)

	changes := []func(){
		func() { mustRegister(t, g, id, "f") },
		func() { _, _ = g.Unregister(ctx, id, "c") },
		func() { mustRegister(t, g, id, "c") }, // again, over its tombstone
		func() { _, _ = g.Unregister(ctx, id, "a") },
		func() {
			ev := atDurable.Event
			ev.Title, ev.Settings.Capacity, ev.Settings.Waitlist = "Bigger", 10, false
			_, _ = g.Configure(ctx, id, ev)
		},
		func() { mustRegister(t, g, id, "g") },
		func() {
			ev := atDurable.Event
			ev.Description = "edited outside"
			ev.Start = ev.Start.Add(time.Hour)
			_, _ = g.Reconcile(ctx, id, `"outside"`, ev, []events.Registration{reg("b"), reg("c"), reg("x")}, evNow)
		},
		func() { _, _ = g.Unregister(ctx, id, "b") },
		func() {
			ev := atDurable.Event
			ev.Settings.Capacity = 1
			_, _ = g.Configure(ctx, id, ev)
		},
	}
	for _, change := range changes {
		change()
	}
	mid := mustState(t, g, id)
	if mid.Ver != atDurable.Ver+int64(len(changes)) {
		t.Fatalf("ver %d after %d changes from %d", mid.Ver, len(changes), atDurable.Ver)
	}

	lease, ok, err := g.Lock(ctx, id, time.Minute)
	if err != nil || !ok {
		t.Fatalf("Lock: %v %v", ok, err)
	}
	defer lease.Release()
	if err := g.Rollback(ctx, id, gen, "not-the-lease"); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("Rollback with another lease: %v", err)
	}
	if err := g.Rollback(ctx, id, "other-gen", lease.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("Rollback of another generation: %v", err)
	}
	if err := g.Rollback(ctx, id, gen, lease.ID); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	after := mustState(t, g, id)
	want := atDurable
	want.Ver, want.Durable, want.Seq = mid.Ver, mid.Ver, mid.Seq
	if !reflect.DeepEqual(after, want) {
		t.Fatalf("after rollback\n got %+v\nwant %+v", after, want)
	}
	p, err := g.Progress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantP := events.Progress{Gen: gen, Ver: mid.Ver, Durable: mid.Ver, Failed: []events.VerRange{{From: atDurable.Ver, To: mid.Ver}}}
	if !reflect.DeepEqual(p, wantP) {
		t.Fatalf("progress %+v, want %+v", p, wantP)
	}
	if _, err := p.Settle(gen, atDurable.Ver+1); !errors.Is(err, events.ErrRolledBack) {
		t.Fatalf("Settle of a rolled-back version: %v", err)
	}
	if done, err := p.Settle(gen, atDurable.Ver); !done || err != nil {
		t.Fatalf("Settle of a durable version: %v %v", done, err)
	}

	// Again: nothing to undo, no new range (a retried Rollback).
	if err := g.Rollback(ctx, id, gen, lease.ID); err != nil {
		t.Fatal(err)
	}
	if p2, _ := g.Progress(ctx, id); !reflect.DeepEqual(p2, wantP) {
		t.Fatalf("progress after a second rollback %+v", p2)
	}
	if !reflect.DeepEqual(mustState(t, g, id), want) {
		t.Fatal("a second rollback changed the state")
	}
	// Decisions go on from the version after the failed range; the
	// removal of e is durable (its tombstone forgotten).
	if out := mustRegister(t, g, id, "h"); out.Ver != mid.Ver+1 || out.Reg.Seq != mid.Seq+1 {
		t.Fatalf("register after rollback: %+v", out)
	}
	if out, err := g.Unregister(ctx, id, "e"); err != nil || out.Found || out.Ver != 0 {
		t.Fatalf("unregister e after rollback: %+v %v", out, err)
	}

	// Without the lease (released), Rollback refuses.
	lease.Release()
	if err := g.Rollback(ctx, id, gen, lease.ID); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("Rollback after release: %v", err)
	}
}

// Rollback restores registrations one by one, whichever change touched
// them: each case starts from a durable state and makes one change.
func TestEventRollbackEach(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, id string, st events.State)
	}{
		{"register", func(t *testing.T, id string, _ events.State) { mustRegister(t, g, id, "z") }},
		{"unregister confirmed", func(t *testing.T, id string, _ events.State) { _, _ = g.Unregister(ctx, id, "a") }},
		{"unregister waitlisted", func(t *testing.T, id string, _ events.State) { _, _ = g.Unregister(ctx, id, "d") }},
		{"configure", func(t *testing.T, id string, st events.State) {
			ev := st.Event
			ev.Settings.Capacity, ev.Title, ev.Settings.Opens = 5, "new", evNow
			_, _ = g.Configure(ctx, id, ev)
		}},
		{"reconcile", func(t *testing.T, id string, st events.State) {
			_, _ = g.Reconcile(ctx, id, `"x"`, st.Event, []events.Registration{reg("b"), reg("n")}, evNow)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, st0 := newEvent(t, g, 2, true)
			for _, m := range []string{"a", "b", "c", "d"} {
				mustRegister(t, g, id, m)
			}
			if err := g.Written(ctx, id, st0.Gen, 4, `"e4"`); err != nil {
				t.Fatal(err)
			}
			before := mustState(t, g, id)
			tc.change(t, id, before)
			mid := mustState(t, g, id)
			if mid.Ver != 5 {
				t.Fatalf("change took ver %d", mid.Ver)
			}
			lease, ok, err := g.Lock(ctx, id, time.Minute)
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			defer lease.Release()
			if err := g.Rollback(ctx, id, st0.Gen, lease.ID); err != nil {
				t.Fatal(err)
			}
			want := before
			want.Ver, want.Durable, want.Seq = 5, 5, mid.Seq
			if got := mustState(t, g, id); !reflect.DeepEqual(got, want) {
				t.Fatalf("after rollback\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestEventWrittenGC(t *testing.T) {
	g, c := eventGate(t)
	ctx := context.Background()
	id, st := newEvent(t, g, 1, true)
	k := g.keys(id)
	for _, m := range []string{"a", "b", "c"} {
		mustRegister(t, g, id, m)
	}
	for _, m := range []string{"a", "c"} { // v4, v5
		if _, err := g.Unregister(ctx, id, m); err != nil {
			t.Fatal(err)
		}
	}
	count := func(key string) int64 {
		n, err := c.HLen(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(k.log) != 5 || count(k.tombs) != 2 {
		t.Fatalf("log %d, tombstones %d", count(k.log), count(k.tombs))
	}

	if err := g.Written(ctx, id, "other", 5, `"x"`); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("Written of another generation: %v", err)
	}
	if err := g.Written(ctx, id, st.Gen, 4, `"e4"`); err != nil {
		t.Fatal(err)
	}
	if count(k.log) != 1 || count(k.tombs) != 1 {
		t.Fatalf("after written 4: log %d, tombstones %d", count(k.log), count(k.tombs))
	}
	if s := mustState(t, g, id); s.Durable != 4 || s.ETag != `"e4"` {
		t.Fatalf("durable %d etag %s", s.Durable, s.ETag)
	}
	// An older Written does not move Durable back; its ETag is taken.
	if err := g.Written(ctx, id, st.Gen, 2, `"e2"`); err != nil {
		t.Fatal(err)
	}
	if s := mustState(t, g, id); s.Durable != 4 || s.ETag != `"e2"` {
		t.Fatalf("durable %d etag %s", s.Durable, s.ETag)
	}
	// Durable never passes Ver.
	if err := g.Written(ctx, id, st.Gen, 50, `"e50"`); err != nil {
		t.Fatal(err)
	}
	if s := mustState(t, g, id); s.Durable != 5 || s.Ver != 5 {
		t.Fatalf("durable %d ver %d", s.Durable, s.Ver)
	}
	if count(k.log) != 0 || count(k.tombs) != 0 {
		t.Fatalf("after written 5: log %d, tombstones %d", count(k.log), count(k.tombs))
	}
	if err := g.Written(ctx, "nothing"+id, st.Gen, 1, ""); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("Written without state: %v", err)
	}
}

func TestEventProgressFailedRanges(t *testing.T) {
	g, c := eventGate(t)
	ctx := context.Background()
	id, st := newEvent(t, g, 5, false)
	lease, ok, err := g.Lock(ctx, id, time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer lease.Release()
	// Two rollbacks: (0, 2] and (3, 4] with 3 durable between them.
	mustRegister(t, g, id, "a")
	mustRegister(t, g, id, "b")
	if err := g.Rollback(ctx, id, st.Gen, lease.ID); err != nil {
		t.Fatal(err)
	}
	mustRegister(t, g, id, "c")
	if err := g.Written(ctx, id, st.Gen, 3, `"e3"`); err != nil {
		t.Fatal(err)
	}
	mustRegister(t, g, id, "d")
	if err := g.Rollback(ctx, id, st.Gen, lease.ID); err != nil {
		t.Fatal(err)
	}
	p, err := g.Progress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.VerRange{{From: 0, To: 2}, {From: 3, To: 4}}
	if !reflect.DeepEqual(p.Failed, want) || p.Ver != 4 || p.Durable != 4 {
		t.Fatalf("progress %+v", p)
	}
	wantLayout(t, mustState(t, g, id), "c:confirmed:0")

	// A range recorded more than ten minutes ago is no longer reported,
	// and the next rollback forgets it.
	fail := g.keys(id).fail
	old := strconv.FormatInt(time.Now().Add(-11*time.Minute).UnixMilli(), 10)
	if err := c.LSet(ctx, fail, 0, "0 2 "+old).Err(); err != nil {
		t.Fatal(err)
	}
	if p, _ = g.Progress(ctx, id); !reflect.DeepEqual(p.Failed, want[1:]) {
		t.Fatalf("failed %+v", p.Failed)
	}
	mustRegister(t, g, id, "e")
	if err := g.Rollback(ctx, id, st.Gen, lease.ID); err != nil {
		t.Fatal(err)
	}
	if n := c.LLen(ctx, fail).Val(); n != 2 {
		t.Fatalf("%d ranges kept", n)
	}
	if p, _ = g.Progress(ctx, id); !reflect.DeepEqual(p.Failed, []events.VerRange{{From: 3, To: 4}, {From: 4, To: 5}}) {
		t.Fatalf("failed %+v", p.Failed)
	}
}

func TestEventLoad(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id := "ev" + testenv.RandomID()
	ev := testEvent(id, 2, true)
	at := evNow.Add(-time.Hour)
	snap := events.State{
		Gen: "g1", Ver: 7, ETag: `"e7"`, Event: ev,
		Registrations: []events.Registration{
			{Member: "w", Status: events.Waitlisted, Seq: 9, At: at},
			{Member: "n1", Name: "N1", At: at}, // unnumbered: after the numbered ones
			{Member: "a", Status: events.Confirmed, Seq: 3, At: at, Position: 5},
			{Member: "n2"},
			{Member: "a", Status: events.Waitlisted, Seq: 12}, // listed twice: the first wins
		},
	}

	// A lease not held: nothing installed.
	if err := g.Load(ctx, id, snap, "no-such-lease"); !errors.Is(err, events.ErrLeaseLost) {
		t.Fatalf("Load without the lease: %v", err)
	}
	if _, err := g.State(ctx, id); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("State after refused load: %v", err)
	}

	lease, ok, err := g.Lock(ctx, id, time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer lease.Release()
	if _, ok, _ := g.Lock(ctx, id, time.Minute); ok {
		t.Fatal("second Lock taken")
	}
	if err := g.Load(ctx, id, snap, lease.ID); err != nil {
		t.Fatalf("Load: %v", err)
	}
	st := mustState(t, g, id)
	wantLayout(t, st, "a:confirmed:0", "n1:confirmed:0", "w:waitlisted:1", "n2:waitlisted:2")
	if st.Gen != "g1" || st.Ver != 7 || st.Durable != 7 || st.ETag != `"e7"` || st.Seq != 11 {
		t.Fatalf("loaded %+v", st)
	}
	if r, _ := st.Find("n1"); r.Seq != 10 || r.Name != "N1" || !r.At.Equal(at) {
		t.Fatalf("n1 %+v", r)
	}
	if r, _ := st.Find("n2"); r.Seq != 11 || r.At.IsZero() {
		t.Fatalf("n2 %+v", r)
	}
	if r, _ := st.Find("a"); r.Seq != 3 || !r.At.Equal(at) {
		t.Fatalf("a %+v", r)
	}
	if !reflect.DeepEqual(st.Event, ev) {
		t.Fatalf("event\n got %+v\nwant %+v", st.Event, ev)
	}
	// Every loaded registration is durable.
	if out := mustRegister(t, g, id, "a"); out.Created || out.Ver != 0 {
		t.Fatalf("register a: %+v", out)
	}

	// With the lease, a state present is left as it is.
	other := snap
	other.Gen, other.Registrations = "g2", nil
	if err := g.Load(ctx, id, other, lease.ID); err != nil {
		t.Fatal(err)
	}
	if s := mustState(t, g, id); !reflect.DeepEqual(s, st) {
		t.Fatalf("leased load over a state changed it: %+v", s)
	}
	// Without a lease, it is replaced (and a new generation made).
	other.Gen = ""
	if err := g.Load(ctx, id, other, ""); err != nil {
		t.Fatal(err)
	}
	s := mustState(t, g, id)
	if s.Gen == "" || s.Gen == "g1" || len(s.Registrations) != 0 || s.Seq != 0 {
		t.Fatalf("replaced: %+v", s)
	}
	// The arrival counter starts at the Seq given when it is higher.
	other.Seq = 40
	if err := g.Load(ctx, id, other, ""); err != nil {
		t.Fatal(err)
	}
	if out := mustRegister(t, g, id, "q"); out.Reg.Seq != 41 || out.Ver != 8 {
		t.Fatalf("register after load: %+v", out)
	}
}

func TestEventTimes(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	paris := time.FixedZone("CET", 3600)
	id := "ev" + testenv.RandomID()
	ev := testEvent(id, 3, false)
	ev.Start = time.Date(2031, 4, 1, 18, 30, 0, 123456789, paris)
	ev.End = ev.Start.Add(time.Hour)
	ev.Settings.Start = ev.Start
	ev.Settings.Closes = ev.Start.Add(-time.Hour)
	ev.Created = time.Time{}
	if err := g.Load(ctx, id, events.State{Event: ev}, ""); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, g, id)
	e := st.Event
	for name, tm := range map[string]time.Time{"start": e.Start, "end": e.End, "settings start": e.Settings.Start, "closes": e.Settings.Closes} {
		if tm.Location() != time.UTC || tm.Nanosecond() != 123000000 {
			t.Errorf("%s %v: not UTC to the millisecond", name, tm)
		}
	}
	if !e.Created.IsZero() || !e.Settings.Opens.IsZero() || e.Created != (time.Time{}) {
		t.Errorf("zero times: created %v opens %v", e.Created, e.Settings.Opens)
	}
	if !e.Start.Equal(ev.Start.Truncate(time.Millisecond)) {
		t.Errorf("start %v, want %v", e.Start, ev.Start)
	}
}

// Many registrations at once to a small event: exactly cap confirmed,
// the others waiting with positions 1..n, seqs 1..total.
func TestEventConcurrentRegistrations(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	const total, capacity = 500, 50
	id, _ := newEvent(t, g, capacity, true)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	sem := make(chan struct{}, 32)
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := g.Register(ctx, id, reg(fmt.Sprintf("m%03d", i)), evNow); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := mustState(t, g, id)
	c, w := st.Counts()
	if c != capacity || w != total-capacity || st.Seq != total || st.Ver != total {
		t.Fatalf("confirmed %d waitlisted %d seq %d ver %d", c, w, st.Seq, st.Ver)
	}
	seqs := make([]int, 0, total)
	for i, r := range st.Registrations {
		seqs = append(seqs, int(r.Seq))
		if i < capacity && (r.Status != events.Confirmed || r.Position != 0) {
			t.Fatalf("#%d %+v", i, r)
		}
		if i >= capacity && (r.Status != events.Waitlisted || r.Position != i-capacity+1) {
			t.Fatalf("#%d %+v", i, r)
		}
		if i > 0 && st.Registrations[i-1].Status == r.Status && st.Registrations[i-1].Seq >= r.Seq {
			t.Fatalf("#%d out of order: %+v after %+v", i, r, st.Registrations[i-1])
		}
		if r.Status == events.Confirmed && r.Seq > capacity {
			t.Fatalf("confirmed with seq %d: %+v", r.Seq, r)
		}
	}
	sort.Ints(seqs)
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("seqs not 1..%d: %v", total, seqs)
		}
	}
}

func TestEventNoState(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id, st := newEvent(t, g, 1, false)
	if err := g.Drop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := g.Drop(ctx, id); err != nil {
		t.Fatal(err)
	}
	ev := testEvent(id, 1, false)
	lease, ok, err := g.Lock(ctx, id, time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer lease.Release()
	calls := map[string]func() error{
		"Register":   func() error { _, err := g.Register(ctx, id, reg("a"), evNow); return err },
		"Unregister": func() error { _, err := g.Unregister(ctx, id, "a"); return err },
		"Configure":  func() error { _, err := g.Configure(ctx, id, ev); return err },
		"Reconcile":  func() error { _, err := g.Reconcile(ctx, id, "x", ev, nil, evNow); return err },
		"State":      func() error { _, err := g.State(ctx, id); return err },
		"Progress":   func() error { _, err := g.Progress(ctx, id); return err },
		"Written":    func() error { return g.Written(ctx, id, st.Gen, 1, "x") },
		"Rollback":   func() error { return g.Rollback(ctx, id, st.Gen, lease.ID) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, events.ErrNoState) {
			t.Errorf("%s: %v, want ErrNoState", name, err)
		}
	}
	sums, err := g.Summaries(ctx, []string{id})
	if err != nil || len(sums) != 0 {
		t.Fatalf("Summaries: %v %v", sums, err)
	}
}

func TestEventSummaries(t *testing.T) {
	g, c := eventGate(t)
	ctx := context.Background()
	a, _ := newEvent(t, g, 1, true)
	b, _ := newEvent(t, g, 5, false)
	for _, m := range []string{"x", "y", "z"} {
		mustRegister(t, g, a, m)
		mustRegister(t, g, b, m)
	}
	check := func() {
		t.Helper()
		sums, err := g.Summaries(ctx, []string{b, "missing", a})
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 2 || sums[0].Event.ID != b || sums[1].Event.ID != a ||
			sums[0].Confirmed != 3 || sums[0].Waitlisted != 0 || sums[1].Confirmed != 1 || sums[1].Waitlisted != 2 ||
			sums[1].Event.Settings.Capacity != 1 || !sums[1].Event.Settings.Waitlist {
			t.Fatalf("summaries %+v", sums)
		}
		if st := mustState(t, g, a); !reflect.DeepEqual(sums[1].Event, st.Event) {
			t.Fatalf("summary event %+v, state %+v", sums[1].Event, st.Event)
		}
	}
	check()
	// With the script cache flushed, the pipeline sends the script whole.
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	check()
	if sums, err := g.Summaries(ctx, nil); err != nil || len(sums) != 0 {
		t.Fatal(sums, err)
	}
}

func TestEventIndex(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	day := func(d int) time.Time { return evStart.AddDate(0, 0, d) }

	if _, err := g.IndexRange(ctx, day(0), day(10)); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("IndexRange without index: %v", err)
	}
	if _, err := g.IndexToken(ctx); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("IndexToken without index: %v", err)
	}
	for name, call := range map[string]func() error{
		"IndexPut":      func() error { return g.IndexPut(ctx, "a", day(1)) },
		"IndexDel":      func() error { return g.IndexDel(ctx, "a") },
		"SetIndexToken": func() error { return g.SetIndexToken(ctx, "tok") },
	} {
		if err := call(); !errors.Is(err, events.ErrNoState) {
			t.Errorf("%s without index: %v", name, err)
		}
	}
	if _, err := g.IndexRange(ctx, day(0), day(10)); !errors.Is(err, events.ErrNoState) {
		t.Fatalf("writes made an index appear: %v", err)
	}

	starts := map[string]time.Time{"c": day(3), "a": day(1), "b": day(2), "b2": day(2), "late": day(30)}
	for i := range 1500 { // more than one ZADD batch
		starts[fmt.Sprintf("old%04d", i)] = day(-100 - i)
	}
	if err := g.IndexLoad(ctx, "tok1", starts); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to time.Time
		want     []string
	}{
		{day(0), day(10), []string{"a", "b", "b2", "c"}},
		{day(1), day(3), []string{"a", "b", "b2"}},
		{day(1).Add(time.Millisecond), day(3).Add(time.Nanosecond), []string{"b", "b2", "c"}},
		{day(5), day(6), []string{}},
	}
	for _, tc := range tests {
		got, err := g.IndexRange(ctx, tc.from, tc.to)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("IndexRange(%v, %v) = %v %v, want %v", tc.from, tc.to, got, err, tc.want)
		}
	}
	if ids, _ := g.IndexRange(ctx, day(-2000), day(0)); len(ids) != 1500 {
		t.Errorf("%d old ids", len(ids))
	}
	if tok, err := g.IndexToken(ctx); err != nil || tok != "tok1" {
		t.Fatal(tok, err)
	}
	if err := g.IndexPut(ctx, "c", day(0)); err != nil {
		t.Fatal(err)
	}
	if err := g.IndexDel(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := g.SetIndexToken(ctx, "tok2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := g.IndexRange(ctx, day(0), day(10)); !reflect.DeepEqual(got, []string{"c", "b", "b2"}) {
		t.Errorf("after put and del: %v", got)
	}
	if tok, _ := g.IndexToken(ctx); tok != "tok2" {
		t.Errorf("token %s", tok)
	}
	// IndexLoad replaces the whole index.
	if err := g.IndexLoad(ctx, "tok3", map[string]time.Time{"z": day(4)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := g.IndexRange(ctx, day(-5000), day(5000)); !reflect.DeepEqual(got, []string{"z"}) {
		t.Errorf("after reload: %v", got)
	}
	// An empty index is present.
	if err := g.IndexLoad(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := g.IndexRange(ctx, day(-5000), day(5000)); err != nil || len(got) != 0 {
		t.Errorf("empty index: %v %v", got, err)
	}
	if tok, err := g.IndexToken(ctx); err != nil || tok != "" {
		t.Errorf("empty index token %q %v", tok, err)
	}
}

func TestEventUnavailable(t *testing.T) {
	port := testenv.FreePort(t)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	defer c.Close()
	g := NewEventGate(c)
	ctx := context.Background()
	calls := map[string]func() error{
		"Register":   func() error { _, err := g.Register(ctx, "e", reg("a"), evNow); return err },
		"State":      func() error { _, err := g.State(ctx, "e"); return err },
		"Summaries":  func() error { _, err := g.Summaries(ctx, []string{"e", "f"}); return err },
		"Lock":       func() error { _, _, err := g.Lock(ctx, "e", time.Second); return err },
		"IndexToken": func() error { _, err := g.IndexToken(ctx); return err },
		"IndexRange": func() error { _, err := g.IndexRange(ctx, evNow, evStart); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, booking.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}

// A script run twice (as go-redis may on a lost reply) leaves the state
// as one run does.
func TestEventScriptsTwice(t *testing.T) {
	g, _ := eventGate(t)
	ctx := context.Background()
	id, st := newEvent(t, g, 1, true)
	k := g.keys(id).all()
	twice := func(s *redis.Script, args ...any) {
		t.Helper()
		for range 2 {
			if _, err := g.run(ctx, s, k, args); err != nil {
				t.Fatal(err)
			}
		}
	}
	twice(evRegisterScript, "a", "A", "a@x", msOf(evNow))
	twice(evRegisterScript, "b", "B", "b@x", msOf(evNow))
	wantLayout(t, mustState(t, g, id), "a:confirmed:0", "b:waitlisted:1")
	twice(evUnregisterScript, "a")
	after := mustState(t, g, id)
	wantLayout(t, after, "b:confirmed:0")
	if after.Ver != 3 {
		t.Fatalf("ver %d", after.Ver)
	}
	twice(evWrittenScript, st.Gen, 2, `"w"`)
	twice(evReconcileScript, `"r"`, mustInfo(t, after.Event), msOf(evStart), msOf(evNow), `[{"member":"x","name":"","email":"","at":"0"}]`)
	s := mustState(t, g, id)
	wantLayout(t, s, "b:confirmed:0", "x:waitlisted:1")
	if s.Ver != 4 {
		t.Fatalf("ver %d", s.Ver)
	}
}

func mustInfo(t *testing.T, ev events.Event) string {
	t.Helper()
	s, err := encodeInfo(ev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
