// Package gatetest is the contract suite of booking.Gate: one set of
// tests that internal/redisgate passes on the embedded engine (Embedded),
// a Redis and a Redis Cluster, so that the embedded default and a Redis
// deployment keep the same promises.
//
// An implementation's test calls Run with a function that makes a fresh
// Target for one subtest:
//
//	func TestContract(t *testing.T) {
//		gatetest.Run(t, func(t *testing.T) gatetest.Target {
//			e := gatetest.Embedded(t)
//			g := redisgate.New(e.Client())
//			return gatetest.Target{Gate: g, Flush: func(*testing.T) { e.FlushAll() }, Elapse: clock.Advance}
//		})
//	}
//
// Subtests run in parallel, each on its own Target and its own random
// room ids, so Targets may share one server as long as Flush only drops
// what that Target wrote (e.g. keys under a per-Target prefix).
package gatetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// Target is one gate under test and the hooks the suite needs around it.
type Target struct {
	// Gate is the implementation under test, with no state for any room
	// the suite uses (the suite picks random room ids).
	Gate booking.Gate
	// Flush drops the state, holds and locks of every room this Target's
	// Gate knows, at once, as FLUSHALL does to Redis.
	Flush func(t *testing.T)
	// Elapse lets at least d pass on the Gate's clock: a fake clock
	// advances, a real one sleeps. The suite never asserts how long
	// anything took; after Elapse it polls, with a generous deadline,
	// until an expired hold or lock is seen gone.
	Elapse func(t *testing.T, d time.Duration)
	// Sited returns a gate over the same store (and Flush) as Gate
	// whose rooms are grouped into slots by slot (redisgate.WithSlots),
	// for quotas over a site.
	Sited func(t *testing.T, slot func(room string) string) booking.Gate
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
		{"ClaimAfterLoad", testClaimAfterLoad},
		{"ConflictWithHold", testConflictWithHold},
		{"ConflictWithBusy", testConflictWithBusy},
		{"HalfOpenBoundaries", testHalfOpen},
		{"Buffer", testBuffer},
		{"Ignore", testIgnore},
		{"MultiIntervalAllOrNone", testMultiInterval},
		{"ReclaimSameHold", testReclaimSameHold},
		{"CommitWithLiveHold", testCommitLiveHold},
		{"CommitAfterExpiryClear", testCommitAfterExpiryClear},
		{"CommitAfterExpiryTaken", testCommitAfterExpiryTaken},
		{"CommitAfterFlush", testCommitAfterFlush},
		{"CommitReplacesObject", testCommitReplaces},
		{"Release", testRelease},
		{"HoldExpiry", testHoldExpiry},
		{"Apply", testApply},
		{"ApplyFence", testApplyFence},
		{"LoadLease", testLoadLease},
		{"LoadKeepsHolds", testLoadKeepsHolds},
		{"LoadLarge", testLoadLarge},
		{"ObjectsAndToken", testObjectsAndToken},
		{"Version", testVersion},
		{"BusyRange", testBusyRange},
		{"RoomsAreSeparate", testRoomsSeparate},
		{"Lock", testLock},
		{"Watch", testWatch},
		{"LockObject", testLockObject},
		{"InvalidInput", testInvalidInput},
		{"ConcurrentSameSlot", testConcurrentSameSlot},
		{"ConcurrentDistinctSlots", testConcurrentDistinctSlots},
		{"ConcurrentBookingsNeverOverlap", testConcurrentNoOverlap},
		{"QuotaParallel", testQuotaParallel},
		{"QuotaCountsState", testQuotaCountsState},
		{"QuotaHolds", testQuotaHolds},
		{"QuotaLongestAndSeries", testQuotaLongestAndSeries},
		{"QuotaSite", testQuotaSite},
		{"QuotaCommitLostHold", testQuotaCommitLostHold},
		{"QuotaCommitLostHoldSite", testQuotaCommitLostHoldSite},
		{"Retire", testRetire},
		{"RetireDuringLoad", testRetireDuringLoad},
		{"RetireIfClear", testRetireIfClear},
		{"TakeBack", testTakeBack},
		{"TakeBackDuringLoad", testTakeBackDuringLoad},
		{"TakeBackChange", testTakeBackChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			tc.fn(&fixture{t: t, tg: tg, g: tg.Gate, ctx: ctx, room: "r" + testenv.RandomID()})
		})
	}
}

// base is a Monday far enough ahead that nothing is in the past.
var base = time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC)

// at is base + day days, h:m.
func at(day, h, m int) time.Time {
	return base.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func busy(ref string, kind booking.Kind, start, end time.Time) booking.Busy {
	return booking.Busy{Ref: ref, Kind: kind, Start: start, End: end, Title: "t-" + ref}
}

func obj(etag string, bs ...booking.Busy) booking.ObjectState {
	return booking.ObjectState{ETag: etag, Busy: bs}
}

const longTTL = 10 * time.Minute

// shortTTL is the life of holds a test waits out.
const shortTTL = 300 * time.Millisecond

type fixture struct {
	t    *testing.T
	tg   Target
	g    booking.Gate
	ctx  context.Context
	room string
}

func (f *fixture) load(room string, objs map[string]booking.ObjectState) {
	f.t.Helper()
	if err := f.g.Load(f.ctx, room, booking.Snapshot{Token: "tok-load", Objects: objs}); err != nil {
		f.t.Fatalf("Load(%s): %v", room, err)
	}
}

func claimOf(hold string, ttl time.Duration, ivs ...booking.Busy) booking.Claim {
	for i := range ivs {
		if ivs[i].Kind == "" {
			ivs[i].Kind = booking.KindBooking
		}
		if ivs[i].Title == "" {
			ivs[i].Title = "claim " + hold
		}
	}
	return booking.Claim{HoldID: hold, Intervals: ivs, TTL: ttl}
}

func span(start, end time.Time) booking.Busy { return booking.Busy{Start: start, End: end} }

func (f *fixture) claim(c booking.Claim) error {
	f.t.Helper()
	return f.g.Claim(f.ctx, f.room, c)
}

func (f *fixture) mustClaim(c booking.Claim) {
	f.t.Helper()
	if err := f.claim(c); err != nil {
		f.t.Fatalf("Claim(%s): %v", c.HoldID, err)
	}
}

// conflict asserts err is a *ConflictError for f.room and returns it.
func (f *fixture) conflict(err error) *booking.ConflictError {
	f.t.Helper()
	var ce *booking.ConflictError
	if !errors.As(err, &ce) {
		f.t.Fatalf("want *booking.ConflictError, got %v", err)
	}
	if ce.Room != f.room {
		f.t.Errorf("ConflictError.Room = %q, want %q", ce.Room, f.room)
	}
	return ce
}

func (f *fixture) busy(from, to time.Time) []booking.Busy {
	f.t.Helper()
	bs, err := f.g.Busy(f.ctx, f.room, from, to)
	if err != nil {
		f.t.Fatalf("Busy: %v", err)
	}
	return bs
}

// key identifies a Busy by what the suite compares: ref, kind and span.
type key struct {
	Ref        string
	Kind       booking.Kind
	Start, End string
}

func keyOf(b booking.Busy) key {
	return key{b.Ref, b.Kind, b.Start.UTC().Format(time.RFC3339), b.End.UTC().Format(time.RFC3339)}
}

func keys(bs []booking.Busy) []key {
	out := make([]key, len(bs))
	for i, b := range bs {
		out[i] = keyOf(b)
	}
	return out
}

// same asserts got lists exactly want, in order.
func same(t *testing.T, what string, got []booking.Busy, want ...booking.Busy) {
	t.Helper()
	g, w := keys(got), keys(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, w)
	}
}

// sameSet asserts got lists exactly want, in any order.
func sameSet(t *testing.T, what string, got []booking.Busy, want ...booking.Busy) {
	t.Helper()
	g, w := keys(got), keys(want)
	less := func(ks []key) func(i, j int) bool {
		return func(i, j int) bool { return fmt.Sprint(ks[i]) < fmt.Sprint(ks[j]) }
	}
	sort.Slice(g, less(g))
	sort.Slice(w, less(w))
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, w)
	}
}

