// Package eventgatetest is the contract suite of events.Gate: one set of
// tests that internal/redisgate passes on the embedded engine, a Redis
// and a Redis Cluster, so that the embedded default and a Redis
// deployment keep the same promises.
//
// An implementation's test calls Run with a function that makes a fresh
// Target for one subtest:
//
//	func TestEventContract(t *testing.T) {
//		eventgatetest.Run(t, func(t *testing.T) eventgatetest.Target {
//			e := gatetest.Embedded(t)
//			g := redisgate.NewEventGate(e.Client())
//			return eventgatetest.Target{Gate: g, Flush: func(*testing.T) { e.FlushAll() }}
//		})
//	}
//
// Subtests run in parallel, each on its own Target and its own random
// event ids, so Targets may share one server as long as Flush only drops
// what that Target wrote (e.g. keys under a per-Target prefix). The
// suite passes every time explicitly (Register's and Reconcile's now) and
// never asserts how long anything took, so the Gate's own clock only
// matters for lock expiry, which the suite does not wait for.
package eventgatetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/testenv"
)

// Target is one gate under test and the hooks the suite needs around it.
type Target struct {
	// Gate is the implementation under test, with no state for any
	// event the suite uses (the suite picks random event ids) and no
	// index of events.
	Gate events.Gate
	// Flush drops everything this target's gate holds (event states,
	// locks, the index), at once, as FLUSHALL does to Redis.
	Flush func(t *testing.T)
}

// Run runs the whole contract suite. newTarget is called once per
// subtest.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*fixture)
	}{
		{"NoState", testNoState},
		{"LoadInstalls", testLoadInstalls},
		{"LoadReplacesAndGen", testLoadReplaces},
		{"LoadLease", testLoadLease},
		{"RegisterSeatsThenWaitlist", testRegisterSeats},
		{"RegisterFull", testRegisterFull},
		{"RegisterIdempotent", testRegisterIdempotent},
		{"RegisterClosed", testRegisterClosed},
		{"Unregister", testUnregister},
		{"Mine", testMine},
		{"Promoted", testPromoted},
		{"ConfigureRaisesCap", testConfigureRaise},
		{"ConfigureLowersCap", testConfigureLower},
		{"ConfigureFields", testConfigureFields},
		{"Versions", testVersions},
		{"ProgressSettle", testProgress},
		{"WrittenForgetsTombstones", testWrittenForgets},
		{"ReconcileSameETag", testReconcileSameETag},
		{"ReconcileAdded", testReconcileAdded},
		{"ReconcileRemoved", testReconcileRemoved},
		{"ReconcileKeepsPending", testReconcilePending},
		{"ReconcileFields", testReconcileFields},
		{"Rollback", testRollback},
		{"RollbackKeepsDurable", testRollbackKeepsDurable},
		{"RollbackNothingPending", testRollbackNothingPending},
		{"RollbackRefused", testRollbackRefused},
		{"Lock", testLock},
		{"Watch", testWatch},
		{"Flush", testFlush},
		{"Drop", testDrop},
		{"EventsAreSeparate", testEventsSeparate},
		{"Index", testIndex},
		{"Summaries", testSummaries},
		{"ConcurrentRegisterThenUnregister", testConcurrentRegister},
		{"ConcurrentSameMember", testConcurrentSameMember},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			tc.fn(&fixture{t: t, tg: tg, g: tg.Gate, ctx: ctx, ev: newID()})
		})
	}
}

// now is when the suite's members register, unless a test says
// otherwise; every event starts later.
var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// start is the events' start.
var start = time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)

// loadedAt is when the registrations a test loads were made.
var loadedAt = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

func newID() string { return "ev" + testenv.RandomID() }

// newEvent is a complete event id with settings s (Start defaults to
// the event's start).
func newEvent(id string, s events.Settings) events.Event {
	if s.Start.IsZero() {
		s.Start = start
	}
	return events.Event{
		ID:          id,
		Title:       "Lunch & Learn: Go | \"generics\"",
		Description: "Bring lunch.\nSecond line; commas, too — ünïcode 日本語 🎉",
		Start:       s.Start,
		End:         s.Start.Add(2 * time.Hour),
		Location:    "Atrium, 2nd floor",
		Organizer:   booking.Member{ID: "org-1", Name: "Olga Organiser", Email: "olga@example.org"},
		Settings:    s,
		Created:     time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC),
	}
}

func settings(capacity int, waitlist bool) events.Settings {
	return events.Settings{Capacity: capacity, Waitlist: waitlist}
}

// person returns the name and email the suite gives member.
func person(member string) (name, email string) {
	if e, ok := strings.CutPrefix(member, "mailto:"); ok {
		return "Outside " + e, e
	}
	return "Name of " + member, member + "@example.org"
}

// reg is the registration request of member.
func reg(member string) events.Registration {
	name, email := person(member)
	return events.Registration{Member: member, Name: name, Email: email}
}

// conf and wait are expected registrations; At is not compared while
// it is zero (see withAt).
func conf(member string, seq int64) events.Registration {
	r := reg(member)
	r.Status, r.Seq = events.Confirmed, seq
	return r
}

func wait(member string, seq int64, pos int) events.Registration {
	r := reg(member)
	r.Status, r.Seq, r.Position = events.Waitlisted, seq, pos
	return r
}

// promoted marks an expected registration as confirmed from the waiting
// list (sameRegs compares only that Promoted is set).
func promoted(r events.Registration) events.Registration {
	r.Promoted = loadedAt
	return r
}

// withAt sets At of every registration to at.
func withAt(at time.Time, rs ...events.Registration) []events.Registration {
	out := slices.Clone(rs)
	for i := range out {
		out[i].At = at
	}
	return out
}

type fixture struct {
	t   *testing.T
	tg  Target
	g   events.Gate
	ctx context.Context
	ev  string // the event the test works on
}

// load installs st as event id's state with no lease.
func (f *fixture) load(id string, st events.State) {
	f.t.Helper()
	if err := f.g.Load(f.ctx, id, st, ""); err != nil {
		f.t.Fatalf("Load(%s): %v", id, err)
	}
}

// open loads f.ev with settings s and regs (durable at version 0) and
// returns its state.
func (f *fixture) open(s events.Settings, regs ...events.Registration) events.State {
	f.t.Helper()
	f.load(f.ev, events.State{Event: newEvent(f.ev, s), Registrations: regs})
	return f.state()
}

// loaded is a registration as the calendar holds it: numbered, made at
// loadedAt.
func loaded(r events.Registration) events.Registration {
	r.At = loadedAt
	return r
}

func (f *fixture) state() events.State {
	f.t.Helper()
	return f.stateOf(f.ev)
}

// stateOf returns event id's state, checking the shape State promises.
func (f *fixture) stateOf(id string) events.State {
	f.t.Helper()
	st, err := f.g.State(f.ctx, id)
	if err != nil {
		f.t.Fatalf("State(%s): %v", id, err)
	}
	checkShape(f.t, st)
	return st
}

func (f *fixture) register(member string) events.Outcome {
	f.t.Helper()
	return f.registerAt(member, now)
}

func (f *fixture) registerAt(member string, at time.Time) events.Outcome {
	f.t.Helper()
	o, err := f.g.Register(f.ctx, f.ev, reg(member), at)
	if err != nil {
		f.t.Fatalf("Register(%s): %v", member, err)
	}
	return o
}

func (f *fixture) unregister(member string) events.Outcome {
	f.t.Helper()
	o, err := f.g.Unregister(f.ctx, f.ev, member)
	if err != nil {
		f.t.Fatalf("Unregister(%s): %v", member, err)
	}
	return o
}

func (f *fixture) configure(ev events.Event) events.Outcome {
	f.t.Helper()
	o, err := f.g.Configure(f.ctx, f.ev, ev)
	if err != nil {
		f.t.Fatalf("Configure: %v", err)
	}
	return o
}

func (f *fixture) reconcile(etag string, ev events.Event, present []events.Registration, at time.Time) events.State {
	f.t.Helper()
	st, err := f.g.Reconcile(f.ctx, f.ev, etag, ev, present, at)
	if err != nil {
		f.t.Fatalf("Reconcile(%s): %v", etag, err)
	}
	checkShape(f.t, st)
	sameState(f.t, "Reconcile's answer vs State", st, f.state(), true)
	return st
}

func (f *fixture) progress() events.Progress {
	f.t.Helper()
	p, err := f.g.Progress(f.ctx, f.ev)
	if err != nil {
		f.t.Fatalf("Progress: %v", err)
	}
	return p
}

func (f *fixture) written(gen string, ver int64, etag string) {
	f.t.Helper()
	if err := f.g.Written(f.ctx, f.ev, gen, ver, etag); err != nil {
		f.t.Fatalf("Written(%s, %d): %v", gen, ver, err)
	}
}

func (f *fixture) lock(id string) booking.Lease {
	f.t.Helper()
	lease, ok, err := f.g.Lock(f.ctx, id, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock(%s): ok=%v err=%v", id, ok, err)
	}
	if lease.ID == "" {
		f.t.Fatalf("Lock(%s) granted an empty lease id", id)
	}
	return lease
}

// --- comparing ---

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func fmtSettings(s events.Settings) string {
	return fmt.Sprintf("{Capacity:%d Waitlist:%v Opens:%s Closes:%s Start:%s Cancelled:%v}",
		s.Capacity, s.Waitlist, fmtTime(s.Opens), fmtTime(s.Closes), fmtTime(s.Start), s.Cancelled)
}

func fmtEvent(e events.Event) string {
	return fmt.Sprintf("{ID:%q Title:%q Description:%q Start:%s End:%s Room:%q RoomBooking:%q Location:%q Organizer:{%q %q %q} Settings:%s Created:%s}",
		e.ID, e.Title, e.Description, fmtTime(e.Start), fmtTime(e.End), e.Room, e.RoomBooking, e.Location,
		e.Organizer.ID, e.Organizer.Name, e.Organizer.Email, fmtSettings(e.Settings), fmtTime(e.Created))
}

// fmtReg renders a registration; of Promoted, only whether it is set
// (the gate dates a promotion by its own clock: testPromoted checks the
// times).
func fmtReg(r events.Registration) string {
	return fmt.Sprintf("{%q name=%q email=%q %s seq=%d pos=%d at=%s promoted=%v}",
		r.Member, r.Name, r.Email, r.Status, r.Seq, r.Position, fmtTime(r.At), !r.Promoted.IsZero())
}

func fmtRegs(rs []events.Registration) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("\n\t")
		b.WriteString(fmtReg(r))
	}
	return b.String()
}

// fmtState renders a whole State; with counters, Ver, Durable and Seq
// too.
func fmtState(s events.State, counters bool) string {
	out := fmt.Sprintf("Gen:%q ETag:%q\nEvent:%s\nRegistrations:%s", s.Gen, s.ETag, fmtEvent(s.Event), fmtRegs(s.Registrations))
	if counters {
		out = fmt.Sprintf("Ver:%d Durable:%d Seq:%d ", s.Ver, s.Durable, s.Seq) + out
	}
	return out
}

