package main

// The promises under faults (issue 11), end to end through the HTTP API
// against Radicale behind testenv.SabreProxy, which checks If-Match the
// way Nextcloud does (then writes unconditionally) and can slow writes
// down to Nextcloud's pace for a big object.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomcal/roomcal/internal/testenv"
)

// TestFlushDuringSlowBurst: Redis is flushed in the middle of 300
// registrations while every PUT of the event takes a second. Waiters
// look at the state before waiting for the event's lock, and wake when
// the writer installs it again, so nobody starves behind a writer that
// keeps taking the lock back: no 503, the cap held, the list in order
// and the calendar agreeing.
func TestFlushDuringSlowBurst(t *testing.T) {
	home := testenv.RadicaleHome(t)
	proxy := testenv.StartSabreProxy(t, home.URL)
	home.URL = proxy.URL
	rdb := testenv.StartRedis(t)
	b := newBackend(t, home, rdb.URL())
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	id := ins[0].createEvent(t, map[string]any{"capacity": 100, "waitlist": true})
	proxy.WriteDelay.Store(int64(1400 * time.Millisecond))

	rc := redis.NewClient(&redis.Options{Addr: rdb.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	answers := make([]answer, 300)
	var acked atomic.Int32
	flushed := make(chan struct{})
	var flushOnce sync.Once
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 10 * time.Millisecond) // a stream over 3 s
			answers[i] = ins[i%len(ins)].as(t, memberNo(i), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
			if answers[i].status == 201 && acked.Add(1) >= 20 {
				flushOnce.Do(func() {
					if err := rc.FlushAll(context.Background()).Err(); err != nil {
						t.Errorf("FLUSHALL: %v", err)
					}
					close(flushed)
				})
			}
		}()
	}
	wg.Wait()
	select {
	case <-flushed:
	default:
		t.Fatal("fewer than 20 registrations acknowledged: the flush did not fall in the burst")
	}
	statuses := map[int]int{}
	for i, a := range answers {
		statuses[a.status]++
		if a.status != 201 {
			t.Errorf("member %d: %d %s", i, a.status, a.body)
		}
	}
	regs := ins[1].attendees(t, id)
	if c, w := counts(regs); c != 100 || w != 200 {
		t.Fatalf("after the burst: %d confirmed, %d waiting; want 100 and 200 (answers %v)", c, w, statuses)
	}
	assertPositions(t, regs)
	assertServerAgrees(t, b, id, regs)
	t.Logf("300 registrations with a flush after the 20th acknowledgement and 1 s PUTs: %v, %d writes reached the server",
		statuses, proxy.Writes.Load())
}

// TestConcurrentMovesOnARacyServer: four moves of one booking at once,
// through two replicas, against a server whose If-Match is checked and
// then not enforced (as Nextcloud's): exactly one is applied (200), the
// others are refused (409), and the calendar holds the one applied.
func TestConcurrentMovesOnARacyServer(t *testing.T) {
	proxy, b := proxiedBackend(t)
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	start, end := slot(9, 9)
	a := ins[0].book(t, "alice", "loire", start, end)
	if a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	id := decode[bookingAnswer](t, a).ID
	// Wide enough for every writer to pass the check before any writes.
	proxy.RaceWindow.Store(int64(300 * time.Millisecond))

	const movers = 4
	answers := make([]answer, movers)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range movers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, e := slot(9, 11+2*i)
			<-gate
			answers[i] = ins[i%2].call(t, "PATCH", "/api/v1/bookings/"+id, "alice",
				map[string]any{"start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339)})
		}()
	}
	close(gate)
	wg.Wait()
	won := -1
	for i, a := range answers {
		switch a.status {
		case 200:
			if won >= 0 {
				t.Fatalf("moves %d and %d both applied: %s / %s", won, i, answers[won].body, a.body)
			}
			won = i
		case 409:
		default:
			t.Fatalf("move %d: %d %s", i, a.status, a.body)
		}
	}
	if won < 0 {
		t.Fatal("no move applied")
	}
	s, e := slot(9, 11+2*won)
	day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, paris)
	got := bookingsOnServer(t, b, "loire", day, day.AddDate(0, 0, 1))
	if len(got) != 1 || !got[0].Start.Equal(s) || !got[0].End.Equal(e) {
		t.Fatalf("the calendar holds %+v; the move applied was to [%s, %s)", got, s, e)
	}
	if g := ins[1].call(t, "GET", "/api/v1/bookings/"+id, "alice", nil); g.status != 200 ||
		!decode[bookingAnswer](t, g).Start.Equal(s) {
		t.Fatalf("the API shows %d %s; the move applied starts %s", g.status, g.body, s)
	}
}

