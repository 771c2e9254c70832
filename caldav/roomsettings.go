package caldav

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// Room settings records.
//
// The settings of a room edited in the admin pages live in the room's own
// calendar, as one object named roomcal-settings.ics: a VEVENT on
// 1970-01-01 (Nextcloud's calendars made by MKCALENDAR accept VEVENT only,
// so not a VJOURNAL), CLASS:PRIVATE (Nextcloud hides it from the people
// the calendar is shared with) and TRANSP:TRANSPARENT (never busy in
// free-busy), with X-ROOMCAL-KIND:settings and the record itself as JSON,
// base64-encoded, in X-ROOMCAL-SETTINGS (Radicale rewrites the escapes
// of an X- property's text: JSON's own "\n" did not come back whole). The room's calendar reader (busyOf) skips it: it
// is never busy time and never in a feed; the sync loop sees it as an
// object with no busy interval, so it survives every pass. The SUMMARY
// and DESCRIPTION say in words what it is, for whoever meets it in
// Nextcloud.

// KindSettings is the X-ROOMCAL-KIND of a room's settings object.
const KindSettings = "settings"

const (
	propSettings       = "X-ROOMCAL-SETTINGS"
	settingsObjectName = booking.SettingsRef + ".ics"
)

// RoomSettingsStore keeps room settings records in the room calendars of
// a Store. It implements booking.SettingsStore and is safe for
// concurrent use.
type RoomSettingsStore struct {
	store Store
	log   *slog.Logger
	// skip names calendars that are not rooms' (events, feed tokens):
	// DiscoverSettings does not look in them.
	skip map[string]bool
}

var _ booking.SettingsStore = (*RoomSettingsStore)(nil)

// NewRoomSettingsStore returns the settings records kept in store's
// calendars; notRooms are calendars that never hold one.
func NewRoomSettingsStore(store Store, log *slog.Logger, notRooms ...string) *RoomSettingsStore {
	if log == nil {
		log = slog.Default()
	}
	skip := map[string]bool{}
	for _, c := range notRooms {
		skip[c] = true
	}
	return &RoomSettingsStore{store: store, log: log, skip: skip}
}

// settingsJSON is the record as stored (version 1). Durations are whole
// seconds; wall-clock times minutes after midnight; dates YYYY-MM-DD.
type settingsJSON struct {
	Version  int         `json:"v"`
	Revision int         `json:"revision"`
	Room     roomRecord  `json:"room"`
	Audit    []auditJSON `json:"audit"`
	// Declared: a history-only record (booking.RoomSettings.Declared);
	// room then names the room and nothing of it is to be applied.
	Declared bool `json:"declared,omitempty"`
}

type roomRecord struct {
	ID            string   `json:"id"`
	Site          string   `json:"site"`
	Name          string   `json:"name"`
	Capacity      int      `json:"capacity"`
	Calendar      string   `json:"calendar"`
	Equipment     []string `json:"equipment,omitempty"`
	Accessibility []string `json:"accessibility,omitempty"`
	Description   string   `json:"description,omitempty"`
	Directions    string   `json:"directions,omitempty"`
	Retired       bool     `json:"retired,omitempty"`
	// Weekly: weekday number (0 Sunday) → ranges [from, to) in minutes;
	// absent or empty map: open around the clock; a day listed with no
	// range: closed that day.
	Weekly   map[string][][2]int `json:"weekly,omitempty"`
	Closures []closureRecord     `json:"closures,omitempty"`
	Rules    rulesRecord         `json:"rules"`
}

type closureRecord struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

