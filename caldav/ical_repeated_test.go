package caldav

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/internal/testenv"
)

// The repeated hour: when clocks go back, the local times of the hour
// before the change occur twice. RFC 5545 3.3.5 reads such a local time as
// its first occurrence; these tests check roomcal's readings and writings
// against it and against an independent reader (Debian's
// python3-icalendar for the file, python3-dateutil with zoneinfo for the
// recurrence).

const pythonBin = "/usr/bin/python3"

// pythonInstances expands every VEVENT of data with python3-icalendar
// and dateutil and returns the instances overlapping [from, to) as
// "UID start/end" in UTC, sorted. Local times are given their zone with
// zoneinfo (fold=0: the first occurrence of a repeated local time, the
// offset before a gap), as RFC 5545 3.3.5 says; pytz, which
// python3-icalendar itself uses, would take the second. DURATION's days
// are nominal, its time part exact (RFC 5545 3.3.6). The objects must use
// DTSTART, DTEND or DURATION, RRULE and EXDATE only.
func pythonInstances(t *testing.T, data []byte, from, to time.Time) []string {
	t.Helper()
	if out, err := exec.Command(pythonBin, "-c", "import icalendar, dateutil.rrule, zoneinfo").CombinedOutput(); err != nil {
		t.Fatalf("this test needs %s with python3-icalendar and python3-dateutil (apt-get install python3-icalendar python3-dateutil): %v\n%s", pythonBin, err, out)
	}
	const script = `
import sys, json, datetime, zoneinfo, icalendar
from dateutil import rrule
UTC = datetime.timezone.utc
frm = datetime.datetime.fromisoformat(sys.argv[1])
to = datetime.datetime.fromisoformat(sys.argv[2])
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())

def aware(dt, tzid):
    if tzid:
        return dt.replace(tzinfo=None).replace(tzinfo=zoneinfo.ZoneInfo(str(tzid)))
    if dt.tzinfo is None:
        raise ValueError('floating time %s' % dt)
    return dt.astimezone(UTC)

def plus(start, delta):
    # days in the wall clock, the rest exact
    wall = (start.replace(tzinfo=None) + datetime.timedelta(days=delta.days)).replace(tzinfo=start.tzinfo)
    return wall.astimezone(UTC) + datetime.timedelta(seconds=delta.seconds)

out = []
for e in cal.walk('VEVENT'):
    uid = str(e['UID'])
    ds = e['DTSTART']
    start = aware(ds.dt, ds.params.get('TZID'))
    if 'DTEND' in e:
        de = e['DTEND']
        length = aware(de.dt, de.params.get('TZID')).astimezone(UTC) - start.astimezone(UTC)
        end_of = lambda s, length=length: s.astimezone(UTC) + length
    else:
        d = e['DURATION'].dt
        end_of = lambda s, d=d: plus(s, d)
    starts = [start]
    if 'RRULE' in e:
        starts = list(rrule.rrulestr(e['RRULE'].to_ical().decode(), dtstart=start))
    ex = e.get('EXDATE')
    exs = set()
    for x in (ex if isinstance(ex, list) else [ex] if ex is not None else []):
        for d in x.dts:
            exs.add(aware(d.dt, x.params.get('TZID')).astimezone(UTC))
    for s in starts:
        su = s.astimezone(UTC)
        eu = end_of(s)
        if su in exs or not (su < to and eu > frm):
            continue
        out.append('%s %s/%s' % (uid, su.strftime('%Y-%m-%dT%H:%M:%SZ'), eu.strftime('%Y-%m-%dT%H:%M:%SZ')))
print(json.dumps(sorted(out)))
`
	cmd := exec.Command(pythonBin, "-c", script, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python could not expand the object: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got
}

// roomcalInstances is pythonInstances by roomcal: ParseCalendar and
// Instances.
func roomcalInstances(t *testing.T, data []byte, loc *time.Location, from, to time.Time) []string {
	t.Helper()
	items, errs := ParseCalendar("cal.ics", data, loc)
	if len(errs) > 0 {
		t.Fatalf("ParseCalendar: %v", errs)
	}
	const f = "2006-01-02T15:04:05Z"
	out := []string{}
	for _, it := range items {
		ins, err := it.Instances(from, to)
		if err != nil {
			t.Fatalf("%s: %v", it.UID, err)
		}
		for _, in := range ins {
			out = append(out, in.UID+" "+in.Start.UTC().Format(f)+"/"+in.End.UTC().Format(f))
		}
	}
	sort.Strings(out)
	return out
}

// TestIcalRepeatedHourRead: a local time that occurs twice is read, and a
// recurrence expanded, at its first occurrence (RFC 5545 3.3.5), and the
// spring gap keeps the offset before it.
func TestIcalRepeatedHourRead(t *testing.T) {
	p := icalParis(t)
	items, errs := ParseCalendar("edge-repeated-hour.ics", icalFixture(t, "edge-repeated-hour.ics").Data, p)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	byUID := map[string]*Item{}
	for _, it := range items {
		byUID[it.UID] = it
	}
	utc := func(ins []Instance) []string {
		out := []string{}
		for _, in := range ins {
			out = append(out, in.Start.UTC().Format("01-02T15:04Z")+"/"+in.End.UTC().Format("15:04Z"))
		}
		return out
	}
	from, to := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		uid  string
		want []string
	}{
		// 02:30 on 2027-10-31 is 00:30Z (+02:00), not 01:30Z (+01:00).
		{"single-first-0230@example.org", []string{"10-31T00:30Z/00:45Z"}},
		{"daily-0230@example.org", []string{"10-29T00:30Z/01:30Z", "10-30T00:30Z/01:30Z", "10-31T00:30Z/01:30Z", "11-01T01:30Z/02:30Z", "11-02T01:30Z/02:30Z"}},
		// Wall-clock hours, as dateutil: 02:00 once, at +02:00.
		{"hourly-night@example.org", []string{"10-30T22:00Z/22:30Z", "10-30T23:00Z/23:30Z", "10-31T00:00Z/00:30Z", "10-31T02:00Z/02:30Z", "10-31T03:00Z/03:30Z", "10-31T04:00Z/04:30Z"}},
		{"daily-until-utc@example.org", []string{"10-29T00:15Z/00:45Z", "10-30T00:15Z/00:45Z", "10-31T00:15Z/00:45Z"}},
		{"exdate-repeated@example.org", []string{"10-30T00:40Z/00:50Z", "11-01T01:40Z/01:50Z"}},
		{"new-york-daily-0130@example.org", []string{"11-06T05:30Z/06:15Z", "11-07T05:30Z/06:15Z", "11-08T06:30Z/07:15Z"}},
		// The spring gap as before: 02:30 does not exist on 2027-03-28
		// and reads with the offset before the gap (03:30 CEST).
		{"daily-spring-gap@example.org", []string{"03-26T01:30Z/02:30Z", "03-27T01:30Z/02:30Z", "03-28T01:30Z/02:30Z", "03-29T00:30Z/01:30Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			it := byUID[tt.uid]
			if it == nil {
				t.Fatalf("no item %s", tt.uid)
			}
			ins, err := it.Busy(from, to)
			if got := utc(ins); err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if m := byUID["single-first-0230@example.org"].Master(); !m.Start.Equal(time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("Master().Start = %v; want 2027-10-31T02:30:00+02:00", m.Start)
	}
}

// TestIcalRepeatedHourMatchesPython: roomcal expands the repeated hour
// (and the spring gap, and MINUTELY/SECONDLY rules) as python3-icalendar
// and dateutil do.
func TestIcalRepeatedHourMatchesPython(t *testing.T) {
	tests := []struct {
		file     string
		from, to time.Time
	}{
		{"edge-repeated-hour.ics", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"edge-sub-daily-rules.ics", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := icalFixture(t, tt.file).Data
			want := pythonInstances(t, data, tt.from, tt.to)
			got := roomcalInstances(t, data, icalParis(t), tt.from, tt.to)
			if len(want) == 0 {
				t.Fatal("python found no instance")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("roomcal and dateutil differ:\nroomcal %q\ndateutil %q", got, want)
			}
		})
	}
}

// TestIcalRepeatedHourEncode: instants in the repeated hour are written so
// that they read back as themselves, with roomcal's reader and with
// python3-icalendar: in UTC, but for the DTSTART of a rule, which keeps its
// TZID (the first occurrence) or is refused (the second).
func TestIcalRepeatedHourEncode(t *testing.T) {
	p := icalParis(t)
	first := time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC).In(p)  // 02:30+02:00
	second := time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC).In(p) // 02:30+01:00
	tests := []struct {
		name       string
		ev         Event
		lines      []string
		start, end time.Time
	}{
		{"first 02:30", Event{Start: first, End: first.Add(time.Hour)},
			[]string{"DTSTART:20271031T003000Z", "DTEND:20271031T013000Z"}, first, first.Add(time.Hour)},
		{"second 02:30", Event{Start: second, End: second.Add(30 * time.Minute)},
			[]string{"DTSTART:20271031T013000Z", "DTEND;TZID=Europe/Paris:20271031T030000"}, second, second.Add(30 * time.Minute)},
		{"from the first 02:00 to 03:30 CET", Event{Start: first.Add(-30 * time.Minute), End: first.Add(120 * time.Minute)},
			[]string{"DTSTART:20271031T000000Z", "DTEND;TZID=Europe/Paris:20271031T033000"}, first.Add(-30 * time.Minute), first.Add(120 * time.Minute)},
		{"a rule's DTSTART keeps its TZID", Event{Start: first, End: first.Add(time.Hour), RRule: "FREQ=DAILY;COUNT=2",
			ExDates: []time.Time{first.AddDate(0, 0, 1)}},
			[]string{"DTSTART;TZID=Europe/Paris:20271031T023000", "DTEND:20271031T013000Z", "EXDATE;TZID=Europe/Paris:20271101T023000"}, first, first.Add(time.Hour)},
		{"override of the first 02:30", Event{Start: first.Add(time.Hour), End: first.Add(2 * time.Hour), RecurrenceID: first},
			[]string{"RECURRENCE-ID:20271031T003000Z", "DTSTART:20271031T013000Z", "DTEND;TZID=Europe/Paris:20271031T033000"}, first.Add(time.Hour), first.Add(2 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := tt.ev
			ev.UID, ev.DTStamp = "repeated@example.org", icalStamp
			b, err := EncodeEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			lines := icalUnfold(t, b)
			for _, w := range tt.lines {
				if !containsStr(lines, w) {
					t.Errorf("no line %q in\n%s", w, b)
				}
			}
			it := icalParseAgain(t, b)
			evs := it.Events()
			if len(evs) != 1 || !evs[0].Start.Equal(tt.start) || !evs[0].End.Equal(tt.end) {
				t.Fatalf("read back %+v; want %v to %v", evs, tt.start, tt.end)
			}
			if tt.ev.RRule != "" {
				return // python3-icalendar (pytz) takes the TZID form's second occurrence
			}
			py := pythonStartEnd(t, b)
			if want := [2]string{tt.start.UTC().Format(time.RFC3339), tt.end.UTC().Format(time.RFC3339)}; py != want {
				t.Errorf("python3-icalendar reads %v; want %v\n%s", py, want, b)
			}
		})
	}
	_, err := EncodeEvent(Event{UID: "x", DTStamp: icalStamp, Start: second, End: second.Add(time.Hour), RRule: "FREQ=WEEKLY;COUNT=2"})
	if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), "second occurrence") {
		t.Errorf("a rule starting at the second 02:30: error %v; want ErrInvalidEvent", err)
	}
}

