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

var (
	_ notices.Outbox  = (*NoticeOutbox)(nil)
	_ notices.SentLog = (*NoticeOutbox)(nil)
)

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
	var names, sent []string
	for _, ref := range ch.Changed {
		switch {
		case strings.HasPrefix(ref.Name, outboxPrefix):
			names = append(names, ref.Name)
		case strings.HasPrefix(ref.Name, sentPrefix):
			sent = append(sent, ref.Name)
		}
	}
	// The sent logs of past days go too (not counted: not notices).
	if _, err := o.pruneSent(ctx, sent, time.Now()); err != nil || len(names) == 0 {
		return 0, err
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

// The messages sent to each member a day (notices.SentLog), for the
// daily cap: one object a message, created before it is sent
// (If-None-Match: recording it twice makes one object, and replicas
// never overwrite each other's, even where If-Match is not atomic):
//
//	s-<day>-<member hash>-<message token>.ics   a transparent, private
//	                                            VEVENT of one minute on
//	                                            that day, at a minute
//	                                            of the member's
//
// so that one member's day is read with a time-range query of one
// minute (Sent), not a listing of the calendar. Deleted by Prune two
// days after their day (names are never used again: their day is past).

const (
	sentPrefix = "s-"
	propSent   = "X-ROOMCAL-SENT"
	// sentKeep is how long the messages of a day are kept after it.
	sentKeep = 48 * time.Hour
)

func sentStem(member, day string) string {
	return sentPrefix + day + "-" + hashHex(member)[:16] + "-"
}

// sentSlot is the minute of member's objects on day.
func sentSlot(member, day string) (time.Time, error) {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return time.Time{}, fmt.Errorf("notice sent log: day %q: %w", day, err)
	}
	h := hashHex(member)
	m := 0
	for _, c := range h[:4] {
		m = m*16 + strings.IndexRune("0123456789abcdef", c)
	}
	return d.Add(time.Duration(m%1440) * time.Minute), nil
}

// Record implements notices.SentLog.
func (o *NoticeOutbox) Record(ctx context.Context, member, day, msg string) error {
	if msg == "" || strings.ContainsAny(msg, "/.") {
		return fmt.Errorf("notice sent log: bad token %q", msg)
	}
	at, err := sentSlot(member, day)
	if err != nil {
		return err
	}
	uid := sentStem(member, day) + msg
	data, err := EncodeEvent(Event{
		UID: uid, Summary: "roomcal notice sent", Start: at, End: at.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propSent: day},
	})
	if err != nil {
		return fmt.Errorf("notice sent log: %w", err)
	}
	_, err = o.store.Create(ctx, o.calendar, ObjectName(uid), data)
	if err != nil && !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("notice sent log: record %s: %w", uid, err)
	}
	return nil
}

// Sent implements notices.SentLog.
func (o *NoticeOutbox) Sent(ctx context.Context, member, day string) ([]string, error) {
	at, err := sentSlot(member, day)
	if err != nil {
		return nil, err
	}
	objs, err := o.store.Query(ctx, o.calendar, at, at.Add(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("notice sent log: read %s: %w", day, err)
	}
	stem := sentStem(member, day)
	var out []string
	for _, obj := range objs {
		if name := strings.TrimSuffix(obj.Name, ".ics"); strings.HasPrefix(name, stem) {
			out = append(out, strings.TrimPrefix(name, stem))
		}
	}
	return out, nil
}

// pruneSent deletes the sent logs of days more than sentKeep past.
func (o *NoticeOutbox) pruneSent(ctx context.Context, names []string, now time.Time) (int, error) {
	n := 0
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, sentPrefix)
		if !ok || len(rest) < 10 {
			continue
		}
		d, err := time.Parse("2006-01-02", rest[:10])
		if err != nil || !d.Add(24*time.Hour+sentKeep).Before(now) {
			continue
		}
		err = o.store.Delete(ctx, o.calendar, name, "")
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("notice sent log: prune %s: %w", name, err)
		}
		n++
	}
	return n, nil
}
