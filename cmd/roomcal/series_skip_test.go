package main

import (
	"encoding/json"
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
