package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/testenv"
)

// TestSeriesSkipOneDate: "cette date seulement" on Radicale and Redis,
// two replicas. Ann's weekly series of four holds its dates: Bob's
// booking of the third is refused. Ann leaves the third out on one
// replica; at once, on the other, Bob books it, while the second and
// fourth are still refused to him. The room's calendar holds the series
// with the third date as an EXDATE, and Bob's booking that date. Bad
// requests are problem+json: not Ann's booking (403), a time that is
// none of the series' dates, the same date again, the series' last date
// (400).
func TestSeriesSkipOneDate(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	x := newInstance(t, b, instanceOpts{})
	y := newInstance(t, b, instanceOpts{})
	s, e := slot(2, 10)
	a := x.call(t, "POST", "/api/v1/bookings", "ann", map[string]any{
		"room": "loire", "start": s.Format(time.RFC3339), "end": e.Format(time.RFC3339),
		"title": "Chorale", "recurrence": "FREQ=WEEKLY;COUNT=4",
	})
	if a.status != 201 {
		t.Fatalf("series: %d %s", a.status, a.body)
	}
	var series struct {
		ID   string
		Skip []string
	}
	if err := json.Unmarshal(a.body, &series); err != nil {
		t.Fatal(err)
	}
	date := func(n int) (time.Time, time.Time) { return s.AddDate(0, 0, 7*n), e.AddDate(0, 0, 7*n) }
	third, thirdEnd := date(2)
	if a := y.book(t, "bob", "loire", third, thirdEnd); a.status != 409 {
		t.Fatalf("Bob on the series' third date before it is left out: %d %s, want 409", a.status, a.body)
	}
	skip := func(in *instance, user string, start time.Time) answer {
		return in.call(t, "POST", "/api/v1/bookings/"+series.ID+"/skip", user, map[string]any{"start": start.Format(time.RFC3339)})
	}
	if a := skip(y, "bob", third); a.status != 403 {
		t.Errorf("Bob leaving out a date of Ann's series: %d %s, want 403", a.status, a.body)
	}
	a = skip(x, "ann", third)
	if a.status != 200 {
		t.Fatalf("leaving the third date out: %d %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, &series); err != nil || len(series.Skip) != 1 || series.Skip[0] != third.Format(time.RFC3339) {
		t.Fatalf("the answer skips %v (%v), want the third date", series.Skip, err)
	}
	// At once, on the other replica: the freed date is Bob's for the
	// asking, the others are still Ann's.
	if a := y.book(t, "bob", "loire", third, thirdEnd); a.status != 201 {
		t.Fatalf("Bob on the freed date: %d %s, want 201", a.status, a.body)
	}
	for _, n := range []int{1, 3} {
		ds, de := date(n)
		if a := y.book(t, "bob", "loire", ds, de); a.status != 409 {
			t.Errorf("Bob on date %d of the series, still held: %d %s, want 409", n+1, a.status, a.body)
		}
	}
	onServer := bookingsOnServer(t, b, "loire", s.Add(-time.Hour), s.AddDate(0, 0, 29))
	owners := map[string]string{}
	for _, o := range onServer {
		owners[o.Start.In(paris).Format("2006-01-02")] += o.Organizer
	}
	for n := 0; n < 4; n++ {
		ds, _ := date(n)
		want := "ann"
		if n == 2 {
			want = "bob"
		}
		if got := owners[ds.Format("2006-01-02")]; got != want {
			t.Errorf("Radicale on %s: %q, want only %s's", ds.Format("2006-01-02"), got, want)
		}
	}
	if len(onServer) != 4 {
		t.Errorf("Radicale holds %d intervals, want 4: %+v", len(onServer), onServer)
	}

	for _, bad := range []struct {
		name  string
		start any
	}{
		{"no time", "mardi"},
		{"no date of the series", third.Add(time.Hour).Format(time.RFC3339)},
		{"already left out", third.Format(time.RFC3339)},
		{"missing", nil},
	} {
		a := x.call(t, "POST", "/api/v1/bookings/"+series.ID+"/skip", "ann", map[string]any{"start": bad.start})
		var p struct{ Type, Title, Code string }
		if err := json.Unmarshal(a.body, &p); a.status != 400 || err != nil || p.Code == "" || p.Title == "" {
			t.Errorf("skip %s: %d %s, want a 400 problem", bad.name, a.status, a.body)
		}
	}
	for _, n := range []int{0, 1} {
		ds, _ := date(n)
		if a := skip(x, "ann", ds); a.status != 200 {
			t.Fatalf("leaving date %d out: %d %s", n+1, a.status, a.body)
		}
	}
	last, _ := date(3)
	if a := skip(y, "ann", last); a.status != 400 {
		t.Errorf("leaving the last date out: %d %s, want 400 (cancel the booking instead)", a.status, a.body)
	}
}

// TestSeriesFromSingleBooking: "Répéter cette réservation…" on Radicale
// and Redis. Ann's single booking becomes a weekly series of four: the
// preview for it (repeats=its id) counts its own slot free and names
// the date Bob holds; making it a series over that date is refused
// (409), without it it is written as one object (RRULE, EXDATE) and the
// other dates are held at once against Bob, on the other replica.
// Making a series of a series is a 400.
func TestSeriesFromSingleBooking(t *testing.T) {
	b := newBackend(t, testenv.RadicaleHome(t), testenv.StartRedis(t).URL())
	x := newInstance(t, b, instanceOpts{})
	y := newInstance(t, b, instanceOpts{})
	s, e := slot(2, 14)
	a := x.book(t, "ann", "loire", s, e)
	if a.status != 201 {
		t.Fatalf("the booking: %d %s", a.status, a.body)
	}
	var single struct{ ID string }
	if err := json.Unmarshal(a.body, &single); err != nil {
		t.Fatal(err)
	}
	date := func(n int) (time.Time, time.Time) { return s.AddDate(0, 0, 7*n), e.AddDate(0, 0, 7*n) }
	third, thirdEnd := date(2)
	if a := y.book(t, "bob", "loire", third, thirdEnd); a.status != 201 {
		t.Fatalf("Bob's booking: %d %s", a.status, a.body)
	}
	const rule = "FREQ=WEEKLY;COUNT=4"
	preview := func(repeats string) (taken []int) {
		q := "/api/v1/bookings/preview?room=loire&start=" + urlTime(s) + "&end=" + urlTime(e) + "&recurrence=" + url.QueryEscape(rule)
		if repeats != "" {
			q += "&repeats=" + url.QueryEscape(repeats)
		}
		a := x.call(t, "GET", q, "ann", nil)
		var p struct{ Dates []struct{ Free bool } }
		if err := json.Unmarshal(a.body, &p); a.status != 200 || err != nil || len(p.Dates) != 4 {
			t.Fatalf("preview: %d %s", a.status, a.body)
		}
		for i, d := range p.Dates {
			if !d.Free {
				taken = append(taken, i)
			}
		}
		return taken
	}
	if got := preview(""); fmt.Sprint(got) != "[0 2]" {
		t.Errorf("preview of a new series: dates %v taken, want [0 2] (the booking itself and Bob's)", got)
	}
	if got := preview(single.ID); fmt.Sprint(got) != "[2]" {
		t.Errorf("preview of the booking made a series: dates %v taken, want [2] (Bob's only)", got)
	}
	patch := func(in *instance, body map[string]any) answer {
		return in.call(t, "PATCH", "/api/v1/bookings/"+single.ID, "ann", body)
	}
	if a := patch(x, map[string]any{"recurrence": rule}); a.status != 409 {
		t.Errorf("the series over Bob's date: %d %s, want 409", a.status, a.body)
	}
	a = patch(x, map[string]any{"recurrence": rule, "skip": []string{third.Format(time.RFC3339)}})
	if a.status != 200 {
		t.Fatalf("the series without Bob's date: %d %s", a.status, a.body)
	}
	for _, n := range []int{1, 3} {
		ds, de := date(n)
		if a := y.book(t, "bob", "loire", ds, de); a.status != 409 {
			t.Errorf("Bob on date %d of the new series: %d %s, want 409", n+1, a.status, a.body)
		}
	}
	onServer := bookingsOnServer(t, b, "loire", s.Add(-time.Hour), s.AddDate(0, 0, 29))
	var anns []string
	for _, o := range onServer {
		if o.Ref == single.ID {
			anns = append(anns, o.Start.In(paris).Format("2006-01-02"))
		}
	}
	var want []string
	for _, n := range []int{0, 1, 3} {
		ds, _ := date(n)
		want = append(want, ds.Format("2006-01-02"))
	}
	if fmt.Sprint(anns) != fmt.Sprint(want) {
		t.Errorf("Radicale holds Ann's booking on %v, want %v", anns, want)
	}
	if a := patch(y, map[string]any{"recurrence": "FREQ=DAILY;COUNT=2"}); a.status != 400 {
		t.Errorf("a series made a series again: %d %s, want 400", a.status, a.body)
	}
}