// hold is the Busy a hold shows as.
func hold(id string, start, end time.Time) booking.Busy {
	return booking.Busy{Ref: id, Kind: booking.KindHold, Start: start, End: end}
}

// eventually polls cond until it holds, failing after a generous
// deadline. It asserts that something happens, never how fast.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: still not so after 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expire lets a hold claimed with shortTTL expire, and waits until the
// gate no longer shows it.
func (f *fixture) expire(holdID string, from, to time.Time) {
	f.t.Helper()
	f.tg.Elapse(f.t, shortTTL)
	f.eventually("hold "+holdID+" expired", func() bool {
		for _, b := range f.busy(from, to) {
			if b.Ref == holdID {
				return false
			}
		}
		return true
	})
}

func testNoState(f *fixture) {
	iv := []booking.Busy{busy("b", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))}
	ops := []struct {
		name string
		call func() error
	}{
		{"Claim", func() error { return f.claim(claimOf("h", longTTL, span(at(0, 10, 0), at(0, 11, 0)))) }},
		{"Commit", func() error { return f.g.Commit(f.ctx, f.room, "h", "b", "e1", iv, 0, nil) }},
		{"Busy", func() error { _, err := f.g.Busy(f.ctx, f.room, at(0, 0, 0), at(1, 0, 0)); return err }},
		{"Token", func() error { _, err := f.g.Token(f.ctx, f.room); return err }},
		{"Version", func() error { _, _, err := f.g.Version(f.ctx, f.room); return err }},
		{"Objects", func() error { _, _, err := f.g.Objects(f.ctx, f.room); return err }},
		{"Apply", func() error {
			return f.g.Apply(f.ctx, f.room, "t", map[string]booking.ObjectState{"b": obj("e", iv...)}, nil, nil)
		}},
	}
	for _, op := range ops {
		if err := op.call(); !errors.Is(err, booking.ErrNoState) {
			f.t.Errorf("%s on a room with no state: got %v, want ErrNoState", op.name, err)
		}
	}
	if err := f.g.Release(f.ctx, f.room, "h"); !errors.Is(err, booking.ErrHoldLost) {
		f.t.Errorf("Release on a room with no state: got %v, want ErrHoldLost", err)
	}
	// Apply did not create state.
	if _, err := f.g.Token(f.ctx, f.room); !errors.Is(err, booking.ErrNoState) {
		f.t.Errorf("after a refused Apply, Token: got %v, want ErrNoState", err)
	}
}

func testClaimAfterLoad(f *fixture) {
	ext := busy("ext", booking.KindExternal, at(0, 9, 0), at(0, 10, 0))
	f.load(f.room, map[string]booking.ObjectState{"ext": obj("e1", ext)})
	c := claimOf("h1", longTTL, booking.Busy{Start: at(0, 10, 0), End: at(0, 11, 0), Title: "Standup", Organizer: "m1"})
	f.mustClaim(c)
	got := f.busy(at(0, 8, 0), at(0, 12, 0))
	same(f.t, "Busy after claim", got, ext, hold("h1", at(0, 10, 0), at(0, 11, 0)))
	if len(got) == 2 && (got[1].Title != "Standup" || got[1].Organizer != "m1") {
		f.t.Errorf("hold shows title %q organizer %q, want Standup m1", got[1].Title, got[1].Organizer)
	}
}

func testConflictWithHold(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	ce := f.conflict(f.claim(claimOf("h2", longTTL, span(at(0, 10, 30), at(0, 11, 30)))))
	same(f.t, "conflicts", ce.Conflicts, hold("h1", at(0, 10, 0), at(0, 11, 0)))
	same(f.t, "Busy after refused claim", f.busy(at(0, 0, 0), at(1, 0, 0)), hold("h1", at(0, 10, 0), at(0, 11, 0)))
}

func testConflictWithBusy(f *fixture) {
	b := booking.Busy{
		Ref: "ext-1", Kind: booking.KindExternal, Start: at(0, 10, 0), End: at(0, 11, 0),
		Title:     "Réunion | {room:x} \"q\"\n日本語 🎉 \\ <b>&amp;",
		Organizer: "mémbre|1",
	}
	f.load(f.room, map[string]booking.ObjectState{"ext-1": obj("e1", b)})
	ce := f.conflict(f.claim(claimOf("h", longTTL, span(at(0, 10, 59), at(0, 12, 0)))))
	same(f.t, "conflicts", ce.Conflicts, b)
	if len(ce.Conflicts) == 1 {
		got := ce.Conflicts[0]
		if got.Title != b.Title || got.Organizer != b.Organizer {
			f.t.Errorf("conflict title/organizer = %q/%q, want %q/%q", got.Title, got.Organizer, b.Title, b.Organizer)
		}
	}
	bs := f.busy(at(0, 0, 0), at(1, 0, 0))
	if len(bs) != 1 || bs[0].Title != b.Title || bs[0].Organizer != b.Organizer || bs[0].Kind != b.Kind {
		f.t.Errorf("Busy = %+v, want the loaded interval unchanged", bs)
	}
}

