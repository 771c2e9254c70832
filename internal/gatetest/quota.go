package gatetest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// Quotas are decided by the claim script, in the claim's own step: these
// tests run on every engine like the rest of the suite.

// mineBusy is a booking of member who, as the calendar gives it.
func mineBusy(ref, who string, start, end time.Time) booking.Busy {
	return booking.Busy{Ref: ref, Kind: booking.KindBooking, Start: start, End: end, Title: "t-" + ref, Organizer: who}
}

// quotaClaim is a claim of who's with quota q (Now and Weeks filled in:
// the week of base, a Monday, in UTC).
func quotaClaim(hold, who string, q booking.QuotaCheck, ivs ...booking.Busy) booking.Claim {
	c := claimOf(hold, longTTL, ivs...)
	q.Member = who
	if q.Now.IsZero() {
		q.Now = base.Add(-24 * time.Hour)
	}
	q.Weeks = nil
	for i := range c.Intervals {
		c.Intervals[i].Organizer = who
		d := int(c.Intervals[i].Start.Sub(base) / (7 * 24 * time.Hour))
		ws := base.AddDate(0, 0, 7*d)
		q.Weeks = append(q.Weeks, booking.Interval{Start: ws, End: ws.AddDate(0, 0, 7)})
	}
	c.Quota = &q
	return c
}

// quotaErr asserts err is a *QuotaError of rule and returns it.
func (f *fixture) quotaErr(err error, rule booking.QuotaRule) *booking.QuotaError {
	f.t.Helper()
	var qe *booking.QuotaError
	if !errors.As(err, &qe) {
		f.t.Fatalf("want *booking.QuotaError %s, got %v", rule, err)
	}
	if qe.Rule != rule {
		f.t.Errorf("quota rule %s, want %s", qe.Rule, rule)
	}
	return qe
}

