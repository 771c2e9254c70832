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
	Kind   string    `json:"kind,omitempty"` // "" for a removal (objects made before other kinds)
	ID     string    `json:"id"`
	Room   string    `json:"room"`
	Title  string    `json:"title,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Owner  string    `json:"owner"`
	Name   string    `json:"name,omitempty"`
	Email  string    `json:"email,omitempty"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	Where  string    `json:"where,omitempty"`
	Wait   bool      `json:"waiting,omitempty"`
	Same   string    `json:"same,omitempty"`
	Told   bool      `json:"told,omitempty"`
	At     time.Time `json:"at"`
	ToldAt time.Time `json:"told_at,omitzero"`
}

func toJSON(n notices.BookingNotice) removalJSON {
	return removalJSON{Kind: n.Kind, ID: n.ID, Room: n.Room, Title: n.Title, Start: n.Start.UTC(), End: n.End.UTC(), Owner: n.Owner,
		Name: n.Name, Email: n.Email, By: n.By, Reason: n.Reason, Where: n.Where, Wait: n.Waiting, Same: n.Same, At: n.At.UTC()}
}

func (j removalJSON) notice(name, etag string) notices.BookingNotice {
	return notices.BookingNotice{Kind: j.Kind, ID: j.ID, Room: j.Room, Title: j.Title, Start: j.Start, End: j.End, Owner: j.Owner,
		Name: j.Name, Email: j.Email, By: j.By, Reason: j.Reason, Where: j.Where, Waiting: j.Wait, Same: j.Same, At: j.At,
		Key: strings.TrimSuffix(name, ".ics"), ETag: etag}
}

// sameOf is what names a notice's object: the change (a removal: the
// booking, removed once).
func sameOf(n notices.BookingNotice) string {
	if n.Same != "" {
		return n.Same
	}
	return n.ID
}

func outboxName(same string) string { return ObjectName(outboxPrefix + hashHex(same)) }

func encodeRemoval(j removalJSON) ([]byte, error) {
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	epoch := time.Unix(0, 0).UTC()
	return EncodeEvent(Event{
		UID: outboxPrefix + hashHex(sameOf(j.notice("", ""))), Summary: "roomcal notice owed", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propNotice: base64.RawURLEncoding.EncodeToString(raw)},
	})
}

// Put implements notices.Outbox.
func (o *NoticeOutbox) Put(ctx context.Context, n notices.BookingNotice) error {
	if n.At.IsZero() {
		n.At = time.Now()
	}
	data, err := encodeRemoval(toJSON(n))
	if err != nil {
		return fmt.Errorf("notice outbox: %w", err)
	}
	_, err = o.store.Create(ctx, o.calendar, outboxName(sameOf(n)), data)
	if errors.Is(err, ErrPrecondition) {
		return nil // recorded already (another replica, or a pass made again)
	}
	if err != nil {
		return fmt.Errorf("notice outbox: record %s of %s: %w", n.Kind, n.ID, err)
	}
	return nil
}

// decode reads one outbox object (ok false: not one).
func decodeNotice(obj Object) (removalJSON, bool) {
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return removalJSON{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(it.Master().XProps[propNotice])
	var j removalJSON
	if err == nil {
		err = json.Unmarshal(raw, &j)
	}
	return j, err == nil && j.ID != ""
}

// Pending implements notices.Outbox.
func (o *NoticeOutbox) Pending(ctx context.Context) ([]notices.BookingNotice, error) {
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
	var out []notices.BookingNotice
	for _, obj := range objs {
		j, ok := decodeNotice(obj)
		if !ok {
			continue
		}
		if j.Told {
			o.mu.Lock()
			o.told[obj.Name] = obj.ETag
			o.mu.Unlock()
			continue
		}
		out = append(out, j.notice(obj.Name, obj.ETag))
	}
	return out, nil
}

// Owed implements notices.Outbox: n's object is still the version
// listed, not told.
func (o *NoticeOutbox) Owed(ctx context.Context, n notices.BookingNotice) (bool, error) {
	obj, err := o.store.Get(ctx, o.calendar, n.Key+".ics")
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notice outbox: read %s: %w", n.Key, err)
	}
	j, ok := decodeNotice(obj)
	return ok && !j.Told && obj.ETag == n.ETag, nil
}