func testHalfOpen(f *fixture) {
	b := busy("b", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	short := busy("short", booking.KindBooking, at(0, 12, 30), at(0, 13, 0))
	f.load(f.room, map[string]booking.ObjectState{"b": obj("e", b), "short": obj("e", short)})
	cases := []struct {
		name       string
		start, end time.Time
		clash      bool
	}{
		// short is shorter than the longest interval of the room.
		{"starts where a short busy ends", at(0, 13, 0), at(0, 14, 0), false},
		{"ends where a short busy starts", at(0, 11, 30), at(0, 12, 30), false},
		{"ends where busy starts", at(0, 9, 0), at(0, 10, 0), false},
		{"starts where busy ends", at(0, 11, 0), at(0, 12, 0), false},
		{"overlaps start by a minute", at(0, 9, 0), at(0, 10, 1), true},
		{"overlaps end by a minute", at(0, 10, 59), at(0, 12, 0), true},
		{"inside", at(0, 10, 15), at(0, 10, 45), true},
		{"around", at(0, 9, 0), at(0, 12, 0), true},
		{"same", at(0, 10, 0), at(0, 11, 0), true},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("h%d", i)
		err := f.claim(claimOf(id, longTTL, span(tc.start, tc.end)))
		if tc.clash {
			ce := f.conflict(err)
			same(f.t, tc.name, ce.Conflicts, b)
			continue
		}
		if err != nil {
			f.t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := f.g.Release(f.ctx, f.room, id); err != nil {
			f.t.Errorf("%s: Release: %v", tc.name, err)
		}
	}
}

func testBuffer(f *fixture) {
	b := busy("b", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	f.load(f.room, map[string]booking.ObjectState{"b": obj("e", b)})
	f.mustClaim(claimOf("held", longTTL, span(at(0, 14, 0), at(0, 15, 0))))
	const buf = 15 * time.Minute
	cases := []struct {
		name       string
		start, end time.Time
		want       []booking.Busy
	}{
		{"before, gap equals buffer", at(0, 9, 0), at(0, 9, 45), nil},
		{"before, gap under buffer", at(0, 9, 0), at(0, 9, 50), []booking.Busy{b}},
		{"after, gap equals buffer", at(0, 11, 15), at(0, 12, 0), nil},
		{"after, gap under buffer", at(0, 11, 10), at(0, 12, 0), []booking.Busy{b}},
		{"hold after, gap under buffer", at(0, 13, 0), at(0, 13, 50), []booking.Busy{hold("held", at(0, 14, 0), at(0, 15, 0))}},
		{"hold before, gap under buffer", at(0, 15, 5), at(0, 16, 0), []booking.Busy{hold("held", at(0, 14, 0), at(0, 15, 0))}},
		{"between both, too close to each", at(0, 11, 10), at(0, 13, 50), []booking.Busy{b, hold("held", at(0, 14, 0), at(0, 15, 0))}},
		{"between both, clear", at(0, 11, 15), at(0, 13, 45), nil},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("h%d", i)
		c := claimOf(id, longTTL, span(tc.start, tc.end))
		c.Buffer = buf
		err := f.claim(c)
		if tc.want != nil {
			same(f.t, tc.name, f.conflict(err).Conflicts, tc.want...)
			continue
		}
		if err != nil {
			f.t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := f.g.Release(f.ctx, f.room, id); err != nil {
			f.t.Errorf("%s: Release: %v", tc.name, err)
		}
	}
	// Without a buffer, the tight slot is fine.
	f.mustClaim(claimOf("nobuf", longTTL, span(at(0, 11, 0), at(0, 14, 0))))
}

func testIgnore(f *fixture) {
	x := busy("X", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	z := busy("Z", booking.KindBooking, at(0, 12, 0), at(0, 13, 0))
	f.load(f.room, map[string]booking.ObjectState{"X": obj("e", x), "Z": obj("e", z)})
	cases := []struct {
		name       string
		ignore     string
		start, end time.Time
		want       []booking.Busy
	}{
		{"own slot ignored", "X", at(0, 10, 30), at(0, 11, 30), nil},
		{"other ref not ignored", "Z", at(0, 10, 30), at(0, 11, 30), []booking.Busy{x}},
		{"ignore hides only its ref", "X", at(0, 10, 30), at(0, 12, 30), []booking.Busy{z}},
		{"unknown ref", "nope", at(0, 10, 30), at(0, 11, 30), []booking.Busy{x}},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("h%d", i)
		c := claimOf(id, longTTL, span(tc.start, tc.end))
		c.Ignore = tc.ignore
		err := f.claim(c)
		if tc.want != nil {
			same(f.t, tc.name, f.conflict(err).Conflicts, tc.want...)
			continue
		}
		if err != nil {
			f.t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := f.g.Release(f.ctx, f.room, id); err != nil {
			f.t.Errorf("%s: Release: %v", tc.name, err)
		}
	}
}

func testMultiInterval(f *fixture) {
	a := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	b := busy("B", booking.KindEvent, at(0, 11, 0), at(0, 12, 0))
	f.load(f.room, map[string]booking.ObjectState{"A": obj("e", a), "B": obj("e", b)})
	f.mustClaim(claimOf("h0", longTTL, span(at(2, 10, 0), at(2, 11, 0))))
	// Weekly-like occurrences on days 0..3: day 0 clashes with A and B,
	// day 2 with hold h0, days 1 and 3 are free.
	var occ []booking.Busy
	for d := range 4 {
		occ = append(occ, span(at(d, 10, 30), at(d, 11, 30)))
	}
	ce := f.conflict(f.claim(claimOf("rec", longTTL, occ...)))
	same(f.t, "every clash listed", ce.Conflicts, a, b, hold("h0", at(2, 10, 0), at(2, 11, 0)))
	// Nothing of the refused claim was held.
	same(f.t, "Busy after refused claim", f.busy(at(0, 0, 0), at(5, 0, 0)), a, b, hold("h0", at(2, 10, 0), at(2, 11, 0)))
	f.mustClaim(claimOf("other", longTTL, span(at(1, 10, 30), at(1, 11, 30)), span(at(3, 10, 30), at(3, 11, 30))))
	// A claim whose occurrences are all free is held whole.
	var free []booking.Busy
	for d := 4; d < 8; d++ {
		free = append(free, span(at(d, 10, 0), at(d, 11, 0)))
	}
	f.mustClaim(claimOf("rec2", longTTL, free...))
	var want []booking.Busy
	for _, iv := range free {
		want = append(want, hold("rec2", iv.Start, iv.End))
	}
	same(f.t, "all occurrences held", f.busy(at(4, 0, 0), at(8, 0, 0)), want...)
}

func testReclaimSameHold(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	// A retried claim does not clash with itself.
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	// A new claim with the same id replaces the hold.
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 14, 0), at(0, 15, 0))))
	same(f.t, "Busy", f.busy(at(0, 0, 0), at(1, 0, 0)), hold("h1", at(0, 14, 0), at(0, 15, 0)))
	f.mustClaim(claimOf("h2", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
}

func testCommitLiveHold(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	bk := booking.Busy{Ref: "bk1", Kind: booking.KindBooking, Start: at(0, 10, 0), End: at(0, 11, 0), Title: "Planning", Organizer: "m7"}
	if err := f.g.Commit(f.ctx, f.room, "h1", "bk1", "etag-1", []booking.Busy{bk}, 0, nil); err != nil {
		f.t.Fatalf("Commit: %v", err)
	}
	got := f.busy(at(0, 0, 0), at(1, 0, 0))
	same(f.t, "Busy after commit", got, bk)
	if len(got) == 1 && (got[0].Title != "Planning" || got[0].Organizer != "m7") {
		f.t.Errorf("committed interval = %+v", got[0])
	}
	_, etags, err := f.g.Objects(f.ctx, f.room)
	if err != nil || etags["bk1"] != "etag-1" {
		f.t.Errorf("Objects = %v, %v; want bk1 at etag-1", etags, err)
	}
	if err := f.g.Release(f.ctx, f.room, "h1"); !errors.Is(err, booking.ErrHoldLost) {
		f.t.Errorf("Release after Commit: got %v, want ErrHoldLost", err)
	}
	ce := f.conflict(f.claim(claimOf("h2", longTTL, span(at(0, 10, 30), at(0, 11, 30)))))
	same(f.t, "committed booking blocks", ce.Conflicts, bk)
}

func testCommitAfterExpiryClear(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", shortTTL, span(at(0, 10, 0), at(0, 11, 0))))
	f.expire("h1", at(0, 0, 0), at(1, 0, 0))
	bk := busy("bk1", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	if err := f.g.Commit(f.ctx, f.room, "h1", "bk1", "e1", []booking.Busy{bk}, 0, nil); err != nil {
		f.t.Fatalf("Commit after hold expiry on a clear slot: %v", err)
	}
	same(f.t, "Busy", f.busy(at(0, 0, 0), at(1, 0, 0)), bk)
}

func testCommitAfterExpiryTaken(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", shortTTL, span(at(0, 10, 0), at(0, 11, 0))))
	f.tg.Elapse(f.t, shortTTL)
	f.eventually("h2 gets the slot h1 held", func() bool {
		err := f.claim(claimOf("h2", longTTL, span(at(0, 10, 30), at(0, 11, 30))))
		var ce *booking.ConflictError
		if err != nil && !errors.As(err, &ce) {
			f.t.Fatalf("Claim h2: %v", err)
		}
		return err == nil
	})
	bk := busy("bk1", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	ce := f.conflict(f.g.Commit(f.ctx, f.room, "h1", "bk1", "e1", []booking.Busy{bk}, 0, nil))
	same(f.t, "Commit conflicts", ce.Conflicts, hold("h2", at(0, 10, 30), at(0, 11, 30)))
	same(f.t, "nothing recorded", f.busy(at(0, 0, 0), at(1, 0, 0)), hold("h2", at(0, 10, 30), at(0, 11, 30)))
	if _, etags, err := f.g.Objects(f.ctx, f.room); err != nil || len(etags) != 0 {
		f.t.Errorf("Objects = %v, %v; want none", etags, err)
	}
}

func testCommitAfterFlush(f *fixture) {
	bk := busy("bk1", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	cases := []struct {
		name string
		// between runs after the claim of h1 and the flush.
		between  func(f *fixture)
		wantErr  error
		conflict []booking.Busy
		want     []booking.Busy // Busy after the commit
	}{
		{
			name:    "no rebuild",
			between: func(f *fixture) {},
			wantErr: booking.ErrNoState,
		},
		{
			name:    "rebuilt, slot clear",
			between: func(f *fixture) { f.load(f.room, nil) },
			want:    []booking.Busy{bk},
		},
		{
			name: "rebuilt with the booking already in the calendar",
			between: func(f *fixture) {
				f.load(f.room, map[string]booking.ObjectState{"bk1": obj("e1", bk)})
			},
			want: []booking.Busy{bk},
		},
		{
			name: "rebuilt, then someone else claimed",
			between: func(f *fixture) {
				f.load(f.room, nil)
				f.mustClaim(claimOf("h2", longTTL, span(at(0, 10, 45), at(0, 12, 0))))
			},
			conflict: []booking.Busy{hold("h2", at(0, 10, 45), at(0, 12, 0))},
			want:     []booking.Busy{hold("h2", at(0, 10, 45), at(0, 12, 0))},
		},
		{
			name: "rebuilt with a clashing external event",
			between: func(f *fixture) {
				f.load(f.room, map[string]booking.ObjectState{"ext": obj("x", busy("ext", booking.KindExternal, at(0, 9, 0), at(0, 10, 30)))})
			},
			conflict: []booking.Busy{busy("ext", booking.KindExternal, at(0, 9, 0), at(0, 10, 30))},
			want:     []booking.Busy{busy("ext", booking.KindExternal, at(0, 9, 0), at(0, 10, 30))},
		},
	}
	for _, tc := range cases {
		f.room = "r" + testenv.RandomID()
		f.load(f.room, nil)
		f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
		f.tg.Flush(f.t)
		tc.between(f)
		err := f.g.Commit(f.ctx, f.room, "h1", "bk1", "e1", []booking.Busy{bk}, 0, nil)
		switch {
		case tc.wantErr != nil:
			if !errors.Is(err, tc.wantErr) {
				f.t.Errorf("%s: Commit: got %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		case tc.conflict != nil:
			same(f.t, tc.name+": conflicts", f.conflict(err).Conflicts, tc.conflict...)
		case err != nil:
			f.t.Errorf("%s: Commit: %v", tc.name, err)
		}
		same(f.t, tc.name+": Busy", f.busy(at(0, 0, 0), at(1, 0, 0)), tc.want...)
	}
}

func testCommitReplaces(f *fixture) {
	old := busy("B", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	f.load(f.room, map[string]booking.ObjectState{"B": obj("e1", old)})
	cases := []struct {
		name       string
		start, end time.Time
	}{
		{"move away", at(0, 14, 0), at(0, 15, 0)},
		{"move onto its own old slot", at(0, 14, 30), at(0, 15, 30)},
		{"back to the morning", at(0, 10, 0), at(0, 11, 0)},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("mv%d", i)
		c := claimOf(id, longTTL, span(tc.start, tc.end))
		c.Ignore = "B"
		f.mustClaim(c)
		nb := busy("B", booking.KindBooking, tc.start, tc.end)
		etag := fmt.Sprintf("e%d", i+2)
		if err := f.g.Commit(f.ctx, f.room, id, "B", etag, []booking.Busy{nb}, 0, nil); err != nil {
			f.t.Fatalf("%s: Commit: %v", tc.name, err)
		}
		same(f.t, tc.name, f.busy(at(0, 0, 0), at(1, 0, 0)), nb)
		if _, etags, err := f.g.Objects(f.ctx, f.room); err != nil || etags["B"] != etag {
			f.t.Errorf("%s: Objects = %v, %v", tc.name, etags, err)
		}
	}
	// Re-check path (no hold) replaces too, ignoring the object itself.
	nb := busy("B", booking.KindBooking, at(0, 10, 30), at(0, 11, 30))
	if err := f.g.Commit(f.ctx, f.room, "gone", "B", "e9", []booking.Busy{nb}, 0, nil); err != nil {
		f.t.Fatalf("Commit without hold over own slot: %v", err)
	}
	same(f.t, "after re-checked commit", f.busy(at(0, 0, 0), at(1, 0, 0)), nb)
}

func testRelease(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	if err := f.g.Release(f.ctx, f.room, "h1"); err != nil {
		f.t.Fatalf("Release: %v", err)
	}
	if bs := f.busy(at(0, 0, 0), at(1, 0, 0)); len(bs) != 0 {
		f.t.Errorf("Busy after Release = %v, want none", keys(bs))
	}
	f.mustClaim(claimOf("h2", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	for _, id := range []string{"h1", "never"} {
		if err := f.g.Release(f.ctx, f.room, id); !errors.Is(err, booking.ErrHoldLost) {
			f.t.Errorf("Release(%s): got %v, want ErrHoldLost", id, err)
		}
	}
}

func testHoldExpiry(f *fixture) {
	f.load(f.room, nil)
	f.mustClaim(claimOf("h1", shortTTL, span(at(0, 10, 0), at(0, 11, 0))))
	f.mustClaim(claimOf("keep", longTTL, span(at(0, 13, 0), at(0, 14, 0))))
	f.tg.Elapse(f.t, shortTTL)
	f.eventually("the expired hold's slot is free", func() bool {
		return f.claim(claimOf("h2", longTTL, span(at(0, 10, 0), at(0, 11, 0)))) == nil
	})
	if err := f.g.Release(f.ctx, f.room, "h1"); !errors.Is(err, booking.ErrHoldLost) {
		f.t.Errorf("Release of an expired hold: got %v, want ErrHoldLost", err)
	}
	same(f.t, "Busy", f.busy(at(0, 0, 0), at(1, 0, 0)),
		hold("h2", at(0, 10, 0), at(0, 11, 0)), hold("keep", at(0, 13, 0), at(0, 14, 0)))
}

// testApplyFence: changes read from the calendar before a commit must not
// undo it. The sync saw A at a1 and no B; meanwhile A was moved (a2) and B
// committed; its stale Apply skips both, and applies what it saw right.
func testApplyFence(f *fixture) {
	a1 := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	c1 := busy("C", booking.KindExternal, at(0, 17, 0), at(0, 18, 0))
	f.load(f.room, map[string]booking.ObjectState{"A": obj("a1", a1), "C": obj("c1", c1)})
	_, seen, err := f.g.Objects(f.ctx, f.room)
	if err != nil {
		f.t.Fatal(err)
	}
	// Commits made while the calendar was being read.
	a2 := busy("A", booking.KindBooking, at(0, 14, 0), at(0, 15, 0))
	if err := f.g.Commit(f.ctx, f.room, "gone", "A", "a2", []booking.Busy{a2}, 0, nil); err != nil {
		f.t.Fatal(err)
	}
	b := busy("B", booking.KindBooking, at(0, 12, 0), at(0, 13, 0))
	if err := f.g.Commit(f.ctx, f.room, "gone", "B", "b1", []booking.Busy{b}, 0, nil); err != nil {
		f.t.Fatal(err)
	}
	// The stale reading: A still at 10:00, B unknown (deleted from the
	// gate's point of view), C changed, D new.
	c2 := busy("C", booking.KindExternal, at(0, 19, 0), at(0, 20, 0))
	d := busy("D", booking.KindExternal, at(0, 8, 0), at(0, 9, 0))
	put := map[string]booking.ObjectState{"A": obj("a1", a1), "C": obj("c2", c2), "D": obj("d1", d)}
	if err := f.g.Apply(f.ctx, f.room, "t2", put, []string{"B"}, seen); err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	same(f.t, "Busy after a fenced Apply", f.busy(at(0, 0, 0), at(1, 0, 0)), d, b, a2, c2)
	// A delete the gate's ETag agrees with goes through.
	if err := f.g.Apply(f.ctx, f.room, "", nil, []string{"A"}, map[string]string{"A": "a2"}); err != nil {
		f.t.Fatal(err)
	}
	same(f.t, "Busy after a fenced delete", f.busy(at(0, 0, 0), at(1, 0, 0)), d, b, c2)
}

// testLoadLease: a snapshot read under a lease is installed only while
// the lease is held and the room has no state, so a reading that began
// before a flush (and may miss bookings acknowledged since) is refused.
func testLoadLease(f *fixture) {
	a := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	b := busy("B", booking.KindBooking, at(0, 12, 0), at(0, 13, 0))
	snapA := booking.Snapshot{Token: "ta", Objects: map[string]booking.ObjectState{"A": obj("a", a)}}

	// A flush during the reading: refused, the room stays without state.
	lease, ok, err := f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	f.tg.Flush(f.t)
	snapA.Lease = lease.ID
	if err := f.g.Load(f.ctx, f.room, snapA); !errors.Is(err, booking.ErrLeaseLost) {
		f.t.Fatalf("Load after a flush: got %v, want ErrLeaseLost", err)
	}
	if _, err := f.g.Token(f.ctx, f.room); !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("a refused Load left state: %v", err)
	}

	// A held lease on a room without state: installed.
	lease, ok, err = f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	snapA.Lease = lease.ID
	if err := f.g.Load(f.ctx, f.room, snapA); err != nil {
		f.t.Fatalf("Load under a held lease: %v", err)
	}
	// The room has state now (and B was committed): a second snapshot,
	// older, read under the same lease, leaves it alone.
	if err := f.g.Commit(f.ctx, f.room, "gone", "B", "b", []booking.Busy{b}, 0, nil); err != nil {
		f.t.Fatal(err)
	}
	if err := f.g.Load(f.ctx, f.room, snapA); err != nil {
		f.t.Fatalf("Load over existing state: %v", err)
	}
	same(f.t, "state kept", f.busy(at(0, 0, 0), at(1, 0, 0)), a, b)
	lease.Release()
	// A released lease is no lease.
	f.tg.Flush(f.t)
	if err := f.g.Load(f.ctx, f.room, snapA); !errors.Is(err, booking.ErrLeaseLost) {
		f.t.Fatalf("Load with a released lease: got %v, want ErrLeaseLost", err)
	}
}

func testApply(f *fixture) {
	a := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	b := busy("B", booking.KindExternal, at(0, 12, 0), at(0, 13, 0))
	f.load(f.room, map[string]booking.ObjectState{"A": obj("a1", a), "B": obj("b1", b)})

	a2 := busy("A", booking.KindBooking, at(0, 15, 0), at(0, 16, 0))
	a2b := busy("A", booking.KindBooking, at(1, 15, 0), at(1, 16, 0))
	c := busy("C", booking.KindExternal, at(0, 17, 0), at(0, 18, 0))
	put := map[string]booking.ObjectState{"A": obj("a2", a2, a2b), "C": obj("c1", c)}
	if err := f.g.Apply(f.ctx, f.room, "t2", put, []string{"B", "unknown"}, nil); err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	same(f.t, "Busy after Apply", f.busy(at(0, 0, 0), at(2, 0, 0)), a2, c, a2b)
	token, etags, err := f.g.Objects(f.ctx, f.room)
	if err != nil || token != "t2" || fmt.Sprint(etags) != fmt.Sprint(map[string]string{"A": "a2", "C": "c1"}) {
		f.t.Errorf("Objects = %q %v %v", token, etags, err)
	}
	// The old slot of A is free, the new one is not.
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	same(f.t, "moved object blocks", f.conflict(f.claim(claimOf("h2", longTTL, span(at(1, 15, 30), at(1, 16, 30))))).Conflicts, a2b)

	// An empty token keeps the current one; a delete-only Apply.
	if err := f.g.Apply(f.ctx, f.room, "", nil, []string{"C"}, nil); err != nil {
		f.t.Fatalf("Apply delete: %v", err)
	}
	if tok, err := f.g.Token(f.ctx, f.room); err != nil || tok != "t2" {
		f.t.Errorf("Token after Apply with empty token = %q, %v; want t2", tok, err)
	}
	same(f.t, "Busy after delete", f.busy(at(0, 0, 0), at(2, 0, 0)), hold("h1", at(0, 10, 0), at(0, 11, 0)), a2, a2b)

	// Apply does not rebuild a flushed room.
	f.tg.Flush(f.t)
	if err := f.g.Apply(f.ctx, f.room, "t3", put, nil, nil); !errors.Is(err, booking.ErrNoState) {
		f.t.Errorf("Apply after flush: got %v, want ErrNoState", err)
	}
}

func testLoadKeepsHolds(f *fixture) {
	a := busy("A", booking.KindBooking, at(0, 10, 0), at(0, 11, 0))
	long := busy("L", booking.KindExternal, at(-2, 0, 0), at(0, 8, 0))
	f.load(f.room, map[string]booking.ObjectState{"A": obj("a1", a), "L": obj("l1", long)})
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 12, 0), at(0, 13, 0))))
	b := busy("B", booking.KindExternal, at(0, 14, 0), at(0, 15, 0))
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t3", Objects: map[string]booking.ObjectState{"B": obj("b1", b)}}); err != nil {
		f.t.Fatalf("Load: %v", err)
	}
	same(f.t, "Busy after reload", f.busy(at(0, 0, 0), at(1, 0, 0)), hold("h1", at(0, 12, 0), at(0, 13, 0)), b)
	same(f.t, "the kept hold blocks", f.conflict(f.claim(claimOf("h2", longTTL, span(at(0, 12, 30), at(0, 13, 30))))).Conflicts,
		hold("h1", at(0, 12, 0), at(0, 13, 0)))
	f.mustClaim(claimOf("h3", longTTL, span(at(0, 10, 0), at(0, 11, 0)))) // A is gone
	token, etags, err := f.g.Objects(f.ctx, f.room)
	if err != nil || token != "t3" || fmt.Sprint(etags) != fmt.Sprint(map[string]string{"B": "b1"}) {
		f.t.Errorf("Objects = %q %v %v", token, etags, err)
	}
	if err := f.g.Commit(f.ctx, f.room, "h1", "bk", "e", []booking.Busy{busy("bk", booking.KindBooking, at(0, 12, 0), at(0, 13, 0))}, 0, nil); err != nil {
		f.t.Errorf("Commit of the kept hold: %v", err)
	}
	// An empty snapshot empties the room but keeps its holds.
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "t4"}); err != nil {
		f.t.Fatalf("Load: %v", err)
	}
	same(f.t, "Busy after empty reload", f.busy(at(-3, 0, 0), at(1, 0, 0)), hold("h3", at(0, 10, 0), at(0, 11, 0)))
	// What the reloads dropped stays dropped when new intervals, long or
	// short, come in.
	l2 := busy("L2", booking.KindExternal, at(-1, 0, 0), at(0, 9, 0))
	a2 := busy("A2", booking.KindBooking, at(0, 11, 0), at(0, 12, 0))
	if err := f.g.Apply(f.ctx, f.room, "t5", map[string]booking.ObjectState{"L2": obj("x", l2), "A2": obj("x", a2)}, nil, nil); err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	same(f.t, "Busy after Apply", f.busy(at(-3, 0, 0), at(1, 0, 0)), l2, hold("h3", at(0, 10, 0), at(0, 11, 0)), a2)
}

// testLoadLarge loads a room of realistic size: 2,000 objects, some
// recurring, some with no interval in the window, some longer than a day.
func testLoadLarge(f *fixture) {
	objs := map[string]booking.ObjectState{}
	var all []booking.Busy
	for i := range 2000 {
		ref := fmt.Sprintf("obj-%04d", i)
		var bs []booking.Busy
		switch {
		case i%100 == 0: // no interval in the window
		case i%10 == 0: // recurring: 4 weekly occurrences
			for w := range 4 {
				s := at(7*w+i%7, 8+(i/7)%10, 0).Add(time.Duration(i%3) * 20 * time.Minute)
				bs = append(bs, busy(ref, booking.KindBooking, s, s.Add(45*time.Minute)))
			}
		case i%333 == 0: // a three-day external event
			s := at(i%200, 0, 0)
			bs = append(bs, busy(ref, booking.KindExternal, s, s.Add(72*time.Hour)))
		default:
			s := at(i%200, 8+i%10, (i%4)*15)
			bs = append(bs, busy(ref, booking.KindBooking, s, s.Add(time.Duration(30+i%60)*time.Minute)))
		}
		objs[ref] = obj("e-"+ref, bs...)
		all = append(all, bs...)
	}
	f.mustLoadWithHold(objs)
	from, to := at(50, 0, 0), at(57, 0, 0)
	var want []booking.Busy
	for _, b := range all {
		if b.Overlaps(from, to, 0) {
			want = append(want, b)
		}
	}
	sameSet(f.t, "Busy over a week", f.busy(from, to), want...)
	_, etags, err := f.g.Objects(f.ctx, f.room)
	if err != nil || len(etags) != 2000 || etags["obj-0100"] != "e-obj-0100" {
		f.t.Errorf("Objects: %d etags, %v", len(etags), err)
	}
}

// mustLoadWithHold loads objs while a hold is live, and checks the hold
// survived.
func (f *fixture) mustLoadWithHold(objs map[string]booking.ObjectState) {
	f.t.Helper()
	f.load(f.room, nil)
	f.mustClaim(claimOf("survivor", longTTL, span(at(300, 10, 0), at(300, 11, 0))))
	f.load(f.room, objs)
	same(f.t, "hold after a large Load", f.busy(at(300, 0, 0), at(301, 0, 0)), hold("survivor", at(300, 10, 0), at(300, 11, 0)))
}

func testObjectsAndToken(f *fixture) {
	objs := map[string]booking.ObjectState{
		"a":             obj(`"etag-a"`, busy("a", booking.KindBooking, at(0, 8, 0), at(0, 9, 0))),
		"b@example.org": obj("W/\"b\"", busy("b@example.org", booking.KindExternal, at(0, 9, 0), at(0, 10, 0))),
		"empty":         obj("e0"), // an object with no interval in the window
	}
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{Token: "v1|1|2|3|http://x/sync/1", Objects: objs}); err != nil {
		f.t.Fatal(err)
	}
	token, etags, err := f.g.Objects(f.ctx, f.room)
	if err != nil {
		f.t.Fatal(err)
	}
	want := map[string]string{"a": `"etag-a"`, "b@example.org": "W/\"b\"", "empty": "e0"}
	if token != "v1|1|2|3|http://x/sync/1" || fmt.Sprint(etags) != fmt.Sprint(want) {
		f.t.Errorf("Objects = %q %v, want %v", token, etags, want)
	}
	if tok, err := f.g.Token(f.ctx, f.room); err != nil || tok != token {
		f.t.Errorf("Token = %q, %v; want %q", tok, err, token)
	}
	// An empty snapshot is state too.
	f.room = "r" + testenv.RandomID()
	if err := f.g.Load(f.ctx, f.room, booking.Snapshot{}); err != nil {
		f.t.Fatal(err)
	}
	if tok, etags, err := f.g.Objects(f.ctx, f.room); err != nil || tok != "" || len(etags) != 0 {
		f.t.Errorf("Objects of an empty room = %q %v %v", tok, etags, err)
	}
}

func testBusyRange(f *fixture) {
	from, to := at(3, 0, 0), at(4, 0, 0)
	long := busy("long", booking.KindExternal, at(1, 12, 0), at(4, 12, 0)) // 3 days, across the range
	endsAtFrom := busy("endsAtFrom", booking.KindBooking, at(2, 23, 0), at(3, 0, 0))
	startsAtTo := busy("startsAtTo", booking.KindBooking, at(4, 0, 0), at(4, 1, 0))
	crossFrom := busy("crossFrom", booking.KindBooking, at(2, 23, 30), at(3, 0, 30))
	crossTo := busy("crossTo", booking.KindBooking, at(3, 23, 30), at(4, 0, 30))
	in1 := busy("in", booking.KindBooking, at(3, 9, 0), at(3, 10, 0))
	in2 := busy("in", booking.KindBooking, at(3, 14, 0), at(3, 15, 0))
	before := busy("before", booking.KindBooking, at(0, 9, 0), at(0, 10, 0))
	longBefore := busy("longBefore", booking.KindExternal, at(0, 0, 0), at(2, 0, 0))
	// The hold is taken before the long interval is known (it would
	// clash); it survives the Load.
	f.load(f.room, nil)
	f.mustClaim(claimOf("h", longTTL, span(at(3, 11, 0), at(3, 12, 0))))
	f.load(f.room, map[string]booking.ObjectState{
		"long": obj("e", long), "endsAtFrom": obj("e", endsAtFrom), "startsAtTo": obj("e", startsAtTo),
		"crossFrom": obj("e", crossFrom), "crossTo": obj("e", crossTo), "in": obj("e", in1, in2),
		"before": obj("e", before), "longBefore": obj("e", longBefore),
	})
	same(f.t, "Busy sorted by start", f.busy(from, to),
		long, crossFrom, in1, hold("h", at(3, 11, 0), at(3, 12, 0)), in2, crossTo)
	// A claim inside the long interval clashes with it.
	same(f.t, "long interval blocks", f.conflict(f.claim(claimOf("h2", longTTL, span(at(3, 20, 0), at(3, 21, 0))))).Conflicts, long)
}

func testRoomsSeparate(f *fixture) {
	other := "r" + testenv.RandomID()
	f.load(f.room, nil)
	f.load(other, nil)
	f.mustClaim(claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0))))
	if err := f.g.Claim(f.ctx, other, claimOf("h1", longTTL, span(at(0, 10, 0), at(0, 11, 0)))); err != nil {
		f.t.Errorf("same slot in another room: %v", err)
	}
	if err := f.g.Release(f.ctx, other, "h1"); err != nil {
		f.t.Errorf("Release in other room: %v", err)
	}
	same(f.t, "first room keeps its hold", f.busy(at(0, 0, 0), at(1, 0, 0)), hold("h1", at(0, 10, 0), at(0, 11, 0)))
}

