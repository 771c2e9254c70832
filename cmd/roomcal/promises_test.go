package main

// The booking promises of DESIGN.md, each checked end to end through the
// HTTP API against a real Radicale and a real Redis.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/redisgate"
	"github.com/roomcal/roomcal/internal/testenv"
)

var paris = mustLoc("Europe/Paris")

// eventsCalendar is the events calendar of the tests' CalDAV homes.
const eventsCalendar = "evenements"

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// testRooms: one site, rooms open around the clock without limits, and one
// room with every rule; a second site whose two rooms share a quota
// (quota_promises_test.go).
func testRooms() ([]booking.Site, []booking.Room) {
	sites := []booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}, {ID: "sn", Name: "Saint-Nazaire", Location: paris}}
	quota := booking.Rules{Quota: booking.Quota{Scope: booking.ScopeSite, Ahead: 5, PerWeek: 40 * time.Hour, Exempt: []string{"bureau"}}}
	weekdays := map[time.Weekday][]booking.TimeRange{}
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays[d] = []booking.TimeRange{{From: booking.Clock(8, 0), To: booking.Clock(20, 0)}}
	}
	rooms := []booking.Room{
		{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Calendar: "loire"},
		{ID: "erdre", SiteID: "nantes", Name: "Salle Erdre", Capacity: 6, Calendar: "erdre", Rules: booking.Rules{Buffer: 15 * time.Minute}},
		{ID: "sevre", SiteID: "nantes", Name: "Salle Sèvre", Capacity: 8, Calendar: "sevre",
			Hours: booking.OpeningHours{Weekly: weekdays, Closures: []booking.Closure{{From: booking.Date{Year: 2030, Month: 12, Day: 24}, To: booking.Date{Year: 2030, Month: 12, Day: 26}}}},
			Rules: booking.Rules{MaxDuration: 4 * time.Hour, MinNotice: time.Hour, MaxAhead: 60 * 24 * time.Hour, AllowedGroups: []string{"salaries"}}},
		{ID: "port", SiteID: "sn", Name: "Salle du Port", Capacity: 10, Calendar: "port", Rules: quota},
		{ID: "quai", SiteID: "sn", Name: "Salle du Quai", Capacity: 10, Calendar: "quai", Rules: quota},
		// Requests answered by the group ca, lapsing after 6 seconds
		// (approval_promises_test.go).
		{ID: "cale", SiteID: "sn", Name: "Cale sèche", Capacity: 80, Calendar: "cale",
			Rules: booking.Rules{Approvers: []string{"ca"}, ApprovalWithin: 6 * time.Second}},
		// Check-in within a minute (checkin_promises_test.go).
		{ID: "atelier", SiteID: "sn", Name: "Atelier", Capacity: 12, Calendar: "atelier",
			Rules: booking.Rules{CheckInWithin: time.Minute}},
	}
	return sites, rooms
}

// backend is one CalDAV home and one Redis shared by the instances of a
// test.
type backend struct {
	home     testenv.Home
	redisURL string
	store    caldav.Store
	// prefix, when set, puts the gates' keys under it (a Redis shared
	// with other tests, such as the cluster of make test).
	prefix string
}

func newBackend(t *testing.T, home testenv.Home, redisURL string) *backend {
	t.Helper()
	store, err := caldav.NewClient(home.URL, caldav.ClientOptions{Username: home.User, Password: home.Password})
	if err != nil {
		t.Fatal(err)
	}
	_, rooms := testRooms()
	ctx := context.Background()
	for _, r := range rooms {
		if err := store.CreateCalendar(ctx, r.Calendar, r.Name); err != nil {
			t.Fatalf("create calendar %s: %v", r.Calendar, err)
		}
	}
	if err := store.CreateCalendar(ctx, eventsCalendar, "Événements"); err != nil {
		t.Fatalf("create calendar %s: %v", eventsCalendar, err)
	}
	return &backend{home: home, redisURL: redisURL, store: store}
}

