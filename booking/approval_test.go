package booking_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// notices records what a Notifier is told.
type notices struct {
	mu   sync.Mutex
	seen []booking.Notice
}

func (n *notices) BookingNotice(_ context.Context, x booking.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seen = append(n.seen, x)
	return nil
}

func (n *notices) kinds() []booking.NoticeKind {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []booking.NoticeKind
	for _, x := range n.seen {
		out = append(out, x.Kind)
	}
	return out
}

type approvalFixture struct {
	svc   *booking.Service
	store caldav.Store
	rc    *caldav.RoomCalendars
	room  booking.Room
	now   atomic.Pointer[time.Time]
	told  *notices
	e     *redisgate.Embedded
}

func newApprovalFixture(t *testing.T) *approvalFixture {
	t.Helper()
	return newRoomFixture(t, booking.Rules{Approvers: []string{"ca"}, ApprovalWithin: 48 * time.Hour})
}

// newRoomFixture is one room "ag" with rules over the embedded calendar
// store and gate, on a clock the test sets (24 November 2026, 09:00 UTC).
func newRoomFixture(t *testing.T, rules booking.Rules) *approvalFixture {
	t.Helper()
	f := &approvalFixture{told: &notices{}}
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	f.now.Store(&start)
	f.room = booking.Room{ID: "ag", SiteID: "nantes", Name: "Grande salle", Calendar: "ag", Rules: rules}
	cat, err := booking.NewCatalog([]booking.Site{{ID: "nantes", Name: "Nantes", Location: time.UTC}}, []booking.Room{f.room})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := caldav.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	if err := fs.CreateCalendar(context.Background(), "ag", "AG"); err != nil {
		t.Fatal(err)
	}
	f.store = fs
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.rc = caldav.NewRoomCalendars(fs, log)
	f.e = gatetest.Embedded(t)
	f.svc, err = booking.NewService(booking.Options{Catalog: cat, Calendar: f.rc, Gate: redisgate.New(f.e.Client()), Recurrence: f.rc,
		Logger: log, Notifier: f.told, SweepEvery: time.Millisecond, Now: func() time.Time { return *f.now.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	ann   = booking.Member{ID: "ann", Name: "Ann"}
	bob   = booking.Member{ID: "bob", Name: "Bob"}
	carla = booking.Member{ID: "carla", Name: "Carla", Groups: []string{"ca"}}
)

func (f *approvalFixture) book(t *testing.T, m booking.Member, day int) (booking.Booking, error) {
	t.Helper()
	s := time.Date(2026, 11, 26+day, 10, 0, 0, 0, time.UTC)
	return f.svc.Book(context.Background(), m, booking.Request{Room: "ag", Start: s, End: s.Add(2 * time.Hour), Title: "AG de " + m.Name})
}

// A request holds its slot at once, in the calendar as TENTATIVE, and a
// second request for it is refused like any booking; the room's
// approvers see it and accept or refuse it; others may not.
func TestApprovalRequests(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	req, err := f.book(t, ann, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !req.Pending || !req.ApprovalDue.Equal(f.now.Load().Add(48*time.Hour)) {
		t.Fatalf("request %+v: want pending, due in 48 h", req)
	}
	obj, err := f.store.Get(ctx, "ag", caldav.ObjectName(req.ID))
	if err != nil {
		t.Fatal(err)
	}
	it, err := caldav.ParseObject(obj, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if ev := it.Master(); ev.Status != "TENTATIVE" || ev.XProps["X-ROOMCAL-APPROVAL-DUE"] != "20261126T090000Z" {
		t.Errorf("request in the calendar: STATUS %q, due %q; want TENTATIVE and its due time", ev.Status, ev.XProps["X-ROOMCAL-APPROVAL-DUE"])
	}
	var ce *booking.ConflictError
	if _, err := f.book(t, bob, 0); !errors.As(err, &ce) {
		t.Fatalf("a second request for a held slot: %v, want a conflict", err)
	}
	// An approver's own booking is no request.
	own, err := f.book(t, carla, 2)
	if err != nil || own.Pending {
		t.Fatalf("an approver's booking: %+v %v, want a plain booking", own, err)
	}
	// The queue: carla (and admins) see ann's request; ann does not.
	for _, tc := range []struct {
		m    booking.Member
		want int
	}{{carla, 1}, {booking.Member{ID: "root", Groups: []string{booking.GroupAdmins}}, 1}, {ann, 0}} {
		list, err := f.svc.Requests(ctx, tc.m)
		if err != nil || len(list) != tc.want {
			t.Fatalf("Requests(%s): %d %v, want %d", tc.m.ID, len(list), err, tc.want)
		}
		if tc.want == 1 && (list[0].Ref != req.ID || list[0].Organizer != "ann" || list[0].OrganizerName != "Ann" || !list[0].Pending) {
			t.Errorf("Requests(%s): %+v", tc.m.ID, list[0])
		}
	}
	if _, err := f.svc.Decide(ctx, ann, req.ID, true, ""); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("the requester accepting her own request: %v, want ErrForbidden", err)
	}
	if _, err := f.svc.Decide(ctx, carla, req.ID, false, "  "); !errors.Is(err, booking.ErrInvalid) {
		t.Errorf("a refusal without a reason: %v, want ErrInvalid", err)
	}
	got, err := f.svc.Decide(ctx, carla, req.ID, true, "")
	if err != nil || got.Pending {
		t.Fatalf("accept: %+v %v", got, err)
	}
	if b, err := f.svc.Get(ctx, ann, req.ID); err != nil || b.Pending {
		t.Errorf("the accepted booking read again: %+v %v, want confirmed", b, err)
	}
	if _, err := f.svc.Decide(ctx, carla, req.ID, false, "trop tard"); !errors.Is(err, booking.ErrNotPending) {
		t.Errorf("answering twice: %v, want ErrNotPending", err)
	}
	if list, _ := f.svc.Requests(ctx, carla); len(list) != 0 {
		t.Errorf("queue after the answer: %d requests", len(list))
	}

	// A refusal frees the slot at once and tells the requester why.
	req2, err := f.book(t, bob, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Decide(ctx, carla, req2.ID, false, "Salle prise pour l'AG"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, bob, req2.ID); !errors.Is(err, booking.ErrNotFound) {
		t.Errorf("refused request still there: %v", err)
	}
	if _, err := f.book(t, ann, 1); err != nil {
		t.Errorf("the refused request's slot: %v, want free", err)
	}
	f.told.mu.Lock()
	defer f.told.mu.Unlock()
	if len(f.told.seen) != 2 || f.told.seen[0].Kind != booking.NoticeAccepted || f.told.seen[1].Kind != booking.NoticeRefused ||
		f.told.seen[1].Reason != "Salle prise pour l'AG" || f.told.seen[1].Booking.Organizer.ID != "bob" || f.told.seen[1].By.ID != "carla" {
		t.Errorf("notices %+v, want accepted (ann) then refused (bob, by carla, with the reason)", f.told.seen)
	}
}

// A request not answered in time lapses: the sync loop's sweep deletes
// it and tells its requester, once, whatever the gate lost meanwhile
// (its due time is in the calendar).
func TestApprovalLapse(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	req, err := f.book(t, ann, 0)
	if err != nil {
		t.Fatal(err)
	}
	hour := f.now.Load().Add(time.Hour)
	f.now.Store(&hour)
	keep, err := f.book(t, bob, 1)
	if err != nil {
		t.Fatal(err)
	}
	later := f.now.Load().Add(46 * time.Hour)
	f.now.Store(&later)
	f.e.FlushAll()
	runSync := func() {
		t.Helper()
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); f.svc.RunSync(sctx) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		<-done
	}
	runSync()
	if _, err := f.svc.Get(ctx, ann, req.ID); err != nil {
		t.Fatalf("a request before its due time: %v, want it kept", err)
	}
	// ann's request was made 48 h 30 ago, bob's 1 h after: only ann's
	// lapses.
	later = later.Add(90 * time.Minute)
	f.now.Store(&later)
	runSync()
	if _, err := f.svc.Get(ctx, ann, req.ID); !errors.Is(err, booking.ErrNotFound) {
		t.Errorf("a lapsed request: %v, want deleted", err)
	}
	if b, err := f.svc.Get(ctx, bob, keep.ID); err != nil || !b.Pending {
		t.Errorf("a request not yet due: %+v %v, want still pending", b, err)
	}
	runSync()
	if k := f.told.kinds(); len(k) != 1 || k[0] != booking.NoticeLapsed {
		t.Errorf("notices %v, want one lapse", k)
	}
	if _, err := f.book(t, carla, 0); err != nil {
		t.Errorf("the lapsed request's slot: %v, want free", err)
	}
}
