package main

// Retiring a room that has bookings ahead (issue 15, item 1), through
// the HTTP API on two replicas over Radicale and Redis: the admin sees
// them first (how many, when, whose) and chooses; without choosing to
// cancel them the room is not retired (409 future_bookings); cancelling,
// each is deleted from the calendar and its owner told through the
// notices outbox, with the admin's reason. The check and the mark are
// one step at the gate: a booking racing with a retirement either keeps
// the room in service or is refused, never left in a retired room.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/testenv"
)

type futureList struct {
	Count    int `json:"count"`
	Writing  int `json:"writing"`
	Bookings []struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Kind        string `json:"kind"`
		Start       string `json:"start"`
		Occurrences int    `json:"occurrences"`
		Owner       string `json:"owner"`
		OwnerName   string `json:"owner_name"`
	} `json:"bookings"`
}

type futureProblem struct {
	api.Problem
	Future futureList `json:"future"`
}

func TestAdminRetireFutureBookings(t *testing.T) {
	b, _ := noticeBackend(t)
	outbox := caldav.NewNoticeOutbox(b.store, tokensCalendar)
	a, _ := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, outbox: outbox})
	bb, _ := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, outbox: outbox})
	id := "atelier-" + testenv.RandomID()
	created := a.as(t, roomAdmin, "POST", "/api/v1/admin/rooms", roomBody(id, "Atelier", 10, 0, false), "")
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	rev := decodeAs[adminRoom](t, created).Revision
	within(t, 5*time.Second, "the new room on replica B", func() bool {
		return bb.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "").status == 200
	})
	s3, e3 := slot(3, 10)
	if got := bb.as(t, person{id: "mia", name: "Mia Morin", groups: "salaries"}, "POST", "/api/v1/bookings", map[string]any{
		"room": id, "start": s3.Format(time.RFC3339), "end": e3.Format(time.RFC3339), "title": "Réunion de Mia",
	}, ""); got.status != 201 {
		t.Fatalf("mia's booking: %d %s", got.status, got.body)
	}
	s4, e4 := slot(4, 14)
	series := bb.call(t, "POST", "/api/v1/bookings", "zoe", map[string]any{
		"room": id, "start": s4.Format(time.RFC3339), "end": e4.Format(time.RFC3339), "title": "Atelier couture",
		"recurrence": "FREQ=WEEKLY;COUNT=3",
	})
	if series.status != 201 {
		t.Fatalf("zoe's series: %d %s", series.status, series.body)
	}

	// What a retirement would cancel.
	fl := decodeAs[futureList](t, a.as(t, nantesAdmin, "GET", "/api/v1/admin/rooms/"+id+"/future-bookings", nil, ""))
	if fl.Count != 2 || len(fl.Bookings) != 2 || fl.Bookings[0].Owner != "mia" || fl.Bookings[0].OwnerName != "Mia Morin" || fl.Bookings[0].Occurrences != 1 ||
		fl.Bookings[1].Owner != "zoe" || fl.Bookings[1].Occurrences != 3 || fl.Bookings[1].Title != "Atelier couture" {
		t.Fatalf("bookings ahead: %+v, want mia's and zoe's series of 3", fl)
	}
	if got := a.as(t, memberNo(3), "GET", "/api/v1/admin/rooms/"+id+"/future-bookings", nil, ""); got.status != 403 {
		t.Errorf("bookings ahead asked by a member: %d, want 403", got.status)
	}

	// Retiring without choosing: refused, nothing changes.
	refused := a.as(t, nantesAdmin, "PUT", "/api/v1/admin/rooms/"+id, roomBody(id, "Atelier", 10, rev, true), "")
	if refused.status != 409 {
		t.Fatalf("retire with bookings ahead: %d %s, want 409", refused.status, refused.body)
	}
	fp := decodeAs[futureProblem](t, refused)
	if fp.Code != api.CodeFutureBookings || fp.Future.Count != 2 || len(fp.Future.Bookings) != 2 ||
		!strings.Contains(fp.Detail, "2 réservations à venir") || !strings.Contains(fp.Detail, "2 bookings ahead") {
		t.Fatalf("the refusal: %s", refused.body)
	}
	if r := decodeAs[adminRoom](t, a.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/"+id, nil, "")); r.Retired || r.Revision != rev {
		t.Fatalf("room after a refused retirement: retired %v revision %d, want in service at %d", r.Retired, r.Revision, rev)
	}
	s6, e6 := slot(6, 9)
	if got := bb.book(t, "ann", id, s6, e6); got.status != 201 {
		t.Fatalf("booking the room still in service: %d %s", got.status, got.body)
	}

	// Cancelling needs a reason, told to every owner.
	body := roomBody(id, "Atelier", 10, rev, true)
	body["cancel_future"] = true
	if got := a.as(t, nantesAdmin, "PUT", "/api/v1/admin/rooms/"+id, body, ""); got.status != 400 && got.status != 422 {
		t.Fatalf("cancel without a reason: %d %s, want refused", got.status, got.body)
	}
	reason := "Travaux de désamiantage : la salle ferme."
	body["cancel_reason"] = reason
	done := a.as(t, nantesAdmin, "PUT", "/api/v1/admin/rooms/"+id, body, "")
	if done.status != 200 {
		t.Fatalf("retire cancelling the bookings ahead: %d %s", done.status, done.body)
	}
	var res struct {
		adminRoom
		Cancelled []struct{ ID, Owner string } `json:"cancelled"`
	}
	if err := json.Unmarshal(done.body, &res); err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, c := range res.Cancelled {
		owners = append(owners, c.Owner)
	}
	sort.Strings(owners)
	if !res.Retired || fmt.Sprint(owners) != "[ann mia zoe]" {
		t.Fatalf("retired %v, cancelled %+v, want ann's, mia's and zoe's", res.Retired, res.Cancelled)
	}
	if a := res.Audit[0]; a.Action != "retired" || !strings.Contains(strings.Join(a.Changes, "\n"), "bookings ahead cancelled: 3 ("+reason+")") {
		t.Errorf("the retirement's audit entry: %+v", a)
	}
	from, _ := slot(0, 0)
	if on := bookingsOnServerCal(t, b, id, from, from.AddDate(0, 2, 0)); len(on) != 0 {
		t.Errorf("the room's calendar after the retirement: %+v, want no booking", on)
	}
	s7, e7 := slot(7, 9)
	if got := bb.book(t, "ann", id, s7, e7); got.status != 422 || decodeAs[api.Problem](t, got).Rule != "retired" {
		t.Errorf("booking the retired room on B: %d %s, want 422 retired", got.status, got.body)
	}
	if got := decodeAs[futureList](t, bb.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/"+id+"/future-bookings", nil, "")); got.Count != 0 {
		t.Errorf("bookings ahead of the retired room: %+v", got)
	}

	// Each owner is told, through the outbox: removed by an admin, why.
	pending, err := outbox.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]int{}
	for _, n := range pending {
		if n.Room != id {
			continue
		}
		if n.Kind != notices.KindBookingRemoved || n.By != "admin" || n.Reason != reason {
			t.Errorf("notice %+v, want booking_removed by admin with the reason", n)
		}
		told[n.Owner]++
	}
	if fmt.Sprint(told) != "map[ann:1 mia:1 zoe:1]" {
		t.Errorf("notices owed: %v, want one each to ann, mia and zoe", told)
	}
}

