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

// MemberPreferences keeps the members' preferences in a calendar of the
// service account (the one of the feed tokens), so that they survive a
// Redis flush and every replica sees them. One object a member:
//
//	p-<sha256 of the member id>.ics   a VEVENT on 1970-01-01, transparent
//	                                  and private, whose X-ROOMCAL-PREFERENCES
//	                                  holds the preferences as JSON in
//	                                  base64url (servers rewrite the
//	                                  escapes of X- properties: Xandikos
//	                                  turned a JSON `\\` into `\`)
//
// The object is created once and then only overwritten, never deleted
// (Nextcloud's trash bin refuses a name deleted and created again).
// Updates are conditional (If-Match); callers that need them serialised
// on Nextcloud, whose If-Match is not atomic, hold a lock around them.
type MemberPreferences struct {
	store    Store
	calendar string
}

var _ booking.PreferencesStore = (*MemberPreferences)(nil)

// NewMemberPreferences returns the preferences kept in calendar.
func NewMemberPreferences(store Store, calendar string) *MemberPreferences {
	return &MemberPreferences{store: store, calendar: calendar}
}

const propPreferences = "X-ROOMCAL-PREFERENCES"

// preferencesJSON is the stored form.
type preferencesJSON struct {
	Site      string          `json:"site,omitempty"`
	Lang      string          `json:"lang,omitempty"`
	Email     string          `json:"email,omitempty"`
	Name      string          `json:"name,omitempty"`
	Notices   map[string]bool `json:"notices,omitempty"`
	Dismissed []string        `json:"dismissed,omitempty"`
	// SignedOutAt in Unix microseconds (0: never).
	SignedOutAt int64     `json:"signed_out_us,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func preferencesName(memberID string) string { return ObjectName("p-" + hashHex(memberID)) }

// Preferences implements booking.PreferencesStore.
func (mp *MemberPreferences) Preferences(ctx context.Context, memberID string) (booking.Preferences, error) {
	p, _, err := mp.read(ctx, memberID)
	return p, err
}

// read returns memberID's preferences and the ETag of their object (""
// when there is none).
func (mp *MemberPreferences) read(ctx context.Context, memberID string) (booking.Preferences, string, error) {
	obj, err := mp.store.Get(ctx, mp.calendar, preferencesName(memberID))
	if errors.Is(err, ErrNotFound) {
		return booking.Preferences{}, "", nil
	}
	if err != nil {
		return booking.Preferences{}, "", fmt.Errorf("preferences of %s: %w", memberID, domainErr(err))
	}
	it, err := ParseObject(obj, time.UTC)
	if err != nil || it.Master() == nil {
		return booking.Preferences{}, "", fmt.Errorf("preferences object %s: %w", obj.Name, booking.ErrInvalid)
	}
	var pj preferencesJSON
	if raw := it.Master().XProps[propPreferences]; raw != "" {
		js, err := base64.RawURLEncoding.DecodeString(raw)
		if err == nil {
			err = json.Unmarshal(js, &pj)
		}
		if err != nil {
			return booking.Preferences{}, "", fmt.Errorf("preferences object %s: %v: %w", obj.Name, err, booking.ErrInvalid)
		}
	}
	p := booking.Preferences{Site: pj.Site, Lang: pj.Lang, Email: pj.Email, Name: pj.Name, Notices: pj.Notices, Dismissed: pj.Dismissed, UpdatedAt: pj.UpdatedAt}
	if pj.SignedOutAt > 0 {
		p.SignedOutAt = time.UnixMicro(pj.SignedOutAt).UTC()
	}
	return p, obj.ETag, nil
}

// updateAttempts bounds the retries of an update that lost its If-Match
// to another writer.
const updateAttempts = 4

// UpdatePreferences implements booking.PreferencesStore: read, change,
// write with If-Match (If-None-Match for the first), again if another
// writer came first.
func (mp *MemberPreferences) UpdatePreferences(ctx context.Context, memberID string, change func(*booking.Preferences) error) (booking.Preferences, error) {
	for attempt := 1; ; attempt++ {
		p, etag, err := mp.read(ctx, memberID)
		if err != nil {
			return booking.Preferences{}, err
		}
		if err := change(&p); err != nil {
			return booking.Preferences{}, err
		}
		p.UpdatedAt = time.Now().UTC().Truncate(time.Second)
		data, err := encodePreferences(memberID, p)
		if err != nil {
			return booking.Preferences{}, err
		}
		name := preferencesName(memberID)
		if etag == "" {
			_, err = mp.store.Create(ctx, mp.calendar, name, data)
		} else {
			_, err = mp.store.Update(ctx, mp.calendar, name, data, etag)
		}
		if errors.Is(err, ErrPrecondition) && attempt < updateAttempts {
			continue
		}
		if err != nil {
			return booking.Preferences{}, fmt.Errorf("keep preferences of %s: %w", memberID, domainErr(err))
		}
		return p, nil
	}
}

func encodePreferences(memberID string, p booking.Preferences) ([]byte, error) {
	pj := preferencesJSON{Site: p.Site, Lang: p.Lang, Email: p.Email, Name: p.Name, Notices: p.Notices, Dismissed: p.Dismissed, UpdatedAt: p.UpdatedAt}
	if !p.SignedOutAt.IsZero() {
		pj.SignedOutAt = p.SignedOutAt.UnixMicro()
	}
	raw, err := json.Marshal(pj)
	if err != nil {
		return nil, err
	}
	epoch := time.Unix(0, 0).UTC()
	return EncodeEvent(Event{
		UID: "p-" + hashHex(memberID), Summary: "roomcal preferences of a member", Start: epoch, End: epoch.Add(time.Minute),
		Class: "PRIVATE", Transp: "TRANSPARENT", DTStamp: time.Now().UTC(),
		XProps: map[string]string{propPreferences: base64.RawURLEncoding.EncodeToString(raw)},
	})
}
