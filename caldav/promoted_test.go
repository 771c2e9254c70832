package caldav_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
)

// When a seat came from the waiting list (X-ROOMCAL-PROMOTED) is written
// on a confirmed registration's ATTENDEE line, read back to the second,
// kept by an Update, and neither written nor read on a waitlisted one,
// on every server; an attendee without it reads as zero.
func TestEventCalendarPromoted(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		promotedAt := time.Date(2026, 12, 2, 15, 4, 5, 678e6, time.UTC)
		rec := evSample(t, "evt-promoted")
		rec.Registrations[1].Promoted = promotedAt // confirmed
		rec.Registrations[3].Promoted = promotedAt // waitlisted: not kept
		etag, err := ec.Create(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Get(ctx, evCal, caldav.ObjectName("evt-promoted"))
		if err != nil {
			t.Fatal(err)
		}
		unfolded := strings.ReplaceAll(strings.ReplaceAll(string(obj.Data), "\r\n ", ""), "\r\n\t", "")
		if n := strings.Count(unfolded, "X-ROOMCAL-PROMOTED=20261202T150405Z"); n != 1 {
			t.Errorf("X-ROOMCAL-PROMOTED=20261202T150405Z written %d times, want once:\n%s", n, obj.Data)
		}
		promoted := func(r events.Record) map[string]time.Time {
			out := map[string]time.Time{}
			for _, reg := range r.Registrations {
				if !reg.Promoted.IsZero() {
					out[reg.Member] = reg.Promoted
				}
			}
			return out
		}
		got, err := ec.Read(ctx, "evt-promoted")
		if err != nil {
			t.Fatal(err)
		}
		want := promotedAt.Truncate(time.Second)
		if p := promoted(got); len(p) != 1 || !p["sso|4242:dupont"].Equal(want) {
			t.Errorf("read back: promoted %v, want only sso|4242:dupont at %s", p, want)
		}
		// An Update keeps it, and carries a new one.
		got.ETag = etag
		got.Registrations[0].Promoted = want.Add(time.Hour)
		if _, err := ec.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, err := ec.Read(ctx, "evt-promoted")
		if err != nil {
			t.Fatal(err)
		}
		if p := promoted(again); len(p) != 2 || !p["sso|4242:dupont"].Equal(want) || !p["amina"].Equal(want.Add(time.Hour)) {
			t.Errorf("after update: promoted %v", p)
		}
	})
}