// instance is one roomcal replica: its own CalDAV client, Redis client,
// service and HTTP server.
type instance struct {
	svc     *booking.Service
	ev      *events.Service
	srv     *httptest.Server
	notices *notices.Worker // nil without instanceOpts.notices
	// stopNotices stops the notices worker (as a replica that dies);
	// the test's cleanup calls it too.
	stopNotices func()
}

type instanceOpts struct {
	syncInterval time.Duration
	holdTTL      time.Duration
	calendar     func(booking.Calendar) booking.Calendar
	// notices, when set, runs a notices worker (notices_test.go).
	notices    *noticeOpts
	notifier   booking.Notifier
	sweepEvery time.Duration
	// rooms, when set, changes the rooms of testRooms for this replica.
	rooms func([]booking.Room)
	// preferences serves the members' preferences (the tokens
	// calendar must exist) without a notices worker.
	preferences bool
	// now, when set, is the booking service's clock (a replica living
	// on another day: the quotas' week, the rules' notice).
	now func() time.Time
	// eventWrites bounds one write of an event (events.Options.WriteTimeout;
	// 0: its default, 10 s): a registration is answered 503 when its
	// decision is not written within twice that.
	eventWrites time.Duration
}

func newInstance(t *testing.T, b *backend, o instanceOpts) *instance {
	t.Helper()
	store, err := caldav.NewClient(b.home.URL, caldav.ClientOptions{Username: b.home.User, Password: b.home.Password, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := redisgate.Dial(context.Background(), b.redisURL)
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
	// Server-side failures (500s) are logged with their cause.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	rcal := caldav.NewRoomCalendars(store, log)
	var cal booking.Calendar = rcal
	if o.calendar != nil {
		cal = o.calendar(rcal)
	}
	if o.syncInterval == 0 {
		o.syncInterval = 30 * time.Second
	}
	// The gates as roomcal makes them on a configured Redis (wire.go).
	gopts := redisOptions()
	if b.prefix != "" {
		gopts = append(gopts, redisgate.WithPrefix(b.prefix))
	}
	hints := &noticeHints{}
	outbox := caldav.NewNoticeOutbox(store, tokensCalendar)
	notifier := o.notifier
	var index booking.BookingIndex
	var roster events.Roster
	if o.notices != nil {
		index = caldav.NewBookingIndex(store, tokensCalendar)
		roster = caldav.NewEventRoster(store, tokensCalendar)
		if notifier == nil {
			notifier = bookingNotifier{hints: hints, outbox: outbox}
		}
	}
	svc, err := booking.NewService(booking.Options{
		Catalog: cat, Calendar: cal, Gate: redisgate.New(rc, append(gopts, siteSlots(catalogSites(cat)))...), Recurrence: rcal,
		Logger: log, SyncInterval: o.syncInterval, HoldTTL: o.holdTTL,
		Notifier: notifier, SweepEvery: o.sweepEvery, Removed: hints.removed(outbox), Now: o.now, Index: index,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	evs, err := events.NewService(events.Options{
		Calendar: caldav.NewEventCalendar(store, eventsCalendar, eventZone(cat), log),
		Gate:     redisgate.NewEventGate(rc, gopts...), Rooms: svc, Logger: log, SyncInterval: o.syncInterval,
		Zone: eventZone(cat), Changed: hints.hint, Deleted: hints.deletedEvent(outbox), WriteTimeout: o.eventWrites, Roster: roster,
	})
	if err != nil {
		t.Fatal(err)
	}
	aopts := api.Options{Logger: log, Catalog: cat, Bookings: svc, Events: evs, AuthMode: api.AuthDev, Feeds: caldav.FeedEncoder{}}
	var worker *notices.Worker
	stopNotices := func() {}
	if o.notices != nil {
		worker, stopNotices = o.notices.start(t, store, rc, gopts, evs, svc, cat, outbox, log)
		hints.w.Store(worker)
		aopts.Notices = worker
		aopts.Preferences = caldav.NewMemberPreferences(store, tokensCalendar)
		aopts.NoticeLinks = o.notices.links
		aopts.Booked = hints.booked(outbox, aopts.Preferences, log)
	}
	if o.preferences {
		aopts.Preferences = caldav.NewMemberPreferences(store, tokensCalendar)
	}
	srv := httptest.NewServer(api.New(aopts))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { defer func() { done <- struct{}{} }(); svc.RunSync(ctx) }()
	go func() { defer func() { done <- struct{}{} }(); evs.RunSync(ctx) }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	t.Cleanup(stopNotices)
	return &instance{svc: svc, ev: evs, srv: srv, notices: worker, stopNotices: stopNotices}
}

// testSlots groups the keys of testRooms by site as the instances'
// gates do, for a test that talks to the gate itself.
func testSlots() redisgate.Option {
	sites, rooms := testRooms()
	cat, err := booking.NewCatalog(sites, rooms)
	if err != nil {
		panic(err)
	}
	return siteSlots(catalogSites(cat))
}

// catalogSites is the site of each room of cat, as wire.go groups keys.
func catalogSites(cat *booking.Catalog) func(string) string {
	return func(room string) string {
		r, err := cat.Room(room)
		if err != nil {
			return ""
		}
		return r.SiteID
	}
}

var client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

type answer struct {
	status int
	body   []byte
}

func (in *instance) call(t testing.TB, method, path, user string, body any) answer {
	t.Helper()
	return in.callAs(t, method, path, user, "salaries", body)
}

func (in *instance) callAs(t testing.TB, method, path, user, groups string, body any) answer {
	t.Helper()
	return in.as(t, person{id: user, groups: groups}, method, path, body, "")
}

func (in *instance) book(t testing.TB, user, room string, start, end time.Time) answer {
	return in.call(t, "POST", "/api/v1/bookings", user, map[string]any{
		"room": room, "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339), "title": "Réunion de " + user,
	})
}

// bookOnceFree books [start, end) for user, trying again while the slot
// is taken (409), and fails the test if it is still taken after within
// or any other answer comes.
func (in *instance) bookOnceFree(t *testing.T, user, room string, start, end time.Time, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := in.book(t, user, room, start, end)
		if a.status == 201 {
			return
		}
		if a.status != 409 || time.Now().After(deadline) {
			t.Fatalf("%s booking %s [%s, %s): %d %s, want 201 once the slot is free", user, room, start, end, a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// slot returns a one-hour slot days ahead at hour:00 Paris time.
func slot(days, hour int) (time.Time, time.Time) {
	d := time.Now().In(paris).AddDate(0, 0, days)
	s := time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, paris)
	return s, s.Add(time.Hour)
}

// bookingsOnServer reads the room's calendar straight from Radicale and
// returns the busy intervals of roomcal bookings in [from, to).
func bookingsOnServer(t *testing.T, b *backend, room string, from, to time.Time) []booking.Busy {
	t.Helper()
	_, rooms := testRooms()
	for _, r := range rooms {
		if r.ID != room {
			continue
		}
		busy, problems, err := caldav.NewRoomCalendars(b.store, nil).Busy(context.Background(), r, paris, from, to)
		if err != nil || len(problems) > 0 {
			t.Fatalf("read %s from the server: %v %v", room, err, problems)
		}
		return busy
	}
	t.Fatalf("no room %s", room)
	return nil
}

func assertNoOverlap(t *testing.T, busy []booking.Busy) {
	t.Helper()
	sort.Slice(busy, func(i, j int) bool { return busy[i].Start.Before(busy[j].Start) })
	for i := 1; i < len(busy); i++ {
		if busy[i].Start.Before(busy[i-1].End) {
			t.Errorf("double booking on the server: %s [%s, %s) and %s [%s, %s)",
				busy[i-1].Ref, busy[i-1].Start, busy[i-1].End, busy[i].Ref, busy[i].Start, busy[i].End)
		}
	}
}

func countStatus(answers []answer) map[int]int {
	n := map[int]int{}
	for _, a := range answers {
		n[a.status]++
	}
	return n
}

// contend sends n bookings of one slot by n members, spread over the
// instances, all at once.
func contend(t *testing.T, ins []*instance, n int, room string, start, end time.Time) []answer {
	t.Helper()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			answers[i] = ins[i%len(ins)].book(t, fmt.Sprintf("membre-%03d", i), room, start, end)
		}()
	}
	close(gate)
	wg.Wait()
	return answers
}

func TestPromiseNoDoubleBookingOneInstance(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	start, end := slot(3, 10)
	answers := contend(t, []*instance{in}, 200, "loire", start, end)
	n := countStatus(answers)
	if n[201] != 1 || n[409] != 199 {
		t.Fatalf("200 contenders: got %v, want exactly one 201 and 199 409", n)
	}
	for _, a := range answers {
		if a.status == 409 {
			var p api.Problem
			if err := json.Unmarshal(a.body, &p); err != nil || p.Code != api.CodeConflict || len(p.Conflicts) == 0 {
				t.Fatalf("409 without the conflicting interval: %s", a.body)
			}
			break
		}
	}
	if got := bookingsOnServer(t, b, "loire", start, end); len(got) != 1 {
		t.Fatalf("the calendar on Radicale holds %d bookings in the slot, want 1: %+v", len(got), got)
	}
}

func TestPromiseNoDoubleBookingTwoInstances(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	start, end := slot(4, 14)
	n := countStatus(contend(t, ins, 200, "loire", start, end))
	if n[201] != 1 || n[409] != 199 {
		t.Fatalf("200 contenders over two instances: got %v, want one 201 and 199 409", n)
	}
	if got := bookingsOnServer(t, b, "loire", start, end); len(got) != 1 {
		t.Fatalf("Radicale holds %d bookings in the slot, want 1", len(got))
	}
}

// TestPromiseFlushMidStream flushes Redis again and again while members
// book overlapping slots through two instances: nothing acknowledged is
// lost and nothing overlaps on the server.
func TestPromiseFlushMidStream(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	rc, err := redisgate.Dial(context.Background(), redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	day, _ := slot(5, 0)
	var acked sync.Map
	var wg sync.WaitGroup
	var flushes atomic.Int32
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
				if err := rc.FlushAll(context.Background()).Err(); err == nil {
					flushes.Add(1)
				}
			}
		}
	}()
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				// Slots of 90 minutes starting every 30 minutes over
				// 8 hours: most requests clash with others.
				start := day.Add(8*time.Hour + time.Duration((w*7+i*5)%16)*30*time.Minute)
				a := ins[(w+i)%2].book(t, fmt.Sprintf("m%d-%d", w, i), "loire", start, start.Add(90*time.Minute))
				switch a.status {
				case 201:
					var bk struct{ ID string }
					_ = json.Unmarshal(a.body, &bk)
					acked.Store(bk.ID, true)
				case 409, 503:
				default:
					t.Errorf("unexpected answer %d: %s", a.status, a.body)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if flushes.Load() == 0 {
		t.Fatal("no FLUSHALL happened during the stream")
	}
	onServer := bookingsOnServer(t, b, "loire", day, day.Add(24*time.Hour))
	assertNoOverlap(t, onServer)
	present := map[string]bool{}
	for _, bk := range onServer {
		present[bk.Ref] = true
	}
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		if !present[k.(string)] {
			t.Errorf("booking %s was acknowledged but is not on the server", k)
		}
		return true
	})
	if n == 0 {
		t.Fatal("no booking was acknowledged")
	}
	t.Logf("%d flushes, %d bookings acknowledged, %d on the server", flushes.Load(), n, len(onServer))
}

// TestPromiseOutsideEditHonoured: an event PUT straight into the room's
// calendar shows as external busy time within the sync interval and a
// booking over it is refused; the overlap it makes with an existing
// booking is kept, listed to admins and counted.
func TestPromiseOutsideEditHonoured(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{syncInterval: 300 * time.Millisecond})
	start, end := slot(6, 9)
	if a := in.book(t, "amina", "loire", start, end); a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	// Someone adds a meeting in Nextcloud half an hour into amina's.
	ostart, oend := start.Add(30*time.Minute), end.Add(30*time.Minute)
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud//EN\r\nBEGIN:VEVENT\r\nUID:outside-1\r\nDTSTAMP:20261101T090000Z\r\nSUMMARY:Réunion posée dans Nextcloud\r\nDTSTART:%s\r\nDTEND:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		ostart.UTC().Format("20060102T150405Z"), oend.UTC().Format("20060102T150405Z"))
	if _, err := b.store.Create(context.Background(), "loire", "outside-1.ics", []byte(ics)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var av struct {
			Rooms []struct {
				Busy []struct{ Kind, Title string }
			}
		}
		a := in.call(t, "GET", availabilityPath("loire", start), "amina", nil)
		if err := json.Unmarshal(a.body, &av); err != nil {
			t.Fatalf("availability %d: %s", a.status, a.body)
		}
		if len(av.Rooms) == 1 && len(av.Rooms[0].Busy) == 2 && av.Rooms[0].Busy[1].Kind == "external" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outside event never showed as busy: %s", a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	later := oend.Add(-15 * time.Minute)
	if a := in.book(t, "bastien", "loire", later, later.Add(time.Hour)); a.status != 409 {
		t.Fatalf("booking over an outside event: %d %s", a.status, a.body)
	}
	if a := in.callAs(t, "GET", "/api/v1/conflicts", "bastien", "", nil); a.status != 403 {
		t.Fatalf("conflicts for a member: %d, want 403", a.status)
	}
	a := in.callAs(t, "GET", "/api/v1/conflicts", "root", "admins", nil)
	var conflicts []struct {
		Room string
		A, B struct{ Kind string }
	}
	if err := json.Unmarshal(a.body, &conflicts); err != nil || a.status != 200 {
		t.Fatalf("conflicts: %d %s", a.status, a.body)
	}
	if len(conflicts) != 1 || conflicts[0].Room != "loire" || conflicts[0].A.Kind != "booking" || conflicts[0].B.Kind != "external" {
		t.Fatalf("conflicts listed: %s, want the booking and the outside event", a.body)
	}
	if got := bookingsOnServer(t, b, "loire", start, oend); len(got) != 2 {
		t.Fatalf("the overlap must be kept on the server, found %d objects", len(got))
	}
	m := in.call(t, "GET", "/metrics", "amina", nil)
	if !bytes.Contains(m.body, []byte("roomcal_calendar_overlaps_total 1\n")) {
		t.Fatalf("overlap not counted:\n%s", m.body)
	}
}

func availabilityPath(room string, day time.Time) string {
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, paris)
	return fmt.Sprintf("/api/v1/availability?room=%s&from=%s&to=%s", room,
		urlTime(d), urlTime(d.Add(24*time.Hour)))
}

