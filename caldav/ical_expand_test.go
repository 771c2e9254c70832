package caldav

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

// icalBusyIn parses every UID of an export and returns the busy intervals of
// [from, to) as Paris wall times, sorted by start.
func icalBusyIn(t *testing.T, items []*Item, from, to time.Time) []string {
	t.Helper()
	var all []Instance
	for _, it := range items {
		ins, err := it.Busy(from, to)
		if err != nil {
			t.Fatalf("Busy(%s): %v", it.UID, err)
		}
		all = append(all, ins...)
	}
	// Stable order across items: by start.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].Start.Before(all[j-1].Start); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	return icalFmt(all, icalParis(t))
}

func TestIcalBusyNextcloudExport(t *testing.T) {
	p := icalParis(t)
	items, errs := ParseCalendar("room.ics", icalFixture(t, "room-calendar-nextcloud-export.ics").Data, p)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"week of 2026-11-23", "2026-11-23T00:00", "2026-11-30T00:00", []string{
			"2026-11-23T09:30/2026-11-23T11:00", "2026-11-24T14:00/2026-11-24T16:30",
		}},
		{"week of 2026-11-02 (EXDATE)", "2026-11-02T00:00", "2026-11-09T00:00", []string{}},
		{"week of 2026-11-09 (moved)", "2026-11-09T00:00", "2026-11-16T00:00", []string{"2026-11-09T14:00/2026-11-09T16:00"}},
		{"week of 2026-12-21 (closure)", "2026-12-21T00:00", "2026-12-28T00:00", []string{
			"2026-12-21T09:30/2026-12-21T11:00", "2026-12-25T00:00/2026-12-26T00:00",
		}},
		{"week of 2026-12-28 (second EXDATE value)", "2026-12-28T00:00", "2027-01-04T00:00", []string{}},
		{"floating time", "2026-12-03T00:00", "2026-12-04T00:00", []string{"2026-12-03T12:30/2026-12-03T13:30"}},
		{"DST night", "2027-03-27T00:00", "2027-03-29T00:00", []string{"2027-03-27T22:00/2027-03-28T06:00"}},
		{"first Monday in summer time keeps 09:30", "2027-03-29T00:00", "2027-03-30T00:00", []string{"2027-03-29T09:30/2027-03-29T11:00"}},
		{"last occurrence (UNTIL in UTC)", "2027-06-21T00:00", "2027-07-12T00:00", []string{
			"2027-06-21T09:30/2027-06-21T11:00", "2027-06-28T09:30/2027-06-28T11:00",
		}},
		{"window ends at a start", "2026-11-23T00:00", "2026-11-23T09:30", []string{}},
		{"window starts at an end", "2026-11-23T11:00", "2026-11-23T12:00", []string{}},
		{"window inside an instance", "2026-11-23T10:00", "2026-11-23T10:01", []string{"2026-11-23T09:30/2026-11-23T11:00"}},
		{"empty window", "2026-11-23T10:00", "2026-11-23T10:00", []string{}},
		{"before DTSTART", "2026-09-01T00:00", "2026-10-05T00:00", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := icalBusyIn(t, items, icalAt(t, p, tt.from), icalAt(t, p, tt.to))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestIcalBusyNextcloudExportDetails(t *testing.T) {
	p := icalParis(t)
	items, _ := ParseCalendar("room.ics", icalFixture(t, "room-calendar-nextcloud-export.ics").Data, p)
	byUID := map[string]*Item{}
	for _, it := range items {
		byUID[strings.TrimSuffix(it.UID, "@example.org")] = it
	}
	year := func(it *Item) []Instance {
		t.Helper()
		ins, err := it.Instances(icalAt(t, p, "2026-01-01T00:00"), icalAt(t, p, "2028-01-01T00:00"))
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}

	night := year(byUID["dst-night-shift"])
	if len(night) != 1 || night[0].End.Sub(night[0].Start) != 7*time.Hour {
		t.Errorf("dst-night-shift = %v; want one instance of 7 real hours", night)
	}
	closure := year(byUID["closure-2026-12-25"])
	if len(closure) != 1 || !closure[0].AllDay || !closure[0].Start.Equal(icalAt(t, p, "2026-12-25T00:00")) ||
		!closure[0].End.Equal(icalAt(t, p, "2026-12-26T00:00")) {
		t.Errorf("closure = %v; want 2026-12-25 00:00 → 2026-12-26 00:00 Paris", closure)
	}
	for _, uid := range []string{"tentative-hold", "cancelled-talk"} {
		all := year(byUID[uid])
		busy, err := byUID[uid].Busy(icalAt(t, p, "2026-01-01T00:00"), icalAt(t, p, "2028-01-01T00:00"))
		if err != nil || len(busy) != 0 || len(all) != 1 || all[0].IsBusy() {
			t.Errorf("%s: busy %v (%v), all %v; want not busy but listed by Instances", uid, busy, err, all)
		}
	}
	if all := year(byUID["cancelled-talk"]); all[0].Status != "CANCELLED" {
		t.Errorf("cancelled-talk status = %q", all[0].Status)
	}
	if all := year(byUID["tentative-hold"]); !all[0].Transparent {
		t.Error("tentative-hold not transparent")
	}

	weekly := byUID["weekly-coop-meeting"]
	all := year(weekly)
	if len(all) != 37 { // 39 Mondays from 2026-10-05 to 2027-06-28, minus 2 EXDATEs
		t.Errorf("weekly meeting has %d instances; want 37", len(all))
	}
	var moved Instance
	for _, in := range all {
		if !in.RecurrenceID.Equal(in.Start) {
			moved = in
		}
		if in.UID != "weekly-coop-meeting@example.org" || in.Organizer != "sophie@example.org" || in.OrganizerName != "Sophie" {
			t.Errorf("instance %v: UID %q organizer %q %q", in.Start, in.UID, in.Organizer, in.OrganizerName)
		}
	}
	if !moved.RecurrenceID.Equal(icalAt(t, p, "2026-11-09T09:30")) || moved.Summary != "Réunion d'équipe d'appui (déplacée)" {
		t.Errorf("moved instance = %+v", moved)
	}
	if want := "Ordre du jour : accueil, point budget; questions diverses.\nApporter les chiffres du trimestre."; all[0].Description != want {
		t.Errorf("description = %q; want %q", all[0].Description, want)
	}
	if !weekly.Recurring() || byUID["utc-workshop"].Recurring() {
		t.Error("Recurring() wrong")
	}
	if single := year(byUID["utc-workshop"]); !single[0].RecurrenceID.IsZero() {
		t.Errorf("single event has RecurrenceID %v", single[0].RecurrenceID)
	}
	if evs := weekly.Events(); len(evs) != 2 || !evs[0].RecurrenceID.IsZero() || !evs[1].RecurrenceID.Equal(icalAt(t, p, "2026-11-09T09:30")) {
		t.Errorf("Events() = %+v", evs)
	}
}

func TestIcalExpandEdgeFixtures(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		file     string
		from, to string
		busy     []string
		all      []string // Instances, when it differs from busy
	}{
		{"edge-rdate-exdate-lines.ics", "2026-11-01T00:00", "2026-12-01T00:00", []string{
			"2026-11-03T10:00/2026-11-03T11:00",
			"2026-11-05T16:00/2026-11-05T17:00", // RDATE, two values on one line
			"2026-11-06T16:00/2026-11-06T17:00",
			"2026-11-12T14:00/2026-11-12T17:00", // RDATE;VALUE=PERIOD with a duration
			"2026-11-13T09:00/2026-11-13T09:30", // PERIOD with an end
			"2026-11-24T10:00/2026-11-24T11:00", // 11-10 and 11-17 removed by two EXDATE lines
		}, nil},
		{"edge-cancelled-override.ics", "2026-11-01T00:00", "2026-12-07T00:00", []string{
			"2026-11-02T10:00/2026-11-02T11:00",
			"2026-11-18T15:00/2026-11-18T17:00", // 11-16 moved (RECURRENCE-ID in UTC)
			"2026-11-30T10:00/2026-11-30T11:00",
		}, []string{
			"2026-11-02T10:00/2026-11-02T11:00",
			"2026-11-09T10:00/2026-11-09T11:00", // cancelled
			"2026-11-18T15:00/2026-11-18T17:00",
			"2026-11-23T10:00/2026-11-23T11:00", // transparent
			"2026-11-30T10:00/2026-11-30T11:00",
		}},
		{"edge-allday-recurring.ics", "2027-03-01T00:00", "2027-05-01T00:00", []string{
			"2027-03-13T00:00/2027-03-15T00:00",
			"2027-03-27T00:00/2027-03-29T00:00", // 47 real hours: DST on 03-28
			"2027-04-03T00:00/2027-04-05T00:00", // UNTIL as a date includes that day
		}, nil},
		{"edge-overrides-only.ics", "2026-12-01T00:00", "2026-12-02T00:00", []string{"2026-12-01T10:30/2026-12-01T11:30"}, nil},
		{"edge-sloppy-recurrence.ics", "2026-11-01T00:00", "2027-01-01T00:00", []string{
			"2026-12-01T18:00/2026-12-01T19:00", "2026-12-02T18:00/2026-12-02T19:00",
			"2026-12-04T18:00/2026-12-04T19:00", "2026-12-05T18:00/2026-12-05T19:00",
		}, nil},
		{"edge-impossible-rule.ics", "2026-01-01T00:00", "2036-01-01T00:00", []string{"2026-12-01T10:00/2026-12-01T11:00"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			it := icalParseFixture(t, tt.file, p)
			from, to := icalAt(t, p, tt.from), icalAt(t, p, tt.to)
			busy, err := it.Busy(from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got := icalFmt(busy, p); !reflect.DeepEqual(got, tt.busy) {
				t.Errorf("busy = %v; want %v", got, tt.busy)
			}
			all, err := it.Instances(from, to)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.all
			if want == nil {
				want = tt.busy
			}
			if got := icalFmt(all, p); !reflect.DeepEqual(got, want) {
				t.Errorf("instances = %v; want %v", got, want)
			}
		})
	}
}

func TestIcalOverrideInheritsDescriptiveFields(t *testing.T) {
	p := icalParis(t)
	it := icalParseFixture(t, "edge-cancelled-override.ics", p)
	ins, err := it.Busy(icalAt(t, p, "2026-11-18T00:00"), icalAt(t, p, "2026-11-19T00:00"))
	if err != nil || len(ins) != 1 {
		t.Fatalf("busy = %v, %v", ins, err)
	}
	in := ins[0]
	if in.Summary != "Point hebdo" || in.Organizer != "sophie@example.org" || in.Props["X-ROOMCAL-BOOKED-BY"] != "sophie" {
		t.Errorf("override instance = %+v; want summary, organizer and X-ROOMCAL props of the master", in)
	}
	if !in.RecurrenceID.Equal(icalAt(t, p, "2026-11-16T10:00")) {
		t.Errorf("RecurrenceID = %v", in.RecurrenceID)
	}
	if it.Master() == nil || len(it.Events()) != 4 {
		t.Errorf("Events() has %d events", len(it.Events()))
	}
	if m := icalParseFixture(t, "edge-overrides-only.ics", p); m.Master() != nil || len(m.Events()) != 1 || !m.Recurring() {
		t.Errorf("overrides-only: master %v, %d events", m.Master(), len(m.Events()))
	}
}

// TestIcalBusyConcurrent runs queries on shared items from several
// goroutines (meaningful under -race: rrule-go's RRule is not safe to
// share, each query builds its own).
func TestIcalBusyConcurrent(t *testing.T) {
	p := icalParis(t)
	items, _ := ParseCalendar("room.ics", icalFixture(t, "room-calendar-nextcloud-export.ics").Data, p)
	from, to := icalAt(t, p, "2026-11-23T00:00"), icalAt(t, p, "2026-11-30T00:00")
	want := icalBusyIn(t, items, from, to)
	done := make(chan []string)
	for g := 0; g < 8; g++ {
		go func() {
			var got []string
			for i := 0; i < 20; i++ {
				got = nil
				for _, it := range items {
					ins, err := it.Busy(from, to)
					if err != nil {
						got = append(got, err.Error())
					}
					got = append(got, icalFmt(ins, p)...)
				}
			}
			done <- got
		}()
	}
	for g := 0; g < 8; g++ {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("concurrent busy = %v; want %v", got, want)
		}
	}
}

