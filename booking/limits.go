package booking

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what members send, the same for bookings and events.

// RuleDateRange: a date before EarliestDate or more than MaxYearsAhead
// years from now.
const RuleDateRange Rule = "date_range"

// MaxYearsAhead bounds every date roomcal writes, for bookings (each
// occurrence) and events alike: nothing starts or ends more than five
// years from now. A room's max_ahead rule may be tighter; this bound holds
// whatever the rules say, so that no calendar server is handed a date it
// cannot store (year 9999).
const MaxYearsAhead = 5

// EarliestDate is the earliest date roomcal writes; anything before is
// out of range (not "missing").
var EarliestDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckDateRange returns a *RuleError (RuleDateRange) unless start and
// end lie between EarliestDate and MaxYearsAhead years after now.
func CheckDateRange(start, end, now time.Time) error {
	latest := now.AddDate(MaxYearsAhead, 0, 0)
	for _, t := range []time.Time{start, end} {
		if t.Before(EarliestDate) || t.After(latest) {
			return errDateRange()
		}
	}
	return nil
}

// errDateRange is the answer to a date out of range, a zero date
// ("0001-01-01T00:00:00+01:00") included: it is given, and out of range.
func errDateRange() *RuleError {
	return &RuleError{Rule: RuleDateRange, Detail: fmt.Sprintf(
		"date hors limites : à partir du %s et au plus %d ans à l'avance / date out of range: from %s on, and %d years ahead at most",
		EarliestDate.Format("2006-01-02"), MaxYearsAhead, EarliestDate.Format("2006-01-02"), MaxYearsAhead)}
}

// CleanText is text a member gave (a title, a description, a location, a
// name) as roomcal stores it: invalid UTF-8 replaced, CR LF and lone CR
// made LF, other control characters but TAB dropped (RFC 5545 §3.3.11
// allows none), and the bidirectional controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069) dropped, which would otherwise make a
// title read differently from what it holds ("right-to-left override").
// The answer to a write shows this text: what the calendar holds.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsFunc(s, dropped) && !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if dropped(r) {
			return -1
		}
		return r
	}, s)
}

// dropped: a control character CleanText removes.
func dropped(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\n' && r != '\t' && r != '\r'
	case r == 0x7f:
		return true
	}
	return IsBidiControl(r)
}

// IsBidiControl reports whether r is one of Unicode's bidirectional
// formatting characters (UAX #9, §2).
func IsBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// Identity bounds: a member's id, name, e-mail and groups come from a
// proxy's headers or a provider's token; roomcal writes them into
// calendar objects (ORGANIZER, ATTENDEE), so each is bounded.
const (
	MaxMemberID    = 200 // bytes
	MaxMemberName  = 200 // characters
	MaxMemberEmail = 254 // bytes (RFC 5321's path limit)
	MaxGroupName   = 100 // bytes
	MaxGroups      = 50
)

// CheckMember returns an *InvalidError naming the identity field that
// exceeds its bound, nil when m fits.
func CheckMember(m Member) error {
	switch {
	case len(m.ID) > MaxMemberID:
		return Invalidf("identifiant de membre trop long (%d octets au plus) / member id too long (%d bytes at most)", MaxMemberID, MaxMemberID)
	case utf8.RuneCountInString(m.Name) > MaxMemberName:
		return Invalidf("nom de membre trop long (%d caractères au plus) / member name too long (%d characters at most)", MaxMemberName, MaxMemberName)
	case len(m.Email) > MaxMemberEmail:
		return Invalidf("adresse e-mail trop longue (%d octets au plus) / e-mail address too long (%d bytes at most)", MaxMemberEmail, MaxMemberEmail)
	case len(m.Groups) > MaxGroups:
		return Invalidf("trop de groupes (%d au plus) / too many groups (%d at most)", MaxGroups, MaxGroups)
	}
	for _, g := range m.Groups {
		if len(g) > MaxGroupName {
			return Invalidf("nom de groupe trop long (%d octets au plus) / group name too long (%d bytes at most)", MaxGroupName, MaxGroupName)
		}
	}
	return nil
}

// RuleRecurrence: a recurrence rule that gives no date after the first
// within the date bound (BYMONTH=2;BYMONTHDAY=30 never matches; COUNT=1
// is no series): refused rather than stored as a series of one.
const RuleRecurrence Rule = "recurrence"

func errLoneOccurrence() *RuleError {
	return &RuleError{Rule: RuleRecurrence, Detail: fmt.Sprintf(
		"la règle de récurrence ne donne aucune date après la première d'ici %d ans (par exemple BYMONTH=2;BYMONTHDAY=30) ; réservez sans récurrence ou corrigez-la / the recurrence rule gives no date after the first within %d years (e.g. BYMONTH=2;BYMONTHDAY=30): book without recurrence or fix it",
		MaxYearsAhead, MaxYearsAhead)}
}
