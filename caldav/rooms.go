package caldav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// X-ROOMCAL-* properties of a room booking's VEVENT.
const (
	propKind          = "X-ROOMCAL-KIND"           // "booking" or "event"
	propOrganizerID   = "X-ROOMCAL-ORGANIZER-ID"   // the member's stable id
	propOrganizerName = "X-ROOMCAL-ORGANIZER-NAME" // the member's display name
	// propApprovalDue is on a request waiting for approval (STATUS:
	// TENTATIVE): when it lapses, UTC. Accepted, the booking loses it and
	// becomes CONFIRMED.
	propApprovalDue = "X-ROOMCAL-APPROVAL-DUE"
	// propCheckedIn: when the member confirmed their presence, UTC;
	// propReleased: when the rest of the slot was released for want of
	// it (the VEVENT then ends there, with a note in its DESCRIPTION).
	propCheckedIn = "X-ROOMCAL-CHECKED-IN"
	propReleased  = "X-ROOMCAL-RELEASED"
	// propTold: the first occurrence's times as roomcal last wrote them
	// ("START/END", UTC), which its owner knows (they set them, or were
	// told of them): an edit straight in the calendar that moves the
	// booking leaves it behind, so the move is found even after the
	// gate lost the old times (booking.ObjectState.Moved).
	propTold = "X-ROOMCAL-TOLD"
)

// Values of X-ROOMCAL-KIND.
const (
	KindBooking = "booking"
	KindEvent   = "event"
)

// multigetChunk bounds the hrefs asked for in one multiget.
const multigetChunk = 200

// RoomCalendars is the booking domain's view of room calendars on a Store:
// a booking is one VEVENT (UID = booking id, X-ROOMCAL-KIND:booking) in the
// room's calendar; any other VEVENT there is busy time of kind external
// (or event, for internal events held in the room). It implements
// booking.Calendar and booking.Recurrence and is safe for concurrent use.
type RoomCalendars struct {
	store Store
	log   *slog.Logger
}

var (
	_ booking.Calendar   = (*RoomCalendars)(nil)
	_ booking.Recurrence = (*RoomCalendars)(nil)
)

// NewRoomCalendars returns the room calendars kept in store.
func NewRoomCalendars(store Store, log *slog.Logger) *RoomCalendars {
	if log == nil {
		log = slog.Default()
	}
	return &RoomCalendars{store: store, log: log}
}

// Ping checks that the store answers.
func (rc *RoomCalendars) Ping(ctx context.Context) error { return domainErr(rc.store.Ping(ctx)) }

// Read lists and reads every object of the room's calendar. The
// snapshot says the room is retired as its settings record in the
// calendar says, or, without a record (or with a history-only one), as
// room (the configuration) says.
func (rc *RoomCalendars) Read(ctx context.Context, room booking.Room, loc *time.Location, w booking.Interval) (booking.Snapshot, []booking.ObjectProblem, error) {
	ch, err := rc.store.Changes(ctx, room.Calendar, "")
	if err != nil {
		return booking.Snapshot{}, nil, fmt.Errorf("list %s: %w", room.Calendar, domainErr(err))
	}
	names := make([]string, 0, len(ch.Changed))
	for _, ref := range ch.Changed {
		names = append(names, ref.Name)
	}
	put, problems, rec, err := rc.fetch(ctx, room, loc, names, w)
	if err != nil {
		return booking.Snapshot{}, nil, err
	}
	retired := room.Retired
	if rec != nil && !rec.Declared {
		retired = rec.Room.Retired
	}
	return booking.Snapshot{Token: ch.Token, Objects: put, Retired: retired}, problems, nil
}

