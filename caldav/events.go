package caldav

// Internal events in an events calendar.
//
// An internal event is one calendar object (name ObjectName(id), UID the
// event id) holding one VEVENT, written so that it goes through Nextcloud
// (or any CalDAV client) and back untouched:
//
//	SUMMARY          Event.Title
//	DESCRIPTION      Event.Description (no line when empty)
//	DTSTART, DTEND   Event.Start, Event.End, written in the zone of the
//	                 event's room (the zone func; UTC when it has none)
//	                 with a VTIMEZONE; read back in UTC or in the zone the
//	                 object names (compare with Equal)
//	LOCATION         Event.Location (free text)
//	STATUS           CONFIRMED, or CANCELLED when Settings.Cancelled
//	CLASS            PUBLIC on Create; a class set by a person is kept
//	ORGANIZER        mailto:Organizer.Email with CN=Organizer.Name (no line
//	                 when the organiser has no e-mail address)
//	CREATED          Event.Created (kept from the object when zero)
//	LAST-MODIFIED, DTSTAMP  the time of the write
//	SEQUENCE         0 on Create, the object's SEQUENCE + 1 on each Update
//	X-ROOMCAL-KIND                 internal-event (never "booking" or
//	                               "event", the kinds of room calendars)
//	X-ROOMCAL-ORGANIZER-ID         Organizer.ID
//	X-ROOMCAL-ORGANIZER-NAME       Organizer.Name
//	X-ROOMCAL-ROOM                 Event.Room (room id; absent when "")
//	X-ROOMCAL-ROOM-BOOKING         Event.RoomBooking (absent when "")
//	X-ROOMCAL-CAPACITY             Settings.Capacity (integer, required)
//	X-ROOMCAL-WAITLIST             TRUE or FALSE (Settings.Waitlist)
//	X-ROOMCAL-REGISTRATION-OPENS   Settings.Opens, UTC 20261201T090000Z,
//	X-ROOMCAL-REGISTRATION-CLOSES  Settings.Closes; absent when zero
//	X-ROOMCAL-REV                  "gen:ver", Record.Gen and Record.Ver
//	                               (absent when both are empty)
//
// Every registration is one ATTENDEE, in the order of
// Record.Registrations (the domain gives the confirmed ones by Seq, then
// the waitlisted ones by Seq):
//
//	ATTENDEE;CN=name;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;
//	 RSVP=FALSE;SCHEDULE-AGENT=CLIENT;X-ROOMCAL-AT=20261201T090000Z;
//	 X-ROOMCAL-MEMBER=member-id;X-ROOMCAL-SEQ=3;X-ROOMCAL-STATUS=confirmed:
//	 mailto:email
//
// PARTSTAT is ACCEPTED for a confirmed registration and TENTATIVE for a
// waitlisted one; X-ROOMCAL-STATUS is confirmed or waitlisted,
// X-ROOMCAL-SEQ the arrival number (left out when 0), X-ROOMCAL-AT when
// the member registered (UTC, to the second; left out when zero),
// X-ROOMCAL-TOLD what the member was last told (Registration.Told; left
// out when empty), X-ROOMCAL-PROMOTED when a confirmed registration was
// confirmed from the waiting list (Registration.Promoted, UTC, to the
// second; left out when zero, and not read on a waitlisted one). The
// value is mailto:Email, or urn:roomcal:member:ID (ID path-escaped) for a
// member without an e-mail address. SCHEDULE-AGENT=CLIENT (on ORGANIZER
// too) is written by the encoder so that Nextcloud mails nobody. Text is
// escaped, and CN and X-ROOMCAL-MEMBER are quoted or caret-encoded
// (RFC 6868) as they need: names may hold commas, semicolons and quotes.
//
// Reading an object back (Read):
//   - An object whose VEVENT has no X-ROOMCAL-KIND:internal-event (or has
//     only RECURRENCE-ID overrides) is not an internal event:
//     booking.ErrNotFound, like a missing object. An object that cannot
//     be parsed, whose UID does not belong at its name, or whose
//     X-ROOMCAL-CAPACITY, -WAITLIST, -REGISTRATION-OPENS or -CLOSES
//     cannot be read, gives an error wrapping booking.ErrInvalid that
//     names the event.
//   - Registrations are the attendees in object order. An attendee with
//     X-ROOMCAL-MEMBER and X-ROOMCAL-SEQ is roomcal's: Member, Seq, At
//     and Status come from those parameters. An attendee without them was
//     added in a calendar client: Member is "mailto:" + the lowercased
//     address (the URI itself when it is not a mailto:), Seq 0, At zero,
//     Status confirmed for PARTSTAT=ACCEPTED and waitlisted otherwise.
//     (An attendee with X-ROOMCAL-MEMBER but no X-ROOMCAL-SEQ, which
//     roomcal writes for a registration of Seq 0 that the object did not
//     hold yet, reads as that member with Seq 0.) X-ROOMCAL-STATUS wins
//     over PARTSTAT: a waitlisted attendee marked ACCEPTED by hand stays
//     waitlisted, the gate decides who gets a seat.
//   - Left out: attendees with PARTSTAT=DECLINED, and the organiser's own
//     ATTENDEE line that clients add (same address as ORGANIZER, no
//     roomcal parameters).
//   - Record.Gen/Ver come from X-ROOMCAL-REV ("" and 0 when absent or not
//     readable), Record.ETag is the object's, and Record.Base is the
//     parsed object (*Item).
//
// Writing back (Update) starts from Record.Base, or from the object as
// the server holds it at Record.ETag: everything the domain does not
// model is kept — VALARMs, CATEGORIES, ATTACH, URL, other clients' X-
// properties, X-ROOMCAL-* properties other than the ones above, TRANSP,
// CLASS, an RRULE and RECURRENCE-ID overrides (roomcal manages only the
// master VEVENT). Attendees: the parameters roomcal does not set on a
// registration's ATTENDEE line (LANGUAGE, X-NUM-GUESTS, …) are kept; an
// attendee the domain has not numbered (Seq 0) that the object holds
// keeps its line as it is, PARTSTAT changed only when it contradicts the
// registration's status; the lines Read left out (DECLINED, the
// organiser's) are kept after the registrations unless a registration
// has the same member or address.
//
// Known loss: a parameter given several values (DELEGATED-TO="a","b") is
// written back as one quoted value holding the commas (see Attendee).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// KindInternalEvent is the X-ROOMCAL-KIND of an internal event's VEVENT
// in the events calendar.
const KindInternalEvent = "internal-event"

