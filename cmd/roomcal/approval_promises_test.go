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

// TestPromiseApprovalAnsweredOnce: two approvers answer the same
// request at the same moment on two replicas, one accepting, the other
// refusing, round after round, against Radicale and Redis: exactly one
// answer wins each time (the other is 409, or 404 for an acceptance
// that comes once the refusal deleted the request), the calendar holds what the
// winner decided (the booking confirmed, or gone), and the requester is
// told once, of the winning answer.
func TestPromiseApprovalAnsweredOnce(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.RedisURL(t))
	notes := []*told{{}, {}}
	ins := []*instance{newInstance(t, b, instanceOpts{notifier: notes[0]}), newInstance(t, b, instanceOpts{notifier: notes[1]})}
	const rounds = 6
	wins := map[string]int{}
	for round := 0; round < rounds; round++ {
		s, e := slot(3+round, 10)
		a := ins[round%2].book(t, "ann", "cale", s, e)
		var req struct {
			ID      string `json:"id"`
			Pending bool   `json:"pending"`
		}
		if err := json.Unmarshal(a.body, &req); a.status != 201 || err != nil || !req.Pending {
			t.Fatalf("round %d: ann's request: %d %s", round, a.status, a.body)
		}
		answers := make([]answer, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, path := range []string{"/accept", "/refuse"} {
			wg.Go(func() {
				<-start
				who := []string{"carla", "dora"}[i]
				var body any
				if path == "/refuse" {
					body = map[string]any{"reason": "La salle est prise pour l'AG"}
				}
				answers[i] = ins[i].callAs(t, "POST", "/api/v1/requests/"+req.ID+path, who, "ca", body)
			})
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, ans := range answers {
			switch ans.status {
			case 200, 204:
				if winner != "" {
					t.Fatalf("round %d: both answers won: %d %s / %d %s", round, answers[0].status, answers[0].body, answers[1].status, answers[1].body)
				}
				winner = []string{"accepted", "refused"}[i]
			case 409:
			case 404:
				// The acceptance came after the refusal had deleted
				// the request.
				if i != 0 {
					t.Fatalf("round %d: the refusal found no request: %s", round, ans.body)
				}
			default:
				t.Fatalf("round %d: answer %d: %d %s", round, i, ans.status, ans.body)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: neither answer won: %d %s / %d %s", round, answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		wins[winner]++
		on := bookingsOnServer(t, b, "cale", s, e)
		switch {
		case winner == "accepted" && (len(on) != 1 || on[0].Pending):
			t.Errorf("round %d: accepted, but the server holds %+v", round, on)
		case winner == "refused" && len(on) != 0:
			t.Errorf("round %d: refused, but the server holds %+v", round, on)
		}
		var got []booking.NoticeKind
		for _, n := range append(notes[0].of(booking.NoticeAccepted), append(notes[1].of(booking.NoticeAccepted),
			append(notes[0].of(booking.NoticeRefused), notes[1].of(booking.NoticeRefused)...)...)...) {
			if n.Booking.ID == req.ID {
				got = append(got, n.Kind)
			}
		}
		if len(got) != 1 || string(got[0]) != map[string]string{"accepted": string(booking.NoticeAccepted), "refused": string(booking.NoticeRefused)}[winner] {
			t.Errorf("round %d: %s won, ann was told %v", round, winner, got)
		}
	}
	t.Logf("answers won over %d rounds: %v", rounds, wins)
}