// icalEvObject builds a one-event object for expansion tests.
func icalEvObject(lines ...string) Object {
	return Object{Name: "gen.ics", Data: []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:gen@example.org\r\n" +
		"DTSTAMP:20261101T090000Z\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")}
}

func TestIcalExpandRules(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		name     string
		lines    []string
		from, to string
		want     []string
	}{
		{"zero-length event is not busy", []string{"DTSTART;TZID=Europe/Paris:20261201T100000"},
			"2026-12-01T00:00", "2026-12-02T00:00", []string{}},
		{"all-day without DTEND lasts a day", []string{"DTSTART;VALUE=DATE:20261201"},
			"2026-12-01T00:00", "2026-12-05T00:00", []string{"2026-12-01T00:00/2026-12-02T00:00"}},
		{"nominal DURATION keeps wall time across DST", []string{"DTSTART;TZID=Europe/Paris:20270327T120000", "DURATION:P1D"},
			"2027-03-27T00:00", "2027-03-30T00:00", []string{"2027-03-27T12:00/2027-03-28T12:00"}},
		{"DTEND gives an exact duration to every instance", []string{
			"DTSTART;TZID=Europe/Paris:20270326T220000", "DTEND;TZID=Europe/Paris:20270327T060000", "RRULE:FREQ=DAILY;COUNT=2",
		}, "2027-03-26T00:00", "2027-03-30T00:00", []string{
			"2027-03-26T22:00/2027-03-27T06:00", "2027-03-27T22:00/2027-03-28T07:00",
		}},
		{"monthly last Friday", []string{
			"DTSTART;TZID=Europe/Paris:20261030T170000", "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
		}, "2026-10-01T00:00", "2027-06-01T00:00", []string{
			"2026-10-30T17:00/2026-10-30T18:00", "2026-11-27T17:00/2026-11-27T18:00", "2026-12-25T17:00/2026-12-25T18:00",
		}},
		{"DTSTART off the rule still counts", []string{
			"DTSTART;TZID=Europe/Paris:20261201T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=2",
		}, "2026-12-01T00:00", "2026-12-31T00:00", []string{
			"2026-12-01T09:00/2026-12-01T10:00", "2026-12-03T09:00/2026-12-03T10:00", "2026-12-10T09:00/2026-12-10T10:00",
		}},
		{"weekly rule started years ago", []string{
			"DTSTART;TZID=Europe/Paris:20100104T083000", "DURATION:PT30M", "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
		}, "2026-11-30T00:00", "2026-12-14T00:00", []string{
			"2026-11-30T08:30/2026-11-30T09:00", "2026-12-02T08:30/2026-12-02T09:00",
		}},
		{"an instance that began before the window", []string{
			"DTSTART;VALUE=DATE:20261201", "DTEND;VALUE=DATE:20261211", "RRULE:FREQ=MONTHLY",
		}, "2027-02-05T00:00", "2027-02-06T00:00", []string{"2027-02-01T00:00/2027-02-11T00:00"}},
		{"RDATE on a rule occurrence is one instance", []string{
			"DTSTART:20261201T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=2", "RDATE:20261202T090000Z",
		}, "2026-12-01T00:00", "2026-12-05T00:00", []string{"2026-12-01T10:00/2026-12-01T11:00", "2026-12-02T10:00/2026-12-02T11:00"}},
		{"EXDATE on DTSTART", []string{
			"DTSTART:20261201T090000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=2", "EXDATE:20261201T090000Z",
		}, "2026-12-01T00:00", "2026-12-05T00:00", []string{"2026-12-02T10:00/2026-12-02T11:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := ParseObject(icalEvObject(tt.lines...), p)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := it.Busy(icalAt(t, p, tt.from), icalAt(t, p, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got := icalFmt(ins, p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestIcalExpandZeroLengthInInstances(t *testing.T) {
	p := icalParis(t)
	it, err := ParseObject(icalEvObject("DTSTART;TZID=Europe/Paris:20261201T100000"), p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to string
		n        int
	}{
		{"2026-12-01T10:00", "2026-12-01T11:00", 1},
		{"2026-12-01T09:00", "2026-12-01T10:00", 0},
		{"2026-12-01T10:01", "2026-12-01T11:00", 0},
	}
	for _, tt := range tests {
		ins, err := it.Instances(icalAt(t, p, tt.from), icalAt(t, p, tt.to))
		if err != nil || len(ins) != tt.n {
			t.Errorf("Instances(%s, %s) = %v, %v; want %d", tt.from, tt.to, ins, err, tt.n)
		}
	}
}

func TestIcalExpandGuards(t *testing.T) {
	p := icalParis(t)
	t.Run("too many occurrences", func(t *testing.T) {
		it, err := ParseObject(icalEvObject("DTSTART:20200101T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY"), p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = it.Busy(icalAt(t, p, "2021-01-01T00:00"), icalAt(t, p, "2040-01-01T00:00"))
		var oe *ObjectError
		if !errors.Is(err, ErrTooManyInstances) || !errors.As(err, &oe) || oe.UID != "gen@example.org" {
			t.Fatalf("error = %v; want an *ObjectError for gen@example.org matching ErrTooManyInstances", err)
		}
		ins, err := it.Busy(icalAt(t, p, "2035-06-01T00:00"), icalAt(t, p, "2035-06-02T00:00"))
		if err != nil || len(ins) != 24 {
			t.Errorf("one day of an hourly rule: %d instances, %v; want 24", len(ins), err)
		}
	})
	t.Run("hourly rule that never reaches its BYHOUR", func(t *testing.T) {
		// rrule-go loops forever on this one (hours 0, 3, 6, … never hit 1).
		it, err := ParseObject(icalEvObject("DTSTART:20261201T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY;INTERVAL=3;BYHOUR=1,5"), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		ins, err := it.Busy(icalAt(t, time.UTC, "2026-11-01T00:00"), icalAt(t, time.UTC, "2027-01-01T00:00"))
		if got := icalFmt(ins, time.UTC); err != nil || !reflect.DeepEqual(got, []string{"2026-12-01T00:00/2026-12-01T00:30"}) {
			t.Errorf("busy = %v, %v; want DTSTART only", got, err)
		}
		it, err = ParseObject(icalEvObject("DTSTART:20261201T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY;INTERVAL=3;BYHOUR=1,6;COUNT=3"), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		ins, err = it.Busy(icalAt(t, time.UTC, "2026-11-01T00:00"), icalAt(t, time.UTC, "2027-01-01T00:00"))
		want := []string{"2026-12-01T00:00/2026-12-01T00:30", "2026-12-01T06:00/2026-12-01T06:30", "2026-12-02T06:00/2026-12-02T06:30", "2026-12-03T06:00/2026-12-03T06:30"}
		if got := icalFmt(ins, time.UTC); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("busy = %v, %v; want %v", got, err, want)
		}
	})
	t.Run("huge COUNT", func(t *testing.T) {
		it, err := ParseObject(icalEvObject("DTSTART:20200101T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY;COUNT=1000000"), p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := it.Busy(icalAt(t, p, "2035-01-01T00:00"), icalAt(t, p, "2035-01-02T00:00")); !errors.Is(err, ErrTooManyInstances) {
			t.Errorf("error = %v; want ErrTooManyInstances", err)
		}
		ins, err := it.Busy(icalAt(t, time.UTC, "2020-01-01T00:00"), icalAt(t, time.UTC, "2020-01-02T00:00"))
		if err != nil || len(ins) != 24 {
			t.Errorf("first day: %d instances, %v; want 24", len(ins), err)
		}
		if _, end := it.Span(); !end.IsZero() {
			t.Errorf("Span end = %v; want zero (not resolved)", end)
		}
	})
}

func TestIcalSpan(t *testing.T) {
	p := icalParis(t)
	items, _ := ParseCalendar("room.ics", icalFixture(t, "room-calendar-nextcloud-export.ics").Data, p)
	tests := []struct {
		uid        string
		start, end string // end "" means unbounded
	}{
		{"weekly-coop-meeting@example.org", "2026-10-05T09:30", "2027-06-28T11:00"},
		{"dst-night-shift@example.org", "2027-03-27T22:00", "2027-03-28T06:00"},
		{"closure-2026-12-25@example.org", "2026-12-25T00:00", "2026-12-26T00:00"},
	}
	for _, tt := range tests {
		for _, it := range items {
			if it.UID != tt.uid {
				continue
			}
			s, e := it.Span()
			if !s.Equal(icalAt(t, p, tt.start)) || e.Before(icalAt(t, p, tt.end)) || e.After(icalAt(t, p, tt.end).Add(48*time.Hour)) {
				t.Errorf("%s: Span = %v, %v; want %s and at least %s", tt.uid, s, e, tt.start, tt.end)
			}
		}
	}
	it, err := ParseObject(icalEvObject("DTSTART:20261201T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY"), p)
	if err != nil {
		t.Fatal(err)
	}
	if s, e := it.Span(); !s.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) || !e.IsZero() {
		t.Errorf("endless rule: Span = %v, %v; want DTSTART and zero", s, e)
	}
}

// TestIcalExpandSkipAheadMatchesFullWalk checks that starting the rule near
// the window (skipStart) gives the instances a walk from DTSTART gives,
// over many generated rules.
func TestIcalExpandSkipAheadMatchesFullWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(20261123))
	zones := []*time.Location{icalParis(t), icalLoc(t, "America/New_York"), icalLoc(t, "Australia/Sydney"), time.UTC}
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
	pick := func(n int, f func() string) string {
		seen := map[string]bool{}
		var out []string
		for i := 0; i < n; i++ {
			if v := f(); !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		return strings.Join(out, ",")
	}
	compared := 0
	for i := 0; i < 400; i++ {
		freq := []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"}[rng.Intn(5)]
		parts := []string{"FREQ=" + freq}
		if rng.Intn(2) == 0 {
			parts = append(parts, fmt.Sprintf("INTERVAL=%d", 1+rng.Intn(3)))
		}
		switch freq {
		case "YEARLY":
			if rng.Intn(2) == 0 {
				parts = append(parts, "BYMONTH="+pick(1+rng.Intn(2), func() string { return fmt.Sprint(1 + rng.Intn(12)) }))
			}
			if rng.Intn(2) == 0 {
				parts = append(parts, fmt.Sprintf("BYDAY=%d%s", []int{1, 2, -1}[rng.Intn(3)], days[rng.Intn(7)]))
			}
		case "MONTHLY":
			switch rng.Intn(3) {
			case 0:
				parts = append(parts, "BYMONTHDAY="+pick(2, func() string { return fmt.Sprint([]int{1, 15, 28, 31, -1}[rng.Intn(5)]) }))
			case 1:
				parts = append(parts, "BYDAY="+pick(2, func() string { return days[rng.Intn(5)] }), fmt.Sprintf("BYSETPOS=%d", []int{1, 2, -1}[rng.Intn(3)]))
			}
		case "WEEKLY":
			if rng.Intn(2) == 0 {
				parts = append(parts, "BYDAY="+pick(3, func() string { return days[rng.Intn(7)] }))
			}
			if rng.Intn(3) == 0 {
				parts = append(parts, "WKST=SU")
			}
		case "DAILY":
			if rng.Intn(2) == 0 {
				parts = append(parts, "BYHOUR="+pick(2, func() string { return fmt.Sprint(rng.Intn(24)) }))
			}
		case "HOURLY":
			parts = append(parts, "BYHOUR="+pick(3, func() string { return fmt.Sprint(rng.Intn(24)) }))
		}
		switch rng.Intn(4) {
		case 0:
			parts = append(parts, fmt.Sprintf("COUNT=%d", 1+rng.Intn(400)))
		case 1:
			parts = append(parts, "UNTIL="+time.Date(2024+rng.Intn(6), time.Month(1+rng.Intn(12)), 1, 0, 0, 0, 0, time.UTC).Format(icalDateTimeUTC))
		}
		loc := zones[rng.Intn(len(zones))]
		start := time.Date(2015+rng.Intn(8), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), []int{0, 30}[rng.Intn(2)], 0, 0, loc)
		dtstart := "DTSTART;TZID=" + loc.String() + ":" + start.Format(icalDateTime)
		if loc == time.UTC {
			dtstart = "DTSTART:" + start.Format(icalDateTimeUTC)
		}
		rule := strings.Join(parts, ";")
		it, err := ParseObject(icalEvObject(dtstart, "DURATION:PT"+fmt.Sprint(1+rng.Intn(30))+"H", "RRULE:"+rule), loc)
		if err != nil {
			t.Fatalf("%s %s: %v", dtstart, rule, err)
		}
		from := time.Date(2023+rng.Intn(7), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), 0, 0, 0, loc)
		to := from.Add(time.Duration(1+rng.Intn(24*60)) * time.Hour)

		if sameAsWalking(t, it, from, to, loc, dtstart+" RRULE:"+rule) {
			compared++
		}
	}
	if compared < 300 {
		t.Errorf("only %d rules compared", compared)
	}
}

func TestIcalSkipStart(t *testing.T) {
	p := icalParis(t)
	d := time.Date(2010, 1, 31, 9, 30, 0, 0, p)
	target := time.Date(2026, 6, 15, 0, 0, 0, 0, p)
	for _, freq := range []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"} {
		rs, err := parseRule("FREQ="+freq+";INTERVAL=3", d, false)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := skipStart(d, rs.opt.Freq, rs.opt.Interval, target)
		if !ok || !s.Before(target) || target.Sub(s) > 3*2*366*24*time.Hour+3*366*24*time.Hour {
			t.Errorf("%s: skipStart = %v, %v; want a start shortly before %v", freq, s, ok, target)
		}
	}
	if _, ok := skipStart(d, 0, 1, d.AddDate(0, 0, -1)); ok {
		t.Error("skipStart moved a start backwards")
	}
}

