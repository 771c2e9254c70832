package caldav

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// FeedTokens keeps the members' personal feed tokens in a calendar of the
// service account, so that they survive anything Redis goes through and
// every replica sees them. A token is 128 random bits; only its SHA-256
// is stored:
//
//	t-<sha256 of the token>.ics   who the token is for (member id, name, e-mail)
//	m-<sha256 of the member id>.ics   the member's current token's hash
//
// Each is a VEVENT on 1970-01-01, transparent and private, that no one is
// meant to read: the calendar is the service account's own, not shared.
// Issuing a new token revokes the previous one.
//
// No object name is ever deleted and then created again: Nextcloud moves
// a deleted object to its trash bin under its name, and from the third
// round of delete and re-create of one name it refuses the delete (403
// "… -deleted.ics already exists", nextcloud/server #30096, #37577). A
// token object's name is new with every token and is deleted once; a
// member's object is created once and then only overwritten (revoking
// writes it without a token hash).
type FeedTokens struct {
	store    Store
	calendar string
}

// NewFeedTokens returns the tokens kept in calendar.
func NewFeedTokens(store Store, calendar string) *FeedTokens {
	return &FeedTokens{store: store, calendar: calendar}
}

// X-ROOMCAL-* properties of token objects.
const (
	propTokenHash   = "X-ROOMCAL-TOKEN-SHA256"
	propMemberEmail = "X-ROOMCAL-MEMBER-EMAIL"
	// propIssued is when the member's current token was made (RFC 3339),
	// so the page can say since when the link works.
	propIssued = "X-ROOMCAL-ISSUED"
)

// ErrUnknownToken: no member has this token (never issued, or revoked).
// It matches booking.ErrNotFound too, which is what callers outside this
// package branch on.
var ErrUnknownToken = fmt.Errorf("caldav: unknown feed token: %w", booking.ErrNotFound)

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Issue makes a new token for m, revoking m's previous one, and returns
// it (the only time it is seen in clear).
func (ft *FeedTokens) Issue(ctx context.Context, m booking.Member) (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	th := hashHex(token)
	epoch := time.Unix(0, 0).UTC()
	tokenObj := Event{
		UID: "t-" + th, Summary: "roomcal feed token", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propOrganizerID: m.ID, propOrganizerName: m.Name, propMemberEmail: m.Email},
	}
	data, err := EncodeEvent(tokenObj)
	if err != nil {
		return "", err
	}
	if _, err := ft.store.Create(ctx, ft.calendar, ObjectName(tokenObj.UID), data); err != nil {
		return "", fmt.Errorf("issue feed token for %s: %w", m.ID, domainErr(err))
	}
	// Point the member's record at the new token; the old one goes.
	memberObj := memberRecord(m.ID, th, time.Now())
	data, err = EncodeEvent(memberObj)
	if err != nil {
		return "", err
	}
	name := ObjectName(memberObj.UID)
	old, err := ft.store.Get(ctx, ft.calendar, name)
	switch {
	case errors.Is(err, ErrNotFound):
		_, err = ft.store.Create(ctx, ft.calendar, name, data)
	case err == nil:
		_, err = ft.store.Update(ctx, ft.calendar, name, data, old.ETag)
	}
	if err != nil {
		ft.drop(ctx, th)
		return "", fmt.Errorf("issue feed token for %s: %w", m.ID, domainErr(err))
	}
	if prev := ft.hashIn(old); prev != "" && prev != th {
		ft.drop(ctx, prev)
	}
	return token, nil
}

// Revoke removes m's token, if any.
func (ft *FeedTokens) Revoke(ctx context.Context, memberID string) error {
	name := ObjectName("m-" + hashHex(memberID))
	obj, err := ft.store.Get(ctx, ft.calendar, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("revoke feed token of %s: %w", memberID, domainErr(err))
	}
	th := ft.hashIn(obj)
	if th == "" {
		return nil // revoked already
	}
	// The member's object first: once it names no token, the token is
	// revoked even if deleting the token's object fails.
	data, err := EncodeEvent(memberRecord(memberID, "", time.Time{}))
	if err != nil {
		return err
	}
	if _, err := ft.store.Update(ctx, ft.calendar, name, data, obj.ETag); err != nil {
		return fmt.Errorf("revoke feed token of %s: %w", memberID, domainErr(err))
	}
	if err := ft.store.Delete(ctx, ft.calendar, ObjectName("t-"+th), ""); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("revoke feed token of %s: %w", memberID, domainErr(err))
	}
	return nil
}

// Member returns whose token this is (ErrUnknownToken).
func (ft *FeedTokens) Member(ctx context.Context, token string) (booking.Member, error) {
	if token == "" || len(token) > 64 {
		return booking.Member{}, ErrUnknownToken
	}
	obj, err := ft.store.Get(ctx, ft.calendar, ObjectName("t-"+hashHex(token)))
	if errors.Is(err, ErrNotFound) {
		return booking.Member{}, ErrUnknownToken
	}
	if err != nil {
		return booking.Member{}, fmt.Errorf("feed token: %w", domainErr(err))
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return booking.Member{}, fmt.Errorf("feed token object %s: %w", obj.Name, booking.ErrInvalid)
	}
	x := it.Master().XProps
	if x[propOrganizerID] == "" {
		return booking.Member{}, ErrUnknownToken
	}
	return booking.Member{ID: x[propOrganizerID], Name: x[propOrganizerName], Email: x[propMemberEmail]}, nil
}

// Link says whether memberID has a feed link, and since when.
func (ft *FeedTokens) Link(ctx context.Context, memberID string) (booking.FeedLink, error) {
	obj, err := ft.store.Get(ctx, ft.calendar, ObjectName("m-"+hashHex(memberID)))
	if errors.Is(err, ErrNotFound) {
		return booking.FeedLink{}, nil
	}
	if err != nil {
		return booking.FeedLink{}, fmt.Errorf("feed link of %s: %w", memberID, domainErr(err))
	}
	if len(obj.Data) == 0 {
		return booking.FeedLink{}, nil
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return booking.FeedLink{}, fmt.Errorf("feed link object of %s: %w", memberID, booking.ErrInvalid)
	}
	x := it.Master().XProps
	if x[propTokenHash] == "" {
		return booking.FeedLink{}, nil
	}
	link := booking.FeedLink{Exists: true}
	if at, err := time.Parse(time.RFC3339, x[propIssued]); err == nil {
		link.IssuedAt = at
	}
	return link, nil
}

// memberRecord is the object that names member's current token by its
// hash th ("" when the member has none), made at issued.
func memberRecord(memberID, th string, issued time.Time) Event {
	epoch := time.Unix(0, 0).UTC()
	ev := Event{
		UID: "m-" + hashHex(memberID), Summary: "roomcal feed token of a member", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
	}
	if th != "" {
		ev.XProps = map[string]string{propTokenHash: th, propIssued: issued.UTC().Format(time.RFC3339)}
	}
	return ev
}

// hashIn reads the token hash a member object points at.
func (ft *FeedTokens) hashIn(obj Object) string {
	if len(obj.Data) == 0 {
		return ""
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return ""
	}
	return it.Master().XProps[propTokenHash]
}

func (ft *FeedTokens) drop(ctx context.Context, th string) {
	_ = ft.store.Delete(ctx, ft.calendar, ObjectName("t-"+th), "")
}
