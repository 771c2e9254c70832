package booking

import (
	"context"
	"fmt"
	"time"
)

// What a sync pass finds changed in a member's booking straight in the
// calendar, told to its owner through the Notifier before the gate
// forgets the old state (like tellRemoved): a booking moved or resized
// (its first occurrence's times differ from what the gate held), and a
// booking that something new or changed now overlaps (a conflict that
// admins settle). An error leaves the pass to be made again; the
// notices recorded twice then name the same change (Notice.From, Other)
// and make one message.

// maxConflictChecks bounds the occurrences of one changed object that a
// pass checks for conflicts with members' bookings.
const maxConflictChecks = 50

// tellChanged tells the Notifier of the members' bookings that put
// (objects new or changed in the calendar since the last pass) moved or
// now overlaps; known are the ETags the gate held.
func (s *Service) tellChanged(ctx context.Context, p place, put map[string]ObjectState, known map[string]string) error {
	if s.opt.Notifier == nil || len(put) == 0 {
		return nil
	}
	w := s.window()
	busy, err := s.g.Busy(ctx, p.room.ID, w.Start, w.End)
	if err != nil {
		return err
	}
	old := map[string]Busy{}
	for _, b := range busy {
		if f, ok := old[b.Ref]; b.Kind != KindHold && (!ok || b.Start.Before(f.Start)) {
			old[b.Ref] = b
		}
	}
	now := s.now()
	if err := s.tellMovedOutside(ctx, p, put); err != nil {
		return err
	}
	for ref, o := range put {
		first, ok := firstBusy(o.Busy)
		if !ok {
			continue
		}
		// Moved or resized: a member's booking whose first occurrence
		// changed, still to come.
		if was, seen := old[ref]; seen && first.Kind == KindBooking && first.Organizer != "" && first.End.After(now) &&
			(!was.Start.Equal(first.Start) || !was.End.Equal(first.End)) {
			b := Booking{ID: ref, Room: p.room.ID, Start: first.Start, End: first.End, Title: first.Title,
				Organizer: Member{ID: first.Organizer}, Kind: KindBooking, Pending: first.Pending}
			if err := s.notify(ctx, Notice{Kind: NoticeMoved, Booking: b, Room: p.room, From: known[ref] + ">" + o.ETag}); err != nil {
				return err
			}
		}
		// Overlapping a member's booking that the gate held.
		told := map[string]bool{}
		for i, x := range o.Busy {
			if i >= maxConflictChecks {
				break
			}
			if !x.End.After(now) {
				continue
			}
			for _, other := range busy {
				if other.Ref == ref || told[other.Ref] || other.Kind != KindBooking || other.Organizer == "" ||
					!other.End.After(now) || !other.Overlaps(x.Start, x.End, 0) {
					continue
				}
				told[other.Ref] = true
				f := old[other.Ref]
				b := Booking{ID: other.Ref, Room: p.room.ID, Start: f.Start, End: f.End, Title: f.Title,
					Organizer: Member{ID: other.Organizer}, Kind: KindBooking, Pending: f.Pending}
				n := Notice{Kind: NoticeConflict, Booking: b, Room: p.room, Other: ref, // one notice a pair, however often it is edited
					Reason: fmt.Sprintf("%s – %s", x.Start.In(p.site.Location).Format("2006-01-02 15:04"), x.End.In(p.site.Location).Format("15:04"))}
				if err := s.notify(ctx, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// tellMovedOutside tells the Notifier of the members' bookings in objs
// that the calendar found moved since roomcal last wrote them
// (ObjectState.Moved): found from the record itself, so also by a load
// after the gate lost its state. The mark names the move: recorded again
// at every load, it makes one notice.
func (s *Service) tellMovedOutside(ctx context.Context, p place, objs map[string]ObjectState) error {
	if s.opt.Notifier == nil {
		return nil
	}
	now := s.now()
	for _, o := range objs {
		if o.Moved == nil || !o.Moved.Booking.End.After(now) {
			continue
		}
		n := Notice{Kind: NoticeMoved, Booking: o.Moved.Booking, Room: p.room, From: "told:" + o.Moved.Told}
		if err := s.notify(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// tellMovedOnLoad is tellMovedOutside for a whole calendar read (a
// rebuild, which a request may be waiting for, or the daily refresh): a
// failure is logged, not returned (the next read tells again).
func (s *Service) tellMovedOnLoad(ctx context.Context, p place, objs map[string]ObjectState) {
	if err := s.tellMovedOutside(ctx, p, objs); err != nil {
		s.log.WarnContext(ctx, "a booking moved in the calendar is not told yet", "room", p.room.ID, "err", err)
	}
}

func firstBusy(bs []Busy) (Busy, bool) {
	var f Busy
	ok := false
	for _, b := range bs {
		if !ok || b.Start.Before(f.Start) {
			f, ok = b, true
		}
	}
	return f, ok
}

// Lookup reads booking id from its room's calendar as it is now, for
// the notices, which check each one against the record before telling
// its owner (ErrNotFound once it is gone).
func (s *Service) Lookup(ctx context.Context, id string) (Booking, error) {
	p, err := s.placeOfBooking(id)
	if err != nil {
		return Booking{}, err
	}
	b, _, err := s.cal.Get(ctx, p.room, p.site.Location, id)
	return b, err
}

// ReminderBooking is a booking a day-before reminder is about.
type ReminderBooking struct {
	Booking
	Site string
}

// Starting lists the members' bookings (not events' room bookings, not
// pending requests) whose first occurrence, or any occurrence, starts in
// [from, to), from the gate's copy of the calendars, each once with the
// occurrence's times.
func (s *Service) Starting(ctx context.Context, from, to time.Time) ([]ReminderBooking, error) {
	rooms, err := s.roomsFor("", "")
	if err != nil {
		return nil, err
	}
	var out []ReminderBooking
	for _, p := range rooms {
		bs, _, err := s.busy(ctx, p, from, to)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b.Kind != KindBooking || b.Organizer == "" || b.Pending || b.Released || b.Start.Before(from) || !b.Start.Before(to) {
				continue
			}
			out = append(out, ReminderBooking{Booking: Booking{ID: b.Ref, Room: p.room.ID, Start: b.Start, End: b.End, Title: b.Title,
				Organizer: Member{ID: b.Organizer}, Kind: KindBooking}, Site: p.site.ID})
		}
	}
	return out, nil
}
