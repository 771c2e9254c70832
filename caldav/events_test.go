package caldav_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/storetest"
	"github.com/roomcal/roomcal/internal/testenv"
)

// evCal is the events calendar of the tests.
const evCal = "evenements"

// evParis is the zone of the site of room salle-loire.
func evParis(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// evZone is the zone func of the tests: salle-loire is in Paris, other
// rooms are unknown (UTC).
func evZone(t *testing.T) func(string) *time.Location {
	paris := evParis(t)
	return func(room string) *time.Location {
		if room == "salle-loire" {
			return paris
		}
		return nil
	}
}

// evEach runs f against the FileStore, Radicale and Xandikos, each with a
// fresh store holding an empty events calendar.
func evEach(t *testing.T, f func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar)) {
	backends := []struct {
		name string
		open func(t *testing.T) caldav.Store
	}{
		{"FileStore", func(t *testing.T) caldav.Store {
			return fsOpen(t, t.TempDir(), caldav.FileStoreOptions{})
		}},
		{"Radicale", func(t *testing.T) caldav.Store {
			h := testenv.RadicaleHome(t)
			c, err := caldav.NewClient(h.URL, caldav.ClientOptions{Username: h.User, Password: h.Password, Logger: testLogger(t)})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			return c
		}},
		{"Xandikos", func(t *testing.T) caldav.Store {
			h := testenv.XandikosHome(t)
			c, err := caldav.NewClient(h.URL, caldav.ClientOptions{Username: h.User, Password: h.Password, Logger: testLogger(t)})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			return c
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			if err := s.CreateCalendar(t.Context(), evCal, "Événements"); err != nil {
				t.Fatalf("CreateCalendar: %v", err)
			}
			f(t, s, caldav.NewEventCalendar(s, evCal, evZone(t), testLogger(t)))
		})
	}
}

// evSample is an event in salle-loire with 3 confirmed and 2 waitlisted
// registrations whose names need escaping, quoting or caret-encoding.
func evSample(t *testing.T, id string) events.Record {
	paris := evParis(t)
	start := time.Date(2026, 12, 10, 14, 0, 0, 0, paris)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	return events.Record{
		Event: events.Event{
			ID:          id,
			Title:       "Formation « Nuage », niveau 1; salle B",
			Description: "Deux heures\nen visio, avec le chat; et le blog \\ fin",
			Start:       start,
			End:         start.Add(2 * time.Hour),
			Room:        "salle-loire",
			RoomBooking: "bk-42",
			Location:    "Salle Loire, Grand Bain",
			Organizer:   booking.Member{ID: "jocelyn", Name: "Jocelyn Ménard", Email: "jocelyn@example.org"},
			Settings: events.Settings{
				Capacity: 3, Waitlist: true,
				Opens: at(8, 0), Closes: time.Date(2026, 12, 9, 18, 0, 0, 0, paris),
				Start: start,
			},
			Created: time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC),
		},
		Registrations: []events.Registration{
			{Member: "amina", Name: "Amina", Email: "amina@example.org", Status: events.Confirmed, Seq: 1, At: at(9, 0)},
			{Member: "sso|4242:dupont", Name: "Dupont, Jean-Noël", Email: "jn.dupont@example.org", Status: events.Confirmed, Seq: 2, At: at(9, 1)},
			{Member: "zoé grande/nantes", Name: `Zoë "la" Grande; Nantes`, Status: events.Confirmed, Seq: 4, At: at(9, 3)},
			{Member: "bastien", Name: "Bastien: trésorier", Email: "bastien@example.org", Status: events.Waitlisted, Seq: 3, At: at(9, 2)},
			{Member: "chloe", Name: "Chloé ^ ^n", Email: "chloe@example.org", Status: events.Waitlisted, Seq: 5, At: at(9, 4)},
		},
		Gen: "g7f3a", Ver: 12,
	}
}

