package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// The durable roster of the events to come (Options.Roster). An event
// deleted straight in the calendar is found by a sync pass against the
// gate's copy (forget tells Options.Deleted of its registrants); when the
// gate lost that copy (a Redis flush) before the pass, nothing was left
// to tell them from. So the sync pass keeps, in the calendar store, the
// events still to come with their registrants (who, and whether they
// wait), rewritten only when the events calendar changed and the roster
// with it; a rebuild of the gate's index (loadIndex, after a flush)
// tells Deleted of each event of the roster that the calendar no longer
// lists. The roster is written by the replica syncing the events
// calendar (one at a time: the index lock); its content is the same
// whoever writes it, and the notices outbox names each registrant's
// notice of a deleted event once, so finding it twice tells once.

// RosterEntry is one event to come with its registrants.
type RosterEntry struct {
	ID       string    `json:"id"`
	Title    string    `json:"title,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Room     string    `json:"room,omitempty"`
	Location string    `json:"location,omitempty"`
	// RoomBooking is the event's room booking, freed when the event is
	// found deleted.
	RoomBooking string     `json:"room_booking,omitempty"`
	Regs        []Rostered `json:"regs"`
}

// Rostered is one registrant of a RosterEntry.
type Rostered struct {
	Member  string `json:"member"`
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Waiting bool   `json:"waiting,omitempty"`
}

// Roster keeps the roster in the calendar store (caldav.EventRoster).
type Roster interface {
	// ReadRoster returns the roster and its version ("" and no entries
	// when there is none).
	ReadRoster(ctx context.Context) ([]RosterEntry, string, error)
	// WriteRoster replaces the roster if it is still version etag (""
	// for none yet); a version changed meanwhile is not an error.
	WriteRoster(ctx context.Context, entries []RosterEntry, etag string) error
}

func rosterSum(es []RosterEntry) string {
	raw, _ := json.Marshal(es)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// roster lists the events to come that have registrants, from the
// gate's states (or, for one not loaded, the calendar), sorted.
func (s *Service) roster(ctx context.Context) ([]RosterEntry, error) {
	now := s.now()
	ids, err := s.g.IndexRange(ctx, now.Add(-24*time.Hour), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	out := []RosterEntry{}
	for _, id := range ids {
		var ev Event
		var regs []Registration
		st, err := s.g.State(ctx, id)
		switch {
		case err == nil:
			ev, regs = st.Event, st.Registrations
		case errors.Is(err, ErrNoState):
			rec, err := s.cal.Read(ctx, id)
			if errors.Is(err, booking.ErrNotFound) || errors.Is(err, booking.ErrInvalid) {
				continue
			}
			if err != nil {
				return nil, err
			}
			ev, regs = rec.Event, rec.Registrations
		default:
			return nil, err
		}
		if ev.Settings.Cancelled || !ev.End.After(now) || len(regs) == 0 && ev.RoomBooking == "" {
			continue
		}
		e := RosterEntry{ID: ev.ID, Title: ev.Title, Start: ev.Start.UTC(), End: ev.End.UTC(), Room: ev.Room, Location: ev.Location,
			RoomBooking: ev.RoomBooking}
		for _, r := range regs {
			e.Regs = append(e.Regs, Rostered{Member: r.Member, Name: r.Name, Email: r.Email, Waiting: r.Status != Confirmed})
		}
		sort.Slice(e.Regs, func(i, j int) bool { return e.Regs[i].Member < e.Regs[j].Member })
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// writeRoster rewrites the roster when the events calendar changed
// (token) and the roster with it, since this replica last wrote or read
// it; the caller holds the index lock.
func (s *Service) writeRoster(ctx context.Context, token string) {
	if s.opt.Roster == nil {
		return
	}
	s.mu.Lock()
	last := s.rostered
	s.mu.Unlock()
	if token != "" && last.token == token {
		return
	}
	cur, err := s.roster(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "the roster of events to come is not made; next pass tries again", "err", err)
		return
	}
	sum := rosterSum(cur)
	if last.sum != sum {
		old, etag, err := s.opt.Roster.ReadRoster(ctx)
		if err == nil && rosterSum(old) != sum {
			err = s.opt.Roster.WriteRoster(ctx, cur, etag)
		}
		if err != nil {
			s.log.WarnContext(ctx, "the roster of events to come is not written; next pass tries again", "err", err)
			return
		}
	}
	s.mu.Lock()
	s.rostered = rosterMemo{token: token, sum: sum}
	s.mu.Unlock()
}

// rosterMemo is what this replica last wrote or read of the roster.
type rosterMemo struct{ token, sum string }

// tellDeletedOnLoad tells Deleted, when the gate's index is rebuilt from
// the calendar (listed: the ids it has), of each event of the roster
// still to come that the calendar no longer lists, and frees its room
// (as forget does for a deletion the gate saw). A failure is logged.
func (s *Service) tellDeletedOnLoad(ctx context.Context, listed map[string]bool) {
	if s.opt.Roster == nil {
		return
	}
	es, _, err := s.opt.Roster.ReadRoster(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "the roster of events to come is not read; events deleted while the gate had no state are not told", "err", err)
		return
	}
	now := s.now()
	for _, e := range es {
		if listed[e.ID] || !e.End.After(now) {
			continue
		}
		ev := Event{ID: e.ID, Title: e.Title, Start: e.Start, End: e.End, Room: e.Room, Location: e.Location}
		var regs []Registration
		for _, r := range e.Regs {
			st := Confirmed
			if r.Waiting {
				st = Waitlisted
			}
			regs = append(regs, Registration{Member: r.Member, Name: r.Name, Email: r.Email, Status: st})
		}
		if s.opt.Deleted != nil && len(regs) > 0 {
			if err := s.opt.Deleted(ctx, ev, regs); err != nil {
				s.log.WarnContext(ctx, "an event deleted in the calendar is not told", "event", e.ID, "err", err)
			}
		}
		if e.RoomBooking != "" && s.rooms != nil {
			rctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
			err := s.rooms.ReleaseForEvent(rctx, e.RoomBooking)
			cancel()
			if err != nil && !errors.Is(err, booking.ErrNotFound) {
				s.log.WarnContext(ctx, "the room of an event deleted in the calendar is not freed", "event", e.ID, "booking", e.RoomBooking, "err", err)
			} else if err == nil {
				s.log.InfoContext(ctx, "event deleted outside roomcal: room freed", "event", e.ID, "booking", e.RoomBooking)
			}
		}
	}
}
