package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MaxAvailabilitySpan bounds one availability question.
const MaxAvailabilitySpan = 31 * 24 * time.Hour

// RoomAvailability is one room's busy and free intervals over a range.
type RoomAvailability struct {
	Room Room
	Busy []Busy
	// Free lists the bookable intervals: open, within the minimum notice
	// and the booking horizon from now, and clear of busy intervals
	// widened by the room's buffer.
	Free []Interval
	// Problems lists calendar objects that could not be read.
	Problems []ObjectProblem
}

// Availability answers for a site or a room.
type Availability struct {
	Rooms []RoomAvailability
	// Stale is true when the answer comes from a copy that could not be
	// refreshed lately because the calendar server cannot be reached.
	Stale bool
	// Key names this answer: two answers with the same non-empty Key are
	// equal (the rooms' versions, the range, the clipping by the rules and
	// the staleness all went into it), so callers may reuse what they made
	// of one (an encoded response) for the other. Empty when the answer
	// cannot be reused (it holds live holds, or was read straight from
	// the calendars). Answers with a Key are shared: do not modify them.
	Key string
}

// Availability returns busy and free intervals of one room (roomID) or of
// every room of a site (siteID) over [from, to). The answer is the same
// for every member: in a site that hides titles (Site.HideTitles), it
// gives no booking's title.
//
// Each room's version is read first (one small read per room); when no
// room changed since an answer for the same question was made, that
// answer is given again without reading the busy intervals.
func (s *Service) Availability(ctx context.Context, siteID, roomID string, from, to time.Time) (Availability, error) {
	if (siteID == "") == (roomID == "") {
		return Availability{}, Invalidf("précisez site ou room / give either site or room")
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return Availability{}, Invalidf("from doit précéder to / from must be before to")
	}
	if to.Sub(from) > MaxAvailabilitySpan {
		return Availability{}, Invalidf("au plus 31 jours à la fois / at most 31 days at once")
	}
	places, err := s.roomsFor(roomID, siteID)
	if err != nil {
		return Availability{}, err
	}
	now := s.now()
	// Every room's version in one round trip; a room the gate lost is
	// rebuilt (concurrently: a site's answer takes as long as its slowest
	// room, not the sum).
	ids := make([]string, len(places))
	for i, p := range places {
		ids[i] = p.room.ID
	}
	vs, err := s.g.Versions(ctx, ids)
	if err != nil {
		return Availability{}, fmt.Errorf("availability: %w", err)
	}
	// The rooms whose versions came back are stamped here, without a
	// goroutine each (the common case costs no scheduling); only the
	// others are rebuilt concurrently.
	stamps := make([]stamp, len(places))
	var lost []place
	var lostAt []int
	for i, p := range places {
		if vs[i].Err == nil {
			stamps[i] = s.stampOf(p, vs[i].Token, vs[i].Version, from, to, now)
			continue
		}
		lost, lostAt = append(lost, p), append(lostAt, i)
	}
	if err := each(lost, func(j int, p place) error {
		var err error
		stamps[lostAt[j]], err = s.stamp(ctx, p, from, to, now)
		return err
	}); err != nil {
		return Availability{}, err
	}
	key := s.answerKey(siteID, roomID, from, to, places, stamps)
	if key != "" {
		if a, ok := s.answers.get(key); ok {
			s.stats.answerHits.Add(1)
			return a, nil
		}
	}

	out := Availability{Rooms: make([]RoomAvailability, len(places))}
	if err := each(places, func(i int, p place) error {
		busy, err := s.busyAt(ctx, p, from, to, stamps[i])
		if err != nil {
			return err
		}
		if p.site.HideTitles {
			// One answer for every member: no booking's title.
			busy = seenByAnyone(busy)
		}
		ra := RoomAvailability{Room: p.room, Busy: busy, Problems: s.roomProblems(p.room.ID)}
		if bf, bt := stamps[i].bookFrom, stamps[i].bookTo; bf.Before(bt) {
			ra.Free = subtract(p.room.Hours.Open(bf.In(p.site.Location), bt), busy, p.room.Rules.Buffer)
		}
		out.Rooms[i] = ra
		return nil
	}); err != nil {
		return Availability{}, err
	}
	for i, st := range stamps {
		out.Stale = out.Stale || st.stale
		for _, b := range out.Rooms[i].Busy {
			if b.Kind == KindHold {
				key = "" // a hold expires without a version to say so
			}
		}
	}
	if key != "" {
		out.Key = key
		s.answers.put(key, out)
		s.stats.answerMisses.Add(1)
	} else {
		s.stats.answerUncached.Add(1)
	}
	return out, nil
}