// evNorm returns r with times in UTC and no ETag or Base, for comparing.
func evNorm(r events.Record) events.Record {
	u := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	e := &r.Event
	e.Start, e.End, e.Created = u(e.Start), u(e.End), u(e.Created)
	e.Settings.Opens, e.Settings.Closes, e.Settings.Start = u(e.Settings.Opens), u(e.Settings.Closes), u(e.Settings.Start)
	regs := make([]events.Registration, len(r.Registrations))
	for i, g := range r.Registrations {
		g.At = u(g.At)
		regs[i] = g
	}
	if len(regs) == 0 {
		regs = nil
	}
	r.Registrations = regs
	r.ETag, r.Base = "", nil
	return r
}

// evCheck compares a Record read back with the one written.
func evCheck(t *testing.T, got, want events.Record) {
	t.Helper()
	g, w := evNorm(got), evNorm(want)
	if !reflect.DeepEqual(g.Event, w.Event) {
		t.Errorf("event read back:\n got %+v\nwant %+v", g.Event, w.Event)
	}
	if len(g.Registrations) != len(w.Registrations) {
		t.Errorf("read %d registrations, want %d:\n got %+v\nwant %+v", len(g.Registrations), len(w.Registrations), g.Registrations, w.Registrations)
	} else {
		for i := range g.Registrations {
			if g.Registrations[i] != w.Registrations[i] {
				t.Errorf("registration %d:\n got %+v\nwant %+v", i, g.Registrations[i], w.Registrations[i])
			}
		}
	}
	if g.Gen != w.Gen || g.Ver != w.Ver {
		t.Errorf("Gen, Ver = %q, %d; want %q, %d", g.Gen, g.Ver, w.Gen, w.Ver)
	}
}

// evMaster reads the raw object of event id and returns its master.
func evMaster(t *testing.T, s caldav.Store, id string) (*caldav.Event, caldav.Object) {
	t.Helper()
	obj, err := s.Get(t.Context(), evCal, caldav.ObjectName(id))
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	it, err := caldav.ParseObject(obj, time.UTC)
	if err != nil {
		t.Fatalf("ParseObject: %v\n%s", err, obj.Data)
	}
	m := it.Master()
	if m == nil {
		t.Fatalf("no master VEVENT:\n%s", obj.Data)
	}
	return m, obj
}

// evUnfolded returns the content lines of data, unfolded.
func evUnfolded(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n ", "")
	s = strings.ReplaceAll(s, "\n\t", "")
	return strings.Split(strings.TrimSpace(s), "\n")
}

