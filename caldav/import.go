package caldav

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Imports: an uploaded iCalendar export is read entry by entry (one UID
// each, overrides included); each entry is written back as one object of
// the room's calendar named after its UID (ObjectName), re-encoded so
// that every ATTENDEE and ORGANIZER line carries SCHEDULE-AGENT=CLIENT:
// an imported Appointments booking must not make Nextcloud mail its
// attendees. Everything else of the entry is kept (UID, SEQUENCE,
// properties roomcal does not model, alarms).

// RoomImports implements booking.ImportCalendar over a Store.
type RoomImports struct {
	store Store
}

var _ booking.ImportCalendar = (*RoomImports)(nil)

// NewRoomImports returns the importer writing into store's calendars.
func NewRoomImports(store Store) *RoomImports { return &RoomImports{store: store} }

// importPayload is what PutImported writes.
type importPayload struct {
	name string
	data []byte
}

// ParseImport implements booking.ImportCalendar.
func (ri *RoomImports) ParseImport(data []byte, loc *time.Location, w booking.Interval) ([]booking.ImportItem, []booking.ImportProblem) {
	items, errs := ParseCalendar("upload.ics", data, loc)
	var problems []booking.ImportProblem
	for _, err := range errs {
		p := booking.ImportProblem{Reason: err.Error()}
		var oe *ObjectError
		if errors.As(err, &oe) {
			p.UID, p.Reason = oe.UID, oe.Err.Error()
		}
		problems = append(problems, p)
	}
	var out []booking.ImportItem
	for _, it := range items {
		evs := it.Events()
		if len(evs) == 0 {
			continue
		}
		first := evs[0]
		if first.XProps[propKind] == KindSettings {
			problems = append(problems, booking.ImportProblem{UID: it.UID, Reason: "a roomcal settings object, never imported"})
			continue
		}
		name := ObjectName(it.UID)
		enc, err := EncodeObject(evs)
		if err != nil {
			problems = append(problems, booking.ImportProblem{UID: it.UID, Reason: err.Error()})
			continue
		}
		busy, err := it.Busy(w.Start, w.End)
		if err != nil {
			problems = append(problems, booking.ImportProblem{UID: it.UID, Reason: err.Error()})
			continue
		}
		item := booking.ImportItem{
			UID: it.UID, Ref: refOf(name), Title: first.Summary, Start: first.Start, End: first.End,
			Recurring: it.Recurring(), Payload: importPayload{name: name, data: enc},
		}
		if item.End.IsZero() {
			item.End = item.Start
		}
		for _, in := range busy {
			item.Busy = append(item.Busy, booking.Interval{Start: in.Start, End: in.End})
		}
		out = append(out, item)
	}
	return out, problems
}

// PutImported implements booking.ImportCalendar: If-None-Match, so an
// entry already there is never overwritten (ErrStale).
func (ri *RoomImports) PutImported(ctx context.Context, room booking.Room, it booking.ImportItem) (string, error) {
	p, ok := it.Payload.(importPayload)
	if !ok {
		return "", fmt.Errorf("import %s: a payload of %T, not read by this importer", it.UID, it.Payload)
	}
	etag, err := ri.store.Create(ctx, room.Calendar, p.name, p.data)
	if err != nil {
		return "", fmt.Errorf("import %s: %w", it.UID, domainErr(err))
	}
	if etag == "" {
		obj, err := ri.store.Get(ctx, room.Calendar, p.name)
		if err != nil {
			return "", fmt.Errorf("import %s: read back: %w", it.UID, domainErr(err))
		}
		etag = obj.ETag
	}
	return etag, nil
}