// 50 parallel claims of distinct free slots by one member whose quota is
// 5 bookings ahead: exactly 5 pass. Then the same with 5 hours a week.
func testQuotaParallel(f *fixture) {
	for _, tc := range []struct {
		name string
		q    booking.QuotaCheck
		rule booking.QuotaRule
	}{
		{"ahead", booking.QuotaCheck{Ahead: 5}, booking.QuotaAhead},
		{"week", booking.QuotaCheck{PerWeek: 5 * time.Hour}, booking.QuotaWeek},
	} {
		room := f.room + tc.name
		f.load(room, nil)
		errs := make([]error, 50)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range errs {
			wg.Go(func() {
				<-start
				// One hour each, all in the week of base, none
				// overlapping: only the quota can refuse.
				s := at(i%5, 8+i/5, 0)
				errs[i] = f.g.Claim(f.ctx, room, quotaClaim(fmt.Sprintf("h%02d", i), "ann", tc.q, span(s, s.Add(time.Hour))))
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			var qe *booking.QuotaError
			switch {
			case err == nil:
				won++
			case errors.As(err, &qe):
				if qe.Rule != tc.rule {
					f.t.Errorf("%s: claimant %d refused by %s, want %s", tc.name, i, qe.Rule, tc.rule)
				}
			default:
				f.t.Errorf("%s: claimant %d: %v", tc.name, i, err)
			}
		}
		if won != 5 {
			f.t.Errorf("%s: %d of 50 parallel claims passed a quota of 5, want exactly 5", tc.name, won)
		}
		if bs, err := f.g.Busy(f.ctx, room, at(0, 0, 0), at(7, 0, 0)); err != nil || len(bs) != 5 {
			f.t.Errorf("%s: Busy lists %d holds (%v), want 5", tc.name, len(bs), err)
		}
	}
}

// The member's bookings come from the room's state, as loaded from the
// calendar: after a flush and a Load they count again. Other members'
// bookings, events and external events do not count; a series counts
// once ahead; a moved booking (Ignore) does not count against its move.
func testQuotaCountsState(f *fixture) {
	state := map[string]booking.ObjectState{
		"b1":  obj("e1", mineBusy("b1", "ann", at(0, 9, 0), at(0, 11, 0))),
		"b2":  obj("e2", mineBusy("b2", "ann", at(1, 9, 0), at(1, 10, 0)), mineBusy("b2", "ann", at(8, 9, 0), at(8, 10, 0))),
		"bob": obj("e3", mineBusy("bob", "bob", at(2, 9, 0), at(2, 12, 0))),
		"ev":  obj("e4", booking.Busy{Ref: "ev", Kind: booking.KindEvent, Start: at(3, 9, 0), End: at(3, 17, 0), Organizer: "ann"}),
		"ext": obj("e5", busy("ext", booking.KindExternal, at(4, 9, 0), at(4, 17, 0))),
		// A past booking of ann's: not ahead, and not in the week.
		"old": obj("e6", mineBusy("old", "ann", base.Add(-48*time.Hour), base.Add(-47*time.Hour))),
	}
	check := func(when string) {
		f.t.Helper()
		// Week of base: ann has 3 h (b1 2 h, b2 1 h); 4 h a week leaves 1 h.
		week := booking.QuotaCheck{PerWeek: 4 * time.Hour}
		qe := f.quotaErr(f.claim(quotaClaim("w2", "ann", week, span(at(2, 14, 0), at(2, 16, 0)))), booking.QuotaWeek)
		if qe.Used != (3*time.Hour).Milliseconds() || qe.Limit != (4*time.Hour).Milliseconds() || !qe.Week.Equal(base) {
			f.t.Errorf("%s: week quota error %+v, want 3 h used of 4 h in the week of %s", when, qe, base)
		}
		if err := f.claim(quotaClaim("w1", "ann", week, span(at(2, 14, 0), at(2, 15, 0)))); err != nil {
			f.t.Errorf("%s: the hour left: %v", when, err)
		}
		// The next week has b2's second occurrence only.
		if err := f.claim(quotaClaim("w3", "ann", week, span(at(9, 9, 0), at(9, 12, 0)))); err != nil {
			f.t.Errorf("%s: 3 h in the next week: %v", when, err)
		}
		f.release("w1", "w3")
		// Ahead: b1 and the series b2 are 2 bookings.
		ahead := booking.QuotaCheck{Ahead: 2}
		qe = f.quotaErr(f.claim(quotaClaim("a1", "ann", ahead, span(at(5, 9, 0), at(5, 10, 0)))), booking.QuotaAhead)
		if qe.Used != 2 || qe.Limit != 2 {
			f.t.Errorf("%s: ahead quota error %+v, want 2 of 2", when, qe)
		}
		// Moving b1 does not count b1 against itself.
		mv := quotaClaim("m1", "ann", ahead, span(at(5, 9, 0), at(5, 11, 0)))
		mv.Ignore = "b1"
		if err := f.claim(mv); err != nil {
			f.t.Errorf("%s: moving b1 under an ahead quota of 2: %v", when, err)
		}
		f.release("m1")
		// Bob is not ann.
		if err := f.claim(quotaClaim("bob1", "bob", ahead, span(at(5, 9, 0), at(5, 10, 0)))); err != nil {
			f.t.Errorf("%s: bob with one booking ahead: %v", when, err)
		}
		f.release("bob1")
	}
	f.load(f.room, state)
	check("after Load")
	f.tg.Flush(f.t)
	if err := f.claim(quotaClaim("x", "ann", booking.QuotaCheck{Ahead: 2}, span(at(5, 9, 0), at(5, 10, 0)))); !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("claim after flush: %v, want ErrNoState", err)
	}
	f.load(f.room, state)
	check("after a flush and a Load again")
	// Apply: b1 deleted in the calendar frees its 2 hours.
	if err := f.g.Apply(f.ctx, f.room, "", nil, []string{"b1"}, nil); err != nil {
		f.t.Fatal(err)
	}
	if err := f.claim(quotaClaim("w4", "ann", booking.QuotaCheck{PerWeek: 4 * time.Hour}, span(at(2, 14, 0), at(2, 17, 0)))); err != nil {
		f.t.Errorf("3 h once b1 is deleted: %v", err)
	}
}

func (f *fixture) release(holds ...string) {
	f.t.Helper()
	for _, h := range holds {
		if err := f.g.Release(f.ctx, f.room, h); err != nil {
			f.t.Errorf("Release(%s): %v", h, err)
		}
	}
}

// A hold counts while it lives: released or expired it no longer does;
// committed it counts as the booking it became.
func testQuotaHolds(f *fixture) {
	f.load(f.room, nil)
	q := booking.QuotaCheck{Ahead: 1}
	f.mustClaim(quotaClaim("h1", "ann", q, span(at(0, 9, 0), at(0, 10, 0))))
	f.quotaErr(f.claim(quotaClaim("h2", "ann", q, span(at(1, 9, 0), at(1, 10, 0)))), booking.QuotaAhead)
	// A claim retried under its own hold id is not counted twice.
	f.mustClaim(quotaClaim("h1", "ann", q, span(at(0, 9, 0), at(0, 10, 0))))
	f.release("h1")
	f.mustClaim(quotaClaim("h2", "ann", q, span(at(1, 9, 0), at(1, 10, 0))))
	if err := f.g.Commit(f.ctx, f.room, "h2", "b2", "e2", []booking.Busy{mineBusy("b2", "ann", at(1, 9, 0), at(1, 10, 0))}, 0, nil); err != nil {
		f.t.Fatal(err)
	}
	f.quotaErr(f.claim(quotaClaim("h3", "ann", q, span(at(2, 9, 0), at(2, 10, 0)))), booking.QuotaAhead)

	c := quotaClaim("s1", "zoe", q, span(at(3, 9, 0), at(3, 10, 0)))
	c.TTL = shortTTL
	f.mustClaim(c)
	f.quotaErr(f.claim(quotaClaim("s2", "zoe", q, span(at(4, 9, 0), at(4, 10, 0)))), booking.QuotaAhead)
	f.expire("s1", at(3, 0, 0), at(4, 0, 0))
	f.mustClaim(quotaClaim("s2", "zoe", q, span(at(4, 9, 0), at(4, 10, 0))))
}

// The longest interval, and a series past the weekly quota in one of its
// weeks only.
func testQuotaLongestAndSeries(f *fixture) {
	f.load(f.room, nil)
	qe := f.quotaErr(f.claim(quotaClaim("l", "ann", booking.QuotaCheck{Longest: 2 * time.Hour}, span(at(0, 9, 0), at(0, 12, 0)))), booking.QuotaLongest)
	if qe.Used != (3*time.Hour).Milliseconds() || qe.Limit != (2*time.Hour).Milliseconds() {
		f.t.Errorf("longest quota error %+v, want 3 h over 2 h", qe)
	}
	f.mustClaim(quotaClaim("l", "ann", booking.QuotaCheck{Longest: 2 * time.Hour}, span(at(0, 9, 0), at(0, 11, 0))))
	f.release("l")
	f.load(f.room, map[string]booking.ObjectState{"b": obj("e", mineBusy("b", "ann", at(15, 9, 0), at(15, 12, 0)))})
	week := booking.QuotaCheck{PerWeek: 4 * time.Hour}
	series := quotaClaim("s", "ann", week, span(at(0, 9, 0), at(0, 11, 0)), span(at(7, 9, 0), at(7, 11, 0)), span(at(14, 9, 0), at(14, 11, 0)))
	qe = f.quotaErr(f.claim(series), booking.QuotaWeek)
	if !qe.Week.Equal(base.AddDate(0, 0, 14)) {
		f.t.Errorf("series refused for the week of %s, want %s", qe.Week, base.AddDate(0, 0, 14))
	}
	if bs := f.busy(at(0, 0, 0), at(21, 0, 0)); len(bs) != 1 {
		f.t.Errorf("a refused series left %d intervals, want the 1 booking", len(bs))
	}
}

// A site quota counts the member's bookings and holds in every room of
// the site: the rooms' keys share a slot (Target.Sited), so one script
// reads them all. A room of the scope without state gives a
// *NoStateError naming it.
func testQuotaSite(f *fixture) {
	if f.tg.Sited == nil {
		f.t.Fatal("Target.Sited is required")
	}
	site := "s" + testenv.RandomID()
	a, b, c := f.room+"a", f.room+"b", f.room+"c"
	g := f.tg.Sited(f.t, func(room string) string {
		if room == a || room == b || room == c {
			return site
		}
		return ""
	})
	rooms := []string{a, b, c}
	if err := g.Load(f.ctx, a, booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{
		"x": obj("e", mineBusy("x", "ann", at(0, 9, 0), at(0, 12, 0))),
	}}); err != nil {
		f.t.Fatal(err)
	}
	if err := g.Load(f.ctx, b, booking.Snapshot{Token: "t"}); err != nil {
		f.t.Fatal(err)
	}
	q := booking.QuotaCheck{PerWeek: 4 * time.Hour, Rooms: rooms}
	claim := quotaClaim("h", "ann", q, span(at(1, 9, 0), at(1, 10, 0)))
	var ns *booking.NoStateError
	if err := g.Claim(f.ctx, b, claim); !errors.As(err, &ns) || ns.Room != c || !errors.Is(err, booking.ErrNoState) {
		f.t.Fatalf("claim while room c has no state: %v, want a NoStateError for %s", err, c)
	}
	if err := g.Load(f.ctx, c, booking.Snapshot{Token: "t"}); err != nil {
		f.t.Fatal(err)
	}
	if err := g.Claim(f.ctx, b, claim); err != nil {
		f.t.Fatalf("1 h in b with 3 h in a under 4 h a week: %v", err)
	}
	// a has 3 h, b holds 1 h: c is full for ann.
	var qe *booking.QuotaError
	if err := g.Claim(f.ctx, c, quotaClaim("h2", "ann", q, span(at(2, 9, 0), at(2, 9, 30)))); !errors.As(err, &qe) || qe.Rule != booking.QuotaWeek {
		f.t.Fatalf("claim in c past the site's weekly quota: %v, want quota_week", err)
	}
	// A room quota (Rooms empty) counts c alone.
	if err := g.Claim(f.ctx, c, quotaClaim("h3", "ann", booking.QuotaCheck{PerWeek: 4 * time.Hour}, span(at(2, 9, 0), at(2, 10, 0)))); err != nil {
		f.t.Errorf("room quota in c: %v", err)
	}
	// A room outside the slot cannot be in the scope.
	if err := g.Claim(f.ctx, b, quotaClaim("h4", "ann", booking.QuotaCheck{Ahead: 9, Rooms: []string{a, f.room}}, span(at(3, 9, 0), at(3, 10, 0)))); err == nil {
		f.t.Errorf("a quota over rooms of two slots was accepted")
	}
}

