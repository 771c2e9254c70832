package main

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/testenv"
)

// TestPromiseQuotaParallel: 50 bookings sent at once by one member whose
// quota is 5 bookings ahead over the site, spread over two rooms of the
// site and two replicas, against Radicale and Redis: exactly 5 are
// acknowledged and on the server, the 45 others are 422 quota_ahead.
// After a FLUSHALL the quota is counted again from the calendars; a
// cancelled booking gives its place back; an exempt group has no quota.
func TestPromiseQuotaParallel(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	ins := []*instance{newInstance(t, b, instanceOpts{}), newInstance(t, b, instanceOpts{})}

	answers := make([]answer, 50)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range answers {
		wg.Go(func() {
			<-start
			// Distinct slots (no clash can refuse them): days 3 to 7,
			// hours 8 to 17, the rooms taken in turn.
			s, e := slot(3+i%5, 8+i/5)
			room := []string{"port", "quai"}[i%2]
			answers[i] = ins[i%2].book(t, "ann", room, s, e)
		})
	}
	close(start)
	wg.Wait()
	var acked []string
	for i, a := range answers {
		switch a.status {
		case 201:
			var bk struct{ ID string }
			_ = json.Unmarshal(a.body, &bk)
			acked = append(acked, bk.ID)
		case 422:
			var p struct{ Code, Rule, Detail string }
			_ = json.Unmarshal(a.body, &p)
			if p.Code != "rule_violation" || p.Rule != "quota_ahead" {
				t.Errorf("answer %d: %s, want a rule_violation quota_ahead", i, a.body)
			}
		default:
			t.Errorf("answer %d: %d %s", i, a.status, a.body)
		}
	}
	if len(acked) != 5 {
		t.Fatalf("%d of 50 parallel bookings acknowledged under a quota of 5, want exactly 5", len(acked))
	}
	from, _ := slot(0, 0)
	onServer := map[string]bool{}
	for _, room := range []string{"port", "quai"} {
		for _, bk := range bookingsOnServer(t, b, room, from, from.AddDate(0, 0, 14)) {
			if bk.Organizer != "ann" {
				t.Errorf("booking %s on the server is %s's", bk.Ref, bk.Organizer)
			}
			onServer[bk.Ref] = true
		}
	}
	if len(onServer) != 5 {
		t.Errorf("Radicale holds %d bookings of ann's, want 5", len(onServer))
	}
	for _, id := range acked {
		if !onServer[id] {
			t.Errorf("acknowledged booking %s is not on the server", id)
		}
	}

	// Redis loses everything: the quota is counted from the calendars.
	redis.FlushAll(t)
	s, e := slot(9, 10)
	if a := ins[1].book(t, "ann", "quai", s, e); a.status != 422 {
		t.Fatalf("a sixth booking after FLUSHALL: %d %s, want 422", a.status, a.body)
	}
	var q struct {
		Quotas []struct {
			Site      string `json:"site"`
			Ahead     int    `json:"ahead"`
			UsedAhead int    `json:"used_ahead"`
		} `json:"quotas"`
	}
	a := ins[0].call(t, "GET", "/api/v1/me/quotas", "ann", nil)
	if err := json.Unmarshal(a.body, &q); err != nil || a.status != 200 {
		t.Fatalf("GET /api/v1/me/quotas: %d %s", a.status, a.body)
	}
	if len(q.Quotas) != 1 || q.Quotas[0].Site != "sn" || q.Quotas[0].Ahead != 5 || q.Quotas[0].UsedAhead != 5 {
		t.Errorf("ann's quotas %s, want site sn with 5 of 5 bookings ahead", a.body)
	}
	// Someone else is not counted; an exempt group has no quota.
	if a := ins[0].book(t, "bob", "quai", s, e); a.status != 201 {
		t.Errorf("bob's booking: %d %s", a.status, a.body)
	}
	// The group bureau is exempt: six bookings pass.
	for i := range 6 {
		s, e := slot(11+i, 12)
		if a := ins[i%2].as(t, person{id: "chef", groups: "bureau"}, "POST", "/api/v1/bookings", map[string]any{
			"room": "port", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339), "title": "Bureau",
		}, ""); a.status != 201 {
			t.Errorf("booking %d of a member of the exempt group bureau: %d %s", i+1, a.status, a.body)
		}
	}
	// Cancelling one of the five gives its place back.
	if a := ins[1].call(t, "DELETE", "/api/v1/bookings/"+acked[0], "ann", nil); a.status != 204 {
		t.Fatalf("cancel: %d %s", a.status, a.body)
	}
	s3, e3 := slot(10, 10)
	if a := ins[1].book(t, "ann", "port", s3, e3); a.status != 201 {
		t.Errorf("after a cancellation: %d %s, want 201", a.status, a.body)
	}
}
