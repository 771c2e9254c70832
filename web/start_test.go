package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
)

// TestOpenDays: the day chips are the next open days; today only while a
// room can still be booked today, and "maintenant" only while one is open.
func TestOpenDays(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	weekdays := []booking.TimeRange{{From: booking.Clock(8, 0), To: booking.Clock(20, 0)}}
	office := booking.OpeningHours{Weekly: map[time.Weekday][]booking.TimeRange{
		time.Monday: weekdays, time.Tuesday: weekdays, time.Wednesday: weekdays, time.Thursday: weekdays, time.Friday: weekdays,
		time.Saturday: {{From: booking.Clock(9, 0), To: booking.Clock(13, 0)}},
	}, Closures: []booking.Closure{{From: booking.Date{Year: 2026, Month: 12, Day: 24}, To: booking.Date{Year: 2027, Month: 1, Day: 1}}}}
	// A second room open on Sunday mornings only.
	sunday := booking.OpeningHours{Weekly: map[time.Weekday][]booking.TimeRange{time.Sunday: {{From: booking.Clock(10, 0), To: booking.Clock(12, 0)}}}}
	at := func(month time.Month, day, h, m int) time.Time { return time.Date(2026, month, day, h, m, 0, 0, paris) }
	dates := func(days []startDay) []string {
		var out []string
		for _, d := range days {
			out = append(out, d.Date)
		}
		return out
	}
	for _, c := range []struct {
		name    string
		hours   []booking.OpeningHours
		now     time.Time
		notice  time.Duration
		want    []string
		nowOpen bool
		first   []startRange
	}{
		{"a Thursday morning: today first, open now", []booking.OpeningHours{office}, at(12, 3, 10, 7), 15 * time.Minute,
			[]string{"2026-12-03", "2026-12-04", "2026-12-05", "2026-12-07", "2026-12-08", "2026-12-09"}, true,
			[]startRange{{"10:22", "20:00"}}},
		{"a Thursday at 20:07: the day is over", []booking.OpeningHours{office}, at(12, 3, 20, 7), 15 * time.Minute,
			[]string{"2026-12-04", "2026-12-05", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"}, false,
			[]startRange{{"08:00", "20:00"}}},
		{"19:50 with 15 min notice: nothing left today", []booking.OpeningHours{office}, at(12, 3, 19, 50), 15 * time.Minute,
			[]string{"2026-12-04", "2026-12-05", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"}, true,
			[]startRange{{"08:00", "20:00"}}},
		{"early morning: today, not open yet", []booking.OpeningHours{office}, at(12, 3, 6, 0), 0,
			[]string{"2026-12-03", "2026-12-04", "2026-12-05", "2026-12-07", "2026-12-08", "2026-12-09"}, false,
			[]startRange{{"08:00", "20:00"}}},
		{"the year-end closure is skipped", []booking.OpeningHours{office}, at(12, 22, 21, 0), 0,
			[]string{"2026-12-23", "2027-01-02", "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07"}, false,
			[]startRange{{"08:00", "20:00"}}},
		{"two rooms: their hours together", []booking.OpeningHours{office, sunday}, at(12, 5, 14, 0), 0,
			[]string{"2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"}, false,
			[]startRange{{"10:00", "12:00"}}},
		{"open around the clock", []booking.OpeningHours{{}}, at(12, 5, 14, 0), 0,
			[]string{"2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"}, true,
			[]startRange{{"14:00", "24:00"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			today, days, nowOpen := openDays(c.hours, c.now, c.notice)
			if today != c.now.Format(time.DateOnly) {
				t.Errorf("today %s", today)
			}
			if got := dates(days); !reflect.DeepEqual(got, c.want) {
				t.Errorf("days %v, want %v", got, c.want)
			}
			if nowOpen != c.nowOpen {
				t.Errorf("now open %v, want %v", nowOpen, c.nowOpen)
			}
			if len(days) > 0 && !reflect.DeepEqual(days[0].Open, c.first) {
				t.Errorf("first day open %v, want %v", days[0].Open, c.first)
			}
		})
	}
}

// TestStartRooms: the start page offers only the rooms the member may
// book, and a site whose rooms are all for others is left out.
func TestStartRooms(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	cat, err := booking.NewCatalog(
		[]booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}, {ID: "brest", Name: "Brest", Location: paris}},
		[]booking.Room{
			{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Calendar: "loire", Rules: booking.Rules{MaxDuration: 2 * time.Hour, MinNotice: 20 * time.Minute}},
			{ID: "conseil", SiteID: "nantes", Name: "Conseil", Capacity: 8, Calendar: "conseil", Rules: booking.Rules{AllowedGroups: []string{"salaries"}}},
			{ID: "iroise", SiteID: "brest", Name: "Iroise", Capacity: 8, Calendar: "iroise", Rules: booking.Rules{AllowedGroups: []string{"salaries"}}},
		})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Catalog: cat, Now: func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) }})
	r := newRequest("/?site=brest")
	d := s.startData(r, booking.Member{ID: "a", Name: "Amina Diallo"}, "")
	if len(d.Sites) != 1 || d.Sites[0].ID != "nantes" || len(d.Sites[0].Rooms) != 1 || d.Sites[0].Rooms[0].ID != "loire" {
		t.Fatalf("sites for a member outside salaries: %+v", d.Sites)
	}
	if d.Site != "nantes" || d.FirstName != "Amina" || d.Sites[0].Notice != 20 || d.Sites[0].Rooms[0].MaxMinutes != 120 {
		t.Errorf("start data %+v", d)
	}
	d = s.startData(r, booking.Member{ID: "b", Name: "Bea", Groups: []string{"salaries"}}, "nantes")
	if len(d.Sites) != 2 || d.Site != "brest" {
		t.Errorf("?site= wins over the preference: %q of %d sites", d.Site, len(d.Sites))
	}
	if d = s.startData(newRequest("/"), booking.Member{ID: "b", Name: "Bea", Groups: []string{"salaries"}}, "brest"); d.Site != "brest" {
		t.Errorf("the preferred site is not chosen: %q", d.Site)
	}
}

func newRequest(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }

// fakePrefs answers one site for every member, or fails.
type fakePrefs struct {
	site string
	err  error
}

func (f fakePrefs) Preferences(ctx context.Context, memberID string) (booking.Preferences, error) {
	return booking.Preferences{Site: f.site}, f.err
}

// TestStartPreferredSite: the start page opens on the member's site from
// their preferences; a store that fails, or a site that is gone, leaves
// the first site.
func TestStartPreferredSite(t *testing.T) {
	amina := booking.Member{ID: "amina", Name: "Amina"}
	for _, c := range []struct {
		name   string
		prefs  Preferences
		target string
		want   string
	}{
		{"preferred", fakePrefs{site: "brest"}, "/", "brest"},
		{"asked wins", fakePrefs{site: "brest"}, "/?site=nantes", "nantes"},
		{"store fails", fakePrefs{site: "brest", err: errors.New("caldav down")}, "/", "nantes"},
		{"site gone", fakePrefs{site: "quimper"}, "/", "nantes"},
		{"no store", nil, "/", "nantes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testSite(t)
			s.prefs = c.prefs
			body := render(t, s, c.target, api.Page{Name: api.PageStart, Member: amina}, nil).Body.String()
			if !strings.Contains(body, `id="site-`+c.want+`" value="`+c.want+`" checked`) {
				t.Errorf("the start page does not open on %s", c.want)
			}
		})
	}
}