// A hold lost between claim and commit (a flush while the calendar was
// being written) no longer counts against the member's quota: claims made
// since may have used it up. The commit then decides the quota again, in
// its own step: past it, it refuses with a *QuotaError and records
// nothing, as it refuses a clash; within it, it records. The object's
// own intervals, already in a state loaded after the write landed, do
// not count against it; nor do they when the hold is live (the claim
// decided then).
func testQuotaCommitLostHold(f *fixture) {
	q := booking.QuotaCheck{Ahead: 1}
	b1 := mineBusy("b1", "ann", at(0, 9, 0), at(0, 10, 0))
	b2 := mineBusy("b2", "ann", at(1, 9, 0), at(1, 10, 0))
	c1 := quotaClaim("h1", "ann", q, span(b1.Start, b1.End))
	c2 := quotaClaim("h2", "ann", q, span(b2.Start, b2.End))

	// Lost, and the quota used up meanwhile by a claim made after the
	// flush: refused at commit, nothing recorded; the later claim
	// commits.
	f.load(f.room, nil)
	f.mustClaim(c1)
	f.tg.Flush(f.t)
	f.load(f.room, nil)
	f.mustClaim(c2)
	qe := f.quotaErr(f.g.Commit(f.ctx, f.room, "h1", "b1", "e1", []booking.Busy{b1}, 0, c1.Quota), booking.QuotaAhead)
	if qe.Used != 1 || qe.Limit != 1 || qe.Room != f.room {
		f.t.Errorf("commit past the quota: %+v, want 1 of 1 in %s", qe, f.room)
	}
	same(f.t, "refused commit records nothing", f.busy(at(0, 0, 0), at(7, 0, 0)), hold("h2", b2.Start, b2.End))
	if _, etags, err := f.g.Objects(f.ctx, f.room); err != nil || len(etags) != 0 {
		f.t.Errorf("Objects after a refused commit = %v, %v; want none", etags, err)
	}
	if err := f.g.Commit(f.ctx, f.room, "h2", "b2", "e2", []booking.Busy{b2}, 0, c2.Quota); err != nil {
		f.t.Fatalf("commit of the live hold: %v", err)
	}
	same(f.t, "after the live commit", f.busy(at(0, 0, 0), at(7, 0, 0)), b2)

	// The same after the later booking is committed (counted from the
	// state, not a hold).
	f.room = "r" + testenv.RandomID()
	f.load(f.room, nil)
	f.mustClaim(c1)
	f.tg.Flush(f.t)
	f.load(f.room, map[string]booking.ObjectState{"b2": obj("e2", b2)})
	f.quotaErr(f.g.Commit(f.ctx, f.room, "h1", "b1", "e1", []booking.Busy{b1}, 0, c1.Quota), booking.QuotaAhead)
	same(f.t, "refused commit beside a booking", f.busy(at(0, 0, 0), at(7, 0, 0)), b2)

	// Lost, but the quota still allows it: recorded. A state that
	// already has the written object (loaded after the write landed)
	// does not count it against itself.
	for _, loaded := range []map[string]booking.ObjectState{nil, {"b1": obj("e1", b1)}} {
		f.room = "r" + testenv.RandomID()
		f.load(f.room, nil)
		f.mustClaim(c1)
		f.tg.Flush(f.t)
		f.load(f.room, loaded)
		if err := f.g.Commit(f.ctx, f.room, "h1", "b1", "e1", []booking.Busy{b1}, 0, c1.Quota); err != nil {
			f.t.Errorf("lost hold within the quota (state %v): %v", loaded != nil, err)
		}
		same(f.t, "recorded", f.busy(at(0, 0, 0), at(7, 0, 0)), b1)
	}

	// The weekly quota too: 2 h a week, 1 h claimed and lost, 2 h
	// claimed since.
	f.room = "r" + testenv.RandomID()
	week := booking.QuotaCheck{PerWeek: 2 * time.Hour}
	w1 := quotaClaim("w1", "ann", week, span(b1.Start, b1.End))
	f.load(f.room, nil)
	f.mustClaim(w1)
	f.tg.Flush(f.t)
	f.load(f.room, nil)
	f.mustClaim(quotaClaim("w2", "ann", week, span(at(2, 9, 0), at(2, 11, 0))))
	qe = f.quotaErr(f.g.Commit(f.ctx, f.room, "w1", "b1", "e1", []booking.Busy{b1}, 0, w1.Quota), booking.QuotaWeek)
	if qe.Used != (2*time.Hour).Milliseconds() || !qe.Week.Equal(base) {
		f.t.Errorf("weekly quota at commit: %+v, want 2 h used in the week of %s", qe, base)
	}
}

