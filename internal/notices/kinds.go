package notices

import (
	"context"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// The kinds of notices, as members turn them on and off
// (booking.Preferences.Notices).
const (
	KindPromoted       = "promoted"
	KindEventChanged   = "event_changed"
	KindEventCancelled = "event_cancelled"
	KindConfirmation   = "confirmation"
)

// Default says whether kind is on for a member who never chose.
func Default(kind string) bool {
	k, _ := booking.LookupNoticeSetting(kind)
	return k.Default
}

// Known reports whether kind is a notice kind.
func Known(kind string) bool {
	_, ok := booking.LookupNoticeSetting(kind)
	return ok
}

// Events is the events service as the Worker uses it.
type Events interface {
	// Record reads an event's object from the calendar.
	Record(ctx context.Context, id string) (events.Record, error)
	// Changes lists the events changed since token ("" for all).
	Changes(ctx context.Context, token string) (events.Changes, error)
	// MarkTold writes what members were told, under the event's lock.
	MarkTold(ctx context.Context, id string, told map[string]string) error
}

// Claims are the gate's notice decisions (Lua scripts, so that replicas
// agree).
type Claims interface {
	// Claim takes key for ttl if nobody holds it.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Release gives key back.
	Release(ctx context.Context, key string) error
	// Count counts message msg (a token) against key, a member's day
	// (kept for ttl), unless limit messages are counted already: ok false
	// then, and nothing is counted. A message counted already is ok
	// again, not counted twice. When the day's count is missing (its
	// first message, or lost in a flush) it is first rebuilt from seed
	// (the tokens recorded as sent that day; nil: none).
	Count(ctx context.Context, key, msg string, limit int, ttl time.Duration,
		seed func(context.Context) ([]string, error)) (n int, ok bool, err error)
}

// Person is an organiser or attendee of an invitation.
type Person struct {
	Name, Email string
}

// Entry is the calendar entry an invitation describes.
type Entry struct {
	UID      string
	Sequence int
	Title    string
	// Description is the text of the entry (the event's description).
	Description string
	// Location is what the LOCATION line says (room and site).
	Location   string
	Start, End time.Time // in the entry's zone
	Organizer  Person
	Attendee   Person
	// PartStat is the attendee's PARTSTAT: ACCEPTED (confirmed),
	// TENTATIVE (waiting).
	PartStat  string
	Cancelled bool
	URL       string
	// RRule and ExDates make the entry a whole series (a recurring
	// booking): its RRULE value and EXDATEs; Start and End are then the
	// first occurrence's.
	RRule   string
	ExDates []time.Time
}

// Invitations builds iMIP objects (the caldav package's encoder).
type Invitations interface {
	// Invitation returns a VCALENDAR with METHOD method (REQUEST or
	// CANCEL) holding e as one VEVENT, with its VTIMEZONE.
	Invitation(method string, e Entry) ([]byte, error)
}

// Places names where an event in a room is held.
type Places interface {
	// Place returns the room's and its site's names ("" when unknown).
	Place(room string) (roomName, siteName string)
}

// Preferences are the members' choices (nil: every kind at its default,
// French).
type Preferences = booking.PreferencesStore

// KindName is what members read for a kind.
func KindName(kind, lng string) string {
	k, ok := booking.LookupNoticeSetting(kind)
	switch {
	case !ok:
		return kind
	case lng == "en":
		return k.EN
	}
	return k.FR
}

// Booking notices (bookings.go): kinds of messages, and the kinds
// members turn on and off (booking.Preferences.Notices) they fall in.
const (
	// KindBookingRemoved: a member's booking removed by someone else (an
	// admin, or straight in the calendar). On by default.
	KindBookingRemoved = "booking_removed"
	// KindBookingChanged: moved, shortened (a no-show release) or in
	// conflict with something put straight in the calendar. On by default.
	KindBookingChanged = "booking_changed"
	// KindRequestAnswered: a request accepted, refused or lapsed. On by
	// default.
	KindRequestAnswered = "request_answered"
	// KindReminder: the day before a booking or an event. Opt-in.
	KindReminder = "reminder"
	// KindEventDeleted: an event deleted straight in the calendar, told
	// to each registrant (as event_cancelled) from the outbox.
	KindEventDeleted = "event_deleted"
	// KindBooked: a member's own booking (or series, or request), told
	// to them as a confirmation (KindConfirmation, opt-in).
	KindBooked = "booked"
)

// BookingNotice is a notice owed to a booking's owner, kept in the
// Outbox (the calendar store) from the moment the change is decided,
// before it is written, until it is told. The worker checks it against
// the booking's record before telling: a change that failed is never
// told.
type BookingNotice struct {
	// Kind is a booking.NoticeKind's value, or KindBookingRemoved.
	Kind            string
	ID, Room, Title string
	// Start and End: the first occurrence after the change (before it,
	// for a removal).
	Start, End time.Time
	Owner      string // member id
	// Name and Email are the owner's as the record had them (the
	// preferences' win).
	Name, Email string
	// By says who acted: "admin", "calendar", "approver", "roomcal".
	By string
	// Reason is a refusal's reason, a release's note, the time of what
	// a conflict is with.
	Reason string
	// Where is the place of an event not held in a room.
	Where string
	// Waiting: the owner was on the event's waiting list (an event
	// deleted in the calendar); their invitation says PARTSTAT=TENTATIVE.
	Waiting bool
	// Same names the change: two records of it (two replicas, a pass
	// made again) are one object.
	Same string
	// At is when the change was recorded.
	At time.Time
	// Key names it in the outbox; ETag is its object's version.
	Key, ETag string
}

// removes reports whether the notice is of a booking that is gone.
func (n BookingNotice) removes() bool {
	switch n.Kind {
	case "", KindBookingRemoved, string(booking.NoticeRefused), string(booking.NoticeLapsed), KindEventDeleted:
		return true
	}
	return false
}

// isEvent reports whether n is about an event (ID is the event's), not
// a booking.
func (n BookingNotice) isEvent() bool { return n.Kind == KindEventDeleted }

// Setting is the kind members turn on or off that n falls in.
func (n BookingNotice) Setting() string {
	switch n.Kind {
	case "", KindBookingRemoved:
		return KindBookingRemoved
	case string(booking.NoticeAccepted), string(booking.NoticeRefused), string(booking.NoticeLapsed):
		return KindRequestAnswered
	case KindEventDeleted:
		return KindEventCancelled
	case KindBooked:
		return KindConfirmation
	}
	return KindBookingChanged
}

// FromRemoval is the notice of a booking removed by someone else.
func FromRemoval(r booking.Removal) BookingNotice {
	by := r.By
	return BookingNotice{Kind: KindBookingRemoved, ID: r.ID, Room: r.Room, Title: r.Title, Start: r.Start, End: r.End,
		Owner: r.Owner, By: by, Reason: r.Reason, Same: r.ID}
}

// FromBooking is the notice of n, a change the booking service is about
// to write.
func FromBooking(n booking.Notice) BookingNotice {
	b := n.Booking
	by := n.By.ID
	if by == "" {
		by = "roomcal"
	}
	out := BookingNotice{Kind: string(n.Kind), ID: b.ID, Room: b.Room, Title: b.Title, Start: b.Start, End: b.End,
		Owner: b.Organizer.ID, Name: b.Organizer.Name, Email: b.Organizer.Email, By: by, Reason: n.Reason}
	if out.Room == "" {
		out.Room = n.Room.ID
	}
	if out.removes() {
		out.Same = b.ID // a booking is removed once
	} else {
		out.Same = b.ID + "|" + string(n.Kind) + "|" + n.From + "|" + n.Other
	}
	return out
}

// FromBooked is the confirmation of b, a booking its owner just made
// (recorded after it is written, off the request path): told only if
// they turned confirmations on.
func FromBooked(b booking.Booking, at time.Time) BookingNotice {
	return BookingNotice{Kind: KindBooked, ID: b.ID, Room: b.Room, Title: b.Title, Start: b.Start, End: b.End,
		Owner: b.Organizer.ID, Name: b.Organizer.Name, Email: b.Organizer.Email, By: b.Organizer.ID,
		Same: KindBooked + "|" + b.ID, At: at}
}

// FromDeletedEvent is the notice of an event deleted straight in the
// calendar owed to one of its registrants.
func FromDeletedEvent(ev events.Event, r events.Registration) BookingNotice {
	return BookingNotice{Kind: KindEventDeleted, ID: ev.ID, Room: ev.Room, Title: ev.Title, Start: ev.Start, End: ev.End,
		Owner: r.Member, Name: r.Name, Email: r.Email, By: "calendar", Where: ev.Location, Waiting: r.Status != events.Confirmed,
		Same: KindEventDeleted + "|" + ev.ID + "|" + r.Member}
}

// Outbox keeps the booking notices owed (caldav.NoticeOutbox): written
// before the change, marked told once the message is sent.
type Outbox interface {
	// Put records n; a change already recorded (n.Same) is left as it is.
	Put(ctx context.Context, n BookingNotice) error
	// Pending lists the notices not told yet.
	Pending(ctx context.Context) ([]BookingNotice, error)
	// Owed reports whether n (as Pending listed it) is still not told.
	Owed(ctx context.Context, n BookingNotice) (bool, error)
	// Done marks n told.
	Done(ctx context.Context, n BookingNotice) error
	// Remember records n (a reminder) as told at once; one recorded
	// already is left as it is.
	Remember(ctx context.Context, n BookingNotice) error
	// Remembered reports whether a notice naming the change same was
	// recorded as told.
	Remembered(ctx context.Context, same string) (bool, error)
	// Prune deletes the notices told and over before before, and no
	// other; it returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Upcoming lists what starts soon, for the day-before reminders: the
// members' bookings (booking.Service.Starting) and the events
// (events.Service.List; their registrants are read with Events.Record).
type Upcoming interface {
	Starting(ctx context.Context, from, to time.Time) ([]booking.ReminderBooking, error)
}

// EventList lists the events overlapping [from, to).
type EventList interface {
	List(ctx context.Context, from, to time.Time) ([]events.Summary, error)
}

// Bookings reads bookings as they are now (booking.Service.Lookup):
// booking.ErrNotFound once one is gone.
type Bookings interface {
	Lookup(ctx context.Context, id string) (booking.Booking, error)
}

// SentLog records in the calendar store the messages each member is
// sent a day (caldav.NoticeOutbox), so that the daily cap survives a
// Redis flush: the gate's count of a day, once lost, is rebuilt from it.
// A message is recorded before it is sent.
type SentLog interface {
	// Record records message msg (a token) to member on day
	// ("2006-01-02"); recording it again is not an error.
	Record(ctx context.Context, member, day, msg string) error
	// Sent lists the tokens recorded for member on day.
	Sent(ctx context.Context, member, day string) ([]string, error)
}