func sameState(t *testing.T, what string, got, want events.State, counters bool) {
	t.Helper()
	if g, w := fmtState(got, counters), fmtState(want, counters); g != w {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

func sameEvent(t *testing.T, what string, got, want events.Event) {
	t.Helper()
	if g, w := fmtEvent(got), fmtEvent(want); g != w {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// sameRegs asserts got is want, in order; a want with a zero At
// matches any At.
func sameRegs(t *testing.T, what string, got []events.Registration, want ...events.Registration) {
	t.Helper()
	g := slices.Clone(got)
	for i := range g {
		if i < len(want) && want[i].At.IsZero() {
			g[i].At = time.Time{}
		}
	}
	if gs, ws := fmtRegs(g), fmtRegs(want); gs != ws {
		t.Errorf("%s:\n got %s\n want %s", what, gs, ws)
	}
}

// checkShape asserts what State promises of any state: confirmed
// registrations first by Seq with Position 0, then the waitlisted by
// Seq with Position 1, 2, …; members and Seqs unique, numbered, not
// above the counter; Durable <= Ver.
func checkShape(t *testing.T, st events.State) {
	t.Helper()
	members := map[string]bool{}
	seqs := map[int64]bool{}
	waiting := 0
	var last int64
	for i, r := range st.Registrations {
		switch {
		case members[r.Member]:
			t.Errorf("State: member %q registered twice:%s", r.Member, fmtRegs(st.Registrations))
		case seqs[r.Seq]:
			t.Errorf("State: Seq %d given twice:%s", r.Seq, fmtRegs(st.Registrations))
		case r.Seq <= 0 || r.Seq > st.Seq:
			t.Errorf("State: %s has a Seq outside 1..%d", fmtReg(r), st.Seq)
		}
		members[r.Member], seqs[r.Seq] = true, true
		switch r.Status {
		case events.Confirmed:
			if waiting > 0 {
				t.Errorf("State: confirmed %q listed after waitlisted ones", r.Member)
			}
			if r.Position != 0 {
				t.Errorf("State: confirmed %q has Position %d", r.Member, r.Position)
			}
		case events.Waitlisted:
			if waiting == 0 {
				last = 0
			}
			waiting++
			if r.Position != waiting {
				t.Errorf("State: waitlisted %q has Position %d, want %d", r.Member, r.Position, waiting)
			}
		default:
			t.Errorf("State: %q has status %q", r.Member, r.Status)
		}
		if r.Seq <= last && i > 0 {
			t.Errorf("State: %q (Seq %d) not in Seq order", r.Member, r.Seq)
		}
		last = r.Seq
	}
	if st.Durable > st.Ver {
		t.Errorf("State: Durable %d > Ver %d", st.Durable, st.Ver)
	}
}

// checkOutcome asserts o's Gen, Ver, Created and Reg.
func checkOutcome(t *testing.T, what string, o events.Outcome, gen string, ver int64, created bool, want events.Registration) {
	t.Helper()
	if o.Gen != gen || o.Ver != ver || o.Created != created {
		t.Errorf("%s: Outcome Gen=%q Ver=%d Created=%v, want %q %d %v", what, o.Gen, o.Ver, o.Created, gen, ver, created)
	}
	sameRegs(t, what+": Reg", []events.Registration{o.Reg}, want)
}

// checkFound asserts an Unregister's Outcome.
func checkFound(t *testing.T, what string, o events.Outcome, gen string, ver int64, found bool) {
	t.Helper()
	if o.Found != found || o.Ver != ver || (ver != 0 && o.Gen != gen) {
		t.Errorf("%s: Outcome Gen=%q Ver=%d Found=%v, want %q %d %v", what, o.Gen, o.Ver, o.Found, gen, ver, found)
	}
}

// checkVers asserts the state's Ver and Durable.
func checkVers(t *testing.T, what string, st events.State, ver, durable int64) {
	t.Helper()
	if st.Ver != ver || st.Durable != durable {
		t.Errorf("%s: Ver=%d Durable=%d, want %d %d", what, st.Ver, st.Durable, ver, durable)
	}
}

// settle asserts what p.Settle says of (gen, ver).
func settle(t *testing.T, p events.Progress, gen string, ver int64, done bool, want error) {
	t.Helper()
	ok, err := p.Settle(gen, ver)
	if ok != done || !errors.Is(err, want) || (want == nil && err != nil) {
		t.Errorf("Settle(%q, %d) = %v, %v; want %v, %v (Progress %+v)", gen, ver, ok, err, done, want, p)
	}
}

// --- no state, Load ---

func testNoState(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	ops := []struct {
		name string
		call func() error
	}{
		{"Register", func() error { _, err := f.g.Register(f.ctx, f.ev, reg("m1"), now); return err }},
		{"Unregister", func() error { _, err := f.g.Unregister(f.ctx, f.ev, "m1"); return err }},
		{"Configure", func() error { _, err := f.g.Configure(f.ctx, f.ev, ev); return err }},
		{"Reconcile", func() error {
			_, err := f.g.Reconcile(f.ctx, f.ev, "etag-1", ev, []events.Registration{reg("mailto:x@example.org")}, now)
			return err
		}},
		{"State", func() error { _, err := f.g.State(f.ctx, f.ev); return err }},
		{"Mine", func() error { _, _, err := f.g.Mine(f.ctx, f.ev, "m1"); return err }},
		{"Progress", func() error { _, err := f.g.Progress(f.ctx, f.ev); return err }},
		{"Written", func() error { return f.g.Written(f.ctx, f.ev, "gen-1", 1, "etag-1") }},
	}
	for _, op := range ops {
		if err := op.call(); !errors.Is(err, events.ErrNoState) {
			f.t.Errorf("%s on an event with no state: got %v, want ErrNoState", op.name, err)
		}
	}
	// Rollback with a held lease: there is no state, so no generation to
	// match either; both errors are refusals.
	lease := f.lock(f.ev)
	if err := f.g.Rollback(f.ctx, f.ev, "gen-1", lease.ID); !errors.Is(err, events.ErrNoState) && !errors.Is(err, events.ErrLeaseLost) {
		f.t.Errorf("Rollback on an event with no state: got %v, want ErrNoState or ErrLeaseLost", err)
	}
	// None of the refused calls created state.
	if _, err := f.g.State(f.ctx, f.ev); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("after refused calls, State: got %v, want ErrNoState", err)
	}
	if sums, err := f.g.Summaries(f.ctx, []string{f.ev}); err != nil || len(sums) != 0 {
		f.t.Errorf("Summaries of an event with no state = %+v, %v; want none", sums, err)
	}

	// Load with an empty lease installs, and State gives it back.
	st := events.State{Gen: "gen-ns", Ver: 4, ETag: `"e-4"`, Event: ev,
		Registrations: []events.Registration{loaded(conf("m1", 1))}}
	f.load(f.ev, st)
	got := f.state()
	st.Durable, st.Seq = 4, 1
	sameState(f.t, "State after Load", got, st, true)
}

func testLoadInstalls(f *fixture) {
	cases := []struct {
		name     string
		s        events.Settings
		gen      string
		ver      int64
		etag     string
		regs     []events.Registration
		want     []events.Registration
		wantSeq  int64
		next     events.Registration // the next registration
		nextErr  error
		wantNext events.Registration
	}{
		{
			name: "unnumbered take free seats, then wait even without a waiting list",
			s:    settings(3, false), gen: "gen-a", ver: 12, etag: `"etag-a"`,
			regs: []events.Registration{
				loaded(conf("c2", 5)),
				loaded(conf("c1", 2)),
				reg("mailto:new1@example.org"),
				// Unnumbered: the gate decides, whatever the status read.
				func() events.Registration { r := reg("mailto:new2@example.org"); r.Status = events.Confirmed; return r }(),
			},
			want: []events.Registration{
				loaded(conf("c1", 2)), loaded(conf("c2", 5)), conf("mailto:new1@example.org", 6),
				wait("mailto:new2@example.org", 7, 1),
			},
			wantSeq: 7,
			next:    reg("next"), nextErr: events.ErrFull,
		},
		{
			name: "numbered waiting list kept, unnumbered at its end",
			s:    settings(2, true), ver: 0, etag: "",
			regs: []events.Registration{
				loaded(conf("c1", 3)),
				loaded(wait("w2", 9, 2)),
				loaded(conf("c2", 1)),
				loaded(wait("w1", 6, 1)),
				reg("mailto:new@example.org"),
			},
			want: []events.Registration{
				loaded(conf("c2", 1)), loaded(conf("c1", 3)),
				loaded(wait("w1", 6, 1)), loaded(wait("w2", 9, 2)), wait("mailto:new@example.org", 10, 3),
			},
			wantSeq:  10,
			next:     reg("next"),
			wantNext: wait("next", 11, 4),
		},
		{
			name: "no registration",
			s:    settings(1, true), gen: "gen-c", ver: 3, etag: "etag-c",
			wantSeq:  0,
			next:     reg("next"),
			wantNext: conf("next", 1),
		},
	}
	for _, tc := range cases {
		f.ev = newID()
		ev := newEvent(f.ev, tc.s)
		f.load(f.ev, events.State{Gen: tc.gen, Ver: tc.ver, ETag: tc.etag, Event: ev, Registrations: tc.regs})
		st := f.state()
		if tc.gen != "" && st.Gen != tc.gen || st.Gen == "" {
			f.t.Errorf("%s: Gen = %q, want %q (a new one when empty)", tc.name, st.Gen, tc.gen)
		}
		checkVers(f.t, tc.name, st, tc.ver, tc.ver)
		if st.ETag != tc.etag || st.Seq != tc.wantSeq {
			f.t.Errorf("%s: ETag=%q Seq=%d, want %q %d", tc.name, st.ETag, st.Seq, tc.etag, tc.wantSeq)
		}
		sameEvent(f.t, tc.name+": Event", st.Event, ev)
		sameRegs(f.t, tc.name+": Registrations", st.Registrations, tc.want...)
		p := f.progress()
		if p.Gen != st.Gen || p.Ver != tc.ver || p.Durable != tc.ver || len(p.Failed) != 0 {
			f.t.Errorf("%s: Progress = %+v, want Gen %q Ver=Durable=%d, nothing failed", tc.name, p, st.Gen, tc.ver)
		}
		// The counter and the versions go on from the loaded ones.
		o, err := f.g.Register(f.ctx, f.ev, tc.next, now)
		if tc.nextErr != nil {
			if !errors.Is(err, tc.nextErr) {
				f.t.Errorf("%s: next Register: got %v, want %v", tc.name, err, tc.nextErr)
			}
			continue
		}
		if err != nil {
			f.t.Errorf("%s: next Register: %v", tc.name, err)
			continue
		}
		checkOutcome(f.t, tc.name+": next", o, st.Gen, tc.ver+1, true, tc.wantNext)
	}
}

func testLoadReplaces(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	f.load(f.ev, events.State{Gen: "gen-1", Ver: 2, ETag: "e1", Event: ev,
		Registrations: []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2)), loaded(wait("c", 3, 1))}})
	f.register("d")
	// An empty lease replaces whatever is there.
	ev2 := ev
	ev2.Title, ev2.Settings.Capacity = "Second reading", 5
	f.load(f.ev, events.State{Gen: "gen-2", Ver: 7, ETag: "e7", Event: ev2,
		Registrations: []events.Registration{loaded(conf("x", 4))}})
	st := f.state()
	want := events.State{Gen: "gen-2", Ver: 7, Durable: 7, ETag: "e7", Event: ev2, Seq: 4,
		Registrations: []events.Registration{loaded(conf("x", 4))}}
	sameState(f.t, "State after a second Load", st, want, true)
	if o := f.register("a"); !o.Created || o.Reg.Seq != 5 || o.Ver != 8 || o.Reg.Status != events.Confirmed {
		f.t.Errorf("Register a after the reload = %+v, want a new confirmed registration Seq 5 at Ver 8", o)
	}

	// Without a Gen, every Load starts a new generation.
	f.load(f.ev, events.State{Event: ev})
	g1 := f.state().Gen
	f.load(f.ev, events.State{Event: ev})
	g2 := f.state().Gen
	if g1 == "" || g2 == "" || g1 == g2 || g1 == "gen-2" {
		f.t.Errorf("Gens of Loads without one: %q then %q (after gen-2), want new, distinct ones", g1, g2)
	}
}

