package caldav_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/notices"
)

// What a registrant was told (X-ROOMCAL-TOLD) is written, read back,
// kept by an Update that does not set it, and changed by one that does,
// on every server; an attendee without it reads as "".
func TestEventCalendarTold(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		rec := evSample(t, "evt-told")
		rec.Registrations[0].Told = "new:c-1abc"
		rec.Registrations[1].Told = "w-1abc"
		etag, err := ec.Create(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ec.Read(ctx, "evt-told")
		if err != nil {
			t.Fatal(err)
		}
		told := func(r events.Record) []string {
			var out []string
			for _, reg := range r.Registrations {
				out = append(out, reg.Told)
			}
			return out
		}
		want := []string{"new:c-1abc", "w-1abc", "", "", ""}
		if g := told(got); strings.Join(g, ",") != strings.Join(want[:len(g)], ",") {
			t.Errorf("told %q, want %q", g, want)
		}
		seq := got.Sequence
		got.Registrations[0].Told = "c-1abc"
		got.ETag = etag
		if _, err := ec.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, err := ec.Read(ctx, "evt-told")
		if err != nil {
			t.Fatal(err)
		}
		if g := told(again); g[0] != "c-1abc" || g[1] != "w-1abc" {
			t.Errorf("after update: told %q", g)
		}
		if again.Sequence <= seq {
			t.Errorf("SEQUENCE %d after an update, was %d", again.Sequence, seq)
		}
	})
}

// An invitation as python3-icalendar reads it: METHOD, one VEVENT with
// the record's UID and SEQUENCE, ORGANIZER, the member as ATTENDEE, and
// the VTIMEZONE of its times; CANCEL says CANCELLED.
func TestIMIPInvitation(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 14, 17, 0, 0, 0, paris)
	e := notices.Entry{UID: "ev_abc", Sequence: 4, Title: "Assemblée générale, 2026", Description: "Ordre du jour ;\nvotes",
		Location: "Salle Loire, Nantes", Start: start, End: start.Add(2 * time.Hour),
		Organizer: notices.Person{Name: "Odile", Email: "odile@example.coop"}, Attendee: notices.Person{Name: "Claire D.", Email: "claire@example.coop"},
		PartStat: "ACCEPTED", URL: "https://salles.example.coop/evenements/ev_abc"}
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
tzs = [str(c['TZID']) for c in cal.walk('VTIMEZONE')]
evs = cal.walk('VEVENT')
e = evs[0]
print(json.dumps({'method': str(cal['METHOD']), 'n': len(evs), 'uid': str(e['UID']), 'seq': int(e['SEQUENCE']),
  'status': str(e['STATUS']), 'summary': str(e['SUMMARY']), 'desc': str(e['DESCRIPTION']), 'org': str(e['ORGANIZER']),
  'att': str(e['ATTENDEE']), 'partstat': str(e['ATTENDEE'].params['PARTSTAT']), 'tzid': str(e['DTSTART'].params.get('TZID', '')),
  'tzs': tzs, 'start': e.decoded('DTSTART').isoformat(), 'url': str(e.get('URL', '')),
  'agent': str(e['ATTENDEE'].params.get('SCHEDULE-AGENT', ''))}, ensure_ascii=False))
