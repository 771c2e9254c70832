package caldav

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// icalUnfold undoes line folding and returns the content lines.
func icalUnfold(t *testing.T, b []byte) []string {
	t.Helper()
	s := strings.ReplaceAll(string(b), "\r\n ", "")
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("output does not end with CRLF: %q", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

func icalLinesWith(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func icalEncodeParse(t *testing.T, loc *time.Location, evs ...Event) (*Item, []byte) {
	t.Helper()
	b, err := EncodeObject(evs)
	if err != nil {
		t.Fatalf("EncodeObject: %v", err)
	}
	it, err := ParseObject(Object{Name: ObjectName(evs[0].UID), Data: b}, loc)
	if err != nil {
		t.Fatalf("ParseObject of our own output: %v\n%s", err, b)
	}
	return it, b
}

var icalStamp = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func TestIcalEncodeRoundTrip(t *testing.T) {
	p := icalParis(t)
	ny := icalLoc(t, "America/New_York")
	tests := []struct {
		name     string
		loc      *time.Location // site zone for reading back
		evs      []Event
		from, to time.Time
		busy     []string // in loc
	}{
		{"single booking in Paris", p, []Event{{
			UID: "booking-1", Summary: "Réunion", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T16:00"),
			Organizer: Organizer{Name: "Amina", Email: "amina@example.org"}, Class: "CONFIDENTIAL", Transp: "OPAQUE",
			Status: "CONFIRMED", Sequence: 2, DTStamp: icalStamp, Created: icalStamp, LastModified: icalStamp,
			XProps: map[string]string{"X-ROOMCAL-BOOKED-BY": "amina", "X-ROOMCAL-ROOM": "salle-loire"},
		}}, icalAt(t, p, "2026-12-01T00:00"), icalAt(t, p, "2027-01-01T00:00"), []string{"2026-12-10T14:00/2026-12-10T16:00"}},
		{"UTC times", p, []Event{{
			UID: "utc", Start: time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 24, 15, 30, 0, 0, time.UTC), DTStamp: icalStamp,
		}}, icalAt(t, p, "2026-11-24T00:00"), icalAt(t, p, "2026-11-25T00:00"), []string{"2026-11-24T14:00/2026-11-24T16:30"}},
		{"all-day over the DST change", p, []Event{{
			UID: "allday", AllDay: true, Start: icalAt(t, p, "2027-03-27T00:00"), End: icalAt(t, p, "2027-03-29T00:00"), DTStamp: icalStamp,
		}}, icalAt(t, p, "2027-03-01T00:00"), icalAt(t, p, "2027-04-01T00:00"), []string{"2027-03-27T00:00/2027-03-29T00:00"}},
		{"weekly across DST with EXDATE and an override", p, []Event{
			{
				UID: "series", Summary: "Point", Start: icalAt(t, p, "2027-03-15T09:30"), End: icalAt(t, p, "2027-03-15T11:00"),
				RRule: "FREQ=WEEKLY;COUNT=4", ExDates: []time.Time{icalAt(t, p, "2027-03-22T09:30")}, DTStamp: icalStamp,
			},
			{
				UID: "series", Summary: "Point (déplacé)", RecurrenceID: icalAt(t, p, "2027-04-05T09:30"),
				Start: icalAt(t, p, "2027-04-06T15:00"), End: icalAt(t, p, "2027-04-06T16:00"), DTStamp: icalStamp,
			},
		}, icalAt(t, p, "2027-03-01T00:00"), icalAt(t, p, "2027-05-01T00:00"), []string{
			"2027-03-15T09:30/2027-03-15T11:00", "2027-03-29T09:30/2027-03-29T11:00", "2027-04-06T15:00/2027-04-06T16:00",
		}},
		{"New York rule with UNTIL, read by a Paris site", p, []Event{{
			UID: "ny", Start: time.Date(2027, 3, 5, 9, 0, 0, 0, ny), End: time.Date(2027, 3, 5, 10, 0, 0, 0, ny),
			RRule: "FREQ=WEEKLY;UNTIL=20270320T000000Z", DTStamp: icalStamp,
		}}, icalAt(t, p, "2027-03-01T00:00"), icalAt(t, p, "2027-04-01T00:00"), []string{
			// New York changes on 03-14, Paris on 03-28.
			"2027-03-05T15:00/2027-03-05T16:00", "2027-03-12T15:00/2027-03-12T16:00", "2027-03-19T14:00/2027-03-19T15:00",
		}},
		{"fixed offset written as UTC", p, []Event{{
			UID: "fixed", Start: time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("", 3600)),
			End: time.Date(2026, 12, 1, 11, 0, 0, 0, time.FixedZone("", 3600)), DTStamp: icalStamp,
		}}, icalAt(t, p, "2026-12-01T00:00"), icalAt(t, p, "2026-12-02T00:00"), []string{"2026-12-01T10:00/2026-12-01T11:00"}},
		{"RDATE and RDATE periods", p, []Event{{
			UID: "rdates", Start: icalAt(t, p, "2026-12-01T10:00"), End: icalAt(t, p, "2026-12-01T10:30"),
			RDates:   []time.Time{icalAt(t, p, "2026-12-03T10:00"), icalAt(t, p, "2026-12-04T10:00")},
			RPeriods: []Period{{Start: icalAt(t, p, "2026-12-04T14:00"), End: icalAt(t, p, "2026-12-04T18:00")}},
			DTStamp:  icalStamp,
		}}, icalAt(t, p, "2026-12-01T00:00"), icalAt(t, p, "2026-12-05T00:00"), []string{
			"2026-12-01T10:00/2026-12-01T10:30", "2026-12-03T10:00/2026-12-03T10:30", "2026-12-04T10:00/2026-12-04T10:30",
			"2026-12-04T14:00/2026-12-04T18:00",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, b := icalEncodeParse(t, tt.loc, tt.evs...)
			busy, err := it.Busy(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if got := icalFmt(busy, tt.loc); !reflect.DeepEqual(got, tt.busy) {
				t.Errorf("busy = %v; want %v\n%s", got, tt.busy, b)
			}
			got := it.Events()
			if len(got) != len(tt.evs) {
				t.Fatalf("read %d events; wrote %d", len(got), len(tt.evs))
			}
			for i := range got {
				want := tt.evs[i]
				if want.Start.Location().String() == "" { // written as UTC
					want.Start, want.End = want.Start.UTC(), want.End.UTC()
				}
				icalCheckEvent(t, got[i], want)
			}
			lines := icalUnfold(t, b)
			for _, l := range lines {
				if strings.Contains(l, "TZID=Local") {
					t.Errorf("TZID=Local written: %s", l)
				}
			}
			// One VTIMEZONE per TZID used, none for UTC.
			tzids := map[string]bool{}
			for _, l := range lines {
				if i := strings.Index(l, ";TZID="); i >= 0 {
					tzids[l[i+6:strings.IndexByte(l, ':')]] = true
				}
			}
			if n := len(icalLinesWith(lines, "BEGIN:VTIMEZONE")); n != len(tzids) {
				t.Errorf("%d VTIMEZONEs for TZIDs %v", n, tzids)
			}
			for tzid := range tzids {
				if len(icalLinesWith(lines, "TZID:"+tzid)) != 1 {
					t.Errorf("no VTIMEZONE for %s", tzid)
				}
			}
		})
	}
}

// TestIcalEncodeRoundTripFixtures writes back what was read and reads it
// again: the same events, the same instants (a weekly series with
// EXDATEs, an override and a DST change; a zone defined only by its
// VTIMEZONE).
func TestIcalEncodeRoundTripFixtures(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		file string
		uid  string
	}{
		{"room-calendar-nextcloud-export.ics", "weekly-coop-meeting@example.org"},
		{"room-calendar-nextcloud-export.ics", "closure-2026-12-25@example.org"},
		{"room-calendar-nextcloud-export.ics", "utc-workshop@example.org"},
		{"room-calendar-nextcloud-export.ics", "floating-yoga@example.org"},
		{"internal-event-with-attendees.ics", "formation-nuage-2026-12@example.org"},
		{"edge-outlook-tzid.ics", "040000008200E00074C5B7101A82E008000000001234@outlook"},
		{"edge-cancelled-override.ics", "overrides@example.org"},
		{"edge-rdate-exdate-lines.ics", "rdate-exdate@example.org"},
		{"edge-allday-recurring.ics", "allday-weekend@example.org"},
		{"edge-sloppy-recurrence.ics", "sloppy@example.org"}, // a date EXDATE becomes the occurrence it removed
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			items, errs := ParseCalendar(tt.file, icalFixture(t, tt.file).Data, p)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			var orig *Item
			for _, it := range items {
				if it.UID == tt.uid {
					orig = it
				}
			}
			if orig == nil {
				t.Fatalf("no %s in %s", tt.uid, tt.file)
			}
			again, b := icalEncodeParse(t, p, orig.Events()...)
			from, to := icalAt(t, p, "2026-01-01T00:00"), icalAt(t, p, "2028-01-01T00:00")
			a, err1 := orig.Instances(from, to)
			c, err2 := again.Instances(from, to)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(a) == 0 || !reflect.DeepEqual(icalFmt(a, time.UTC), icalFmt(c, time.UTC)) {
				t.Errorf("instances differ after a round trip:\nread    %v\nwritten %v\n%s", icalFmt(a, time.UTC), icalFmt(c, time.UTC), b)
			}
			for i := range a {
				if a[i].Summary != c[i].Summary || a[i].IsBusy() != c[i].IsBusy() || !a[i].RecurrenceID.Equal(c[i].RecurrenceID) {
					t.Errorf("instance %d: %+v became %+v", i, a[i], c[i])
				}
			}
			ge, we := again.Events(), orig.Events()
			for i := range we {
				icalCheckEvent(t, ge[i], we[i])
			}
			// Reading our own output again gives the same bytes.
			if b2, err := EncodeObject(ge); err != nil || !bytes.Equal(b, b2) {
				t.Errorf("second round trip differs (%v):\n%s\n%s", err, b, b2)
			}
		})
	}
}

