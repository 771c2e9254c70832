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

// Kinds lists every kind with its default: what changes without the
// member is on, confirmations of what they did themselves are opt-in.
var Kinds = []struct {
	Kind    string
	Default bool
}{
	{KindPromoted, true},
	{KindEventChanged, true},
	{KindEventCancelled, true},
	{KindConfirmation, false},
}

// Default says whether kind is on for a member who never chose.
func Default(kind string) bool {
	for _, k := range Kinds {
		if k.Kind == kind {
			return k.Default
		}
	}
	return false
}

// Known reports whether kind is a notice kind.
func Known(kind string) bool {
	for _, k := range Kinds {
		if k.Kind == kind {
			return true
		}
	}
	return false
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
	names := map[string][2]string{
		KindPromoted:       {"une place s'est libérée (liste d'attente)", "a seat freed (waiting list)"},
		KindEventChanged:   {"événement déplacé ou modifié", "event moved or changed"},
		KindEventCancelled: {"événement annulé", "event cancelled"},
		KindConfirmation:   {"confirmation de mes inscriptions", "confirmation of my registrations"},
	}
	n, ok := names[kind]
	if !ok {
		return kind
	}
	if lng == "en" {
		return n[1]
	}
	return n[0]
}
