package notices

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

func TestBookingNoticeConsistent(t *testing.T) {
	at := time.Date(2026, 12, 14, 9, 0, 0, 0, time.UTC)
	rec := booking.Booking{ID: "loire_1", Start: at, End: at.Add(time.Hour)}
	pending := rec
	pending.Pending = true
	cases := []struct {
		name  string
		n     BookingNotice
		rec   booking.Booking
		found bool
		want  bool
	}{
		{"removal, gone", BookingNotice{Kind: KindBookingRemoved}, booking.Booking{}, false, true},
		{"removal, still there (the delete failed)", BookingNotice{Kind: KindBookingRemoved}, rec, true, false},
		{"old removal without kind, gone", BookingNotice{}, booking.Booking{}, false, true},
		{"refused, gone", BookingNotice{Kind: string(booking.NoticeRefused)}, booking.Booking{}, false, true},
		{"lapsed, still a request", BookingNotice{Kind: string(booking.NoticeLapsed)}, pending, true, false},
		{"accepted", BookingNotice{Kind: string(booking.NoticeAccepted)}, rec, true, true},
		{"accepted, still a request", BookingNotice{Kind: string(booking.NoticeAccepted)}, pending, true, false},
		{"accepted, gone", BookingNotice{Kind: string(booking.NoticeAccepted)}, booking.Booking{}, false, false},
		{"moved, record has the times", BookingNotice{Kind: string(booking.NoticeMoved), Start: at, End: at.Add(time.Hour)}, rec, true, true},
		{"moved, record has other times (rolled back)", BookingNotice{Kind: string(booking.NoticeMoved), Start: at, End: at.Add(2 * time.Hour)}, rec, true, false},
		{"released, new end", BookingNotice{Kind: string(booking.NoticeReleased), Start: at, End: at.Add(time.Hour)}, rec, true, true},
		{"conflict, booking there", BookingNotice{Kind: string(booking.NoticeConflict)}, rec, true, true},
		{"conflict, booking gone", BookingNotice{Kind: string(booking.NoticeConflict)}, booking.Booking{}, false, false},
		{"event deleted", BookingNotice{Kind: KindEventDeleted}, booking.Booking{}, false, true},
	}
	for _, c := range cases {
		if got := consistent(c.n, c.rec, c.found); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBookingNoticeNames(t *testing.T) {
	b := booking.Booking{ID: "loire_1", Room: "loire", Organizer: booking.Member{ID: "ann"}}
	refused := FromBooking(booking.Notice{Kind: booking.NoticeRefused, Booking: b, From: "e1"})
	lapsed := FromBooking(booking.Notice{Kind: booking.NoticeLapsed, Booking: b, From: "e2"})
	removed := FromRemoval(booking.Removal{ID: "loire_1", Room: "loire", Owner: "ann", By: "admin"})
	if refused.Same != "loire_1" || lapsed.Same != "loire_1" || removed.Same != "loire_1" {
		t.Errorf("a booking is removed once: %q %q %q", refused.Same, lapsed.Same, removed.Same)
	}
	m1 := FromBooking(booking.Notice{Kind: booking.NoticeMoved, Booking: b, From: "e1"})
	m2 := FromBooking(booking.Notice{Kind: booking.NoticeMoved, Booking: b, From: "e2"})
	if m1.Same == m2.Same || m1.Same == refused.Same {
		t.Errorf("two moves from two versions are two changes: %q %q", m1.Same, m2.Same)
	}
	for kind, want := range map[booking.NoticeKind]string{
		booking.NoticeAccepted: KindRequestAnswered, booking.NoticeRefused: KindRequestAnswered, booking.NoticeLapsed: KindRequestAnswered,
		booking.NoticeMoved: KindBookingChanged, booking.NoticeReleased: KindBookingChanged, booking.NoticeConflict: KindBookingChanged,
	} {
		if got := FromBooking(booking.Notice{Kind: kind, Booking: b}).Setting(); got != want || !Known(got) {
			t.Errorf("%s falls in %q, want %q (known: %v)", kind, got, want, Known(got))
		}
	}
	if !Known(KindReminder) || Default(KindReminder) {
		t.Error("reminders must be a known kind, off by default")
	}
	if sequenceAt(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)) <= sequenceAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a later change must have a higher SEQUENCE")
	}
}

// Fakes of the worker's ports, for the grouping and the check against
// the record.
type fakeOutbox struct {
	mu   sync.Mutex
	ns   map[string]BookingNotice
	told map[string]bool
}

func (o *fakeOutbox) Put(_ context.Context, n BookingNotice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.ns[n.Same]; !ok {
		n.Key, n.ETag = n.Same, "1"
		o.ns[n.Same] = n
	}
	return nil
}

func (o *fakeOutbox) Pending(context.Context) ([]BookingNotice, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []BookingNotice
	for k, n := range o.ns {
		if !o.told[k] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (o *fakeOutbox) Owed(_ context.Context, n BookingNotice) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.told[n.Key], nil
}

func (o *fakeOutbox) Done(_ context.Context, n BookingNotice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.told[n.Key] = true
	return nil
}

func (o *fakeOutbox) Remember(ctx context.Context, n BookingNotice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	n.Key = n.Same
	o.ns[n.Same], o.told[n.Same] = n, true
	return nil
}

func (o *fakeOutbox) Remembered(_ context.Context, same string) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.told[same], nil
}

func (o *fakeOutbox) Prune(context.Context, time.Time) (int, error) { return 0, nil }

type fakeMailer struct {
	mu   sync.Mutex
	sent []Message
}