// bookingAnswer is the part of a booking's JSON these tests read.
type bookingAnswer struct {
	ID    string    `json:"id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// proxiedBackend is a backend on a private Radicale reached through a
// sabre-like proxy (to freeze or race its writes) and a private Redis.
func proxiedBackend(t *testing.T) (*testenv.SabreProxy, *backend) {
	home := testenv.RadicaleHome(t)
	proxy := testenv.StartSabreProxy(t, home.URL)
	home.URL = proxy.URL
	return proxy, newBackend(t, home, testenv.StartRedis(t).URL())
}

// TestFrozenServerKeepsTheSlot: four bookings whose PUTs the calendar
// server holds past the client's timeout (a frozen server that applies
// them when it resumes) are answered 503; four other members asking for
// the same slots meanwhile get 409, not 201, because the slots stay held
// until the outcome is known. Once the writes land, each slot holds
// exactly one booking, the first member's, in their bookings and busy in
// the gate; no hold is left.
func TestFrozenServerKeepsTheSlot(t *testing.T) {
	proxy, b := proxiedBackend(t)
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	// The instances' CalDAV client gives up after 5 s; the server
	// stores the PUT after 7 s.
	proxy.Detached.Store(true)
	proxy.WriteDelay.Store(int64(7 * time.Second))

	const slots = 4
	first := make([]answer, slots)
	var wg sync.WaitGroup
	for i := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, e := slot(11, 8+2*i)
			first[i] = ins[i%2].book(t, fmt.Sprintf("first-%d", i), "loire", s, e)
		}()
	}
	wg.Wait()
	for i, a := range first {
		if a.status != 503 {
			t.Fatalf("booking %d on a frozen server: %d %s, want 503", i, a.status, a.body)
		}
	}
	// The server is quick again; the held PUTs have not landed yet.
	proxy.WriteDelay.Store(0)
	for i := range slots {
		s, e := slot(11, 8+2*i)
		if a := ins[(i+1)%2].book(t, fmt.Sprintf("second-%d", i), "loire", s, e); a.status != 409 {
			t.Fatalf("second booking of slot %d while the first's outcome is unknown: %d %s, want 409", i, a.status, a.body)
		}
	}
	// The writes land; the settlers find them and make them bookings.
	day, _ := slot(11, 0)
	deadline := time.Now().Add(time.Minute)
	for {
		settled := true
		for i := range slots {
			list := ins[0].call(t, "GET", "/api/v1/bookings?mine=true&room=loire&from="+url.QueryEscape(day.Format(time.RFC3339))+
				"&to="+url.QueryEscape(day.AddDate(0, 0, 1).Format(time.RFC3339)), fmt.Sprintf("first-%d", i), nil)
			var mine []map[string]any
			if list.status != 200 || json.Unmarshal(list.body, &mine) != nil {
				t.Fatalf("my bookings: %d %s", list.status, list.body)
			}
			if len(mine) != 1 {
				settled = false
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bookings whose answer was lost never showed in their members' bookings")
		}
		time.Sleep(200 * time.Millisecond)
	}
	busy := bookingsOnServer(t, b, "loire", day, day.AddDate(0, 0, 1))
	if len(busy) != slots {
		t.Fatalf("%d bookings on the server, want %d: %+v", len(busy), slots, busy)
	}
	assertNoOverlap(t, busy)
	for i := range slots {
		s, e := slot(11, 8+2*i)
		if a := ins[i%2].book(t, fmt.Sprintf("third-%d", i), "loire", s, e); a.status != 409 {
			t.Fatalf("slot %d after settling: %d %s, want 409 (it is the first member's)", i, a.status, a.body)
		}
	}
}

// TestFrozenServerKeepsAMovesSlot: a move whose PUT the server holds past
// the client's timeout is answered 503, and the slot it moves to stays
// held meanwhile (another member gets 409); once the write lands, the
// booking is at its new slot, in the gate as on the calendar, and its old
// slot is free.
func TestFrozenServerKeepsAMovesSlot(t *testing.T) {
	proxy, b := proxiedBackend(t)
	in := newInstance(t, b, instanceOpts{})
	from, fromEnd := slot(12, 9)
	to, toEnd := slot(12, 14)
	a := in.book(t, "alice", "loire", from, fromEnd)
	if a.status != 201 {
		t.Fatalf("book: %d %s", a.status, a.body)
	}
	id := decode[bookingAnswer](t, a).ID
	proxy.Detached.Store(true)
	proxy.WriteDelay.Store(int64(7 * time.Second))
	m := in.call(t, "PATCH", "/api/v1/bookings/"+id, "alice",
		map[string]any{"start": to.Format(time.RFC3339), "end": toEnd.Format(time.RFC3339)})
	if m.status != 503 {
		t.Fatalf("move on a frozen server: %d %s, want 503", m.status, m.body)
	}
	proxy.WriteDelay.Store(0)
	if a := in.book(t, "bruno", "loire", to, toEnd); a.status != 409 {
		t.Fatalf("booking the slot a move is writing to: %d %s, want 409", a.status, a.body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		g := in.call(t, "GET", "/api/v1/bookings/"+id, "alice", nil)
		if g.status == 200 && decode[bookingAnswer](t, g).Start.Equal(to) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the move never landed: %d %s", g.status, g.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Settled: the new slot is the booking's, the old one free.
	in.bookOnceFree(t, "chloe", "loire", from, fromEnd, time.Minute)
	if a := in.book(t, "bruno", "loire", to, toEnd); a.status != 409 {
		t.Fatalf("the moved booking's slot after settling: %d %s, want 409", a.status, a.body)
	}
	day, _ := slot(12, 0)
	busy := bookingsOnServer(t, b, "loire", day, day.AddDate(0, 0, 1))
	if len(busy) != 2 {
		t.Fatalf("on the server: %+v, want the moved booking and chloe's", busy)
	}
	assertNoOverlap(t, busy)
}

// TestFrozenServerKeepsARegistration: a registration whose PUT the
// server holds past the client's timeout is not rolled back: its seat
// stays taken (a member registering meanwhile, on another replica, waits
// behind it), the writer reads the object until the held PUT lands, and
// the member is answered 201. Before, the write's failure rolled the
// registration back (503, the seat given to the next member) and the
// held PUT then put the member back on the calendar.
func TestFrozenServerKeepsARegistration(t *testing.T) {
	proxy, b := proxiedBackend(t)
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	id := ins[0].createEvent(t, map[string]any{"capacity": 1, "waitlist": true})
	// The instances' CalDAV client gives up after 5 s; the server stores
	// the PUT after 7 s.
	proxy.Detached.Store(true)
	proxy.WriteDelay.Store(int64(7 * time.Second))

	first := make(chan answer, 1)
	go func() { first <- ins[0].as(t, memberNo(1), "POST", "/api/v1/events/"+id+"/registrations", nil, "") }()
	// Once the client has given up on the first write, the server is
	// quick again (the held PUT has not landed yet) and a second member
	// registers through the other replica.
	for deadline := time.Now().Add(30 * time.Second); ins[0].ev.Stats().Unknown == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the held write never timed out on the client's side")
		}
		time.Sleep(50 * time.Millisecond)
	}
	proxy.WriteDelay.Store(0)
	second := ins[1].as(t, memberNo(2), "POST", "/api/v1/events/"+id+"/registrations", nil, "")
	a := <-first
	if a.status != 201 || decode[regAnswer](t, a).Status != "confirmed" {
		t.Fatalf("the registration whose answer was lost: %d %s, want 201 confirmed", a.status, a.body)
	}
	if r := decode[regAnswer](t, second); second.status != 201 || r.Status != "waitlisted" || r.Position != 1 {
		t.Fatalf("the registration while the first's outcome was unknown: %d %s, want 201 waitlisted at 1", second.status, second.body)
	}
	regs := ins[1].attendees(t, id)
	if c, w := counts(regs); c != 1 || w != 1 || regs[0].Member != memberNo(1).id {
		t.Fatalf("attendees %+v, want %s confirmed and %s waiting", regs, memberNo(1).id, memberNo(2).id)
	}
	assertServerAgrees(t, b, id, regs)
	if st := ins[0].ev.Stats(); st.Rollbacks != 0 {
		t.Fatalf("%d rollbacks: a write whose outcome was unknown was rolled back", st.Rollbacks)
	}
}

// TestFrozenServerKeepsASeries: a weekly series of four dates, one of
// them skipped, whose PUT the server holds past the client's timeout, is
// answered 503; meanwhile its three dates stay held (another member gets
// 409 on each) while the skipped date is free (201). Once the write
// lands, the series is the member's, with the skipped date left out in
// the calendar as an EXDATE, and exactly one booking on each date.
func TestFrozenServerKeepsASeries(t *testing.T) {
	proxy, b := proxiedBackend(t)
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}
	var dates [4][2]time.Time
	for i := range dates {
		dates[i][0], dates[i][1] = slot(13+7*i, 10)
	}
	proxy.Detached.Store(true)
	proxy.WriteDelay.Store(int64(7 * time.Second))
	a := ins[0].call(t, "POST", "/api/v1/bookings", "alice", map[string]any{
		"room": "loire", "start": dates[0][0].Format(time.RFC3339), "end": dates[0][1].Format(time.RFC3339),
		"title": "Chorale", "recurrence": "FREQ=WEEKLY;COUNT=4", "skip": []string{dates[1][0].Format(time.RFC3339)},
	})
	if a.status != 503 {
		t.Fatalf("a series on a frozen server: %d %s, want 503", a.status, a.body)
	}
	proxy.WriteDelay.Store(0)
	for i, d := range dates {
		want := 409
		if i == 1 {
			want = 201 // skipped: not the series'
		}
		if got := ins[1].book(t, fmt.Sprintf("bruno-%d", i), "loire", d[0], d[1]); got.status != want {
			t.Fatalf("date %d of the series while its outcome is unknown: %d %s, want %d", i, got.status, got.body, want)
		}
	}
	// The write lands; the settler makes it alice's series.
	from, to := dates[0][0].Add(-time.Hour), dates[3][1].Add(time.Hour)
	deadline := time.Now().Add(time.Minute)
	for {
		list := ins[0].call(t, "GET", "/api/v1/bookings?mine=true&room=loire&from="+url.QueryEscape(from.Format(time.RFC3339))+
			"&to="+url.QueryEscape(to.Format(time.RFC3339)), "alice", nil)
		var mine []map[string]any
		if list.status != 200 || json.Unmarshal(list.body, &mine) != nil {
			t.Fatalf("alice's bookings: %d %s", list.status, list.body)
		}
		if len(mine) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the series whose answer was lost never showed in alice's bookings")
		}
		time.Sleep(200 * time.Millisecond)
	}
	busy := bookingsOnServer(t, b, "loire", from, to)
	if len(busy) != 4 {
		t.Fatalf("%d booked dates on the server, want the series' 3 and bruno's skipped one: %+v", len(busy), busy)
	}
	assertNoOverlap(t, busy)
	for i, d := range dates {
		if got := ins[i%2].book(t, "chloe", "loire", d[0], d[1]); got.status != 409 {
			t.Fatalf("date %d after settling: %d %s, want 409", i, got.status, got.body)
		}
	}
}
