package booking

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the booking does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is malformed (end before start, zero
	// length, bad recurrence…). Wrapped with a message that says what.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the member may not act on this booking.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the calendar server or the gate cannot be reached.
	// Adapters wrap their own errors with it.
	ErrUnavailable = errors.New("unavailable")
)

// Rule names a booking rule, as reported in a rule_violation.
type Rule string

const (
	RuleMaxDuration  Rule = "max_duration"
	RuleMinNotice    Rule = "min_notice"
	RuleMaxAhead     Rule = "max_ahead"
	RuleOpeningHours Rule = "opening_hours"
	RuleClosure      Rule = "closure"
	RuleAllowed      Rule = "allowed_groups"
	RuleInPast       Rule = "in_past"
)

// RuleError says which rule a booking breaks, in words a member reads.
type RuleError struct {
	Rule   Rule
	Detail string
}

func (e *RuleError) Error() string { return fmt.Sprintf("%s: %s", e.Rule, e.Detail) }

// ErrStale: the booking changed on the calendar since it was read (a
// conditional write lost); the caller may read it again and retry.
var ErrStale = errors.New("changed meanwhile")