func TestIcalEncodeAttendeesFixture(t *testing.T) {
	fixture := icalFixture(t, "internal-event-with-attendees.ics")
	m := icalParseFixture(t, fixture.Name, icalParis(t)).Master()
	b, err := EncodeEvent(*m)
	if err != nil {
		t.Fatal(err)
	}
	lines := icalUnfold(t, b)
	// The fixture's ATTENDEE and ORGANIZER lines come back byte for byte
	// (go-ical writes parameters in alphabetical order, as the fixture has
	// them).
	orig := icalUnfold(t, fixture.Data)
	for _, prefix := range []string{"ATTENDEE", "ORGANIZER", "LOCATION", "DESCRIPTION", "SUMMARY"} {
		if got, want := icalLinesWith(lines, prefix), icalLinesWith(orig, prefix); !reflect.DeepEqual(got, want) {
			t.Errorf("%s lines:\n got %q\nwant %q", prefix, got, want)
		}
	}
	if want := `ATTENDEE;CN="Chloé, trésorière";PARTSTAT=TENTATIVE;ROLE=OPT-PARTICIPANT;SCHEDULE-AGENT=CLIENT:mailto:chloe@example.org`; !containsStr(lines, want) {
		t.Errorf("no line %s", want)
	}
}

func TestIcalEncodeScheduleAgentClient(t *testing.T) {
	p := icalParis(t)
	ev := Event{
		UID: "sa", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00"), DTStamp: icalStamp,
		Organizer: Organizer{Email: "orga@example.org"},
		Attendees: []Attendee{
			{Email: "a@example.org"},
			{Name: "B", Email: "mailto:b@example.org", PartStat: "needs-action", Params: map[string]string{"RSVP": "FALSE", "X-ROOMCAL-ORDER": "2"}},
		},
	}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	lines := icalUnfold(t, b)
	addr := append(icalLinesWith(lines, "ORGANIZER"), icalLinesWith(lines, "ATTENDEE")...)
	if len(addr) != 3 {
		t.Fatalf("address lines: %q", addr)
	}
	for _, l := range addr {
		if !strings.Contains(l, ";SCHEDULE-AGENT=CLIENT") {
			t.Errorf("no SCHEDULE-AGENT=CLIENT: %s", l)
		}
	}
	if want := "ATTENDEE;CN=B;PARTSTAT=NEEDS-ACTION;RSVP=FALSE;SCHEDULE-AGENT=CLIENT;X-ROOMCAL-ORDER=2:mailto:b@example.org"; !containsStr(lines, want) {
		t.Errorf("no line %s in %q", want, addr)
	}
	got := icalParseAgain(t, b).Master().Attendees
	want := []Attendee{
		{Email: "a@example.org"},
		{Name: "B", Email: "b@example.org", PartStat: "NEEDS-ACTION", Params: map[string]string{"RSVP": "FALSE", "X-ROOMCAL-ORDER": "2"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attendees read back = %+v; want %+v", got, want)
	}
}

func icalParseAgain(t *testing.T, b []byte) *Item {
	t.Helper()
	it, err := ParseObject(Object{Name: "again.ics", Data: b}, icalParis(t))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return it
}

func TestIcalEncodeEscapesUserText(t *testing.T) {
	p := icalParis(t)
	hostile := []struct {
		name string
		text string
		want string // what reads back ("" means the same text)
	}{
		{"newline injection", "Réunion\r\nATTENDEE:mailto:evil@example.org\nX-INJECT:1", "Réunion\nATTENDEE:mailto:evil@example.org\nX-INJECT:1"},
		{"separators", `a;b,c\d:e "f"`, ""},
		{"END component", "x\nEND:VEVENT\nBEGIN:VEVENT", ""},
		{"control characters", "bell\a tab\t nul\x00 del\x7f", "bell tab\t nul del"},
		{"invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"accents", "Chloé, trésorière « ok »", ""},
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			want := h.want
			if want == "" {
				want = h.text
			}
			ev := Event{
				UID: "esc", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00"), DTStamp: icalStamp,
				Summary: h.text, Description: h.text, Location: h.text,
				Organizer: Organizer{Name: h.text, Email: "orga@example.org"},
				Attendees: []Attendee{{Name: h.text, Email: "a@example.org", Params: map[string]string{"X-ROOMCAL-NOTE": h.text}}},
				XProps:    map[string]string{"X-ROOMCAL-NOTE": h.text},
			}
			b, err := EncodeEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			lines := icalUnfold(t, b)
			if n := len(icalLinesWith(lines, "ATTENDEE")); n != 1 {
				t.Errorf("%d ATTENDEE lines", n)
			}
			if n := len(icalLinesWith(lines, "BEGIN:VEVENT")); n != 1 {
				t.Errorf("%d BEGIN:VEVENT lines", n)
			}
			if len(icalLinesWith(lines, "X-INJECT")) != 0 {
				t.Error("a property was injected")
			}
			m := icalParseAgain(t, b).Master()
			got := []string{m.Summary, m.Description, m.Location, m.Organizer.Name, m.Attendees[0].Name, m.Attendees[0].Params["X-ROOMCAL-NOTE"], m.XProps["X-ROOMCAL-NOTE"]}
			for i, g := range got {
				if g != want {
					t.Errorf("field %d reads back %q; want %q", i, g, want)
				}
			}
		})
	}
}

func TestIcalEncodeFoldsLongLines(t *testing.T) {
	p := icalParis(t)
	long := strings.Repeat("Ordre du jour : accueil, café ☕, budget; questions — ", 12)
	ev := Event{
		UID: "long", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00"), DTStamp: icalStamp,
		Summary: long, Description: long + "\n" + long,
		Attendees: []Attendee{{Name: strings.Repeat("Chloé, trésorière ", 8), Email: "chloe@example.org"}},
	}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("fold split a UTF-8 sequence: %q", l)
		}
	}
	m := icalParseAgain(t, b).Master()
	if m.Summary != long || m.Description != long+"\n"+long || m.Attendees[0].Name != ev.Attendees[0].Name {
		t.Errorf("long text changed on the way back: %q", m.Summary)
	}
	if got := foldLines([]byte("SHORT:x\r\n")); string(got) != "SHORT:x\r\n" {
		t.Errorf("short line folded: %q", got)
	}
}

