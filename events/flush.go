package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// How decisions reach the calendar.
//
// A decision of the gate (register, unregister, configure) is taken at
// once, in Redis, and gets a version. The caller then waits until that
// version is durable: written to the event's calendar object. Writing is
// done by whichever replica holds the event's write lock, for every
// change pending at the time, whoever took it: while one conditional PUT
// is on its way, the decisions taken meanwhile pile up and go together
// in the next one. So a burst of 500 registrations on one event costs a
// handful of PUTs, not 500.
//
// In each process one flusher per event does this on behalf of all the
// local callers waiting on that event: it takes the lock when it is free
// and writes, or else, while another replica writes, sleeps until the
// gate's notices say a write was recorded, rolled back or the lock
// released (or a local caller joins), then reads Progress and tells its
// waiters. A write that certainly failed (the calendar server refused
// it, or could not be reached) rolls every pending change back in the
// gate, so seats go back and waiting callers get ErrRolledBack (503); a
// write that finds another version (412) re-reads the object, reconciles
// what changed outside roomcal, and writes again.
//
// A write whose outcome is unknown (it timed out, or its connection
// broke: the server may have stored it, or may store it when it resumes)
// is not rolled back: its seats stay taken and the writer, keeping the
// event's lock, reads the object until it knows (learn). Written: the
// decisions are durable and their callers are answered. Not there
// booking.SettleGrace after the server first answered again: it is
// written again. Callers wait at most settleWait; one answered 503
// meanwhile finds their registration once it is written, as a member
// whose booking's answer was lost finds their booking.

// lockTTL bounds how long a dead writer keeps an event locked.
func (s *Service) lockTTL() time.Duration { return 3 * s.opt.WriteTimeout }

// settleWait bounds how long a caller waits for its decision to be
// written: a write and the read that learns its outcome.
func (s *Service) settleWait() time.Duration { return 2 * s.opt.WriteTimeout }

// errOutcomeUnknown: a write of the event's object may or may not have
// been stored; its changes stay pending until the writer knows.
var errOutcomeUnknown = errors.New("events: outcome of the calendar write unknown")

// decide runs a decision of the gate and waits until it is durable. A
// decision lost in a flush of the gate is taken again on the rebuilt
// state (register and unregister are idempotent).
func (s *Service) decide(ctx context.Context, id string, fn func(context.Context) (Outcome, error)) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		var out Outcome
		out, err = s.withState(ctx, id, fn)
		if err != nil {
			return err
		}
		if out.Ver == 0 {
			return nil
		}
		sctx, cancel := context.WithTimeout(ctx, s.settleWait())
		err = s.settle(sctx, id, out.Gen, out.Ver)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("event %s: not written within %v (it will be once the calendar answers): %w", id, s.settleWait(), booking.ErrUnavailable)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNoState):
			continue
		case errors.Is(err, ErrRolledBack):
			return fmt.Errorf("event %s: %w: %w", id, booking.ErrUnavailable, err)
		default:
			return fmt.Errorf("event %s: %w", id, err)
		}
	}
	return fmt.Errorf("event %s: state lost again and again: %w: %w", id, booking.ErrUnavailable, err)
}

// withState runs fn, rebuilding the event's state from the calendar
// when the gate has none.
func (s *Service) withState(ctx context.Context, id string, fn func(context.Context) (Outcome, error)) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := fn(ctx)
		if !errors.Is(err, ErrNoState) || attempt == 3 {
			if err != nil {
				return out, fmt.Errorf("event %s: %w", id, gateErr(err))
			}
			return out, nil
		}
		if err := s.rebuild(ctx, id); err != nil {
			return Outcome{}, err
		}
	}
}

// gateErr keeps the domain's errors and makes a lost state "try again".
func gateErr(err error) error {
	if errors.Is(err, ErrNoState) || errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
	}
	return err
}

// flusher writes one event's pending changes for the callers of this
// process that wait on it.
type flusher struct {
	id string

	mu      sync.Mutex
	waiters int
	seq     uint64 // publications so far
	p       Progress
	err     error
	changed chan struct{} // closed at the next publication

	// kick wakes the flusher when a local caller joins or leaves.
	kick chan struct{}
}