// Changes reads what changed since token. known holds the ETags the
// caller has, by ref (object name without ".ics"); objects whose ETag it
// already knows are not read again.
func (rc *RoomCalendars) Changes(ctx context.Context, room booking.Room, loc *time.Location, token string, known map[string]string, w booking.Interval) (booking.Delta, error) {
	ch, err := rc.store.Changes(ctx, room.Calendar, token)
	if errors.Is(err, ErrInvalidSyncToken) {
		ch, err = rc.store.Changes(ctx, room.Calendar, "")
	}
	if err != nil {
		return booking.Delta{}, fmt.Errorf("changes of %s: %w", room.Calendar, domainErr(err))
	}
	d := booking.Delta{Token: ch.Token}
	var names []string
	listed := map[string]bool{}
	for _, o := range ch.Changed {
		ref := refOf(o.Name)
		listed[ref] = true
		if etag, ok := known[ref]; ok && etag == o.ETag {
			continue
		}
		names = append(names, o.Name)
	}
	if ch.Full {
		for ref := range known {
			if !listed[ref] {
				d.Deleted = append(d.Deleted, ref)
			}
		}
	} else {
		for _, name := range ch.Deleted {
			if ref := refOf(name); !listed[ref] {
				if _, ok := known[ref]; ok {
					d.Deleted = append(d.Deleted, ref)
				}
			}
		}
	}
	d.Put, d.Problems, _, err = rc.fetch(ctx, room, loc, names, w)
	if err != nil {
		return booking.Delta{}, err
	}
	// An object that was listed but could not be fetched any more was
	// deleted meanwhile: the next pass sees it as such.
	return d, nil
}

// fetch reads objects by name and expands their busy intervals within w.
// The state is keyed by object name (the gate's ref); a booking's object
// name is derived from its id, so both name the same thing. It also
// returns the room's settings record when it was among them and could be
// read.
func (rc *RoomCalendars) fetch(ctx context.Context, room booking.Room, loc *time.Location, names []string, w booking.Interval) (map[string]booking.ObjectState, []booking.ObjectProblem, *booking.RoomSettings, error) {
	put := make(map[string]booking.ObjectState, len(names))
	var problems []booking.ObjectProblem
	var rec *booking.RoomSettings
	for len(names) > 0 {
		n := min(len(names), multigetChunk)
		objs, err := rc.store.MultiGet(ctx, room.Calendar, names[:n])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s: %w", room.Calendar, domainErr(err))
		}
		names = names[n:]
		for _, obj := range objs {
			if obj.Name == settingsObjectName {
				if st, err := DecodeSettings(obj); err == nil {
					rec = &st
				} else {
					rc.log.WarnContext(ctx, "room settings object cannot be read", "calendar", room.Calendar, "err", err)
				}
			}
			busy, err := busyOf(obj, loc, w.Start, w.End)
			if err != nil {
				// Not read whole: reported, and busy over what is known.
				problems = append(problems, booking.ObjectProblem{Ref: refOf(obj.Name), Err: err})
			}
			put[refOf(obj.Name)] = booking.ObjectState{ETag: obj.ETag, Busy: busy, Moved: movedOf(obj, room, loc)}
		}
	}
	return put, problems, rec, nil
}

// Busy computes busy intervals over [from, to) straight from the server.
func (rc *RoomCalendars) Busy(ctx context.Context, room booking.Room, loc *time.Location, from, to time.Time) ([]booking.Busy, []booking.ObjectProblem, error) {
	objs, err := rc.store.Query(ctx, room.Calendar, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("query %s: %w", room.Calendar, domainErr(err))
	}
	var out []booking.Busy
	var problems []booking.ObjectProblem
	for _, obj := range objs {
		busy, err := busyOf(obj, loc, from, to)
		if err != nil {
			problems = append(problems, booking.ObjectProblem{Ref: refOf(obj.Name), Err: err})
		}
		out = append(out, busy...)
	}
	booking.SortBusy(out)
	return out, problems, nil
}

