package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// indexLock names the lock that keeps the events calendar's sync (and
// the index rebuild) to one replica at a time.
const indexLock = "~index"

// lockWait bounds how long a reader waits for another replica's rebuild.
const lockWait = 15 * time.Second

// state returns the event's state, rebuilding it from the calendar when
// the gate has none.
func (s *Service) state(ctx context.Context, id string) (State, error) {
	for attempt := 0; ; attempt++ {
		st, err := s.g.State(ctx, id)
		if !errors.Is(err, ErrNoState) || attempt == 3 {
			if err != nil {
				return State{}, fmt.Errorf("event %s: %w", id, gateErr(err))
			}
			return st, nil
		}
		if err := s.rebuild(ctx, id); err != nil {
			return State{}, err
		}
	}
}

// lock takes the write lock of key, waiting while another holds it. done
// is asked first and after every wake: once it says the work is done
// (another replica rebuilt the state meanwhile), lock returns ok false
// without the lock. A waiter wakes on the gate's notices (the lock
// released, a state loaded, a write recorded), not on a timer; the
// notices of key's flusher writing again and again wake it too, so it
// sees a state rebuilt by that writer at once instead of waiting for a
// lock the writer keeps taking back.
func (s *Service) lock(ctx context.Context, key string, done func(context.Context) bool) (booking.Lease, bool, error) {
	w := s.g.Watch(key)
	defer w.Stop()
	deadline := time.NewTimer(lockWait)
	defer deadline.Stop()
	for {
		if done(ctx) {
			return booking.Lease{}, false, nil
		}
		lease, ok, err := s.g.Lock(ctx, key, s.lockTTL())
		if err != nil {
			return booking.Lease{}, false, fmt.Errorf("lock %s: %w", key, err)
		}
		if ok {
			if done(ctx) { // done between the look and the lock
				lease.Release()
				return booking.Lease{}, false, nil
			}
			return lease, true, nil
		}
		fallback := time.NewTimer(booking.NoticeFallback)
		select {
		case <-ctx.Done():
			fallback.Stop()
			return booking.Lease{}, false, ctx.Err()
		case <-deadline.C:
			fallback.Stop()
			return booking.Lease{}, false, fmt.Errorf("lock %s: still held after %v: %w", key, lockWait, booking.ErrUnavailable)
		case <-w.C:
		case <-fallback.C:
		}
		fallback.Stop()
	}
}

// rebuild reads the event's object and installs it in the gate, under
// the event's lock so that no older reading replaces a newer state. A
// state another caller installs while this one waits ends the wait.
func (s *Service) rebuild(ctx context.Context, id string) error {
	lease, locked, err := s.lock(ctx, id, func(ctx context.Context) bool {
		_, err := s.g.Progress(ctx, id)
		return err == nil
	})
	if err != nil || !locked {
		return err
	}
	defer lease.Release()
	rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
	rec, err := s.cal.Read(rctx, id)
	cancel()
	if err != nil {
		return fmt.Errorf("rebuild event %s: %w", id, err)
	}
	if err := s.g.Load(ctx, id, stateOf(rec), lease.ID); err != nil {
		return fmt.Errorf("rebuild event %s: %w", id, gateErr(err))
	}
	s.log.InfoContext(ctx, "event state rebuilt from the calendar", "event", id, "registrations", len(rec.Registrations))
	return nil
}

