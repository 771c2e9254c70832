package caldav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// An object roomcal cannot expand is never free time: every FREQ is read,
// a recurrence past the expansion bound is busy beyond it, and an object
// that cannot be read at all is busy over what is known of it, and
// reported.

// TestIcalSubDailyRules: MINUTELY and SECONDLY rules are read (the
// comparison with dateutil is in TestIcalRepeatedHourMatchesPython), and
// those rrule-go cannot run are found at parse time.
func TestIcalSubDailyRules(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		name     string
		lines    []string
		from, to string
		want     []string
	}{
		{"MINUTELY every 1440 minutes", []string{"DTSTART;TZID=Europe/Paris:20261124T100000", "DTEND;TZID=Europe/Paris:20261124T110000", "RRULE:FREQ=MINUTELY;INTERVAL=1440;COUNT=3"},
			"2026-11-01T00:00", "2026-12-01T00:00", []string{"2026-11-24T10:00/2026-11-24T11:00", "2026-11-25T10:00/2026-11-25T11:00", "2026-11-26T10:00/2026-11-26T11:00"}},
		{"SECONDLY every 86400 seconds", []string{"DTSTART;TZID=Europe/Paris:20261124T100000", "DURATION:PT1H", "RRULE:FREQ=SECONDLY;INTERVAL=86400;COUNT=3"},
			"2026-11-01T00:00", "2026-12-01T00:00", []string{"2026-11-24T10:00/2026-11-24T11:00", "2026-11-25T10:00/2026-11-25T11:00", "2026-11-26T10:00/2026-11-26T11:00"}},
		{"MINUTELY without end, started years ago", []string{"DTSTART;TZID=Europe/Paris:20200106T080000", "DURATION:PT20M", "RRULE:FREQ=MINUTELY;INTERVAL=90;BYHOUR=8,9,10,11"},
			"2026-11-24T00:00", "2026-11-25T00:00", []string{"2026-11-24T08:00/2026-11-24T08:20", "2026-11-24T09:30/2026-11-24T09:50", "2026-11-24T11:00/2026-11-24T11:20"}},
		{"SECONDLY without end, started months ago", []string{"DTSTART:20260601T000000Z", "DURATION:PT1M", "RRULE:FREQ=SECONDLY;INTERVAL=7200"},
			"2026-11-24T09:00", "2026-11-24T14:00", []string{"2026-11-24T09:00/2026-11-24T09:01", "2026-11-24T11:00/2026-11-24T11:01", "2026-11-24T13:00/2026-11-24T13:01"}},
		// rrule-go would loop forever: minutes 0, 20, 40 never hit 30.
		{"MINUTELY that never reaches its BYMINUTE", []string{"DTSTART:20261124T090000Z", "DURATION:PT5M", "RRULE:FREQ=MINUTELY;INTERVAL=20;BYMINUTE=30"},
			"2026-11-01T00:00", "2026-12-01T00:00", []string{"2026-11-24T10:00/2026-11-24T10:05"}},
		{"SECONDLY that never reaches its BYSECOND", []string{"DTSTART:20261124T090000Z", "DURATION:PT5M", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1,3"},
			"2026-11-01T00:00", "2026-12-01T00:00", []string{"2026-11-24T10:00/2026-11-24T10:05"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := ParseObject(icalEvObject(tt.lines...), p)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			var ins []Instance
			go func() {
				defer close(done)
				ins, err = it.Busy(icalAt(t, p, tt.from), icalAt(t, p, tt.to))
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Busy still running after 20s")
			}
			if got := icalFmt(ins, p); err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	for _, freq := range []string{"HOURLY", "MINUTELY", "SECONDLY"} {
		_, err := ParseObject(icalEvObject("DTSTART:20261124T090000Z", "RRULE:FREQ="+freq+";BYSETPOS=1"), p)
		if !errors.Is(err, ErrICalInvalid) || !strings.Contains(err.Error(), "BYSETPOS") {
			t.Errorf("FREQ=%s;BYSETPOS=1: error %v; want ErrICalInvalid naming BYSETPOS", freq, err)
		}
	}
}

// TestIcalSubDailySkipAheadMatchesFullWalk: starting a MINUTELY or
// SECONDLY rule near the window gives the occurrences a walk from DTSTART
// gives, across DST changes too.
func TestIcalSubDailySkipAheadMatchesFullWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(20271031))
	zones := []*time.Location{icalParis(t), icalLoc(t, "America/New_York"), icalLoc(t, "Australia/Lord_Howe"), time.UTC}
	// Windows around DST changes and in ordinary weeks.
	anchors := []time.Time{
		time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 11, 7, 4, 0, 0, 0, time.UTC), time.Date(2027, 4, 4, 14, 0, 0, 0, time.UTC),
		time.Date(2027, 6, 15, 10, 0, 0, 0, time.UTC),
	}
	compared := 0
	for i := 0; i < 200; i++ {
		loc := zones[rng.Intn(len(zones))]
		anchor := anchors[rng.Intn(len(anchors))]
		var rule string
		var start time.Time
		if rng.Intn(2) == 0 {
			n := []int{1, 5, 7, 15, 30, 45, 90, 100}[rng.Intn(8)]
			rule = fmt.Sprintf("FREQ=MINUTELY;INTERVAL=%d", n)
			if rng.Intn(3) == 0 {
				rule += fmt.Sprintf(";BYHOUR=%d,%d", rng.Intn(24), rng.Intn(24))
			}
			start = anchor.Add(-time.Duration(1+rng.Intn(8*24*60)) * time.Minute)
		} else {
			n := []int{1, 7, 30, 61, 600, 3600, 5400}[rng.Intn(7)]
			rule = fmt.Sprintf("FREQ=SECONDLY;INTERVAL=%d", n)
			if rng.Intn(3) == 0 {
				rule += fmt.Sprintf(";BYMINUTE=%d,%d", rng.Intn(60), rng.Intn(60))
			}
			start = anchor.Add(-time.Duration(1+rng.Intn(3*3600)) * time.Second)
		}
		start = start.In(loc).Truncate(time.Second)
		dtstart := "DTSTART;TZID=" + loc.String() + ":" + start.Format(icalDateTime)
		if loc == time.UTC {
			dtstart = "DTSTART:" + start.Format(icalDateTimeUTC)
		}
		it, err := ParseObject(icalEvObject(dtstart, "DURATION:PT"+fmt.Sprint(1+rng.Intn(40))+"M", "RRULE:"+rule), loc)
		if err != nil {
			t.Fatalf("%s %s: %v", dtstart, rule, err)
		}
		from := anchor.Add(time.Duration(rng.Intn(6*60)-3*60) * time.Minute)
		to := from.Add(time.Duration(1+rng.Intn(6*60)) * time.Minute)
		if sameAsWalking(t, it, from, to, loc, dtstart+" RRULE:"+rule) {
			compared++
		}
	}
	if compared < 190 {
		t.Errorf("only %d rules compared", compared)
	}
}