type rulesRecord struct {
	MaxDuration   int64    `json:"max_duration_s,omitempty"`
	MinNotice     int64    `json:"min_notice_s,omitempty"`
	MaxAhead      int64    `json:"max_ahead_s,omitempty"`
	Buffer        int64    `json:"buffer_s,omitempty"`
	AllowedGroups []string `json:"allowed_groups,omitempty"`
	// Quotas, approval and check-in (booking/quota.go, approval.go,
	// checkin.go): kept through the record so a room saved in the pages
	// keeps them.
	QuotaScope     string   `json:"quota_scope,omitempty"`
	QuotaPerWeek   int64    `json:"quota_per_week_s,omitempty"`
	QuotaAhead     int      `json:"quota_ahead,omitempty"`
	QuotaLongest   int64    `json:"quota_longest_s,omitempty"`
	QuotaExempt    []string `json:"quota_exempt,omitempty"`
	Approvers      []string `json:"approvers,omitempty"`
	ApprovalWithin int64    `json:"approval_within_s,omitempty"`
	CheckInWithin  int64    `json:"checkin_within_s,omitempty"`
}

func rulesToRecord(r booking.Rules) rulesRecord {
	return rulesRecord{MaxDuration: secs(r.MaxDuration), MinNotice: secs(r.MinNotice),
		MaxAhead: secs(r.MaxAhead), Buffer: secs(r.Buffer), AllowedGroups: r.AllowedGroups,
		QuotaScope: string(r.Quota.Scope), QuotaPerWeek: secs(r.Quota.PerWeek), QuotaAhead: r.Quota.Ahead,
		QuotaLongest: secs(r.Quota.Longest), QuotaExempt: r.Quota.Exempt,
		Approvers: r.Approvers, ApprovalWithin: secs(r.ApprovalWithin), CheckInWithin: secs(r.CheckInWithin)}
}

func rulesFromRecord(rr rulesRecord) booking.Rules {
	return booking.Rules{MaxDuration: dur(rr.MaxDuration), MinNotice: dur(rr.MinNotice),
		MaxAhead: dur(rr.MaxAhead), Buffer: dur(rr.Buffer), AllowedGroups: rr.AllowedGroups,
		Quota: booking.Quota{Scope: booking.QuotaScope(rr.QuotaScope), PerWeek: dur(rr.QuotaPerWeek), Ahead: rr.QuotaAhead,
			Longest: dur(rr.QuotaLongest), Exempt: rr.QuotaExempt},
		Approvers: rr.Approvers, ApprovalWithin: dur(rr.ApprovalWithin), CheckInWithin: dur(rr.CheckInWithin)}
}

type auditJSON struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	ByName  string    `json:"by_name,omitempty"`
	Action  string    `json:"action"`
	Changes []string  `json:"changes,omitempty"`
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }
func dur(s int64) time.Duration  { return time.Duration(s) * time.Second }

// EncodeSettings writes a record as the settings object's iCalendar.
func EncodeSettings(st booking.RoomSettings) ([]byte, error) {
	r := st.Room
	rec := settingsJSON{Version: 1, Revision: st.Revision, Declared: st.Declared, Room: roomRecord{
		ID: r.ID, Site: r.SiteID, Name: r.Name, Capacity: r.Capacity, Calendar: r.Calendar,
		Equipment: r.Equipment, Accessibility: r.Accessibility, Description: r.Description, Directions: r.Directions,
		Retired: r.Retired,
		Rules:   rulesToRecord(r.Rules),
	}}
	if len(r.Hours.Weekly) > 0 {
		rec.Room.Weekly = map[string][][2]int{}
		for d, ranges := range r.Hours.Weekly {
			out := [][2]int{}
			for _, tr := range ranges {
				out = append(out, [2]int{int(tr.From), int(tr.To)})
			}
			rec.Room.Weekly[strconv.Itoa(int(d))] = out
		}
	}
	for _, c := range r.Hours.Closures {
		rec.Room.Closures = append(rec.Room.Closures, closureRecord{From: c.From.String(), To: c.To.String(), Reason: c.Reason})
	}
	for _, a := range st.Audit {
		rec.Audit = append(rec.Audit, auditJSON{At: a.At.UTC(), By: a.By, ByName: a.ByName, Action: a.Action, Changes: a.Changes})
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode settings of %s: %w", r.ID, err)
	}
	epoch := time.Unix(0, 0).UTC()
	now := time.Now().UTC()
	data, err := EncodeEvent(Event{
		UID: booking.SettingsRef + "-" + r.ID, Summary: "roomcal : réglages de la salle " + r.Name + " (ne pas modifier)",
		Description: "Objet tenu par roomcal : les réglages de la salle, modifiés dans les pages d'administration. / " +
			"Kept by roomcal: the room's settings, edited in roomcal's admin pages.",
		Start: epoch, End: epoch.Add(time.Minute), Class: "PRIVATE", Transp: "TRANSPARENT",
		Sequence: st.Revision, LastModified: now, DTStamp: now,
		XProps: map[string]string{propKind: KindSettings, propSettings: base64.StdEncoding.EncodeToString(js)},
	})
	if err != nil {
		return nil, fmt.Errorf("encode settings of %s: %w", r.ID, err)
	}
	return data, nil
}

