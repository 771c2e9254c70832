// Package events is the internal-events domain: events with an
// attendance cap, an optional waiting list and an optional registration
// window, held in a room (booked with the event) or at a free-text
// location; and registrations, each one member, confirmed or waitlisted
// with a position.
//
// The decisions (who gets a seat, who waits, who is promoted) are taken
// in one atomic step by a Gate (Lua scripts run by Redis, or by the
// embedded engine without one); the record is the events calendar, where every
// registration is an ATTENDEE of the event's VEVENT. A registration is
// acknowledged only once the calendar holds it: the Service groups the
// registrations of one event into conditional writes (see flush.go).
//
// Like booking, the package knows nothing of HTTP, Redis or iCalendar.
package events

import (
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Status is an event's status.
type Status string

const (
	StatusScheduled Status = "scheduled"
	StatusCancelled Status = "cancelled"
)

// RegStatus is a registration's status.
type RegStatus string

const (
	Confirmed  RegStatus = "confirmed"
	Waitlisted RegStatus = "waitlisted"
)

// Event is an internal event.
type Event struct {
	ID          string
	Title       string
	Description string
	Start, End  time.Time
	// Room is the id of the room the event is held in ("" for none); the
	// room is booked with the event, and RoomBooking is that booking's id.
	Room        string
	RoomBooking string
	// Location is free text, for an event not held in a room (for one
	// in a room, the room's name).
	Location  string
	Organizer booking.Member // ID, Name and Email only
	Settings  Settings
	Created   time.Time
}

// Status says whether the event is cancelled.
func (e Event) Status() Status {
	if e.Settings.Cancelled {
		return StatusCancelled
	}
	return StatusScheduled
}

// Settings are what the gate's decisions depend on.
type Settings struct {
	// Capacity is the number of confirmed seats (at least 1).
	Capacity int
	// Waitlist says whether members may wait for a seat once the event
	// is full.
	Waitlist bool
	// Opens and Closes bound the registration window [Opens, Closes);
	// a zero Opens is "open now", a zero Closes is "until Start".
	Opens, Closes time.Time
	// Start is the event's start (registration closes then by default).
	Start time.Time
	// Cancelled events take no registration.
	Cancelled bool
}

// ClosesAt returns when registration closes: Closes, or Start.
func (s Settings) ClosesAt() time.Time {
	if !s.Closes.IsZero() {
		return s.Closes
	}
	return s.Start
}

// Registration is one member's registration to an event.
type Registration struct {
	// Member is the member's stable id. An attendee added straight in
	// the calendar (not through roomcal) has the id "mailto:" + email.
	Member string
	Name   string
	Email  string
	Status RegStatus
	// Seq is the arrival order: unique within an event, increasing; the
	// waiting list is served by Seq. Zero for an attendee read from the
	// calendar that roomcal has not numbered yet.
	Seq int64
	// Position is the place in the waiting list (1 = next to be
	// confirmed); 0 for a confirmed registration.
	Position int
	// At is when the member registered.
	At time.Time
	// Promoted is when the registration was confirmed from the waiting
	// list (zero for a seat had at once). The gate sets it, by its own
	// clock, when it promotes; it is kept in the calendar with the
	// registration, so that the member's "a seat came free" note
	// outlives a flush of the gate.
	Promoted time.Time
	// Told is what the member was last told of the event (see
	// notices.go): kept in the calendar with the registration, opaque to
	// the gate (which neither keeps nor changes it).
	Told string
}