func testLock(f *fixture) {
	lock := func(ttl time.Duration) (func(), bool) {
		f.t.Helper()
		lease, ok, err := f.g.Lock(f.ctx, f.room, ttl)
		if err != nil {
			f.t.Fatalf("Lock: %v", err)
		}
		if ok && lease.ID == "" {
			f.t.Fatal("Lock granted with an empty lease id")
		}
		return lease.Release, ok
	}
	// No state is needed to lock.
	unlock1, ok := lock(time.Minute)
	if !ok {
		f.t.Fatal("first Lock refused")
	}
	if _, ok := lock(time.Minute); ok {
		f.t.Error("second Lock granted while held")
	}
	if _, ok, err := f.g.Lock(f.ctx, "r"+testenv.RandomID(), time.Minute); err != nil || !ok {
		f.t.Errorf("Lock of another room: %v %v", ok, err)
	}
	unlock1()
	unlock2, ok := lock(shortTTL)
	if !ok {
		f.t.Fatal("Lock after unlock refused")
	}
	// unlock2's lock expires; a third holder takes it; unlock2 must not
	// release the third holder's lock.
	f.tg.Elapse(f.t, shortTTL)
	var unlock3 func()
	f.eventually("the expired lock is free", func() bool {
		u, ok := lock(time.Minute)
		unlock3 = u
		return ok
	})
	unlock2()
	if _, ok := lock(time.Minute); ok {
		f.t.Error("a stale unlock released another holder's lock")
	}
	unlock3()
	if u, ok := lock(time.Minute); !ok {
		f.t.Error("Lock after the holder's unlock refused")
	} else {
		u()
	}
}