// X-ROOMCAL-* properties of an internal event's VEVENT (with propKind,
// propOrganizerID and propOrganizerName of rooms.go).
const (
	evPropRoom        = "X-ROOMCAL-ROOM"
	evPropRoomBooking = "X-ROOMCAL-ROOM-BOOKING"
	evPropCapacity    = "X-ROOMCAL-CAPACITY"
	evPropWaitlist    = "X-ROOMCAL-WAITLIST"
	evPropOpens       = "X-ROOMCAL-REGISTRATION-OPENS"
	evPropCloses      = "X-ROOMCAL-REGISTRATION-CLOSES"
	evPropRev         = "X-ROOMCAL-REV"
)

// evOwnProps are the properties EventCalendar sets on every write; other
// X-ROOMCAL-* properties of an object are kept.
var evOwnProps = []string{
	propKind, propOrganizerID, propOrganizerName, evPropRoom, evPropRoomBooking,
	evPropCapacity, evPropWaitlist, evPropOpens, evPropCloses, evPropRev,
}

// ATTENDEE parameters of a registration.
const (
	evParamMember = "X-ROOMCAL-MEMBER"
	evParamStatus = "X-ROOMCAL-STATUS"
	evParamSeq    = "X-ROOMCAL-SEQ"
	evParamAt     = "X-ROOMCAL-AT"
	// evParamTold is what the member was last told (Registration.Told,
	// events/notices.go); left out when empty.
	evParamTold = "X-ROOMCAL-TOLD"
	// evParamPromoted is when the registration was confirmed from the
	// waiting list (Registration.Promoted); left out when zero.
	evParamPromoted = "X-ROOMCAL-PROMOTED"
	evParamRole     = "ROLE"
	evParamCUType   = "CUTYPE"
	evParamRSVP     = "RSVP"
)