func (f *flusher) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// publish tells the waiters where the event stands.
func (f *flusher) publish(p Progress, err error) {
	f.mu.Lock()
	f.seq++
	f.p, f.err = p, err
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// settle waits until change ver of generation gen is durable (nil),
// rolled back (ErrRolledBack) or lost in a flush (ErrNoState).
func (s *Service) settle(ctx context.Context, id, gen string, ver int64) error {
	f := s.join(id)
	defer s.leave(f)
	f.mu.Lock()
	seen := f.seq
	f.mu.Unlock()
	for {
		f.mu.Lock()
		fresh, p, perr, ch := f.seq > seen, f.p, f.err, f.changed
		f.mu.Unlock()
		// Only publications made after the decision count: an older one
		// may name the generation before a flush.
		if fresh {
			if perr != nil {
				return perr
			}
			done, err := p.Settle(gen, ver)
			if err != nil || done {
				return err
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			// The flusher goes on: the change will still be written (or
			// rolled back) for whoever looks next.
			return ctx.Err()
		}
	}
}

// join registers a waiter on id's flusher, starting it if needed.
func (s *Service) join(id string) *flusher {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flushers[id]
	if !ok {
		f = &flusher{id: id, changed: make(chan struct{}), kick: make(chan struct{}, 1)}
		s.flushers[id] = f
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			s.runFlusher(f)
		}()
	}
	f.mu.Lock()
	f.waiters++
	f.mu.Unlock()
	f.wake()
	return f
}

func (s *Service) leave(f *flusher) {
	f.mu.Lock()
	f.waiters--
	f.mu.Unlock()
	f.wake()
}

// errClosing is what waiters are told when the service closes under
// them.
var errClosing = fmt.Errorf("events: service closing: %w", booking.ErrUnavailable)

// failureBackoff is how long a flusher waits before trying again a
// calendar or a gate that failed.
const failureBackoff = 50 * time.Millisecond

// runFlusher writes or watches until no local caller waits, or the
// service closes.
func (s *Service) runFlusher(f *flusher) {
	ctx := s.life
	w := s.g.Watch(f.id)
	defer w.Stop()
	for {
		if ctx.Err() != nil {
			s.mu.Lock()
			delete(s.flushers, f.id)
			s.mu.Unlock()
			f.publish(Progress{}, errClosing)
			return
		}
		lease, locked, err := s.g.Lock(ctx, f.id, s.lockTTL())
		var ferr error
		if err == nil && locked {
			ferr = s.flush(ctx, f.id, lease, nil, f)
			lease.Release()
		}
		p, perr := s.g.Progress(ctx, f.id)
		if perr == nil && err != nil {
			perr = err
		}
		if perr != nil && ctx.Err() != nil {
			// Closed while asking: the waiters hear that the service is
			// closing (unavailable), not a bare context.Canceled.
			perr = errClosing
		}
		f.publish(p, gateErr(perr))

		s.mu.Lock()
		f.mu.Lock()
		// Changes whose write's outcome is unknown, or left pending by
		// this writer, are written even when their callers gave up
		// waiting: they were decided, and their seats are taken.
		pending := errors.Is(ferr, errOutcomeUnknown) || (locked && perr == nil && p.Durable < p.Ver)
		idle := f.waiters == 0 && !pending
		f.mu.Unlock()
		if idle {
			delete(s.flushers, f.id)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		wait := booking.NoticeFallback
		switch {
		case ferr != nil || perr != nil || err != nil:
			// The calendar or the gate is failing: do not hammer it.
			wait = failureBackoff
		case locked && p.Durable < p.Ver:
			// Decided while we wrote: write again at once.
			continue
		}
		// Another replica is writing, or everything is written and the
		// waiters are leaving: sleep until a notice (that replica's
		// write recorded or its lock released), a local caller joining
		// or leaving, or the bound.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-w.C:
		case <-f.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// flush writes the event's pending changes while holding lease. rec is
// the object as just read, or nil to read it. f, when not nil, is told
// after each write. It returns once nothing is pending, after a bounded
// time (the lock would expire), or on failure, after rolling the pending
// changes back.
func (s *Service) flush(ctx context.Context, id string, lease booking.Lease, rec *Record, f *flusher) error {
	deadline := time.Now().Add(s.opt.WriteTimeout)
	for round := 0; time.Now().Before(deadline); round++ {
		if rec == nil {
			rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
			r, err := s.cal.Read(rctx, id)
			cancel()
			if err != nil {
				err = s.fail(ctx, id, lease, fmt.Errorf("read event %s: %w", id, err))
				if errors.Is(err, booking.ErrNotFound) {
					// Deleted from the calendar: callers get "not found"
					// from now on rather than "try again".
					if ferr := s.forget(ctx, id); ferr != nil {
						s.log.WarnContext(ctx, "deleted event kept for the next sync pass", "event", id, "err", ferr)
					}
				}
				return err
			}
			rec = &r
		}
		st, err := s.g.Reconcile(ctx, id, rec.ETag, rec.Event, rec.Registrations, s.now())
		if errors.Is(err, ErrNoState) {
			// Flushed: the object just read is the record; install it
			// while we hold the lock. Waiters see a new generation and
			// decide again.
			return s.g.Load(ctx, id, stateOf(*rec), lease.ID)
		}
		if err != nil {
			return fmt.Errorf("reconcile event %s: %w", id, err)
		}
		if st.Durable >= st.Ver {
			if rec.ETag != st.ETag {
				// Changed outside roomcal, nothing of ours to add: adopt
				// that version.
				if err := s.g.Written(ctx, id, st.Gen, st.Ver, rec.ETag); err != nil && !errors.Is(err, ErrNoState) {
					return err
				}
			}
			return nil
		}
		out := *rec
		out.Event, out.Registrations, out.Gen, out.Ver = st.Event, st.Registrations, st.Gen, st.Ver
		carryTold(out.Registrations, rec.Registrations, out.Event)
		wctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		etag, err := s.cal.Update(wctx, out)
		cancel()
		if errors.Is(err, booking.ErrStale) {
			s.stale.Add(1)
			rec = nil // changed meanwhile: read, reconcile, write again
			continue
		}
		if err != nil && booking.OutcomeUnknown(err) {
			s.unknown.Add(1)
			s.log.WarnContext(ctx, "event write outcome unknown: its changes stay pending until the calendar says",
				"event", id, "ver", st.Ver, "err", err)
			landed, ok, lerr := s.learn(ctx, id, lease, st.Gen, st.Ver)
			if lerr != nil {
				return fmt.Errorf("write event %s: %w: %w", id, errOutcomeUnknown, lerr)
			}
			if !ok {
				// Not stored: write again from the object as it is.
				rec = &landed
				continue
			}
			etag, err = landed.ETag, nil
		}
		if err != nil {
			return s.fail(ctx, id, lease, fmt.Errorf("write event %s: %w", id, err))
		}
		s.writes.Add(1)
		s.changed(id)
		if err := s.g.Written(ctx, id, st.Gen, st.Ver, etag); err != nil {
			return fmt.Errorf("record write of event %s: %w", id, err)
		}
		out.ETag = etag
		rec = &out
		if f != nil {
			p, perr := s.g.Progress(ctx, id)
			if perr != nil && ctx.Err() != nil {
				perr = errClosing // f's context is the service's life
			}
			f.publish(p, gateErr(perr))
		}
	}
	return nil
}

// learn finds out whether the write of version ver of generation gen,
// whose answer was lost, is on the calendar, keeping the event's lock
// meanwhile. It reads the object, each read with a deadline of its own,
// until it finds that version (ok), or until the server has answered for
// booking.SettleGrace without it (not ok: the write never landed, and a
// write a frozen server held lands within moments of its resuming); rec
// is then the object as it is. It fails, without knowing, when the
// service closes, the lock is lost or the object is gone.
func (s *Service) learn(ctx context.Context, id string, lease booking.Lease, gen string, ver int64) (Record, bool, error) {
	var answeredAt time.Time
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		held, err := lease.Extend(ctx, s.lockTTL())
		if err != nil {
			return Record{}, false, fmt.Errorf("keep the lock of event %s: %w", id, err)
		}
		if !held {
			return Record{}, false, fmt.Errorf("keep the lock of event %s: %w", id, ErrLeaseLost)
		}
		rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		rec, err := s.cal.Read(rctx, id)
		cancel()
		switch {
		case err == nil && rec.Gen == gen && rec.Ver >= ver:
			s.log.InfoContext(ctx, "event write whose answer was lost is on the calendar", "event", id, "ver", ver)
			return rec, true, nil
		case err == nil && answeredAt.IsZero():
			answeredAt = time.Now()
		case err == nil && time.Since(answeredAt) >= booking.SettleGrace:
			s.log.InfoContext(ctx, "event write whose answer was lost never landed: writing again", "event", id, "ver", ver)
			return rec, false, nil
		case errors.Is(err, booking.ErrNotFound):
			return Record{}, false, fmt.Errorf("learn write of event %s: %w", id, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Record{}, false, ctx.Err()
		case <-t.C:
		}
	}
}

// fail rolls back what could not be written.
func (s *Service) fail(ctx context.Context, id string, lease booking.Lease, cause error) error {
	p, err := s.g.Progress(ctx, id)
	if err != nil {
		return fmt.Errorf("%w (and progress: %v)", cause, err)
	}
	if p.Durable >= p.Ver {
		return cause
	}
	if err := s.g.Rollback(ctx, id, p.Gen, lease.ID); err != nil {
		s.log.WarnContext(ctx, "pending event changes not rolled back", "event", id, "err", err)
		return fmt.Errorf("%w (and rollback: %v)", cause, err)
	}
	s.rollbacks.Add(1)
	s.log.WarnContext(ctx, "event changes rolled back: calendar write failed",
		"event", id, "from", p.Durable, "to", p.Ver, "err", cause)
	return cause
}

// stateOf is the gate state an object read from the calendar gives.
func stateOf(rec Record) State {
	return State{ETag: rec.ETag, Event: rec.Event, Registrations: rec.Registrations}
}