// Done implements notices.Outbox: the object is overwritten as told
// (If-Match; another replica marking it first is not an error).
func (o *NoticeOutbox) Done(ctx context.Context, n notices.BookingNotice) error {
	j := toJSON(n)
	j.Told, j.ToldAt = true, time.Now().UTC().Truncate(time.Second)
	data, err := encodeRemoval(j)
	if err != nil {
		return fmt.Errorf("notice outbox: %w", err)
	}
	name := n.Key + ".ics"
	etag, err := o.store.Update(ctx, o.calendar, name, data, n.ETag)
	if errors.Is(err, ErrPrecondition) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notice outbox: mark %s told: %w", n.ID, err)
	}
	o.mu.Lock()
	o.told[name] = etag
	o.mu.Unlock()
	return nil
}

// Remember implements notices.Outbox: the object is created told.
func (o *NoticeOutbox) Remember(ctx context.Context, n notices.BookingNotice) error {
	if n.At.IsZero() {
		n.At = time.Now()
	}
	j := toJSON(n)
	j.Told, j.ToldAt = true, time.Now().UTC().Truncate(time.Second)
	data, err := encodeRemoval(j)
	if err != nil {
		return fmt.Errorf("notice outbox: %w", err)
	}
	name := outboxName(sameOf(n))
	etag, err := o.store.Create(ctx, o.calendar, name, data)
	if errors.Is(err, ErrPrecondition) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notice outbox: remember %s of %s: %w", n.Kind, n.ID, err)
	}
	o.mu.Lock()
	o.told[name] = etag
	o.mu.Unlock()
	return nil
}

// Remembered implements notices.Outbox.
func (o *NoticeOutbox) Remembered(ctx context.Context, same string) (bool, error) {
	obj, err := o.store.Get(ctx, o.calendar, outboxName(same))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notice outbox: read: %w", err)
	}
	j, ok := decodeNotice(obj)
	return ok && j.Told, nil
}

// Prune implements notices.Outbox: it deletes the told objects whose
// entry ended and that were told, both before before (If-Match: one
// changed meanwhile is left). Objects not told are never deleted: the
// worker marks them told first (sent, or over with nothing to tell).
// Names are never used again once pruned: a removal's is its booking's,
// gone for good; the others name one change, or a reminder of one start.
func (o *NoticeOutbox) Prune(ctx context.Context, before time.Time) (int, error) {
	ch, err := o.store.Changes(ctx, o.calendar, "")
	if err != nil {
		return 0, fmt.Errorf("notice outbox: list: %w", err)
	}
	var names []string
	for _, ref := range ch.Changed {
		if strings.HasPrefix(ref.Name, outboxPrefix) {
			names = append(names, ref.Name)
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	objs, err := o.store.MultiGet(ctx, o.calendar, names)
	if err != nil {
		return 0, fmt.Errorf("notice outbox: read: %w", err)
	}
	n := 0
	for _, obj := range objs {
		j, ok := decodeNotice(obj)
		if !ok || !j.Told {
			continue
		}
		told := j.ToldAt
		if told.IsZero() {
			told = j.At
		}
		if !j.End.Before(before) || !told.Before(before) {
			continue
		}
		err := o.store.Delete(ctx, o.calendar, obj.Name, obj.ETag)
		if errors.Is(err, ErrPrecondition) || errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("notice outbox: prune %s: %w", obj.Name, err)
		}
		o.mu.Lock()
		delete(o.told, obj.Name)
		o.mu.Unlock()
		n++
	}
	return n, nil
}
