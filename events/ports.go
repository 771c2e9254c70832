package events

import (
	"context"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Record is an event as its calendar object holds it.
type Record struct {
	Event Event
	// Registrations are the attendees the object lists, in the object's
	// order; an attendee roomcal has not numbered has Seq 0. Attendees
	// who declined are left out.
	Registrations []Registration
	// Gen and Ver name the gate state the object was last written from
	// ("" and 0 when roomcal never wrote it).
	Gen string
	Ver int64
	// ETag is the object's ETag ("" for an object not created yet).
	ETag string
	// Sequence is the object's SEQUENCE (RFC 5545), raised by every
	// write: invitations sent from the record carry it.
	Sequence int
	// Base is the adapter's own copy of the object, opaque to the
	// domain: a rewrite keeps from it what the domain does not model
	// (alarms, categories, properties other clients added).
	Base any
}

// Ref names an object of the events calendar and its ETag.
type Ref struct {
	ID   string
	ETag string
}

// Changes is what changed in the events calendar since a token.
type Changes struct {
	Token string
	// Full is true when Changed lists every event (no token, or the
	// token had expired): events not listed are gone.
	Full    bool
	Changed []Ref
	Deleted []string
}

// Calendar is the port to the events calendar; the CalDAV adapter
// implements it. Errors wrap booking.ErrUnavailable when the server
// cannot be reached, booking.ErrNotFound for a missing event,
// booking.ErrStale when a conditional write finds another version, and
// booking.ErrInvalid for an object that cannot be read.
type Calendar interface {
	// Read reads one event.
	Read(ctx context.Context, id string) (Record, error)
	// Create writes a new event only if no object has its id, and
	// returns the object's ETag.
	Create(ctx context.Context, rec Record) (etag string, err error)
	// Update rewrites the event only if its ETag is still rec.ETag, and
	// returns the new ETag.
	Update(ctx context.Context, rec Record) (etag string, err error)
	// Changes lists what changed since token ("" for everything).
	Changes(ctx context.Context, token string) (Changes, error)
	// Ping checks that the calendar server answers.
	Ping(ctx context.Context) error
}

// Rooms books the rooms events are held in, through the room gate (the
// booking service implements it). The room bookings of events are of
// kind booking.KindEvent, in the organiser's name, checked against the
// room's rules like any booking.
type Rooms interface {
	// BookForEvent books room for [start, end) and returns the booking's
	// id; errors as booking.Service.Book's (*booking.ConflictError,
	// *booking.RuleError, booking.ErrUnknownRoom…).
	BookForEvent(ctx context.Context, organiser booking.Member, room, title string, start, end time.Time) (bookingID string, err error)
	// MoveForEvent moves or renames an event's room booking; the new
	// slot is claimed before the old one is given up.
	MoveForEvent(ctx context.Context, organiser booking.Member, bookingID, title string, start, end time.Time) error
	// CancelForEvent frees an event's room booking.
	CancelForEvent(ctx context.Context, organiser booking.Member, bookingID string) error
	// ReleaseForEvent frees the room booking of an event deleted from
	// the events calendar outside roomcal, with no member acting.
	ReleaseForEvent(ctx context.Context, bookingID string) error
	// RoomName returns a room's name, for the event's location.
	RoomName(room string) (string, error)
}
