package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The gate's change token for a room carries, besides the calendar's own
// token, the window the cached intervals were expanded over and when the
// room was last synced, so that every replica can tell how fresh the
// shared copy is: "v1|windowStart|windowEnd|syncedAt|calendarToken"
// (Unix seconds).
type stateToken struct {
	window   Interval
	syncedAt time.Time
	calendar string
}

func (t stateToken) String() string {
	return fmt.Sprintf("v1|%d|%d|%d|%s", t.window.Start.Unix(), t.window.End.Unix(), t.syncedAt.Unix(), t.calendar)
}

func parseStateToken(s string) (stateToken, bool) {
	parts := strings.SplitN(s, "|", 5)
	if len(parts) != 5 || parts[0] != "v1" {
		return stateToken{}, false
	}
	var n [3]int64
	for i := range n {
		v, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil {
			return stateToken{}, false
		}
		n[i] = v
	}
	return stateToken{
		window:   Interval{Start: time.Unix(n[0], 0), End: time.Unix(n[1], 0)},
		syncedAt: time.Unix(n[2], 0),
		calendar: parts[4],
	}, true
}

// withState runs fn, and when the gate has no state for the room, rebuilds
// it from the calendar and runs fn again.
//
// A *NoStateError names another room to rebuild (a room of a quota's
// scope, whose bookings the claim counts).
func (s *Service) withState(ctx context.Context, p place, fn func() error) error {
	err := fn()
	for attempt := 0; attempt < 3+len(s.scopeRooms(p)) && errors.Is(err, ErrNoState); attempt++ {
		q := p
		var ns *NoStateError
		if errors.As(err, &ns) {
			o, perr := s.place(ns.Room)
			if perr != nil {
				return perr
			}
			q = o
		}
		if rerr := s.rebuild(ctx, q); rerr != nil {
			return rerr
		}
		err = fn()
	}
	if errors.Is(err, ErrNoState) {
		// The gate keeps losing its state (flushed again and again):
		// nothing can be decided now, the caller may retry.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// rebuild loads the room's state from its calendar. Only one replica
// reads the calendar (the one that takes the refresh lock); the others
// wait for its result, waking when the gate's notices say the state was
// installed or the lock released (or, should a notice be lost, after
// NoticeFallback), and take over if the reader died.
func (s *Service) rebuild(ctx context.Context, p place) error {
	w := s.g.Watch(p.room.ID)
	defer w.Stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		lease, ok, err := s.g.Lock(ctx, p.room.ID, time.Minute)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", p.room.ID, err)
		}
		if ok {
			defer lease.Release()
			return s.load(ctx, p, lease)
		}
		// Installed by the holder already (it may be syncing now)?
		switch _, err := s.g.Token(ctx, p.room.ID); {
		case err == nil:
			return nil
		case !errors.Is(err, ErrNoState):
			return fmt.Errorf("rebuild %s: %w", p.room.ID, err)
		}
		fallback := time.NewTimer(NoticeFallback)
		select {
		case <-ctx.Done():
			fallback.Stop()
			return ctx.Err()
		case <-deadline.C:
			fallback.Stop()
			return fmt.Errorf("room %s: waited 30s for another replica's rebuild: %w", p.room.ID, ErrUnavailable)
		case <-w.C:
		case <-fallback.C:
		}
		fallback.Stop()
	}
}

