package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// TestDatesOutOfRange: one bound for every date written, bookings and
// events alike: from 2000-01-01 to five years ahead. Beyond it (year
// 9999, which a calendar server may fail to store) and before it (year
// 1, even with an offset, which is given, not missing) the answer is 422
// rule_violation, rule date_range.
func TestDatesOutOfRange(t *testing.T) {
	f := newPolicyFixture(t)
	ok := f.base.Add(9 * time.Hour)
	tests := []struct {
		name, method, target string
		role                 int
		body                 string
	}{
		{"booking in year 9999", http.MethodPost, "/api/v1/bookings", asOwner,
			`{"room":"loire","start":"9999-12-30T09:00:00+01:00","end":"9999-12-30T10:00:00+01:00","title":"Loin"}`},
		{"booking in year 1 with an offset", http.MethodPost, "/api/v1/bookings", asOwner,
			`{"room":"loire","start":"0001-01-01T00:00:00+01:00","end":"0001-01-01T01:00:00+01:00","title":"Tôt"}`},
		{"booking at the zero time", http.MethodPost, "/api/v1/bookings", asOwner,
			`{"room":"loire","start":"0001-01-01T00:00:00Z","end":"0001-01-01T01:00:00Z","title":"Tôt"}`},
		{"booking repeated past the bound", http.MethodPost, "/api/v1/bookings", asOwner,
			fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Annuel","recurrence":"FREQ=YEARLY;COUNT=8"}`, ok.Format(time.RFC3339), ok.Add(time.Hour).Format(time.RFC3339))},
		{"booking moved to year 9999", http.MethodPatch, "/api/v1/bookings/{booking}", asOwner,
			`{"start":"9999-12-30T09:00:00+01:00","end":"9999-12-30T10:00:00+01:00"}`},
		{"event in year 9999", http.MethodPost, "/api/v1/events", asOrga,
			`{"title":"Loin","start":"9999-12-30T09:00:00+01:00","end":"9999-12-30T10:00:00+01:00","location":"Hall","capacity":5}`},
		{"event in year 1 with an offset", http.MethodPost, "/api/v1/events", asOrga,
			`{"title":"Tôt","start":"0001-01-01T00:00:00+01:00","end":"0001-01-01T01:00:00+01:00","location":"Hall","capacity":5}`},
		{"event ending six years ahead", http.MethodPost, "/api/v1/events", asOrga,
			fmt.Sprintf(`{"title":"Long","start":%q,"end":%q,"location":"Hall","capacity":5}`, ok.AddDate(6, 0, 0).Format(time.RFC3339), ok.AddDate(6, 0, 0).Add(time.Hour).Format(time.RFC3339))},
		{"event moved to year 9999", http.MethodPatch, "/api/v1/events/{event}", asOrga,
			`{"start":"9999-12-30T09:00:00+01:00","end":"9999-12-30T10:00:00+01:00"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target
			switch target {
			case "/api/v1/bookings/{booking}":
				target = "/api/v1/bookings/" + f.newBooking(t)
			case "/api/v1/events/{event}":
				target = "/api/v1/events/" + f.newEvent(t)
			}
			resp, body := f.call(t, tt.role, tt.method, target, tt.body, false)
			var p Problem
			_ = json.Unmarshal(body, &p)
			if resp.StatusCode != 422 || p.Code != CodeRuleViolation || p.Rule != string(booking.RuleDateRange) {
				t.Fatalf("%d %s, want 422 rule_violation date_range", resp.StatusCode, clip(body))
			}
		})
	}
}
