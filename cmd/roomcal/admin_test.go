package main

// Rooms administered in the pages (issue 15, item 1), end to end through
// the HTTP API against a real Radicale and a real Redis: a room created,
// changed and retired on one replica reaches the others within seconds
// without a restart; its record lives in its calendar, so a replica
// started afterwards from roomcal.yaml alone has it; two admins changing
// one room at once cannot both win, even on a server whose If-Match is
// not atomic (Nextcloud's, played by testenv.SabreProxy).

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

var (
	roomAdmin   = person{id: "ada", name: "Ada Admin", groups: "admins"}
	nantesAdmin = person{id: "nina", name: "Nina de Nantes", groups: "admins-nantes,salaries"}
)

// newAdminInstance is a replica wired as serve.go wires one: the catalog
// seeded from the configuration (testRooms), then the records read from
// the calendars, the room admin refreshing it (notices, and a full pass
// every refresh), the booking service syncing every room of it.
func newAdminInstance(t *testing.T, b *backend, refresh time.Duration) (*instance, *booking.Catalog) {
	t.Helper()
	return newAdminInstanceWith(t, b, adminOpts{refresh: refresh})
}

type adminOpts struct {
	refresh time.Duration
	// rooms, when set, changes the configuration's rooms (testRooms)
	// for this replica: its roomcal.yaml.
	rooms func([]booking.Room)
	// deaf: the replica neither hears notices of room changes nor
	// refreshes its catalog (one that has not learnt a change yet).
	deaf bool
	// keepBookings: the replica's room admin is not given the booking
	// service, so retiring leaves the bookings ahead where they are (a
	// replica of before the check): what the gate's mark decides alone.
	keepBookings bool
	// outbox, when set, records the notices of bookings removed by
	// someone else (the tokens calendar must exist).
	outbox *caldav.NoticeOutbox
}

