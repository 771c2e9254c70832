package caldav

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Shared helpers of the ical*_test.go files.

func icalLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

func icalParis(t testing.TB) *time.Location { t.Helper(); return icalLoc(t, "Europe/Paris") }

func icalFixture(t testing.TB, name string) Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return Object{Name: name, ETag: "etag-" + name, Data: data}
}

func icalParseFixture(t testing.TB, name string, loc *time.Location) *Item {
	t.Helper()
	it, err := ParseObject(icalFixture(t, name), loc)
	if err != nil {
		t.Fatalf("ParseObject(%s): %v", name, err)
	}
	return it
}

// icalFmtSpan writes an interval as "2006-01-02T15:04/2006-01-02T15:04" in loc.
func icalFmtSpan(s, e time.Time, loc *time.Location) string {
	const f = "2006-01-02T15:04"
	return s.In(loc).Format(f) + "/" + e.In(loc).Format(f)
}

func icalFmt(ins []Instance, loc *time.Location) []string {
	out := []string{}
	for _, in := range ins {
		out = append(out, icalFmtSpan(in.Start, in.End, loc))
	}
	return out
}

// icalAt is a wall-clock time in loc ("2006-01-02T15:04").
func icalAt(t testing.TB, loc *time.Location, v string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		t.Fatalf("bad time %q: %v", v, err)
	}
	return tm
}

func TestIcalParseObjectBadFixtures(t *testing.T) {
	tests := []struct {
		file    string
		want    error
		names   string // what the message must name
		mention string
	}{
		{"bad-no-dtstart.ics", ErrICalInvalid, "no-start@example.org", "no DTSTART"},
		{"bad-end-before-start.ics", ErrICalInvalid, "reversed@example.org", "DTEND"},
		{"bad-rrule.ics", ErrICalInvalid, "rrule@example.org", "RRULE"},
		{"bad-unknown-tzid.ics", ErrUnknownTZID, "tz@example.org", "Mars/Olympus_Mons"},
		{"bad-unterminated.ics", ErrICalSyntax, "bad-unterminated.ics", "cut off"},
		{"bad-param-no-colon.ics", ErrICalSyntax, "bad-param-no-colon.ics", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			it, err := ParseObject(icalFixture(t, tt.file), icalParis(t))
			icalCheckError(t, it, err, tt.want, tt.names, tt.mention)
		})
	}
}

func icalCheckError(t *testing.T, it *Item, err error, want error, names, mention string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; item %+v", it)
	}
	if it != nil {
		t.Errorf("an item came back with the error: %+v", it)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T is not an *ObjectError: %v", err, err)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not match %v", err, want)
	}
	if !strings.Contains(err.Error(), names) {
		t.Errorf("error %q does not name %q", err, names)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("error %q does not mention %q", err, mention)
	}
}

