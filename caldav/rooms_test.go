package caldav

import (
	"errors"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// TestOccurrences: the recurrence of a booking expands in the site's wall
// clock, is bounded by the limit, and a rule that cannot be read is an
// ErrInvalid, never a panic.
func TestOccurrences(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 10, 18, 18, 0, 0, 0, paris) // DST ends 2027-10-31
	rc := NewRoomCalendars(nil, nil)
	tests := []struct {
		rule    string
		limit   int
		want    int
		invalid bool
	}{
		{rule: "FREQ=WEEKLY;COUNT=4", limit: 200, want: 4},
		{rule: "RRULE:FREQ=WEEKLY;COUNT=4", limit: 200, want: 4},
		{rule: "FREQ=DAILY", limit: 201, want: 201},
		{rule: "FREQ=HOURLY", limit: 201, want: 201},
		{rule: "FREQ=SOMETIMES", limit: 200, invalid: true},
		{rule: "FREQ=WEEKLY;COUNT=banana", limit: 200, invalid: true},
		{rule: "FREQ=MINUTELY", limit: 200, invalid: true},
		// Rules that never match (rrule-go would loop, or search to the
		// year 9999) give DTSTART alone, its one instance by RFC 5545, as
		// calendar apps show them.
		{rule: "FREQ=HOURLY;INTERVAL=3;BYHOUR=1", limit: 200, want: 1},
		{rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", limit: 200, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			occ, err := rc.Occurrences(tt.rule, start, start.Add(time.Hour), paris, tt.limit)
			if tt.invalid {
				if !errors.Is(err, booking.ErrInvalid) {
					t.Fatalf("got %d occurrences, %v; want ErrInvalid", len(occ), err)
				}
				return
			}
			if err != nil || len(occ) != tt.want {
				t.Fatalf("got %d occurrences, %v; want %d", len(occ), err, tt.want)
			}
			if tt.rule != "FREQ=HOURLY" {
				for _, o := range occ {
					if w := o.Start.In(paris); w.Hour() != 18 || o.End.Sub(o.Start) != time.Hour {
						t.Errorf("occurrence %v (%v long), want 18:00 Paris for 1h", w, o.End.Sub(o.Start))
					}
				}
			}
		})
	}
}
