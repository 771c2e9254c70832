package caldav

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
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
	obj, err := x.store.Get(ctx, x.calendar, ObjectName(indexUID(room)))
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("booking index of %s: read: %w", room, err)
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return nil, obj.ETag, nil // unreadable: written anew
	}
	raw, err := base64.RawURLEncoding.DecodeString(it.Master().XProps[propIndex])
	var es []booking.IndexEntry
	if err == nil {
		err = json.Unmarshal(raw, &es)
	}
	if err != nil {
		return nil, obj.ETag, nil
	}
	return es, obj.ETag, nil
}

// WriteIndex implements booking.BookingIndex.
func (x *BookingIndex) WriteIndex(ctx context.Context, room string, entries []booking.IndexEntry, etag string) error {
	if entries == nil {
		entries = []booking.IndexEntry{}
	}
	raw, err := json.Marshal(entries)
	if err != nil {
		return fmt.Errorf("booking index of %s: %w", room, err)
	}
	epoch := time.Unix(0, 0).UTC()
	data, err := EncodeEvent(Event{
		UID: indexUID(room), Summary: "roomcal bookings to come", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propIndex: base64.RawURLEncoding.EncodeToString(raw)},
	})
	if err != nil {
		return fmt.Errorf("booking index of %s: %w", room, err)
	}
	name := ObjectName(indexUID(room))
	if etag == "" {
		_, err = x.store.Create(ctx, x.calendar, name, data)
	} else {
		_, err = x.store.Update(ctx, x.calendar, name, data, etag)
	}
	if err != nil && !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("booking index of %s: write: %w", room, err)
	}
	return nil
}