// icalGenCalendar makes n calendar objects like a busy room's: mostly single
// bookings over a year, some weekly series with an EXDATE and an
// override, some daily ones.
func icalGenCalendar(n int) []Object {
	rng := rand.New(rand.NewSource(42))
	objs := make([]Object, 0, n)
	base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		uid := fmt.Sprintf("gen-%04d@example.org", i)
		day := base.AddDate(0, 0, rng.Intn(365))
		start := time.Date(day.Year(), day.Month(), day.Day(), 8+rng.Intn(10), []int{0, 15, 30, 45}[rng.Intn(4)], 0, 0, time.UTC)
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//gen//EN\r\n")
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Réservation %d\r\n", uid, i)
		fmt.Fprintf(&b, "DTSTART;TZID=Europe/Paris:%s\r\nDTEND;TZID=Europe/Paris:%s\r\n",
			start.Format(icalDateTime), start.Add(time.Duration(1+rng.Intn(3))*30*time.Minute).Format(icalDateTime))
		b.WriteString("ORGANIZER;CN=Membre:mailto:membre@example.org\r\nX-ROOMCAL-BOOKED-BY:membre\r\n")
		switch {
		case i%20 == 0:
			fmt.Fprintf(&b, "RRULE:FREQ=WEEKLY;UNTIL=%s\r\n", start.AddDate(1, 0, 0).Format(icalDateTimeUTC))
			fmt.Fprintf(&b, "EXDATE;TZID=Europe/Paris:%s\r\n", start.AddDate(0, 0, 14).Format(icalDateTime))
			b.WriteString("END:VEVENT\r\n")
			fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:%s\r\n", uid, start.AddDate(0, 0, 7).Format(icalDateTime))
			fmt.Fprintf(&b, "DTSTART;TZID=Europe/Paris:%s\r\nDURATION:PT1H\r\n", start.AddDate(0, 0, 8).Format(icalDateTime))
		case i%50 == 1:
			b.WriteString("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR\r\n")
		}
		b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
		objs = append(objs, Object{Name: ObjectName(uid), ETag: fmt.Sprint(i), Data: []byte(b.String())})
	}
	return objs
}