// TestIcalExpandBeyondTheBound: a rule with more occurrences than
// MaxExpandSteps in the window gives those walked, then one Beyond
// instance up to the end of the recurrence or of the window, and an
// ErrTooManyInstances error: nothing after the bound is free.
func TestIcalExpandBeyondTheBound(t *testing.T) {
	p := icalParis(t)
	from, to := icalAt(t, p, "2027-01-01T00:00"), icalAt(t, p, "2027-03-01T00:00")
	tests := []struct {
		name    string
		lines   []string
		restEnd time.Time
	}{
		{"every minute, no end", []string{"DTSTART;TZID=Europe/Paris:20261201T000000", "DURATION:PT1M", "SUMMARY:Capteur", "RRULE:FREQ=MINUTELY"}, to},
		{"every 30 seconds until February", []string{"DTSTART;TZID=Europe/Paris:20270101T000000", "DURATION:PT10S", "RRULE:FREQ=SECONDLY;INTERVAL=30;UNTIL=20270201T000000Z"},
			time.Date(2027, 2, 1, 0, 0, 10, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := ParseObject(icalEvObject(tt.lines...), p)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := it.Busy(from, to)
			var oe *ObjectError
			if !errors.Is(err, ErrTooManyInstances) || !errors.As(err, &oe) || oe.UID != "gen@example.org" {
				t.Fatalf("error = %v; want an *ObjectError for gen@example.org matching ErrTooManyInstances", err)
			}
			// The few occurrences walked before the window count too.
			if len(ins) < MaxExpandSteps-10 || len(ins) > MaxExpandSteps+1 {
				t.Fatalf("%d instances; want about %d walked and one beyond", len(ins), MaxExpandSteps)
			}
			last, rest := ins[len(ins)-2], ins[len(ins)-1]
			if last.Beyond || !rest.Beyond {
				t.Fatalf("Beyond marks: last walked %v, rest %v", last.Beyond, rest.Beyond)
			}
			if !rest.Start.After(last.Start) || rest.Start.Sub(last.Start) > time.Minute || !rest.End.Equal(tt.restEnd) || !rest.IsBusy() {
				t.Errorf("rest = %s to %s after %s; want the next occurrence on, to %s", rest.Start, rest.End, last.Start, tt.restEnd)
			}
			if !strings.Contains(err.Error(), rest.Start.Format(time.RFC3339)) {
				t.Errorf("error %q does not say from when the rest is counted busy (%s)", err, rest.Start.Format(time.RFC3339))
			}
			if in, err := it.Instances(from, to); !errors.Is(err, ErrTooManyInstances) || !in[len(in)-1].Beyond {
				t.Errorf("Instances: %d, %v; want the same bound", len(in), err)
			}
		})
	}
}