func testInvalidInput(f *fixture) {
	f.load(f.room, nil)
	ok := span(at(0, 10, 0), at(0, 11, 0))
	claims := []struct {
		name string
		c    booking.Claim
	}{
		{"no hold id", booking.Claim{Intervals: []booking.Busy{ok}, TTL: time.Minute}},
		{"no interval", booking.Claim{HoldID: "h", TTL: time.Minute}},
		{"empty interval", booking.Claim{HoldID: "h", Intervals: []booking.Busy{span(at(0, 10, 0), at(0, 10, 0))}, TTL: time.Minute}},
		{"end before start", booking.Claim{HoldID: "h", Intervals: []booking.Busy{ok, span(at(0, 11, 0), at(0, 10, 0))}, TTL: time.Minute}},
		{"no ttl", booking.Claim{HoldID: "h", Intervals: []booking.Busy{ok}}},
		{"negative buffer", booking.Claim{HoldID: "h", Intervals: []booking.Busy{ok}, TTL: time.Minute, Buffer: -time.Minute}},
	}
	for _, tc := range claims {
		err := f.claim(tc.c)
		var ce *booking.ConflictError
		if err == nil || errors.As(err, &ce) || errors.Is(err, booking.ErrNoState) {
			f.t.Errorf("Claim with %s: got %v, want an input error", tc.name, err)
		}
	}
	if _, err := f.g.Busy(f.ctx, f.room, at(0, 11, 0), at(0, 10, 0)); err == nil {
		f.t.Error("Busy with to before from: no error")
	}
	bad := []booking.Busy{span(at(0, 11, 0), at(0, 10, 0))}
	if err := f.g.Commit(f.ctx, f.room, "h", "b", "e", bad, 0, nil); err == nil {
		f.t.Error("Commit of an interval ending before it starts: no error")
	}
	if err := f.g.Commit(f.ctx, f.room, "h", "", "e", []booking.Busy{ok}, 0, nil); err == nil {
		f.t.Error("Commit without ref: no error")
	}
	// Nothing was recorded by the refused calls.
	if bs := f.busy(at(0, 0, 0), at(1, 0, 0)); len(bs) != 0 {
		f.t.Errorf("Busy after refused calls = %v", keys(bs))
	}
}