// TestAdminRetireRacesBookings: bookings on replica B race with the
// retirement of their room on replica A (without cancelling). Whatever
// the order, the room is never retired with a booking ahead left in it:
// either the retirement is refused (409, the room in service), or every
// booking that was not refused is gone... none got through after.
func TestAdminRetireRacesBookings(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.RedisURL(t))
	a, _ := newAdminInstance(t, b, time.Hour)
	bb, _ := newAdminInstance(t, b, time.Hour)
	// How much later than the retirement the bookings start, by round:
	// before it, with it, just after, well after.
	lags := []time.Duration{-60 * time.Millisecond, 0, 40 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}
	outcomes := map[int]int{}
	for round, lag := range lags {
		id := fmt.Sprintf("course-%d-%s", round, testenv.RandomID())
		created := a.as(t, roomAdmin, "POST", "/api/v1/admin/rooms", roomBody(id, "Course", 10, 0, false), "")
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		within(t, 5*time.Second, "the new room on replica B", func() bool {
			return bb.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "").status == 200
		})
		const n = 8
		var wg sync.WaitGroup
		answers := make([]answer, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				time.Sleep(max(0, lag+time.Duration(i)*10*time.Millisecond) - min(0, lag))
				s, e := slot(3+i, 10)
				answers[i] = bb.book(t, fmt.Sprintf("membre-%d", i), id, s, e)
			}()
		}
		var ret answer
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(-min(0, lag))
			ret = a.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/"+id, roomBody(id, "Course", 10, 1, true), "")
		}()
		close(start)
		wg.Wait()
		booked := 0
		for _, ans := range answers {
			switch {
			case ans.status == 201:
				booked++
			case ans.status == 422 && decodeAs[api.Problem](t, ans).Rule == "retired":
			default:
				t.Fatalf("round %d: booking answered %d %s", round, ans.status, ans.body)
			}
		}
		from, _ := slot(0, 0)
		on := bookingsOnServerCal(t, b, id, from, from.AddDate(0, 1, 0))
		switch ret.status {
		case 200:
			if booked != 0 || len(on) != 0 {
				t.Fatalf("round %d: retired with %d booking(s) acknowledged, %d on the server", round, booked, len(on))
			}
		case 409:
			if booked == 0 || len(on) != booked {
				t.Fatalf("round %d: retirement refused with %d booking(s) acknowledged, %d on the server", round, booked, len(on))
			}
		default:
			t.Fatalf("round %d: retire answered %d %s", round, ret.status, ret.body)
		}
		outcomes[ret.status]++
		t.Logf("round %d (bookings %v after the retirement): retire %d, %d booking(s) made", round, lag, ret.status, booked)
	}
	t.Logf("retirements by answer: %v", outcomes)
}