func evHasLine(lines []string, prefix string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// Round trips: what Create writes, Read gives back, on both stores.
func TestEventCalendarRoundTrip(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		full := evSample(t, "evt-full")
		cancelled := evSample(t, "evt-cancelled")
		cancelled.Event.Settings.Cancelled = true
		minimal := events.Record{Event: events.Event{
			ID: "evt-minimal", Title: "Apéro", Start: time.Date(2027, 1, 8, 18, 0, 0, 0, time.UTC),
			End: time.Date(2027, 1, 8, 20, 0, 0, 0, time.UTC), Location: "Jardin",
			Organizer: booking.Member{ID: "sso-77", Name: "Sans Courriel"},
			Settings:  events.Settings{Capacity: 40, Start: time.Date(2027, 1, 8, 18, 0, 0, 0, time.UTC)},
			Created:   time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		}}
		noEmail := minimal
		noEmail.Event.ID = "evt-no-email"
		noEmail.Event.Room = "unknown-room"
		noEmail.Registrations = []events.Registration{
			{Member: "https://id.example.org/u/7?x=1", Name: "Membre sans courriel", Status: events.Confirmed, Seq: 1, At: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)},
			{Member: "pat", Name: "Pat", Status: events.Waitlisted, Seq: 2},
		}
		noEmail.Gen, noEmail.Ver = "", 3

		tests := []struct {
			name  string
			rec   events.Record
			lines []string // prefixes of unfolded lines the stored object must hold
		}{
			{"3 confirmed and 2 waitlisted", full, []string{
				"DTSTART;TZID=Europe/Paris:20261210T140000", "DTEND;TZID=Europe/Paris:20261210T160000",
				"STATUS:CONFIRMED", "CLASS:PUBLIC", "X-ROOMCAL-KIND:internal-event", "X-ROOMCAL-CAPACITY:3",
				"X-ROOMCAL-WAITLIST:TRUE", "X-ROOMCAL-REGISTRATION-OPENS:20261201T080000Z",
				"X-ROOMCAL-REGISTRATION-CLOSES:20261209T170000Z", "X-ROOMCAL-REV:g7f3a:12",
				"X-ROOMCAL-ROOM:salle-loire", "X-ROOMCAL-ROOM-BOOKING:bk-42", "CREATED:20261120T083000Z",
			}},
			{"cancelled", cancelled, []string{"STATUS:CANCELLED"}},
			{"minimal, in UTC, no organizer address", minimal, []string{
				"DTSTART:20270108T180000Z", "X-ROOMCAL-WAITLIST:FALSE", "X-ROOMCAL-ORGANIZER-ID:sso-77",
			}},
			{"members without e-mail", noEmail, []string{"X-ROOMCAL-REV::3", "DTSTART:20270108T180000Z"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				etag, err := ec.Create(ctx, tt.rec)
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				got, err := ec.Read(ctx, tt.rec.Event.ID)
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				evCheck(t, got, tt.rec)
				if got.ETag != etag || got.Base == nil {
					t.Errorf("Read: ETag %q, Base %T; want %q and the parsed object", got.ETag, got.Base, etag)
				}
				m, obj := evMaster(t, s, tt.rec.Event.ID)
				lines := evUnfolded(obj.Data)
				for _, want := range tt.lines {
					if !evHasLine(lines, want) {
						t.Errorf("stored object has no line %q:\n%s", want, obj.Data)
					}
				}
				if has, want := evHasLine(lines, "ORGANIZER"), tt.rec.Event.Organizer.Email != ""; has != want {
					t.Errorf("ORGANIZER line present = %v, want %v", has, want)
				}
				if m.Sequence != 0 {
					t.Errorf("SEQUENCE = %d on create", m.Sequence)
				}
				if len(m.Attendees) != len(tt.rec.Registrations) {
					t.Fatalf("%d ATTENDEE lines for %d registrations", len(m.Attendees), len(tt.rec.Registrations))
				}
				for i, a := range m.Attendees {
					r := tt.rec.Registrations[i]
					ps := map[events.RegStatus]string{events.Confirmed: "ACCEPTED", events.Waitlisted: "TENTATIVE"}[r.Status]
					if a.Name != r.Name || a.PartStat != ps || a.Params["X-ROOMCAL-MEMBER"] != r.Member ||
						a.Params["CUTYPE"] != "INDIVIDUAL" || a.Params["ROLE"] != "REQ-PARTICIPANT" || a.Params["RSVP"] != "FALSE" ||
						a.Params["X-ROOMCAL-STATUS"] != string(r.Status) {
						t.Errorf("ATTENDEE %d = %+v; want registration %+v", i, a, r)
					}
					if r.Email == "" && !strings.HasPrefix(a.Email, "urn:roomcal:member:") {
						t.Errorf("ATTENDEE %d of a member without e-mail has the value %q", i, a.Email)
					}
				}
			})
		}
	})
}

