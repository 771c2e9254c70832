package booking

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Preferences are what a member chose once and expects to find on every
// device: the site the start page opens on, the language, which notices
// they want, the notes they have dismissed.
type Preferences struct {
	// Site is the site pre-selected on the start page ("" none): the
	// site of the member's last booking, or the one they chose.
	Site string
	// Lang is "fr", "en", or "" when the pages negotiate it.
	Lang string
	// Notices holds the member's choice per notice kind; a kind absent
	// takes its default.
	Notices map[string]bool
	// Dismissed are the keys of the notes the member dismissed (for
	// instance "promoted:<event id>"), oldest first, at most
	// MaxDismissed of them.
	Dismissed []string
	// Email and Name are where notices about the member's bookings go,
	// recorded when they book (a booking deleted straight in the
	// calendar leaves nothing else to read them from).
	Email, Name string
	// SignedOutAt is when the member last signed out: every session
	// made before is over, on every device and replica (zero: never).
	SignedOutAt time.Time
	// UpdatedAt is when the preferences last changed (zero: never).
	UpdatedAt time.Time
}

// Bounds of what a member's preferences may hold, so that the record
// stays small.
const (
	MaxDismissed    = 200
	maxNoticeKinds  = 32
	maxDismissedKey = 100
)

// Languages are the languages of the pages and messages.
var Languages = []string{"fr", "en"}

// noticeKind is the shape of a notice kind's name.
var noticeKind = regexp.MustCompile(`^[a-z_]{1,32}$`)

// PreferencesStore keeps members' preferences where a Redis flush cannot
// reach them (the CalDAV store). Implementations serialise the updates
// of one member.
type PreferencesStore interface {
	// Preferences returns memberID's preferences; the zero value when
	// the member has none yet.
	Preferences(ctx context.Context, memberID string) (Preferences, error)
	// UpdatePreferences applies change to memberID's preferences and
	// keeps the result. An error from change is returned as it is and
	// nothing is written.
	UpdatePreferences(ctx context.Context, memberID string, change func(*Preferences) error) (Preferences, error)
}

// Dismiss notes that the member dismissed the note key; dismissing it
// again changes nothing. The oldest keys go beyond MaxDismissed.
func (p *Preferences) Dismiss(key string) error {
	if key == "" || len(key) > maxDismissedKey {
		return &InvalidError{Detail: fmt.Sprintf("dismiss : une clé de 1 à %d caractères / dismiss: a key of 1 to %d bytes", maxDismissedKey, maxDismissedKey)}
	}
	if p.HasDismissed(key) {
		return nil
	}
	p.Dismissed = append(p.Dismissed, key)
	if n := len(p.Dismissed); n > MaxDismissed {
		p.Dismissed = append([]string(nil), p.Dismissed[n-MaxDismissed:]...)
	}
	return nil
}

// HasDismissed reports whether the member dismissed the note key.
func (p Preferences) HasDismissed(key string) bool {
	for _, k := range p.Dismissed {
		if k == key {
			return true
		}
	}
	return false
}

// SetNotice records the member's choice for a notice kind.
func (p *Preferences) SetNotice(kind string, on bool) error {
	if !noticeKind.MatchString(kind) {
		return &InvalidError{Detail: "notices : un type de 1 à 32 lettres minuscules ou _ / notices: a kind of 1 to 32 lowercase letters or _"}
	}
	if _, known := p.Notices[kind]; !known && len(p.Notices) >= maxNoticeKinds {
		return &InvalidError{Detail: fmt.Sprintf("notices : au plus %d types / notices: at most %d kinds", maxNoticeKinds, maxNoticeKinds)}
	}
	if p.Notices == nil {
		p.Notices = map[string]bool{}
	}
	p.Notices[kind] = on
	return nil
}

// Notice says whether the member wants notices of kind, def when they
// never chose.
func (p Preferences) Notice(kind string, def bool) bool {
	if on, ok := p.Notices[kind]; ok {
		return on
	}
	return def
}

// SetLang records the member's language ("" to let the pages negotiate).
func (p *Preferences) SetLang(lang string) error {
	if lang == "" {
		p.Lang = ""
		return nil
	}
	for _, l := range Languages {
		if l == lang {
			p.Lang = lang
			return nil
		}
	}
	return &InvalidError{Detail: "lang : fr ou en / lang: fr or en"}
}
