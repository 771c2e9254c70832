package caldav

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// vtzObservances summarises the observances of a VTIMEZONE as
// "NAME from>to TZNAME RRULE" lines.
func vtzObservances(tz *ical.Component) []string {
	var out []string
	for _, ob := range tz.Children {
		get := func(n string) string {
			if p := ob.Props.Get(n); p != nil {
				return p.Value
			}
			return ""
		}
		rr := get(ical.PropRecurrenceRule)
		// Outlook writes INTERVAL=1 and orders parts its own way.
		rr = strings.ReplaceAll(rr, "INTERVAL=1;", "")
		if rr == "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" {
			rr = "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"
		}
		if rr == "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" {
			rr = "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"
		}
		out = append(out, strings.Join([]string{ob.Name, get(ical.PropTimezoneOffsetFrom) + ">" + get(ical.PropTimezoneOffsetTo), get(ical.PropTimezoneName), rr}, " "))
	}
	return out
}

func fixtureVTimezone(t *testing.T, file string) *ical.Component {
	t.Helper()
	cal, err := decodeICalendar(icalFixture(t, file).Data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			return c
		}
	}
	t.Fatalf("no VTIMEZONE in %s", file)
	return nil
}

func TestIcalVTimezoneParisMatchesFixture(t *testing.T) {
	p := icalParis(t)
	got, err := VTimezone(p, time.Date(2026, 11, 23, 0, 0, 0, 0, p))
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureVTimezone(t, "room-calendar-nextcloud-export.ics")
	if g, w := got.Props.Get(ical.PropTimezoneID).Value, want.Props.Get(ical.PropTimezoneID).Value; g != w {
		t.Errorf("TZID = %q; want %q", g, w)
	}
	if g, w := vtzObservances(got), vtzObservances(want); !reflect.DeepEqual(g, w) {
		t.Errorf("observances:\n got %q\nwant %q", g, w)
	}
	// Same offsets as the fixture's VTIMEZONE (and Go's database) at every
	// change and around it, 2000-2040.
	fromFixture, err := locationFromVTimezone(want)
	if err != nil {
		t.Fatal(err)
	}
	fromOurs, err := locationFromVTimezone(got)
	if err != nil {
		t.Fatal(err)
	}
	checkSameOffsets(t, p, fromFixture, 2000, 2040)
	checkSameOffsets(t, p, fromOurs, 2000, 2040)
	// The Outlook rendering of the same zone is equivalent too.
	outlook, err := locationFromVTimezone(fixtureVTimezone(t, "edge-outlook-tzid.ics"))
	if err != nil {
		t.Fatal(err)
	}
	checkSameOffsets(t, p, outlook, 2000, 2040)
}

// checkSameOffsets compares the offsets of got with those of ref at each
// transition of ref in [fromYear, toYear) (just before and at it) and at
// noon on the 1st and 15th of every month.
func checkSameOffsets(t *testing.T, ref, got *time.Location, fromYear, toYear int) {
	t.Helper()
	var instants []time.Time
	for _, tr := range zoneTransitions(ref, time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(toYear, 1, 1, 0, 0, 0, 0, time.UTC)) {
		instants = append(instants, tr.at.Add(-time.Second), tr.at, tr.at.Add(time.Hour))
	}
	for y := fromYear; y < toYear; y++ {
		for m := time.January; m <= time.December; m++ {
			instants = append(instants, time.Date(y, m, 1, 12, 0, 0, 0, time.UTC), time.Date(y, m, 15, 12, 0, 0, 0, time.UTC))
		}
	}
	bad := 0
	for _, at := range instants {
		_, ro := at.In(ref).Zone()
		_, go_ := at.In(got).Zone()
		if ro != go_ && bad < 5 {
			t.Errorf("%s vs %s at %v: offset %d; want %d", got, ref, at.UTC(), go_, ro)
			bad++
		}
	}
}