// load reads the whole calendar of a room and installs it as the gate's
// state for a room that has none. The lease, taken before reading, makes
// the gate refuse the snapshot if it was flushed meanwhile: the snapshot
// could then miss a booking acknowledged after the reading began. The
// caller (withState) then finds no state and reads again.
func (s *Service) load(ctx context.Context, p place, lease Lease) error {
	start := s.now()
	w := s.window()
	snap, problems, err := s.cal.Read(ctx, p.room, p.site.Location, w)
	if err != nil {
		return fmt.Errorf("read calendar of %s: %w", p.room.ID, err)
	}
	s.setProblems(p.room.ID, problems, true)
	s.tellMovedOnLoad(ctx, p, snap.Objects)
	s.tellDeletedOnLoad(ctx, p, snap.Objects)
	snap.Token = stateToken{window: w, syncedAt: s.now(), calendar: snap.Token}.String()
	snap.Lease = lease.ID
	err = s.g.Load(ctx, p.room.ID, snap)
	if errors.Is(err, ErrLeaseLost) {
		s.log.InfoContext(ctx, "room state changed while its calendar was read; not installed", "room", p.room.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", p.room.ID, err)
	}
	s.log.InfoContext(ctx, "room state rebuilt from its calendar", "room", p.room.ID, "objects", len(snap.Objects), "took", s.now().Sub(start))
	return nil
}

// refresh reads the whole calendar again over a new window while the
// gate has state (the daily slide of the window). Unlike load it goes
// through a fenced Apply, so that a booking committed while the calendar
// was being read is not undone by the older reading.
func (s *Service) refresh(ctx context.Context, p place, known map[string]string) error {
	w := s.window()
	snap, problems, err := s.cal.Read(ctx, p.room, p.site.Location, w)
	if err != nil {
		return fmt.Errorf("read calendar of %s: %w", p.room.ID, err)
	}
	s.setProblems(p.room.ID, problems, true)
	s.tellMovedOnLoad(ctx, p, snap.Objects)
	var deleted []string
	for ref := range known {
		if _, ok := snap.Objects[ref]; !ok && !s.hasProblem(p.room.ID, ref) {
			deleted = append(deleted, ref)
		}
	}
	tok := stateToken{window: w, syncedAt: s.now(), calendar: snap.Token}
	if err := s.g.Apply(ctx, p.room.ID, tok.String(), snap.Objects, deleted, known); err != nil {
		return fmt.Errorf("refresh %s: %w", p.room.ID, err)
	}
	return nil
}

// SyncRoom brings the gate's copy of one room's calendar up to date, if
// no other replica is doing it: changes since the last token are applied,
// and the whole calendar is read again when the gate lost its state or
// the cached window must slide forward (daily).
func (s *Service) SyncRoom(ctx context.Context, roomID string) error {
	p, err := s.place(roomID)
	if err != nil {
		return err
	}
	lease, ok, err := s.g.Lock(ctx, roomID, s.opt.SyncInterval+time.Minute)
	if err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	if !ok {
		return nil
	}
	defer lease.Release()
	defer func(start time.Time) { s.stats.roomSyncs.Observe(time.Since(start)) }(time.Now())
	raw, known, err := s.g.Objects(ctx, roomID)
	if errors.Is(err, ErrNoState) {
		return s.load(ctx, p, lease)
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	tok, ok := parseStateToken(raw)
	if !ok || s.window().End.Sub(tok.window.End) > 24*time.Hour {
		if err := s.refresh(ctx, p, known); err != nil {
			return err
		}
		s.writeIndex(ctx, p, "")
		return nil
	}
	d, err := s.cal.Changes(ctx, p.room, p.site.Location, tok.calendar, known, tok.window)
	if err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	// An object read again is cleared of its old problem, then given its
	// new one: an object the calendar could not read whole comes in Put
	// too (busy over what is known) and in Problems.
	for ref := range d.Put {
		s.clearProblem(roomID, ref)
	}
	for _, ref := range d.Deleted {
		s.clearProblem(roomID, ref)
	}
	s.setProblems(roomID, d.Problems, false)
	if err := s.tellRemoved(ctx, p, d.Deleted); err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	if err := s.tellChanged(ctx, p, d.Put, known); err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	tok.calendar, tok.syncedAt = d.Token, s.now()
	if err := s.g.Apply(ctx, roomID, tok.String(), d.Put, d.Deleted, known); err != nil {
		return fmt.Errorf("sync %s: %w", roomID, err)
	}
	if len(d.Put) > 0 || len(d.Deleted) > 0 {
		s.log.InfoContext(ctx, "room calendar changed", "room", roomID, "put", len(d.Put), "deleted", len(d.Deleted))
		s.reportOverlaps(ctx, p, d.Put)
	}
	s.writeIndex(ctx, p, d.Token)
	return nil
}

// RunSync syncs every room every SyncInterval until ctx ends.
func (s *Service) RunSync(ctx context.Context) {
	t := time.NewTicker(s.opt.SyncInterval)
	defer t.Stop()
	for {
		start := time.Now()
		// Rooms made in the admin pages since the last pass are in the
		// catalog's current snapshot; retired ones keep being synced
		// (their bookings can still be listed and cancelled).
		rooms, _ := s.cat.Rooms(RoomFilter{Retired: true})
		for _, r := range rooms {
			rctx, cancel := context.WithTimeout(ctx, s.opt.SyncInterval+time.Minute)
			if err := s.SyncRoom(rctx, r.ID); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "sync failed", "room", r.ID, "err", err)
			}
			if p, err := s.place(r.ID); err == nil {
				if err := s.sweepLapsed(rctx, p); err != nil && ctx.Err() == nil {
					s.log.WarnContext(ctx, "sweep of lapsed requests failed", "room", r.ID, "err", err)
				}
				if err := s.sweepNoShows(rctx, p); err != nil && ctx.Err() == nil {
					s.log.WarnContext(ctx, "sweep of no-shows failed", "room", r.ID, "err", err)
				}
			}
			cancel()
		}
		s.stats.syncPasses.Observe(time.Since(start))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) setProblems(room string, ps []ObjectProblem, replace bool) {
	for _, p := range ps {
		s.log.Warn("calendar object cannot be read", "room", room, "object", p.Ref, "err", p.Err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []ObjectProblem
	if !replace {
		next = append(next, s.problems[room]...)
	}
	for _, p := range ps {
		kept := next[:0]
		for _, old := range next {
			if old.Ref != p.Ref {
				kept = append(kept, old)
			}
		}
		next = append(kept, p)
	}
	s.putProblems(room, next)
}

// putProblems sets room's problems; the generation, part of every
// availability answer's key, moves only when they changed, so that a
// sync pass finding the same problems (or none again) keeps the answers.
// The caller holds s.mu.
func (s *Service) putProblems(room string, next []ObjectProblem) {
	if sameProblems(s.problems[room], next) {
		return
	}
	s.problemsGen++
	s.problems[room] = next
}

// sameProblems compares two lists of problems, in any order.
func sameProblems(a, b []ObjectProblem) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]string, len(a))
	for _, p := range a {
		seen[p.Ref] = fmt.Sprint(p.Err)
	}
	for _, p := range b {
		if e, ok := seen[p.Ref]; !ok || e != fmt.Sprint(p.Err) {
			return false
		}
	}
	return true
}