// pythonStartEnd is DTSTART and DTEND of the one VEVENT of b as
// python3-icalendar decodes them, in UTC (RFC 3339).
func pythonStartEnd(t *testing.T, b []byte) [2]string {
	t.Helper()
	const script = `
import sys, json, datetime, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
e = cal.walk('VEVENT')[0]
f = lambda d: d.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
print(json.dumps([f(e.decoded('dtstart')), f(e.decoded('dtend'))]))
`
	cmd := exec.Command(pythonBin, "-c", script)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python3-icalendar cannot read our output (apt-get install python3-icalendar): %v\n%s\n%s", err, ee.Stderr, b)
		}
		t.Fatal(err)
	}
	var got [2]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got
}

// testStores are the stores adapter tests run against: the embedded
// store and the Radicale that scripts/test.sh starts.
func testStores() []struct {
	name string
	open func(t *testing.T) Store
} {
	return []struct {
		name string
		open func(t *testing.T) Store
	}{
		{"embedded", func(t *testing.T) Store {
			fs, err := OpenFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fs.Close() })
			return fs
		}},
		{"radicale", func(t *testing.T) Store {
			h := testenv.RadicaleHome(t)
			c, err := NewClient(h.URL, ClientOptions{Username: h.User, Password: h.Password, HTTPClient: &http.Client{Timeout: 30 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
}

// TestRepeatedHourBookingRoundTrip: a booking at the first 02:30 of
// 2027-10-31 in Europe/Paris (and one at the second) is stored so that the
// server's copy reads back as the same instant, through the adapter and
// with python3-icalendar, on the embedded store and on Radicale.
func TestRepeatedHourBookingRoundTrip(t *testing.T) {
	p := icalParis(t)
	room := booking.Room{ID: "loire", SiteID: "nantes", Name: "Loire", Calendar: "loire"}
	tests := []struct {
		id    string
		start string
	}{
		{"repeated_first", "2027-10-31T02:30:00+02:00"},
		{"repeated_second", "2027-10-31T02:30:00+01:00"},
		{"repeated_across", "2027-10-31T02:00:00+02:00"},
	}
	for _, st := range testStores() {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			store := st.open(t)
			if err := store.CreateCalendar(ctx, room.Calendar, room.Name); err != nil {
				t.Fatal(err)
			}
			rc := NewRoomCalendars(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, tt := range tests {
				start, err := time.Parse(time.RFC3339, tt.start)
				if err != nil {
					t.Fatal(err)
				}
				end := start.Add(90 * time.Minute)
				b := booking.Booking{ID: tt.id, Room: room.ID, Start: start, End: end, Title: "Nuit du changement d'heure",
					Organizer: booking.Member{ID: "amina", Name: "Amina"}, Kind: booking.KindBooking}
				if _, err := rc.Create(ctx, room, p, b); err != nil {
					t.Fatal(err)
				}
				got, _, err := rc.Get(ctx, room, p, tt.id)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Start.Equal(start) || !got.End.Equal(end) {
					t.Errorf("%s: read back %s to %s; want %s to %s", tt.id, got.Start.Format(time.RFC3339), got.End.Format(time.RFC3339),
						start.Format(time.RFC3339), end.Format(time.RFC3339))
				}
				obj, err := store.Get(ctx, room.Calendar, ObjectName(tt.id))
				if err != nil {
					t.Fatal(err)
				}
				py := pythonStartEnd(t, obj.Data)
				if want := [2]string{start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)}; py != want {
					t.Errorf("%s: python3-icalendar reads the stored object as %v; want %v\n%s", tt.id, py, want, obj.Data)
				}
			}
			// The room's busy time, as the gate gets it, is at the same
			// instants.
			snap, problems, err := rc.Read(ctx, room, p, booking.Interval{Start: time.Date(2027, 10, 30, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 11, 2, 0, 0, 0, 0, time.UTC)})
			if err != nil || len(problems) != 0 {
				t.Fatalf("Read: %v, problems %v", err, problems)
			}
			for _, tt := range tests {
				start, _ := time.Parse(time.RFC3339, tt.start)
				bs := snap.Objects[refOf(ObjectName(tt.id))].Busy
				if len(bs) != 1 || !bs[0].Start.Equal(start) {
					t.Errorf("%s: busy %v; want one interval from %s", tt.id, bs, tt.start)
				}
			}
		})
	}
}