// memberURN prefixes the ATTENDEE value of a member without e-mail.
const memberURN = "urn:roomcal:member:"

// evWrittenCap bounds the objects EventCalendar remembers having
// written (see EventCalendar.base).
const evWrittenCap = 64

// EventCalendar is the events calendar of internal events on a Store: one
// calendar collection, one object per event. It implements
// events.Calendar and is safe for concurrent use.
type EventCalendar struct {
	store Store
	cal   string
	zone  func(room string) *time.Location
	log   *slog.Logger

	mu      sync.Mutex
	written map[string]*Item // by event id: the last object written, at its new ETag
	listing syncView         // the calendar at the last token Changes answered, when the store listed it
}

var _ events.Calendar = (*EventCalendar)(nil)

// NewEventCalendar returns the events calendar kept in store under the
// collection calendar. zone gives the time zone an event's times are
// written in, from its room (the room's site); nil, or a nil answer,
// means UTC.
func NewEventCalendar(store Store, calendar string, zone func(room string) *time.Location, log *slog.Logger) *EventCalendar {
	if log == nil {
		log = slog.Default()
	}
	return &EventCalendar{store: store, cal: calendar, zone: zone, log: log, written: make(map[string]*Item)}
}

// Ping checks that the store answers.
func (ec *EventCalendar) Ping(ctx context.Context) error { return domainErr(ec.store.Ping(ctx)) }

// Changes lists what changed in the calendar since token ("" for
// everything). A token the store no longer knows gives a Full listing.
// Every object is listed, internal event or not (Read tells); refs are
// object names without ".ics", which Read takes as ids.
//
// The Client answers a token with a Full listing (so that no deletion is
// missed on a server that leaves created-and-deleted objects out of its
// deltas, Xandikos). When this EventCalendar answered that token itself
// from a listing, it turns the new listing back into a delta against the
// old one, so that the events sync reads only what changed; an event it
// wrote since and that the new listing lacks is reported deleted. (An
// event written by another replica and deleted before this one's next
// sync is then seen only at the next Full answer: after a restart, or
// when the replicas take turns syncing.)
func (ec *EventCalendar) Changes(ctx context.Context, token string) (events.Changes, error) {
	ch, err := ec.store.Changes(ctx, ec.cal, token)
	if token != "" && errors.Is(err, ErrInvalidSyncToken) {
		ec.log.Info("caldav: events: sync token expired, listing the whole calendar", "calendar", ec.cal, "err", err)
		token = ""
		ch, err = ec.store.Changes(ctx, ec.cal, "")
	}
	if err != nil {
		return events.Changes{}, fmt.Errorf("changes of %s: %w", ec.cal, domainErr(err))
	}
	ch = ec.asDelta(token, ch)
	out := events.Changes{Token: ch.Token, Full: ch.Full}
	for _, o := range ch.Changed {
		out.Changed = append(out.Changed, events.Ref{ID: refOf(o.Name), ETag: o.ETag})
	}
	for _, name := range ch.Deleted {
		out.Deleted = append(out.Deleted, refOf(name))
	}
	return out, nil
}

// asDelta keeps a Full answer as the listing at its token and, when the
// listing at token was kept, returns the difference from it instead
// (see Changes). Other answers pass through and drop the listing.
func (ec *EventCalendar) asDelta(token string, ch Changes) Changes {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	old := ec.listing
	ec.listing = syncView{}
	if !ch.Full || ch.Token == "" {
		return ch
	}
	now := make(map[string]string, len(ch.Changed))
	for _, r := range ch.Changed {
		now[r.Name] = r.ETag
	}
	ec.listing = syncView{token: ch.Token, etags: now}
	if token == "" || old.token != token {
		return ch
	}
	d := Changes{Token: ch.Token}
	for _, r := range ch.Changed {
		if e, ok := old.etags[r.Name]; !ok || e != r.ETag || e == "" {
			d.Changed = append(d.Changed, r)
		}
	}
	gone := map[string]bool{}
	for n := range old.etags {
		if _, ok := now[n]; !ok {
			gone[n] = true
		}
	}
	// Written by this EventCalendar after the old listing and gone from
	// the new one: reported once, and no longer kept as a base.
	for id := range ec.written {
		n := ObjectName(id)
		_, before := old.etags[n]
		if _, ok := now[n]; !ok && !before {
			gone[n] = true
			delete(ec.written, id)
		}
	}
	for n := range gone {
		d.Deleted = append(d.Deleted, n)
	}
	slices.Sort(d.Deleted)
	return d
}