// DecodeSettings reads a settings object; booking.ErrNotFound when obj
// is not one.
func DecodeSettings(obj Object) (booking.RoomSettings, error) {
	it, err := ParseObject(obj, time.UTC)
	if err != nil {
		return booking.RoomSettings{}, fmt.Errorf("settings object %s: %w: %w", obj.Name, booking.ErrInvalid, err)
	}
	ev := it.Master()
	if ev == nil || ev.XProps[propKind] != KindSettings {
		return booking.RoomSettings{}, fmt.Errorf("object %s is not a settings object: %w", obj.Name, booking.ErrNotFound)
	}
	js, err := base64.StdEncoding.DecodeString(ev.XProps[propSettings])
	if err != nil {
		return booking.RoomSettings{}, fmt.Errorf("settings object %s: %w: %w", obj.Name, booking.ErrInvalid, err)
	}
	var rec settingsJSON
	if err := json.Unmarshal(js, &rec); err != nil {
		return booking.RoomSettings{}, fmt.Errorf("settings object %s: %w: %w", obj.Name, booking.ErrInvalid, err)
	}
	if rec.Version != 1 {
		return booking.RoomSettings{}, fmt.Errorf("settings object %s: version %d: %w", obj.Name, rec.Version, booking.ErrInvalid)
	}
	rr := rec.Room
	r := booking.Room{
		ID: rr.ID, SiteID: rr.Site, Name: rr.Name, Capacity: rr.Capacity, Calendar: rr.Calendar,
		Equipment: rr.Equipment, Accessibility: rr.Accessibility, Description: rr.Description, Directions: rr.Directions,
		Retired: rr.Retired,
		Rules:   rulesFromRecord(rr.Rules),
	}
	if r.ID == "" || r.Calendar == "" {
		return booking.RoomSettings{}, fmt.Errorf("settings object %s: no room id or calendar: %w", obj.Name, booking.ErrInvalid)
	}
	if len(rr.Weekly) > 0 {
		r.Hours.Weekly = map[time.Weekday][]booking.TimeRange{}
		for k, ranges := range rr.Weekly {
			d, err := strconv.Atoi(k)
			if err != nil || d < 0 || d > 6 {
				return booking.RoomSettings{}, fmt.Errorf("settings object %s: weekday %q: %w", obj.Name, k, booking.ErrInvalid)
			}
			out := []booking.TimeRange{}
			for _, p := range ranges {
				out = append(out, booking.TimeRange{From: booking.ClockTime(p[0]), To: booking.ClockTime(p[1])})
			}
			r.Hours.Weekly[time.Weekday(d)] = out
		}
	}
	for _, c := range rr.Closures {
		from, err1 := parseDate(c.From)
		to, err2 := parseDate(c.To)
		if err := errors.Join(err1, err2); err != nil {
			return booking.RoomSettings{}, fmt.Errorf("settings object %s: closure: %w: %w", obj.Name, booking.ErrInvalid, err)
		}
		r.Hours.Closures = append(r.Hours.Closures, booking.Closure{From: from, To: to, Reason: c.Reason})
	}
	st := booking.RoomSettings{Room: r, Revision: rec.Revision, Declared: rec.Declared}
	for _, a := range rec.Audit {
		st.Audit = append(st.Audit, booking.AuditEntry{At: a.At, By: a.By, ByName: a.ByName, Action: a.Action, Changes: a.Changes})
	}
	return st, nil
}