func TestIcalParseObjectMalformed(t *testing.T) {
	wrap := func(body string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + body + "END:VCALENDAR\r\n"
	}
	ev := func(lines ...string) string {
		return "BEGIN:VEVENT\r\nDTSTAMP:20261101T090000Z\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\n"
	}
	tests := []struct {
		name, data string
		want       error
		mention    string
	}{
		{"empty body", "", ErrICalSyntax, "empty"},
		{"not iCalendar", "<html>502 Bad Gateway</html>\r\n", ErrICalSyntax, "malformed"},
		{"wrong END", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", ErrICalSyntax, "END"},
		{"cut after END:VEVENT", "BEGIN:VCALENDAR\r\n" + ev("UID:a", "DTSTART:20261124T150000Z"), ErrICalSyntax, "cut off"},
		{"garbage after END:VCALENDAR", wrap(ev("UID:a", "DTSTART:20261124T150000Z")) + "BEGIN:VEVENT\r\nUID:b\r\n", ErrICalSyntax, "cut off"},
		{"param value then garbage", wrap(ev("UID:a", `DTSTART;TZID="Europe/Paris"x:20261124T150000`)), ErrICalSyntax, "malformed"},
		{"two UIDs", wrap(ev("UID:a", "DTSTART:20261124T150000Z") + ev("UID:b", "DTSTART:20261124T150000Z")), ErrICalInvalid, "2 UIDs"},
		{"VEVENT without UID", wrap(ev("DTSTART:20261124T150000Z")), ErrICalInvalid, "without UID"},
		{"two masters", wrap(ev("UID:a", "DTSTART:20261124T150000Z") + ev("UID:a", "DTSTART:20261125T150000Z")), ErrICalInvalid, "several VEVENTs"},
		{"DTEND and DURATION", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "DTEND:20261124T160000Z", "DURATION:PT1H")), ErrICalInvalid, "both DTEND and DURATION"},
		{"negative DURATION", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "DURATION:-PT1H")), ErrICalInvalid, "negative"},
		{"bad DURATION", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "DURATION:1 hour")), ErrICalInvalid, "duration"},
		{"bad date", wrap(ev("UID:a", "DTSTART:20261324T150000Z")), ErrICalInvalid, "invalid date-time"},
		{"all-day end before start", wrap(ev("UID:a", "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261223")), ErrICalInvalid, "before"},
		{"empty TZID", wrap(ev("UID:a", "DTSTART;TZID=:20261124T150000")), ErrUnknownTZID, "empty TZID"},
		{"TZID=Local", wrap(ev("UID:a", "DTSTART;TZID=Local:20261124T150000")), ErrUnknownTZID, `"Local"`},
		{"Windows TZID without VTIMEZONE", wrap(ev("UID:a", "DTSTART;TZID=Romance Standard Time:20261124T150000")), ErrUnknownTZID, "Romance Standard Time"},
		{"unknown TZID in EXDATE", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=DAILY", "EXDATE;TZID=Nowhere/Town:20261125T150000")), ErrUnknownTZID, "Nowhere/Town"},
		{"bad EXDATE value", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=DAILY", "EXDATE:20261125T150000Z,tomorrow")), ErrICalInvalid, "EXDATE"},
		{"bad RDATE period", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RDATE;VALUE=PERIOD:20261125T150000Z/20261125T140000Z")), ErrICalInvalid, "RDATE"},
		{"two RRULEs", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY")), ErrICalInvalid, "RRULE"},
		{"COUNT=0", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=DAILY;COUNT=0")), ErrICalInvalid, "COUNT"},
		{"unknown rule part", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=DAILY;SOMETIMES=1")), ErrICalInvalid, "RRULE"},
		{"rule part out of range", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=32")), ErrICalInvalid, "bymonthday"},
		{"MINUTELY with BYSETPOS", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=MINUTELY;INTERVAL=15;BYSETPOS=1")), ErrICalInvalid, "BYSETPOS"},
		{"SECONDLY with BYSETPOS", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=SECONDLY;BYSETPOS=-1")), ErrICalInvalid, "BYSETPOS"},
		{"HOURLY with BYSETPOS", wrap(ev("UID:a", "DTSTART:20261124T150000Z", "RRULE:FREQ=HOURLY;BYSETPOS=2")), ErrICalInvalid, "BYSETPOS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := ParseObject(Object{Name: "obj.ics", Data: []byte(tt.data)}, icalParis(t))
			icalCheckError(t, it, err, tt.want, "obj.ics", tt.mention)
		})
	}
}

func TestIcalParseObjectIgnoresOtherComponents(t *testing.T) {
	it := icalParseFixture(t, "edge-todo-only.ics", icalParis(t))
	if it.UID != "" || it.Master() != nil || len(it.Events()) != 0 {
		t.Errorf("VTODO read as an event: UID %q, master %v, events %v", it.UID, it.Master(), it.Events())
	}
	ins, err := it.Instances(icalAt(t, icalParis(t), "2026-01-01T00:00"), icalAt(t, icalParis(t), "2028-01-01T00:00"))
	if err != nil || len(ins) != 0 {
		t.Errorf("Instances = %v, %v; want none", ins, err)
	}
	if it.Name != "edge-todo-only.ics" || it.ETag != "etag-edge-todo-only.ics" {
		t.Errorf("Name, ETag = %q, %q", it.Name, it.ETag)
	}
}

func TestIcalParseObjectLenientForms(t *testing.T) {
	body := "BEGIN:VCALENDAR\nversion:2.0\nBEGIN:vevent\n\nuid:lenient\ndtstamp:20261101T090000Z\n" +
		"dtstart;tzid=Europe/Paris:20261201T100000\nduration:pt1h\nsummary:a\\, b\nEND:VEVENT\nEND:VCALENDAR\n"
	for name, data := range map[string]string{
		"LF line ends, lower case names, blank line": body,
		"byte order mark": "\ufeff" + strings.ReplaceAll(body, "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			it, err := ParseObject(Object{Name: "l.ics", Data: []byte(data)}, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			ins, err := it.Busy(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
			if got := icalFmt(ins, icalParis(t)); err != nil || !reflect.DeepEqual(got, []string{"2026-12-01T10:00/2026-12-01T11:00"}) || ins[0].Summary != "a, b" {
				t.Errorf("busy = %v, %v", got, err)
			}
		})
	}
}

func TestIcalParseCalendarIsolatesErrors(t *testing.T) {
	good := string(icalFixture(t, "room-calendar-nextcloud-export.ics").Data)
	bad := "BEGIN:VEVENT\r\nUID:broken@example.org\r\nDTSTAMP:20261101T090000Z\r\nDTEND:20261124T130000Z\r\nEND:VEVENT\r\n"
	data := strings.Replace(good, "END:VCALENDAR", bad+"END:VCALENDAR", 1)
	items, errs := ParseCalendar("export.ics", []byte(data), icalParis(t))
	if len(errs) != 1 {
		t.Fatalf("errors = %v; want exactly one", errs)
	}
	icalCheckError(t, nil, errs[0], ErrICalInvalid, "broken@example.org", "no DTSTART")
	var uids []string
	for _, it := range items {
		uids = append(uids, it.UID)
	}
	want := []string{
		"weekly-coop-meeting@example.org", "closure-2026-12-25@example.org", "utc-workshop@example.org",
		"dst-night-shift@example.org", "tentative-hold@example.org", "cancelled-talk@example.org",
		"floating-yoga@example.org",
	}
	if !reflect.DeepEqual(uids, want) {
		t.Errorf("UIDs = %v; want %v", uids, want)
	}

	items, errs = ParseCalendar("cut.ics", []byte(good[:len(good)/2]), icalParis(t))
	if len(items) != 0 || len(errs) != 1 || !errors.Is(errs[0], ErrICalSyntax) {
		t.Errorf("truncated export: items %d, errs %v; want no item and one syntax error", len(items), errs)
	}
}

func TestIcalParseObjectSeveralVCalendars(t *testing.T) {
	one := func(uid, start string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261101T090000Z\r\nDTSTART:" + start + "\r\nDURATION:PT1H\r\n" +
			"RECURRENCE-ID:" + start + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	data := one("a", "20261124T150000Z") + "\r\n" + one("a", "20261125T150000Z")
	it, err := ParseObject(Object{Name: "a.ics", Data: []byte(data)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := it.Busy(icalAt(t, time.UTC, "2026-11-24T00:00"), icalAt(t, time.UTC, "2026-11-26T00:00"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-11-24T15:00/2026-11-24T16:00", "2026-11-25T15:00/2026-11-25T16:00"}
	if got := icalFmt(ins, time.UTC); !reflect.DeepEqual(got, want) {
		t.Errorf("busy = %v; want %v", got, want)
	}
}

func TestIcalParseTZIDResolution(t *testing.T) {
	p := icalParis(t)
	tests := []struct {
		file string
		from string
		want []string // Paris wall times
	}{
		{"edge-mozilla-tzid.ics", "2026-12-01T00:00", []string{"2026-12-01T10:00/2026-12-01T11:00"}},
		// "W. Europe Standard Time" is unknown to the tz database: the
		// object's VTIMEZONE defines it, DST change on 2027-03-28 included.
		{"edge-outlook-tzid.ics", "2027-03-15T00:00", []string{
			"2027-03-18T09:00/2027-03-18T10:00", "2027-03-25T09:00/2027-03-25T10:00", "2027-04-01T09:00/2027-04-01T10:00",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			it := icalParseFixture(t, tt.file, p)
			from := icalAt(t, p, tt.from)
			ins, err := it.Busy(from, from.AddDate(0, 1, 0))
			if err != nil {
				t.Fatal(err)
			}
			if got := icalFmt(ins, p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("busy = %v; want %v", got, tt.want)
			}
		})
	}
	t.Run("outlook zone keeps its TZID", func(t *testing.T) {
		m := icalParseFixture(t, "edge-outlook-tzid.ics", p).Master()
		if got := m.Start.Location().String(); got != "W. Europe Standard Time" {
			t.Errorf("location = %q", got)
		}
		if _, off := m.Start.Zone(); off != 3600 {
			t.Errorf("offset on 2027-03-18 = %d; want 3600", off)
		}
	})
}

func TestIcalMasterReadsEventFields(t *testing.T) {
	p := icalParis(t)
	m := icalParseFixture(t, "internal-event-with-attendees.ics", p).Master()
	if m == nil {
		t.Fatal("no master")
	}
	want := Event{
		UID:         "formation-nuage-2026-12@example.org",
		Summary:     "Formation « Prendre en main le Nuage »",
		Description: "Deux heures en visio pour le chat, les événements et le blog.",
		Location:    "Salle Loire, Grand Bain, Nantes",
		Start:       icalAt(t, p, "2026-12-10T14:00"),
		End:         icalAt(t, p, "2026-12-10T16:00"),
		Organizer:   Organizer{Name: "Jocelyn", Email: "jocelyn@example.org"},
		Attendees: []Attendee{
			{Name: "Amina", Email: "amina@example.org", PartStat: "ACCEPTED", Params: map[string]string{"ROLE": "REQ-PARTICIPANT"}},
			{Name: "Bastien", Email: "bastien@example.org", PartStat: "ACCEPTED", Params: map[string]string{"ROLE": "REQ-PARTICIPANT"}},
			{Name: "Chloé, trésorière", Email: "chloe@example.org", PartStat: "TENTATIVE", Params: map[string]string{"ROLE": "OPT-PARTICIPANT"}},
		},
		Status:  "CONFIRMED",
		DTStamp: time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC),
	}
	icalCheckEvent(t, *m, want)
}

// icalCheckEvent compares events field by field, times as instants.
func icalCheckEvent(t *testing.T, got, want Event) {
	t.Helper()
	eqTime := func(name string, a, b time.Time) {
		t.Helper()
		if !a.Equal(b) {
			t.Errorf("%s = %v; want %v", name, a, b)
		}
	}
	eqTimes := func(name string, a, b []time.Time) {
		t.Helper()
		if len(a) != len(b) {
			t.Errorf("%s = %v; want %v", name, a, b)
			return
		}
		for i := range a {
			eqTime(name, a[i], b[i])
		}
	}
	eqTime("Start", got.Start, want.Start)
	eqTime("End", got.End, want.End)
	eqTime("RecurrenceID", got.RecurrenceID, want.RecurrenceID)
	eqTime("Created", got.Created, want.Created)
	eqTime("LastModified", got.LastModified, want.LastModified)
	eqTime("DTStamp", got.DTStamp, want.DTStamp)
	eqTimes("RDates", got.RDates, want.RDates)
	eqTimes("ExDates", got.ExDates, want.ExDates)
	if len(got.RPeriods) != len(want.RPeriods) {
		t.Errorf("RPeriods = %v; want %v", got.RPeriods, want.RPeriods)
	} else {
		for i := range got.RPeriods {
			eqTime("RPeriods start", got.RPeriods[i].Start, want.RPeriods[i].Start)
			eqTime("RPeriods end", got.RPeriods[i].End, want.RPeriods[i].End)
		}
	}
	for _, e := range []*Event{&got, &want} {
		e.Start, e.End, e.RecurrenceID, e.Created, e.LastModified, e.DTStamp = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
		e.RDates, e.ExDates, e.RPeriods = nil, nil, nil
		if len(e.XProps) == 0 {
			e.XProps = nil
		}
		if len(e.Extra) == 0 {
			e.Extra = nil
		}
		if len(e.Alarms) == 0 {
			e.Alarms = nil
		}
		if len(e.Attendees) == 0 {
			e.Attendees = nil
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event =\n%+v\nwant\n%+v", got, want)
	}
}

func TestIcalMasterKeepsUnmodelledContent(t *testing.T) {
	data := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:keep@example.org\r\n" +
		"DTSTAMP:20261101T090000Z\r\nDTSTART:20261124T150000Z\r\nDURATION:PT90M\r\n" +
		"CATEGORIES:Réunion,Interne\r\nX-MOZ-GENERATION:3\r\nX-ROOMCAL-CAPACITY:12\r\n" +
		"X-ROOMCAL-NOTE:a\\, b\\; c\\nd\r\nSEQUENCE:4\r\nCLASS:confidential\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Rappel\r\nEND:VALARM\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	it, err := ParseObject(Object{Name: "keep.ics", Data: []byte(data)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	m := it.Master()
	if !m.End.Equal(time.Date(2026, 11, 24, 16, 30, 0, 0, time.UTC)) {
		t.Errorf("End from DURATION = %v", m.End)
	}
	if want := map[string]string{"X-ROOMCAL-CAPACITY": "12", "X-ROOMCAL-NOTE": "a, b; c\nd"}; !reflect.DeepEqual(m.XProps, want) {
		t.Errorf("XProps = %v; want %v", m.XProps, want)
	}
	var extra []string
	for _, p := range m.Extra {
		extra = append(extra, p.Name+":"+p.Value)
	}
	if want := []string{"CATEGORIES:Réunion,Interne", "X-MOZ-GENERATION:3"}; !reflect.DeepEqual(extra, want) {
		t.Errorf("Extra = %v; want %v", extra, want)
	}
	if len(m.Alarms) != 1 || m.Alarms[0].Props.Get("TRIGGER").Value != "-PT15M" {
		t.Errorf("Alarms = %v", m.Alarms)
	}
	if m.Sequence != 4 || m.Class != "CONFIDENTIAL" {
		t.Errorf("Sequence, Class = %d, %q", m.Sequence, m.Class)
	}
	// Written back, nothing is lost.
	b, err := EncodeEvent(*m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseObject(Object{Name: "keep.ics", Data: b}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	am := again.Master()
	am.DTStamp = m.DTStamp
	icalCheckEvent(t, *am, *m)

	// The copy is the caller's: changing it does not change the item.
	m.XProps["X-ROOMCAL-CAPACITY"] = "99"
	m.Extra[0].Value = "changed"
	if again := it.Master(); again.XProps["X-ROOMCAL-CAPACITY"] != "12" || again.Extra[0].Value == "changed" {
		t.Error("Master returned shared maps or slices")
	}
}

func TestIcalTextAndParamDecoding(t *testing.T) {
	text := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\, b\; c\\d\ne\Nf`, "a, b; c\\d\ne\nf"},
		{`unknown \: escape`, "unknown : escape"},
		{`trailing \`, `trailing \`},
		{`comma, kept`, "comma, kept"},
	}
	for _, tt := range text {
		if got := unescapeText(tt.in); got != tt.want {
			t.Errorf("unescapeText(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	params := []struct{ in, want string }{
		{"Chloé, trésorière", "Chloé, trésorière"},
		{"say ^'hi^'^nbye", "say \"hi\"\nbye"},
		{"a^^b", "a^b"},
		{"a^b", "a^b"},
		{"end^", "end^"},
	}
	for _, tt := range params {
		if got := decodeParamValue(tt.in); got != tt.want {
			t.Errorf("decodeParamValue(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if got := decodeParamValue(encodeParamValue(tt.want)); got != tt.want {
			t.Errorf("param round trip of %q gives %q", tt.want, got)
		}
	}
}

func TestIcalParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    durSpan
		wantErr bool
	}{
		{"PT2H30M", durSpan{exact: 2*time.Hour + 30*time.Minute}, false},
		{"P1D", durSpan{days: 1}, false},
		{"P2W", durSpan{days: 14}, false},
		{"P1DT12H", durSpan{days: 1, exact: 12 * time.Hour}, false},
		{"+PT15S", durSpan{exact: 15 * time.Second}, false},
		{"-PT1H", durSpan{exact: -time.Hour}, false},
		{"pt1h", durSpan{exact: time.Hour}, false},
		{"P", durSpan{}, true},
		{"PT", durSpan{}, true},
		{"P1H", durSpan{}, true},
		{"PT1D", durSpan{}, true},
		{"1H", durSpan{}, true},
		{"PT99999999999H", durSpan{}, true},
	}
	for _, tt := range tests {
		got, err := parseICalDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