// TestObjectBusyWhatIsKnown: ObjectBusy reads an object it cannot expand
// as busy over what is known of it, with the reason; one it reads is
// expanded as Busy does.
func TestObjectBusyWhatIsKnown(t *testing.T) {
	p := icalParis(t)
	from, to := icalAt(t, p, "2026-11-01T00:00"), icalAt(t, p, "2027-01-01T00:00")
	obj := func(lines ...string) []byte { return icalEvObject(lines...).Data }
	tests := []struct {
		name string
		data []byte
		want []string // busy, in Paris time
		err  error    // nil: read whole
	}{
		{"readable", obj("DTSTART:20261124T150000Z", "DURATION:PT1H", "RRULE:FREQ=MINUTELY;INTERVAL=1440;COUNT=2"),
			[]string{"2026-11-24T16:00/2026-11-24T17:00", "2026-11-25T16:00/2026-11-25T17:00"}, nil},
		{"bad-rrule.ics", icalFixture(t, "bad-rrule.ics").Data, []string{"2026-11-24T16:00/2026-11-24T17:00"}, ErrICalInvalid},
		{"HOURLY with BYSETPOS", obj("DTSTART;TZID=Europe/Paris:20261124T150000", "DTEND;TZID=Europe/Paris:20261124T153000", "RRULE:FREQ=HOURLY;BYSETPOS=2"),
			[]string{"2026-11-24T15:00/2026-11-24T15:30"}, ErrICalInvalid},
		// An unknown zone is taken as the site's.
		{"bad-unknown-tzid.ics", icalFixture(t, "bad-unknown-tzid.ics").Data, []string{"2026-11-24T15:00/2026-11-24T16:00"}, ErrUnknownTZID},
		// An end before the start: busy to the end of the day.
		{"bad-end-before-start.ics", icalFixture(t, "bad-end-before-start.ics").Data, []string{"2026-11-24T16:00/2026-11-25T00:00"}, ErrICalInvalid},
		// Cut off before its end: the end it lost is the end of the day.
		{"bad-unterminated.ics", icalFixture(t, "bad-unterminated.ics").Data, []string{"2026-11-24T16:00/2026-11-25T00:00"}, ErrICalSyntax},
		{"malformed line elsewhere", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:m@example.org\r\nDTSTART;TZID=Europe/Paris:20261130T09\r\n 3000\r\n" +
			"DTEND;TZID=Europe/Paris:20261130T103000\r\nX-BROKEN;A=\"b\r\nSUMMARY:Réunion\r\nBEGIN:VALARM\r\nDTSTART:20261130T000000Z\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
			[]string{"2026-11-30T09:30/2026-11-30T10:30"}, ErrICalSyntax},
		{"transparent", obj("DTSTART:20261124T150000Z", "DURATION:PT1H", "TRANSP:TRANSPARENT", "RRULE:FREQ=YEARLY;BYSETPOS=1;BYMONTH=13"), []string{}, ErrICalInvalid},
		{"bad-no-dtstart.ics", icalFixture(t, "bad-no-dtstart.ics").Data, []string{}, ErrICalInvalid},
		{"bad-param-no-colon.ics", icalFixture(t, "bad-param-no-colon.ics").Data, []string{}, ErrICalSyntax},
		{"two UIDs, each first instance", []byte(strings.Replace(string(obj("DTSTART:20261124T150000Z", "DURATION:PT1H")), "END:VEVENT\r\n",
			"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:other@example.org\r\nDTSTART:20261125T150000Z\r\nDURATION:PT2H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n", 1)),
			[]string{"2026-11-24T16:00/2026-11-24T17:00", "2026-11-25T16:00/2026-11-25T18:00"}, ErrICalInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := ObjectBusy(Object{Name: "x.ics", Data: tt.data}, p, from, to)
			if got := icalFmt(ins, p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v; want %v", got, tt.want)
			}
			if tt.err == nil {
				if err != nil {
					t.Errorf("error = %v; want none", err)
				}
				return
			}
			var oe *ObjectError
			if !errors.Is(err, tt.err) || !errors.As(err, &oe) || oe.Name != "x.ics" {
				t.Errorf("error = %v; want an *ObjectError naming x.ics matching %v", err, tt.err)
			}
		})
	}
}