func newAdminInstanceWith(t *testing.T, b *backend, o adminOpts) (*instance, *booking.Catalog) {
	t.Helper()
	ctx := context.Background()
	refresh := o.refresh
	store, err := caldav.NewClient(b.home.URL, caldav.ClientOptions{Username: b.home.User, Password: b.home.Password, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := redisgate.Dial(ctx, b.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	sites, rooms := testRooms()
	if o.rooms != nil {
		o.rooms(rooms)
	}
	cat, err := booking.NewCatalog(sites, rooms)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	gate := redisgate.New(rc, redisOptions()...)
	var notes booking.RoomNotices = redisgate.NewRoomNotices(rc, "")
	if o.deaf {
		notes = nil
	}
	admin, err := booking.NewRoomAdmin(booking.AdminOptions{
		Catalog: cat, Store: caldav.NewRoomSettingsStore(store, log, eventsCalendar),
		Gate: gate, Notices: notes, Logger: log, RefreshInterval: refresh,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Load(ctx); err != nil {
		t.Fatal(err)
	}
	rcal := caldav.NewRoomCalendars(store, log)
	sopts := booking.Options{Catalog: cat, Calendar: rcal, Gate: gate, Recurrence: rcal, Logger: log, SyncInterval: time.Hour,
		Importer: caldav.NewRoomImports(store)}
	if o.outbox != nil {
		// What noticeHints.removed records, without a worker to wake.
		sopts.Removed = func(ctx context.Context, r booking.Removal) error {
			return o.outbox.Put(ctx, notices.FromRemoval(r))
		}
	}
	svc, err := booking.NewService(sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if !o.keepBookings {
		admin.SetBookings(svc) // as serve.go does
	}
	srv := httptest.NewServer(api.New(api.Options{Logger: log, Catalog: cat, Bookings: svc, AuthMode: api.AuthDev, RoomAdmin: admin}))
	t.Cleanup(srv.Close)
	if o.deaf {
		return &instance{svc: svc, srv: srv}, cat
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); admin.RunRefresh(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &instance{svc: svc, srv: srv}, cat
}

type adminRoom struct {
	ID       string         `json:"id"`
	Site     string         `json:"site"`
	Name     string         `json:"name"`
	Capacity int            `json:"capacity"`
	Retired  bool           `json:"retired"`
	Revision int            `json:"revision"`
	Hours    map[string]any `json:"opening_hours"`
	Closures []struct {
		From, To, Reason string
	} `json:"closures"`
	Audit []struct {
		By      string   `json:"by"`
		ByName  string   `json:"by_name"`
		Action  string   `json:"action"`
		Changes []string `json:"changes"`
	} `json:"audit"`
}

func decodeAs[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	return v
}

// roomBody is a PUT or POST body for room id.
func roomBody(id, name string, capacity, revision int, retired bool) map[string]any {
	return map[string]any{
		"id": id, "site": "nantes", "name": name, "capacity": capacity, "retired": retired,
		"equipment": []string{"écran"}, "accessibility": []string{"accès fauteuil"},
		"description": "Salle de l'atelier", "directions": "Au fond de la cour",
		"opening_hours": map[string]any{"always": true},
		"closures":      []map[string]string{{"from": "2030-08-01", "to": "2030-08-15", "reason": "Travaux"}},
		"rules":         map[string]any{"max_duration_minutes": 240},
		"revision":      revision,
	}
}

// within polls cond every 50 ms until it holds or d has passed, and
// returns how long it took.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestAdminRoomsReachEveryReplica: replica B never refreshes by itself
// during the test (a pass an hour): what it learns comes from the
// notices, within seconds.
func TestAdminRoomsReachEveryReplica(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.RedisURL(t))
	a, _ := newAdminInstance(t, b, time.Hour)
	bb, _ := newAdminInstance(t, b, time.Hour)
	id := "atelier-" + testenv.RandomID()

	created := a.as(t, roomAdmin, "POST", "/api/v1/admin/rooms", roomBody(id, "Atelier", 10, 0, false), "")
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	took := within(t, 5*time.Second, "the new room on replica B", func() bool {
		return bb.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "").status == 200
	})
	t.Logf("a new room reached replica B in %s", took)

	// The room's calendar exists: B books in it.
	start, end := slot(3, 10)
	if got := bb.book(t, "mia", id, start, end); got.status != 201 {
		t.Fatalf("booking in the new room on B: %d %s", got.status, got.body)
	}

	// A change: B sees it within seconds.
	rev := decodeAs[adminRoom](t, created).Revision
	upd := a.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/"+id, roomBody(id, "Atelier Verne", 20, rev, false), "")
	if upd.status != 200 {
		t.Fatalf("update: %d %s", upd.status, upd.body)
	}
	within(t, 5*time.Second, "the change on replica B", func() bool {
		r := bb.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "")
		var d struct {
			Name     string `json:"name"`
			Capacity int    `json:"capacity"`
		}
		_ = json.Unmarshal(r.body, &d)
		return d.Capacity == 20 && d.Name == "Atelier Verne"
	})

	// Retired by a site admin of its site, mia's booking ahead
	// cancelled (TestAdminRetireFutureBookings: the choice): no longer
	// listed nor bookable on B; its calendar stays.
	rev = decodeAs[adminRoom](t, upd).Revision
	retBody := roomBody(id, "Atelier Verne", 20, rev, true)
	retBody["cancel_future"], retBody["cancel_reason"] = true, "L'atelier ferme."
	ret := a.as(t, nantesAdmin, "PUT", "/api/v1/admin/rooms/"+id, retBody, "")
	if ret.status != 200 {
		t.Fatalf("retire: %d %s", ret.status, ret.body)
	}
	within(t, 5*time.Second, "the retirement on replica B", func() bool {
		var listed []struct{ ID string }
		_ = json.Unmarshal(bb.as(t, memberNo(1), "GET", "/api/v1/rooms", nil, "").body, &listed)
		for _, r := range listed {
			if r.ID == id {
				return false
			}
		}
		return true
	})
	s2, e2 := slot(4, 10)
	if got := bb.book(t, "mia", id, s2, e2); got.status != 422 || !json.Valid(got.body) || decodeAs[api.Problem](t, got).Rule != "retired" {
		t.Fatalf("booking a retired room on B: %d %s, want 422 rule retired", got.status, got.body)
	}
	mine := bb.call(t, "GET", "/api/v1/bookings?mine=true", "mia", nil)
	var bookings []struct{ Room string }
	_ = json.Unmarshal(mine.body, &bookings)
	if mine.status != 200 || len(bookings) != 0 {
		t.Errorf("mia's bookings after the retirement: %d %s, want none (cancelled with it)", mine.status, mine.body)
	}

	// Who changed what and when, newest first, read on B.
	got := decodeAs[adminRoom](t, bb.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/"+id, nil, ""))
	if got.Revision != 3 || len(got.Audit) != 3 || got.Audit[0].Action != "retired" || got.Audit[0].By != "nina" ||
		got.Audit[1].Action != "edited" || got.Audit[2].Action != "created" || got.Audit[2].By != "ada" {
		t.Fatalf("record on B: %+v", got)
	}
	if len(got.Audit[1].Changes) != 2 {
		t.Errorf("the edit's changes: %q, want name and capacity", got.Audit[1].Changes)
	}

	// The sync loop leaves the record alone and never counts it busy.
	if err := a.svc.SyncRoom(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	busy := bookingsOnServerCal(t, b, id, time.Unix(0, 0), end.Add(time.Hour))
	if len(busy) != 0 {
		t.Errorf("busy in %s since 1970: %+v, want nothing (the record is not busy; the booking was cancelled)", id, busy)
	}

	// A replica started now, from roomcal.yaml alone, has the room as
	// the pages left it: the record is on the CalDAV server.
	c, cat := newAdminInstance(t, b, time.Hour)
	r, err := cat.Room(id)
	if err != nil || !r.Retired || r.Capacity != 20 || r.Description != "Salle de l'atelier" || len(r.Hours.Closures) != 1 {
		t.Fatalf("room on a new replica: %+v, %v", r, err)
	}
	if got := c.as(t, memberNo(2), "GET", "/api/v1/rooms/"+id, nil, ""); got.status != 200 {
		t.Fatalf("retired room by id on C: %d", got.status)
	}
}

// bookingsOnServerCal reads the busy intervals of calendar cal straight
// from the server.
func bookingsOnServerCal(t *testing.T, b *backend, cal string, from, to time.Time) []booking.Busy {
	t.Helper()
	busy, problems, err := caldav.NewRoomCalendars(b.store, nil).Busy(context.Background(), booking.Room{ID: cal, Calendar: cal}, paris, from, to)
	if err != nil || len(problems) > 0 {
		t.Fatalf("read %s: %v %v", cal, err, problems)
	}
	return busy
}

// TestAdminRoomsConcurrentEdits: two admins on two replicas change one
// room from the same revision at once, through a server whose If-Match
// lets two writers pass (SabreProxy with a race window): one wins, the
// other gets 409, every round; the record counts one change a round.
func TestAdminRoomsConcurrentEdits(t *testing.T) {
	home := testenv.RadicaleHome(t)
	proxy := testenv.StartSabreProxy(t, home.URL)
	proxy.RaceWindow.Store(int64(150 * time.Millisecond))
	home.URL = proxy.URL
	b := newBackend(t, home, testenv.RedisURL(t))
	x, _ := newAdminInstance(t, b, time.Hour)
	y, _ := newAdminInstance(t, b, time.Hour)
	id := "salle-" + testenv.RandomID()
	created := x.as(t, roomAdmin, "POST", "/api/v1/admin/rooms", roomBody(id, "Salle", 10, 0, false), "")
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	within(t, 5*time.Second, "the new room on replica Y", func() bool {
		return y.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "").status == 200
	})
	rev := decodeAs[adminRoom](t, created).Revision
	const rounds = 6
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		answers := make([]answer, 2)
		for i, in := range []*instance{x, y} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				who := []person{roomAdmin, nantesAdmin}[i]
				answers[i] = in.as(t, who, "PUT", "/api/v1/admin/rooms/"+id,
					roomBody(id, fmt.Sprintf("Salle %d-%d", round, i), 11+round, rev, false), "")
			}()
		}
		wg.Wait()
		won := -1
		for i, a := range answers {
			switch a.status {
			case 200:
				if won >= 0 {
					t.Fatalf("round %d: both edits from revision %d won", round, rev)
				}
				won = i
			case 409:
				var p api.Problem
				if err := json.Unmarshal(a.body, &p); err != nil || p.Code != api.CodeConflict {
					t.Errorf("round %d: 409 is not a conflict problem: %s", round, a.body)
				}
			default:
				t.Fatalf("round %d: %d %s", round, a.status, a.body)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither edit won: %d %d", round, answers[0].status, answers[1].status)
		}
		rev = decodeAs[adminRoom](t, answers[won]).Revision
	}
	got := decodeAs[adminRoom](t, y.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/"+id, nil, ""))
	if got.Revision != 1+rounds || len(got.Audit) != 1+rounds {
		t.Fatalf("after %d rounds: revision %d, %d audit entries", rounds, got.Revision, len(got.Audit))
	}
}

// TestAdminRetireDecidedAtGate: replica B never hears of room changes
// (no notices, no refresh pass): its catalog still has loire in
// service. Once replica A has acknowledged loire's retirement, B cannot
// book it: the gate refuses the claim (422 rule retired). After a
// FLUSHALL the gate knows it again from the record in the calendar, also
// when the room had no state when it was retired. Put back in service,
// B books it again.
func TestAdminRetireDecidedAtGate(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	// A retires loire with a booking ahead left in it (keepBookings):
	// the mark at the gate alone is what is tested here (the check of
	// bookings ahead: TestAdminRetireFutureBookings).
	a, _ := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, keepBookings: true})
	deaf, dcat := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, deaf: true})
	flush := func() { t.Helper(); redis.FlushAll(t) }
	day := 3
	book := func() answer {
		t.Helper()
		day++
		s, e := slot(day, 10)
		return deaf.book(t, "mia", "loire", s, e)
	}
	refused := func(when string) {
		t.Helper()
		got := book()
		if got.status != 422 || !json.Valid(got.body) || decodeAs[api.Problem](t, got).Rule != "retired" {
			t.Fatalf("%s: booking loire on the replica that did not hear of it: %d %s, want 422 rule retired", when, got.status, got.body)
		}
	}
	save := func(revision int, retired bool) {
		t.Helper()
		if got := a.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/loire", roomBody("loire", "Salle Loire", 12, revision, retired), ""); got.status != 200 {
			t.Fatalf("save loire (retired %v): %d %s", retired, got.status, got.body)
		}
	}
	first := book()
	if first.status != 201 {
		t.Fatalf("booking loire in service: %d %s", first.status, first.body)
	}
	firstID := decodeAs[struct{ ID string }](t, first).ID

	save(0, true)
	refused("just after the retirement")
	if r, _ := dcat.Room("loire"); r.Retired {
		t.Fatal("the deaf replica heard of the retirement: the test proves nothing")
	}
	// A booking made before keeps its slot and may be renamed; it
	// cannot move (a move takes a new slot).
	if got := deaf.call(t, "PATCH", "/api/v1/bookings/"+firstID, "mia", map[string]any{"title": "Réunion renommée"}); got.status != 200 {
		t.Errorf("renaming a booking of the retired room: %d %s, want 200", got.status, got.body)
	}
	s, e := slot(20, 10)
	if got := deaf.call(t, "PATCH", "/api/v1/bookings/"+firstID, "mia", map[string]any{
		"start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339),
	}); got.status != 422 || decodeAs[api.Problem](t, got).Rule != "retired" {
		t.Errorf("moving a booking of the retired room: %d %s, want 422 rule retired", got.status, got.body)
	}
	flush()
	refused("after a FLUSHALL")

	save(1, false)
	if got := book(); got.status != 201 {
		t.Fatalf("booking loire back in service: %d %s", got.status, got.body)
	}
	// Retired while the gate has no state for it.
	flush()
	save(2, true)
	refused("retired while the gate had no state")
	save(3, false)
	if got := book(); got.status != 201 {
		t.Fatalf("booking loire back in service again: %d %s", got.status, got.body)
	}
}
