package main

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// gatedCalendar holds the creation of bookings titled held until open
// is closed, after telling entered: a calendar write that is slow, with
// the test choosing what happens meanwhile.
type gatedCalendar struct {
	booking.Calendar
	held    string
	entered chan struct{}
	open    chan struct{}
}

func (c *gatedCalendar) Create(ctx context.Context, room booking.Room, loc *time.Location, b booking.Booking) (booking.Version, error) {
	if b.Title == c.held {
		close(c.entered)
		<-c.open
	}
	return c.Calendar.Create(ctx, room, loc, b)
}

// TestPromiseQuotaHoldLostAtCommit: a quota of one booking ahead, on two
// replicas over Radicale and Redis. Ann's first booking is claimed, and
// Redis is flushed while its calendar write is under way: its hold is
// gone. Her second booking, on the other replica, is claimed after the
// flush (the state loaded again from the calendar, which has not the
// first yet), written and acknowledged. Then the first write lands: its
// commit decides the quota again and refuses it (422 quota_ahead, as at
// claim), and the written booking is taken back. Exactly one booking is
// acknowledged and on the server. Without the quota at commit, both were.
func TestPromiseQuotaHoldLostAtCommit(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	oneAhead := func(rooms []booking.Room) {
		for i := range rooms {
			if rooms[i].SiteID == "sn" {
				rooms[i].Rules.Quota.Ahead = 1
			}
		}
	}
	gate := &gatedCalendar{held: "Première", entered: make(chan struct{}), open: make(chan struct{})}
	x := newInstance(t, b, instanceOpts{rooms: oneAhead, calendar: func(c booking.Calendar) booking.Calendar {
		gate.Calendar = c
		return gate
	}})
	y := newInstance(t, b, instanceOpts{rooms: oneAhead})
	bookAs := func(in *instance, title string, days int) answer {
		s, e := slot(days, 10)
		return in.call(t, "POST", "/api/v1/bookings", "ann", map[string]any{
			"room": "port", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": title,
		})
	}

	first := make(chan answer, 1)
	go func() { first <- bookAs(x, "Première", 3) }()
	select {
	case <-gate.entered: // claimed; the write is under way
	case a := <-first:
		t.Fatalf("first booking answered before its write: %d %s", a.status, a.body)
	case <-time.After(30 * time.Second):
		t.Fatal("the first booking never reached its calendar write")
	}
	redis.FlushAll(t)
	second := bookAs(y, "Seconde", 4)
	if second.status != 201 {
		t.Fatalf("second booking, claimed after the flush: %d %s, want 201", second.status, second.body)
	}
	close(gate.open)
	var a answer
	select {
	case a = <-first:
	case <-time.After(60 * time.Second):
		t.Fatal("the first booking never answered")
	}
	var p struct{ Code, Rule string }
	_ = json.Unmarshal(a.body, &p)
	if a.status != 422 || p.Code != "rule_violation" || p.Rule != "quota_ahead" {
		t.Errorf("first booking, whose hold was lost and whose quota was used meanwhile: %d %s, want 422 quota_ahead", a.status, a.body)
	}
	from, _ := slot(0, 0)
	onServer := bookingsOnServer(t, b, "port", from, from.AddDate(0, 0, 14))
	var sec struct{ ID string }
	_ = json.Unmarshal(second.body, &sec)
	if len(onServer) != 1 || onServer[0].Ref != sec.ID {
		t.Errorf("Radicale holds %+v, want only the second booking %s", onServer, sec.ID)
	}
	// The gate agrees: ann has her one booking ahead, no more.
	s, e := slot(5, 10)
	if a := y.book(t, "ann", "quai", s, e); a.status != 422 {
		t.Errorf("a third booking: %d %s, want 422", a.status, a.body)
	}
}

// heldDelete holds the first deletion of a booking until open is
// closed, after telling entered: the take-back of a refused commit,
// slow, with the test choosing what happens meanwhile.
type heldDelete struct {
	*gatedCalendar
	entered, open chan struct{}
	once          sync.Once
}

func (c *heldDelete) Delete(ctx context.Context, room booking.Room, id, etag string) error {
	c.once.Do(func() {
		close(c.entered)
		<-c.open
	})
	return c.gatedCalendar.Delete(ctx, room, id, etag)
}