const goroutines = 200

func testConcurrentSameSlot(f *fixture) {
	f.load(f.room, nil)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range goroutines {
		wg.Go(func() {
			<-start
			// Slightly different spans, all overlapping 10:00-10:30.
			s := at(0, 9, 30+i%30)
			errs[i] = f.g.Claim(f.ctx, f.room, claimOf(fmt.Sprintf("h%03d", i), longTTL, span(s, s.Add(time.Hour))))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		var ce *booking.ConflictError
		switch {
		case err == nil:
			won++
		case errors.As(err, &ce):
			if len(ce.Conflicts) != 1 || ce.Conflicts[0].Kind != booking.KindHold {
				f.t.Errorf("claimant %d: conflicts %v, want the one winning hold", i, keys(ce.Conflicts))
			}
		default:
			f.t.Errorf("claimant %d: %v", i, err)
		}
	}
	if won != 1 {
		f.t.Errorf("%d of %d claims of one slot succeeded, want exactly 1", won, goroutines)
	}
	if bs := f.busy(at(0, 0, 0), at(1, 0, 0)); len(bs) != 1 {
		f.t.Errorf("Busy lists %d holds, want 1", len(bs))
	}
}

func testConcurrentDistinctSlots(f *fixture) {
	f.load(f.room, nil)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range goroutines {
		wg.Go(func() {
			<-start
			s := at(0, 0, 0).Add(time.Duration(i) * 30 * time.Minute) // adjacent half-hours
			errs[i] = f.g.Claim(f.ctx, f.room, claimOf(fmt.Sprintf("h%03d", i), longTTL, span(s, s.Add(30*time.Minute))))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			f.t.Errorf("claimant %d: %v", i, err)
		}
	}
	bs := f.busy(at(0, 0, 0), at(10, 0, 0))
	if len(bs) != goroutines {
		f.t.Errorf("Busy lists %d holds, want %d", len(bs), goroutines)
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].Start.Before(bs[i-1].Start) {
			f.t.Fatalf("Busy not sorted at %d", i)
		}
	}
}

// testConcurrentNoOverlap plays whole bookings the way the service does
// them, from many goroutines, for random, contested slots: claim, write
// the calendar, commit (or release when the write "fails"); on ErrNoState
// the room is rebuilt from the calendar by one goroutine at a time, as
// under the refresh lock. The state is flushed in the middle of the run.
// Acknowledged bookings (Commit returned nil) must never overlap, and all
// must be known to the gate at the end.
func testConcurrentNoOverlap(f *fixture) {
	const n = 100
	const buffer = 5 * time.Minute
	var (
		calMu    sync.Mutex
		calendar = map[string]booking.ObjectState{}
		rebuild  sync.Mutex
		ackMu    sync.Mutex
		acked    []booking.Busy
	)
	ensureState := func() {
		rebuild.Lock()
		defer rebuild.Unlock()
		if _, err := f.g.Token(f.ctx, f.room); !errors.Is(err, booking.ErrNoState) {
			return
		}
		calMu.Lock()
		snap := booking.Snapshot{Token: "rebuilt", Objects: maps.Clone(calendar)}
		calMu.Unlock()
		if err := f.g.Load(f.ctx, f.room, snap); err != nil {
			f.t.Errorf("rebuild: %v", err)
		}
	}
	withState := func(fn func() error) error {
		err := fn()
		for try := 0; try < 3 && errors.Is(err, booking.ErrNoState); try++ {
			ensureState()
			err = fn()
		}
		return err
	}
	ensureState()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			s := at(0, 8, 0).Add(time.Duration(rng.IntN(32)) * 15 * time.Minute)
			e := s.Add(time.Duration(1+rng.IntN(4)) * 15 * time.Minute)
			id, ref := fmt.Sprintf("h%03d", i), fmt.Sprintf("bk%03d", i)
			c := claimOf(id, longTTL, span(s, e))
			c.Buffer = buffer
			if err := withState(func() error { return f.g.Claim(f.ctx, f.room, c) }); err != nil {
				var ce *booking.ConflictError
				if !errors.As(err, &ce) {
					f.t.Errorf("claim %s: %v", id, err)
				}
				return
			}
			if rng.IntN(5) == 0 { // the calendar write failed
				_ = f.g.Release(f.ctx, f.room, id)
				return
			}
			b := busy(ref, booking.KindBooking, s, e)
			calMu.Lock()
			calendar[ref] = obj("e1", b)
			calMu.Unlock()
			err := withState(func() error { return f.g.Commit(f.ctx, f.room, id, ref, "e1", []booking.Busy{b}, buffer, nil) })
			if err != nil {
				calMu.Lock()
				delete(calendar, ref) // not acknowledged: the booking is taken back
				calMu.Unlock()
				return
			}
			ackMu.Lock()
			acked = append(acked, b)
			ackMu.Unlock()
		})
		if i == n/2 {
			f.tg.Flush(f.t)
		}
	}
	wg.Wait()
	if len(acked) == 0 {
		f.t.Fatal("no booking was acknowledged")
	}
	for i := range acked {
		for j := i + 1; j < len(acked); j++ {
			if acked[i].Overlaps(acked[j].Start, acked[j].End, buffer) {
				f.t.Errorf("acknowledged bookings overlap: %v and %v", keyOf(acked[i]), keyOf(acked[j]))
			}
		}
	}
	ensureState()
	known := map[key]bool{}
	for _, b := range f.busy(at(0, 0, 0), at(1, 0, 0)) {
		known[keyOf(b)] = true
	}
	for _, b := range acked {
		if !known[keyOf(b)] {
			f.t.Errorf("acknowledged booking %v is not busy in the gate", keyOf(b))
		}
	}
}

