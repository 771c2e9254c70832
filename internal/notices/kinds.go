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
	// Count adds one to key's counter (kept for ttl) unless it reached
	// limit: ok false then, and the counter is left as it is.
	Count(ctx context.Context, key string, limit int, ttl time.Duration) (n int, ok bool, err error)
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

// KindBookingRemoved: a member's booking removed by someone else (an
// admin, or straight in the calendar). On by default.
const KindBookingRemoved = "booking_removed"

// Removal is a booking removal owed to its owner, kept in the Outbox
// (the calendar store) from the moment it is found until it is told.
type Removal struct {
	booking.Removal
	// Key names it in the outbox; ETag is its object's version.
	Key, ETag string
	Told      bool
}

// Outbox keeps the removals owed (caldav.NoticeOutbox): written before
// the removal is forgotten, marked told once the message is sent.
type Outbox interface {
	// Put records r; a removal already recorded is left as it is.
	Put(ctx context.Context, r booking.Removal) error
	// Pending lists the removals not told yet.
	Pending(ctx context.Context) ([]Removal, error)
	// Done marks r told.
	Done(ctx context.Context, r Removal) error
}
