package main

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
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

// TestPromiseQuotaWeekLeft: what the page reads ("Il vous reste 1 h
// cette semaine à Saint-Nazaire") comes from GET /api/v1/me/quotas,
// counted from the rooms' states like the claim's own decision. A quota
// of 4 h a week over the site Saint-Nazaire; the replicas' clock on a
// Monday at 08:00 (a week chosen ahead, so the test does not depend on
// the day it runs). Ann books 1 h that Monday and 2 h on Wednesday in the
// site's two rooms, and 1 h the Monday after (another week): 3 h used, 1
// h left this week, on either replica, and again after a FLUSHALL (from
// the calendars). A 2 h booking on Friday is refused 422 quota_week,
// saying 1 h is left; a 1 h one passes, and nothing is left.
func TestPromiseQuotaWeekLeft(t *testing.T) {
	redis := testenv.StartRedis(t)
	b := newBackend(t, testenv.RadicaleHome(t), redis.URL())
	monday := time.Now().In(paris).AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	monday = time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, paris)
	clock := func() time.Time { return monday.Add(8 * time.Hour) }
	fourHours := func(rooms []booking.Room) {
		for i := range rooms {
			if rooms[i].ID == "port" || rooms[i].ID == "quai" {
				rooms[i].Rules.Quota.PerWeek = 4 * time.Hour
			}
		}
	}
	ins := []*instance{newInstance(t, b, instanceOpts{rooms: fourHours, now: clock}), newInstance(t, b, instanceOpts{rooms: fourHours, now: clock})}
	at := func(day, hour int) time.Time { return monday.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour) }
	for i, bk := range []struct {
		room          string
		day, from, to int
	}{{"port", 0, 10, 11}, {"quai", 2, 14, 16}, {"port", 7, 10, 11}} {
		if a := ins[i%2].book(t, "ann", bk.room, at(bk.day, bk.from), at(bk.day, bk.to)); a.status != 201 {
			t.Fatalf("ann's booking %d: %d %s", i+1, a.status, a.body)
		}
	}
	type quota struct {
		Site     string    `json:"site"`
		SiteName string    `json:"site_name"`
		Week     time.Time `json:"week_start"`
		Per      int       `json:"per_week_minutes"`
		Used     int       `json:"used_week_minutes"`
		Left     int       `json:"left_week_minutes"`
	}
	left := func(in *instance, when string, want int) {
		t.Helper()
		a := in.call(t, "GET", "/api/v1/me/quotas", "ann", nil)
		var q struct{ Quotas []quota }
		if err := json.Unmarshal(a.body, &q); err != nil || a.status != 200 || len(q.Quotas) != 1 {
			t.Fatalf("%s: GET /api/v1/me/quotas: %d %s", when, a.status, a.body)
		}
		g := q.Quotas[0]
		if g.Site != "sn" || g.SiteName != "Saint-Nazaire" || !g.Week.Equal(monday) || g.Per != 240 || g.Used != 240-want || g.Left != want {
			t.Errorf("%s: %+v, want week of %s, %d of 240 minutes used, %d left", when, g, monday.Format(time.DateOnly), 240-want, want)
		}
	}
	left(ins[0], "after three bookings", 60)
	left(ins[1], "on the other replica", 60)
	redis.FlushAll(t)
	left(ins[1], "after a FLUSHALL", 60)
	a := ins[0].book(t, "ann", "quai", at(4, 10), at(4, 12))
	var p struct{ Code, Rule, Detail string }
	_ = json.Unmarshal(a.body, &p)
	if a.status != 422 || p.Rule != "quota_week" || !strings.Contains(p.Detail, "il vous reste 1 h la semaine du") {
		t.Errorf("2 h more this week: %d %s, want 422 quota_week, 1 h left", a.status, a.body)
	}
	if a := ins[1].book(t, "ann", "quai", at(4, 10), at(4, 11)); a.status != 201 {
		t.Errorf("the hour left: %d %s", a.status, a.body)
	}
	left(ins[0], "with the week full", 0)
}
