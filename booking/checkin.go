package booking

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Check-in and no-show release (Rules.CheckInWithin). In such a room a
// booking is confirmed with "Je suis là" (CheckIn: the page, or the room's
// check-in page that the QR code on its door opens) from CheckInEarly
// before its start; one not confirmed within CheckInWithin of its start
// is cut short at that moment, with a note in its description, and its
// owner told: the rest of the slot is free. Both facts are in the
// calendar record (X-ROOMCAL-CHECKED-IN, X-ROOMCAL-RELEASED), so a flush
// or a restart loses nothing, and the no-shows admins see are counted
// from it. A booking made at most OnTheSpot before its start counts as
// checked in. Recurring bookings and events' room bookings are not
// concerned (a check-in per occurrence is not kept).

const (
	// CheckInEarly is how long before its start a booking may be
	// checked in.
	CheckInEarly = 15 * time.Minute
	// OnTheSpot: a booking made at most this long before its start
	// (the member is at the door) counts as checked in.
	OnTheSpot = 5 * time.Minute
)

// NoticeReleased: a booking not checked in was cut short.
const NoticeReleased NoticeKind = "booking_released"

func checkInApplies(r Room, b Booking) bool {
	return r.Rules.CheckInWithin > 0 && b.Recurrence == "" && !b.IsEvent()
}

// CheckIn confirms m's presence for booking id (m's own, or any for an
// admin). Checking in twice is not an error.
func (s *Service) CheckIn(ctx context.Context, m Member, id string) (Booking, error) {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return Booking{}, err
	}
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return Booking{}, err
	}
	if b.Organizer.ID != m.ID && !m.IsAdmin() {
		return Booking{}, fmt.Errorf("check in %s of %s: %w", id, b.Organizer.ID, ErrForbidden)
	}
	if !checkInApplies(p.room, b) {
		return Booking{}, Invalidf("cette réservation n'a pas à être confirmée / this booking needs no check-in")
	}
	if !b.CheckedIn.IsZero() {
		return b, nil
	}
	if !b.Released.IsZero() {
		return Booking{}, Invalidf("trop tard : le créneau a été libéré / too late: the slot was released")
	}
	now := s.now()
	if now.Before(b.Start.Add(-CheckInEarly)) {
		at := b.Start.Add(-CheckInEarly).In(p.site.Location).Format("15:04")
		return Booking{}, Invalidf("trop tôt : vous pourrez confirmer à partir de %s / too early: you can check in from %s", at, at)
	}
	if !now.Before(b.End) {
		return Booking{}, Invalidf("la réservation est terminée / the booking is over")
	}
	b.CheckedIn = now
	written, err := s.cal.Update(ctx, p.room, p.site.Location, b, read)
	if err != nil {
		return Booking{}, fmt.Errorf("check in %s: %w", id, err)
	}
	s.recordWritten(ctx, p, b, written)
	return b, nil
}

// sweepNoShows cuts short the bookings of room p that were not checked in
// within CheckInWithin of their start. It runs from the sync loop, at
// most once a minute per room across replicas (a lock left to expire);
// each release is made under the booking's lock and over the version
// read, so a check-in made meanwhile wins.
func (s *Service) sweepNoShows(ctx context.Context, p place) error {
	within := p.room.Rules.CheckInWithin
	if within <= 0 {
		return nil
	}
	_, ok, err := s.g.LockObject(ctx, p.room.ID, "sweep-checkin", min(s.opt.SweepEvery, time.Minute))
	if err != nil || !ok {
		return err
	}
	now := s.now()
	return s.sweep(ctx, p, now.Add(-24*time.Hour), now.Add(time.Minute), "no-show not released",
		func(x Busy) bool {
			return !x.CheckedIn && !x.Released && !x.Start.Add(within).After(now) && now.Before(x.End)
		},
		func(id string) error { return s.releaseNoShow(ctx, p, id, now) })
}

func (s *Service) releaseNoShow(ctx context.Context, p place, id string, now time.Time) error {
	lease, err := s.lockBooking(ctx, id)
	if err != nil {
		return err
	}
	defer lease.Release()
	b, read, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	if err != nil {
		return err
	}
	within := p.room.Rules.CheckInWithin
	end := now.Truncate(time.Minute).Add(time.Minute)
	if !checkInApplies(p.room, b) || !b.CheckedIn.IsZero() || !b.Released.IsZero() ||
		b.Start.Add(within).After(now) || !end.Before(b.End) {
		return nil
	}
	at := now.In(p.site.Location).Format("15:04")
	note := fmt.Sprintf("Libérée à %s : présence non confirmée dans les %s après le début. / Released at %s: presence not confirmed within %s of the start.",
		at, human(within), at, human(within))
	b.Description = strings.TrimSpace(b.Description + "\n\n" + note)
	b.End, b.Released = end, now
	if err := s.notify(ctx, Notice{Kind: NoticeReleased, Booking: b, Room: p.room, Reason: note, From: read.ETag()}); err != nil {
		return err
	}
	written, err := s.cal.Update(ctx, p.room, p.site.Location, b, read)
	if err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	s.recordWritten(ctx, p, b, written)
	s.log.InfoContext(ctx, "booking not checked in, rest of the slot released", "room", p.room.ID, "booking", id, "end", end)
	return nil
}

// NoShow is one member's bookings released for want of a check-in.
type NoShow struct {
	Member string
	// Name is the member's name as their latest released booking records
	// it ("" when it could not be read).
	Name  string
	Count int
	Last  time.Time // start of the latest
	last  namedRef  // the latest, to read the name from
}

// NoShows counts, for admins, the bookings released for want of a
// check-in over the last days days, per member, most first (read from
// the calendars: the releases are kept in the records).
func (s *Service) NoShows(ctx context.Context, m Member, days int) ([]NoShow, error) {
	if !m.IsAdmin() {
		return nil, fmt.Errorf("no-shows: %w", ErrForbidden)
	}
	rooms, err := s.roomsFor("", "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	by := map[string]*NoShow{}
	for _, p := range rooms {
		if p.room.Rules.CheckInWithin <= 0 {
			continue
		}
		bs, _, err := s.busy(ctx, p, now.AddDate(0, 0, -days), now)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if !b.Released || b.Kind != KindBooking {
				continue
			}
			n := by[b.Organizer]
			if n == nil {
				n = &NoShow{Member: b.Organizer}
				by[b.Organizer] = n
			}
			n.Count++
			if b.Start.After(n.Last) {
				n.Last, n.last = b.Start, namedRef{p, b.Ref}
			}
		}
	}
	refs := make([]namedRef, 0, len(by))
	for _, n := range by {
		refs = append(refs, n.last)
	}
	names := s.organizerNames(ctx, refs)
	out := make([]NoShow, 0, len(by))
	for _, n := range by {
		n.Name = names[n.last.id]
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Member < out[j].Member
	})
	return out, nil
}
