package caldav_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/testenv"
)

// settingsEach runs f against the FileStore, Radicale and Xandikos.
func settingsEach(t *testing.T, f func(t *testing.T, s caldav.Store)) {
	client := func(h testenv.Home) func(t *testing.T) caldav.Store {
		return func(t *testing.T) caldav.Store {
			c, err := caldav.NewClient(h.URL, caldav.ClientOptions{Username: h.User, Password: h.Password, Logger: testLogger(t)})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			return c
		}
	}
	for _, b := range []struct {
		name string
		open func(t *testing.T) caldav.Store
	}{
		{"FileStore", func(t *testing.T) caldav.Store { return fsOpen(t, t.TempDir(), caldav.FileStoreOptions{}) }},
		{"Radicale", func(t *testing.T) caldav.Store { return client(testenv.RadicaleHome(t))(t) }},
		{"Xandikos", func(t *testing.T) caldav.Store { return client(testenv.XandikosHome(t))(t) }},
	} {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

func settingsFixture() booking.RoomSettings {
	return booking.RoomSettings{
		Revision: 3,
		Room: booking.Room{
			ID: "salle-atelier", SiteID: "nantes", Name: "Atelier « Jules Verne », 2e étage; côté cour", Capacity: 14,
			Calendar:      "salle-atelier",
			Equipment:     []string{"vidéoprojecteur", "tableau, blanc"},
			Accessibility: []string{"accès fauteuil", "boucle magnétique"},
			Description:   "Grande salle lumineuse.\nCuisine à côté ; \"café\" offert.",
			Directions:    "Bâtiment B, 2e étage, porte de gauche\\droite",
			Hours: booking.OpeningHours{
				Weekly: map[time.Weekday][]booking.TimeRange{
					time.Monday:   {{From: booking.Clock(8, 30), To: booking.Clock(12, 0)}, {From: booking.Clock(13, 30), To: booking.Clock(19, 0)}},
					time.Saturday: {},
				},
				Closures: []booking.Closure{{From: booking.Date{Year: 2026, Month: 12, Day: 24}, To: booking.Date{Year: 2027, Month: 1, Day: 1}, Reason: "Fermeture de fin d'année, travaux"}},
			},
			Rules: booking.Rules{MaxDuration: 4 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * 24 * time.Hour, Buffer: 10 * time.Minute, AllowedGroups: []string{"salaries"},
				Quota:     booking.Quota{Scope: booking.ScopeRoom, PerWeek: 6 * time.Hour, Ahead: 5, Longest: 3 * time.Hour, Exempt: []string{"bureau"}},
				Approvers: []string{"ca"}, ApprovalWithin: 5 * 24 * time.Hour, CheckInWithin: 15 * time.Minute},
		},
		Audit: []booking.AuditEntry{
			{At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), By: "ada", ByName: "Ada", Action: "created"},
			{At: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), By: "bob", ByName: "Bob, l'admin", Action: "edited", Changes: []string{"capacity: 12 → 14"}},
		},
	}
}

// TestRoomSettingsRecord: the settings record round-trips through every
// server with every field (commas, semicolons, quotes, new lines and
// backslashes in its texts); a write over a stale ETag is ErrStale; a
// second create is refused; discovery finds the rooms that have a
// record and only them; and the record is never busy time, neither when
// the calendar is read whole (the sync loop) nor when it is queried.
func TestRoomSettingsRecord(t *testing.T) {
	settingsEach(t, func(t *testing.T, s caldav.Store) {
		ctx := t.Context()
		ss := caldav.NewRoomSettingsStore(s, testLogger(t), "evenements")
		want := settingsFixture()
		cal := want.Room.Calendar
		if err := ss.CreateRoomCalendar(ctx, cal, want.Room.Name); err != nil {
			t.Fatalf("CreateRoomCalendar: %v", err)
		}
		if err := ss.CreateRoomCalendar(ctx, cal, want.Room.Name); !errors.Is(err, booking.ErrExists) {
			t.Fatalf("second CreateRoomCalendar: %v, want ErrExists", err)
		}
		for _, c := range []string{"autre", "evenements"} {
			if err := s.CreateCalendar(ctx, c, c); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := ss.ReadSettings(ctx, cal); !errors.Is(err, booking.ErrNotFound) {
			t.Fatalf("ReadSettings before any write: %v, want ErrNotFound", err)
		}
		etag, err := ss.WriteSettings(ctx, cal, want, "")
		if err != nil || etag == "" {
			t.Fatalf("WriteSettings: %q, %v", etag, err)
		}
		if _, err := ss.WriteSettings(ctx, cal, want, ""); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("second create of the record: %v, want ErrStale", err)
		}
		got, gotETag, err := ss.ReadSettings(ctx, cal)
		if err != nil {
			t.Fatalf("ReadSettings: %v", err)
		}
		if gotETag != etag {
			t.Errorf("ETag read %q, written %q", gotETag, etag)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record read back differs:\n got  %#v\n want %#v", got, want)
		}

		next := want
		next.Revision = 4
		next.Room.Capacity = 20
		etag2, err := ss.WriteSettings(ctx, cal, next, etag)
		if err != nil {
			t.Fatalf("WriteSettings over %q: %v", etag, err)
		}
		if _, err := ss.WriteSettings(ctx, cal, want, etag); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("write over a stale ETag: %v, want ErrStale", err)
		}
		if got, _, _ := ss.ReadSettings(ctx, cal); got.Revision != 4 || got.Room.Capacity != 20 {
			t.Fatalf("after the update: revision %d capacity %d", got.Revision, got.Room.Capacity)
		}

		found, err := ss.DiscoverSettings(ctx)
		if err != nil {
			t.Fatalf("DiscoverSettings: %v", err)
		}
		if len(found) != 1 || found[0].Room.ID != want.Room.ID || found[0].Revision != 4 {
			t.Fatalf("DiscoverSettings found %+v, want the one room", found)
		}

		// Never busy: a booking beside it is the only busy time.
		room := want.Room
		rc := caldav.NewRoomCalendars(s, testLogger(t))
		paris, _ := time.LoadLocation("Europe/Paris")
		start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
		if _, err := rc.Create(ctx, room, paris, booking.Booking{ID: room.ID + "_b1", Room: room.ID, Start: start, End: start.Add(time.Hour),
			Title: "Réunion", Organizer: booking.Member{ID: "mia", Name: "Mia"}, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		w := booking.Interval{Start: time.Unix(0, 0).Add(-24 * time.Hour), End: start.Add(24 * time.Hour)}
		snap, problems, err := rc.Read(ctx, room, paris, w)
		if err != nil || len(problems) > 0 {
			t.Fatalf("Read: %v %v", err, problems)
		}
		st, ok := snap.Objects[booking.SettingsRef]
		if !ok || st.ETag != etag2 || len(st.Busy) != 0 {
			t.Errorf("settings object in the snapshot: %+v (present %v), want no busy interval and ETag %q", st, ok, etag2)
		}
		busy, _, err := rc.Busy(ctx, room, paris, w.Start, w.End)
		if err != nil {
			t.Fatal(err)
		}
		if len(busy) != 1 || busy[0].Ref != room.ID+"_b1" {
			t.Errorf("busy over 1970–now: %+v, want the booking only", busy)
		}
		if _, _, err := rc.Get(ctx, room, paris, booking.SettingsRef); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("the settings object read as a booking: %v", err)
		}
	})
}