// The same over a site: the commit counts the member's bookings and
// holds in the other rooms of the scope, and a room of the scope without
// state gives a *NoStateError naming it (its bookings cannot be
// counted), as at claim.
func testQuotaCommitLostHoldSite(f *fixture) {
	site := "s" + testenv.RandomID()
	a, b := f.room+"a", f.room+"b"
	g := f.tg.Sited(f.t, func(room string) string {
		if room == a || room == b {
			return site
		}
		return ""
	})
	q := booking.QuotaCheck{Ahead: 1, Rooms: []string{a, b}}
	b1 := mineBusy("b1", "ann", at(0, 9, 0), at(0, 10, 0))
	c1 := quotaClaim("h1", "ann", q, span(b1.Start, b1.End))
	empty := booking.Snapshot{Token: "t"}
	for _, room := range []string{a, b} {
		if err := g.Load(f.ctx, room, empty); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := g.Claim(f.ctx, a, c1); err != nil {
		f.t.Fatal(err)
	}
	f.tg.Flush(f.t)
	if err := g.Load(f.ctx, a, empty); err != nil {
		f.t.Fatal(err)
	}
	var ns *booking.NoStateError
	if err := g.Commit(f.ctx, a, "h1", "b1", "e1", []booking.Busy{b1}, 0, c1.Quota); !errors.As(err, &ns) || ns.Room != b {
		f.t.Fatalf("commit of a lost hold while room b has no state: %v, want a NoStateError for %s", err, b)
	}
	if err := g.Load(f.ctx, b, booking.Snapshot{Token: "t", Objects: map[string]booking.ObjectState{
		"x": obj("e", mineBusy("x", "ann", at(3, 9, 0), at(3, 10, 0))),
	}}); err != nil {
		f.t.Fatal(err)
	}
	var qe *booking.QuotaError
	if err := g.Commit(f.ctx, a, "h1", "b1", "e1", []booking.Busy{b1}, 0, c1.Quota); !errors.As(err, &qe) || qe.Rule != booking.QuotaAhead {
		f.t.Fatalf("commit of a lost hold with a booking ahead in room b: %v, want quota_ahead", err)
	}
	if bs, err := g.Busy(f.ctx, a, at(0, 0, 0), at(7, 0, 0)); err != nil || len(bs) != 0 {
		f.t.Errorf("room a after the refused commit: %v %v, want nothing", bs, err)
	}
}