// An attendee added in a calendar client reads with Seq 0; declined
// attendees and the organizer's own line are left out, and all of them
// are kept by an Update.
func TestEventCalendarOutsideAttendees(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		start := time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)
		data := storetest.Event("evt-nc", "Atelier", start, start.Add(time.Hour),
			"X-ROOMCAL-KIND:internal-event",
			"X-ROOMCAL-CAPACITY:10",
			"X-ROOMCAL-WAITLIST:TRUE",
			"X-ROOMCAL-ORGANIZER-ID:jocelyn",
			"X-ROOMCAL-REV:gen1:4",
			"ORGANIZER;CN=Jocelyn;SCHEDULE-AGENT=CLIENT:mailto:jocelyn@example.org",
			"ATTENDEE;CN=Jocelyn;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:Jocelyn@example.org",
			"ATTENDEE;CN=Amina;PARTSTAT=ACCEPTED;X-ROOMCAL-MEMBER=amina;X-ROOMCAL-SEQ=1;X-ROOMCAL-STATUS=confirmed;X-ROOMCAL-AT=20261201T090000Z;SCHEDULE-AGENT=CLIENT:mailto:amina@example.org",
			"ATTENDEE;CN=Marie Curie;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:marie@example.org",
			"ATTENDEE;CN=Paul;PARTSTAT=DECLINED;ROLE=REQ-PARTICIPANT:mailto:paul@example.org",
			`ATTENDEE;CN="Léa, d'Angers";PARTSTAT=ACCEPTED;LANGUAGE=fr:mailto:Lea@Example.org`,
			"ATTENDEE;CN=Rémi;PARTSTAT=DECLINED;X-ROOMCAL-MEMBER=remi;X-ROOMCAL-SEQ=2;X-ROOMCAL-STATUS=confirmed:mailto:remi@example.org",
		)
		etag, err := s.Create(ctx, evCal, "evt-nc.ics", data)
		if err != nil {
			t.Fatalf("Create by hand: %v", err)
		}
		rec, err := ec.Read(ctx, "evt-nc")
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := []events.Registration{
			{Member: "amina", Name: "Amina", Email: "amina@example.org", Status: events.Confirmed, Seq: 1, At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
			{Member: "mailto:marie@example.org", Name: "Marie Curie", Email: "marie@example.org", Status: events.Waitlisted},
			{Member: "mailto:lea@example.org", Name: "Léa, d'Angers", Email: "Lea@Example.org", Status: events.Confirmed},
		}
		if rec.ETag != etag || rec.Gen != "gen1" || rec.Ver != 4 || !reflect.DeepEqual(rec.Event.Organizer, booking.Member{ID: "jocelyn", Name: "Jocelyn", Email: "jocelyn@example.org"}) {
			t.Errorf("Read: ETag %q Gen %q Ver %d Organizer %+v", rec.ETag, rec.Gen, rec.Ver, rec.Event.Organizer)
		}
		if !reflect.DeepEqual(rec.Registrations, want) {
			t.Fatalf("registrations:\n got %+v\nwant %+v", rec.Registrations, want)
		}

		// The domain numbers Léa and leaves Marie as she is.
		rec.Registrations[2].Seq = 3
		rec.Registrations[2].At = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		rec.Gen, rec.Ver = "gen1", 5
		if _, err := ec.Update(ctx, rec); err != nil {
			t.Fatalf("Update: %v", err)
		}
		m, obj := evMaster(t, s, "evt-nc")
		byAddr := map[string]caldav.Attendee{}
		var order []string
		for _, a := range m.Attendees {
			byAddr[strings.ToLower(a.Email)] = a
			order = append(order, strings.ToLower(a.Email))
		}
		wantOrder := []string{"amina@example.org", "marie@example.org", "lea@example.org", "jocelyn@example.org", "paul@example.org", "remi@example.org"}
		if !reflect.DeepEqual(order, wantOrder) {
			t.Errorf("ATTENDEE order after Update = %v, want %v\n%s", order, wantOrder, obj.Data)
		}
		if a := byAddr["marie@example.org"]; a.PartStat != "NEEDS-ACTION" || a.Params["RSVP"] != "TRUE" || a.Params["X-ROOMCAL-MEMBER"] != "" {
			t.Errorf("Marie's line changed: %+v", a)
		}
		if a := byAddr["lea@example.org"]; a.Params["LANGUAGE"] != "fr" || a.Params["X-ROOMCAL-SEQ"] != "3" || a.Params["X-ROOMCAL-MEMBER"] != "mailto:lea@example.org" || a.Name != "Léa, d'Angers" {
			t.Errorf("Léa's line: %+v", a)
		}
		if a := byAddr["jocelyn@example.org"]; a.Params["ROLE"] != "CHAIR" {
			t.Errorf("organizer's attendee line: %+v", a)
		}
		if byAddr["paul@example.org"].PartStat != "DECLINED" || byAddr["remi@example.org"].PartStat != "DECLINED" {
			t.Errorf("declined lines not kept:\n%s", obj.Data)
		}
		again, err := ec.Read(ctx, "evt-nc")
		if err != nil {
			t.Fatal(err)
		}
		want[2].Seq, want[2].At = 3, rec.Registrations[2].At
		if !reflect.DeepEqual(again.Registrations, want) {
			t.Errorf("registrations after Update:\n got %+v\nwant %+v", again.Registrations, want)
		}

		// Rémi registers again through roomcal: his declined line goes.
		again.Registrations = append(again.Registrations, events.Registration{
			Member: "remi", Name: "Rémi", Email: "remi@example.org", Status: events.Confirmed, Seq: 6,
		})
		if _, err := ec.Update(ctx, again); err != nil {
			t.Fatalf("Update: %v", err)
		}
		m, obj = evMaster(t, s, "evt-nc")
		n := 0
		for _, a := range m.Attendees {
			if strings.EqualFold(a.Email, "remi@example.org") {
				n++
				if a.PartStat != "ACCEPTED" || a.Params["X-ROOMCAL-SEQ"] != "6" {
					t.Errorf("Rémi's line: %+v", a)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d lines for Rémi:\n%s", n, obj.Data)
		}
	})
}

