package booking

import (
	"context"
	"time"
)

// FeedEntry is one entry of a calendar feed that calendar apps subscribe
// to: a booking's occurrence, an event, or busy time with its title
// hidden. The edge composes entries; an adapter writes them in a calendar
// format (the iCalendar adapter as one VEVENT each).
type FeedEntry struct {
	// UID identifies the entry across versions of the feed: a subscribed
	// calendar replaces the entry with the same UID.
	UID                          string
	Title, Description, Location string
	Start, End                   time.Time // shown in Start's time zone
	// Cancelled keeps a cancelled entry in the feed, marked so, so that
	// subscribed calendars drop it.
	Cancelled bool
	// Free shows the entry without making its time busy (a place on a
	// waiting list).
	Free bool
	// Private marks an entry meant for its holder only (a personal feed).
	Private bool
	// Stamp is when the feed was made (the same for every entry of one
	// feed, so that an unchanged feed encodes the same).
	Stamp time.Time
}

// FeedRange is the span calendar feeds cover from now: from six days
// back (within the cache's window, which starts a week back) to a year
// ahead.
func (s *Service) FeedRange() (from, to time.Time) {
	now := s.now()
	return now.Add(-6 * 24 * time.Hour).Truncate(time.Hour), now.AddDate(1, 0, 0).Truncate(time.Hour)
}

// RoomBusy returns a room's busy intervals over [from, to), with the room
// and its site: from the gate when its window covers the range (the
// state is rebuilt from the calendar if the gate lost it), straight from
// the calendar otherwise. Live holds are left out: they are not bookings
// yet.
func (s *Service) RoomBusy(ctx context.Context, roomID string, from, to time.Time) (Room, Site, []Busy, error) {
	p, err := s.place(roomID)
	if err != nil {
		return Room{}, Site{}, nil, err
	}
	busy, _, err := s.busy(ctx, p, from, to)
	if err != nil {
		return Room{}, Site{}, nil, err
	}
	out := busy[:0:0]
	for _, b := range busy {
		if b.Kind != KindHold {
			out = append(out, b)
		}
	}
	return p.room, p.site, out, nil
}

// FeedLink says whether a member has a personal feed link and when it was
// made (IssuedAt is zero when the link predates the recording of it).
type FeedLink struct {
	Exists   bool
	IssuedAt time.Time
}
