package caldav

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	ical "github.com/emersion/go-ical"
)

// Reading iCalendar objects.
//
// ParseObject turns one calendar object resource into an Item: the VEVENTs
// of one UID (a master and its RECURRENCE-ID overrides), checked and ready
// to expand. Parse once, then call Item.Busy for every query window.
// Failures are isolated: every error is an *ObjectError about that one
// object, so the caller can report it and carry on with the rest of the
// calendar. A bad object is never silently read as "free".

// Errors carried by ObjectError (match them with errors.Is).
var (
	// ErrICalSyntax: the data is not well-formed iCalendar (a line
	// without a colon, a body cut off before END:VCALENDAR, a component
	// closed by the wrong END, …).
	ErrICalSyntax = errors.New("malformed iCalendar")
	// ErrICalInvalid: well-formed iCalendar that cannot be read as
	// events: a VEVENT without UID or DTSTART, an end before its start,
	// an invalid date, duration or RRULE, several UIDs in one object.
	ErrICalInvalid = errors.New("invalid iCalendar event")
	// ErrUnknownTZID: a TZID that neither Go's time zone database nor a
	// VTIMEZONE of the object defines.
	ErrUnknownTZID = errors.New("unknown TZID")
	// ErrTooManyInstances: expanding a recurrence for one query would walk
	// more than MaxExpandSteps occurrences (a query window far too wide
	// for the rule, or a rule that recurs too often).
	ErrTooManyInstances = errors.New("too many recurrence instances")
)

// ObjectError is the error of every function that reads one calendar
// object: it names the object and wraps the cause (one of ErrICalSyntax,
// ErrICalInvalid, ErrUnknownTZID, ErrTooManyInstances, with context).
type ObjectError struct {
	Name string // object name (last path segment); may be empty
	UID  string // UID of the event, when it could be read
	Err  error
}

// Error names the object by UID when known, by Name otherwise (and both
// when both are known).
func (e *ObjectError) Error() string {
	switch {
	case e.UID != "" && e.Name != "":
		return fmt.Sprintf("caldav: event %q (object %s): %v", e.UID, e.Name, e.Err)
	case e.UID != "":
		return fmt.Sprintf("caldav: event %q: %v", e.UID, e.Err)
	case e.Name != "":
		return fmt.Sprintf("caldav: object %s: %v", e.Name, e.Err)
	default:
		return fmt.Sprintf("caldav: calendar object: %v", e.Err)
	}
}

// Unwrap returns the cause.
func (e *ObjectError) Unwrap() error { return e.Err }

// Organizer is the ORGANIZER of an event. Its parameters other than CN
// (SENT-BY, …) are not kept; the encoder writes SCHEDULE-AGENT=CLIENT.
type Organizer struct {
	Name  string // CN parameter
	Email string // address without "mailto:"; a value that is not a mailto: URI is kept whole
}

// Attendee is one ATTENDEE line.
type Attendee struct {
	Name     string // CN parameter
	Email    string // address without "mailto:"; a value that is not a mailto: URI is kept whole
	PartStat string // PARTSTAT parameter (ACCEPTED, TENTATIVE, NEEDS-ACTION, …); "" when absent
	// Params holds the other parameters (ROLE, RSVP, X-ROOMCAL-…), names
	// in upper case. A parameter given several values reads as the values
	// joined by commas. CN, PARTSTAT and SCHEDULE-AGENT never appear here:
	// the encoder always writes SCHEDULE-AGENT=CLIENT.
	Params map[string]string
}

// Event is one VEVENT, as EncodeEvent writes it and Item.Master reads it,
// so that an event read, changed and written again keeps its content.
//
// Times: Start, End, RecurrenceID, RDates and ExDates are written in the
// location of Start (with its TZID and a VTIMEZONE generated from Go's
// time zone database), or as UTC with a Z when that location is UTC, or
// when the local time occurs twice there (see EncodeObject). When read, a
// local time that occurs twice is its first occurrence (RFC 5545 3.3.5);
// floating times and dates come back in the site's location
// given to ParseObject (so a floating time written back gets that TZID);
// AllDay events come back at midnight in it.
type Event struct {
	UID string
	// RecurrenceID is set on an override of one instance of a recurring
	// event (zero on the master and on single events).
	RecurrenceID time.Time

	Summary     string
	Description string
	Location    string // LOCATION text

	Start time.Time
	// End is the exclusive end. Zero means no DTEND: a zero-length event
	// for date-times, one day for AllDay events. When read, a DURATION is
	// turned into End.
	End time.Time
	// AllDay writes Start and End as dates (VALUE=DATE): End is then the
	// day after the last day.
	AllDay bool

	RRule  string      // RRULE value without "RRULE:", e.g. "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270628T073000Z"
	RDates []time.Time // extra instances (RDATE), as long as the event
	// RPeriods are extra instances with their own end (RDATE;VALUE=PERIOD),
	// written in UTC.
	RPeriods []Period
	ExDates  []time.Time // excluded instances (EXDATE)

	Organizer Organizer // no ORGANIZER line when Email is ""
	Attendees []Attendee

	Status   string // STATUS: TENTATIVE, CONFIRMED, CANCELLED or ""
	Class    string // CLASS: PUBLIC, PRIVATE, CONFIDENTIAL or "" (see CALDAV-NOTES: bookings as CONFIDENTIAL)
	Transp   string // TRANSP: OPAQUE, TRANSPARENT or ""
	Sequence int

	Created      time.Time
	LastModified time.Time
	DTStamp      time.Time // written as the current time when zero

	// XProps are the X-ROOMCAL-* properties, keyed by their full name in
	// upper case ("X-ROOMCAL-CAPACITY"), values as plain text.
	XProps map[string]string

	// Extra keeps the properties none of the fields above models
	// (CATEGORIES, URL, GEO, EXRULE, X-MOZ-…) exactly as read,
	// so that read-modify-write does not lose them.
	Extra []ical.Prop
	// Alarms keeps VALARM sub-components as read.
	Alarms []*ical.Component
}