func TestIcalEncodeDeterministic(t *testing.T) {
	p := icalParis(t)
	ev := Event{
		UID: "det", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00"), DTStamp: icalStamp,
		XProps:    map[string]string{"X-ROOMCAL-A": "1", "X-ROOMCAL-B": "2", "X-ROOMCAL-C": "3"},
		Attendees: []Attendee{{Email: "a@example.org", Params: map[string]string{"X-A": "1", "X-B": "2", "ROLE": "CHAIR"}}},
	}
	first, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := EncodeEvent(ev)
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("output changed between runs:\n%s\n%s", first, again)
		}
	}
}

func TestIcalEncodeTimeForms(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		name string
		ev   Event
		want []string // lines that must be there
	}{
		{"zoned", Event{Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00")},
			[]string{"DTSTART;TZID=Europe/Paris:20261210T140000", "DTEND;TZID=Europe/Paris:20261210T150000", "TZID:Europe/Paris"}},
		{"UTC", Event{Start: time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)},
			[]string{"DTSTART:20261210T130000Z"}},
		{"all-day", Event{AllDay: true, Start: icalAt(t, p, "2026-12-25T00:00"), End: icalAt(t, p, "2026-12-26T00:00"), ExDates: nil},
			[]string{"DTSTART;VALUE=DATE:20261225", "DTEND;VALUE=DATE:20261226"}},
		{"EXDATE and override in the start's zone", Event{
			Start: icalAt(t, p, "2026-12-10T14:00"), RRule: "freq=weekly", ExDates: []time.Time{icalAt(t, p, "2026-12-17T14:00").UTC()},
		}, []string{"RRULE:FREQ=WEEKLY", "EXDATE;TZID=Europe/Paris:20261217T140000"}},
		{"timestamps in UTC", Event{Start: icalAt(t, p, "2026-12-10T14:00"), Created: icalAt(t, p, "2026-11-01T10:00")},
			[]string{"CREATED:20261101T090000Z", "DTSTAMP:20261120T080000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := tt.ev
			ev.UID, ev.DTStamp = "forms", icalStamp
			b, err := EncodeEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			lines := icalUnfold(t, b)
			for _, w := range tt.want {
				if !containsStr(lines, w) {
					t.Errorf("no line %q in\n%s", w, b)
				}
			}
			if tt.name != "zoned" && tt.name != "EXDATE and override in the start's zone" && tt.name != "timestamps in UTC" && len(icalLinesWith(lines, "BEGIN:VTIMEZONE")) != 0 {
				t.Errorf("VTIMEZONE written for %s", tt.name)
			}
		})
	}
	ev := Event{UID: "now", Start: icalAt(t, p, "2026-12-10T14:00")}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	if m := icalParseAgain(t, b).Master(); time.Since(m.DTStamp) > time.Hour || time.Since(m.DTStamp) < 0 {
		t.Errorf("DTSTAMP defaulted to %v; want now", m.DTStamp)
	}
}