// testLoadLease: a state read under a lease is installed only while the
// lease is held and the event has no state.
func testLoadLease(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	st := events.State{Gen: "gen-l", Ver: 3, ETag: "e3", Event: ev,
		Registrations: []events.Registration{loaded(conf("a", 1))}}

	// A flush during the reading: refused, the event stays without state.
	lease := f.lock(f.ev)
	f.tg.Flush(f.t)
	if err := f.g.Load(f.ctx, f.ev, st, lease.ID); !errors.Is(err, events.ErrLeaseLost) {
		f.t.Fatalf("Load after a flush: got %v, want ErrLeaseLost", err)
	}
	if _, err := f.g.State(f.ctx, f.ev); !errors.Is(err, events.ErrNoState) {
		f.t.Fatalf("a refused Load left state: %v", err)
	}

	// A held lease on an event without state: installed.
	lease = f.lock(f.ev)
	if err := f.g.Load(f.ctx, f.ev, st, lease.ID); err != nil {
		f.t.Fatalf("Load under a held lease: %v", err)
	}
	want := st
	want.Durable, want.Seq = 3, 1
	sameState(f.t, "State after a leased Load", f.state(), want, true)

	// A state present (changed since) is left as it is.
	f.register("b")
	before := f.state()
	other := events.State{Gen: "gen-other", Ver: 1, ETag: "old", Event: newEvent(f.ev, settings(9, false))}
	if err := f.g.Load(f.ctx, f.ev, other, lease.ID); err != nil {
		f.t.Fatalf("Load over a present state: got %v, want nil", err)
	}
	sameState(f.t, "state kept", f.state(), before, true)

	// A released lease is no lease.
	lease.Release()
	f.tg.Flush(f.t)
	if err := f.g.Load(f.ctx, f.ev, st, lease.ID); !errors.Is(err, events.ErrLeaseLost) {
		f.t.Fatalf("Load with a released lease: got %v, want ErrLeaseLost", err)
	}
	// Nor is one that was never granted.
	if err := f.g.Load(f.ctx, f.ev, st, "no-such-lease"); !errors.Is(err, events.ErrLeaseLost) {
		f.t.Fatalf("Load with a made-up lease: got %v, want ErrLeaseLost", err)
	}
	if _, err := f.g.State(f.ctx, f.ev); !errors.Is(err, events.ErrNoState) {
		f.t.Fatalf("a refused Load left state: %v", err)
	}
}

// --- Register ---

func testRegisterSeats(f *fixture) {
	gen := f.open(settings(2, true)).Gen
	unicode := events.Registration{Member: "zoë", Name: "Zoë \"Ünïcode\" | 日本 🎉", Email: "zoe+tag@example.org"}
	steps := []struct {
		r    events.Registration
		want events.Registration
	}{
		{unicode, events.Registration{Member: "zoë", Name: unicode.Name, Email: unicode.Email, Status: events.Confirmed, Seq: 1}},
		{reg("b"), conf("b", 2)},
		{reg("c"), wait("c", 3, 1)},
		{reg("d"), wait("d", 4, 2)},
	}
	var want []events.Registration
	for i, s := range steps {
		at := now.Add(time.Duration(i) * time.Minute)
		o, err := f.g.Register(f.ctx, f.ev, s.r, at)
		if err != nil {
			f.t.Fatalf("Register(%s): %v", s.r.Member, err)
		}
		w := withAt(at, s.want)[0]
		checkOutcome(f.t, "Register "+s.r.Member, o, gen, int64(i+1), true, w)
		want = append(want, w)
	}
	st := f.state()
	sameRegs(f.t, "State", st.Registrations, want...)
	checkVers(f.t, "State", st, 4, 0)
	if st.Seq != 4 {
		f.t.Errorf("Seq = %d, want 4", st.Seq)
	}
	if c, w := st.Counts(); c != 2 || w != 2 {
		f.t.Errorf("Counts = %d, %d; want 2, 2", c, w)
	}
}

func testRegisterFull(f *fixture) {
	gen := f.open(settings(2, false)).Gen
	f.register("a")
	f.register("b")
	before := f.state()
	if _, err := f.g.Register(f.ctx, f.ev, reg("c"), now); !errors.Is(err, events.ErrFull) {
		f.t.Fatalf("Register on a full event without waiting list: got %v, want ErrFull", err)
	}
	sameState(f.t, "state after a refused Register", f.state(), before, true)
	f.unregister("a")
	o := f.register("c")
	checkOutcome(f.t, "Register c after a seat freed", o, gen, 4, true, withAt(now, conf("c", 3))[0])
}

func testRegisterIdempotent(f *fixture) {
	s := settings(1, true)
	s.Closes = now.Add(time.Hour)
	gen := f.open(s).Gen
	a := withAt(now, conf("a", 1))[0]
	checkOutcome(f.t, "first a", f.register("a"), gen, 1, true, a)
	b := withAt(now.Add(time.Minute), wait("b", 2, 1))[0]
	checkOutcome(f.t, "first b", f.registerAt("b", now.Add(time.Minute)), gen, 2, true, b)

	// Repeats: the same answer, with the pending version, no new version.
	checkOutcome(f.t, "a again, pending", f.registerAt("a", now.Add(5*time.Minute)), gen, 1, false, a)
	checkOutcome(f.t, "b again, pending", f.registerAt("b", now.Add(5*time.Minute)), gen, 2, false, b)
	st := f.state()
	checkVers(f.t, "after repeats", st, 2, 0)
	sameRegs(f.t, "after repeats", st.Registrations, a, b)

	// Durable: Ver 0, nothing to wait for.
	f.written(gen, 2, "e2")
	checkOutcome(f.t, "a again, durable", f.register("a"), gen, 0, false, a)
	// A registered member gets the answer again even once registration
	// has closed.
	o, err := f.g.Register(f.ctx, f.ev, reg("a"), now.Add(2*time.Hour))
	if err != nil {
		f.t.Fatalf("a again after Closes: %v", err)
	}
	checkOutcome(f.t, "a again after Closes", o, gen, 0, false, a)

	// A promotion is a change of b's registration.
	f.unregister("a") // v3, b promoted
	bConf := b
	bConf.Status, bConf.Position = events.Confirmed, 0
	bConf = promoted(bConf)
	checkOutcome(f.t, "b again, promoted", f.register("b"), gen, 3, false, bConf)
	f.written(gen, 3, "e3")
	checkOutcome(f.t, "b again, promotion durable", f.register("b"), gen, 0, false, bConf)

	// Cancelled: a new member is refused, a registered one answered.
	ev := f.state().Event
	ev.Settings.Cancelled = true
	f.configure(ev) // v4
	checkOutcome(f.t, "b again, cancelled", f.register("b"), gen, 0, false, bConf)
	if _, err := f.g.Register(f.ctx, f.ev, reg("c"), now); !errors.Is(err, events.ErrClosed) {
		f.t.Errorf("new member on a cancelled event: got %v, want ErrClosed", err)
	}
	checkVers(f.t, "end", f.state(), 4, 3)
}

func testRegisterClosed(f *fixture) {
	hour := time.Hour
	cases := []struct {
		name string
		s    events.Settings
		at   time.Time
		// fill registers a first member at now (open) before.
		fill    bool
		wantErr error
	}{
		{name: "no window", s: events.Settings{}, at: now},
		{name: "at Opens", s: events.Settings{Opens: now}, at: now},
		{name: "before Opens", s: events.Settings{Opens: now.Add(time.Second)}, at: now, wantErr: events.ErrClosed},
		{name: "before Closes", s: events.Settings{Closes: now.Add(time.Minute)}, at: now},
		{name: "at Closes", s: events.Settings{Closes: now}, at: now, wantErr: events.ErrClosed},
		{name: "after Closes", s: events.Settings{Closes: now.Add(-hour)}, at: now, wantErr: events.ErrClosed},
		{name: "just before Start, Closes zero", s: events.Settings{Start: now.Add(time.Second)}, at: now},
		{name: "at Start, Closes zero", s: events.Settings{Start: now}, at: now, wantErr: events.ErrClosed},
		{name: "after Start, Closes zero", s: events.Settings{Start: now.Add(-hour)}, at: now, wantErr: events.ErrClosed},
		{name: "after Start, before a later Closes", s: events.Settings{Start: now.Add(-hour), Closes: now.Add(hour)}, at: now},
		{name: "inside Opens and Closes", s: events.Settings{Opens: now.Add(-hour), Closes: now.Add(hour)}, at: now},
		{name: "cancelled, window open", s: events.Settings{Cancelled: true}, at: now, wantErr: events.ErrClosed},
		{name: "closed comes before full", s: events.Settings{Closes: now.Add(hour)}, at: now.Add(2 * hour), fill: true, wantErr: events.ErrClosed},
		{name: "full, window open", s: events.Settings{Closes: now.Add(hour)}, at: now.Add(time.Minute), fill: true, wantErr: events.ErrFull},
	}
	for _, tc := range cases {
		f.ev = newID()
		s := tc.s
		s.Capacity = 1
		gen := f.open(s).Gen
		if tc.fill {
			f.register("first")
		}
		before := f.state()
		o, err := f.g.Register(f.ctx, f.ev, reg("m"), tc.at)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				f.t.Errorf("%s: got %v, want %v", tc.name, err, tc.wantErr)
			}
			sameState(f.t, tc.name+": state after a refusal", f.state(), before, true)
			continue
		}
		if err != nil {
			f.t.Errorf("%s: %v", tc.name, err)
			continue
		}
		checkOutcome(f.t, tc.name, o, gen, before.Ver+1, true, withAt(tc.at, conf("m", before.Seq+1))[0])
	}
}

// --- Unregister ---

func testUnregister(f *fixture) {
	gen := f.open(settings(2, true)).Gen
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		f.register(m)
	}
	// A waitlisted one leaves: those behind move up, no promotion.
	checkFound(f.t, "Unregister d", f.unregister("d"), gen, 6, true)
	st := f.state()
	checkVers(f.t, "after d", st, 6, 0)
	sameRegs(f.t, "after d", st.Registrations, conf("a", 1), conf("b", 2), wait("c", 3, 1), wait("e", 5, 2))

	// A confirmed one leaves: the head of the list is confirmed in the
	// same version.
	checkFound(f.t, "Unregister a", f.unregister("a"), gen, 7, true)
	st = f.state()
	checkVers(f.t, "after a", st, 7, 0)
	sameRegs(f.t, "after a", st.Registrations, conf("b", 2), promoted(conf("c", 3)), wait("e", 5, 1))

	// Not registered.
	checkFound(f.t, "Unregister nobody", f.unregister("nobody"), gen, 0, false)
	checkFound(f.t, "Unregister a again, removal pending", f.unregister("a"), gen, 7, false)
	f.written(gen, 7, "e7")
	checkFound(f.t, "Unregister a again, removal durable", f.unregister("a"), gen, 0, false)
	checkVers(f.t, "after repeats", f.state(), 7, 7)

	// Promotion only while confirmed < Capacity afterwards.
	ev := f.state().Event
	ev.Settings.Capacity = 1
	f.configure(ev) // v8: b and c stay
	checkFound(f.t, "Unregister b over the cap", f.unregister("b"), gen, 9, true)
	sameRegs(f.t, "after b", f.state().Registrations, promoted(conf("c", 3)), wait("e", 5, 1))
	checkFound(f.t, "Unregister c", f.unregister("c"), gen, 10, true)
	st = f.state()
	sameRegs(f.t, "after c", st.Registrations, promoted(conf("e", 5)))
	checkVers(f.t, "end", st, 10, 7)
}