func urlTime(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }

// TestPromiseDeadWriter: a claim whose calendar write never happens (the
// process died between claim and write) blocks the slot only until its
// hold expires, and leaves nothing on the server.
func TestPromiseDeadWriter(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	in := newInstance(t, b, instanceOpts{})
	start, end := slot(7, 11)
	// Make sure the room's state exists, then claim like a replica that
	// dies right after its claim.
	if a := in.call(t, "GET", availabilityPath("loire", start), "amina", nil); a.status != 200 {
		t.Fatalf("availability: %d", a.status)
	}
	rc, err := redisgate.Dial(context.Background(), redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	err = redisgate.New(rc, testSlots()).Claim(context.Background(), "loire", booking.Claim{
		HoldID: "dead-writer", TTL: 700 * time.Millisecond,
		Intervals: []booking.Busy{{Start: start, End: end, Kind: booking.KindBooking}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := in.book(t, "bastien", "loire", start, end); a.status != 409 {
		t.Fatalf("slot held by a live claim: got %d, want 409", a.status)
	}
	in.bookOnceFree(t, "bastien", "loire", start, end, 15*time.Second)
	if got := bookingsOnServer(t, b, "loire", start, end); len(got) != 1 {
		t.Fatalf("server holds %d bookings, want only bastien's", len(got))
	}
}

// TestPromiseServerDownNothingHalfWritten: with the CalDAV server down, a
// booking gets 503 unavailable, its hold is given back, and once the
// server is back the slot can be booked and holds one booking.
func TestPromiseServerDownNothingHalfWritten(t *testing.T) {
	rad := testenv.StartRadicale(t)
	b := newBackend(t, rad.Home(), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	start, end := slot(8, 15)
	if a := in.call(t, "GET", availabilityPath("loire", start), "amina", nil); a.status != 200 {
		t.Fatalf("availability: %d", a.status)
	}
	rad.Stop()
	a := in.book(t, "amina", "loire", start, end)
	var p api.Problem
	_ = json.Unmarshal(a.body, &p)
	if a.status != 503 || p.Code != api.CodeUnavailable {
		t.Fatalf("booking with CalDAV down: %d %s, want 503 unavailable", a.status, a.body)
	}
	rad.Start()
	if got := bookingsOnServer(t, b, "loire", start, end); len(got) != 0 {
		t.Fatalf("a booking that was refused is on the server: %+v", got)
	}
	if a := in.book(t, "amina", "loire", start, end); a.status != 201 {
		t.Fatalf("after the server came back: %d %s", a.status, a.body)
	}
}

// TestRulesThroughTheAPI: each rule's violation is a 422 rule_violation
// naming the rule.
func TestRulesThroughTheAPI(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	// A weekday two weeks ahead.
	day := time.Now().In(paris).AddDate(0, 0, 14)
	for day.Weekday() != time.Tuesday {
		day = day.AddDate(0, 0, 1)
	}
	at := func(d time.Time, h, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, paris)
	}
	tests := []struct {
		name       string
		user       string
		groups     string
		start, end time.Time
		status     int
		rule       string
	}{
		{"within the rules", "amina", "salaries", at(day, 9, 0), at(day, 10, 0), 201, ""},
		{"too long", "amina", "salaries", at(day, 10, 0), at(day, 14, 30), 422, "max_duration"},
		{"too soon", "amina", "salaries", time.Now().Add(20 * time.Minute).Truncate(time.Minute), time.Now().Add(80 * time.Minute).Truncate(time.Minute), 422, "min_notice"},
		{"too far ahead", "amina", "salaries", at(day.AddDate(0, 3, 0), 9, 0), at(day.AddDate(0, 3, 0), 10, 0), 422, "max_ahead"},
		{"outside opening hours", "amina", "salaries", at(day, 19, 0), at(day, 21, 0), 422, "opening_hours"},
		{"in the past", "amina", "salaries", time.Now().Add(-2 * time.Hour).Truncate(time.Minute), time.Now().Add(-time.Hour).Truncate(time.Minute), 422, "in_past"},
		{"not in an allowed group", "bastien", "benevoles", at(day, 11, 0), at(day, 12, 0), 422, "allowed_groups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"room": "sevre", "start": tt.start.Format(time.RFC3339), "end": tt.end.Format(time.RFC3339), "title": "Atelier"})
			req, _ := http.NewRequest("POST", in.srv.URL+"/api/v1/bookings", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(api.HeaderUser, tt.user)
			req.Header.Set(api.HeaderGroups, tt.groups)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, out)
			}
			if tt.rule != "" {
				var p api.Problem
				if err := json.Unmarshal(out, &p); err != nil || p.Code != api.CodeRuleViolation || p.Rule != tt.rule {
					t.Fatalf("problem %s, want rule_violation %s", out, tt.rule)
				}
			}
		})
	}
}

// TestRecurringBookingAcrossDST: a weekly booking across the October DST
// change keeps its wall-clock time; a clash on one occurrence refuses the
// whole series and names every clashing occurrence.
func TestRecurringBookingAcrossDST(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	// The next last Sunday of October at least two weeks away: clocks go
	// back an hour that night. The series starts on the Monday 13 days
	// before it.
	var first time.Time
	for y := time.Now().In(paris).Year(); ; y++ {
		dst := time.Date(y, time.October, 31, 12, 0, 0, 0, paris)
		for dst.Weekday() != time.Sunday {
			dst = dst.AddDate(0, 0, -1)
		}
		first = time.Date(dst.Year(), dst.Month(), dst.Day()-13, 18, 0, 0, 0, paris)
		if first.After(time.Now().Add(24 * time.Hour)) {
			break
		}
	}
	if first.Before(time.Now()) || first.Sub(time.Now()) > 390*24*time.Hour {
		t.Fatalf("test date %v out of the booking window", first)
	}
	a := in.call(t, "POST", "/api/v1/bookings", "amina", map[string]any{
		"room": "loire", "start": first.Format(time.RFC3339), "end": first.Add(time.Hour).Format(time.RFC3339),
		"title": "Chorale", "recurrence": "FREQ=WEEKLY;COUNT=4",
	})
	if a.status != 201 {
		t.Fatalf("recurring booking: %d %s", a.status, a.body)
	}
	busy := bookingsOnServer(t, b, "loire", first, first.AddDate(0, 0, 28))
	if len(busy) != 4 {
		t.Fatalf("server has %d occurrences, want 4", len(busy))
	}
	for _, o := range busy {
		if w := o.Start.In(paris); w.Hour() != 18 || w.Minute() != 0 || o.End.Sub(o.Start) != time.Hour {
			t.Errorf("occurrence at %v (%v long), want 18:00 Paris for 1h", w, o.End.Sub(o.Start))
		}
	}
	// A second series half an hour later clashes with the first four of
	// its six occurrences.
	second := first.Add(30 * time.Minute)
	a = in.call(t, "POST", "/api/v1/bookings", "bastien", map[string]any{
		"room": "loire", "start": second.Format(time.RFC3339), "end": second.Add(time.Hour).Format(time.RFC3339),
		"title": "Théâtre", "recurrence": "FREQ=WEEKLY;COUNT=6",
	})
	var p api.Problem
	_ = json.Unmarshal(a.body, &p)
	if a.status != 409 || len(p.Conflicts) != 4 {
		t.Fatalf("clashing series: %d with %d conflicts, want 409 listing the 4 clashing occurrences: %s", a.status, len(p.Conflicts), a.body)
	}
	if got := bookingsOnServer(t, b, "loire", first, first.AddDate(0, 0, 60)); len(got) != 4 {
		t.Fatalf("a refused series left %d occurrences on the server, want the first series' 4", len(got))
	}
}

// TestMoveAndCancel: moving claims the new slot before freeing the old;
// nobody moves or cancels another member's booking.
func TestMoveAndCancel(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	in := newInstance(t, b, instanceOpts{})
	s1, e1 := slot(9, 9)
	s2, e2 := slot(9, 11)
	a := in.book(t, "amina", "erdre", s1, e1)
	if a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	var mine struct{ ID string }
	_ = json.Unmarshal(a.body, &mine)
	if a := in.book(t, "bastien", "erdre", s2, e2); a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	patch := func(user string, start, end time.Time) answer {
		return in.call(t, "PATCH", "/api/v1/bookings/"+mine.ID, user, map[string]any{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)})
	}
	if a := patch("bastien", s1.Add(time.Hour), e1.Add(time.Hour)); a.status != 403 {
		t.Fatalf("someone else's move: %d, want 403", a.status)
	}
	// Into bastien's slot (with the 15-minute buffer): refused, and the
	// booking stays where it was.
	if a := patch("amina", s1.Add(75*time.Minute), e1.Add(75*time.Minute)); a.status != 409 {
		t.Fatalf("move onto a taken slot: %d %s, want 409", a.status, a.body)
	}
	if got := bookingsOnServer(t, b, "erdre", s1, e1); len(got) != 1 || got[0].Ref != mine.ID {
		t.Fatalf("the refused move changed the booking: %+v", got)
	}
	// Half an hour later overlaps its own old slot: allowed.
	if a := patch("amina", s1.Add(30*time.Minute), e1.Add(30*time.Minute)); a.status != 200 {
		t.Fatalf("move over its own slot: %d %s", a.status, a.body)
	}
	if a := in.call(t, "DELETE", "/api/v1/bookings/"+mine.ID, "bastien", nil); a.status != 403 {
		t.Fatalf("someone else's cancel: %d, want 403", a.status)
	}
	if a := in.call(t, "DELETE", "/api/v1/bookings/"+mine.ID, "amina", nil); a.status != 204 {
		t.Fatalf("cancel: %d %s", a.status, a.body)
	}
	// Freed at once: the slot can be booked again without waiting for a
	// sync pass.
	if a := in.book(t, "chloe", "erdre", s1, e1); a.status != 201 {
		t.Fatalf("book a freed slot: %d %s", a.status, a.body)
	}
}