// busyOf returns the busy intervals of one object in [from, to). An
// object that cannot be read whole still gives what is known of it (see
// ObjectBusy), with the error saying why: it is never free time.
func busyOf(obj Object, loc *time.Location, from, to time.Time) ([]booking.Busy, error) {
	instances, err := ObjectBusy(obj, loc, from, to)
	ref := refOf(obj.Name)
	var out []booking.Busy
	for _, in := range instances {
		if in.Props[propKind] == KindSettings {
			continue // a room's settings record: never busy time
		}
		b := booking.Busy{Ref: ref, Start: in.Start, End: in.End, Title: in.Summary, Kind: booking.KindExternal}
		switch in.Props[propKind] {
		case KindBooking:
			b.Kind = booking.KindBooking
			b.Organizer = in.Props[propOrganizerID]
			b.Pending = in.Props[propApprovalDue] != ""
			b.CheckedIn = in.Props[propCheckedIn] != ""
			b.Released = in.Props[propReleased] != ""
		case KindEvent:
			b.Kind = booking.KindEvent
		}
		out = append(out, b)
	}
	return out, err
}

// movedOf returns the booking obj holds when it is a member's booking
// whose times are not the ones roomcal last wrote (propTold); nil
// otherwise, and for an object written before the mark existed.
func movedOf(obj Object, room booking.Room, loc *time.Location) *booking.MovedOutside {
	if !strings.Contains(string(obj.Data), propTold) {
		return nil
	}
	it, err := ParseObject(obj, loc)
	if err != nil || it.Master() == nil {
		return nil
	}
	ev := it.Master()
	told := ev.XProps[propTold]
	if ev.XProps[propKind] != KindBooking || ev.XProps[propOrganizerID] == "" || told == "" {
		return nil
	}
	start, end, ok := strings.Cut(told, "/")
	s, err1 := time.Parse(utcStamp, start)
	e, err2 := time.Parse(utcStamp, end)
	if !ok || err1 != nil || err2 != nil || s.Equal(ev.Start) && e.Equal(ev.End) {
		return nil
	}
	return &booking.MovedOutside{Told: told, Booking: booking.Booking{
		ID: refOf(obj.Name), Room: room.ID, Start: ev.Start, End: ev.End, Title: ev.Summary, Recurrence: ev.RRule,
		Organizer: booking.Member{ID: ev.XProps[propOrganizerID], Name: ev.XProps[propOrganizerName], Email: ev.Organizer.Email},
		Kind:      booking.KindBooking, Pending: ev.XProps[propApprovalDue] != "",
	}}
}

// refOf is the gate's name for an object: its name without ".ics".
func refOf(name string) string { return strings.TrimSuffix(name, ".ics") }

// bookingVersion is the booking.Version of RoomCalendars: the object as
// read or written, and its VEVENT's SEQUENCE, which the next write
// raises by one (RFC 5545 3.8.7.4) without reading the object again.
type bookingVersion struct {
	obj      Object
	sequence int
}

// ETag implements booking.Version.
func (v bookingVersion) ETag() string { return v.obj.ETag }

// Create writes a new booking with If-None-Match.
func (rc *RoomCalendars) Create(ctx context.Context, room booking.Room, loc *time.Location, b booking.Booking) (booking.Version, error) {
	data, err := encodeBooking(b, loc, 0)
	if err != nil {
		return nil, err
	}
	name := ObjectName(b.ID)
	etag, err := rc.store.Create(ctx, room.Calendar, name, data)
	if err != nil {
		return nil, fmt.Errorf("create booking %s: %w", b.ID, domainErr(err))
	}
	return bookingVersion{obj: Object{Name: name, ETag: etag, Data: data}}, nil
}

// Update rewrites a booking over the version over with If-Match, its
// SEQUENCE one above over's; it reads nothing. over must come from this
// adapter (Get, Create or Update).
func (rc *RoomCalendars) Update(ctx context.Context, room booking.Room, loc *time.Location, b booking.Booking, over booking.Version) (booking.Version, error) {
	prev, ok := over.(bookingVersion)
	if !ok {
		return nil, fmt.Errorf("update booking %s: a version of %T, not read from a room calendar", b.ID, over)
	}
	seq := prev.sequence + 1
	data, err := encodeBooking(b, loc, seq)
	if err != nil {
		return nil, err
	}
	name := ObjectName(b.ID)
	etag, err := rc.store.Update(ctx, room.Calendar, name, data, prev.obj.ETag)
	if err != nil {
		return nil, fmt.Errorf("update booking %s: %w", b.ID, domainErr(err))
	}
	return bookingVersion{obj: Object{Name: name, ETag: etag, Data: data}, sequence: seq}, nil
}

