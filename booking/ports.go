package booking

import (
	"context"
	"time"
)

// Booking is a reservation of a room made through roomcal.
type Booking struct {
	ID          string
	Room        string
	Start, End  time.Time // the first occurrence for a recurring booking
	Title       string
	Description string
	Organizer   Member
	// Recurrence is an RFC 5545 RRULE value ("FREQ=WEEKLY;COUNT=10"), or
	// empty for a single booking.
	Recurrence string
	// Skipped are the starts of the occurrences the series leaves out
	// (EXDATE): dates that were taken or closed when it was booked.
	Skipped []time.Time
	Created time.Time
	// Modified is when the record was last written (LAST-MODIFIED; zero
	// when the calendar did not say): the notices derive a booking's
	// invitation SEQUENCE from it.
	Modified time.Time
	// Kind is KindBooking (also when empty) or KindEvent for the room
	// booking of an internal event, which is changed only through its
	// event.
	Kind Kind
	// Pending marks a request waiting for the room's approvers, until
	// ApprovalDue: then it lapses (approval.go).
	Pending     bool
	ApprovalDue time.Time
	// CheckedIn is when the member confirmed their presence (zero: not
	// yet); Released, when the rest of the slot was released for want of
	// it (checkin.go).
	CheckedIn, Released time.Time
}

// IsEvent reports whether b is the room booking of an internal event.
func (b Booking) IsEvent() bool { return b.Kind == KindEvent }

// ObjectProblem is a calendar object that could not be read whole
// (malformed iCalendar, an unknown time zone, a recurrence that cannot
// be expanded or has more occurrences than are expanded…): it is
// reported to admins, never taken as free. The Calendar still gives the
// object's state (in Snapshot.Objects, Delta.Put, Busy), busy over what
// is known of it: at least its first instance.
type ObjectProblem struct {
	Ref string
	Err error
}

// Delta is what changed in a room's calendar since a token.
type Delta struct {
	Token    string
	Put      map[string]ObjectState
	Deleted  []string
	Problems []ObjectProblem
}

// Version is one version of a booking's calendar object, as a Calendar
// read or wrote it. The domain reads its ETag and hands the value back,
// untouched, to the Calendar that made it: what else it holds is the
// adapter's own (the CalDAV adapter keeps the object itself, so that a
// write over it needs no second read).
type Version interface {
	// ETag is the object's entity tag: a conditional write or delete
	// succeeds only while the object still has it.
	ETag() string
}

// Calendar is the port to rooms' calendars; the CalDAV adapter implements
// it. Busy intervals are expanded in loc (the site's zone) within window
// w. Errors wrap ErrUnavailable when the server cannot be reached,
// ErrNotFound when a booking does not exist, and a *ConflictError never
// (the calendar does not judge overlaps).
type Calendar interface {
	// Read returns the whole state of a room's calendar.
	Read(ctx context.Context, room Room, loc *time.Location, w Interval) (Snapshot, []ObjectProblem, error)
	// Changes returns what changed since token, given the ETags the
	// caller knows. An expired token is handled inside (a full listing is
	// compared with known).
	Changes(ctx context.Context, room Room, loc *time.Location, token string, known map[string]string, w Interval) (Delta, error)
	// Busy computes busy intervals straight from the calendar, bypassing
	// any cache.
	Busy(ctx context.Context, room Room, loc *time.Location, from, to time.Time) ([]Busy, []ObjectProblem, error)

	// Create writes a new booking only if no object has its id, and
	// returns the version written.
	Create(ctx context.Context, room Room, loc *time.Location, b Booking) (Version, error)
	// Update rewrites a booking over version over, which this Calendar
	// returned (Get, Create or Update), only if the object still is that
	// version (If-Match: over's ETag; ErrStale otherwise), and returns the
	// version written. It reads nothing: one read (Get) and one write make
	// a change.
	Update(ctx context.Context, room Room, loc *time.Location, b Booking, over Version) (Version, error)
	// Delete removes a booking only if its ETag is still etag (whatever
	// its version when etag is empty).
	Delete(ctx context.Context, room Room, id, etag string) error
	// Get reads one booking and the version of its object. Objects that
	// are not roomcal bookings give ErrNotFound.
	Get(ctx context.Context, room Room, loc *time.Location, id string) (Booking, Version, error)
	// Ping checks that the calendar server answers.
	Ping(ctx context.Context) error
}

// Recurrence expands recurrence rules; the iCalendar adapter implements
// it.
type Recurrence interface {
	// Occurrences returns the occurrences of a booking [start, end)
	// repeated by rrule, in loc's wall clock (DST keeps wall-clock times),
	// at most limit of them; an *InvalidError (matching ErrInvalid, the
	// parser's own text in its Err) for a malformed or unbounded rule.
	Occurrences(rrule string, start, end time.Time, loc *time.Location, limit int) ([]Interval, error)
}