func TestIcalEncodeRejectsInvalidEvents(t *testing.T) {
	p := icalParis(t)
	ok := func() Event {
		return Event{UID: "x", Start: icalAt(t, p, "2026-12-10T14:00"), End: icalAt(t, p, "2026-12-10T15:00"), DTStamp: icalStamp}
	}
	tests := []struct {
		name    string
		mutate  func(*Event)
		mention string
	}{
		{"no UID", func(e *Event) { e.UID = " " }, "no UID"},
		{"UID with newline", func(e *Event) { e.UID = "a\nb" }, "UID"},
		{"no start", func(e *Event) { e.Start = time.Time{} }, "no start"},
		{"end before start", func(e *Event) { e.End = e.Start.Add(-time.Minute) }, "before start"},
		{"all-day end not after start", func(e *Event) { e.AllDay = true; e.End = e.Start }, "all-day end"},
		{"time.Local", func(e *Event) { e.Start = time.Date(2026, 12, 10, 14, 0, 0, 0, time.Local); e.End = time.Time{} }, "TZID=Local"},
		{"bad RRULE", func(e *Event) { e.RRule = "FREQ=SOMETIMES" }, "RRULE"},
		{"MINUTELY with BYSETPOS", func(e *Event) { e.RRule = "FREQ=MINUTELY;BYSETPOS=2" }, "BYSETPOS"},
		{"recurrence from the second 02:30", func(e *Event) {
			e.Start = time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC).In(e.Start.Location())
			e.End, e.RRule = e.Start.Add(time.Hour), "FREQ=DAILY;COUNT=2"
		}, "second occurrence"},
		{"RRULE with a line break", func(e *Event) { e.RRule = "FREQ=DAILY\r\nATTENDEE:x" }, "RRULE"},
		{"bad status", func(e *Event) { e.Status = "MAYBE" }, "STATUS"},
		{"bad transp", func(e *Event) { e.Transp = "OPAQUE\nX:1" }, "TRANSP"},
		{"negative sequence", func(e *Event) { e.Sequence = -1 }, "SEQUENCE"},
		{"XProps outside X-ROOMCAL-", func(e *Event) { e.XProps = map[string]string{"SUMMARY": "x"} }, "X-ROOMCAL"},
		{"XProps bad name", func(e *Event) { e.XProps = map[string]string{"X-ROOMCAL-A B": "x"} }, "X-ROOMCAL"},
		{"attendee without address", func(e *Event) { e.Attendees = []Attendee{{Name: "A"}} }, "no address"},
		{"attendee address with newline", func(e *Event) { e.Attendees = []Attendee{{Email: "a@x\nATTENDEE:b"}} }, "invalid address"},
		{"attendee param CN", func(e *Event) { e.Attendees = []Attendee{{Email: "a@x", Params: map[string]string{"cn": "x"}}} }, "CN"},
		{"attendee param SCHEDULE-AGENT", func(e *Event) {
			e.Attendees = []Attendee{{Email: "a@x", Params: map[string]string{"SCHEDULE-AGENT": "SERVER"}}}
		}, "SCHEDULE-AGENT"},
		{"attendee param bad name", func(e *Event) { e.Attendees = []Attendee{{Email: "a@x", Params: map[string]string{"A=B": "x"}}} }, "parameter name"},
		{"bad PARTSTAT", func(e *Event) { e.Attendees = []Attendee{{Email: "a@x", PartStat: "OK;RSVP=TRUE"}} }, "PARTSTAT"},
		{"override with RRULE", func(e *Event) { e.RecurrenceID = e.Start; e.RRule = "FREQ=DAILY" }, "override"},
		{"RDATE period without end", func(e *Event) { e.RPeriods = []Period{{Start: e.Start}} }, "period"},
		{"Extra with a modelled name", func(e *Event) { e.Extra = []ical.Prop{{Name: "DTSTART", Value: "x"}} }, "Extra"},
		{"Extra with a bad name", func(e *Event) { e.Extra = []ical.Prop{{Name: "X A", Value: "x"}} }, "Extra"},
		{"Extra value with a newline", func(e *Event) { e.Extra = []ical.Prop{{Name: "X-A", Value: "x\r\nATTENDEE:y"}} }, "CR or LF"},
		{"Extra param with a newline", func(e *Event) {
			e.Extra = []ical.Prop{{Name: "X-A", Params: ical.Params{"X-P": {"a\nATTENDEE:y"}}, Value: "x"}}
		}, "control characters"},
		{"Alarms with another component", func(e *Event) { e.Alarms = []*ical.Component{ical.NewComponent("VTODO")} }, "VALARM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := ok()
			tt.mutate(&ev)
			b, err := EncodeEvent(ev)
			if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error = %v; want ErrInvalidEvent mentioning %q (output %q)", err, tt.mention, b)
			}
		})
	}
	objs := []struct {
		name    string
		evs     []Event
		mention string
	}{
		{"none", nil, "no event"},
		{"two UIDs", []Event{ok(), {UID: "y", Start: ok().Start}}, "one UID"},
		{"two masters", []Event{ok(), ok()}, "without RecurrenceID"},
	}
	for _, tt := range objs {
		if _, err := EncodeObject(tt.evs); !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: error = %v; want ErrInvalidEvent mentioning %q", tt.name, err, tt.mention)
		}
	}
}