// --- Configure ---

func testConfigureRaise(f *fixture) {
	gen := f.open(settings(2, true)).Gen
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		f.register(m)
	}
	ev := f.state().Event
	ev.Settings.Capacity = 4
	if o := f.configure(ev); o.Ver != 6 || o.Gen != gen {
		f.t.Errorf("Configure Outcome = %+v, want Gen %q Ver 6", o, gen)
	}
	st := f.state()
	checkVers(f.t, "after raising the cap", st, 6, 0)
	sameRegs(f.t, "after raising the cap to 4", st.Registrations,
		conf("a", 1), conf("b", 2), promoted(conf("c", 3)), promoted(conf("d", 4)), wait("e", 5, 1))
	checkOutcome(f.t, "Register f", f.register("f"), gen, 7, true, withAt(now, wait("f", 6, 2))[0])

	ev.Settings.Capacity, ev.Settings.Waitlist = 10, false
	f.configure(ev)
	st = f.state()
	checkVers(f.t, "after raising the cap again", st, 8, 0)
	sameRegs(f.t, "after raising the cap to 10", st.Registrations,
		conf("a", 1), conf("b", 2), promoted(conf("c", 3)), promoted(conf("d", 4)), promoted(conf("e", 5)), promoted(conf("f", 6)))
}

func testConfigureLower(f *fixture) {
	gen := f.open(settings(3, true)).Gen
	for _, m := range []string{"a", "b", "c"} {
		f.register(m)
	}
	ev := f.state().Event
	ev.Settings.Capacity = 1
	f.configure(ev) // v4
	st := f.state()
	checkVers(f.t, "after lowering the cap", st, 4, 0)
	sameRegs(f.t, "no one removed", st.Registrations, conf("a", 1), conf("b", 2), conf("c", 3))

	checkOutcome(f.t, "Register d over the cap", f.register("d"), gen, 5, true, withAt(now, wait("d", 4, 1))[0])
	f.unregister("a") // 2 confirmed, cap 1: d waits
	sameRegs(f.t, "after a", f.state().Registrations, conf("b", 2), conf("c", 3), wait("d", 4, 1))

	// Turning the waiting list off keeps who waits.
	ev.Settings.Waitlist = false
	f.configure(ev) // v7
	sameRegs(f.t, "waiting list off", f.state().Registrations, conf("b", 2), conf("c", 3), wait("d", 4, 1))
	if _, err := f.g.Register(f.ctx, f.ev, reg("e"), now); !errors.Is(err, events.ErrFull) {
		f.t.Errorf("Register e, full, no waiting list: got %v, want ErrFull", err)
	}
	f.unregister("b") // v8: c still holds the one seat
	sameRegs(f.t, "after b", f.state().Registrations, conf("c", 3), wait("d", 4, 1))
	f.unregister("c") // v9: d promoted though the list is off
	sameRegs(f.t, "after c", f.state().Registrations, promoted(conf("d", 4)))
	if _, err := f.g.Register(f.ctx, f.ev, reg("e"), now); !errors.Is(err, events.ErrFull) {
		f.t.Errorf("Register e, full again: got %v, want ErrFull", err)
	}
	ev.Settings.Capacity = 2
	f.configure(ev) // v10
	checkOutcome(f.t, "Register e after raising", f.register("e"), gen, 11, true, withAt(now, conf("e", 5))[0])
}

func testConfigureFields(f *fixture) {
	gen := f.open(settings(2, true)).Gen
	f.register("a")
	ev := events.Event{
		ID:          f.ev,
		Title:       "Renamed: «Go» & friends",
		Description: "New text\nwith = signs, \"quotes\" and ; semicolons",
		Start:       start.Add(24 * time.Hour),
		End:         start.Add(27 * time.Hour),
		Room:        "room-7",
		RoomBooking: "bk-77",
		Location:    "Room Seven",
		Organizer:   booking.Member{ID: "org-2", Name: "Ola Nordmann", Email: "ola@example.org"},
		Settings: events.Settings{Capacity: 7, Waitlist: false, Opens: now.Add(-time.Hour), Closes: now.Add(48 * time.Hour),
			Start: start.Add(24 * time.Hour)},
		Created: time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC),
	}
	if o := f.configure(ev); o.Ver != 2 || o.Gen != gen {
		f.t.Errorf("Configure Outcome = %+v, want Gen %q Ver 2", o, gen)
	}
	st := f.state()
	sameEvent(f.t, "Event after Configure", st.Event, ev)
	sameRegs(f.t, "registrations kept", st.Registrations, conf("a", 1))

	// The settings decide: registration now opens later.
	ev.Settings.Opens = now.Add(time.Hour)
	ev.Settings.Closes = time.Time{}
	f.configure(ev)
	sameEvent(f.t, "Event after the second Configure", f.state().Event, ev)
	if _, err := f.g.Register(f.ctx, f.ev, reg("b"), now); !errors.Is(err, events.ErrClosed) {
		f.t.Errorf("Register before the configured Opens: got %v, want ErrClosed", err)
	}
	checkOutcome(f.t, "Register at the configured Opens", f.registerAt("b", now.Add(time.Hour)), gen, 4, true,
		withAt(now.Add(time.Hour), conf("b", 2))[0])
}

// --- versions and durability ---

func testVersions(f *fixture) {
	s := settings(2, true)
	f.load(f.ev, events.State{Event: newEvent(f.ev, s), ETag: "e0"})
	gen := f.state().Gen
	steps := []struct {
		name    string
		op      func() (ver int64, err error) // the Outcome's Ver (-1 for none)
		wantErr error
		outVer  int64 // the Outcome's Ver
		ver     int64 // State.Ver after
	}{
		{"Register a", f.opRegister("a"), nil, 1, 1},
		{"Register a again", f.opRegister("a"), nil, 1, 1},
		{"Register b", f.opRegister("b"), nil, 2, 2},
		{"Register c (waits)", f.opRegister("c"), nil, 3, 3},
		{"Unregister a (c promoted)", f.opUnregister("a"), nil, 4, 4},
		{"Unregister a again", f.opUnregister("a"), nil, 4, 4},
		{"Unregister nobody", f.opUnregister("nobody"), nil, 0, 4},
		{"Configure cap 2, no waiting list", f.opConfigure(func(s *events.Settings) { s.Waitlist = false }), nil, 5, 5},
		{"Register d refused (full)", f.opRegister("d"), events.ErrFull, -1, 5},
		{"Reconcile with the ETag held", f.opReconcile("e0", "b", "c", "mailto:x@example.org"), nil, -1, 5},
		{"Reconcile adding x", f.opReconcile("e1", "b", "c", "mailto:x@example.org"), nil, -1, 6},
		{"Reconcile with a new ETag, nothing to change", f.opReconcile("e2", "b", "c", "mailto:x@example.org"), nil, -1, 6},
		{"Configure cap 3 (x promoted)", f.opConfigure(func(s *events.Settings) { s.Capacity = 3 }), nil, 7, 7},
		{"Register d refused (closed)", f.opRegisterAt("d", start), events.ErrClosed, -1, 7},
	}
	for _, s := range steps {
		ver, err := s.op()
		if s.wantErr != nil {
			if !errors.Is(err, s.wantErr) {
				f.t.Errorf("%s: got %v, want %v", s.name, err, s.wantErr)
			}
		} else if err != nil {
			f.t.Fatalf("%s: %v", s.name, err)
		}
		if s.outVer >= 0 && ver != s.outVer {
			f.t.Errorf("%s: Outcome.Ver = %d, want %d", s.name, ver, s.outVer)
		}
		st := f.state()
		if st.Ver != s.ver || st.Gen != gen {
			f.t.Errorf("%s: State Gen=%q Ver=%d, want %q %d", s.name, st.Gen, st.Ver, gen, s.ver)
		}
	}
	sameRegs(f.t, "end", f.state().Registrations, conf("b", 2), promoted(conf("c", 3)), promoted(conf("mailto:x@example.org", 4)))
}

func (f *fixture) opRegister(m string) func() (int64, error) { return f.opRegisterAt(m, now) }

func (f *fixture) opRegisterAt(m string, at time.Time) func() (int64, error) {
	return func() (int64, error) {
		o, err := f.g.Register(f.ctx, f.ev, reg(m), at)
		return o.Ver, err
	}
}

func (f *fixture) opUnregister(m string) func() (int64, error) {
	return func() (int64, error) {
		o, err := f.g.Unregister(f.ctx, f.ev, m)
		return o.Ver, err
	}
}

func (f *fixture) opConfigure(change func(*events.Settings)) func() (int64, error) {
	return func() (int64, error) {
		st, err := f.g.State(f.ctx, f.ev)
		if err != nil {
			return 0, err
		}
		ev := st.Event
		change(&ev.Settings)
		o, err := f.g.Configure(f.ctx, f.ev, ev)
		return o.Ver, err
	}
}

func (f *fixture) opReconcile(etag string, present ...string) func() (int64, error) {
	return func() (int64, error) {
		st, err := f.g.State(f.ctx, f.ev)
		if err != nil {
			return 0, err
		}
		var regs []events.Registration
		for _, m := range present {
			r, ok := st.Find(m)
			if !ok {
				r = reg(m)
			}
			regs = append(regs, r)
		}
		after, err := f.g.Reconcile(f.ctx, f.ev, etag, st.Event, regs, now)
		return after.Ver, err
	}
}