func TestIcalGeneratedCalendarExpands(t *testing.T) {
	p := icalParis(t)
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, p)
	to := from.AddDate(0, 3, 0)
	total := 0
	for _, obj := range icalGenCalendar(2000) {
		it, err := ParseObject(obj, p)
		if err != nil {
			t.Fatal(err)
		}
		ins, err := it.Busy(from, to)
		if err != nil {
			t.Fatal(err)
		}
		total += len(ins)
	}
	// Roughly a quarter of the single bookings, plus the series.
	if total < 1500 || total > 6000 {
		t.Errorf("%d busy instances in three months; the generator is off", total)
	}
}

// BenchmarkParseAndExpand2000 is a room rebuild: parse 2,000 objects and
// expand each over a 90-day window.
func BenchmarkParseAndExpand2000(b *testing.B) {
	p := icalParis(b)
	objs := icalGenCalendar(2000)
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, p)
	to := from.AddDate(0, 0, 90)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, obj := range objs {
			it, err := ParseObject(obj, p)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := it.Busy(from, to); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkExpand2000 expands 2,000 parsed objects over a week (the
// per-query cost once parsed).
func BenchmarkExpand2000(b *testing.B) {
	p := icalParis(b)
	var items []*Item
	for _, obj := range icalGenCalendar(2000) {
		it, err := ParseObject(obj, p)
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, p)
	to := from.AddDate(0, 0, 7)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, it := range items {
			if _, err := it.Busy(from, to); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// sameAsWalking expands it over [from, to) skipping ahead to the window,
// as Busy does, and again walking from DTSTART, and fails the test when
// they differ. It says false when the walk is too long to compare.
func sameAsWalking(t *testing.T, it *Item, from, to time.Time, loc *time.Location, what string) bool {
	t.Helper()
	fast, err := it.Busy(from, to)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	walk := *it
	m := *it.master
	rs := *it.master.rule
	rs.skippable = false
	m.rule = &rs
	walk.master = &m
	slow, err := walk.Busy(from, to)
	if errors.Is(err, ErrTooManyInstances) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if a, b := icalFmt(fast, loc), icalFmt(slow, loc); !reflect.DeepEqual(a, b) {
		t.Fatalf("%s over [%v, %v):\nskipping ahead %v\nwalking       %v", what, from, to, a, b)
	}
	return true
}
