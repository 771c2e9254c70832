package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/testenv"
)

// told records the notices an instance's service gives.
type told struct {
	mu sync.Mutex
	ns []booking.Notice
}

func (t *told) BookingNotice(_ context.Context, n booking.Notice) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ns = append(t.ns, n)
	return nil
}

func (t *told) of(kind booking.NoticeKind) []booking.Notice {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []booking.Notice
	for _, n := range t.ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TestPromiseApproval, against Radicale and Redis with two replicas: a
// request for the Cale sèche (approvers: ca) holds its slot at once, on
// the server as STATUS:TENTATIVE; a second request for the slot, through
// the other replica, is refused; the approver accepts one request, and
// another, unanswered, lapses after 6 seconds even though Redis was
// flushed meanwhile (its due time is in the calendar): it is deleted once
// and its requester told once.
func TestPromiseApproval(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	notes := []*told{{}, {}}
	ins := []*instance{
		newInstance(t, b, instanceOpts{syncInterval: 200 * time.Millisecond, sweepEvery: 200 * time.Millisecond, notifier: notes[0]}),
		newInstance(t, b, instanceOpts{syncInterval: 200 * time.Millisecond, sweepEvery: 200 * time.Millisecond, notifier: notes[1]}),
	}
	s1, e1 := slot(4, 10)
	a := ins[0].book(t, "ann", "cale", s1, e1)
	var req struct {
		ID      string `json:"id"`
		Pending bool   `json:"pending"`
	}
	if err := json.Unmarshal(a.body, &req); a.status != 201 || err != nil || !req.Pending {
		t.Fatalf("ann's request: %d %s, want 201 pending", a.status, a.body)
	}
	on := bookingsOnServer(t, b, "cale", s1, e1)
	if len(on) != 1 {
		t.Fatalf("the request on the server: %d bookings", len(on))
	}
	// In the calendar as STATUS:TENTATIVE, and the room's feed says it
	// waits.
	status := func() string {
		t.Helper()
		obj, err := b.store.Get(context.Background(), "cale", caldav.ObjectName(req.ID))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(obj.Data), "\r\n") {
			if v, ok := strings.CutPrefix(l, "STATUS:"); ok {
				return v
			}
		}
		return ""
	}
	if st := status(); st != "TENTATIVE" {
		t.Errorf("the request in Radicale: STATUS:%s, want TENTATIVE", st)
	}
	feed := func() string {
		t.Helper()
		a := ins[1].call(t, "GET", "/feeds/rooms/cale.ics", "", nil)
		if a.status != 200 {
			t.Fatalf("the room's feed: %d %s", a.status, a.body)
		}
		return strings.ReplaceAll(string(a.body), "\r\n ", "")
	}
	if f := feed(); !strings.Contains(f, "(en attente de validation)") {
		t.Errorf("the room's feed does not say the request waits:\n%s", f)
	}
	if a := ins[1].book(t, "bob", "cale", s1, e1); a.status != 409 {
		t.Fatalf("a second request for the held slot: %d %s, want 409", a.status, a.body)
	}
	// The approver accepts ann's at once (well within 6 s).
	if a := ins[1].callAs(t, "POST", "/api/v1/requests/"+req.ID+"/accept", "carla", "ca", nil); a.status != 200 {
		t.Fatalf("accept: %d %s", a.status, a.body)
	}
	if st := status(); st == "TENTATIVE" {
		t.Errorf("the accepted booking in Radicale is still TENTATIVE")
	}
	if f := feed(); strings.Contains(f, "en attente") {
		t.Errorf("the room's feed still says the accepted booking waits:\n%s", f)
	}
	// bob's request elsewhere is left unanswered; Redis loses all.
	s2, e2 := slot(5, 10)
	a = ins[1].book(t, "bob", "cale", s2, e2)
	var late struct{ ID string }
	if err := json.Unmarshal(a.body, &late); a.status != 201 || err != nil {
		t.Fatalf("bob's request: %d %s", a.status, a.body)
	}
	redis.FlushAll(t)
	deadline := time.Now().Add(20 * time.Second)
	for len(bookingsOnServer(t, b, "cale", s2, e2)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("bob's unanswered request did not lapse within 20 s of its 6 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := bookingsOnServer(t, b, "cale", s1, e1); len(got) != 1 {
		t.Errorf("ann's accepted booking: %d on the server, want 1", len(got))
	}
	time.Sleep(time.Second) // more sweeps: none may tell bob again
	lapsed := append(notes[0].of(booking.NoticeLapsed), notes[1].of(booking.NoticeLapsed)...)
	if len(lapsed) != 1 || lapsed[0].Booking.ID != late.ID || lapsed[0].Booking.Organizer.ID != "bob" {
		t.Errorf("lapse notices %+v, want one for bob's request", lapsed)
	}
	accepted := append(notes[0].of(booking.NoticeAccepted), notes[1].of(booking.NoticeAccepted)...)
	if len(accepted) != 1 || accepted[0].Booking.ID != req.ID {
		t.Errorf("acceptance notices %+v, want one for ann's", accepted)
	}
	// Its slot is free again.
	if a := ins[0].callAs(t, "POST", "/api/v1/bookings", "zoe", "ca", map[string]any{
		"room": "cale", "start": s2.Format(time.RFC3339), "end": e2.Format(time.RFC3339), "title": "Atelier",
	}); a.status != 201 {
		t.Errorf("the lapsed request's slot: %d %s", a.status, a.body)
	}
}