func testProgress(f *fixture) {
	gen := f.open(settings(5, true)).Gen
	o1 := f.register("a")
	p := f.progress()
	if p.Gen != gen || p.Ver != 1 || p.Durable != 0 || len(p.Failed) != 0 {
		f.t.Errorf("Progress = %+v, want Gen %q Ver 1 Durable 0", p, gen)
	}
	settle(f.t, p, o1.Gen, o1.Ver, false, nil)

	f.written(gen, 1, `"e1"`)
	p = f.progress()
	settle(f.t, p, o1.Gen, o1.Ver, true, nil)
	st := f.state()
	checkVers(f.t, "after Written 1", st, 1, 1)
	if st.ETag != `"e1"` {
		f.t.Errorf("ETag after Written = %q, want %q", st.ETag, `"e1"`)
	}

	// Another generation: refused, nothing changed.
	o2 := f.register("b")
	before := f.state()
	if err := f.g.Written(f.ctx, f.ev, "other-gen", 2, `"e9"`); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("Written with another generation: got %v, want ErrNoState", err)
	}
	sameState(f.t, "after a refused Written", f.state(), before, true)
	settle(f.t, f.progress(), o2.Gen, o2.Ver, false, nil)

	// Durable never goes back.
	o3 := f.register("c")
	f.written(gen, 3, `"e3"`)
	f.written(gen, 2, `"e2"`)
	p = f.progress()
	if p.Durable != 3 || p.Ver != 3 {
		f.t.Errorf("after Written 3 then 2: Progress = %+v, want Ver 3 Durable 3", p)
	}
	settle(f.t, p, o2.Gen, o2.Ver, true, nil)
	settle(f.t, p, o3.Gen, o3.Ver, true, nil)
	settle(f.t, p, "other-gen", 1, false, events.ErrNoState)

	// A flushed and rebuilt state is another generation.
	f.tg.Flush(f.t)
	if _, err := f.g.Progress(f.ctx, f.ev); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("Progress after Flush: got %v, want ErrNoState", err)
	}
	f.load(f.ev, events.State{Ver: 3, Event: newEvent(f.ev, settings(5, true)),
		Registrations: []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2)), loaded(conf("c", 3))}})
	p = f.progress()
	if p.Gen == gen || p.Gen == "" {
		f.t.Errorf("Gen after a rebuild = %q, want a new one (was %q)", p.Gen, gen)
	}
	settle(f.t, p, o3.Gen, o3.Ver, false, events.ErrNoState)
}

// testWrittenForgetsTombstones: a removal's tombstone keeps a stale
// reading from adding the member back until the removal is durable; then
// it is forgotten, and a member present again was added outside.
func testWrittenForgets(f *fixture) {
	gen := f.open(settings(5, true)).Gen
	f.register("a") // v1
	f.written(gen, 1, "e1")
	checkFound(f.t, "Unregister a", f.unregister("a"), gen, 2, true)
	ev := f.state().Event
	present := []events.Registration{withAt(now, conf("a", 1))[0]}

	f.reconcile("r1", ev, present, now.Add(time.Minute))
	if _, ok := f.state().Find("a"); ok {
		f.t.Errorf("a was added back while its removal was pending")
	}
	checkFound(f.t, "Unregister a, pending", f.unregister("a"), gen, 2, false)

	f.written(gen, 2, "e2")
	checkFound(f.t, "Unregister a, durable", f.unregister("a"), gen, 0, false)
	// (present carries a's old At: which At the new registration takes
	// is left open by the contract.)
	st := f.reconcile("r2", ev, present, now.Add(2*time.Minute))
	sameRegs(f.t, "after the tombstone was forgotten", st.Registrations, conf("a", 2))
	checkVers(f.t, "after the Reconcile", st, 3, 2)
}

// --- Reconcile ---

func testReconcileSameETag(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	f.load(f.ev, events.State{ETag: "e1", Ver: 4, Event: ev,
		Registrations: []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2))}})
	f.register("c") // pending
	before := f.state()
	ev2 := ev
	ev2.Title = "changed"
	got, err := f.g.Reconcile(f.ctx, f.ev, "e1", ev2, []events.Registration{reg("mailto:x@example.org")}, now)
	if err != nil {
		f.t.Fatalf("Reconcile: %v", err)
	}
	sameState(f.t, "Reconcile's answer, same ETag", got, before, true)
	sameState(f.t, "State after Reconcile with the same ETag", f.state(), before, true)
}

func testReconcileAdded(f *fixture) {
	closed := settings(2, false)
	closed.Closes = now.Add(-time.Hour)
	cancelled := settings(2, true)
	cancelled.Cancelled = true
	cases := []struct {
		name string
		s    events.Settings
	}{
		{"open, with a waiting list", settings(2, true)},
		{"closed window, no waiting list", closed},
		{"cancelled", cancelled},
	}
	for _, tc := range cases {
		f.ev = newID()
		ev := newEvent(f.ev, tc.s)
		f.load(f.ev, events.State{ETag: "e1", Ver: 2, Event: ev, Registrations: []events.Registration{loaded(conf("a", 1))}})
		gen := f.state().Gen
		y := reg("mailto:y@example.org")
		y.Status = events.Confirmed // read as such; the gate decides
		present := []events.Registration{
			loaded(conf("a", 1)),
			reg("mailto:x@example.org"),
			y,
			reg("mailto:z@example.org"),
		}
		at := now.Add(time.Minute)
		st := f.reconcile("e2", ev, present, at)
		want := append([]events.Registration{loaded(conf("a", 1))},
			withAt(at, conf("mailto:x@example.org", 2), wait("mailto:y@example.org", 3, 1), wait("mailto:z@example.org", 4, 2))...)
		sameRegs(f.t, tc.name, st.Registrations, want...)
		if st.Seq != 4 || st.Gen != gen {
			f.t.Errorf("%s: Seq=%d Gen=%q, want 4 %q", tc.name, st.Seq, st.Gen, gen)
		}
		checkVers(f.t, tc.name, st, 3, 2)
		// Added members are registered: a repeat gives them back.
		o, err := f.g.Register(f.ctx, f.ev, reg("mailto:z@example.org"), now)
		if err != nil {
			f.t.Errorf("%s: Register z: %v", tc.name, err)
			continue
		}
		checkOutcome(f.t, tc.name+": Register z", o, gen, 3, false, withAt(at, wait("mailto:z@example.org", 4, 2))[0])
	}
}

func testReconcileRemoved(f *fixture) {
	cases := []struct {
		name    string
		present []string
		want    []events.Registration
		gone    string // one of those removed
	}{
		{"a confirmed one: the head is promoted", []string{"b", "w1", "w2"},
			[]events.Registration{conf("b", 2), promoted(conf("w1", 3)), wait("w2", 4, 1)}, "a"},
		{"a waitlisted one: positions shift", []string{"a", "b", "w2"},
			[]events.Registration{conf("a", 1), conf("b", 2), wait("w2", 4, 1)}, "w1"},
		// Who is removed is decided on the state Reconcile finds: a
		// waitlisted member absent from the object is removed even if
		// a removal of a confirmed one would promote it.
		{"all of them", nil, nil, "w2"},
		{"a confirmed and a waitlisted one", []string{"b", "w2"},
			[]events.Registration{conf("b", 2), promoted(conf("w2", 4))}, "w1"},
	}
	all := []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2)), loaded(wait("w1", 3, 1)), loaded(wait("w2", 4, 2))}
	for _, tc := range cases {
		f.ev = newID()
		ev := newEvent(f.ev, settings(2, true))
		f.load(f.ev, events.State{ETag: "e1", Ver: 4, Event: ev, Registrations: all})
		var present []events.Registration
		for _, m := range tc.present {
			r, _ := f.state().Find(m)
			present = append(present, r)
		}
		st := f.reconcile("e2", ev, present, now)
		var want []events.Registration
		for _, w := range tc.want {
			w.At = loadedAt
			want = append(want, w)
		}
		sameRegs(f.t, tc.name, st.Registrations, want...)
		checkVers(f.t, tc.name, st, 5, 4)
		// A removal done outside is a removal: the member is not
		// registered any more, and the removal is pending.
		checkFound(f.t, tc.name+": Unregister "+tc.gone, f.unregister(tc.gone), st.Gen, 5, false)
	}
}

func testReconcilePending(f *fixture) {
	ev := newEvent(f.ev, settings(3, true))
	f.load(f.ev, events.State{ETag: "e1", Ver: 5, Event: ev,
		Registrations: []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2))}})
	gen := f.state().Gen
	f.register("p")   // v6, pending
	f.unregister("b") // v7, removal pending
	// The object read does not have p yet and still has b.
	present := []events.Registration{loaded(conf("a", 1)), loaded(conf("b", 2))}
	st := f.reconcile("e2", ev, present, now)
	sameRegs(f.t, "pending changes kept", st.Registrations, loaded(conf("a", 1)), withAt(now, conf("p", 3))[0])
	if st.Durable != 5 || st.Gen != gen {
		f.t.Errorf("Durable=%d Gen=%q, want 5 %q", st.Durable, st.Gen, gen)
	}

	// Once durable, the same reading means: p removed, b added outside.
	f.written(gen, st.Ver, "e3")
	st = f.reconcile("e4", ev, present, now.Add(time.Minute))
	sameRegs(f.t, "after Written", st.Registrations, loaded(conf("a", 1)), conf("b", 4))
}

func testReconcileFields(f *fixture) {
	s := events.Settings{Capacity: 2, Waitlist: true, Opens: now.Add(-24 * time.Hour), Closes: time.Time{}}
	ev := newEvent(f.ev, s)
	ev.Room, ev.RoomBooking = "room-1", "bk-1"
	f.load(f.ev, events.State{ETag: "e1", Event: ev, Registrations: []events.Registration{loaded(conf("a", 1))}})
	gen := f.state().Gen
	newStart := now.Add(-time.Hour) // moved outside to before now
	outside := events.Event{
		ID:          f.ev,
		Title:       "Edited in the calendar app ✏️",
		Description: "Changed outside",
		Start:       newStart,
		End:         newStart.Add(90 * time.Minute),
		Location:    "Café",
		Organizer:   booking.Member{ID: "org-9", Name: "Somebody Else", Email: "else@example.org"},
		Settings:    events.Settings{Capacity: 99, Waitlist: false, Cancelled: true, Opens: now.Add(time.Hour)},
		Created:     time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC),
	}
	st := f.reconcile("e2", outside, []events.Registration{loaded(conf("a", 1))}, now)
	want := outside
	want.Settings = s
	want.Settings.Start = newStart
	sameEvent(f.t, "Event after Reconcile", st.Event, want)
	if st.Gen != gen || st.Ver != 1 {
		f.t.Errorf("after Reconcile: Gen=%q Ver=%d, want %q 1", st.Gen, st.Ver, gen)
	}
	// The kept settings decide, with the new start: registration has
	// closed (it closes at Start).
	if _, err := f.g.Register(f.ctx, f.ev, reg("b"), now); !errors.Is(err, events.ErrClosed) {
		f.t.Errorf("Register after the start moved before now: got %v, want ErrClosed", err)
	}
	if _, err := f.g.Register(f.ctx, f.ev, reg("b"), newStart.Add(-time.Minute)); err != nil {
		f.t.Errorf("Register before the moved start: %v (the outside Cancelled/Opens must not apply)", err)
	}
}

// --- Rollback ---