// indexRange lists the ids of events starting in [from, to), rebuilding
// the index when the gate lost it.
func (s *Service) indexRange(ctx context.Context, from, to time.Time) ([]string, error) {
	ids, err := s.g.IndexRange(ctx, from, to)
	if errors.Is(err, ErrNoState) {
		if err := s.rebuildIndex(ctx); err != nil {
			return nil, err
		}
		ids, err = s.g.IndexRange(ctx, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("list events: %w", gateErr(err))
	}
	return ids, nil
}

// rebuildIndex lists the events calendar and installs the index.
func (s *Service) rebuildIndex(ctx context.Context) error {
	lease, locked, err := s.lock(ctx, indexLock, func(ctx context.Context) bool {
		_, err := s.g.IndexToken(ctx)
		return err == nil
	})
	if err != nil || !locked {
		return err
	}
	defer lease.Release()
	return s.loadIndex(ctx)
}

// loadIndex reads every event of the calendar; the caller holds the
// index lock.
func (s *Service) loadIndex(ctx context.Context) error {
	ch, err := s.cal.Changes(ctx, "")
	if err != nil {
		return fmt.Errorf("list events calendar: %w", err)
	}
	starts := make(map[string]time.Time, len(ch.Changed))
	listed := make(map[string]bool, len(ch.Changed))
	for _, ref := range ch.Changed {
		listed[ref.ID] = true
	}
	s.tellDeletedOnLoad(ctx, listed)
	for _, ref := range ch.Changed {
		rec, err := s.cal.Read(ctx, ref.ID)
		if errors.Is(err, booking.ErrNotFound) {
			continue // not an internal event, or gone meanwhile
		}
		if err != nil {
			if errors.Is(err, booking.ErrInvalid) {
				s.log.WarnContext(ctx, "event object cannot be read; left out", "event", ref.ID, "err", err)
				continue
			}
			return fmt.Errorf("read event %s: %w", ref.ID, err)
		}
		starts[ref.ID] = rec.Event.Start
	}
	if err := s.g.IndexLoad(ctx, ch.Token, starts); err != nil {
		return fmt.Errorf("load events index: %w", gateErr(err))
	}
	s.log.InfoContext(ctx, "events index rebuilt from the calendar", "events", len(starts))
	return nil
}

// SyncTimes times the sync passes this process made over the events
// calendar (Sync, when no other replica held the calendar; exported as
// a metric).
func (s *Service) SyncTimes() booking.TimingsSnapshot { return s.syncs.Snapshot() }

// RunSync checks the events calendar for outside edits every
// SyncInterval until ctx ends.
func (s *Service) RunSync(ctx context.Context) {
	t := time.NewTicker(s.opt.SyncInterval)
	defer t.Stop()
	for {
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "events sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync runs one pass over the events calendar: events changed outside
// roomcal are reconciled (attendees added or removed in Nextcloud are
// counted, seats freed go to the waiting list) and written back when the
// reconciliation changed something; deleted events are forgotten. Only
// one replica syncs at a time; the others return at once.
func (s *Service) Sync(ctx context.Context) error {
	lease, ok, err := s.g.Lock(ctx, indexLock, s.lockTTL())
	if err != nil || !ok {
		return err
	}
	defer lease.Release()
	defer func(start time.Time) { s.syncs.Observe(time.Since(start)) }(time.Now())
	token, err := s.g.IndexToken(ctx)
	if errors.Is(err, ErrNoState) {
		return s.loadIndex(ctx)
	}
	if err != nil {
		return fmt.Errorf("events sync: %w", err)
	}
	ch, err := s.cal.Changes(ctx, token)
	if err != nil {
		return fmt.Errorf("events sync: %w", err)
	}
	complete := true
	listed := make(map[string]bool, len(ch.Changed))
	for _, ref := range ch.Changed {
		listed[ref.ID] = true
		done, err := s.syncEvent(ctx, ref)
		if err != nil {
			s.log.WarnContext(ctx, "event not synced", "event", ref.ID, "err", err)
		}
		complete = complete && done && err == nil
	}
	deleted := ch.Deleted
	if ch.Full {
		all, err := s.g.IndexRange(ctx, time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return fmt.Errorf("events sync: %w", err)
		}
		for _, id := range all {
			if !listed[id] {
				deleted = append(deleted, id)
			}
		}
	}
	for _, id := range deleted {
		done, err := s.syncDeleted(ctx, id)
		if err != nil {
			s.log.WarnContext(ctx, "deleted event not forgotten", "event", id, "err", err)
		}
		complete = complete && done && err == nil
	}
	if !complete {
		return nil // the same changes are listed again next pass
	}
	if err := s.g.SetIndexToken(ctx, ch.Token); err != nil {
		return err
	}
	s.writeRoster(ctx, ch.Token)
	return nil
}

// syncEvent reconciles one changed event. It reports false when the
// event was locked by a writer (it is looked at again next pass).
func (s *Service) syncEvent(ctx context.Context, ref Ref) (bool, error) {
	if st, err := s.g.State(ctx, ref.ID); err == nil && st.ETag == ref.ETag && st.Durable >= st.Ver {
		// Our own write. Its index entry is put again (idempotent): an
		// index rebuilt meanwhile from a listing made before the write
		// (loadIndex racing a create) lacks it, and the event would be
		// missing from the lists and the roster until it changed again.
		if err := s.g.IndexPut(ctx, ref.ID, st.Event.Start); err != nil {
			return false, err
		}
		return true, nil
	}
	lease, ok, err := s.g.Lock(ctx, ref.ID, s.lockTTL())
	if err != nil || !ok {
		return false, err
	}
	defer lease.Release()
	rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
	rec, err := s.cal.Read(rctx, ref.ID)
	cancel()
	if errors.Is(err, booking.ErrNotFound) {
		return true, s.forget(ctx, ref.ID)
	}
	if err != nil {
		return false, err
	}
	if err := s.g.IndexPut(ctx, ref.ID, rec.Event.Start); err != nil {
		return false, err
	}
	if _, err := s.g.State(ctx, ref.ID); errors.Is(err, ErrNoState) {
		return true, nil // rebuilt from the calendar when next needed
	}
	return true, s.flush(ctx, ref.ID, lease, &rec, s.peek(ref.ID))
}

// peek returns the local flusher of id, if one runs, to tell its waiters.
func (s *Service) peek(id string) *flusher {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushers[id]
}

// syncDeleted forgets an event the calendar lists as deleted, once a
// read under the event's lock confirms that its object is gone (a
// listing that missed it must not free its room). It reports false when
// the event was locked by a writer.
func (s *Service) syncDeleted(ctx context.Context, id string) (bool, error) {
	lease, ok, err := s.g.Lock(ctx, id, s.lockTTL())
	if err != nil || !ok {
		return false, err
	}
	defer lease.Release()
	rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
	_, err = s.cal.Read(rctx, id)
	cancel()
	switch {
	case errors.Is(err, booking.ErrNotFound):
		return true, s.forget(ctx, id)
	case err != nil:
		return false, err
	}
	return true, nil // still there: it is listed as changed when it changes
}

// forget drops an event whose object is gone from the calendar, the
// caller holding its lock. The event was deleted outside roomcal (which
// only ever marks its events cancelled), so its room booking would hold
// the room for nobody: it is released first, and if that fails the event
// is kept, to be tried again on the next pass. (After a Redis flush the
// gate no longer knows the event: the roster does, roster.go.)
func (s *Service) forget(ctx context.Context, id string) error {
	st, err := s.g.State(ctx, id)
	if err == nil && s.opt.Deleted != nil && !st.Event.Settings.Cancelled && st.Event.End.After(s.now()) && len(st.Registrations) > 0 {
		if err := s.opt.Deleted(ctx, st.Event, st.Registrations); err != nil {
			return fmt.Errorf("tell the registrants of deleted event %s: %w", id, err)
		}
	}
	if err == nil && st.Event.RoomBooking != "" && s.rooms != nil {
		rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
		err := s.rooms.ReleaseForEvent(rctx, st.Event.RoomBooking)
		cancel()
		if err != nil {
			return fmt.Errorf("free the room of deleted event %s: %w", id, err)
		}
		s.log.InfoContext(ctx, "event deleted outside roomcal: room freed", "event", id, "booking", st.Event.RoomBooking)
	}
	if err := s.g.IndexDel(ctx, id); err != nil {
		s.log.WarnContext(ctx, "deleted event still indexed", "event", id, "err", err)
	}
	if err := s.g.Drop(ctx, id); err != nil {
		s.log.WarnContext(ctx, "deleted event still in the gate", "event", id, "err", err)
	}
	return nil
}