// each runs fn for every place concurrently and joins the errors.
func each(places []place, fn func(int, place) error) error {
	errs := make([]error, len(places))
	var wg sync.WaitGroup
	for i, p := range places {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, p)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stamp is what one room's part of an availability answer depends on
// besides its busy intervals.
type stamp struct {
	version string // the gate's version of the room ("" when read from the calendar)
	cached  bool   // the gate's window covers the range
	stale   bool
	// bookFrom and bookTo are the range clipped by the rules from now.
	bookFrom, bookTo time.Time
}

// stamp reads a room's version and token from the gate, rebuilding the
// room's state first if the gate has none.
func (s *Service) stamp(ctx context.Context, p place, from, to, now time.Time) (stamp, error) {
	var raw, ver string
	err := s.withState(ctx, p, func() error {
		var err error
		raw, ver, err = s.g.Version(ctx, p.room.ID)
		return err
	})
	if err != nil {
		return stamp{}, fmt.Errorf("availability of %s: %w", p.room.ID, err)
	}
	return s.stampOf(p, raw, ver, from, to, now), nil
}

// stampOf makes a room's stamp from its token and version.
func (s *Service) stampOf(p place, raw, ver string, from, to, now time.Time) stamp {
	st := stamp{version: ver}
	st.bookFrom, st.bookTo = bookable(p.room.Rules, now, from, to)
	tok, ok := parseStateToken(raw)
	if ok && !from.Before(tok.window.Start) && !to.After(tok.window.End) {
		st.cached = true
		st.stale = now.Sub(tok.syncedAt) > 3*s.opt.SyncInterval
	}
	return st
}

// answerKey names an availability answer by everything it depends on, or
// "" when it is not to be reused.
func (s *Service) answerKey(siteID, roomID string, from, to time.Time, places []place, stamps []stamp) string {
	s.mu.Lock()
	gen := s.problemsGen
	s.mu.Unlock()
	// "site|room|from|to|gen", then "|room:version:stale:bookFrom:bookTo"
	// for each room (times in Unix nanoseconds), built without fmt: it is
	// made on every request.
	b := make([]byte, 0, 64+96*len(stamps))
	b = append(append(append(append(b, siteID...), '|'), roomID...), '|')
	b = strconv.AppendInt(b, from.UnixNano(), 10)
	b = strconv.AppendInt(append(b, '|'), to.UnixNano(), 10)
	b = strconv.AppendUint(append(b, '|'), gen, 10)
	for i, st := range stamps {
		if !st.cached || st.version == "" {
			return ""
		}
		b = append(append(append(append(append(b, '|'), places[i].room.ID...), ':'), st.version...), ':')
		b = strconv.AppendBool(b, st.stale)
		b = strconv.AppendInt(append(b, ':'), st.bookFrom.UnixNano(), 10)
		b = strconv.AppendInt(append(b, ':'), st.bookTo.UnixNano(), 10)
	}
	return string(b)
}

// answerMemo keeps recent availability answers by key. It is a memo,
// not state: a key holds the versions read from the gate, so an answer
// is reused only while every room is as it was.
type answerMemo struct {
	mu sync.Mutex
	m  map[string]Availability
}

// answerMemoSize bounds the memo; past it, it starts again empty.
const answerMemoSize = 256

func (m *answerMemo) get(key string) (Availability, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.m[key]
	return a, ok
}

func (m *answerMemo) put(key string, a Availability) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= answerMemoSize {
		m.m = make(map[string]Availability)
	}
	m.m[key] = a
}

// bookable clips [from, to) to what the rules let a member book from now:
// not before the minimum notice, not beyond the booking horizon. So free
// intervals never offer a slot that a booking would be refused. The
// bounds move by whole minutes, and only inwards (the earliest start is
// rounded up, the horizon down), so that answers can be reused within a
// minute without ever offering more than the rules allow.
func bookable(r Rules, now, from, to time.Time) (time.Time, time.Time) {
	if earliest := ceilMinute(now.Add(r.MinNotice)); from.Before(earliest) {
		from = earliest
	}
	if r.MaxAhead > 0 {
		if latest := now.Add(r.MaxAhead).Truncate(time.Minute); to.After(latest) {
			to = latest
		}
	}
	return from, to
}

func ceilMinute(t time.Time) time.Time {
	if c := t.Truncate(time.Minute); c.Before(t) {
		return c.Add(time.Minute)
	}
	return t
}

