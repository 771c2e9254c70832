// Package memgate is the in-process stand-in for the Redis gate: a
// booking.Gate whose state lives in this process, for the embedded
// default (one replica, nothing else installed) and for tests.
//
// It keeps the same promises as internal/redisgate and passes the same
// contract suite (internal/gatetest): every method is atomic for one
// room (a mutex per room), holds expire by a clock (WithClock injects
// one), a room has no state until Load (booking.ErrNoState), and Flush
// drops everything at once like a FLUSHALL.
//
// Busy is answered from a list of intervals sorted by start: a binary
// search bounded by the longest interval, as in Redis, with intervals
// longer than a day kept apart so they do not widen every search.
package memgate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// long is the length above which an interval is kept in the long list.
const long = 24 * time.Hour

// Gate is booking.Gate in memory. It is safe for concurrent use; it is
// not shared between processes.
type Gate struct {
	now func() time.Time

	mu    sync.Mutex
	rooms map[string]*room
	seq   atomic.Uint64 // lock tokens
	vseq  atomic.Uint64 // room versions, unique across rooms and flushes
}

var _ booking.Gate = (*Gate)(nil)

// Option configures a Gate.
type Option func(*Gate)

// WithClock makes the Gate read time from now (default time.Now): hold
// and lock expiry follow it.
func WithClock(now func() time.Time) Option {
	return func(g *Gate) { g.now = now }
}

// New returns an empty Gate: every room has no state until Load.
func New(opts ...Option) *Gate {
	g := &Gate{now: time.Now, rooms: map[string]*room{}}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Flush drops the state, holds and locks of every room at once, as
// FLUSHALL does to Redis. A call running concurrently completes on the
// state as it was before the flush.
func (g *Gate) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rooms = map[string]*room{}
}

type room struct {
	mu      sync.Mutex
	ver     uint64 // changes with the busy intervals and holds (Version)
	present bool
	token   string
	objs    map[string]booking.ObjectState
	busy    index
	holds   map[string]hold
	lock    *lock
}

type hold struct {
	expires time.Time
	busy    []booking.Busy // Ref is the hold id, Kind hold
}

type lock struct {
	token   uint64
	expires time.Time
}

// room returns r locked, with expired holds purged; the caller unlocks.
func (g *Gate) room(id string) (*room, time.Time) {
	g.mu.Lock()
	r := g.rooms[id]
	if r == nil {
		r = &room{objs: map[string]booking.ObjectState{}, holds: map[string]hold{}, ver: g.vseq.Add(1)}
		g.rooms[id] = r
	}
	g.mu.Unlock()
	r.mu.Lock()
	now := g.now()
	for id, h := range r.holds {
		if !now.Before(h.expires) {
			delete(r.holds, id)
		}
	}
	return r, now
}

// Claim implements booking.Gate. A live hold with the same HoldID is the
// claimant's own: it does not clash, and is replaced.
func (g *Gate) Claim(ctx context.Context, roomID string, c booking.Claim) error {
	if err := c.Validate(roomID); err != nil {
		return fmt.Errorf("claim %s: %w", roomID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("claim %s: %w", roomID, err)
	}
	r, now := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return fmt.Errorf("claim %s: %w", roomID, booking.ErrNoState)
	}
	if cs := r.clashes(c.Intervals, c.Buffer, c.Ignore, c.HoldID); len(cs) > 0 {
		return &booking.ConflictError{Room: roomID, Conflicts: cs}
	}
	h := hold{expires: now.Add(c.TTL), busy: make([]booking.Busy, len(c.Intervals))}
	for i, b := range c.Intervals {
		b.Ref, b.Kind = c.HoldID, booking.KindHold
		h.busy[i] = b
	}
	r.holds[c.HoldID] = h
	r.ver = g.vseq.Add(1)
	return nil
}

// clashes lists, once each and sorted, the busy intervals (except those
// of ignoreRef) and live holds (except ignoreHold) that overlap any of
// claimed widened by buffer.
func (r *room) clashes(claimed []booking.Busy, buffer time.Duration, ignoreRef, ignoreHold string) []booking.Busy {
	type key struct {
		ref        string
		start, end int64
		title, org string
		kind       booking.Kind
	}
	seen := map[key]bool{}
	var out []booking.Busy
	add := func(b booking.Busy) {
		k := key{b.Ref, b.Start.UnixNano(), b.End.UnixNano(), b.Title, b.Organizer, b.Kind}
		if !seen[k] {
			seen[k] = true
			out = append(out, b)
		}
	}
	for _, c := range claimed {
		r.busy.overlapping(c.Start.Add(-buffer), c.End.Add(buffer), func(b booking.Busy) {
			if ignoreRef == "" || b.Ref != ignoreRef {
				add(b)
			}
		})
		for id, h := range r.holds {
			if id == ignoreHold {
				continue
			}
			for _, b := range h.busy {
				if b.Overlaps(c.Start, c.End, buffer) {
					add(b)
				}
			}
		}
	}
	booking.SortBusy(out)
	return out
}

