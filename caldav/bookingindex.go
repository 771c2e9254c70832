package caldav

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// BookingIndex keeps each room's index of bookings to come
// (booking.BookingIndex) in a calendar of the service account (the one
// of the feed tokens, preferences and notices), one object a room:
//
//	r-<sha256 of the room id>.ics   a VEVENT on 1970-01-01, transparent
//	                                and private, whose X-ROOMCAL-INDEX
//	                                holds the list as JSON in base64url
//
// Created with If-None-Match, replaced with If-Match; never deleted.
type BookingIndex struct {
	store    Store
	calendar string
}

var _ booking.BookingIndex = (*BookingIndex)(nil)

// NewBookingIndex returns the indexes kept in calendar.
func NewBookingIndex(store Store, calendar string) *BookingIndex {
	return &BookingIndex{store: store, calendar: calendar}
}

const (
	indexPrefix = "r-"
	propIndex   = "X-ROOMCAL-INDEX"
)

func indexUID(room string) string { return indexPrefix + hashHex(room) }

// ReadIndex implements booking.BookingIndex.
func (x *BookingIndex) ReadIndex(ctx context.Context, room string) ([]booking.IndexEntry, string, error) {
	var es []booking.IndexEntry
	etag, err := readBlob(ctx, x.store, x.calendar, indexUID(room), propIndex, &es)
	if err != nil {
		return nil, "", fmt.Errorf("booking index of %s: %w", room, err)
	}
	return es, etag, nil
}

// WriteIndex implements booking.BookingIndex.
func (x *BookingIndex) WriteIndex(ctx context.Context, room string, entries []booking.IndexEntry, etag string) error {
	if entries == nil {
		entries = []booking.IndexEntry{}
	}
	if err := writeBlob(ctx, x.store, x.calendar, indexUID(room), propIndex, "roomcal bookings to come", entries, etag); err != nil {
		return fmt.Errorf("booking index of %s: %w", room, err)
	}
	return nil
}

// EventRoster keeps the roster of events to come (events.Roster) in the
// same calendar, in one object:
//
//	v-<sha256 of "events roster">.ics   as a room's index, X-ROOMCAL-ROSTER
//
// Created with If-None-Match, replaced with If-Match; never deleted.
type EventRoster struct {
	store    Store
	calendar string
}

var _ events.Roster = (*EventRoster)(nil)

// NewEventRoster returns the roster kept in calendar.
func NewEventRoster(store Store, calendar string) *EventRoster {
	return &EventRoster{store: store, calendar: calendar}
}

const propRoster = "X-ROOMCAL-ROSTER"

// rosterUID names the roster (not an r- name: no room can take it).
var rosterUID = "v-" + hashHex("events roster")

// ReadRoster implements events.Roster.
func (x *EventRoster) ReadRoster(ctx context.Context) ([]events.RosterEntry, string, error) {
	var es []events.RosterEntry
	etag, err := readBlob(ctx, x.store, x.calendar, rosterUID, propRoster, &es)
	if err != nil {
		return nil, "", fmt.Errorf("events roster: %w", err)
	}
	return es, etag, nil
}

// WriteRoster implements events.Roster.
func (x *EventRoster) WriteRoster(ctx context.Context, entries []events.RosterEntry, etag string) error {
	if entries == nil {
		entries = []events.RosterEntry{}
	}
	if err := writeBlob(ctx, x.store, x.calendar, rosterUID, propRoster, "roomcal events to come", entries, etag); err != nil {
		return fmt.Errorf("events roster: %w", err)
	}
	return nil
}

// readBlob reads the JSON value kept in property prop of object uid
// into v; none (or unreadable) leaves v as it is. It returns the
// object's ETag ("" for none).
func readBlob(ctx context.Context, store Store, cal, uid, prop string, v any) (string, error) {
	obj, err := store.Get(ctx, cal, ObjectName(uid))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return obj.ETag, nil // unreadable: written anew
	}
	raw, err := base64.RawURLEncoding.DecodeString(it.Master().XProps[prop])
	if err == nil {
		_ = json.Unmarshal(raw, v)
	}
	return obj.ETag, nil
}

// writeBlob writes v as JSON in property prop of object uid, over
// version etag ("" to create it); a version changed meanwhile is not an
// error.
func writeBlob(ctx context.Context, store Store, cal, uid, prop, summary string, v any, etag string) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	epoch := time.Unix(0, 0).UTC()
	data, err := EncodeEvent(Event{
		UID: uid, Summary: summary, Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{prop: base64.RawURLEncoding.EncodeToString(raw)},
	})
	if err != nil {
		return err
	}
	name := ObjectName(uid)
	if etag == "" {
		_, err = store.Create(ctx, cal, name, data)
	} else {
		_, err = store.Update(ctx, cal, name, data, etag)
	}
	if err != nil && !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
