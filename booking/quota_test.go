package booking

import (
	"testing"
	"time"
)

// A week is Monday 00:00 to Monday 00:00 on the site's wall clock, DST
// weeks included (167 or 169 hours).
func TestWeekOf(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at         time.Time
		start, end time.Time
	}{
		{time.Date(2026, 12, 2, 15, 0, 0, 0, paris), time.Date(2026, 11, 30, 0, 0, 0, 0, paris), time.Date(2026, 12, 7, 0, 0, 0, 0, paris)},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, paris), time.Date(2026, 11, 30, 0, 0, 0, 0, paris), time.Date(2026, 12, 7, 0, 0, 0, 0, paris)},
		{time.Date(2026, 12, 6, 23, 59, 0, 0, paris), time.Date(2026, 11, 30, 0, 0, 0, 0, paris), time.Date(2026, 12, 7, 0, 0, 0, 0, paris)},
		// Sunday 23:30 in Paris is Sunday 22:30 UTC: still Paris's week.
		{time.Date(2026, 12, 6, 22, 30, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, paris), time.Date(2026, 12, 7, 0, 0, 0, 0, paris)},
		// The week the clocks go back (25 October 2026).
		{time.Date(2026, 10, 25, 12, 0, 0, 0, paris), time.Date(2026, 10, 19, 0, 0, 0, 0, paris), time.Date(2026, 10, 26, 0, 0, 0, 0, paris)},
	} {
		w := weekOf(tc.at, paris)
		if !w.Start.Equal(tc.start) || !w.End.Equal(tc.end) {
			t.Errorf("weekOf(%s) = [%s, %s), want [%s, %s)", tc.at, w.Start, w.End, tc.start, tc.end)
		}
	}
}

// What a member reads when a quota refuses: what is left, where.
func TestQuotaRuleError(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	site := Site{ID: "nantes", Name: "Nantes", Location: paris}
	p := place{site: site, room: Room{ID: "loire", Name: "Loire", Rules: Rules{Quota: Quota{PerWeek: 6 * time.Hour}}}}
	week := time.Date(2026, 11, 30, 0, 0, 0, 0, paris)
	for _, tc := range []struct {
		qe   QuotaError
		room bool
		want string
	}{
		{QuotaError{Rule: QuotaWeek, Used: (3 * time.Hour).Milliseconds(), Limit: (6 * time.Hour).Milliseconds(), Week: week},
			false, "au plus 6 h par semaine à Nantes : il vous reste 3 h la semaine du 30/11 / at most 6 h a week at Nantes: 3 h left in the week of 30/11"},
		{QuotaError{Rule: QuotaWeek, Used: (4*time.Hour + 30*time.Minute).Milliseconds(), Limit: (6 * time.Hour).Milliseconds(), Week: week},
			true, "au plus 6 h par semaine dans la salle Loire : il vous reste 1 h 30 la semaine du 30/11 / at most 6 h a week in Loire: 1 h 30 left in the week of 30/11"},
		{QuotaError{Rule: QuotaAhead, Used: 5, Limit: 5},
			false, "vous avez déjà 5 réservations à venir à Nantes, le maximum / you already have 5 upcoming bookings at Nantes, the most allowed"},
		{QuotaError{Rule: QuotaAhead, Used: 1, Limit: 1},
			false, "vous avez déjà 1 réservation à venir à Nantes, le maximum / you already have 1 upcoming booking at Nantes, the most allowed"},
		{QuotaError{Rule: QuotaLongest, Used: (4 * time.Hour).Milliseconds(), Limit: (3 * time.Hour).Milliseconds()},
			false, "une réservation dure au plus 3 h à Nantes / a booking lasts at most 3 h at Nantes"},
	} {
		pp := p
		if tc.room {
			pp.room.Rules.Quota.Scope = ScopeRoom
		}
		re := quotaRuleError(pp, &tc.qe)
		if string(re.Rule) != string(tc.qe.Rule) || re.Detail != tc.want {
			t.Errorf("%s:\n got %s %q\nwant %q", tc.qe.Rule, re.Rule, re.Detail, tc.want)
		}
	}
}
