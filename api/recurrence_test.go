package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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

// TestSeriesPreviewAndSkipHTTP: the preview lists a series' dates with
// the taken one named (its conflict, without a title), writes nothing,
// and the series booked with skip leaves that date out and says so; a
// skip that is no time, or no date of the series, is a 400.
func TestSeriesPreviewAndSkipHTTP(t *testing.T) {
	f := newPolicyFixture(t)
	s := f.base.AddDate(0, 0, 3).Add(9 * time.Hour)
	e := s.Add(time.Hour)
	taken := s.AddDate(0, 0, 7)
	if resp, body := f.call(t, asOwner, http.MethodPost, "/api/v1/bookings", fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Déjà là"}`,
		taken.Add(30*time.Minute).Format(time.RFC3339), taken.Add(90*time.Minute).Format(time.RFC3339)), false); resp.StatusCode != 201 {
		t.Fatalf("the booking in the way: %d %s", resp.StatusCode, clip(body))
	}
	q := fmt.Sprintf("/api/v1/bookings/preview?room=loire&start=%s&end=%s&recurrence=%s",
		url.QueryEscape(s.Format(time.RFC3339)), url.QueryEscape(e.Format(time.RFC3339)), url.QueryEscape("FREQ=WEEKLY;COUNT=3"))
	resp, body := f.call(t, asOwner, http.MethodGet, q, "", false)
	var p seriesPreviewJSON
	if err := json.Unmarshal(body, &p); resp.StatusCode != 200 || err != nil {
		t.Fatalf("preview: %d %s %v", resp.StatusCode, clip(body), err)
	}
	if len(p.Dates) != 3 || p.Free != 2 || p.Taken != 1 || p.Dates[1].Free || len(p.Dates[1].Conflicts) != 1 || p.Dates[1].Conflicts[0].Title != "" {
		t.Fatalf("preview %+v: want the 2nd of 3 dates taken, its conflict without a title", p)
	}
	series := func(skip string) (*http.Response, []byte) {
		return f.call(t, asOwner, http.MethodPost, "/api/v1/bookings", fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Série","recurrence":"FREQ=WEEKLY;COUNT=3","skip":%s}`,
			s.Format(time.RFC3339), e.Format(time.RFC3339), skip), false)
	}
	for _, bad := range []string{`["mardi"]`, fmt.Sprintf(`[%q]`, s.Add(time.Hour).Format(time.RFC3339))} {
		if resp, body := series(bad); resp.StatusCode != 400 {
			t.Errorf("skip %s: %d %s, want 400", bad, resp.StatusCode, clip(body))
		}
	}
	if resp, body := series(`[]`); resp.StatusCode != 409 {
		t.Errorf("the series over the taken date: %d %s, want 409", resp.StatusCode, clip(body))
	}
	resp, body = series(fmt.Sprintf(`[%q]`, p.Dates[1].Start))
	var b bookingJSON
	if err := json.Unmarshal(body, &b); resp.StatusCode != 201 || err != nil || len(b.Skip) != 1 || b.Skip[0] != taken.Format(time.RFC3339) {
		t.Fatalf("the series without the taken date: %d %s", resp.StatusCode, clip(body))
	}
}