// An Update keeps what the domain does not model, bumps SEQUENCE, and
// works from the Record's Base, from the object it last wrote, or from
// the object read again.
func TestEventCalendarUpdateKeepsUnmodelled(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		rec := evSample(t, "evt-keep")
		if _, err := ec.Create(ctx, rec); err != nil {
			t.Fatalf("Create: %v", err)
		}
		// Someone adds an alarm, categories and other clients' properties.
		obj, err := s.Get(ctx, evCal, "evt-keep.ics")
		if err != nil {
			t.Fatal(err)
		}
		text := string(obj.Data)
		i := strings.LastIndex(text, "END:VEVENT")
		text = text[:i] + "CATEGORIES:Formation,Interne\r\nX-NC-GROUP-ID:42\r\nX-ROOMCAL-FUTURE:kept\r\n" +
			"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Rappel\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n" + text[i:]
		etag1, err := s.Update(ctx, evCal, "evt-keep.ics", []byte(text), obj.ETag)
		if err != nil {
			t.Fatalf("Update by hand: %v", err)
		}

		check := func(step string, seq int, title string, regs int) {
			t.Helper()
			m, obj := evMaster(t, s, "evt-keep")
			lines := evUnfolded(obj.Data)
			if m.Sequence != seq || len(m.Alarms) != 1 || !evHasLine(lines, "CATEGORIES:Formation,Interne") ||
				!evHasLine(lines, "X-NC-GROUP-ID:42") || m.XProps["X-ROOMCAL-FUTURE"] != "kept" {
				t.Errorf("%s: SEQUENCE %d (want %d), %d VALARM, object:\n%s", step, m.Sequence, seq, len(m.Alarms), obj.Data)
			}
			got, err := ec.Read(ctx, "evt-keep")
			if err != nil {
				t.Fatalf("%s: Read: %v", step, err)
			}
			if got.Event.Title != title || len(got.Registrations) != regs {
				t.Errorf("%s: read %q with %d registrations; want %q with %d", step, got.Event.Title, len(got.Registrations), title, regs)
			}
		}

		rec, err = ec.Read(ctx, "evt-keep")
		if err != nil {
			t.Fatal(err)
		}
		if rec.ETag != etag1 {
			t.Fatalf("Read ETag %q, want %q", rec.ETag, etag1)
		}
		rec.Event.Title = "Formation, nouveau titre"
		rec.Registrations = append(rec.Registrations, events.Registration{
			Member: "dana", Name: "Dana", Email: "dana@example.org", Status: events.Waitlisted, Seq: 6, At: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC),
		})
		rec.Ver++
		etag2, err := ec.Update(ctx, rec)
		if err != nil {
			t.Fatalf("Update from Base: %v", err)
		}
		check("from Base", 1, "Formation, nouveau titre", 6)

		// Same Record, new ETag, old Base: from the object last written.
		rec.ETag = etag2
		rec.Registrations = rec.Registrations[:5]
		rec.Ver++
		etag3, err := ec.Update(ctx, rec)
		if err != nil {
			t.Fatalf("Update from the object last written: %v", err)
		}
		check("from the last write", 2, "Formation, nouveau titre", 5)

		// Another process (no Base, nothing remembered): read again.
		other := caldav.NewEventCalendar(s, evCal, evZone(t), testLogger(t))
		rec.ETag, rec.Base = etag3, nil
		rec.Event.Title = "Titre d'un autre processus"
		etag4, err := other.Update(ctx, rec)
		if err != nil {
			t.Fatalf("Update without Base: %v", err)
		}
		check("without Base", 3, "Titre d'un autre processus", 5)

		// Stale ETags: with the Base of that version (the store refuses),
		// and without (the object read again has another ETag).
		stale, err := ec.Read(ctx, "evt-keep")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ec.Update(ctx, stale); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if _, err := ec.Update(ctx, stale); !errors.Is(err, booking.ErrStale) {
			t.Errorf("Update with a stale ETag and its Base = %v; want ErrStale", err)
		}
		stale.ETag, stale.Base = etag4, nil
		if _, err := other.Update(ctx, stale); !errors.Is(err, booking.ErrStale) {
			t.Errorf("Update with a stale ETag, no Base = %v; want ErrStale", err)
		}
		stale.ETag = etag1
		if _, err := ec.Update(ctx, stale); !errors.Is(err, booking.ErrStale) {
			t.Errorf("Update with an old ETag = %v; want ErrStale", err)
		}
		check("after the stale writes", 4, "Titre d'un autre processus", 5)

		// Gone: stale too.
		cur, err := ec.Read(ctx, "evt-keep")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, evCal, "evt-keep.ics", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := ec.Update(ctx, cur); !errors.Is(err, booking.ErrStale) {
			t.Errorf("Update of a deleted event = %v; want ErrStale", err)
		}
		cur.Base = nil
		if _, err := other.Update(ctx, cur); !errors.Is(err, booking.ErrStale) {
			t.Errorf("Update of a deleted event, no Base = %v; want ErrStale", err)
		}
	})
}

