package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// TestImpossibleRecurrence: a rule that gives no date after the first
// (it never matches, or is a series of one) is refused with 422
// rule_violation, rule recurrence, instead of being stored; a rule that
// repeats is accepted.
func TestImpossibleRecurrence(t *testing.T) {
	f := newPolicyFixture(t)
	tests := []struct {
		rule   string
		status int
	}{
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 422},
		{"FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3", 422},
		{"FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31;UNTIL=20301231T000000Z", 422},
		{"FREQ=DAILY;COUNT=1", 422},
		{"FREQ=WEEKLY;COUNT=3", 201},
	}
	for i, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			s := f.base.AddDate(0, 0, 1).Add(time.Duration(8+i) * time.Hour)
			resp, body := f.call(t, asOwner, http.MethodPost, "/api/v1/bookings", fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Série","recurrence":%q}`,
				s.Format(time.RFC3339), s.Add(30*time.Minute).Format(time.RFC3339), tt.rule), false)
			var p Problem
			_ = json.Unmarshal(body, &p)
			if resp.StatusCode != tt.status || (tt.status == 422 && (p.Code != CodeRuleViolation || p.Rule != string(booking.RuleRecurrence))) {
				t.Fatalf("%d %s, want %d", resp.StatusCode, clip(body), tt.status)
			}
		})
	}
}