// testVersion: the version changes with every change of busy intervals
// (claim, commit, apply, load, a flush and load), stays while nothing
// changes, and comes with the token.
func testVersion(f *fixture) {
	f.load(f.room, map[string]booking.ObjectState{"a": obj("e1", busy("a", booking.KindBooking, at(1, 9, 0), at(1, 10, 0)))})
	version := func() string {
		f.t.Helper()
		tok, v, err := f.g.Version(f.ctx, f.room)
		if err != nil {
			f.t.Fatalf("Version: %v", err)
		}
		if want, _ := f.g.Token(f.ctx, f.room); tok != want {
			f.t.Fatalf("Version's token %q, Token gives %q", tok, want)
		}
		if v == "" {
			f.t.Fatalf("empty version")
		}
		// Versions answers the same, and ErrNoState for a room unknown.
		vs, err := f.g.Versions(f.ctx, []string{"r" + testenv.RandomID(), f.room})
		if err != nil || len(vs) != 2 {
			f.t.Fatalf("Versions: %v %v", vs, err)
		}
		if !errors.Is(vs[0].Err, booking.ErrNoState) {
			f.t.Errorf("Versions of an unknown room: %+v, want ErrNoState", vs[0])
		}
		if vs[1].Err != nil || vs[1].Version != v || vs[1].Token != tok {
			f.t.Errorf("Versions = %+v, Version gives %q %q", vs[1], tok, v)
		}
		return v
	}
	seen := map[string]string{}
	step := func(what string, changed bool) {
		f.t.Helper()
		v := version()
		if prev, ok := seen["last"]; ok && (v != prev) != changed {
			f.t.Fatalf("after %s: version %q, before %q (want changed=%v)", what, v, prev, changed)
		}
		if changed {
			if by, dup := seen[v]; dup {
				f.t.Fatalf("after %s: version %q was already that of %s", what, v, by)
			}
			seen[v] = what
		}
		seen["last"] = v
	}
	step("load", true)
	f.busy(at(1, 0, 0), at(2, 0, 0))
	step("a read", false)
	f.mustClaim(booking.Claim{HoldID: "h1", Intervals: []booking.Busy{busy("b", booking.KindBooking, at(1, 11, 0), at(1, 12, 0))}, TTL: longTTL})
	step("claim", true)
	if err := f.g.Commit(f.ctx, f.room, "h1", "b", "e2", []booking.Busy{busy("b", booking.KindBooking, at(1, 11, 0), at(1, 12, 0))}, 0, nil); err != nil {
		f.t.Fatal(err)
	}
	step("commit", true)
	// A sync pass that finds the calendar as the gate has it changes
	// nothing: the same objects put again, an unknown one deleted, a new
	// token. Every answer memoised on the version stays good.
	a := obj("e1", busy("a", booking.KindBooking, at(1, 9, 0), at(1, 10, 0)))
	if err := f.g.Apply(f.ctx, f.room, "tok-quiet", map[string]booking.ObjectState{"a": a}, []string{"never-seen"}, nil); err != nil {
		f.t.Fatal(err)
	}
	step("a quiet apply", false)
	// The same ETag with other intervals is a change (a recurrence
	// expanded over a new window).
	a2 := obj("e1", busy("a", booking.KindBooking, at(1, 9, 0), at(1, 10, 0)), busy("a", booking.KindBooking, at(8, 9, 0), at(8, 10, 0)))
	if err := f.g.Apply(f.ctx, f.room, "", map[string]booking.ObjectState{"a": a2}, nil, nil); err != nil {
		f.t.Fatal(err)
	}
	step("apply of new intervals", true)
	if err := f.g.Apply(f.ctx, f.room, "", nil, []string{"a"}, nil); err != nil {
		f.t.Fatal(err)
	}
	step("apply", true)
	f.load(f.room, map[string]booking.ObjectState{})
	step("load again", true)
	f.tg.Flush(f.t)
	if _, _, err := f.g.Version(f.ctx, f.room); !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("Version after a flush: %v, want ErrNoState", err)
	}
	f.load(f.room, map[string]booking.ObjectState{})
	step("flush and load", true)
}