// Period is a time span [Start, End).
type Period struct {
	Start, End time.Time
}

// Item is one parsed calendar object: the VEVENTs of one UID. It is
// immutable once returned and safe for concurrent use.
type Item struct {
	Name string // object name, as given to ParseObject
	ETag string // object ETag, as given to ParseObject
	UID  string // "" only when the object holds no VEVENT

	master    *vevent   // nil when the object holds only overrides
	overrides []*vevent // sorted by RECURRENCE-ID
}

// ParseObject reads one calendar object resource. loc is the site's time
// zone, used for floating date-times and for all-day (VALUE=DATE) values;
// nil means UTC.
//
// The object must hold the VEVENTs of a single UID (RFC 4791, 4.1): a
// master and any number of RECURRENCE-ID overrides. VTODO, VJOURNAL and
// VFREEBUSY components are ignored; an object with no VEVENT gives an Item
// with no instances. Every error is an *ObjectError naming obj.
//
// Time zones: a TZID is looked up in Go's time zone database (import
// time/tzdata in binaries that run without /usr/share/zoneinfo), then
// with a vendor prefix removed ("/mozilla.org/20070129_1/Europe/Paris"),
// then built from the object's VTIMEZONE with that TZID (how Outlook's
// "W. Europe Standard Time" is read). A TZID none of these resolves is an
// ErrUnknownTZID error. TZID=Local is never taken as the server's zone.
func ParseObject(obj Object, loc *time.Location) (*Item, error) {
	if loc == nil {
		loc = time.UTC
	}
	cal, err := decodeICalendar(obj.Data)
	if err != nil {
		return nil, &ObjectError{Name: obj.Name, Err: err}
	}
	groups, order, uidErr := groupEvents(cal)
	if uidErr != nil {
		return nil, &ObjectError{Name: obj.Name, Err: uidErr}
	}
	switch len(order) {
	case 0:
		return &Item{Name: obj.Name, ETag: obj.ETag}, nil
	case 1:
	default:
		return nil, &ObjectError{Name: obj.Name, UID: order[0], Err: fmt.Errorf(
			"%w: the object holds %d UIDs (%s), a calendar object may hold one (use ParseCalendar for exports)",
			ErrICalInvalid, len(order), strings.Join(quoteUIDs(order), ", "))}
	}
	it, err := buildItem(obj.Name, obj.ETag, order[0], groups[order[0]], newTZResolver(cal), loc)
	if err != nil {
		return nil, err
	}
	return it, nil
}

