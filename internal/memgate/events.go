// EventGate is the in-process stand-in for the Redis events gate: an
// events.Gate whose state lives in this process, for the embedded
// default (one replica, nothing else installed) and for tests. It keeps
// the promises documented on events.Gate:
//
//   - Every method is atomic for one event: each event has its own
//     mutex, and the index of events by start has another. No call holds
//     two of them at once.
//   - Every change takes the next version and records, for that version,
//     the before-image of what it touched (member records and
//     tombstones, the event's fields and ETag), so that Rollback can
//     restore the state exactly as it was at Durable, newest version
//     first. Written forgets the undo records and tombstones up to the
//     durable version.
//   - An event has no state until Load (events.ErrNoState), locks expire
//     by the gate's clock (WithEventClock injects one), and Flush drops
//     every event's state and lock and the index at once, as FLUSHALL
//     does to Redis.
//   - What is returned is a copy: callers cannot alias the gate's state.
//
// A member's entry is either a live registration or a tombstone (the
// version of its removal); each remembers the version of its last
// change, which tells pending changes (newer than Durable) from durable
// ones.

package memgate

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// failedKeep is how long a rolled-back range of versions stays in
// Progress.Failed.
const failedKeep = 10 * time.Minute

// EventGate is events.Gate in memory. It is safe for concurrent use; it
// is not shared between processes.
type EventGate struct {
	now func() time.Time

	mu     sync.Mutex // guards events and index (the pointers, not what they hold)
	events map[string]*event
	index  *eventIndex
	tokens atomic.Uint64 // lock tokens, never reused (not even across Flush)
}

var _ events.Gate = (*EventGate)(nil)

// EventOption configures an EventGate.
type EventOption func(*EventGate)

// WithEventClock makes the EventGate read time from now (default
// time.Now): lock expiry and the age of failed ranges follow it.
func WithEventClock(now func() time.Time) EventOption {
	return func(g *EventGate) { g.now = now }
}

// NewEventGate returns an empty EventGate: every event has no state and
// the index is absent until loaded.
func NewEventGate(opts ...EventOption) *EventGate {
	g := &EventGate{now: time.Now, events: map[string]*event{}, index: &eventIndex{}}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Flush drops the state and lock of every event and the index at once,
// as FLUSHALL does to Redis. A call running concurrently completes on
// the state as it was before the flush.
func (g *EventGate) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = map[string]*event{}
	g.index = &eventIndex{}
}

// event is the state of one event. Entries are never removed from
// EventGate.events but by Flush, so that a caller waiting on mu never
// works on an orphan; Drop only clears the state.
type event struct {
	mu   sync.Mutex
	lock *lock // the write lock; it survives Drop, not Flush
	eventState
}

// eventState is what Load installs and Drop forgets.
type eventState struct {
	present      bool
	gen          string
	ver, durable int64
	etag         string
	ev           events.Event
	seq          int64
	members      map[string]member
	// confirmed and waiting count the live registrations by status.
	confirmed, waiting int
	// log holds the undo records of the versions in (durable, ver],
	// oldest first.
	log    []undo
	failed []failedRange
}

// member is a member's entry: a live registration, or a tombstone.
type member struct {
	// reg is the registration (Position is not kept: it is computed).
	reg events.Registration
	// ver is the version of the last change: of the registration's last
	// change, or of the removal for a tombstone.
	ver  int64
	live bool
}

// undo is what version ver changed, as before-images.
type undo struct {
	ver int64
	// members maps each member touched to its entry before the change
	// (nil: it had none).
	members map[string]*member
	// head is the event's fields and ETag before the change, nil when
	// the version left them alone.
	head *eventHead
}

type eventHead struct {
	ev   events.Event
	etag string
}

type failedRange struct {
	events.VerRange
	at time.Time // when it was rolled back, by the gate's clock
}

// locked returns event id's entry locked, and the time read once the
// lock is held. Without create it returns nil (and nothing locked) for an
// event the gate has never heard of. The caller unlocks.
func (g *EventGate) locked(id string, create bool) (*event, time.Time) {
	g.mu.Lock()
	e := g.events[id]
	if e == nil && create {
		e = &event{}
		g.events[id] = e
	}
	g.mu.Unlock()
	if e == nil {
		return nil, g.now()
	}
	e.mu.Lock()
	return e, g.now()
}

