package api

import (
	"context"
	"errors"
	"log/slog"
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
)

// Problem is an RFC 9457 problem detail with roomcal's stable code and,
// for conflicts, the clashing intervals.
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
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// problem builds a Problem; detail is shown to the client as is.
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

// writeError is the one error writer: it maps err to a Problem, logs the
// cause of server-side failures once, and renders problem+json. Causes are
// logged, never shown.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	p := toProblem(err)
	p.Instance = c.Request.URL.Path
	if p.Status >= 500 {
		log.ErrorContext(c.Request.Context(), "request failed",
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", p.Status, "err", err)
	}
	renderProblem(c, p)
}

func renderProblem(c *gin.Context, p *Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

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
	switch {
	case errors.Is(err, booking.ErrUnknownRoom), errors.Is(err, booking.ErrUnknownSite), errors.Is(err, booking.ErrNotFound):
		return problem(http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, booking.ErrInvalid):
		return problem(http.StatusBadRequest, CodeInvalid, err.Error())
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