// ParseCalendar reads a stream that may hold the events of many UIDs (a
// calendar export, or a body with several VCALENDARs), and returns one
// Item per UID in order of first appearance, all with the given name.
// Errors are isolated per UID: each bad UID adds an *ObjectError to errs
// and the others are still returned. A stream that cannot be decoded at
// all gives no items and one error.
func ParseCalendar(name string, data []byte, loc *time.Location) (items []*Item, errs []error) {
	if loc == nil {
		loc = time.UTC
	}
	cal, err := decodeICalendar(data)
	if err != nil {
		return nil, []error{&ObjectError{Name: name, Err: err}}
	}
	groups, order, uidErr := groupEvents(cal)
	if uidErr != nil {
		errs = append(errs, &ObjectError{Name: name, Err: uidErr})
	}
	tzr := newTZResolver(cal)
	for _, uid := range order {
		it, err := buildItem(name, "", uid, groups[uid], tzr, loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	return items, errs
}

// Master returns the master VEVENT (the one without RECURRENCE-ID) as an
// Event, or nil when the object holds only overrides or no event. The
// result is a fresh copy the caller may change and give to EncodeEvent;
// when Recurring reports overrides, write back Events with EncodeObject
// instead, or the overrides are lost.
func (it *Item) Master() *Event {
	if it.master == nil {
		return nil
	}
	ev := it.master.event()
	return &ev
}

// Events returns every VEVENT of the object as Events, the master first
// (when there is one) and then the overrides by RECURRENCE-ID: what
// EncodeObject takes to write the object back. The slice is a fresh copy.
func (it *Item) Events() []Event {
	out := make([]Event, 0, 1+len(it.overrides))
	if it.master != nil {
		out = append(out, it.master.event())
	}
	for _, o := range it.overrides {
		out = append(out, o.event())
	}
	return out
}

// Recurring reports whether the item has more than one possible instance
// (an RRULE or RDATE on the master, or overrides).
func (it *Item) Recurring() bool {
	return (it.master != nil && it.master.recurring()) || len(it.overrides) > 0
}

// decodeICalendar decodes data into one VCALENDAR (the children of several
// concatenated VCALENDARs are merged), turning the decoder's panics and
// its bare io.EOF into errors matching ErrICalSyntax.
func decodeICalendar(data []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if r := recover(); r != nil {
			cal, err = nil, fmt.Errorf("%w: the decoder failed on a malformed line: %v", ErrICalSyntax, r)
		}
	}()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrICalSyntax)
	}
	dec := ical.NewDecoder(bytes.NewReader(data))
	for {
		c, derr := dec.Decode()
		if derr != nil {
			if errors.Is(derr, io.EOF) || errors.Is(derr, io.ErrUnexpectedEOF) {
				if cal != nil && !truncatedTail(data) {
					return cal, nil
				}
				return nil, fmt.Errorf("%w: body cut off before END:VCALENDAR", ErrICalSyntax)
			}
			return nil, fmt.Errorf("%w: %v", ErrICalSyntax, derr)
		}
		if cal == nil {
			cal = c
		} else {
			cal.Children = append(cal.Children, c.Children...)
		}
	}
}

// truncatedTail reports whether something other than white space follows
// the last END:VCALENDAR of data (the decoder says io.EOF both at a clean
// end and in the middle of a component).
func truncatedTail(data []byte) bool {
	up := bytes.ToUpper(data)
	i := bytes.LastIndex(up, []byte("END:VCALENDAR"))
	if i < 0 {
		return true
	}
	return len(bytes.TrimSpace(data[i+len("END:VCALENDAR"):])) != 0
}

// groupEvents gathers the VEVENTs of cal by UID, in order of first
// appearance. A VEVENT without UID makes the returned error (the others
// are still grouped).
func groupEvents(cal *ical.Calendar) (map[string][]*ical.Component, []string, error) {
	groups := make(map[string][]*ical.Component)
	var order []string
	var missing int
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		uid := ""
		if p := c.Props.Get(ical.PropUID); p != nil {
			uid = strings.TrimSpace(unescapeText(p.Value))
		}
		if uid == "" {
			missing++
			continue
		}
		if _, ok := groups[uid]; !ok {
			order = append(order, uid)
		}
		groups[uid] = append(groups[uid], c)
	}
	if missing > 0 {
		return groups, order, fmt.Errorf("%w: %d VEVENT(s) without UID", ErrICalInvalid, missing)
	}
	return groups, order, nil
}

// buildItem parses the VEVENTs of one UID.
func buildItem(name, etag, uid string, comps []*ical.Component, tzr *tzResolver, loc *time.Location) (*Item, error) {
	fail := func(err error) (*Item, error) {
		return nil, &ObjectError{Name: name, UID: uid, Err: err}
	}
	it := &Item{Name: name, ETag: etag, UID: uid}
	byRID := make(map[int64]*vevent)
	for _, c := range comps {
		ev, err := parseVEvent(c, tzr, loc)
		if err != nil {
			return fail(err)
		}
		ev.uid = uid
		if ev.recurrenceID.IsZero() {
			if it.master != nil {
				return fail(fmt.Errorf("%w: several VEVENTs without RECURRENCE-ID", ErrICalInvalid))
			}
			it.master = ev
			continue
		}
		key := ev.recurrenceID.Unix()
		if prev, ok := byRID[key]; ok {
			// Two overrides of one instance: the higher SEQUENCE wins,
			// the later one on a tie.
			if prev.sequence > ev.sequence {
				continue
			}
		}
		byRID[key] = ev
	}
	for _, ev := range byRID {
		it.overrides = append(it.overrides, ev)
	}
	sort.Slice(it.overrides, func(i, j int) bool {
		return it.overrides[i].recurrenceID.Before(it.overrides[j].recurrenceID)
	})
	return it, nil
}

func quoteUIDs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
