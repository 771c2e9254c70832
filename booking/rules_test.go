package booking

import (
	"errors"
	"testing"
	"time"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCheckRules(t *testing.T) {
	loc := paris(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	weekdays := map[time.Weekday][]TimeRange{}
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays[d] = []TimeRange{{Clock(8, 0), Clock(12, 0)}, {Clock(12, 0), Clock(20, 0)}}
	}
	weekdays[time.Saturday] = []TimeRange{{Clock(9, 0), Clock(13, 0)}}
	room := Room{ID: "loire", SiteID: "nantes", Hours: OpeningHours{
		Weekly:   weekdays,
		Closures: []Closure{{From: Date{2026, 12, 24}, To: Date{2026, 12, 26}, Reason: "Noël"}},
	}, Rules: Rules{MaxDuration: 4 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * 24 * time.Hour}}
	site := Site{ID: "nantes", Location: loc}
	now := at("2026-11-23 10:00") // a Monday
	member := Member{ID: "amina"}

	tests := []struct {
		name       string
		room       func(Room) Room
		who        Member
		start, end string
		want       Rule   // "" for no violation
		detail     string // what the refusal says, when given
		invalid    bool
	}{
		{name: "fine", start: "2026-11-24 09:00", end: "2026-11-24 11:00"},
		{name: "across the noon seam of two ranges", start: "2026-11-24 11:00", end: "2026-11-24 13:00"},
		{name: "end before start", start: "2026-11-24 11:00", end: "2026-11-24 09:00", invalid: true},
		{name: "in the past", start: "2026-11-23 09:00", end: "2026-11-23 11:00", want: RuleInPast},
		{name: "min notice", start: "2026-11-23 10:10", end: "2026-11-23 11:00", want: RuleMinNotice},
		{name: "max ahead", start: "2027-03-01 09:00", end: "2027-03-01 10:00", want: RuleMaxAhead},
		{name: "max duration", start: "2026-11-24 08:00", end: "2026-11-24 12:30", want: RuleMaxDuration},
		{name: "before opening", start: "2026-11-24 07:30", end: "2026-11-24 09:00", want: RuleOpeningHours},
		{name: "after closing", start: "2026-11-24 19:00", end: "2026-11-24 20:30", want: RuleOpeningHours},
		{name: "sunday closed", start: "2026-11-29 10:00", end: "2026-11-29 11:00", want: RuleOpeningHours},
		{name: "saturday morning open", start: "2026-11-28 09:00", end: "2026-11-28 13:00"},
		{name: "closure day", start: "2026-12-24 09:00", end: "2026-12-24 10:00", want: RuleClosure,
			detail: "salle fermée du 24/12/2026 au 26/12/2026 (Noël) / room closed from 24/12/2026 to 26/12/2026"},
		{name: "one-day closure", room: func(r Room) Room {
			r.Hours.Closures = []Closure{{From: Date{2026, 11, 27}, To: Date{2026, 11, 27}}}
			return r
		}, start: "2026-11-27 09:00", end: "2026-11-27 10:00", want: RuleClosure,
			detail: "salle fermée le 27/11/2026 (fermeture) / room closed on 27/11/2026"},
		{name: "group only, not in it", room: func(r Room) Room { r.Rules.AllowedGroups = []string{"salaries"}; return r },
			start: "2026-11-24 09:00", end: "2026-11-24 10:00", want: RuleAllowed},
		{name: "group only, in it", room: func(r Room) Room { r.Rules.AllowedGroups = []string{"salaries"}; return r },
			who: Member{ID: "b", Groups: []string{"salaries"}}, start: "2026-11-24 09:00", end: "2026-11-24 10:00"},
		{name: "group only, admin", room: func(r Room) Room { r.Rules.AllowedGroups = []string{"salaries"}; return r },
			who: Member{ID: "c", Groups: []string{GroupAdmins}}, start: "2026-11-24 09:00", end: "2026-11-24 10:00"},
		{name: "open around the clock", room: func(r Room) Room { r.Hours = OpeningHours{}; return r },
			start: "2026-11-29 02:00", end: "2026-11-29 04:00"},
		{name: "no limits", room: func(r Room) Room { r.Rules = Rules{}; r.Hours = OpeningHours{}; return r },
			start: "2027-11-29 02:00", end: "2027-11-30 04:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := room
			if tt.room != nil {
				r = tt.room(r)
			}
			who := member
			if tt.who.ID != "" {
				who = tt.who
			}
			err := CheckRules(site, r, who, at(tt.start), at(tt.end), now)
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				return
			}
			var re *RuleError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tt.want != "" && !errors.As(err, &re):
				t.Fatalf("got %v, want rule %s", err, tt.want)
			case tt.want != "" && re.Rule != tt.want:
				t.Fatalf("got rule %s (%v), want %s", re.Rule, err, tt.want)
			case tt.detail != "" && re.Detail != tt.detail:
				t.Errorf("refusal says %q, want %q", re.Detail, tt.detail)
			}
		})
	}
}

func TestOpenAcrossDST(t *testing.T) {
	loc := paris(t)
	h := OpeningHours{Weekly: map[time.Weekday][]TimeRange{time.Sunday: {{Clock(1, 0), Clock(5, 0)}}}}
	// 2027-03-28: clocks go from 02:00 to 03:00 in Paris; 01:00–05:00 wall
	// clock is three real hours.
	from := time.Date(2027, 3, 28, 0, 0, 0, 0, loc)
	open := h.Open(from, from.Add(24*time.Hour))
	if len(open) != 1 {
		t.Fatalf("open %v", open)
	}
	if got := open[0].End.Sub(open[0].Start); got != 3*time.Hour {
		t.Errorf("open for %v, want 3h", got)
	}
	if open[0].End.In(loc).Hour() != 5 {
		t.Errorf("closes at %v, want 05:00 wall clock", open[0].End.In(loc))
	}
}

func TestSubtract(t *testing.T) {
	base := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }
	open := []Interval{{h(0), h(12)}}
	busy := []Busy{{Start: h(1), End: h(2)}, {Start: h(1.5), End: h(3)}, {Start: h(11), End: h(13)}}
	got := subtract(open, busy, 15*time.Minute)
	want := []Interval{{h(0), h(0.75)}, {h(3.25), h(10.75)}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("interval %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