// TestAdminRetireFinishLater: a room retired with a booking ahead left
// in it (by a replica of before the check, or a retirement cut short:
// the calendar server went away while cancelling) is finished by saving
// it again with cancel_future: the booking is cancelled, its owner told.
func TestAdminRetireFinishLater(t *testing.T) {
	b, _ := noticeBackend(t)
	outbox := caldav.NewNoticeOutbox(b.store, tokensCalendar)
	old, _ := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, keepBookings: true})
	a, _ := newAdminInstanceWith(t, b, adminOpts{refresh: time.Hour, outbox: outbox})
	id := "vieux-" + testenv.RandomID()
	created := a.as(t, roomAdmin, "POST", "/api/v1/admin/rooms", roomBody(id, "Vieux local", 6, 0, false), "")
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	within(t, 5*time.Second, "the new room on the old replica", func() bool {
		return old.as(t, memberNo(1), "GET", "/api/v1/rooms/"+id, nil, "").status == 200
	})
	s, e := slot(5, 15)
	if got := a.book(t, "mia", id, s, e); got.status != 201 {
		t.Fatalf("mia's booking: %d %s", got.status, got.body)
	}
	retired := old.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/"+id, roomBody(id, "Vieux local", 6, 1, true), "")
	if retired.status != 200 {
		t.Fatalf("retire on the old replica: %d %s", retired.status, retired.body)
	}
	if fl := decodeAs[futureList](t, a.as(t, roomAdmin, "GET", "/api/v1/admin/rooms/"+id+"/future-bookings", nil, "")); fl.Count != 1 || fl.Bookings[0].Owner != "mia" {
		t.Fatalf("left in the retired room: %+v, want mia's booking", fl)
	}
	body := roomBody(id, "Vieux local", 6, 2, true)
	body["cancel_future"], body["cancel_reason"] = true, "Le local est rendu au propriétaire."
	again := a.as(t, roomAdmin, "PUT", "/api/v1/admin/rooms/"+id, body, "")
	var res struct {
		Revision  int                      `json:"revision"`
		Cancelled []struct{ Owner string } `json:"cancelled"`
	}
	if err := json.Unmarshal(again.body, &res); again.status != 200 || err != nil || len(res.Cancelled) != 1 || res.Cancelled[0].Owner != "mia" || res.Revision != 2 {
		t.Fatalf("saved again with cancel_future: %d %s, want mia's booking cancelled, nothing else changed", again.status, again.body)
	}
	from, _ := slot(0, 0)
	if on := bookingsOnServerCal(t, b, id, from, from.AddDate(0, 1, 0)); len(on) != 0 {
		t.Errorf("the retired room's calendar: %+v, want no booking", on)
	}
	pending, err := outbox.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pending {
		if p.Room == id && p.Owner == "mia" && p.Kind == notices.KindBookingRemoved && p.Reason == "Le local est rendu au propriétaire." {
			n++
		}
	}
	if n != 1 {
		t.Errorf("notices owed to mia: %d, want 1: %+v", n, pending)
	}
}
