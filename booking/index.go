package booking

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"
)

// The durable index of a room's bookings (Options.Index). A booking
// deleted straight in the calendar is found by a sync pass against the
// gate's copy (tellRemoved); when the gate lost that copy (a Redis
// flush) before the pass, the deletion left nothing to be found from.
// So every sync pass keeps, in the calendar store, the list of the
// members' bookings still to come in each room (IndexEntry), rewritten
// only when it changed; a rebuild of the room's state from its calendar
// (load, after a flush) tells the owner of each booking of that list
// that the calendar no longer has, as a removal straight in the
// calendar. The list is written by the replica syncing the room (one at
// a time: the room's lease); its content is the same whoever writes it,
// and a notice recorded twice is one (the outbox names a removal by its
// booking), so replicas racing on a store whose If-Match is not atomic
// do no harm.
//
// One window remains: roomcal rewrites the list in the background right
// after it removes a booking itself (reindexSoon), so a flush between a
// member's own cancel and that write (or its failure, until the next
// pass) may tell them their booking was removed.

// IndexEntry is one booking still to come in a room's index.
type IndexEntry struct {
	ID    string    `json:"id"`
	Owner string    `json:"owner"`
	Title string    `json:"title,omitempty"`
	Start time.Time `json:"start"` // the first occurrence still to come
	End   time.Time `json:"end"`
}

// BookingIndex keeps each room's index in the calendar store
// (caldav.BookingIndex).
type BookingIndex interface {
	// ReadIndex returns room's index and its version ("" and no entries
	// when there is none).
	ReadIndex(ctx context.Context, room string) ([]IndexEntry, string, error)
	// WriteIndex replaces room's index if it is still version etag (""
	// for none yet); a version changed meanwhile is not an error (the
	// next pass writes again).
	WriteIndex(ctx context.Context, room string, entries []IndexEntry, etag string) error
}

// indexOf lists the members' bookings still to come in busy, each once
// with its first occurrence ahead, sorted by id.
func indexOf(busy []Busy, now time.Time) []IndexEntry {
	first := map[string]Busy{}
	for _, b := range busy {
		if b.Kind != KindBooking || b.Organizer == "" || !b.End.After(now) {
			continue
		}
		if f, ok := first[b.Ref]; !ok || b.Start.Before(f.Start) {
			first[b.Ref] = b
		}
	}
	out := make([]IndexEntry, 0, len(first))
	for ref, b := range first {
		out = append(out, IndexEntry{ID: ref, Owner: b.Organizer, Title: b.Title, Start: b.Start.UTC(), End: b.End.UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func indexSum(es []IndexEntry) string {
	raw, _ := json.Marshal(es)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// indexed is what a replica last wrote or read of a room's index: at
// which calendar token (nothing to do while the calendar has not
// changed), with which content.
type indexed struct{ token, sum string }

// writeIndex rewrites room p's index from the gate's copy when the
// calendar changed (its sync token, calToken) and the list with it,
// since this replica last wrote or read it.
func (s *Service) writeIndex(ctx context.Context, p place, calToken string) {
	if s.opt.Index == nil {
		return
	}
	s.mu.Lock()
	last := s.indexed[p.room.ID]
	s.mu.Unlock()
	if calToken != "" && last.token == calToken {
		return
	}
	now := s.now()
	busy, err := s.g.Busy(ctx, p.room.ID, now, s.window().End)
	if err != nil {
		return
	}
	cur := indexOf(busy, now)
	sum := indexSum(cur)
	if last.sum != sum {
		old, etag, err := s.opt.Index.ReadIndex(ctx, p.room.ID)
		if err == nil && indexSum(old) != sum {
			err = s.opt.Index.WriteIndex(ctx, p.room.ID, cur, etag)
		}
		if err != nil {
			s.log.WarnContext(ctx, "the index of a room's bookings is not written; next pass tries again", "room", p.room.ID, "err", err)
			return
		}
	}
	s.mu.Lock()
	s.indexed[p.room.ID] = indexed{token: calToken, sum: sum}
	s.mu.Unlock()
}

// reindexSoon rewrites room p's index in the background, off the
// request path, after roomcal itself removed a booking: so that a flush
// soon after a member's own cancel does not find it in the index and
// tell them it was removed (the window is then this write, not a sync
// interval).
func (s *Service) reindexSoon(p place) {
	if s.opt.Index == nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.life, 30*time.Second)
	s.settling.Add(1)
	go func() {
		defer s.settling.Done()
		defer cancel()
		s.writeIndex(ctx, p, "")
	}()
}

// tellDeletedOnLoad tells Options.Removed, for a room whose state is
// rebuilt from its calendar (objs), of the bookings of its index that
// the calendar no longer has and that are still to come. A failure is
// logged (the removal is then not told).
func (s *Service) tellDeletedOnLoad(ctx context.Context, p place, objs map[string]ObjectState) {
	if s.opt.Index == nil || s.opt.Removed == nil {
		return
	}
	es, _, err := s.opt.Index.ReadIndex(ctx, p.room.ID)
	if err != nil {
		s.log.WarnContext(ctx, "the index of a room's bookings is not read; deletions while the gate had no state are not told", "room", p.room.ID, "err", err)
		return
	}
	now := s.now()
	for _, e := range es {
		if _, ok := objs[e.ID]; ok || !e.End.After(now) || s.hasProblem(p.room.ID, e.ID) {
			continue
		}
		r := Removal{ID: e.ID, Room: p.room.ID, Title: e.Title, Start: e.Start, End: e.End, Owner: e.Owner, By: "calendar"}
		if err := s.opt.Removed(ctx, r); err != nil {
			s.log.WarnContext(ctx, "a booking deleted in the calendar is not told", "room", p.room.ID, "booking", e.ID, "err", err)
		}
	}
}