`
	for _, method := range []string{"REQUEST", "CANCEL"} {
		ics, err := caldav.IMIP{}.Invitation(method, e)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("/usr/bin/python3", "-c", script)
		cmd.Stdin = bytes.NewReader(ics)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("python3-icalendar: %v\n%s\n%s", err, out, ics)
		}
		var got struct {
			Method, UID, Status, Summary, Desc, Org, Att, Partstat, Tzid, Start, URL, Agent string
			N, Seq                                                                          int
			Tzs                                                                             []string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		status := map[string]string{"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}[method]
		if got.Method != method || got.N != 1 || got.UID != "ev_abc" || got.Seq != 4 || got.Status != status ||
			got.Summary != e.Title || got.Desc != e.Description || got.Org != "mailto:odile@example.coop" ||
			got.Att != "mailto:claire@example.coop" || got.Partstat != "ACCEPTED" || got.Tzid != "Europe/Paris" ||
			len(got.Tzs) != 1 || got.Tzs[0] != "Europe/Paris" || got.Start != "2026-12-14T17:00:00+01:00" || got.URL != e.URL || got.Agent != "" {
			t.Errorf("%s: %+v\n%s", method, got, ics)
		}
	}
	if _, err := (caldav.IMIP{}).Invitation("PUBLISH", e); err == nil {
		t.Error("METHOD:PUBLISH accepted")
	}
}

// TestNoticeSentLog, on every server: the messages recorded for a
// member's day are read back (once each, not another member's, not
// another day's), and Prune deletes the days more than two days past.
func TestNoticeSentLog(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, _ *caldav.EventCalendar) {
		ctx := t.Context()
		if err := s.CreateCalendar(ctx, "jetons", "Jetons"); err != nil {
			t.Fatal(err)
		}
		o := caldav.NewNoticeOutbox(s, "jetons")
		today := time.Now().Format("2006-01-02")
		old := time.Now().AddDate(0, 0, -5).Format("2006-01-02")
		for _, r := range []struct{ member, day, msg string }{
			{"membre-001", today, "0a1b2c3d4e5f6071"}, {"membre-001", today, "0a1b2c3d4e5f6072"},
			{"membre-001", today, "0a1b2c3d4e5f6071"}, {"membre-002", today, "0a1b2c3d4e5f6073"},
			{"membre-001", old, "0a1b2c3d4e5f6074"},
		} {
			if err := o.Record(ctx, r.member, r.day, r.msg); err != nil {
				t.Fatal(err)
			}
		}
		check := func(member, day string, want ...string) {
			t.Helper()
			got, err := o.Sent(ctx, member, day)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s on %s: %q, want %q", member, day, got, want)
			}
		}
		check("membre-001", today, "0a1b2c3d4e5f6071", "0a1b2c3d4e5f6072")
		check("membre-002", today, "0a1b2c3d4e5f6073")
		check("membre-001", old, "0a1b2c3d4e5f6074")
		if _, err := o.Prune(ctx, time.Now().Add(-7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		check("membre-001", old)
		check("membre-001", today, "0a1b2c3d4e5f6071", "0a1b2c3d4e5f6072")
	})
}

// TestBookingIndex, on every server: a room's index reads as empty
// until written, reads back as written, and a write over a version that
// changed meanwhile changes nothing and is not an error.
func TestBookingIndex(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, _ *caldav.EventCalendar) {
		ctx := t.Context()
		if err := s.CreateCalendar(ctx, "jetons", "Jetons"); err != nil {
			t.Fatal(err)
		}
		x := caldav.NewBookingIndex(s, "jetons")
		es, etag, err := x.ReadIndex(ctx, "loire")
		if err != nil || len(es) != 0 || etag != "" {
			t.Fatalf("empty index: %v %q %v", es, etag, err)
		}
		start := time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)
		one := []booking.IndexEntry{{ID: "loire_a", Owner: "membre-001", Title: "Réunion", Start: start, End: start.Add(time.Hour)}}
		if err := x.WriteIndex(ctx, "loire", one, ""); err != nil {
			t.Fatal(err)
		}
		es, etag, err = x.ReadIndex(ctx, "loire")
		if err != nil || len(es) != 1 || es[0].ID != "loire_a" || es[0].Owner != "membre-001" || !es[0].Start.Equal(start) || etag == "" {
			t.Fatalf("read back: %+v %q %v", es, etag, err)
		}
		two := append(one, booking.IndexEntry{ID: "loire_b", Owner: "membre-002", Start: start, End: start.Add(time.Hour)})
		if err := x.WriteIndex(ctx, "loire", two, etag); err != nil {
			t.Fatal(err)
		}
		if err := x.WriteIndex(ctx, "loire", nil, etag); err != nil { // stale version
			t.Fatalf("stale write: %v", err)
		}
		if err := x.WriteIndex(ctx, "loire", nil, ""); err != nil { // created meanwhile
			t.Fatalf("stale create: %v", err)
		}
		if es, _, err := x.ReadIndex(ctx, "loire"); err != nil || len(es) != 2 {
			t.Errorf("after stale writes: %+v %v, want the two entries", es, err)
		}
		if es, _, err := x.ReadIndex(ctx, "erdre"); err != nil || len(es) != 0 {
			t.Errorf("another room: %+v %v", es, err)
		}
	})
}