// Delete removes a booking with If-Match.
func (rc *RoomCalendars) Delete(ctx context.Context, room booking.Room, id, etag string) error {
	if err := rc.store.Delete(ctx, room.Calendar, ObjectName(id), etag); err != nil {
		return fmt.Errorf("delete booking %s: %w", id, domainErr(err))
	}
	return nil
}

// Get reads a booking, and the version read: the object with its ETag
// and SEQUENCE, for an Update over it. An object that is not a roomcal
// booking gives booking.ErrNotFound.
func (rc *RoomCalendars) Get(ctx context.Context, room booking.Room, loc *time.Location, id string) (booking.Booking, booking.Version, error) {
	obj, err := rc.store.Get(ctx, room.Calendar, ObjectName(id))
	if err != nil {
		return booking.Booking{}, nil, fmt.Errorf("get booking %s: %w", id, domainErr(err))
	}
	it, err := ParseObject(obj, loc)
	if err != nil {
		return booking.Booking{}, nil, fmt.Errorf("get booking %s: %w", id, err)
	}
	ev := it.Master()
	if ev == nil || (ev.XProps[propKind] != KindBooking && ev.XProps[propKind] != KindEvent) {
		return booking.Booking{}, nil, fmt.Errorf("booking %s: %w", id, booking.ErrNotFound)
	}
	b := booking.Booking{
		ID: id, Room: room.ID, Start: ev.Start, End: ev.End,
		Title: ev.Summary, Description: ev.Description, Recurrence: ev.RRule, Skipped: ev.ExDates,
		Organizer: booking.Member{ID: ev.XProps[propOrganizerID], Name: ev.XProps[propOrganizerName], Email: ev.Organizer.Email},
		Created:   ev.Created,
		Modified:  ev.LastModified,
		Kind:      booking.KindBooking,
	}
	if ev.XProps[propKind] == KindEvent {
		b.Kind = booking.KindEvent
	}
	for prop, dst := range map[string]*time.Time{propCheckedIn: &b.CheckedIn, propReleased: &b.Released} {
		if v := ev.XProps[prop]; v != "" {
			if t, err := time.Parse(utcStamp, v); err == nil {
				*dst = t
			}
		}
	}
	if due := ev.XProps[propApprovalDue]; due != "" {
		b.Pending = true
		if t, err := time.Parse(utcStamp, due); err == nil {
			b.ApprovalDue = t
		}
	}
	if b.Organizer.Name == "" {
		b.Organizer.Name = ev.Organizer.Name
	}
	return b, bookingVersion{obj: obj, sequence: ev.Sequence}, nil
}

