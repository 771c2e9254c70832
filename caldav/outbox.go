package caldav

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/notices"
)

// NoticeOutbox keeps the booking removals owed to their owners
// (notices.Outbox) in a calendar of the service account (the one of the
// feed tokens and preferences), so that they survive a Redis flush and a
// restart between the removal and the message. One object a removal:
//
//	n-<sha256 of the booking id>.ics   a VEVENT on 1970-01-01, transparent
//	                                   and private, whose X-ROOMCAL-NOTICE
//	                                   holds the removal as JSON in base64url
//
// Created once (If-None-Match: replicas recording the same removal make
// one object), overwritten once told, never deleted (Nextcloud's trash
// bin refuses a name deleted and created again).
type NoticeOutbox struct {
	store    Store
	calendar string

	mu   sync.Mutex
	told map[string]string // object name → ETag of a told object (not read again)
}

var _ notices.Outbox = (*NoticeOutbox)(nil)

// NewNoticeOutbox returns the outbox kept in calendar.
func NewNoticeOutbox(store Store, calendar string) *NoticeOutbox {
	return &NoticeOutbox{store: store, calendar: calendar, told: map[string]string{}}
}

const (
	propNotice   = "X-ROOMCAL-NOTICE"
	outboxPrefix = "n-"
)

type removalJSON struct {
	ID    string    `json:"id"`
	Room  string    `json:"room"`
	Title string    `json:"title,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Owner string    `json:"owner"`
	By    string    `json:"by"`
	Told  bool      `json:"told,omitempty"`
	At    time.Time `json:"at"`
}

func outboxName(bookingID string) string { return ObjectName(outboxPrefix + hashHex(bookingID)) }

func encodeRemoval(j removalJSON) ([]byte, error) {
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	epoch := time.Unix(0, 0).UTC()
	return EncodeEvent(Event{
		UID: outboxPrefix + hashHex(j.ID), Summary: "roomcal notice owed", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propNotice: base64.RawURLEncoding.EncodeToString(raw)},
	})
}

// Put implements notices.Outbox.
func (o *NoticeOutbox) Put(ctx context.Context, r booking.Removal) error {
	data, err := encodeRemoval(removalJSON{ID: r.ID, Room: r.Room, Title: r.Title, Start: r.Start.UTC(), End: r.End.UTC(),
		Owner: r.Owner, By: r.By, At: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return fmt.Errorf("notice outbox: %w", err)
	}
	_, err = o.store.Create(ctx, o.calendar, outboxName(r.ID), data)
	if errors.Is(err, ErrPrecondition) {
		return nil // recorded already (another replica, or a pass made again)
	}
	if err != nil {
		return fmt.Errorf("notice outbox: record removal of %s: %w", r.ID, err)
	}
	return nil
}

// Pending implements notices.Outbox.
func (o *NoticeOutbox) Pending(ctx context.Context) ([]notices.Removal, error) {
	ch, err := o.store.Changes(ctx, o.calendar, "")
	if err != nil {
		return nil, fmt.Errorf("notice outbox: list: %w", err)
	}
	var names []string
	o.mu.Lock()
	for _, ref := range ch.Changed {
		if strings.HasPrefix(ref.Name, outboxPrefix) && o.told[ref.Name] != ref.ETag {
			names = append(names, ref.Name)
		}
	}
	o.mu.Unlock()
	if len(names) == 0 {
		return nil, nil
	}
	objs, err := o.store.MultiGet(ctx, o.calendar, names)
	if err != nil {
		return nil, fmt.Errorf("notice outbox: read: %w", err)
	}
	var out []notices.Removal
	for _, obj := range objs {
		it, err := ParseObject(obj, time.UTC)
		if err != nil || it.Master() == nil {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(it.Master().XProps[propNotice])
		var j removalJSON
		if err == nil {
			err = json.Unmarshal(raw, &j)
		}
		if err != nil || j.ID == "" {
			continue
		}
		if j.Told {
			o.mu.Lock()
			o.told[obj.Name] = obj.ETag
			o.mu.Unlock()
			continue
		}
		out = append(out, notices.Removal{
			Removal: booking.Removal{ID: j.ID, Room: j.Room, Title: j.Title, Start: j.Start, End: j.End, Owner: j.Owner, By: j.By},
			Key:     strings.TrimSuffix(obj.Name, ".ics"), ETag: obj.ETag,
		})
	}
	return out, nil
}

// Done implements notices.Outbox: the object is overwritten as told
// (If-Match; another replica marking it first is not an error).
func (o *NoticeOutbox) Done(ctx context.Context, r notices.Removal) error {
	data, err := encodeRemoval(removalJSON{ID: r.ID, Room: r.Room, Title: r.Title, Start: r.Start.UTC(), End: r.End.UTC(),
		Owner: r.Owner, By: r.By, Told: true, At: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return fmt.Errorf("notice outbox: %w", err)
	}
	name := outboxName(r.ID)
	etag, err := o.store.Update(ctx, o.calendar, name, data, r.ETag)
	if errors.Is(err, ErrPrecondition) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notice outbox: mark %s told: %w", r.ID, err)
	}
	o.mu.Lock()
	o.told[name] = etag
	o.mu.Unlock()
	return nil
}