func testRollback(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	f.load(f.ev, events.State{ETag: "e1", Ver: 5, Event: ev, Registrations: []events.Registration{
		loaded(conf("a", 1)), loaded(conf("b", 2)), loaded(wait("w", 3, 1))}})
	before := f.state()
	gen := before.Gen

	// A mix of changes, none written.
	checkOutcome(f.t, "Register c", f.registerAt("c", now.Add(time.Minute)), gen, 6, true,
		withAt(now.Add(time.Minute), wait("c", 4, 2))[0])
	checkFound(f.t, "Unregister a", f.unregister("a"), gen, 7, true) // w promoted
	ev2 := ev
	ev2.Title, ev2.Settings.Capacity = "Renamed", 3
	f.configure(ev2) // v8: c promoted
	outside := ev2
	outside.Title, outside.Start = "Renamed outside", ev2.Start.Add(time.Hour)
	present := []events.Registration{loaded(conf("w", 3)), withAt(now, conf("c", 4))[0], reg("mailto:x@example.org")}
	st := f.reconcile("e2", outside, present, now) // v9: b removed (durable, absent), x added
	sameRegs(f.t, "before the Rollback", st.Registrations,
		promoted(loaded(conf("w", 3))), promoted(withAt(now.Add(time.Minute), conf("c", 4))[0]), withAt(now, conf("mailto:x@example.org", 5))[0])
	checkVers(f.t, "before the Rollback", st, 9, 5)

	lease := f.lock(f.ev)
	if err := f.g.Rollback(f.ctx, f.ev, gen, lease.ID); err != nil {
		f.t.Fatalf("Rollback: %v", err)
	}
	after := f.state()
	sameState(f.t, "State after Rollback vs at Durable", after, before, false)
	checkVers(f.t, "after Rollback", after, 9, 9)
	if after.Seq != 5 {
		f.t.Errorf("Seq after Rollback = %d, want 5 (arrival numbers never go back)", after.Seq)
	}
	p := f.progress()
	if fmt.Sprint(p.Failed) != fmt.Sprint([]events.VerRange{{From: 5, To: 9}}) || p.Ver != 9 || p.Durable != 9 {
		f.t.Errorf("Progress after Rollback = %+v, want Ver=Durable=9, Failed [(5,9]]", p)
	}
	settle(f.t, p, gen, 5, true, nil)
	for v := int64(6); v <= 9; v++ {
		settle(f.t, p, gen, v, false, events.ErrRolledBack)
	}

	// New changes get versions above the failed range.
	o := f.register("d")
	checkOutcome(f.t, "Register d after the Rollback", o, gen, 10, true, withAt(now, wait("d", 6, 2))[0])
	settle(f.t, f.progress(), gen, 10, false, nil)

	// A second Rollback: the failed ranges oldest first.
	if err := f.g.Rollback(f.ctx, f.ev, gen, lease.ID); err != nil {
		f.t.Fatalf("second Rollback: %v", err)
	}
	sameState(f.t, "State after a second Rollback", f.state(), before, false)
	p = f.progress()
	if fmt.Sprint(p.Failed) != fmt.Sprint([]events.VerRange{{From: 5, To: 9}, {From: 9, To: 10}}) {
		f.t.Errorf("Failed after two Rollbacks = %v, want [(5,9] (9,10]]", p.Failed)
	}
	settle(f.t, p, gen, 10, false, events.ErrRolledBack)
	checkOutcome(f.t, "Register d again", f.register("d"), gen, 11, true, withAt(now, wait("d", 7, 2))[0])
}

func testRollbackKeepsDurable(f *fixture) {
	gen := f.open(settings(2, true)).Gen
	f.register("a") // v1
	f.written(gen, 1, "e1")
	durable := f.state()
	f.register("b")   // v2
	f.unregister("a") // v3
	lease := f.lock(f.ev)
	if err := f.g.Rollback(f.ctx, f.ev, gen, lease.ID); err != nil {
		f.t.Fatalf("Rollback: %v", err)
	}
	st := f.state()
	sameState(f.t, "State after Rollback", st, durable, false)
	checkVers(f.t, "after Rollback", st, 3, 3)
	p := f.progress()
	if fmt.Sprint(p.Failed) != fmt.Sprint([]events.VerRange{{From: 1, To: 3}}) {
		f.t.Errorf("Failed = %v, want [(1,3]]", p.Failed)
	}
	settle(f.t, p, gen, 1, true, nil)
	settle(f.t, p, gen, 2, false, events.ErrRolledBack)
	// b's registration is gone: it registers anew.
	checkOutcome(f.t, "Register b again", f.register("b"), gen, 4, true, withAt(now, conf("b", 3))[0])
}

func testRollbackNothingPending(f *fixture) {
	ev := newEvent(f.ev, settings(2, true))
	f.load(f.ev, events.State{ETag: "e1", Ver: 3, Event: ev, Registrations: []events.Registration{loaded(conf("a", 1))}})
	before := f.state()
	lease := f.lock(f.ev)
	if err := f.g.Rollback(f.ctx, f.ev, before.Gen, lease.ID); err != nil {
		f.t.Fatalf("Rollback with nothing pending: %v", err)
	}
	sameState(f.t, "State after an empty Rollback", f.state(), before, true)
	settle(f.t, f.progress(), before.Gen, 3, true, nil)
}

func testRollbackRefused(f *fixture) {
	cases := []struct {
		name string
		// prepare runs after the event is loaded and before the pending
		// change; it returns the generation and lease to roll back with.
		prepare func(f *fixture, gen string) (string, string)
	}{
		{"made-up lease", func(f *fixture, gen string) (string, string) { return gen, "no-such-lease" }},
		{"empty lease", func(f *fixture, gen string) (string, string) { return gen, "" }},
		{"released lease", func(f *fixture, gen string) (string, string) {
			l := f.lock(f.ev)
			l.Release()
			return gen, l.ID
		}},
		{"another event's lease", func(f *fixture, gen string) (string, string) {
			return gen, f.lock(newID()).ID
		}},
		{"wrong generation", func(f *fixture, gen string) (string, string) {
			return "other-gen", f.lock(f.ev).ID
		}},
		{"lease lost to a flush, state rebuilt with the same generation", func(f *fixture, gen string) (string, string) {
			l := f.lock(f.ev)
			f.tg.Flush(f.t)
			f.load(f.ev, events.State{Gen: gen, ETag: "e1", Ver: 2, Event: newEvent(f.ev, settings(2, true)),
				Registrations: []events.Registration{loaded(conf("a", 1))}})
			return gen, l.ID
		}},
	}
	for _, tc := range cases {
		f.ev = newID()
		f.load(f.ev, events.State{Gen: "gen-" + f.ev, ETag: "e1", Ver: 2, Event: newEvent(f.ev, settings(2, true)),
			Registrations: []events.Registration{loaded(conf("a", 1))}})
		gen, lease := tc.prepare(f, "gen-"+f.ev)
		o := f.register("p") // pending
		before := f.state()
		if err := f.g.Rollback(f.ctx, f.ev, gen, lease); !errors.Is(err, events.ErrLeaseLost) {
			f.t.Errorf("%s: Rollback: got %v, want ErrLeaseLost", tc.name, err)
		}
		sameState(f.t, tc.name+": state after a refused Rollback", f.state(), before, true)
		p := f.progress()
		if len(p.Failed) != 0 {
			f.t.Errorf("%s: Failed = %v after a refused Rollback", tc.name, p.Failed)
		}
		settle(f.t, p, o.Gen, o.Ver, false, nil)
	}
}

// --- Lock, Flush, Drop ---

func testLock(f *fixture) {
	lock := func(id string) (booking.Lease, bool) {
		f.t.Helper()
		lease, ok, err := f.g.Lock(f.ctx, id, time.Minute)
		if err != nil {
			f.t.Fatalf("Lock: %v", err)
		}
		if ok && lease.ID == "" {
			f.t.Fatal("Lock granted with an empty lease id")
		}
		return lease, ok
	}
	// No state is needed to lock.
	l1, ok := lock(f.ev)
	if !ok {
		f.t.Fatal("first Lock refused")
	}
	if _, ok := lock(f.ev); ok {
		f.t.Error("second Lock granted while held")
	}
	if _, ok := lock(newID()); !ok {
		f.t.Error("Lock of another event refused")
	}
	l1.Release()
	l2, ok := lock(f.ev)
	if !ok {
		f.t.Fatal("Lock after Release refused")
	}
	if l2.ID == l1.ID {
		f.t.Errorf("two holdings share the lease id %q", l1.ID)
	}
	// Only the holder extends the lock.
	if ok, err := l2.Extend(f.ctx, time.Minute); err != nil || !ok {
		f.t.Errorf("Extend by the holder: %v %v", ok, err)
	}
	if ok, err := l1.Extend(f.ctx, time.Minute); err != nil || ok {
		f.t.Errorf("Extend by a stale holder: %v %v, want false", ok, err)
	}
	// A stale Release does not free another holder's lock.
	l1.Release()
	if _, ok := lock(f.ev); ok {
		f.t.Error("a stale Release freed another holder's lock")
	}

	// The held lease rolls back; a released one does not.
	gen := f.open(settings(2, true)).Gen
	f.register("a")
	if err := f.g.Rollback(f.ctx, f.ev, gen, l2.ID); err != nil {
		f.t.Fatalf("Rollback with the held lease: %v", err)
	}
	if _, ok := f.state().Find("a"); ok {
		f.t.Error("a still registered after the Rollback")
	}
	f.register("b")
	before := f.state()
	l2.Release()
	if err := f.g.Rollback(f.ctx, f.ev, gen, l2.ID); !errors.Is(err, events.ErrLeaseLost) {
		f.t.Errorf("Rollback with a released lease: got %v, want ErrLeaseLost", err)
	}
	sameState(f.t, "after a refused Rollback", f.state(), before, true)
	if l3, ok := lock(f.ev); !ok {
		f.t.Error("Lock after the holder's Release refused")
	} else {
		l3.Release()
	}
}

func testFlush(f *fixture) {
	other := newID()
	gen := f.open(settings(2, true)).Gen
	o := f.register("a")
	f.load(other, events.State{Event: newEvent(other, settings(3, false))})
	if err := f.g.IndexLoad(f.ctx, "tok", map[string]time.Time{f.ev: start, other: start.Add(time.Hour)}); err != nil {
		f.t.Fatal(err)
	}
	f.lock(f.ev)

	f.tg.Flush(f.t)

	ev := newEvent(f.ev, settings(2, true))
	ops := []struct {
		name string
		call func() error
	}{
		{"State", func() error { _, err := f.g.State(f.ctx, f.ev); return err }},
		{"State of the other event", func() error { _, err := f.g.State(f.ctx, other); return err }},
		{"Progress", func() error { _, err := f.g.Progress(f.ctx, f.ev); return err }},
		{"Register", func() error { _, err := f.g.Register(f.ctx, f.ev, reg("b"), now); return err }},
		{"Register again", func() error { _, err := f.g.Register(f.ctx, f.ev, reg("a"), now); return err }},
		{"Unregister", func() error { _, err := f.g.Unregister(f.ctx, f.ev, "a"); return err }},
		{"Configure", func() error { _, err := f.g.Configure(f.ctx, f.ev, ev); return err }},
		{"Reconcile", func() error { _, err := f.g.Reconcile(f.ctx, f.ev, "e9", ev, nil, now); return err }},
		{"Written", func() error { return f.g.Written(f.ctx, f.ev, gen, o.Ver, "e9") }},
		{"IndexRange", func() error { _, err := f.g.IndexRange(f.ctx, start.Add(-time.Hour), start.Add(time.Hour)); return err }},
		{"IndexToken", func() error { _, err := f.g.IndexToken(f.ctx); return err }},
	}
	for _, op := range ops {
		if err := op.call(); !errors.Is(err, events.ErrNoState) {
			f.t.Errorf("%s after Flush: got %v, want ErrNoState", op.name, err)
		}
	}
	if sums, err := f.g.Summaries(f.ctx, []string{f.ev, other}); err != nil || len(sums) != 0 {
		f.t.Errorf("Summaries after Flush = %+v, %v; want none", sums, err)
	}
	// The lock went too.
	l := f.lock(f.ev)
	l.Release()

	// Rebuilt: a new generation, fresh counters.
	f.load(f.ev, events.State{Event: ev})
	st := f.state()
	if st.Gen == gen || st.Gen == "" {
		f.t.Errorf("Gen after Flush and Load = %q, want a new one (was %q)", st.Gen, gen)
	}
	checkOutcome(f.t, "Register after the rebuild", f.register("b"), st.Gen, 1, true, withAt(now, conf("b", 1))[0])
	settle(f.t, f.progress(), o.Gen, o.Ver, false, events.ErrNoState)
}