// encodeBooking writes a booking as a VEVENT in loc.
func encodeBooking(b booking.Booking, loc *time.Location, seq int) ([]byte, error) {
	now := time.Now().UTC()
	kind := KindBooking
	if b.IsEvent() {
		kind = KindEvent
	}
	ev := Event{
		UID:          b.ID,
		Summary:      b.Title,
		Description:  b.Description,
		Start:        b.Start.In(loc),
		End:          b.End.In(loc),
		RRule:        b.Recurrence,
		ExDates:      inZone(b.Skipped, loc),
		Status:       "CONFIRMED",
		Class:        "CONFIDENTIAL",
		Transp:       "OPAQUE",
		Sequence:     seq,
		Created:      b.Created.UTC(),
		LastModified: now,
		DTStamp:      now,
		XProps: map[string]string{
			propKind:          kind,
			propOrganizerID:   b.Organizer.ID,
			propOrganizerName: b.Organizer.Name,
			propTold:          b.Start.UTC().Format(utcStamp) + "/" + b.End.UTC().Format(utcStamp),
		},
	}
	if !b.CheckedIn.IsZero() {
		ev.XProps[propCheckedIn] = b.CheckedIn.UTC().Format(utcStamp)
	}
	if !b.Released.IsZero() {
		ev.XProps[propReleased] = b.Released.UTC().Format(utcStamp)
	}
	if b.Pending {
		// A request: it holds the slot (TENTATIVE is busy time for
		// calendar apps too) until approvers answer or it lapses.
		ev.Status = "TENTATIVE"
		ev.XProps[propApprovalDue] = b.ApprovalDue.UTC().Format(utcStamp)
	}
	if b.Organizer.Email != "" {
		ev.Organizer = Organizer{Name: b.Organizer.Name, Email: b.Organizer.Email}
	}
	data, err := EncodeEvent(ev)
	if err != nil {
		return nil, fmt.Errorf("encode booking %s: %w", b.ID, err)
	}
	return data, nil
}

// inZone gives ts in loc: EXDATEs are written in DTSTART's zone.
func inZone(ts []time.Time, loc *time.Location) []time.Time {
	if len(ts) == 0 {
		return nil
	}
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc)
	}
	return out
}

// utcStamp is the iCalendar form of a UTC time, for X-ROOMCAL values.
const utcStamp = "20060102T150405Z"

// occurrenceHorizon bounds the expansion of a booking's recurrence; the
// domain refuses series with more occurrences than its limit anyway.
const occurrenceHorizon = 5 * 366 * 24 * time.Hour

// badRule is what a member is told of a recurrence rule that cannot be
// read; the parser's words go to the log.
const badRule = "règle de récurrence invalide / invalid recurrence rule"

// Occurrences expands an RRULE from [start, end) in loc's wall clock. It
// goes through the same parser as calendar objects, which finds rules
// that would make rrule-go loop (impossible BYHOUR sets…), and the same
// bound (MaxExpandSteps): a rule past it is refused.
func (rc *RoomCalendars) Occurrences(rule string, start, end time.Time, loc *time.Location, limit int) ([]booking.Interval, error) {
	data, err := EncodeEvent(Event{
		UID: "occurrences", Start: start.In(loc), End: end.In(loc),
		RRule: strings.TrimPrefix(rule, "RRULE:"), DTStamp: start.UTC(),
	})
	if err != nil {
		return nil, &booking.InvalidError{Detail: badRule, Err: err}
	}
	it, err := ParseObject(Object{Name: "occurrences.ics", Data: data}, loc)
	if err != nil {
		return nil, &booking.InvalidError{Detail: badRule, Err: errors.Unwrap(err)}
	}
	instances, err := it.Instances(start, start.Add(occurrenceHorizon))
	if errors.Is(err, ErrTooManyInstances) {
		return nil, booking.Invalidf("trop d'occurrences ; ajoutez COUNT ou UNTIL / too many occurrences: add COUNT or UNTIL")
	}
	if err != nil {
		return nil, &booking.InvalidError{Detail: badRule, Err: err}
	}
	out := make([]booking.Interval, 0, min(len(instances), limit))
	for _, in := range instances {
		if len(out) == limit {
			break
		}
		out = append(out, booking.Interval{Start: in.Start, End: in.End})
	}
	return out, nil
}

// domainErr adds the booking domain's sentinel to a store error so the
// domain can branch on it without knowing this package.
func domainErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSent):
		return fmt.Errorf("%w: %w: %w", booking.ErrUnavailable, booking.ErrNotSent, err)
	case errors.Is(err, ErrUnavailable):
		return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
	case errors.Is(err, ErrPrecondition):
		return fmt.Errorf("%w: %w", booking.ErrStale, err)
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", booking.ErrNotFound, err)
	}
	return err
}
