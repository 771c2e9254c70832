package caldav

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrNotFound: the calendar or object does not exist (404).
	ErrNotFound = errors.New("caldav: not found")
	// ErrPrecondition: a conditional write lost its race (412).
	ErrPrecondition = errors.New("caldav: precondition failed")
	// ErrExists: the collection to create is already there.
	ErrExists = errors.New("caldav: already exists")
	// ErrInvalidSyncToken: the sync token is no longer known; start again.
	ErrInvalidSyncToken = errors.New("caldav: invalid sync token")
	// ErrUnavailable: the store cannot be reached or failed on its side.
	ErrUnavailable = errors.New("caldav: unavailable")
	// ErrNotSent: the request never reached the server (the connection
	// could not be made), so a write was certainly not stored. It comes
	// with ErrUnavailable.
	ErrNotSent = errors.New("caldav: request not sent")
)

// HTTPError is a non-2xx answer of a CalDAV server. It matches
// ErrNotFound (404, 410), ErrPrecondition (412) and ErrUnavailable (5xx,
// 429) with errors.Is.
type HTTPError struct {
	Method string
	URL    string
	Status int
	ETag   string // the server's current ETag, if it sent one
	Body   string // an excerpt of the body, for logs
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("caldav: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is lets errors.Is match the sentinel errors by status code.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Status == http.StatusGone
	case ErrPrecondition:
		return e.Status == http.StatusPreconditionFailed
	case ErrUnavailable:
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests
	}
	return false
}