func TestIcalVTimezoneZones(t *testing.T) {
	around := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		zone string
		// observances that must be there ("NAME from>to TZNAME RRULE")
		want []string
		// years in which the generated VTIMEZONE must give Go's offsets
		fromYear, toYear int
	}{
		{"Europe/Paris", []string{
			"DAYLIGHT +0100>+0200 CEST FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
			"STANDARD +0200>+0100 CET FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
		}, 1996, 2060},
		{"America/New_York", []string{
			"DAYLIGHT -0500>-0400 EDT FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
			"STANDARD -0400>-0500 EST FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
		}, 2007, 2060},
		{"Australia/Sydney", []string{ // southern hemisphere: DST in October
			"STANDARD +1100>+1000 AEST FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
			"DAYLIGHT +1000>+1100 AEDT FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
		}, 2008, 2060},
		{"Europe/London", []string{
			"DAYLIGHT +0000>+0100 BST FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
			"STANDARD +0100>+0000 GMT FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
		}, 1996, 2060},
		{"Australia/Lord_Howe", nil, 2008, 2060}, // 30-minute DST
		{"Asia/Jerusalem", nil, 2025, 2028},      // Friday before the last Sunday: listed one by one
		{"Africa/Casablanca", nil, 2025, 2028},   // Ramadan changes
		{"Asia/Tokyo", []string{"STANDARD +0900>+0900 JST "}, 1990, 2060},
		{"Asia/Kolkata", []string{"STANDARD +0530>+0530 IST "}, 1990, 2060},
		{"America/Sao_Paulo", []string{"STANDARD -0200>-0300 -03 "}, 2020, 2060}, // DST abolished in 2019
		{"Pacific/Chatham", nil, 2008, 2060},                                     // +12:45 / +13:45
		{"Etc/GMT-3", []string{"STANDARD +0300>+0300 +03 "}, 1990, 2060},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := icalLoc(t, tt.zone)
			tz, err := VTimezone(loc, around)
			if err != nil {
				t.Fatal(err)
			}
			obs := vtzObservances(tz)
			for _, w := range tt.want {
				if !containsStr(obs, w) {
					t.Errorf("no observance %q in %q", w, obs)
				}
			}
			if tt.want != nil && len(obs) != len(tt.want) {
				t.Errorf("observances %q; want %q", obs, tt.want)
			}
			// What we write must be readable by go-ical and mean the zone.
			cal := ical.NewCalendar()
			cal.Props.SetText(ical.PropProductID, ProdID)
			cal.Props.SetText(ical.PropVersion, "2.0")
			cal.Children = append(cal.Children, tz)
			var buf bytes.Buffer
			if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
				t.Fatalf("go-ical refuses the VTIMEZONE: %v", err)
			}
			back, err := decodeICalendar(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			built, err := locationFromVTimezone(back.Children[0])
			if err != nil {
				t.Fatal(err)
			}
			if built.String() != tt.zone {
				t.Errorf("location name %q", built)
			}
			checkSameOffsets(t, loc, built, tt.fromYear, tt.toYear)
		})
	}
}

func TestIcalVTimezoneRefuses(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		loc     *time.Location
		mention string
	}{
		{"UTC", time.UTC, "UTC"},
		{"nil", nil, "UTC"},
		{"Local", time.Local, "time.Local"},
		{"unnamed", time.FixedZone("", 3600), "unnamed"},
	}
	for _, tt := range tests {
		if _, err := VTimezone(tt.loc, now); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: error = %v; want one mentioning %q", tt.name, err, tt.mention)
		}
	}
}

func TestIcalLocationFromVTimezoneErrors(t *testing.T) {
	build := func(obs string) *ical.Component {
		data := "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Custom\r\n" + obs + "END:VTIMEZONE\r\nEND:VCALENDAR\r\n"
		cal, err := decodeICalendar([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return cal.Children[0]
	}
	tests := []struct {
		name, obs, mention string
	}{
		{"no observance", "", "no STANDARD or DAYLIGHT"},
		{"bad offset", "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+1\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n", "TZOFFSETFROM"},
		{"no DTSTART", "BEGIN:STANDARD\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n", "DTSTART"},
		{"daily rule", "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=DAILY\r\nEND:STANDARD\r\n", "YEARLY"},
	}
	for _, tt := range tests {
		if _, err := locationFromVTimezone(build(tt.obs)); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%s: error = %v; want one mentioning %q", tt.name, err, tt.mention)
		}
	}
	// A VTIMEZONE that cannot be used makes the TZID unknown, clearly.
	data := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Custom\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20261101T090000Z\r\nDTSTART;TZID=Custom:20261201T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	it, err := ParseObject(Object{Name: "c.ics", Data: []byte(data)}, time.UTC)
	icalCheckError(t, it, err, ErrUnknownTZID, "c.ics", "VTIMEZONE is unusable")
}

func TestIcalUTCOffsets(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"+0100", 3600, true},
		{"-0430", -16200, true},
		{"+000921", 561, true},
		{"+2400", 0, false},
		{"0100", 0, false},
		{"+01", 0, false},
		{"+01a0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseUTCOffset(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseUTCOffset(%q) = %d, %v", tt.in, got, err)
		}
		if tt.ok && formatUTCOffset(got) != tt.in {
			t.Errorf("formatUTCOffset(%d) = %q; want %q", got, formatUTCOffset(got), tt.in)
		}
	}
}