func (s *Service) hasProblem(room, ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.problems[room] {
		if p.Ref == ref {
			return true
		}
	}
	return false
}

func (s *Service) clearProblem(room, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kept []ObjectProblem
	for _, p := range s.problems[room] {
		if p.Ref != ref {
			kept = append(kept, p)
		}
	}
	s.putProblems(room, kept)
}

// tellRemoved tells Options.Removed of the members' bookings deleted
// straight in the calendar, from what the gate knew of them, before the
// gate forgets them: an error leaves the pass to be made again.
func (s *Service) tellRemoved(ctx context.Context, p place, deleted []string) error {
	if s.opt.Removed == nil || len(deleted) == 0 {
		return nil
	}
	gone := make(map[string]bool, len(deleted))
	for _, ref := range deleted {
		gone[ref] = true
	}
	w := s.window()
	busy, err := s.g.Busy(ctx, p.room.ID, w.Start, w.End)
	if err != nil {
		return err
	}
	first := map[string]Busy{}
	for _, b := range busy {
		if !gone[b.Ref] || b.Kind != KindBooking || b.Organizer == "" {
			continue
		}
		if f, ok := first[b.Ref]; !ok || b.Start.Before(f.Start) {
			first[b.Ref] = b
		}
	}
	now := s.now()
	for ref, b := range first {
		if !b.End.After(now) {
			continue // over: nothing to tell
		}
		r := Removal{ID: ref, Room: p.room.ID, Title: b.Title, Start: b.Start, End: b.End, Owner: b.Organizer, By: "calendar"}
		if err := s.opt.Removed(ctx, r); err != nil {
			return fmt.Errorf("tell the owner of deleted booking %s: %w", ref, err)
		}
	}
	return nil
}