func testDrop(f *fixture) {
	other := newID()
	f.open(settings(2, true))
	f.register("a")
	f.load(other, events.State{Event: newEvent(other, settings(2, true))})
	if _, err := f.g.Register(f.ctx, other, reg("a"), now); err != nil {
		f.t.Fatal(err)
	}
	if err := f.g.Drop(f.ctx, f.ev); err != nil {
		f.t.Fatalf("Drop: %v", err)
	}
	if _, err := f.g.State(f.ctx, f.ev); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("State after Drop: got %v, want ErrNoState", err)
	}
	if _, err := f.g.Register(f.ctx, f.ev, reg("b"), now); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("Register after Drop: got %v, want ErrNoState", err)
	}
	st := f.stateOf(other)
	sameRegs(f.t, "the other event", st.Registrations, withAt(now, conf("a", 1))...)
	sums, err := f.g.Summaries(f.ctx, []string{f.ev, other})
	if err != nil || len(sums) != 1 || sums[0].Event.ID != other {
		f.t.Errorf("Summaries after Drop = %+v, %v; want only %s", sums, err, other)
	}
}

func testEventsSeparate(f *fixture) {
	other := newID()
	gen := f.open(settings(1, false)).Gen
	f.load(other, events.State{Event: newEvent(other, settings(1, false))})
	genOther := f.stateOf(other).Gen
	f.register("a")
	o, err := f.g.Register(f.ctx, other, reg("a"), now)
	if err != nil {
		f.t.Fatalf("Register in the other event: %v", err)
	}
	checkOutcome(f.t, "Register a in the other event", o, genOther, 1, true, withAt(now, conf("a", 1))[0])
	if _, err := f.g.Register(f.ctx, f.ev, reg("b"), now); !errors.Is(err, events.ErrFull) {
		f.t.Errorf("Register b: got %v, want ErrFull", err)
	}
	f.unregister("a")
	sameRegs(f.t, "the other event keeps a", f.stateOf(other).Registrations, withAt(now, conf("a", 1))...)
	f.written(gen, 2, "e2")
	if p, err := f.g.Progress(f.ctx, other); err != nil || p.Durable != 0 || p.Ver != 1 {
		f.t.Errorf("Progress of the other event = %+v, %v; want Ver 1 Durable 0", p, err)
	}
}

// --- index and summaries ---

func testIndex(f *fixture) {
	day := func(d, h int) time.Time { return start.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	rng := func(from, to time.Time) []string {
		f.t.Helper()
		ids, err := f.g.IndexRange(f.ctx, from, to)
		if err != nil {
			f.t.Fatalf("IndexRange: %v", err)
		}
		return ids
	}
	same := func(what string, got []string, want ...string) {
		f.t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			f.t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	token := func(want string) {
		f.t.Helper()
		if tok, err := f.g.IndexToken(f.ctx); err != nil || tok != want {
			f.t.Errorf("IndexToken = %q, %v; want %q", tok, err, want)
		}
	}

	if _, err := f.g.IndexRange(f.ctx, day(-1, 0), day(1, 0)); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("IndexRange before IndexLoad: got %v, want ErrNoState", err)
	}
	if _, err := f.g.IndexToken(f.ctx); !errors.Is(err, events.ErrNoState) {
		f.t.Errorf("IndexToken before IndexLoad: got %v, want ErrNoState", err)
	}

	starts := map[string]time.Time{
		"e1": day(0, 10), "e2": day(1, 9), "e3": day(0, 8), "e4": day(3, 12), "e5": day(-5, 0),
		"ev:with|odd chars é": day(2, 0),
	}
	if err := f.g.IndexLoad(f.ctx, "v1|tok 1", starts); err != nil {
		f.t.Fatalf("IndexLoad: %v", err)
	}
	token("v1|tok 1")
	cases := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"two days, by start", day(0, 0), day(2, 0), []string{"e3", "e1", "e2"}},
		{"from inclusive, to exclusive", day(0, 8), day(0, 10), []string{"e3"}},
		{"a second later", day(0, 8).Add(time.Second), day(0, 10).Add(time.Second), []string{"e1"}},
		{"everything", day(-10, 0), day(10, 0), []string{"e5", "e3", "e1", "e2", "ev:with|odd chars é", "e4"}},
		{"nothing", day(5, 0), day(6, 0), nil},
		{"empty range", day(0, 10), day(0, 10), nil},
	}
	for _, tc := range cases {
		same(tc.name, rng(tc.from, tc.to), tc.want...)
	}

	if err := f.g.IndexPut(f.ctx, "e6", day(1, 0)); err != nil {
		f.t.Fatalf("IndexPut: %v", err)
	}
	same("after IndexPut e6", rng(day(0, 0), day(2, 0)), "e3", "e1", "e6", "e2")
	if err := f.g.IndexPut(f.ctx, "e1", day(4, 0)); err != nil {
		f.t.Fatalf("IndexPut: %v", err)
	}
	same("after moving e1", rng(day(-10, 0), day(10, 0)), "e5", "e3", "e6", "e2", "ev:with|odd chars é", "e4", "e1")
	if err := f.g.IndexDel(f.ctx, "e2"); err != nil {
		f.t.Fatalf("IndexDel: %v", err)
	}
	same("after IndexDel e2", rng(day(0, 0), day(2, 0)), "e3", "e6")

	if err := f.g.SetIndexToken(f.ctx, "tok-2"); err != nil {
		f.t.Fatalf("SetIndexToken: %v", err)
	}
	token("tok-2")
	same("SetIndexToken keeps the index", rng(day(0, 0), day(2, 0)), "e3", "e6")

	// IndexLoad replaces the whole index.
	if err := f.g.IndexLoad(f.ctx, "tok-3", map[string]time.Time{"e7": day(0, 12)}); err != nil {
		f.t.Fatalf("IndexLoad: %v", err)
	}
	token("tok-3")
	same("after a second IndexLoad", rng(day(-10, 0), day(10, 0)), "e7")
	// An empty index is an index.
	if err := f.g.IndexLoad(f.ctx, "", nil); err != nil {
		f.t.Fatalf("empty IndexLoad: %v", err)
	}
	token("")
	same("empty index", rng(day(-10, 0), day(10, 0)))
}

func testSummaries(f *fixture) {
	e1, e2 := f.ev, newID()
	ev1 := newEvent(e1, settings(2, true))
	ev2 := newEvent(e2, settings(5, false))
	ev2.Title = "Second"
	f.load(e1, events.State{Event: ev1, Registrations: []events.Registration{
		loaded(conf("a", 1)), loaded(conf("b", 2)), loaded(wait("c", 3, 1))}})
	f.load(e2, events.State{Event: ev2})
	sums, err := f.g.Summaries(f.ctx, []string{e2, "no-such-event-" + testenv.RandomID(), e1})
	if err != nil {
		f.t.Fatalf("Summaries: %v", err)
	}
	if len(sums) != 2 {
		f.t.Fatalf("Summaries = %+v, want 2", sums)
	}
	sameEvent(f.t, "Summaries[0]", sums[0].Event, ev2)
	sameEvent(f.t, "Summaries[1]", sums[1].Event, ev1)
	if sums[0].Confirmed != 0 || sums[0].Waitlisted != 0 || sums[1].Confirmed != 2 || sums[1].Waitlisted != 1 {
		f.t.Errorf("counts = %d/%d and %d/%d, want 0/0 and 2/1",
			sums[0].Confirmed, sums[0].Waitlisted, sums[1].Confirmed, sums[1].Waitlisted)
	}
	if _, err := f.g.Register(f.ctx, e2, reg("x"), now); err != nil {
		f.t.Fatal(err)
	}
	f.unregister("a") // c promoted in e1
	sums, err = f.g.Summaries(f.ctx, []string{e1, e2})
	if err != nil || len(sums) != 2 || sums[0].Event.ID != e1 || sums[1].Event.ID != e2 ||
		sums[0].Confirmed != 2 || sums[0].Waitlisted != 0 || sums[1].Confirmed != 1 || sums[1].Waitlisted != 0 {
		f.t.Errorf("Summaries after changes = %+v, %v; want e1 2/0, e2 1/0", sums, err)
	}
	if sums, err := f.g.Summaries(f.ctx, nil); err != nil || len(sums) != 0 {
		f.t.Errorf("Summaries(nil) = %+v, %v", sums, err)
	}
}

// --- concurrency ---

// testConcurrentRegister: 500 members register at once for 50 seats;
// then 20 of the confirmed leave at once.
func testConcurrentRegister(f *fixture) {
	const n, seats, leaving = 500, 50, 20
	gen := f.open(settings(seats, true)).Gen
	outs := make([]events.Outcome, n)
	errs := make([]error, n)
	member := func(i int) string { return fmt.Sprintf("m%03d", i) }
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-begin
			outs[i], errs[i] = f.g.Register(f.ctx, f.ev, reg(member(i)), now)
		})
	}
	close(begin)
	wg.Wait()
	seqs, vers, positions := map[int64]int{}, map[int64]int{}, map[int]int{}
	var confirmed []int64
	bySeq := map[int64]string{}
	for i, o := range outs {
		if errs[i] != nil {
			f.t.Fatalf("Register %s: %v", member(i), errs[i])
		}
		if !o.Created || o.Gen != gen || o.Reg.Member != member(i) {
			f.t.Errorf("Register %s: Outcome %+v", member(i), o)
		}
		seqs[o.Reg.Seq]++
		vers[o.Ver]++
		bySeq[o.Reg.Seq] = member(i)
		switch o.Reg.Status {
		case events.Confirmed:
			confirmed = append(confirmed, o.Reg.Seq)
		case events.Waitlisted:
			positions[o.Reg.Position]++
			// No one left: the position is the count of those before.
			if int64(o.Reg.Position) != o.Reg.Seq-seats {
				f.t.Errorf("%s waits with Seq %d at position %d", member(i), o.Reg.Seq, o.Reg.Position)
			}
		}
	}
	if len(confirmed) != seats || len(positions) != n-seats {
		f.t.Fatalf("%d confirmed, %d distinct waiting positions; want %d, %d", len(confirmed), len(positions), seats, n-seats)
	}
	for k := 1; k <= n; k++ {
		if seqs[int64(k)] != 1 || vers[int64(k)] != 1 {
			f.t.Fatalf("Seq %d given %d times, Ver %d given %d times; want once each", k, seqs[int64(k)], k, vers[int64(k)])
		}
	}
	for p := 1; p <= n-seats; p++ {
		if positions[p] != 1 {
			f.t.Errorf("position %d given %d times", p, positions[p])
		}
	}
	for _, s := range confirmed {
		if s > seats {
			f.t.Errorf("confirmed with Seq %d while %d earlier arrivals wait", s, s-1)
		}
	}
	st := f.state()
	checkVers(f.t, "after the registrations", st, n, 0)
	if c, w := st.Counts(); c != seats || w != n-seats || st.Seq != n {
		f.t.Errorf("State: %d confirmed, %d waitlisted, Seq %d", c, w, st.Seq)
	}
	for _, r := range st.Registrations {
		if bySeq[r.Seq] != r.Member {
			f.t.Errorf("State has %s at Seq %d, Register answered %s", r.Member, r.Seq, bySeq[r.Seq])
		}
	}

	// 20 confirmed leave at once: the first 20 waiting are confirmed.
	sort.Slice(confirmed, func(i, j int) bool { return confirmed[i] < confirmed[j] })
	leavers := []string{}
	for i := 0; i < seats && len(leavers) < leaving; i += 2 {
		leavers = append(leavers, bySeq[confirmed[i]])
	}
	uouts := make([]events.Outcome, leaving)
	uerrs := make([]error, leaving)
	begin = make(chan struct{})
	for i, m := range leavers {
		wg.Go(func() {
			<-begin
			uouts[i], uerrs[i] = f.g.Unregister(f.ctx, f.ev, m)
		})
	}
	close(begin)
	wg.Wait()
	uvers := map[int64]bool{}
	for i, o := range uouts {
		if uerrs[i] != nil || !o.Found {
			f.t.Errorf("Unregister %s: %+v, %v", leavers[i], o, uerrs[i])
		}
		uvers[o.Ver] = true
	}
	for v := int64(n + 1); v <= n+leaving; v++ {
		if !uvers[v] {
			f.t.Errorf("no Unregister got Ver %d", v)
		}
	}
	st = f.state()
	checkVers(f.t, "after the unregistrations", st, n+leaving, 0)
	left := map[string]bool{}
	for _, m := range leavers {
		left[m] = true
	}
	var want []events.Registration
	for s := int64(1); s <= n; s++ {
		m := bySeq[s]
		if !left[m] && s <= seats+leaving {
			r := withAt(now, conf(m, s))[0]
			if s > seats {
				r = promoted(r) // confirmed from the waiting list
			}
			want = append(want, r)
		}
	}
	for s := int64(seats + leaving + 1); s <= n; s++ {
		want = append(want, withAt(now, wait(bySeq[s], s, int(s-seats-leaving)))[0])
	}
	sameRegs(f.t, "State after the promotions", st.Registrations, want...)
}