// loc is the zone of room's site, UTC when unknown.
func (ec *EventCalendar) loc(room string) *time.Location {
	if ec.zone != nil {
		if l := ec.zone(room); l != nil {
			return l
		}
	}
	return time.UTC
}

// Read reads one event. A missing object, or one that is not an internal
// event, gives booking.ErrNotFound; one that cannot be read
// booking.ErrInvalid.
func (ec *EventCalendar) Read(ctx context.Context, id string) (events.Record, error) {
	obj, err := ec.store.Get(ctx, ec.cal, ObjectName(id))
	if err != nil {
		return events.Record{}, fmt.Errorf("read event %s: %w", id, domainErr(err))
	}
	return ec.decode(id, obj)
}

// decode reads the object of event id.
func (ec *EventCalendar) decode(id string, obj Object) (events.Record, error) {
	invalid := func(format string, args ...any) (events.Record, error) {
		return events.Record{}, fmt.Errorf("read event %s: %w: %s", id, booking.ErrInvalid, fmt.Sprintf(format, args...))
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil {
		return events.Record{}, fmt.Errorf("read event %s: %w: %w", id, booking.ErrInvalid, err)
	}
	m := it.Master()
	if m == nil || m.XProps[propKind] != KindInternalEvent {
		return events.Record{}, fmt.Errorf("read event %s: object %s is not an internal event: %w", id, obj.Name, booking.ErrNotFound)
	}
	if ObjectName(m.UID) != ObjectName(id) {
		return invalid("object %s holds the event %q", ObjectName(id), m.UID)
	}
	// Floating and all-day times are read in the site's zone.
	if loc := ec.loc(m.XProps[evPropRoom]); loc != time.UTC {
		it, err = ParseObject(obj, loc)
		if err != nil {
			return events.Record{}, fmt.Errorf("read event %s: %w: %w", id, booking.ErrInvalid, err)
		}
		m = it.Master()
	}
	x := m.XProps

	set := events.Settings{Start: m.Start, Cancelled: m.Status == "CANCELLED"}
	capText, ok := x[evPropCapacity]
	if !ok {
		return invalid("no %s", evPropCapacity)
	}
	if set.Capacity, err = strconv.Atoi(strings.TrimSpace(capText)); err != nil {
		return invalid("%s %q is not an integer", evPropCapacity, capText)
	}
	switch w := strings.ToUpper(strings.TrimSpace(x[evPropWaitlist])); w {
	case "TRUE":
		set.Waitlist = true
	case "FALSE", "":
	default:
		return invalid("%s %q is neither TRUE nor FALSE", evPropWaitlist, x[evPropWaitlist])
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{evPropOpens, &set.Opens}, {evPropCloses, &set.Closes}} {
		v := strings.TrimSpace(x[f.name])
		if v == "" {
			continue
		}
		if *f.dst, err = parseUTCStamp(v); err != nil {
			return invalid("%s %q is not a UTC date-time", f.name, v)
		}
	}

	orgEmail := ""
	if isMailAddress(m.Organizer.Email) {
		orgEmail = m.Organizer.Email
	}
	ev := events.Event{
		ID:          m.UID,
		Title:       m.Summary,
		Description: m.Description,
		Start:       m.Start,
		End:         m.End,
		Room:        x[evPropRoom],
		RoomBooking: x[evPropRoomBooking],
		Location:    m.Location,
		Organizer:   booking.Member{ID: x[propOrganizerID], Name: x[propOrganizerName], Email: orgEmail},
		Settings:    set,
		Created:     m.Created,
	}
	if ev.Organizer.Name == "" {
		ev.Organizer.Name = m.Organizer.Name
	}

	rec := events.Record{Event: ev, ETag: obj.ETag, Sequence: m.Sequence, Base: it}
	if rev := strings.TrimSpace(x[evPropRev]); rev != "" {
		if rec.Gen, rec.Ver, err = parseRev(rev); err != nil {
			ec.log.Warn("caldav: events: unreadable revision, read as none", "event", id, "rev", rev, "err", err)
		}
	}
	for i, a := range m.Attendees {
		if leftOut(a, orgEmail) {
			continue
		}
		r, ok := ec.registration(a)
		if !ok {
			ec.log.Warn("caldav: events: attendee without an address left out", "event", id, "attendee", i)
			continue
		}
		rec.Registrations = append(rec.Registrations, r)
	}
	return rec, nil
}

// leftOut reports whether Read leaves attendee a out: it declined, or it
// is the organiser's own line (orgEmail) that clients add.
func leftOut(a Attendee, orgEmail string) bool {
	if strings.EqualFold(strings.TrimSpace(a.PartStat), "DECLINED") {
		return true
	}
	_, member := a.Params[evParamMember]
	_, seq := a.Params[evParamSeq]
	return !member && !seq && orgEmail != "" && strings.EqualFold(a.Email, orgEmail)
}

// registration reads one ATTENDEE; ok is false for one without address
// or member.
func (ec *EventCalendar) registration(a Attendee) (events.Registration, bool) {
	addr := strings.TrimSpace(a.Email)
	r := events.Registration{Name: a.Name}
	if isMailAddress(addr) {
		r.Email = addr
	}
	member, roomcal := a.Params[evParamMember]
	r.Member = strings.TrimSpace(member)
	if r.Member == "" {
		roomcal = false
		switch {
		case r.Email != "":
			r.Member = "mailto:" + strings.ToLower(r.Email)
		case len(addr) > len(memberURN) && strings.EqualFold(addr[:len(memberURN)], memberURN):
			id, err := url.PathUnescape(addr[len(memberURN):])
			if err != nil {
				id = addr[len(memberURN):]
			}
			r.Member = id
		case addr != "":
			r.Member = addr // another URI, kept whole
		default:
			return r, false
		}
	}
	if s, ok := a.Params[evParamSeq]; ok && roomcal {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n > 0 {
			r.Seq = n
		} else {
			ec.log.Warn("caldav: events: unreadable "+evParamSeq+", read as 0", "member", r.Member, "value", s)
		}
	}
	switch st := events.RegStatus(strings.ToLower(strings.TrimSpace(a.Params[evParamStatus]))); {
	case roomcal && (st == events.Confirmed || st == events.Waitlisted):
		r.Status = st
	case strings.EqualFold(strings.TrimSpace(a.PartStat), "ACCEPTED"):
		r.Status = events.Confirmed
	default:
		r.Status = events.Waitlisted
	}
	r.Told = strings.TrimSpace(a.Params[evParamTold])
	if at := strings.TrimSpace(a.Params[evParamAt]); at != "" && roomcal {
		if t, err := parseUTCStamp(at); err == nil {
			r.At = t
		} else {
			ec.log.Warn("caldav: events: unreadable "+evParamAt+", read as zero", "member", r.Member, "value", at)
		}
	}
	if p := strings.TrimSpace(a.Params[evParamPromoted]); p != "" && roomcal && r.Status == events.Confirmed {
		if t, err := parseUTCStamp(p); err == nil {
			r.Promoted = t
		} else {
			ec.log.Warn("caldav: events: unreadable "+evParamPromoted+", read as zero", "member", r.Member, "value", p)
		}
	}
	return r, true
}

// Create writes a new event only if no object has its name (If-None-Match)
// and returns the object's ETag. An existing object gives
// booking.ErrStale (the store's ErrPrecondition). rec.Base is not used.
func (ec *EventCalendar) Create(ctx context.Context, rec events.Record) (string, error) {
	data, err := ec.encode(rec, nil, time.Now())
	if err != nil {
		return "", err
	}
	name := ObjectName(rec.Event.ID)
	etag, err := ec.store.Create(ctx, ec.cal, name, data)
	if err != nil {
		return "", fmt.Errorf("create event %s: %w", rec.Event.ID, domainErr(err))
	}
	ec.remember(rec.Event.ID, name, etag, data)
	return etag, nil
}

// Update rewrites the event only if its object's ETag is still rec.ETag
// (If-Match) and returns the new ETag; booking.ErrStale otherwise, also
// when the object is gone.
//
// The object is written from rec.Base when it is the object at rec.ETag,
// else from the one this EventCalendar last wrote at that ETag, else
// from the object read again (one more request; an object found at
// another ETag gives booking.ErrStale at once).
func (ec *EventCalendar) Update(ctx context.Context, rec events.Record) (string, error) {
	id := rec.Event.ID
	if rec.ETag == "" {
		return "", fmt.Errorf("update event %s: %w: no ETag (a new event is written with Create)", id, booking.ErrInvalid)
	}
	base, err := ec.base(ctx, rec)
	if err != nil {
		return "", err
	}
	data, err := ec.encode(rec, base, time.Now())
	if err != nil {
		return "", err
	}
	name := ObjectName(id)
	etag, err := ec.store.Update(ctx, ec.cal, name, data, rec.ETag)
	if err != nil {
		ec.forget(id)
		return "", fmt.Errorf("update event %s: %w", id, domainErr(err))
	}
	ec.remember(id, name, etag, data)
	return etag, nil
}

// base finds the object an Update of rec starts from.
func (ec *EventCalendar) base(ctx context.Context, rec events.Record) (*Item, error) {
	id := rec.Event.ID
	if it, ok := rec.Base.(*Item); ok && it != nil && it.ETag == rec.ETag && it.UID == id {
		return it, nil
	}
	ec.mu.Lock()
	it := ec.written[id]
	ec.mu.Unlock()
	if it != nil && it.ETag == rec.ETag {
		return it, nil
	}
	obj, err := ec.store.Get(ctx, ec.cal, ObjectName(id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// Gone: the conditional write would lose.
			return nil, fmt.Errorf("update event %s: %w: the object is gone: %w", id, booking.ErrStale, err)
		}
		return nil, fmt.Errorf("update event %s: %w", id, domainErr(err))
	}
	if obj.ETag != rec.ETag {
		return nil, fmt.Errorf("update event %s: %w: ETag %q is not the current one %q", id, booking.ErrStale, rec.ETag, obj.ETag)
	}
	it, err = ParseObject(obj, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("update event %s: %w: %w", id, booking.ErrInvalid, err)
	}
	return it, nil
}

// remember keeps the object just written, so that the next Update from
// the same Record (with the new ETag and its old Base) need not read it.
func (ec *EventCalendar) remember(id, name, etag string, data []byte) {
	if etag == "" {
		return
	}
	it, err := ParseObject(Object{Name: name, ETag: etag, Data: data}, time.UTC)
	if err != nil {
		ec.log.Warn("caldav: events: our own object does not parse", "event", id, "err", err)
		ec.forget(id)
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if _, ok := ec.written[id]; !ok && len(ec.written) >= evWrittenCap {
		for k := range ec.written { // drop any one
			delete(ec.written, k)
			break
		}
	}
	ec.written[id] = it
}

func (ec *EventCalendar) forget(id string) {
	ec.mu.Lock()
	delete(ec.written, id)
	ec.mu.Unlock()
}

// encode writes rec as a calendar object, starting from base (nil for a
// new object). Errors wrap booking.ErrInvalid.
func (ec *EventCalendar) encode(rec events.Record, base *Item, now time.Time) ([]byte, error) {
	e := rec.Event
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("write event %s: %w: %w", e.ID, booking.ErrInvalid, err)
	}
	if strings.TrimSpace(e.ID) == "" {
		return fail(errors.New("no id"))
	}
	now = now.UTC().Truncate(time.Second)

	var m Event
	var rest []Event // RECURRENCE-ID overrides, kept as they are
	baseOrg := ""
	if base != nil {
		evs := base.Events()
		if len(evs) > 0 && evs[0].RecurrenceID.IsZero() {
			m, rest = evs[0], evs[1:]
			m.Sequence++
			if isMailAddress(m.Organizer.Email) {
				baseOrg = m.Organizer.Email
			}
		} else {
			rest = evs
		}
	}
	loc := ec.loc(e.Room)
	m.UID = e.ID
	m.Summary = e.Title
	m.Description = e.Description
	m.Location = e.Location
	m.Start = e.Start.In(loc)
	m.End = time.Time{}
	if !e.End.IsZero() {
		m.End = e.End.In(loc)
	}
	m.AllDay = false
	m.Status = "CONFIRMED"
	if e.Settings.Cancelled {
		m.Status = "CANCELLED"
	}
	if m.Class == "" {
		m.Class = "PUBLIC"
	}
	m.Organizer = Organizer{}
	if e.Organizer.Email != "" {
		m.Organizer = Organizer{Name: e.Organizer.Name, Email: e.Organizer.Email}
	}
	switch {
	case !e.Created.IsZero():
		m.Created = e.Created.UTC()
	case m.Created.IsZero():
		m.Created = now
	}
	m.LastModified, m.DTStamp = now, now

	x := make(map[string]string, len(m.XProps)+len(evOwnProps))
	for k, v := range m.XProps {
		x[k] = v
	}
	for _, k := range evOwnProps {
		delete(x, k)
	}
	x[propKind] = KindInternalEvent
	x[propOrganizerID] = e.Organizer.ID
	x[propOrganizerName] = e.Organizer.Name
	if e.Room != "" {
		x[evPropRoom] = e.Room
	}
	if e.RoomBooking != "" {
		x[evPropRoomBooking] = e.RoomBooking
	}
	x[evPropCapacity] = strconv.Itoa(e.Settings.Capacity)
	x[evPropWaitlist] = "FALSE"
	if e.Settings.Waitlist {
		x[evPropWaitlist] = "TRUE"
	}
	if !e.Settings.Opens.IsZero() {
		x[evPropOpens] = e.Settings.Opens.UTC().Format(icalDateTimeUTC)
	}
	if !e.Settings.Closes.IsZero() {
		x[evPropCloses] = e.Settings.Closes.UTC().Format(icalDateTimeUTC)
	}
	if rec.Gen != "" || rec.Ver != 0 {
		if strings.ContainsAny(rec.Gen, ":\r\n") {
			return fail(fmt.Errorf("generation %q holds a colon or a line break", rec.Gen))
		}
		x[evPropRev] = rec.Gen + ":" + strconv.FormatInt(rec.Ver, 10)
	}
	m.XProps = x

	atts, err := attendees(rec.Registrations, m.Attendees, baseOrg)
	if err != nil {
		return fail(err)
	}
	m.Attendees = atts

	data, err := EncodeObject(append([]Event{m}, rest...))
	if err != nil {
		return fail(err)
	}
	return data, nil
}

// attendees builds the ATTENDEE lines of regs, keeping from the base
// object's lines what roomcal does not set (see the top of this file).
// baseOrg is the base object's organiser address.
func attendees(regs []events.Registration, base []Attendee, baseOrg string) ([]Attendee, error) {
	byMember := map[string]int{}
	byAddr := map[string]int{}
	for i, a := range base {
		if m := a.Params[evParamMember]; m != "" {
			if _, ok := byMember[m]; !ok {
				byMember[m] = i
			}
			continue
		}
		if isMailAddress(a.Email) {
			if k := strings.ToLower(a.Email); k != "" {
				if _, ok := byAddr[k]; !ok {
					byAddr[k] = i
				}
			}
		}
	}
	used := make([]bool, len(base))
	members := map[string]bool{}
	addrs := map[string]bool{}
	out := make([]Attendee, 0, len(regs)+1)
	for _, r := range regs {
		if r.Member == "" {
			return nil, fmt.Errorf("a registration has no member id")
		}
		partstat := "ACCEPTED"
		switch r.Status {
		case events.Confirmed:
		case events.Waitlisted:
			partstat = "TENTATIVE"
		default:
			return nil, fmt.Errorf("registration of %s: unknown status %q", r.Member, r.Status)
		}
		addr := r.Email
		if addr == "" {
			if strings.HasPrefix(strings.ToLower(r.Member), "mailto:") {
				addr = r.Member
			} else {
				addr = memberURN + url.PathEscape(r.Member)
			}
		}
		mailKey := strings.ToLower(strings.TrimPrefix(strings.ToLower(addr), "mailto:"))
		members[r.Member] = true
		addrs[mailKey] = true

		bi, found := byMember[r.Member]
		if !found {
			bi, found = byAddr[mailKey]
		}
		var a Attendee
		if found {
			used[bi] = true
			a = base[bi]
			if _, numbered := a.Params[evParamMember]; r.Seq == 0 && !numbered {
				// Added in a calendar client and not numbered yet: the
				// line stays as it is, unless its PARTSTAT contradicts
				// the registration's status.
				if r.Name != "" {
					a.Name = r.Name
				}
				if ps := strings.ToUpper(a.PartStat); (r.Status == events.Confirmed) != (ps == "ACCEPTED") {
					a.PartStat = partstat
				}
				if r.Told != a.Params[evParamTold] {
					params := make(map[string]string, len(a.Params)+1)
					for k, v := range a.Params {
						params[k] = v
					}
					if r.Told == "" {
						delete(params, evParamTold)
					} else {
						params[evParamTold] = r.Told
					}
					a.Params = params
				}
				out = append(out, a)
				continue
			}
		}
		params := map[string]string{}
		for k, v := range a.Params {
			if !strings.HasPrefix(k, xRoomcal) {
				params[k] = v
			}
		}
		params[evParamCUType] = "INDIVIDUAL"
		params[evParamRole] = "REQ-PARTICIPANT"
		params[evParamRSVP] = "FALSE"
		params[evParamMember] = r.Member
		params[evParamStatus] = string(r.Status)
		if r.Seq > 0 {
			params[evParamSeq] = strconv.FormatInt(r.Seq, 10)
		}
		if !r.At.IsZero() {
			params[evParamAt] = r.At.UTC().Format(icalDateTimeUTC)
		}
		if r.Told != "" {
			params[evParamTold] = r.Told
		}
		if !r.Promoted.IsZero() && r.Status == events.Confirmed {
			params[evParamPromoted] = r.Promoted.UTC().Format(icalDateTimeUTC)
		}
		out = append(out, Attendee{Name: r.Name, Email: addr, PartStat: partstat, Params: params})
	}
	// The lines Read leaves out stay, unless a registration now stands
	// for the same member or address.
	for i, a := range base {
		if used[i] || !leftOut(a, baseOrg) {
			continue
		}
		if m := a.Params[evParamMember]; m != "" && members[m] {
			continue
		}
		if addrs[strings.ToLower(strings.TrimPrefix(strings.ToLower(a.Email), "mailto:"))] {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// isMailAddress reports whether v, an ATTENDEE or ORGANIZER address as
// Attendee.Email holds it, is an e-mail address (a mailto: URI) rather
// than another URI.
func isMailAddress(v string) bool {
	return v != "" && !strings.Contains(v, ":")
}

// parseUTCStamp reads a UTC date-time, 20261201T090000Z (or RFC 3339).
func parseUTCStamp(v string) (time.Time, error) {
	if t, err := time.Parse(icalDateTimeUTC, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

// parseRev reads X-ROOMCAL-REV, "gen:ver".
func parseRev(v string) (string, int64, error) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return "", 0, errors.New("no colon")
	}
	ver, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil || ver < 0 {
		return "", 0, fmt.Errorf("version %q is not a number", v[i+1:])
	}
	return v[:i], ver, nil
}