// TestUnreadableObjectsAreBusy: objects put straight on the server that
// roomcal could not expand before (FREQ=MINUTELY, SECONDLY) are read; one
// it cannot read is busy over what is known and listed as a problem; a
// runaway rule is busy past the bound and listed; through Read, Changes
// and Busy, on the embedded store and on Radicale.
func TestUnreadableObjectsAreBusy(t *testing.T) {
	p := icalParis(t)
	room := booking.Room{ID: "loire", SiteID: "nantes", Name: "Loire", Calendar: "loire"}
	day := func(d int, hm string) time.Time { return icalAt(t, p, fmt.Sprintf("2027-01-%02dT%s", d, hm)) }
	w := booking.Interval{Start: day(1, "00:00"), End: icalAt(t, p, "2027-04-01T00:00")}
	ev := func(uid string, lines ...string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Thunderbird//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261201T090000Z\r\n" +
			strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	objects := []struct {
		name    string
		data    []byte
		busy    []string // the first intervals, Paris time
		n       int      // how many intervals in w (-1: MaxExpandSteps or about, and one beyond)
		problem error    // nil: read whole, no problem
	}{
		{"minutely.ics", ev("minutely", "SUMMARY:Tous les 1440 minutes", "DTSTART;TZID=Europe/Paris:20270111T100000", "DTEND;TZID=Europe/Paris:20270111T110000",
			"RRULE:FREQ=MINUTELY;INTERVAL=1440;COUNT=3"),
			[]string{"2027-01-11T10:00/2027-01-11T11:00", "2027-01-12T10:00/2027-01-12T11:00", "2027-01-13T10:00/2027-01-13T11:00"}, 3, nil},
		{"secondly.ics", ev("secondly", "DTSTART;TZID=Europe/Paris:20270114T140000", "DURATION:PT30M", "RRULE:FREQ=SECONDLY;INTERVAL=86400;COUNT=2"),
			[]string{"2027-01-14T14:00/2027-01-14T14:30", "2027-01-15T14:00/2027-01-15T14:30"}, 2, nil},
		// (BYSETPOS with FREQ=HOURLY would do too, but Radicale 3.1.8
		// hangs on it.)
		{"setpos.ics", ev("setpos", "SUMMARY:Règle illisible", "DTSTART;TZID=Europe/Paris:20270118T090000", "DTEND;TZID=Europe/Paris:20270118T100000",
			"RRULE:FREQ=SECONDLY;BYSETPOS=1;COUNT=3"),
			[]string{"2027-01-18T09:00/2027-01-18T10:00"}, 1, ErrICalInvalid},
		// What Outlook sends without its VTIMEZONE: taken as the site's zone.
		{"outlook.ics", ev("outlook", "SUMMARY:Comité", "DTSTART;TZID=W. Europe Standard Time:20270119T140000", "DTEND;TZID=W. Europe Standard Time:20270119T153000"),
			[]string{"2027-01-19T14:00/2027-01-19T15:30"}, 1, ErrUnknownTZID},
		{"two-rules.ics", ev("two-rules", "DTSTART:20270121T080000Z", "DTEND:20270121T090000Z", "RRULE:FREQ=DAILY;COUNT=2", "RRULE:FREQ=WEEKLY;COUNT=2"),
			[]string{"2027-01-21T09:00/2027-01-21T10:00"}, 1, ErrICalInvalid},
		{"runaway.ics", ev("runaway", "SUMMARY:Chaque minute", "DTSTART;TZID=Europe/Paris:20270120T080000", "DURATION:PT1M", "RRULE:FREQ=MINUTELY"),
			[]string{"2027-01-20T08:00/2027-01-20T08:01", "2027-01-20T08:01/2027-01-20T08:02"}, -1, ErrTooManyInstances},
	}
	for _, st := range testStores() {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			store := st.open(t)
			if err := store.CreateCalendar(ctx, room.Calendar, room.Name); err != nil {
				t.Fatal(err)
			}
			rc := NewRoomCalendars(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
			// The calendar is empty at this token: Changes from it
			// lists every object below.
			first, err := rc.Changes(ctx, room, p, "", nil, w)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objects {
				if _, err := store.Create(ctx, room.Calendar, o.name, o.data); err != nil {
					t.Fatalf("put %s straight on the server: %v", o.name, err)
				}
			}
			check := func(t *testing.T, states map[string]booking.ObjectState, problems []booking.ObjectProblem) {
				t.Helper()
				listed := map[string]error{}
				for _, pr := range problems {
					listed[pr.Ref] = pr.Err
				}
				for _, o := range objects {
					ref := refOf(o.name)
					bs := states[ref].Busy
					if n := len(bs); (o.n >= 0 && n != o.n) || (o.n < 0 && (n < MaxExpandSteps-10 || n > MaxExpandSteps+1)) {
						t.Errorf("%s: %d busy intervals; want %d", o.name, n, o.n)
						continue
					}
					got := []string{}
					for _, b := range bs[:len(o.busy)] {
						got = append(got, icalFmtSpan(b.Start, b.End, p))
					}
					if !reflect.DeepEqual(got, o.busy) {
						t.Errorf("%s: busy %v; want %v", o.name, got, o.busy)
					}
					if o.problem == nil {
						if err := listed[ref]; err != nil {
							t.Errorf("%s: listed as a problem: %v", o.name, err)
						}
						continue
					}
					if err := listed[ref]; !errors.Is(err, o.problem) {
						t.Errorf("%s: problem %v; want one matching %v", o.name, err, o.problem)
					}
				}
				if rb := states["runaway"].Busy; len(rb) > 0 {
					if last := rb[len(rb)-1]; !last.End.Equal(w.End) || last.Start.After(rb[len(rb)-2].End) {
						t.Errorf("runaway: the rest past the bound is %s to %s; want it busy to the end of the window", last.Start, last.End)
					}
				}
			}
			t.Run("Read", func(t *testing.T) {
				snap, problems, err := rc.Read(ctx, room, p, w)
				if err != nil {
					t.Fatal(err)
				}
				check(t, snap.Objects, problems)
			})
			t.Run("Changes", func(t *testing.T) {
				d, err := rc.Changes(ctx, room, p, first.Token, map[string]string{}, w)
				if err != nil {
					t.Fatal(err)
				}
				check(t, d.Put, d.Problems)
			})
			t.Run("Busy", func(t *testing.T) {
				busy, problems, err := rc.Busy(ctx, room, p, w.Start, w.End)
				if err != nil {
					t.Fatal(err)
				}
				states := map[string]booking.ObjectState{}
				for _, b := range busy {
					s := states[b.Ref]
					s.Busy = append(s.Busy, b)
					states[b.Ref] = s
				}
				check(t, states, problems)
			})
		})
	}
}