// testConcurrentSameMember: members register and unregister from
// several goroutines at once; no member is ever registered twice, and
// every change took exactly one version.
func testConcurrentSameMember(f *fixture) {
	const members, workers, rounds, seats = 30, 4, 25, 5
	f.open(settings(seats, true))
	var mu sync.Mutex
	created, found := map[string]int{}, map[string]int{}
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for m := range members {
		name := fmt.Sprintf("m%02d", m)
		for w := range workers {
			wg.Go(func() {
				<-begin
				for r := range rounds {
					if (r+w)%2 == 0 {
						o, err := f.g.Register(f.ctx, f.ev, reg(name), now)
						if err != nil {
							f.t.Errorf("Register %s: %v", name, err)
							return
						}
						if o.Created {
							mu.Lock()
							created[name]++
							mu.Unlock()
						}
					} else {
						o, err := f.g.Unregister(f.ctx, f.ev, name)
						if err != nil {
							f.t.Errorf("Unregister %s: %v", name, err)
							return
						}
						if o.Found {
							mu.Lock()
							found[name]++
							mu.Unlock()
						}
					}
				}
			})
		}
	}
	close(begin)
	wg.Wait()
	st := f.state() // checks members are unique
	changes := 0
	for m := range members {
		name := fmt.Sprintf("m%02d", m)
		changes += created[name] + found[name]
		_, registered := st.Find(name)
		switch d := created[name] - found[name]; {
		case d == 1 && registered, d == 0 && !registered:
		default:
			f.t.Errorf("%s: %d registrations made, %d removed, registered now: %v", name, created[name], found[name], registered)
		}
	}
	if st.Ver != int64(changes) {
		f.t.Errorf("Ver = %d after %d changes, want one version each", st.Ver, changes)
	}
	c, w := st.Counts()
	if c > seats || (c < seats && w > 0) {
		f.t.Errorf("%d confirmed and %d waiting for %d seats", c, w, seats)
	}
}

// testMine: Mine gives one member's registration as State does, with its
// current position, and nothing for a member not (or no longer)
// registered.
func testMine(f *fixture) {
	f.open(settings(1, true))
	for _, m := range []string{"a", "b", "c", "d"} {
		f.register(m)
	}
	f.unregister("b") // the first waiting: c and d move up
	st := f.state()
	for _, m := range []string{"a", "c", "d"} {
		want, _ := st.Find(m)
		got, ok, err := f.g.Mine(f.ctx, f.ev, m)
		if err != nil || !ok {
			f.t.Fatalf("Mine(%s) = %v, %v", m, ok, err)
		}
		if got.Member != want.Member || got.Status != want.Status || got.Position != want.Position ||
			got.Seq != want.Seq || !got.At.Equal(want.At) || got.Name != want.Name {
			f.t.Errorf("Mine(%s) = %+v, State says %+v", m, got, want)
		}
	}
	if got, _, _ := f.g.Mine(f.ctx, f.ev, "d"); got.Status != events.Waitlisted || got.Position != 2 {
		f.t.Errorf("Mine(d) after b left = %+v, want waitlisted at 2", got)
	}
	for _, m := range []string{"b", "nobody"} {
		if _, ok, err := f.g.Mine(f.ctx, f.ev, m); ok || err != nil {
			f.t.Errorf("Mine(%s) of a member not registered = %v, %v", m, ok, err)
		}
	}
}

// testPromoted: a member confirmed from the waiting list (by an
// Unregister, a Configure raising the cap, a Reconcile removing a
// confirmed one) has Promoted, dated by the gate's clock, in State, Mine
// and Register's answer, to the second; a seat had at once has none; Load keeps a
// confirmed registration's Promoted to the millisecond and drops a
// waitlisted one's; leaving and coming back starts afresh.
func testPromoted(f *fixture) {
	// within asserts that what's Promoted was set between before and
	// after (a second of slack: a Redis server's clock is another
	// process's reading).
	within := func(what string, r events.Registration, before, after time.Time) {
		f.t.Helper()
		if r.Promoted.IsZero() || r.Promoted.Before(before.Add(-time.Second)) || r.Promoted.After(after.Add(time.Second)) {
			f.t.Errorf("%s: Promoted = %s, want between %s and %s", what, fmtTime(r.Promoted), fmtTime(before), fmtTime(after))
		}
		if !r.Promoted.Equal(r.Promoted.Truncate(time.Second)) {
			f.t.Errorf("%s: Promoted = %s, want it to the second (as the calendar keeps it)", what, fmtTime(r.Promoted))
		}
	}
	find := func(st events.State, m string) events.Registration {
		f.t.Helper()
		r, ok := st.Find(m)
		if !ok {
			f.t.Fatalf("%s not registered:%s", m, fmtRegs(st.Registrations))
		}
		return r
	}
	f.open(settings(1, true))
	for _, m := range []string{"a", "b", "c", "d"} {
		f.register(m)
	}
	if r := find(f.state(), "a"); !r.Promoted.IsZero() {
		f.t.Errorf("a seat had at once: Promoted = %s, want zero", fmtTime(r.Promoted))
	}

	t0 := time.Now()
	f.unregister("a") // b promoted
	t1 := time.Now()
	st := f.state()
	b := find(st, "b")
	within("b, promoted by Unregister", b, t0, t1)
	if c := find(st, "c"); !c.Promoted.IsZero() {
		f.t.Errorf("c still waiting: Promoted = %s, want zero", fmtTime(c.Promoted))
	}
	if got, ok, err := f.g.Mine(f.ctx, f.ev, "b"); err != nil || !ok || !got.Promoted.Equal(b.Promoted) {
		f.t.Errorf("Mine(b) = %s, %v, %v; want Promoted %s", fmtTime(got.Promoted), ok, err, fmtTime(b.Promoted))
	}
	if o := f.register("b"); !o.Reg.Promoted.Equal(b.Promoted) {
		f.t.Errorf("Register(b) again: Promoted = %s, want %s", fmtTime(o.Reg.Promoted), fmtTime(b.Promoted))
	}

	ev := st.Event
	ev.Settings.Capacity = 2
	t2 := time.Now()
	f.configure(ev) // c promoted
	t3 := time.Now()
	st = f.state()
	within("c, promoted by Configure", find(st, "c"), t2, t3)
	if got := find(st, "b"); !got.Promoted.Equal(b.Promoted) {
		f.t.Errorf("b after Configure: Promoted = %s, want it kept at %s", fmtTime(got.Promoted), fmtTime(b.Promoted))
	}

	// Reconcile: b removed outside (once what roomcal wrote is
	// durable), d promoted.
	f.written(st.Gen, st.Ver, "e-written")
	present := []events.Registration{find(st, "c"), find(st, "d")}
	t4 := time.Now()
	st = f.reconcile("e-outside", ev, present, now)
	t5 := time.Now()
	within("d, promoted by Reconcile", find(st, "d"), t4, t5)

	// Load keeps a confirmed registration's Promoted, to the ms, and
	// not a waitlisted one's.
	at := time.Date(2026, 11, 25, 14, 3, 7, 123e6, time.UTC)
	pb, pw := loaded(conf("b", 1)), loaded(wait("w", 2, 1))
	pb.Promoted, pw.Promoted = at, at
	f.load(f.ev, events.State{Ver: 3, ETag: "e3", Event: newEvent(f.ev, settings(1, true)),
		Registrations: []events.Registration{pb, pw}})
	st = f.state()
	if got := find(st, "b"); !got.Promoted.Equal(at) {
		f.t.Errorf("after Load: b's Promoted = %s, want %s", fmtTime(got.Promoted), fmtTime(at))
	}
	if got := find(st, "w"); !got.Promoted.IsZero() {
		f.t.Errorf("after Load: waitlisted w's Promoted = %s, want zero", fmtTime(got.Promoted))
	}

	// Leaving and coming back: a new registration, not a promoted one.
	f.unregister("b") // w promoted
	if o := f.register("b"); !o.Reg.Promoted.IsZero() || o.Reg.Status != events.Waitlisted {
		f.t.Errorf("b back: %s, want waitlisted with no Promoted", fmtReg(o.Reg))
	}
}

// A Watch wakes on the changes waiters wait for: a Load, a write
// recorded, a rollback, the write lock released, a Drop; and only on
// its own event's.
func testWatch(f *fixture) {
	w := f.g.Watch(f.ev)
	defer w.Stop()
	other := f.g.Watch(newID())
	defer other.Stop()
	gen := f.open(settings(2, true)).Gen
	gatetest.Notified(f.t, w, "Load")
	f.register("a")
	gatetest.Quiet(f.t, w, "a Register (the writer is woken by its caller, in process)")
	f.written(gen, 1, "e1")
	gatetest.Notified(f.t, w, "Written")
	f.register("b")
	lease := f.lock(f.ev)
	if err := f.g.Rollback(f.ctx, f.ev, gen, lease.ID); err != nil {
		f.t.Fatal(err)
	}
	gatetest.Notified(f.t, w, "Rollback")
	lease.Release()
	gatetest.Notified(f.t, w, "the lock's release")
	if err := f.g.Drop(f.ctx, f.ev); err != nil {
		f.t.Fatal(err)
	}
	gatetest.Notified(f.t, w, "Drop")
	gatetest.Quiet(f.t, other, "changes of another event")
}