// withState runs fn on event id's state, locked; it fails with
// events.ErrNoState when there is none. op names the call in errors.
func (g *EventGate) withState(ctx context.Context, op, id string, fn func(e *event, now time.Time) error) error {
	if id == "" {
		return fmt.Errorf("%s: event id is required", op)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	e, now := g.locked(id, false)
	if e == nil {
		return fmt.Errorf("%s %s: %w", op, id, events.ErrNoState)
	}
	defer e.mu.Unlock()
	if !e.present {
		return fmt.Errorf("%s %s: %w", op, id, events.ErrNoState)
	}
	return fn(e, now)
}

// Register implements events.Gate.
func (g *EventGate) Register(ctx context.Context, id string, r events.Registration, now time.Time) (events.Outcome, error) {
	if r.Member == "" {
		return events.Outcome{}, fmt.Errorf("register in %s: member is required", id)
	}
	var out events.Outcome
	err := g.withState(ctx, "register", id, func(e *event, _ time.Time) error {
		out.Gen = e.gen
		if m, ok := e.members[r.Member]; ok && m.live {
			out.Reg = e.registration(m)
			out.Ver = e.pending(m)
			return nil
		}
		s := e.ev.Settings
		if s.Cancelled || !s.Open(now) {
			return fmt.Errorf("register %s in %s: %w", r.Member, id, events.ErrClosed)
		}
		if e.confirmed >= s.Capacity && !s.Waitlist {
			return fmt.Errorf("register %s in %s: %w", r.Member, id, events.ErrFull)
		}
		e.begin()
		m := e.newcomer(r, now)
		e.change(r.Member, &m)
		out.Ver, out.Reg, out.Created = e.ver, m.reg, true
		if m.reg.Status == events.Waitlisted {
			out.Reg.Position = e.waiting // the newest arrival is last
		}
		return nil
	})
	if err != nil {
		return events.Outcome{}, err
	}
	return out, nil
}

// Unregister implements events.Gate.
func (g *EventGate) Unregister(ctx context.Context, id, memberID string) (events.Outcome, error) {
	if memberID == "" {
		return events.Outcome{}, fmt.Errorf("unregister in %s: member is required", id)
	}
	var out events.Outcome
	err := g.withState(ctx, "unregister", id, func(e *event, _ time.Time) error {
		out.Gen = e.gen
		m, ok := e.members[memberID]
		if !ok || !m.live {
			if ok {
				out.Ver = e.pending(m)
			}
			return nil
		}
		e.begin()
		e.remove(memberID)
		out.Ver, out.Found = e.ver, true
		return nil
	})
	if err != nil {
		return events.Outcome{}, err
	}
	return out, nil
}

// Configure implements events.Gate.
func (g *EventGate) Configure(ctx context.Context, id string, ev events.Event) (events.Outcome, error) {
	if ev.ID != "" && ev.ID != id {
		return events.Outcome{}, fmt.Errorf("configure %s: event has id %q", id, ev.ID)
	}
	if ev.Settings.Capacity < 1 {
		return events.Outcome{}, fmt.Errorf("configure %s: capacity %d, need at least 1", id, ev.Settings.Capacity)
	}
	var out events.Outcome
	err := g.withState(ctx, "configure", id, func(e *event, _ time.Time) error {
		e.begin()
		e.touchHead()
		e.ev = normEvent(ev, id)
		e.promote(e.ev.Settings.Capacity - e.confirmed)
		out.Gen, out.Ver = e.gen, e.ver
		return nil
	})
	if err != nil {
		return events.Outcome{}, err
	}
	return out, nil
}

// Reconcile implements events.Gate. Members removed outside are removed
// first (the waitlisted, then the confirmed, each by arrival and as by
// Unregister), then those added outside are added in the order of
// present; a present registration's At is kept when it is not zero,
// else now is. The settings' Start becomes ev.Start (ev.Settings.Start
// when ev.Start is zero). The event's fields changing, or any member,
// takes one version; a new ETag alone does not (there is nothing to
// write back), it is only recorded.
func (g *EventGate) Reconcile(ctx context.Context, id, etag string, ev events.Event, present []events.Registration, now time.Time) (events.State, error) {
	if ev.ID != "" && ev.ID != id {
		return events.State{}, fmt.Errorf("reconcile %s: event has id %q", id, ev.ID)
	}
	for _, r := range present {
		if r.Member == "" {
			return events.State{}, fmt.Errorf("reconcile %s: a present registration has no member", id)
		}
	}
	var st events.State
	err := g.withState(ctx, "reconcile", id, func(e *event, _ time.Time) error {
		if etag == e.etag {
			st = e.state()
			return nil
		}
		listed := make(map[string]bool, len(present))
		for _, r := range present {
			listed[r.Member] = true
		}
		var gone []member
		for mid, m := range e.members {
			if m.live && m.ver <= e.durable && !listed[mid] {
				gone = append(gone, m)
			}
		}
		// The waitlisted first, so that no one about to be removed is
		// promoted.
		slices.SortFunc(gone, func(a, b member) int {
			if a.reg.Status != b.reg.Status {
				if a.reg.Status == events.Waitlisted {
					return -1
				}
				return 1
			}
			return bySeq(a.reg, b.reg)
		})
		var added []events.Registration
		seen := make(map[string]bool, len(present))
		for _, r := range present {
			m, ok := e.members[r.Member]
			if seen[r.Member] || ok && (m.live || m.ver > e.durable) {
				continue
			}
			seen[r.Member] = true
			added = append(added, r)
		}
		next := normEvent(ev, id)
		next.Settings = e.ev.Settings
		next.Settings.Start = next.Start
		if next.Start.IsZero() {
			next.Settings.Start = ev.Settings.Start.UTC()
		}
		if len(gone) == 0 && len(added) == 0 && eventEqual(e.ev, next) {
			e.etag = etag
			st = e.state()
			return nil
		}
		e.begin()
		e.touchHead()
		e.ev, e.etag = next, etag
		for _, m := range gone {
			e.remove(m.reg.Member)
		}
		for _, r := range added {
			at := now
			if !r.At.IsZero() {
				at = r.At
			}
			m := e.newcomer(r, at)
			e.change(r.Member, &m)
		}
		st = e.state()
		return nil
	})
	if err != nil {
		return events.State{}, err
	}
	return st, nil
}

// State implements events.Gate.
func (g *EventGate) State(ctx context.Context, id string) (events.State, error) {
	var st events.State
	err := g.withState(ctx, "state", id, func(e *event, _ time.Time) error {
		st = e.state()
		return nil
	})
	if err != nil {
		return events.State{}, err
	}
	return st, nil
}

// Mine implements events.Gate.
func (g *EventGate) Mine(ctx context.Context, id, memberID string) (events.Registration, bool, error) {
	var (
		reg events.Registration
		ok  bool
	)
	err := g.withState(ctx, "mine", id, func(e *event, _ time.Time) error {
		m, found := e.members[memberID]
		if !found || !m.live {
			return nil
		}
		reg, ok = m.reg, true
		if reg.Status == events.Waitlisted {
			reg.Position = 1
			for _, o := range e.members {
				if o.live && o.reg.Status == events.Waitlisted && o.reg.Seq < reg.Seq {
					reg.Position++
				}
			}
		}
		return nil
	})
	if err != nil {
		return events.Registration{}, false, err
	}
	return reg, ok, nil
}

// Progress implements events.Gate.
func (g *EventGate) Progress(ctx context.Context, id string) (events.Progress, error) {
	var p events.Progress
	err := g.withState(ctx, "progress", id, func(e *event, now time.Time) error {
		e.pruneFailed(now)
		p = events.Progress{Gen: e.gen, Ver: e.ver, Durable: e.durable}
		for _, f := range e.failed {
			p.Failed = append(p.Failed, f.VerRange)
		}
		return nil
	})
	if err != nil {
		return events.Progress{}, err
	}
	return p, nil
}

// Summaries implements events.Gate. Each event is read atomically; the
// list as a whole is not a snapshot.
func (g *EventGate) Summaries(ctx context.Context, ids []string) ([]events.Summary, error) {
	out := make([]events.Summary, 0, len(ids))
	for _, id := range ids {
		if id == "" {
			continue
		}
		err := g.withState(ctx, "summaries", id, func(e *event, _ time.Time) error {
			out = append(out, events.Summary{Event: copyEvent(e.ev), Confirmed: e.confirmed, Waitlisted: e.waiting})
			return nil
		})
		if errors.Is(err, events.ErrNoState) {
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Written implements events.Gate. Durable is bounded by the state's
// version: a version not taken yet cannot be on the calendar.
func (g *EventGate) Written(ctx context.Context, id, gen string, ver int64, etag string) error {
	return g.withState(ctx, "written", id, func(e *event, _ time.Time) error {
		if gen != e.gen {
			return fmt.Errorf("written %s: generation %q, the state is %q: %w", id, gen, e.gen, events.ErrNoState)
		}
		e.durable = max(e.durable, min(ver, e.ver))
		e.etag = etag
		i := 0
		for i < len(e.log) && e.log[i].ver <= e.durable {
			i++
		}
		e.log = slices.Delete(e.log, 0, i)
		e.dropTombstones()
		return nil
	})
}

// Rollback implements events.Gate. A lease that is no longer held, or a
// state of another generation, gives events.ErrLeaseLost; no state (the
// lease still held: the event was dropped) gives events.ErrNoState.
func (g *EventGate) Rollback(ctx context.Context, id, gen, lease string) error {
	if id == "" {
		return errors.New("rollback: event id is required")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rollback %s: %w", id, err)
	}
	e, now := g.locked(id, false)
	if e == nil {
		return fmt.Errorf("rollback %s: %w", id, events.ErrLeaseLost)
	}
	defer e.mu.Unlock()
	if !e.holds(lease, now) {
		return fmt.Errorf("rollback %s: lease %q not held: %w", id, lease, events.ErrLeaseLost)
	}
	if !e.present {
		return fmt.Errorf("rollback %s: %w", id, events.ErrNoState)
	}
	if e.gen != gen {
		return fmt.Errorf("rollback %s: generation %q, the state is %q: %w", id, gen, e.gen, events.ErrLeaseLost)
	}
	for i := len(e.log) - 1; i >= 0; i-- {
		u := e.log[i]
		if u.ver <= e.durable {
			break
		}
		for mid, img := range u.members {
			e.set(mid, img)
		}
		if u.head != nil {
			e.ev, e.etag = u.head.ev, u.head.etag
		}
	}
	e.log = nil
	e.pruneFailed(now)
	if e.ver > e.durable {
		e.failed = append(e.failed, failedRange{VerRange: events.VerRange{From: e.durable, To: e.ver}, at: now})
		e.durable = e.ver
	}
	e.dropTombstones()
	return nil
}

// Load implements events.Gate.
func (g *EventGate) Load(ctx context.Context, id string, st events.State, lease string) error {
	if id == "" {
		return errors.New("load: event id is required")
	}
	if st.Ver < 0 {
		return fmt.Errorf("load %s: negative version %d", id, st.Ver)
	}
	if st.Event.ID != "" && st.Event.ID != id {
		return fmt.Errorf("load %s: event has id %q", id, st.Event.ID)
	}
	for _, r := range st.Registrations {
		if r.Member == "" {
			return fmt.Errorf("load %s: a registration has no member", id)
		}
		if r.Seq < 0 {
			return fmt.Errorf("load %s: registration of %s has Seq %d", id, r.Member, r.Seq)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("load %s: %w", id, err)
	}
	gen := st.Gen
	if gen == "" {
		var err error
		if gen, err = newGen(); err != nil {
			return fmt.Errorf("load %s: %w", id, err)
		}
	}
	e, now := g.locked(id, true)
	defer e.mu.Unlock()
	if lease != "" {
		if !e.holds(lease, now) {
			return fmt.Errorf("load %s: lease %q not held: %w", id, lease, events.ErrLeaseLost)
		}
		if e.present {
			return nil
		}
	}
	e.clear()
	e.present, e.gen = true, gen
	e.ver, e.durable = st.Ver, st.Ver
	e.etag = st.ETag
	e.ev = normEvent(st.Event, id)
	e.seq = st.Seq
	e.members = make(map[string]member, len(st.Registrations))
	for _, r := range st.Registrations {
		if _, dup := e.members[r.Member]; dup || r.Seq == 0 {
			continue
		}
		reg := normReg(r)
		reg.Position = 0
		if reg.Status != events.Waitlisted {
			reg.Status = events.Confirmed
		}
		e.set(r.Member, &member{reg: reg, live: true})
		e.seq = max(e.seq, r.Seq)
	}
	for _, r := range st.Registrations {
		if _, dup := e.members[r.Member]; dup || r.Seq != 0 {
			continue
		}
		at := now
		if !r.At.IsZero() {
			at = r.At
		}
		m := e.newcomer(r, at)
		e.set(r.Member, &m)
	}
	return nil
}

// Drop implements events.Gate. The event's write lock, if held, stays
// with its holder.
func (g *EventGate) Drop(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("drop: event id is required")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("drop %s: %w", id, err)
	}
	e, _ := g.locked(id, false)
	if e == nil {
		return nil
	}
	defer e.mu.Unlock()
	e.clear()
	return nil
}

// Lock implements events.Gate. The lock expires after ttl by the gate's
// clock; the lease's Release gives it back only if it is still this
// holding's.
func (g *EventGate) Lock(ctx context.Context, id string, ttl time.Duration) (booking.Lease, bool, error) {
	if id == "" || ttl <= 0 {
		return booking.Lease{}, false, fmt.Errorf("lock %s: need an event and a positive ttl", id)
	}
	if err := ctx.Err(); err != nil {
		return booking.Lease{}, false, fmt.Errorf("lock %s: %w", id, err)
	}
	e, now := g.locked(id, true)
	defer e.mu.Unlock()
	lease, ok := takeLock(&e.mu, &e.lock, now, ttl, &g.tokens)
	return lease, ok, nil
}

// holds reports whether lease is the event's live write lock at now.
func (e *event) holds(lease string, now time.Time) bool {
	return lease != "" && e.lock != nil && now.Before(e.lock.expires) &&
		strconv.FormatUint(e.lock.token, 10) == lease
}

// clear forgets the state, keeping the lock.
func (e *event) clear() {
	e.eventState = eventState{}
}

// begin starts the next version, with an empty undo record.
func (e *event) begin() {
	e.ver++
	e.log = append(e.log, undo{ver: e.ver, members: map[string]*member{}})
}

// touchHead records the event's fields and ETag in the current undo
// record, unless they already are.
func (e *event) touchHead() {
	u := &e.log[len(e.log)-1]
	if u.head == nil {
		u.head = &eventHead{ev: e.ev, etag: e.etag}
	}
}

// change replaces member id's entry by m (nil: none) in the current
// version, recording the entry before the version's first change of it.
func (e *event) change(id string, m *member) {
	u := &e.log[len(e.log)-1]
	if _, seen := u.members[id]; !seen {
		if old, ok := e.members[id]; ok {
			u.members[id] = &old
		} else {
			u.members[id] = nil
		}
	}
	e.set(id, m)
}

// set replaces member id's entry by a copy of m (nil: none), keeping the
// counts right. It records nothing.
func (e *event) set(id string, m *member) {
	if old, ok := e.members[id]; ok && old.live {
		e.count(old.reg.Status, -1)
	}
	if m == nil {
		delete(e.members, id)
		return
	}
	if e.members == nil {
		e.members = map[string]member{}
	}
	e.members[id] = *m
	if m.live {
		e.count(m.reg.Status, 1)
	}
}

func (e *event) count(s events.RegStatus, d int) {
	if s == events.Confirmed {
		e.confirmed += d
	} else {
		e.waiting += d
	}
}

// newcomer returns a new registration of r.Member at at, in the current
// version: confirmed if a seat is free, else waitlisted (whether the
// event has a waiting list is the caller's business), with the next
// arrival number.
func (e *event) newcomer(r events.Registration, at time.Time) member {
	status := events.Waitlisted
	if e.confirmed < e.ev.Settings.Capacity {
		status = events.Confirmed
	}
	e.seq++
	return member{
		reg: events.Registration{
			Member: r.Member, Name: r.Name, Email: r.Email,
			Status: status, Seq: e.seq, At: at.UTC(),
		},
		ver:  e.ver,
		live: true,
	}
}

// remove unregisters live member id in the current version, leaving a
// tombstone, and confirms the head of the waiting list if the member
// was confirmed and a seat is free afterwards.
func (e *event) remove(id string) {
	m := e.members[id]
	e.change(id, &member{reg: events.Registration{Member: id}, ver: e.ver})
	if m.reg.Status == events.Confirmed && e.confirmed < e.ev.Settings.Capacity {
		e.promote(1)
	}
}

// promote confirms up to n from the head of the waiting list in the
// current version.
func (e *event) promote(n int) {
	if n <= 0 || e.waiting == 0 {
		return
	}
	var heads []member
	if n == 1 {
		// The usual case (one seat freed): one pass, no sort.
		var head *member
		for _, m := range e.members {
			if m.live && m.reg.Status == events.Waitlisted && (head == nil || bySeq(m.reg, head.reg) < 0) {
				head = &m
			}
		}
		heads = append(heads, *head)
	} else {
		for _, m := range e.members {
			if m.live && m.reg.Status == events.Waitlisted {
				heads = append(heads, m)
			}
		}
		slices.SortFunc(heads, func(a, b member) int { return bySeq(a.reg, b.reg) })
		heads = heads[:min(n, len(heads))]
	}
	for _, m := range heads {
		m.reg.Status, m.ver = events.Confirmed, e.ver
		e.change(m.reg.Member, &m)
	}
}

// pending returns m's version if it is not durable yet, else 0.
func (e *event) pending(m member) int64 {
	if m.ver > e.durable {
		return m.ver
	}
	return 0
}

// registration returns live m's registration with its position.
func (e *event) registration(m member) events.Registration {
	r := m.reg
	r.Position = 0
	if r.Status == events.Waitlisted {
		r.Position = 1
		for _, o := range e.members {
			if o.live && o.reg.Status == events.Waitlisted && bySeq(o.reg, r) < 0 {
				r.Position++
			}
		}
	}
	return r
}

// state returns a copy of the whole state.
func (e *event) state() events.State {
	st := events.State{
		Gen: e.gen, Ver: e.ver, Durable: e.durable, ETag: e.etag,
		Event: copyEvent(e.ev), Seq: e.seq,
		Registrations: make([]events.Registration, 0, e.confirmed+e.waiting),
	}
	for _, m := range e.members {
		if m.live {
			st.Registrations = append(st.Registrations, m.reg)
		}
	}
	slices.SortFunc(st.Registrations, func(a, b events.Registration) int {
		if a.Status != b.Status {
			if a.Status == events.Confirmed {
				return -1
			}
			return 1
		}
		return bySeq(a, b)
	})
	pos := 0
	for i := range st.Registrations {
		if st.Registrations[i].Status == events.Waitlisted {
			pos++
			st.Registrations[i].Position = pos
		}
	}
	return st
}

// dropTombstones forgets the tombstones of durable removals.
func (e *event) dropTombstones() {
	for id, m := range e.members {
		if !m.live && m.ver <= e.durable {
			delete(e.members, id)
		}
	}
}

// pruneFailed forgets the failed ranges rolled back more than failedKeep
// ago.
func (e *event) pruneFailed(now time.Time) {
	e.failed = slices.DeleteFunc(e.failed, func(f failedRange) bool {
		return now.Sub(f.at) > failedKeep
	})
}

// bySeq orders registrations by arrival (ties, which a well-formed state
// has none of, by member).
func bySeq(a, b events.Registration) int {
	return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.Member, b.Member))
}

// normEvent returns a copy of ev with id and its times in UTC.
func normEvent(ev events.Event, id string) events.Event {
	ev = copyEvent(ev)
	ev.ID = id
	ev.Start, ev.End, ev.Created = ev.Start.UTC(), ev.End.UTC(), ev.Created.UTC()
	s := &ev.Settings
	s.Opens, s.Closes, s.Start = s.Opens.UTC(), s.Closes.UTC(), s.Start.UTC()
	return ev
}

// normReg returns r with its time in UTC.
func normReg(r events.Registration) events.Registration {
	r.At = r.At.UTC()
	return r
}

// copyEvent returns a deep copy of ev.
func copyEvent(ev events.Event) events.Event {
	ev.Organizer.Groups = slices.Clone(ev.Organizer.Groups)
	return ev
}

// eventEqual reports whether a and b are the same event (times by
// instant).
func eventEqual(a, b events.Event) bool {
	sa, sb := a.Settings, b.Settings
	return a.ID == b.ID && a.Title == b.Title && a.Description == b.Description &&
		a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		a.Room == b.Room && a.RoomBooking == b.RoomBooking && a.Location == b.Location &&
		a.Organizer.ID == b.Organizer.ID && a.Organizer.Name == b.Organizer.Name &&
		a.Organizer.Email == b.Organizer.Email && slices.Equal(a.Organizer.Groups, b.Organizer.Groups) &&
		a.Created.Equal(b.Created) &&
		sa.Capacity == sb.Capacity && sa.Waitlist == sb.Waitlist && sa.Cancelled == sb.Cancelled &&
		sa.Opens.Equal(sb.Opens) && sa.Closes.Equal(sb.Closes) && sa.Start.Equal(sb.Start)
}

// newGen returns a new random generation name.
func newGen() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new generation: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// eventIndex is the index of events by start. entries is sorted by
// (start, id); starts maps each id to its start.
type eventIndex struct {
	mu      sync.Mutex
	present bool
	token   string
	starts  map[string]time.Time
	entries []indexEntry
}

type indexEntry struct {
	start time.Time
	id    string
}

func (a indexEntry) less(b indexEntry) bool {
	if !a.start.Equal(b.start) {
		return a.start.Before(b.start)
	}
	return a.id < b.id
}

// withIndex runs fn on the index, locked; it fails with
// events.ErrNoState when the index is absent.
func (g *EventGate) withIndex(ctx context.Context, op string, fn func(x *eventIndex) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	g.mu.Lock()
	x := g.index
	g.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.present {
		return fmt.Errorf("%s: %w", op, events.ErrNoState)
	}
	return fn(x)
}

// put adds or moves id.
func (x *eventIndex) put(id string, start time.Time) {
	x.del(id)
	en := indexEntry{start: start.UTC(), id: id}
	i := sort.Search(len(x.entries), func(i int) bool { return !x.entries[i].less(en) })
	x.entries = slices.Insert(x.entries, i, en)
	x.starts[id] = en.start
}

// del removes id, if indexed.
func (x *eventIndex) del(id string) {
	start, ok := x.starts[id]
	if !ok {
		return
	}
	en := indexEntry{start: start, id: id}
	i := sort.Search(len(x.entries), func(i int) bool { return !x.entries[i].less(en) })
	if i < len(x.entries) && x.entries[i].id == id {
		x.entries = slices.Delete(x.entries, i, i+1)
	}
	delete(x.starts, id)
}

// IndexRange implements events.Gate. An empty or inverted range gives no
// ids.
func (g *EventGate) IndexRange(ctx context.Context, from, to time.Time) ([]string, error) {
	var ids []string
	err := g.withIndex(ctx, "index range", func(x *eventIndex) error {
		i := sort.Search(len(x.entries), func(i int) bool { return !x.entries[i].start.Before(from) })
		for ; i < len(x.entries) && x.entries[i].start.Before(to); i++ {
			ids = append(ids, x.entries[i].id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// IndexLoad implements events.Gate.
func (g *EventGate) IndexLoad(ctx context.Context, token string, starts map[string]time.Time) error {
	for id := range starts {
		if id == "" {
			return errors.New("index load: an event id is empty")
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index load: %w", err)
	}
	g.mu.Lock()
	x := g.index
	g.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.present, x.token = true, token
	x.starts = make(map[string]time.Time, len(starts))
	x.entries = make([]indexEntry, 0, len(starts))
	for id, start := range starts {
		x.starts[id] = start.UTC()
		x.entries = append(x.entries, indexEntry{start: start.UTC(), id: id})
	}
	slices.SortFunc(x.entries, func(a, b indexEntry) int {
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.id, b.id))
	})
	return nil
}

// IndexPut implements events.Gate. It fails with events.ErrNoState when
// the index is absent (the next IndexLoad brings the event in).
func (g *EventGate) IndexPut(ctx context.Context, id string, start time.Time) error {
	if id == "" {
		return errors.New("index put: event id is required")
	}
	return g.withIndex(ctx, "index put "+id, func(x *eventIndex) error {
		x.put(id, start)
		return nil
	})
}

// IndexDel implements events.Gate. It fails with events.ErrNoState when
// the index is absent.
func (g *EventGate) IndexDel(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("index del: event id is required")
	}
	return g.withIndex(ctx, "index del "+id, func(x *eventIndex) error {
		x.del(id)
		return nil
	})
}

// IndexToken implements events.Gate.
func (g *EventGate) IndexToken(ctx context.Context) (string, error) {
	var token string
	err := g.withIndex(ctx, "index token", func(x *eventIndex) error {
		token = x.token
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// SetIndexToken implements events.Gate. It fails with events.ErrNoState
// when the index is absent: a token alone must not make a partial index
// look present.
func (g *EventGate) SetIndexToken(ctx context.Context, token string) error {
	return g.withIndex(ctx, "set index token", func(x *eventIndex) error {
		x.token = token
		return nil
	})
}
