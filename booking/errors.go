package booking

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the booking does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is malformed (end before start, zero
	// length, bad recurrence…). What the member is told comes with an
	// *InvalidError; an error that only wraps ErrInvalid (an object the
	// calendar server returned that cannot be read, say) says nothing
	// that may be shown.
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
	RuleRetired      Rule = "retired" // the room is no longer in service
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

// ErrNotSent comes with ErrUnavailable when a write never reached the
// calendar server (the connection could not be made): it was certainly
// not stored. Without it, a failed write's outcome is unknown.
var ErrNotSent = errors.New("not sent to the calendar server")

// InvalidError is a malformed request, with words for the member: it
// matches ErrInvalid with errors.Is. Detail is written by roomcal (never
// an adapter's or a library's text) and may be shown as it is; Err, when
// set, is the underlying cause, for the log only.
type InvalidError struct {
	Detail string
	Err    error
}

// Invalidf returns an *InvalidError whose Detail is format applied to
// args; args must be roomcal's own values (limits, field names), not an
// error's text.
func Invalidf(format string, args ...any) *InvalidError {
	return &InvalidError{Detail: fmt.Sprintf(format, args...)}
}

func (e *InvalidError) Error() string {
	if e.Err != nil {
		return "invalid: " + e.Detail + ": " + e.Err.Error()
	}
	return "invalid: " + e.Detail
}

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the cause.
func (e *InvalidError) Unwrap() error { return e.Err }