// Commit implements booking.Gate.
func (g *Gate) Commit(ctx context.Context, roomID, holdID, ref, etag string, busy []booking.Busy, buffer time.Duration) error {
	if err := booking.ValidateCommit(roomID, ref, busy, buffer); err != nil {
		return fmt.Errorf("commit %s: %w", roomID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return fmt.Errorf("commit %s: %w", roomID, booking.ErrNoState)
	}
	if _, held := r.holds[holdID]; held && holdID != "" {
		delete(r.holds, holdID)
	} else if cs := r.clashes(busy, buffer, ref, ""); len(cs) > 0 {
		return &booking.ConflictError{Room: roomID, Conflicts: cs}
	}
	r.put(ref, booking.ObjectState{ETag: etag, Busy: busy})
	r.ver = g.vseq.Add(1)
	return nil
}

// put replaces object ref.
func (r *room) put(ref string, o booking.ObjectState) {
	r.remove(ref)
	bs := make([]booking.Busy, len(o.Busy))
	for i, b := range o.Busy {
		b.Ref = ref
		bs[i] = b
		r.busy.add(b)
	}
	r.objs[ref] = booking.ObjectState{ETag: o.ETag, Busy: bs}
}

// remove drops object ref, if known.
// etagOf returns the ETag the room knows for ref.
func (r *room) etagOf(ref string) (string, bool) {
	o, ok := r.objs[ref]
	return o.ETag, ok
}

func (r *room) remove(ref string) {
	if old, ok := r.objs[ref]; ok {
		for _, b := range old.Busy {
			r.busy.remove(b)
		}
		delete(r.objs, ref)
	}
}

// Release implements booking.Gate.
func (g *Gate) Release(ctx context.Context, roomID, holdID string) error {
	if roomID == "" || holdID == "" {
		return fmt.Errorf("release %s: room and hold id are required", roomID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("release %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if _, ok := r.holds[holdID]; !ok {
		return fmt.Errorf("release %s hold %s: %w", roomID, holdID, booking.ErrHoldLost)
	}
	delete(r.holds, holdID)
	r.ver = g.vseq.Add(1)
	return nil
}

// Busy implements booking.Gate.
func (g *Gate) Busy(ctx context.Context, roomID string, from, to time.Time) ([]booking.Busy, error) {
	if roomID == "" || !to.After(from) {
		return nil, fmt.Errorf("busy %s: need a room and from before to", roomID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("busy %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return nil, fmt.Errorf("busy %s: %w", roomID, booking.ErrNoState)
	}
	var out []booking.Busy
	r.busy.overlapping(from, to, func(b booking.Busy) { out = append(out, b) })
	for _, h := range r.holds {
		for _, b := range h.busy {
			if b.Overlaps(from, to, 0) {
				out = append(out, b)
			}
		}
	}
	booking.SortBusy(out)
	return out, nil
}

// Token implements booking.Gate.
func (g *Gate) Token(ctx context.Context, roomID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("token %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return "", fmt.Errorf("token %s: %w", roomID, booking.ErrNoState)
	}
	return r.token, nil
}

// Version implements booking.Gate.
func (g *Gate) Version(ctx context.Context, roomID string) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", fmt.Errorf("version %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return "", "", fmt.Errorf("version %s: %w", roomID, booking.ErrNoState)
	}
	return r.token, strconv.FormatUint(r.ver, 10), nil
}

// Objects implements booking.Gate.
func (g *Gate) Objects(ctx context.Context, roomID string) (string, map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, fmt.Errorf("objects %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return "", nil, fmt.Errorf("objects %s: %w", roomID, booking.ErrNoState)
	}
	etags := make(map[string]string, len(r.objs))
	for ref, o := range r.objs {
		etags[ref] = o.ETag
	}
	return r.token, etags, nil
}

// Apply implements booking.Gate. Deletions are applied before puts; an
// empty token keeps the current one.
func (g *Gate) Apply(ctx context.Context, roomID, token string, put map[string]booking.ObjectState, deleted []string, expect map[string]string) error {
	if roomID == "" {
		return errors.New("apply: room is required")
	}
	for ref, o := range put {
		if err := o.Validate(ref); err != nil {
			return fmt.Errorf("apply %s: %w", roomID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply %s: %w", roomID, err)
	}
	r, _ := g.room(roomID)
	defer r.mu.Unlock()
	if !r.present {
		return fmt.Errorf("apply %s: %w", roomID, booking.ErrNoState)
	}
	fenced := func(ref string) bool {
		if expect == nil {
			return true
		}
		want, known := expect[ref]
		cur, has := r.etagOf(ref)
		return known == has && want == cur
	}
	for _, ref := range deleted {
		if fenced(ref) {
			r.remove(ref)
		}
	}
	for ref, o := range put {
		if fenced(ref) {
			r.put(ref, o)
		}
	}
	if token != "" {
		r.token = token
	}
	r.ver = g.vseq.Add(1)
	return nil
}

// Load implements booking.Gate: live holds are kept.
func (g *Gate) Load(ctx context.Context, roomID string, snap booking.Snapshot) error {
	if roomID == "" {
		return errors.New("load: room is required")
	}
	for ref, o := range snap.Objects {
		if err := o.Validate(ref); err != nil {
			return fmt.Errorf("load %s: %w", roomID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("load %s: %w", roomID, err)
	}
	r, now := g.room(roomID)
	defer r.mu.Unlock()
	if snap.Lease != "" {
		if r.lock == nil || !now.Before(r.lock.expires) || strconv.FormatUint(r.lock.token, 10) != snap.Lease {
			return fmt.Errorf("load %s: %w", roomID, booking.ErrLeaseLost)
		}
		if r.present {
			return nil
		}
	}
	r.objs = make(map[string]booking.ObjectState, len(snap.Objects))
	r.busy = index{}
	for ref, o := range snap.Objects {
		r.put(ref, o)
	}
	r.token = snap.Token
	r.present = true
	r.ver = g.vseq.Add(1)
	return nil
}

// Lock implements booking.Gate. The lock expires after ttl by the Gate's
// clock; unlock releases it only if it is still this holder's.
func (g *Gate) Lock(ctx context.Context, roomID string, ttl time.Duration) (booking.Lease, bool, error) {
	if roomID == "" || ttl <= 0 {
		return booking.Lease{}, false, fmt.Errorf("lock %s: need a room and a positive ttl", roomID)
	}
	if err := ctx.Err(); err != nil {
		return booking.Lease{}, false, fmt.Errorf("lock %s: %w", roomID, err)
	}
	r, now := g.room(roomID)
	defer r.mu.Unlock()
	lease, ok := takeLock(&r.mu, &r.lock, now, ttl, &g.seq)
	return lease, ok, nil
}

// takeLock sets *slot to a new lock expiring after ttl, unless a live one
// is there; the caller holds mu, which the lease's Release takes again
// to give the lock back only if it is still this holding's.
func takeLock(mu *sync.Mutex, slot **lock, now time.Time, ttl time.Duration, tokens *atomic.Uint64) (booking.Lease, bool) {
	if *slot != nil && now.Before((*slot).expires) {
		return booking.Lease{}, false
	}
	token := tokens.Add(1)
	*slot = &lock{token: token, expires: now.Add(ttl)}
	release := func() {
		mu.Lock()
		defer mu.Unlock()
		if *slot != nil && (*slot).token == token {
			*slot = nil
		}
	}
	return booking.Lease{ID: strconv.FormatUint(token, 10), Release: release}, true
}

// index holds busy intervals sorted by start. Intervals up to a day long
// are in short, whose longest is maxShort (it only grows until the next
// Load: it is a bound); longer ones are in longs, scanned whole.
type index struct {
	short    []booking.Busy
	maxShort time.Duration
	longs    []booking.Busy
}

func (x *index) add(b booking.Busy) {
	if b.End.Sub(b.Start) > long {
		x.longs = append(x.longs, b)
		return
	}
	if d := b.End.Sub(b.Start); d > x.maxShort {
		x.maxShort = d
	}
	i := sort.Search(len(x.short), func(i int) bool { return !x.short[i].Start.Before(b.Start) })
	x.short = append(x.short, booking.Busy{})
	copy(x.short[i+1:], x.short[i:])
	x.short[i] = b
}

func (x *index) remove(b booking.Busy) {
	if b.End.Sub(b.Start) > long {
		for i, l := range x.longs {
			if l == b {
				x.longs = append(x.longs[:i], x.longs[i+1:]...)
				return
			}
		}
		return
	}
	i := sort.Search(len(x.short), func(i int) bool { return !x.short[i].Start.Before(b.Start) })
	for ; i < len(x.short) && x.short[i].Start.Equal(b.Start); i++ {
		if x.short[i] == b {
			x.short = append(x.short[:i], x.short[i+1:]...)
			return
		}
	}
}

// overlapping calls fn for each interval overlapping [from, to), short
// ones in start order.
func (x *index) overlapping(from, to time.Time, fn func(booking.Busy)) {
	lo := from.Add(-x.maxShort)
	i := sort.Search(len(x.short), func(i int) bool { return x.short[i].Start.After(lo) })
	for ; i < len(x.short) && x.short[i].Start.Before(to); i++ {
		if x.short[i].End.After(from) {
			fn(x.short[i])
		}
	}
	for _, b := range x.longs {
		if b.Overlaps(from, to, 0) {
			fn(b)
		}
	}
}