// noticeWait bounds how long a test waits for a notice; it is not a
// timing assertion (notices come within milliseconds).
const noticeWait = 10 * time.Second

// Notified waits for a notice on w, failing the test after noticeWait.
func Notified(t *testing.T, w booking.Watch, what string) {
	t.Helper()
	select {
	case <-w.C:
	case <-time.After(noticeWait):
		t.Fatalf("no notice after %s", what)
	}
}

// Quiet checks that no notice reaches w for a short while: pub/sub is
// asynchronous, so a notice that should not come is given time to come.
func Quiet(t *testing.T, w booking.Watch, what string) {
	t.Helper()
	select {
	case <-w.C:
		t.Errorf("a notice after %s, which should publish none", what)
	case <-time.After(100 * time.Millisecond):
	}
}

// A Watch wakes on the changes waiters wait for (a state installed, the
// refresh lock released), and only on its own room's.
func testWatch(f *fixture) {
	w := f.g.Watch(f.room)
	defer w.Stop()
	other := f.g.Watch("r" + testenv.RandomID())
	defer other.Stop()
	f.load(f.room, nil)
	Notified(f.t, w, "Load")
	lease, ok, err := f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Fatalf("Lock: %v %v", ok, err)
	}
	lease.Release()
	Notified(f.t, w, "the lock's release")
	// A hold is no change waiters wait for.
	if err := f.g.Claim(f.ctx, f.room, booking.Claim{HoldID: "h", TTL: longTTL,
		Intervals: []booking.Busy{busy("", booking.KindBooking, at(0, 9, 0), at(0, 10, 0))}}); err != nil {
		f.t.Fatal(err)
	}
	Quiet(f.t, w, "a Claim")
	Quiet(f.t, other, "changes of another room")
	// A stopped Watch is told nothing more, and stopping twice is fine.
	w.Stop()
	w.Stop()
}

// An object's write lock is held by one at a time, per object, apart
// from the room's refresh lock.
func testLockObject(f *fixture) {
	lock := func(ref string) (booking.Lease, bool) {
		f.t.Helper()
		lease, ok, err := f.g.LockObject(f.ctx, f.room, ref, time.Minute)
		if err != nil {
			f.t.Fatalf("LockObject %s: %v", ref, err)
		}
		return lease, ok
	}
	a, ok := lock("a")
	if !ok || a.ID == "" {
		f.t.Fatalf("first LockObject refused (%v) or without a lease id", ok)
	}
	if _, ok := lock("a"); ok {
		f.t.Error("second LockObject of one object granted while held")
	}
	b, ok := lock("b")
	if !ok {
		f.t.Error("LockObject of another object refused")
	}
	room, ok, err := f.g.Lock(f.ctx, f.room, time.Minute)
	if err != nil || !ok {
		f.t.Errorf("the room's Lock refused while objects are locked: %v %v", ok, err)
	}
	if ok, err := a.Extend(f.ctx, time.Minute); err != nil || !ok {
		f.t.Errorf("Extend of a held lock: %v %v", ok, err)
	}
	a.Release()
	if ok, err := a.Extend(f.ctx, time.Minute); err != nil || ok {
		f.t.Errorf("Extend of a released lock: %v %v, want false", ok, err)
	}
	if again, ok := lock("a"); !ok {
		f.t.Error("LockObject after release refused")
	} else {
		if ok, err := a.Extend(f.ctx, time.Minute); err != nil || ok {
			f.t.Errorf("Extend by a stale holder of a lock another took: %v %v, want false", ok, err)
		}
		again.Release()
	}
	b.Release()
	room.Release()

	// An extended lock outlives the ttl it was taken with; one that is
	// not extended expires. The extended one is taken for long enough
	// that a loaded machine still extends it in time.
	const extendedTTL = 3 * time.Second
	short, ok, err := f.g.LockObject(f.ctx, f.room, "c", extendedTTL)
	if err != nil || !ok {
		f.t.Fatalf("LockObject c: %v %v", ok, err)
	}
	if ok, err := short.Extend(f.ctx, time.Minute); err != nil || !ok {
		f.t.Fatalf("Extend c: %v %v", ok, err)
	}
	lapsing, ok, err := f.g.LockObject(f.ctx, f.room, "d", shortTTL)
	if err != nil || !ok {
		f.t.Fatalf("LockObject d: %v %v", ok, err)
	}
	f.tg.Elapse(f.t, extendedTTL+shortTTL)
	f.eventually("the lock not extended expired", func() bool {
		l, ok := lock("d")
		if ok {
			l.Release()
		}
		return ok
	})
	if _, ok := lock("c"); ok {
		f.t.Error("an extended lock expired with the ttl it was taken with")
	}
	if ok, err := lapsing.Extend(f.ctx, time.Minute); err != nil || ok {
		f.t.Errorf("Extend of an expired lock: %v %v, want false", ok, err)
	}
	short.Release()
	if _, _, err := f.g.LockObject(f.ctx, f.room, "", time.Minute); err == nil {
		f.t.Error("LockObject without an object accepted")
	}
}