// busyAt returns a room's busy intervals over [from, to): from the gate
// when its cached window covers the range, straight from the calendar
// otherwise.
func (s *Service) busyAt(ctx context.Context, p place, from, to time.Time, st stamp) ([]Busy, error) {
	if !st.cached {
		busy, _, err := s.cal.Busy(ctx, p.room, p.site.Location, from, to)
		if err != nil {
			return nil, fmt.Errorf("availability of %s: %w", p.room.ID, err)
		}
		return busy, nil
	}
	busy, err := s.g.Busy(ctx, p.room.ID, from, to)
	if errors.Is(err, ErrNoState) {
		busy, _, err = s.busy(ctx, p, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("availability of %s: %w", p.room.ID, err)
	}
	return busy, nil
}

// busy returns a room's busy intervals over [from, to): from the gate when
// its cached window covers the range, straight from the calendar
// otherwise. stale says the gate's copy has not been refreshed for three
// sync intervals.
func (s *Service) busy(ctx context.Context, p place, from, to time.Time) ([]Busy, bool, error) {
	var raw string
	err := s.withState(ctx, p, func() error {
		var err error
		raw, err = s.g.Token(ctx, p.room.ID)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("availability of %s: %w", p.room.ID, err)
	}
	tok, ok := parseStateToken(raw)
	if !ok || from.Before(tok.window.Start) || to.After(tok.window.End) {
		busy, _, err := s.cal.Busy(ctx, p.room, p.site.Location, from, to)
		if err != nil {
			return nil, false, fmt.Errorf("availability of %s: %w", p.room.ID, err)
		}
		return busy, false, nil
	}
	busy, err := s.g.Busy(ctx, p.room.ID, from, to)
	if errors.Is(err, ErrNoState) {
		return s.busy(ctx, p, from, to)
	}
	if err != nil {
		return nil, false, fmt.Errorf("availability of %s: %w", p.room.ID, err)
	}
	stale := s.now().Sub(tok.syncedAt) > 3*s.opt.SyncInterval
	return busy, stale, nil
}

// subtract removes busy intervals, widened by buffer, from sorted,
// disjoint open intervals.
func subtract(open []Interval, busy []Busy, buffer time.Duration) []Interval {
	bs := make([]Interval, 0, len(busy))
	for _, b := range busy {
		bs = append(bs, Interval{Start: b.Start.Add(-buffer), End: b.End.Add(buffer)})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Start.Before(bs[j].Start) })
	var out []Interval
	for _, o := range open {
		cur := o.Start
		for _, b := range bs {
			if !b.End.After(cur) || !b.Start.Before(o.End) {
				continue
			}
			if b.Start.After(cur) {
				out = append(out, Interval{Start: cur, End: b.Start})
			}
			if b.End.After(cur) {
				cur = b.End
			}
		}
		if cur.Before(o.End) {
			out = append(out, Interval{Start: cur, End: o.End})
		}
	}
	return out
}

func (s *Service) roomProblems(room string) []ObjectProblem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ObjectProblem(nil), s.problems[room]...)
}

// Conflict is two busy intervals of one room that overlap: people edited
// the calendar directly. Nothing is deleted; admins are told.
//
// A Conflict with Problem set is instead an object of the room's
// calendar that could not be read whole (see ObjectProblem): A.Ref names
// it, A is its first busy interval from now when one is known (zero
// Start and End otherwise), and B is zero.
type Conflict struct {
	Room    string
	A, B    Busy
	Problem error
}

// Conflicts lists overlaps between busy intervals of every room from now
// on, within the cached window, and the objects of the rooms' calendars
// that could not be read whole (Conflict.Problem).
func (s *Service) Conflicts(ctx context.Context) ([]Conflict, error) {
	places, err := s.roomsFor("", "", true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Conflict
	for _, p := range places {
		busy, _, err := s.busy(ctx, p, now, now.Add(s.opt.Window-24*time.Hour))
		if err != nil {
			return nil, err
		}
		out = append(out, overlaps(p.room.ID, busy)...)
		out = append(out, unreadable(p.room.ID, busy, s.roomProblems(p.room.ID))...)
	}
	return out, nil
}

// unreadable lists the room's problems as Conflicts, each with the first
// busy interval of its object in busy (sorted by start).
func unreadable(room string, busy []Busy, problems []ObjectProblem) []Conflict {
	var out []Conflict
	for _, pr := range problems {
		c := Conflict{Room: room, A: Busy{Ref: pr.Ref}, Problem: pr.Err}
		for _, b := range busy {
			if b.Ref == pr.Ref && b.Kind != KindHold {
				c.A = b
				break
			}
		}
		out = append(out, c)
	}
	return out
}

// overlaps finds pairs of overlapping intervals of different objects in a
// list sorted by start (holds left out).
func overlaps(room string, busy []Busy) []Conflict {
	var out []Conflict
	for i := range busy {
		if busy[i].Kind == KindHold {
			continue
		}
		for j := i + 1; j < len(busy) && busy[j].Start.Before(busy[i].End); j++ {
			if busy[j].Kind == KindHold || busy[j].Ref == busy[i].Ref {
				continue
			}
			out = append(out, Conflict{Room: room, A: busy[i], B: busy[j]})
		}
	}
	return out
}

// reportOverlaps logs and counts overlaps that objects just read from the
// calendar create.
func (s *Service) reportOverlaps(ctx context.Context, p place, put map[string]ObjectState) {
	for ref, o := range put {
		for _, b := range o.Busy {
			others, err := s.g.Busy(ctx, p.room.ID, b.Start, b.End)
			if err != nil {
				return
			}
			for _, other := range others {
				if other.Ref == ref || other.Kind == KindHold {
					continue
				}
				s.conflictsSeen.Add(1)
				s.log.WarnContext(ctx, "overlap in a room calendar (edited outside roomcal); kept, listed to admins",
					"room", p.room.ID, "object", ref, "other", other.Ref,
					"start", b.Start.Format(time.RFC3339), "end", b.End.Format(time.RFC3339))
			}
		}
	}
}

// ConflictsSeen counts overlaps found by sync passes of this process
// (exported as a metric).
func (s *Service) ConflictsSeen() int64 { return s.conflictsSeen.Load() }