// TestPromiseTakeBackLeavesNoTrace: the window after a refused commit.
// Ann's first booking loses its hold in a flush and her quota (one
// booking ahead) goes to her second, made on the other replica; its
// commit is refused and the written booking is taken back. While the
// take-back's deletion is under way, Redis is flushed again and the room
// loaded again from the calendar, which still holds the booking. Once
// the first booking is answered (422), its slot is free and it no longer
// counts against Ann's quota, with no sync pass in between (the replicas
// sync every ten minutes). Before the take-back reached the gate, the
// reloaded state kept it until the next pass: Cat's booking of the slot
// got 409 and Ann's next booking 422.
func TestPromiseTakeBackLeavesNoTrace(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	oneAhead := func(rooms []booking.Room) {
		for i := range rooms {
			if rooms[i].SiteID == "sn" {
				rooms[i].Rules.Quota.Ahead = 1
			}
		}
	}
	gate := &heldDelete{gatedCalendar: &gatedCalendar{held: "Première", entered: make(chan struct{}), open: make(chan struct{})},
		entered: make(chan struct{}), open: make(chan struct{})}
	slow := 10 * time.Minute
	x := newInstance(t, b, instanceOpts{rooms: oneAhead, syncInterval: slow, calendar: func(c booking.Calendar) booking.Calendar {
		gate.Calendar = c
		return gate
	}})
	y := newInstance(t, b, instanceOpts{rooms: oneAhead, syncInterval: slow})
	bookAs := func(in *instance, who, title string, days int) answer {
		s, e := slot(days, 10)
		return in.call(t, "POST", "/api/v1/bookings", who, map[string]any{
			"room": "port", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": title,
		})
	}
	first := make(chan answer, 1)
	go func() { first <- bookAs(x, "ann", "Première", 3) }()
	wait := func(what string, ch chan struct{}) {
		select {
		case <-ch:
		case a := <-first:
			t.Fatalf("first booking answered before %s: %d %s", what, a.status, a.body)
		case <-time.After(30 * time.Second):
			t.Fatalf("the first booking never reached %s", what)
		}
	}
	wait("its calendar write", gate.gatedCalendar.entered)
	redis.FlushAll(t)
	second := bookAs(y, "ann", "Seconde", 4)
	if second.status != 201 {
		t.Fatalf("second booking, claimed after the flush: %d %s, want 201", second.status, second.body)
	}
	close(gate.gatedCalendar.open)
	wait("the take-back of its write", gate.entered)
	// The calendar holds both of Ann's bookings now; the room is loaded
	// again from it (Bob's booking rebuilds the flushed state).
	redis.FlushAll(t)
	if a := bookAs(y, "bob", "Bob", 5); a.status != 201 {
		t.Fatalf("Bob's booking, which loads the room again: %d %s", a.status, a.body)
	}
	close(gate.open)
	var a answer
	select {
	case a = <-first:
	case <-time.After(60 * time.Second):
		t.Fatal("the first booking never answered")
	}
	if a.status != 422 {
		t.Fatalf("first booking: %d %s, want 422 quota_ahead", a.status, a.body)
	}
	from, _ := slot(0, 0)
	if on := bookingsOnServer(t, b, "port", from, from.AddDate(0, 0, 14)); len(on) != 2 {
		t.Fatalf("Radicale holds %+v, want Ann's second booking and Bob's", on)
	}
	// At once, on both replicas: the slot is free...
	if a := bookAs(y, "cat", "Cat", 3); a.status != 201 {
		t.Errorf("the slot of the booking taken back, on the replica that loaded it: %d %s, want 201", a.status, a.body)
	}
	// ...and the booking taken back counts no more for Ann.
	var sec struct{ ID string }
	_ = json.Unmarshal(second.body, &sec)
	if a := x.call(t, "DELETE", "/api/v1/bookings/"+sec.ID, "ann", nil); a.status != 204 {
		t.Fatalf("cancel of the second booking: %d %s", a.status, a.body)
	}
	if a := bookAs(x, "ann", "Troisième", 6); a.status != 201 {
		t.Errorf("Ann's next booking, her only one ahead: %d %s, want 201", a.status, a.body)
	}
}

