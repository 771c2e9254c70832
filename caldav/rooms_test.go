package caldav

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestOccurrences: the recurrence of a booking expands in the site's wall
// clock, is bounded by the limit, and a rule that cannot be read is an
// ErrInvalid, never a panic.
func TestOccurrences(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 10, 18, 18, 0, 0, 0, paris) // DST ends 2027-10-31
	rc := NewRoomCalendars(nil, nil)
	tests := []struct {
		rule    string
		limit   int
		want    int
		invalid bool
	}{
		{rule: "FREQ=WEEKLY;COUNT=4", limit: 200, want: 4},
		{rule: "RRULE:FREQ=WEEKLY;COUNT=4", limit: 200, want: 4},
		{rule: "FREQ=DAILY", limit: 201, want: 201},
		{rule: "FREQ=HOURLY", limit: 201, want: 201},
		{rule: "FREQ=SOMETIMES", limit: 200, invalid: true},
		{rule: "FREQ=WEEKLY;COUNT=banana", limit: 200, invalid: true},
		{rule: "FREQ=MINUTELY", limit: 200, invalid: true},
		// Rules that never match (rrule-go would loop, or search to the
		// year 9999) give DTSTART alone, its one instance by RFC 5545, as
		// calendar apps show them.
		{rule: "FREQ=HOURLY;INTERVAL=3;BYHOUR=1", limit: 200, want: 1},
		{rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", limit: 200, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			occ, err := rc.Occurrences(tt.rule, start, start.Add(time.Hour), paris, tt.limit)
			if tt.invalid {
				if !errors.Is(err, booking.ErrInvalid) {
					t.Fatalf("got %d occurrences, %v; want ErrInvalid", len(occ), err)
				}
				return
			}
			if err != nil || len(occ) != tt.want {
				t.Fatalf("got %d occurrences, %v; want %d", len(occ), err, tt.want)
			}
			if tt.rule != "FREQ=HOURLY" {
				for _, o := range occ {
					if w := o.Start.In(paris); w.Hour() != 18 || o.End.Sub(o.Start) != time.Hour {
						t.Errorf("occurrence %v (%v long), want 18:00 Paris for 1h", w, o.End.Sub(o.Start))
					}
				}
			}
		})
	}
}

// readCounter counts the reads a Store is asked for.
type readCounter interface {
	// reads returns the reads since the last call, by kind ("GET",
	// "PROPFIND"…), and starts counting again.
	reads() map[string]int
}

// countingStore is an embedded store that counts its read calls.
type countingStore struct {
	Store
	mu sync.Mutex
	n  map[string]int
}

func (s *countingStore) count(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[kind]++
}

func (s *countingStore) reads() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = map[string]int{}
	return n
}

func (s *countingStore) Get(ctx context.Context, cal, name string) (Object, error) {
	s.count("GET")
	return s.Store.Get(ctx, cal, name)
}

func (s *countingStore) MultiGet(ctx context.Context, cal string, names []string) ([]Object, error) {
	s.count("MultiGet")
	return s.Store.MultiGet(ctx, cal, names)
}

func (s *countingStore) Query(ctx context.Context, cal string, start, end time.Time) ([]Object, error) {
	s.count("Query")
	return s.Store.Query(ctx, cal, start, end)
}

func (s *countingStore) Changes(ctx context.Context, cal, token string) (Changes, error) {
	s.count("Changes")
	return s.Store.Changes(ctx, cal, token)
}

// countingTransport counts the HTTP requests a Client sends, by method.
type countingTransport struct {
	mu sync.Mutex
	n  map[string]int
}

func (tr *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.n[r.Method]++
	tr.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (tr *countingTransport) reads() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := map[string]int{}
	for m, c := range tr.n {
		if m != http.MethodPut && m != http.MethodDelete && m != "MKCALENDAR" {
			n[m] = c
		}
	}
	tr.n = map[string]int{}
	return n
}