func parseDate(s string) (booking.Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return booking.Date{}, err
	}
	return booking.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// ReadSettings implements booking.SettingsStore.
func (s *RoomSettingsStore) ReadSettings(ctx context.Context, calendar string) (booking.RoomSettings, string, error) {
	obj, err := s.store.Get(ctx, calendar, settingsObjectName)
	if err != nil {
		return booking.RoomSettings{}, "", fmt.Errorf("read settings in %s: %w", calendar, domainErr(err))
	}
	st, err := DecodeSettings(obj)
	if err != nil {
		return booking.RoomSettings{}, "", err
	}
	return st, obj.ETag, nil
}

// WriteSettings implements booking.SettingsStore: If-None-Match when etag
// is empty, If-Match otherwise. The object is only ever overwritten, never
// deleted (Nextcloud's trash bin refuses a name deleted and re-created
// too often).
func (s *RoomSettingsStore) WriteSettings(ctx context.Context, calendar string, st booking.RoomSettings, etag string) (string, error) {
	data, err := EncodeSettings(st)
	if err != nil {
		return "", err
	}
	var newETag string
	if etag == "" {
		newETag, err = s.store.Create(ctx, calendar, settingsObjectName, data)
	} else {
		newETag, err = s.store.Update(ctx, calendar, settingsObjectName, data, etag)
	}
	if err != nil {
		return "", fmt.Errorf("write settings in %s: %w", calendar, domainErr(err))
	}
	if newETag == "" {
		// Stored, but the server altered it: read the ETag back.
		obj, err := s.store.Get(ctx, calendar, settingsObjectName)
		if err != nil {
			return "", fmt.Errorf("read back settings in %s: %w", calendar, domainErr(err))
		}
		newETag = obj.ETag
	}
	return newETag, nil
}

// CreateRoomCalendar implements booking.SettingsStore.
func (s *RoomSettingsStore) CreateRoomCalendar(ctx context.Context, calendar, displayName string) error {
	err := s.store.CreateCalendar(ctx, calendar, displayName)
	if errors.Is(err, ErrExists) {
		return fmt.Errorf("calendar %s: %w", calendar, booking.ErrExists)
	}
	return domainErr(err)
}

// DiscoverSettings implements booking.SettingsStore: one listing of the
// calendars, then one GET of each one's settings object. A record that
// cannot be read is logged and left out (its room keeps what the catalog
// has); a server that cannot be reached is an error.
func (s *RoomSettingsStore) DiscoverSettings(ctx context.Context) ([]booking.RoomSettings, error) {
	cals, err := s.store.Calendars(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", domainErr(err))
	}
	var out []booking.RoomSettings
	for _, c := range cals {
		if s.skip[c.Name] {
			continue
		}
		st, _, err := s.ReadSettings(ctx, c.Name)
		switch {
		case err == nil:
			if st.Room.Calendar != c.Name {
				s.log.WarnContext(ctx, "room settings object names another calendar; ignored", "calendar", c.Name, "names", st.Room.Calendar)
				continue
			}
			out = append(out, st)
		case errors.Is(err, booking.ErrNotFound):
		case errors.Is(err, booking.ErrInvalid):
			s.log.WarnContext(ctx, "room settings object cannot be read; ignored", "calendar", c.Name, "err", err)
		default:
			return nil, err
		}
	}
	return out, nil
}