// A second Create of one event loses: the store's precondition failure,
// which domainErr maps to booking.ErrStale.
func TestEventCalendarCreateTwice(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		rec := evSample(t, "evt-twice")
		etag, err := ec.Create(t.Context(), rec)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		rec.Event.Title = "Autre"
		if _, err := ec.Create(t.Context(), rec); !errors.Is(err, booking.ErrStale) {
			t.Errorf("second Create = %v; want ErrStale", err)
		}
		got, err := ec.Read(t.Context(), "evt-twice")
		if err != nil || got.ETag != etag || got.Event.Title != evSample(t, "x").Event.Title {
			t.Errorf("after the second Create: %q %q %v", got.ETag, got.Event.Title, err)
		}
	})
}

// Objects that are missing or not internal events are ErrNotFound;
// objects that cannot be read are ErrInvalid naming the event.
func TestEventCalendarReadErrors(t *testing.T) {
	start := time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)
	kind := "X-ROOMCAL-KIND:internal-event"
	tests := []struct {
		name string
		id   string
		data []byte // stored as ObjectName(id) unless nil
		want error
	}{
		{"missing", "evt-missing", nil, booking.ErrNotFound},
		{"a plain event", "evt-plain", storetest.Event("evt-plain", "Pot", start, start.Add(time.Hour)), booking.ErrNotFound},
		{"a room booking", "evt-booking", storetest.Event("evt-booking", "Réunion", start, start.Add(time.Hour), "X-ROOMCAL-KIND:booking"), booking.ErrNotFound},
		{"end before start", "evt-backwards", storetest.Event("evt-backwards", "X", start, start.Add(-time.Hour), kind, "X-ROOMCAL-CAPACITY:3"), booking.ErrInvalid},
		{"no capacity", "evt-nocap", storetest.Event("evt-nocap", "X", start, start.Add(time.Hour), kind), booking.ErrInvalid},
		{"capacity not a number", "evt-lots", storetest.Event("evt-lots", "X", start, start.Add(time.Hour), kind, "X-ROOMCAL-CAPACITY:lots"), booking.ErrInvalid},
		{"waitlist not a boolean", "evt-maybe", storetest.Event("evt-maybe", "X", start, start.Add(time.Hour), kind, "X-ROOMCAL-CAPACITY:3", "X-ROOMCAL-WAITLIST:maybe"), booking.ErrInvalid},
		{"bad registration window", "evt-opens", storetest.Event("evt-opens", "X", start, start.Add(time.Hour), kind, "X-ROOMCAL-CAPACITY:3", "X-ROOMCAL-REGISTRATION-OPENS:demain"), booking.ErrInvalid},
		// (Radicale refuses objects with a bad RRULE, a missing DTSTART,
		// DTEND with DURATION or two masters, but not an unknown TZID.)
		{"unknown TZID", "evt-tzid", []byte(strings.ReplaceAll("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\n"+
			"UID:evt-tzid\nDTSTAMP:20250101T000000Z\nDTSTART;TZID=Mars/Olympus:20261210T130000\n"+
			"DTEND;TZID=Mars/Olympus:20261210T140000\n"+kind+"\nX-ROOMCAL-CAPACITY:3\nEND:VEVENT\nEND:VCALENDAR\n", "\n", "\r\n")), booking.ErrInvalid},
		{"another event's UID", "evt-moved", storetest.Event("evt-elsewhere", "X", start, start.Add(time.Hour), kind, "X-ROOMCAL-CAPACITY:3"), booking.ErrInvalid},
	}
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.data != nil {
					if _, err := s.Create(t.Context(), evCal, caldav.ObjectName(tt.id), tt.data); err != nil {
						t.Fatalf("the store refuses the object: %v", err)
					}
				}
				_, err := ec.Read(t.Context(), tt.id)
				if !errors.Is(err, tt.want) || !strings.Contains(fmtErr(err), tt.id) {
					t.Errorf("Read = %v; want %v naming %s", err, tt.want, tt.id)
				}
			})
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Changes lists created events (and other objects) and deletions, and
// starts again with a full listing from a token the store does not know.
func TestEventCalendarChanges(t *testing.T) {
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		ctx := t.Context()
		for _, id := range []string{"evt-a", "evt-b"} {
			if _, err := ec.Create(ctx, evSample(t, id)); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Date(2026, 12, 10, 13, 0, 0, 0, time.UTC)
		if _, err := s.Create(ctx, evCal, "plain.ics", storetest.Event("plain", "Pot", start, start.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		refs := func(rs []events.Ref) []string {
			var out []string
			for _, r := range rs {
				if r.ETag == "" {
					t.Errorf("ref %s without ETag", r.ID)
				}
				out = append(out, r.ID)
			}
			slices.Sort(out)
			return out
		}
		ch, err := ec.Changes(ctx, "")
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		if !ch.Full || ch.Token == "" || !reflect.DeepEqual(refs(ch.Changed), []string{"evt-a", "evt-b", "plain"}) || len(ch.Deleted) != 0 {
			t.Fatalf("first Changes = %+v", ch)
		}
		for _, r := range ch.Changed {
			rec, err := ec.Read(ctx, r.ID)
			switch {
			case r.ID == "plain":
				if !errors.Is(err, booking.ErrNotFound) {
					t.Errorf("Read(plain) = %v; want ErrNotFound", err)
				}
			case err != nil || rec.ETag != r.ETag:
				t.Errorf("Read(%s) = ETag %q, %v; listed with %q", r.ID, rec.ETag, err, r.ETag)
			}
		}

		if err := s.Delete(ctx, evCal, "evt-a.ics", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := ec.Create(ctx, evSample(t, "evt-c")); err != nil {
			t.Fatal(err)
		}
		next, err := ec.Changes(ctx, ch.Token)
		if err != nil {
			t.Fatalf("Changes(token): %v", err)
		}
		if next.Full || !reflect.DeepEqual(refs(next.Changed), []string{"evt-c"}) || !reflect.DeepEqual(next.Deleted, []string{"evt-a"}) || next.Token == ch.Token {
			t.Errorf("Changes(token) = %+v; want evt-c changed, evt-a deleted", next)
		}

		full, err := ec.Changes(ctx, "roomcal-fs:nope:1")
		if err != nil {
			t.Fatalf("Changes(unknown token): %v", err)
		}
		if !full.Full || !reflect.DeepEqual(refs(full.Changed), []string{"evt-b", "evt-c", "plain"}) {
			t.Errorf("Changes(unknown token) = %+v; want a full listing", full)
		}
		if err := ec.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// The object as the store serves it, read by an independent parser
// (Debian's python3-icalendar): registrations as ATTENDEE lines with
// their parameters and SCHEDULE-AGENT=CLIENT.
func TestEventCalendarPythonIcalendar(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import icalendar").CombinedOutput(); err != nil {
		t.Fatalf("this test needs %s with the icalendar module (apt-get install python3-icalendar): %v\n%s", python, err, out)
	}
	const script = `
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
e = next(iter(cal.walk('VEVENT')))
atts = e.get('attendee')
if not isinstance(atts, list):
    atts = [atts]
org = e.get('organizer')
print(json.dumps({
    'summary': str(e.get('summary')),
    'location': str(e.get('location')),
    'dtstart': e.decoded('dtstart').isoformat(),
    'kind': str(e.get('x-roomcal-kind')),
    'rev': str(e.get('x-roomcal-rev')),
    'organizer': [str(org), dict(org.params)],
    'attendees': [[str(a), dict(a.params)] for a in atts],
}, ensure_ascii=False))
`
	evEach(t, func(t *testing.T, s caldav.Store, ec *caldav.EventCalendar) {
		rec := evSample(t, "evt-python")
		if _, err := ec.Create(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		obj, err := s.Get(t.Context(), evCal, "evt-python.ics")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, "-c", script)
		cmd.Stdin = bytes.NewReader(obj.Data)
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("python could not read the object: %v\n%s\n%s", err, ee.Stderr, obj.Data)
			}
			t.Fatal(err)
		}
		var got struct {
			Summary, Location, Dtstart, Kind, Rev string
			Organizer                             []any
			Attendees                             [][]any
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got.Summary != rec.Event.Title || got.Location != rec.Event.Location || got.Dtstart != "2026-12-10T14:00:00+01:00" ||
			got.Kind != "internal-event" || got.Rev != "g7f3a:12" {
			t.Errorf("python reads %s", out)
		}
		if len(got.Organizer) != 2 || got.Organizer[0] != "mailto:jocelyn@example.org" ||
			!reflect.DeepEqual(got.Organizer[1], map[string]any{"CN": "Jocelyn Ménard", "SCHEDULE-AGENT": "CLIENT"}) {
			t.Errorf("python reads the organizer %v", got.Organizer)
		}
		if len(got.Attendees) != len(rec.Registrations) {
			t.Fatalf("python reads %d attendees, want %d:\n%s", len(got.Attendees), len(rec.Registrations), out)
		}
		for i, r := range rec.Registrations {
			value := "mailto:" + r.Email
			if r.Email == "" {
				value = "urn:roomcal:member:zo%C3%A9%20grande%2Fnantes"
			}
			ps := map[events.RegStatus]string{events.Confirmed: "ACCEPTED", events.Waitlisted: "TENTATIVE"}[r.Status]
			want := map[string]any{
				"CN": r.Name, "CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": ps, "RSVP": "FALSE",
				"SCHEDULE-AGENT": "CLIENT", "X-ROOMCAL-MEMBER": r.Member, "X-ROOMCAL-STATUS": string(r.Status),
				"X-ROOMCAL-SEQ": strconv.FormatInt(r.Seq, 10), "X-ROOMCAL-AT": r.At.UTC().Format("20060102T150405Z"),
			}
			a := got.Attendees[i]
			params, _ := a[1].(map[string]any)
			// This python-icalendar does not decode RFC 6868 (^' for a
			// double quote, ^^ for a caret): accept either form of CN.
			if cn, ok := params["CN"].(string); ok && rfc6868(cn) == r.Name {
				params["CN"] = r.Name
			}
			if a[0] != value || !reflect.DeepEqual(params, want) {
				t.Errorf("python reads attendee %d as %v %v;\nwant %v %v", i, a[0], a[1], value, want)
			}
		}
	})
}

// rfc6868 decodes caret-encoded parameter values.
func rfc6868(s string) string {
	return strings.NewReplacer("^'", `"`, "^n", "\n", "^^", "^").Replace(s)
}