// TestIcalEncodePythonIcalendar checks the encoder's output with an
// independent parser, Debian's python3-icalendar.
func TestIcalEncodePythonIcalendar(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import icalendar, pytz").CombinedOutput(); err != nil {
		t.Fatalf("this test needs %s with the icalendar module (apt-get install python3-icalendar): %v\n%s", python, err, out)
	}
	p := icalParis(t)
	ev := Event{
		UID: "py-1@example.org", Summary: "Atelier ; « compta », \\ ok\nligne 2",
		Description: strings.Repeat("Très long texte, avec des virgules ; et des accents. ", 6),
		Location:    "Salle Loire, Grand Bain",
		Start:       icalAt(t, p, "2027-03-22T09:30"), End: icalAt(t, p, "2027-03-22T11:00"),
		RRule:     "FREQ=WEEKLY;COUNT=3",
		ExDates:   []time.Time{icalAt(t, p, "2027-03-29T09:30")},
		Organizer: Organizer{Name: "Jocelyn", Email: "jocelyn@example.org"},
		Attendees: []Attendee{
			{Name: "Chloé, trésorière", Email: "chloe@example.org", PartStat: "TENTATIVE", Params: map[string]string{"ROLE": "OPT-PARTICIPANT"}},
			{Name: "Amina: présidente; fondatrice", Email: "amina@example.org", PartStat: "ACCEPTED"},
		},
		Status: "CONFIRMED", Class: "CONFIDENTIAL", DTStamp: icalStamp,
		XProps: map[string]string{"X-ROOMCAL-CAPACITY": "12"},
	}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = []
for e in cal.walk('VEVENT'):
    atts = e.get('attendee')
    if not isinstance(atts, list):
        atts = [atts]
    ex = e.get('exdate')
    exs = ex if isinstance(ex, list) else [ex]
    out.append({
        'uid': str(e.get('uid')),
        'summary': str(e.get('summary')),
        'description': str(e.get('description')),
        'location': str(e.get('location')),
        'dtstart': e.decoded('dtstart').isoformat(),
        'dtend': e.decoded('dtend').isoformat(),
        'rrule': e.get('rrule').to_ical().decode(),
        'exdate': [d.dt.isoformat() for x in exs for d in x.dts],
        'organizer': [str(e.get('organizer')), dict(e.get('organizer').params)],
        'attendees': [[str(a), dict(a.params)] for a in atts],
        'status': str(e.get('status')),
        'class': str(e.get('class')),
        'capacity': str(e.get('x-roomcal-capacity')),
    })
tz = [str(t.get('tzid')) for t in cal.walk('VTIMEZONE')]
print(json.dumps({'events': out, 'tzids': tz}, ensure_ascii=False))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python could not read our output: %v\n%s\n%s", err, ee.Stderr, b)
		}
		t.Fatal(err)
	}
	var got struct {
		Events []map[string]any `json:"events"`
		TZIDs  []string         `json:"tzids"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Events) != 1 || !reflect.DeepEqual(got.TZIDs, []string{"Europe/Paris"}) {
		t.Fatalf("python read %s", out)
	}
	e := got.Events[0]
	sa := map[string]any{"SCHEDULE-AGENT": "CLIENT"}
	with := func(m map[string]any) map[string]any {
		for k, v := range sa {
			m[k] = v
		}
		return m
	}
	want := map[string]any{
		"uid": ev.UID, "summary": ev.Summary, "description": ev.Description, "location": ev.Location,
		"dtstart": "2027-03-22T09:30:00+01:00", "dtend": "2027-03-22T11:00:00+01:00",
		"rrule": "FREQ=WEEKLY;COUNT=3", "exdate": []any{"2027-03-29T09:30:00+02:00"},
		"organizer": []any{"mailto:jocelyn@example.org", with(map[string]any{"CN": "Jocelyn"})},
		"attendees": []any{
			[]any{"mailto:chloe@example.org", with(map[string]any{"CN": "Chloé, trésorière", "PARTSTAT": "TENTATIVE", "ROLE": "OPT-PARTICIPANT"})},
			[]any{"mailto:amina@example.org", with(map[string]any{"CN": "Amina: présidente; fondatrice", "PARTSTAT": "ACCEPTED"})},
		},
		"status": "CONFIRMED", "class": "CONFIDENTIAL", "capacity": "12",
	}
	for k, w := range want {
		if !reflect.DeepEqual(e[k], w) {
			t.Errorf("python reads %s = %#v; want %#v", k, e[k], w)
		}
	}
}

func TestIcalObjectName(t *testing.T) {
	tests := []struct {
		uid, want string
	}{
		{"formation-nuage-2026-12@example.org", "formation-nuage-2026-12@example.org.ics"},
		{"8f3c0a2e-1b2c-4d5e-8f90-0123456789ab", "8f3c0a2e-1b2c-4d5e-8f90-0123456789ab.ics"},
		{"A_b.c~d", "A_b.c~d.ics"},
		{"040000008200E00074C5B7101A82E008", "040000008200E00074C5B7101A82E008.ics"},
	}
	for _, tt := range tests {
		if got := ObjectName(tt.uid); got != tt.want {
			t.Errorf("ObjectName(%q) = %q; want %q", tt.uid, got, tt.want)
		}
	}
	hashed := []string{"a/b", "a?b", "a b", "a%2Fb", "..", ".hidden", "", "réunion", "a#b", strings.Repeat("x", 300), "a\nb", "a\\b"}
	seen := map[string]string{}
	for _, uid := range hashed {
		name := ObjectName(uid)
		if name != ObjectName(uid) {
			t.Errorf("ObjectName(%q) is not deterministic", uid)
		}
		if url.PathEscape(name) != name || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".ics") || len(name) > 200 || strings.ContainsAny(name, "/\\%") {
			t.Errorf("ObjectName(%q) = %q is not a safe segment", uid, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("ObjectName(%q) = ObjectName(%q) = %q", uid, prev, name)
		}
		seen[name] = uid
	}
	if got := ObjectName("a/b"); !strings.HasPrefix(got, "a-b-") {
		t.Errorf("ObjectName(a/b) = %q; want the readable part kept", got)
	}
}
