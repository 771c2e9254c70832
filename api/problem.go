package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// Stable machine codes of problem answers (API.md).
const (
	CodeInvalid            = "invalid"
	CodeNotFound           = "not_found"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeConflict           = "conflict"
	CodeRuleViolation      = "rule_violation"
	CodeFull               = "full"
	CodeRegistrationClosed = "registration_closed"
	CodeTooLarge           = "too_large"
	CodeUnavailable        = "unavailable"
	CodeInternal           = "internal"
	// CodeCrossSite: a write a browser sent from another site (403).
	CodeCrossSite = "cross_site"
	// CodeUnsupportedMediaType: a body under /api/v1/ not declared
	// application/json (415).
	CodeUnsupportedMediaType = "unsupported_media_type"
	// CodeFutureBookings: a room not retired because it has bookings
	// ahead (409), listed in the problem's future member.
	CodeFutureBookings = "future_bookings"
)

// StatusClientClosedRequest is nginx's 499: the client went away before
// the answer. No one reads it; logs and metrics tell it from a failure.
const StatusClientClosedRequest = 499

// Problem is an RFC 9457 problem detail with roomcal's stable code and,
// for conflicts, the clashing intervals. Every field shown is roomcal's
// own text: an adapter's or a library's words (which may name a server,
// a path or a credential) stay in the cause, which only the log sees.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Code      string         `json:"code"`
	Instance  string         `json:"instance,omitempty"`
	Conflicts []busyJSON     `json:"conflicts,omitempty"`
	Rule      string         `json:"rule,omitempty"`
	Fields    map[string]any `json:"fields,omitempty"`
	// Future lists a room's bookings ahead (future_bookings).
	Future *futureListJSON `json:"future,omitempty"`

	cause error // why, for the log (withCause); never rendered
}

// Error is for the log: the code, the detail and the cause.
func (p *Problem) Error() string {
	if p.cause != nil {
		return p.Code + ": " + p.Detail + ": " + p.cause.Error()
	}
	return p.Code + ": " + p.Detail
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.cause }

// withCause keeps cause for the log beside p's shown text.
func (p *Problem) withCause(cause error) *Problem {
	p.cause = cause
	return p
}

// problem builds a Problem; detail is shown to the client as is, so it
// must be roomcal's own words, never an error's text.
func problem(status int, code, detail string) *Problem {
	return &Problem{
		Type:   "https://roomcal.example/problems/" + code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	}
}

func invalid(detail string) *Problem { return problem(http.StatusBadRequest, CodeInvalid, detail) }

// writeError is the one error writer. It maps err to a Problem whose
// text is roomcal's own (toProblem), records err on the request so that
// the access log's line for it carries the cause (once, at the level of
// the status: accessLog), and renders problem+json. When the client has
// gone away (the request's context is cancelled), whatever err is, the
// answer is a bare 499: nobody reads it, and a closed connection is not
// a server failure.
func writeError(c *gin.Context, err error) {
	_ = c.Error(err) // the cause, for accessLog
	if errors.Is(c.Request.Context().Err(), context.Canceled) {
		c.AbortWithStatus(StatusClientClosedRequest)
		return
	}
	p := toProblem(err)
	p.Instance = c.Request.URL.Path
	renderProblem(c, p)
}

func renderProblem(c *gin.Context, p *Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// Details of the answers toProblem makes from the domain's sentinels.
const (
	detailNotFound    = "Cela n'existe pas, ou plus. / Not found, or no longer there."
	detailUnknownRoom = "Cette salle n'existe pas. / No such room."
	detailUnknownSite = "Ce site n'existe pas. / No such site."
	detailInvalid     = "Requête ou données invalides. / Invalid request or data."
)

// toProblem maps an error to the answer the client sees. Only a
// *Problem's, a *booking.InvalidError's and a *booking.RuleError's
// details (all written by roomcal) are shown; for anything else the
// detail is a fixed text chosen by the sentinel err matches, never
// err.Error(), which may carry a CalDAV server's address or a path.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var ce *booking.ConflictError
	if errors.As(err, &ce) {
		pr := problem(http.StatusConflict, CodeConflict, "Ce créneau est déjà pris. / This slot is already taken.")
		for _, b := range ce.Conflicts {
			pr.Conflicts = append(pr.Conflicts, busyToJSON(b, false))
		}
		return pr
	}
	if p := eventProblem(err); p != nil {
		return p
	}
	var re *booking.RuleError
	if errors.As(err, &re) {
		pr := problem(http.StatusUnprocessableEntity, CodeRuleViolation, re.Detail)
		pr.Rule = string(re.Rule)
		return pr
	}
	var ie *booking.InvalidError
	if errors.As(err, &ie) {
		return problem(http.StatusBadRequest, CodeInvalid, ie.Detail)
	}
	switch {
	case errors.Is(err, booking.ErrUnknownRoom):
		return problem(http.StatusNotFound, CodeNotFound, detailUnknownRoom)
	case errors.Is(err, booking.ErrUnknownSite):
		return problem(http.StatusNotFound, CodeNotFound, detailUnknownSite)
	case errors.Is(err, booking.ErrNotFound):
		return problem(http.StatusNotFound, CodeNotFound, detailNotFound)
	case errors.Is(err, booking.ErrInvalid):
		return problem(http.StatusBadRequest, CodeInvalid, detailInvalid)
	case errors.Is(err, booking.ErrNotPending):
		return problem(http.StatusConflict, CodeConflict, "Cette demande a déjà reçu une réponse. / This request was already answered.")
	case errors.Is(err, booking.ErrStale):
		return problem(http.StatusConflict, CodeConflict, "La réservation a changé entre-temps ; rechargez et réessayez. / The booking changed meanwhile; reload and retry.")
	case errors.Is(err, booking.ErrForbidden):
		return problem(http.StatusForbidden, CodeForbidden, "Vous ne pouvez pas faire cela. / You may not do this.")
	case errors.Is(err, booking.ErrUnavailable), errors.Is(err, booking.ErrNoState),
		errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusServiceUnavailable, CodeUnavailable, "Le calendrier ne répond pas, réessayez dans un instant. / The calendar server is unavailable, try again shortly.")
	}
	return problem(http.StatusInternalServerError, CodeInternal, "Erreur interne. / Internal error.")
}