// TestMoveReadsTheBookingOnce: a move is one read and one write at the
// calendar port (the service reads the booking with Get to check who owns
// it, then writes the change with Update over the version it read), and
// Update reads nothing: on the embedded store and on Radicale, one GET
// per move and no other read, the SEQUENCE raised from the object read.
// Writing over the version a write returned (a rollback) reads nothing
// either, and a write over a version that is no longer the object's is
// refused (If-Match): ErrStale, the object kept.
func TestMoveReadsTheBookingOnce(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (Store, readCounter)
	}{
		{"embedded", func(t *testing.T) (Store, readCounter) {
			fs, err := OpenFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fs.Close() })
			cs := &countingStore{Store: fs, n: map[string]int{}}
			return cs, cs
		}},
		{"radicale", func(t *testing.T) (Store, readCounter) {
			h := testenv.RadicaleHome(t)
			tr := &countingTransport{n: map[string]int{}}
			c, err := NewClient(h.URL, ClientOptions{Username: h.User, Password: h.Password, HTTPClient: &http.Client{Transport: tr}})
			if err != nil {
				t.Fatal(err)
			}
			return c, tr
		}},
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	room := booking.Room{ID: "loire", SiteID: "nantes", Name: "Loire", Calendar: "loire"}
	start := time.Date(2027, 3, 1, 10, 0, 0, 0, paris)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			store, counter := be.open(t)
			if err := store.CreateCalendar(ctx, room.Calendar, room.Name); err != nil {
				t.Fatal(err)
			}
			rc := NewRoomCalendars(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
			b := booking.Booking{ID: "loire_move", Room: room.ID, Start: start, End: start.Add(time.Hour), Title: "Point",
				Organizer: booking.Member{ID: "amina", Name: "Amina"}, Kind: booking.KindBooking}
			if _, err := rc.Create(ctx, room, paris, b); err != nil {
				t.Fatal(err)
			}
			// sequence reads the object back (not counted) and returns its
			// start and SEQUENCE.
			sequence := func(t *testing.T) (time.Time, int) {
				t.Helper()
				obj, err := store.Get(ctx, room.Calendar, ObjectName(b.ID))
				if err != nil {
					t.Fatal(err)
				}
				it, err := ParseObject(obj, paris)
				if err != nil || it.Master() == nil {
					t.Fatalf("the booking's object: %v", err)
				}
				counter.reads()
				return it.Master().Start, it.Master().Sequence
			}
			var written booking.Version
			for i := 1; i <= 2; i++ {
				counter.reads()
				got, read, err := rc.Get(ctx, room, paris, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				got.Start = start.Add(time.Duration(i) * 2 * time.Hour)
				got.End = got.Start.Add(time.Hour)
				if written, err = rc.Update(ctx, room, paris, got, read); err != nil {
					t.Fatalf("move %d: %v", i, err)
				}
				if n := counter.reads(); len(n) != 1 || n["GET"] != 1 {
					t.Errorf("move %d read %v, want one GET and nothing else", i, n)
				}
				if at, seq := sequence(t); !at.Equal(got.Start) || seq != i {
					t.Errorf("move %d: object at %v with SEQUENCE %d, want %v and %d", i, at, seq, got.Start, i)
				}
			}

			// Put back over the version written, as a failed commit does.
			counter.reads()
			if _, err := rc.Update(ctx, room, paris, b, written); err != nil {
				t.Fatalf("write over the version written: %v", err)
			}
			if n := counter.reads(); len(n) != 0 {
				t.Errorf("the write over the version written read %v, want nothing", n)
			}
			if at, seq := sequence(t); !at.Equal(start) || seq != 3 {
				t.Errorf("put back: object at %v with SEQUENCE %d, want %v and 3", at, seq, start)
			}

			// written is no longer the object's version.
			moved := b
			moved.Start, moved.End = start.Add(8*time.Hour), start.Add(9*time.Hour)
			if _, err := rc.Update(ctx, room, paris, moved, written); !errors.Is(err, booking.ErrStale) {
				t.Errorf("write over a stale version: %v, want ErrStale", err)
			}
			if at, seq := sequence(t); !at.Equal(start) || seq != 3 {
				t.Errorf("after the stale write: object at %v with SEQUENCE %d, want it kept (%v, 3)", at, seq, start)
			}
		})
	}
}

// foreignVersion is a booking.Version that RoomCalendars did not make.
type foreignVersion struct{ etag string }

func (v foreignVersion) ETag() string { return v.etag }

// TestUpdateRefusesAForeignVersion: Update writes only over a version it
// read or wrote itself (the object and SEQUENCE come with it); anything
// else is refused before any request, not mistaken for a stale write.
func TestUpdateRefusesAForeignVersion(t *testing.T) {
	fs, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	cs := &countingStore{Store: fs, n: map[string]int{}}
	rc := NewRoomCalendars(cs, nil)
	room := booking.Room{ID: "loire", Calendar: "loire"}
	b := booking.Booking{ID: "loire_x", Room: "loire", Start: time.Now(), End: time.Now().Add(time.Hour), Title: "x"}
	_, err = rc.Update(context.Background(), room, time.UTC, b, foreignVersion{etag: `"1"`})
	if err == nil || errors.Is(err, booking.ErrStale) {
		t.Errorf("Update over a foreign version: %v, want a refusal that is not ErrStale", err)
	}
	if n := cs.reads(); len(n) != 0 {
		t.Errorf("Update over a foreign version read %v", n)
	}
}
