package booking

import (
	"fmt"
	"strings"
	"time"
)

// Site is a place with rooms, in one time zone.
type Site struct {
	ID       string
	Name     string
	Location *time.Location
	// HideTitles keeps bookings' titles from members other than their
	// organiser and admins (privacy.go).
	HideTitles bool
}

// Room is a bookable room, backed by one calendar collection.
type Room struct {
	ID        string
	SiteID    string
	Name      string
	Capacity  int
	Equipment []string
	// Calendar is the collection's path relative to the CalDAV home.
	Calendar string
	Hours    OpeningHours
	Rules    Rules

	// What members read about the room (edited in the admin pages).
	Description   string   // a short description
	Directions    string   // how to find it
	Accessibility []string // e.g. "accès fauteuil", "boucle magnétique"
	// Retired rooms are no longer listed nor bookable; their calendar
	// and history stay.
	Retired bool
}

// HasEquipment reports whether the room has every item asked for, ignoring
// case ("Visio" matches "visio").
func (r Room) HasEquipment(items ...string) bool {
	for _, want := range items {
		found := false
		for _, have := range r.Equipment {
			if strings.EqualFold(have, want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Rules constrain who may book a room, when and for how long. A zero
// duration means "no limit" for MaxDuration and MaxAhead, "none" for
// MinNotice and Buffer.
type Rules struct {
	MaxDuration time.Duration // longest single booking
	MinNotice   time.Duration // how long before its start a booking must be made
	MaxAhead    time.Duration // how far ahead a booking may start
	Buffer      time.Duration // free time kept between two bookings
	// AllowedGroups, when not empty, limits booking to members of one of
	// these groups; empty means every member may book.
	AllowedGroups []string
	// Quota limits what one member may book (zero limits: none).
	Quota Quota
	// Approvers, when not empty, are the groups whose members accept or
	// refuse requests for the room (approval.go): a member's booking is
	// then a request (STATUS:TENTATIVE) that holds the slot until it is
	// answered, or lapses after ApprovalWithin (DefaultApprovalWithin
	// when zero). Approvers' and admins' own bookings need no approval.
	Approvers      []string
	ApprovalWithin time.Duration
	// CheckInWithin, when set, asks the member to confirm their presence
	// ("Je suis là") within this long after a booking starts; otherwise
	// the rest of the slot is released (checkin.go).
	CheckInWithin time.Duration
}

// Allows reports whether m may book under r: r names no group, m is an
// admin, or m is in one of r's groups.
func (r Rules) Allows(m Member) bool {
	if len(r.AllowedGroups) == 0 || m.IsAdmin() {
		return true
	}
	for _, g := range r.AllowedGroups {
		if m.InGroup(g) {
			return true
		}
	}
	return false
}

// QuotaScope says over which rooms a quota counts a member's bookings.
type QuotaScope string

const (
	ScopeSite QuotaScope = "site" // every room of the room's site (the default)
	ScopeRoom QuotaScope = "room" // the room alone
)

// Quota limits one member's bookings, counted over the room or its site
// by the gate in the same step as the claim. A zero limit is no limit;
// members of an Exempt group (and admins) have none.
type Quota struct {
	Scope   QuotaScope
	PerWeek time.Duration // booked time in one calendar week (Monday to Sunday, the site's time)
	Ahead   int           // bookings (a series counts once) not yet ended
	Longest time.Duration // one booking
	Exempt  []string
}

// Limited reports whether q sets any limit.
func (q Quota) Limited() bool { return q.PerWeek > 0 || q.Ahead > 0 || q.Longest > 0 }

// ClockTime is a wall-clock time of day, in minutes after midnight
// (0…1440; 1440 is the midnight that ends a day).
type ClockTime int

// Clock returns h:m as a ClockTime.
func Clock(h, m int) ClockTime { return ClockTime(h*60 + m) }

func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// TimeRange is a half-open range of wall-clock times in one day.
type TimeRange struct {
	From, To ClockTime
}

// Date is a calendar day, without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Closure is a run of whole days on which a room is closed, From and To
// included.
type Closure struct {
	From, To Date
	Reason   string
}

// OpeningHours says when a room may be booked, in its site's time zone.
// A weekday missing from Weekly (or present with no range) is closed; an
// OpeningHours with no Weekly entries at all is open around the clock.
type OpeningHours struct {
	Weekly   map[time.Weekday][]TimeRange
	Closures []Closure
}
