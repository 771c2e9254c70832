package caldav

import (
	"context"
	"time"
)

// Store is a set of calendar collections holding iCalendar objects with
// ETag semantics. Client (a real CalDAV server) and FileStore (the embedded
// default) implement it, and one conformance suite (package storetest) runs
// against both.
//
// Errors: methods return errors that match, with errors.Is,
//   - ErrNotFound when the calendar or object does not exist;
//   - ErrPrecondition when a conditional write lost (the object exists on
//     Create, or its ETag changed on Update and Delete);
//   - ErrInvalidSyncToken when Changes is given a token the store no longer
//     knows (the caller then starts again with an empty token);
//   - ErrUnavailable when the store cannot be reached or fails on its side.
//
// All methods are safe for concurrent use.
type Store interface {
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Calendars lists the calendar collections of the home.
	Calendars(ctx context.Context) ([]CalendarInfo, error)
	// CreateCalendar makes a new calendar collection (MKCALENDAR). It
	// returns ErrExists when the collection is already there.
	CreateCalendar(ctx context.Context, cal, displayName string) error

	// Get reads one object.
	Get(ctx context.Context, cal, name string) (Object, error)
	// MultiGet reads several objects of one calendar in one round trip.
	// Objects that do not exist are left out of the answer (not an error).
	MultiGet(ctx context.Context, cal string, names []string) ([]Object, error)
	// Query returns the objects of a calendar that may have an instance in
	// [start, end). It may return more (a superset); never fewer.
	Query(ctx context.Context, cal string, start, end time.Time) ([]Object, error)

	// Create stores a new object only if none exists under that name
	// (If-None-Match: *) and returns its ETag.
	Create(ctx context.Context, cal, name string, data []byte) (etag string, err error)
	// Update replaces an object only if its current ETag is etag
	// (If-Match) and returns the new ETag.
	Update(ctx context.Context, cal, name string, data []byte, etag string) (newETag string, err error)
	// Delete removes an object; with a non-empty etag only if it is still
	// that version (If-Match).
	Delete(ctx context.Context, cal, name, etag string) error

	// Changes reports what changed in a calendar since token. With an
	// empty token (or where the server has no sync-collection), the answer
	// is Full: Changed lists every object and anything not listed is gone.
	Changes(ctx context.Context, cal, token string) (Changes, error)
}

// CalendarInfo describes one calendar collection.
type CalendarInfo struct {
	Name        string // path segment relative to the home, e.g. "salle-loire"
	DisplayName string
}

// Object is one calendar object resource.
type Object struct {
	Name string // last path segment, e.g. "uid.ics"
	ETag string
	Data []byte
}

// ObjectRef names a version of an object without its data.
type ObjectRef struct {
	Name string
	ETag string
}

// Changes is the answer of Store.Changes.
type Changes struct {
	// Token to pass to the next call.
	Token string
	// Full says Changed is the complete list of objects in the calendar.
	Full bool
	// Changed lists objects created or modified since the token (or all
	// objects when Full).
	Changed []ObjectRef
	// Deleted lists objects removed since the token (empty when Full).
	Deleted []string
}