func (m *fakeMailer) Send(_ context.Context, msg Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

type fakeClaims struct {
	mu   sync.Mutex
	has  map[string]bool
	days map[string]map[string]bool
}

func (c *fakeClaims) Claim(_ context.Context, key string, _ time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.has[key] {
		return false, nil
	}
	c.has[key] = true
	return true, nil
}

func (c *fakeClaims) Release(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.has, key)
	return nil
}

// Count counts as notice_count.lua does: a set of messages a day,
// seeded when missing.
func (c *fakeClaims) Count(ctx context.Context, key, msg string, limit int, _ time.Duration,
	seed func(context.Context) ([]string, error)) (int, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[string]map[string]bool{}
	}
	day, ok := c.days[key]
	if !ok {
		day = map[string]bool{}
		if seed != nil {
			ids, err := seed(ctx)
			if err != nil {
				return 0, false, err
			}
			for _, id := range ids {
				day[id] = true
			}
		}
		c.days[key] = day
	}
	switch {
	case day[msg]:
		return len(day), true, nil
	case len(day) >= limit:
		return len(day), false, nil
	}
	day[msg] = true
	return len(day), true, nil
}

type fakeBookings map[string]booking.Booking

func (f fakeBookings) Lookup(_ context.Context, id string) (booking.Booking, error) {
	if b, ok := f[id]; ok {
		return b, nil
	}
	return booking.Booking{}, booking.ErrNotFound
}

type fakeInvitations struct{}

func (fakeInvitations) Invitation(method string, e Entry) ([]byte, error) {
	return []byte("METHOD:" + method + "\nUID:" + e.UID + "\nDTSTART:" + e.Start.Format(time.RFC3339)), nil
}

// TestBookingNoticesGroupedAndChecked: two moves of one booking within
// the window make one message with the record's times; a move the record
// does not bear out (rolled back) is not told, and is dropped once it
// settled; a removal whose booking is still there is not told.
func TestBookingNoticesGroupedAndChecked(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock := now
	at := now.Add(48 * time.Hour)
	out := &fakeOutbox{ns: map[string]BookingNotice{}, told: map[string]bool{}}
	mailer := &fakeMailer{}
	recs := fakeBookings{
		"loire_a": {ID: "loire_a", Start: at.Add(2 * time.Hour), End: at.Add(3 * time.Hour), Title: "Réunion A"},
		"loire_b": {ID: "loire_b", Start: at, End: at.Add(time.Hour), Title: "Réunion B"},
		"loire_c": {ID: "loire_c", Start: at, End: at.Add(time.Hour), Title: "Réunion C"},
	}
	w, err := New(Options{Events: nil, Mailer: mailer, Claims: &fakeClaims{has: map[string]bool{}}, Invitations: fakeInvitations{},
		Outbox: out, Bookings: recs, From: "salles@example.coop", Now: func() time.Time { return clock }, Window: time.Minute})
	if err == nil {
		t.Fatal("a worker without events must be refused")
	}
	w, err = New(Options{Events: noEvents{}, Mailer: mailer, Claims: &fakeClaims{has: map[string]bool{}}, Invitations: fakeInvitations{},
		Outbox: out, Bookings: recs, From: "salles@example.coop", Now: func() time.Time { return clock }, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(n BookingNotice) {
		n.Owner, n.Email, n.At = "ann", "ann@example.coop", clock
		if err := out.Put(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	moved := string(booking.NoticeMoved)
	put(BookingNotice{Kind: moved, ID: "loire_a", Start: at.Add(time.Hour), End: at.Add(2 * time.Hour), Same: "a1"})
	clock = clock.Add(30 * time.Second)
	put(BookingNotice{Kind: moved, ID: "loire_a", Start: at.Add(2 * time.Hour), End: at.Add(3 * time.Hour), Same: "a2"})
	put(BookingNotice{Kind: moved, ID: "loire_b", Start: at.Add(time.Hour), End: at.Add(2 * time.Hour), Same: "b1"})
	put(BookingNotice{Kind: KindBookingRemoved, ID: "loire_c", Start: at, End: at.Add(time.Hour), Same: "loire_c"})

	w.bookingNotices(ctx) // within the window: nothing yet
	if len(mailer.sent) != 0 {
		t.Fatalf("%d sent within the window", len(mailer.sent))
	}
	clock = clock.Add(time.Minute)
	w.bookingNotices(ctx)
	if len(mailer.sent) != 1 {
		t.Fatalf("%d messages, want 1 (the two moves of a; b and c not borne out)", len(mailer.sent))
	}
	m := mailer.sent[0]
	if !strings.HasPrefix(m.Subject, "Réservation modifiée : Réunion A") || m.Method != "REQUEST" ||
		!strings.Contains(string(m.Calendar), "DTSTART:"+at.Add(2*time.Hour).Format(time.RFC3339)) {
		t.Errorf("message %q %s", m.Subject, m.Calendar)
	}
	if st := w.Stats(); st.Grouped != 1 || st.Sent != 1 {
		t.Errorf("stats %+v", st)
	}
	if !out.told["a1"] || !out.told["a2"] || out.told["b1"] || out.told["loire_c"] {
		t.Errorf("told %v", out.told)
	}
	clock = clock.Add(Settle)
	w.bookingNotices(ctx)
	if len(mailer.sent) != 1 || !out.told["b1"] || !out.told["loire_c"] {
		t.Errorf("after settling: %d messages, told %v; want the two dropped silently", len(mailer.sent), out.told)
	}
}

// noEvents is an events calendar with nothing in it.
type noEvents struct{ Events }