// heldUpdates holds the first two updates of a booking (a move, then
// its writing back) until the test opens each, after telling it.
type heldUpdates struct {
	booking.Calendar
	mu      sync.Mutex
	n       int
	entered [2]chan struct{}
	open    [2]chan struct{}
}

func (c *heldUpdates) Update(ctx context.Context, room booking.Room, loc *time.Location, b booking.Booking, over booking.Version) (booking.Version, error) {
	c.mu.Lock()
	i := c.n
	c.n++
	c.mu.Unlock()
	if i < 2 {
		close(c.entered[i])
		<-c.open[i]
	}
	return c.Calendar.Update(ctx, room, loc, b, over)
}

// TestPromiseMoveTakenBackHoldsItsSlot: the window after a refused
// commit, for a move. Ann moves her 10:00 booking to 14:00; Redis is
// flushed during the write, so the move's hold is gone, and Bob books
// 14:00 meanwhile. The move's commit is refused and the booking written
// back at 10:00; while that write is under way Redis is flushed again
// and the room loaded from the calendar, which holds the move (14:00).
// Once Ann is answered (409), the gate has her booking back at 10:00:
// Dave cannot book 10:00 over it. Before the taking back reached the
// gate, the reloaded state showed 10:00 free until the next sync pass,
// and Dave's booking passed: two bookings at 10:00.
func TestPromiseMoveTakenBackHoldsItsSlot(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	held := &heldUpdates{entered: [2]chan struct{}{make(chan struct{}), make(chan struct{})}, open: [2]chan struct{}{make(chan struct{}), make(chan struct{})}}
	slow := 10 * time.Minute
	x := newInstance(t, b, instanceOpts{syncInterval: slow, calendar: func(c booking.Calendar) booking.Calendar {
		held.Calendar = c
		return held
	}})
	y := newInstance(t, b, instanceOpts{syncInterval: slow})
	ten, eleven := slot(3, 10)
	two, three := slot(3, 14)
	first := y.book(t, "ann", "loire", ten, eleven)
	var bk struct{ ID string }
	if err := json.Unmarshal(first.body, &bk); first.status != 201 || err != nil {
		t.Fatalf("ann's booking: %d %s", first.status, first.body)
	}
	moved := make(chan answer, 1)
	go func() {
		moved <- x.call(t, "PATCH", "/api/v1/bookings/"+bk.ID, "ann", map[string]any{"start": two.Format(time.RFC3339), "end": three.Format(time.RFC3339)})
	}()
	wait := func(what string, ch chan struct{}) {
		select {
		case <-ch:
		case a := <-moved:
			t.Fatalf("the move answered before %s: %d %s", what, a.status, a.body)
		case <-time.After(30 * time.Second):
			t.Fatalf("the move never reached %s", what)
		}
	}
	wait("its calendar write", held.entered[0])
	redis.FlushAll(t)
	if a := y.book(t, "bob", "loire", two, three); a.status != 201 {
		t.Fatalf("bob's booking of 14:00 after the flush: %d %s", a.status, a.body)
	}
	close(held.open[0])
	wait("its writing back", held.entered[1])
	redis.FlushAll(t)
	s5, e5 := slot(5, 10)
	if a := y.book(t, "cat", "loire", s5, e5); a.status != 201 { // loads the room: the move is in the calendar
		t.Fatalf("cat's booking, which loads the room again: %d %s", a.status, a.body)
	}
	close(held.open[1])
	var a answer
	select {
	case a = <-moved:
	case <-time.After(60 * time.Second):
		t.Fatal("the move never answered")
	}
	if a.status != 409 {
		t.Fatalf("the move whose slot went to bob: %d %s, want 409", a.status, a.body)
	}
	if d := y.book(t, "dave", "loire", ten, eleven); d.status != 409 {
		t.Errorf("dave's booking over ann's, written back at 10:00: %d %s, want 409", d.status, d.body)
	}
	on := bookingsOnServer(t, b, "loire", ten, eleven)
	if len(on) != 1 || on[0].Ref != bk.ID {
		t.Errorf("Radicale at 10:00: %+v, want ann's booking alone", on)
	}
}
