package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

const day = 24 * time.Hour

func mustParseFile(t *testing.T, path string, env map[string]string) *Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(path, data, MapEnv(env))
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return c
}

func TestDemoLoadsAndValidates(t *testing.T) {
	t.Chdir(t.TempDir()) // no roomcal.yaml here
	c, err := Load(MapEnv(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.Demo || c.Source != DemoSource {
		t.Errorf("Demo=%v Source=%q, want the built-in demo", c.Demo, c.Source)
	}

	var siteIDs []string
	for _, s := range c.Sites {
		siteIDs = append(siteIDs, s.ID)
		if s.Location == nil || s.Location.String() != "Europe/Paris" {
			t.Errorf("site %s: Location %v, want Europe/Paris", s.ID, s.Location)
		}
		if s.Name == "" {
			t.Errorf("site %s has no name", s.ID)
		}
	}
	if want := []string{"nantes", "saint-nazaire", "la-roche-sur-yon"}; !slices.Equal(siteIDs, want) {
		t.Errorf("sites %v, want %v", siteIDs, want)
	}
	if n := len(c.Rooms); n < 8 || n > 9 {
		t.Errorf("%d rooms, want 8 or 9", n)
	}

	groupRooms, bufferRooms := 0, 0
	for _, r := range c.Rooms {
		if r.Capacity < 4 || r.Capacity > 40 {
			t.Errorf("room %s: capacity %d outside 4…40", r.ID, r.Capacity)
		}
		if r.Calendar == "" || len(r.Equipment) == 0 || r.Name == "" {
			t.Errorf("room %s: calendar %q, equipment %v, name %q", r.ID, r.Calendar, r.Equipment, r.Name)
		}
		if _, ok := c.SiteByID(r.SiteID); !ok {
			t.Errorf("room %s: unknown site %q", r.ID, r.SiteID)
		}
		if r.Rules.MinNotice != 15*time.Minute || r.Rules.MaxAhead != 90*day {
			t.Errorf("room %s: rules %+v, want 15m notice and 90 days ahead", r.ID, r.Rules)
		}
		if r.Rules.Buffer == 10*time.Minute {
			bufferRooms++
		}
		if slices.Equal(r.Rules.AllowedGroups, []string{"salaries"}) {
			groupRooms++
		}
		christmas := booking.Closure{From: booking.Date{Year: 2026, Month: 12, Day: 24}, To: booking.Date{Year: 2027, Month: 1, Day: 1}, Reason: "Fermeture de fin d'année"}
		if !slices.Contains(r.Hours.Closures, christmas) {
			t.Errorf("room %s: closures %v lack the end-of-year closure", r.ID, r.Hours.Closures)
		}
		if len(r.Hours.Weekly) == 0 {
			t.Errorf("room %s: no opening hours", r.ID)
		}
	}
	if groupRooms != 1 {
		t.Errorf("%d rooms limited to salaries, want 1", groupRooms)
	}
	if bufferRooms == 0 {
		t.Error("no room has a 10 min buffer")
	}
	if r, _ := c.RoomByID("nantes-loire"); r.Rules.MaxDuration != 4*time.Hour {
		t.Errorf("nantes-loire max duration %v, want 4h", r.Rules.MaxDuration)
	}

	// One site open on Saturday morning, one closed on weekends.
	nantes := c.RoomsOfSite("nantes")[0]
	if got := nantes.Hours.Weekly[time.Saturday]; !slices.Equal(got, []booking.TimeRange{{From: booking.Clock(9, 0), To: booking.Clock(13, 0)}}) {
		t.Errorf("Nantes on Saturday: %v, want 09:00-13:00", got)
	}
	for _, r := range c.RoomsOfSite("saint-nazaire") {
		if _, open := r.Hours.Weekly[time.Saturday]; open {
			t.Errorf("%s open on Saturday", r.ID)
		}
		if _, open := r.Hours.Weekly[time.Sunday]; open {
			t.Errorf("%s open on Sunday", r.ID)
		}
	}

	// Server settings: the defaults of API.md.
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || !c.CalDAV.Embedded() || c.RedisURL != "" ||
		c.Auth.Mode != AuthDev || c.SyncInterval != 30*time.Second || c.EventsCalendar != "evenements" || c.LogLevel != slog.LevelInfo {
		t.Errorf("defaults: %v", c)
	}
	wantProxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	if !slices.Equal(c.Auth.TrustedProxies, wantProxies) {
		t.Errorf("trusted proxies %v, want %v", c.Auth.TrustedProxies, wantProxies)
	}
}

func TestDemoYAMLIsACopy(t *testing.T) {
	a := DemoYAML()
	a[0] = 'X'
	if b := DemoYAML(); b[0] == 'X' || !bytes.Equal(b, demoYAML) {
		t.Error("DemoYAML shares its bytes with the embedded demo")
	}
}

func TestLookups(t *testing.T) {
	c, err := Parse("demo", DemoYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := c.SiteByID("saint-nazaire"); !ok || s.Name == "" {
		t.Errorf("SiteByID(saint-nazaire) = %+v, %v", s, ok)
	}
	if _, ok := c.SiteByID("paris"); ok {
		t.Error("SiteByID(paris) found a site")
	}
	if r, ok := c.RoomByID("la-roche-conseil"); !ok || r.SiteID != "la-roche-sur-yon" {
		t.Errorf("RoomByID(la-roche-conseil) = %+v, %v", r, ok)
	}
	if _, ok := c.RoomByID("nope"); ok {
		t.Error("RoomByID(nope) found a room")
	}
	var ids []string
	for _, r := range c.RoomsOfSite("la-roche-sur-yon") {
		ids = append(ids, r.ID)
	}
	if want := []string{"la-roche-bocage", "la-roche-conseil"}; !slices.Equal(ids, want) {
		t.Errorf("RoomsOfSite(la-roche-sur-yon) = %v, want %v", ids, want)
	}
	if got := c.RoomsOfSite("paris"); len(got) != 0 {
		t.Errorf("RoomsOfSite(paris) = %v, want none", got)
	}
}

// want is an expected problem, read from a "# want: KEY: MSG" comment in a
// fixture: a problem on that line whose "KEY: MSG" contains the text.
// "# want-noline: …" expects a problem that has no line.
type want struct {
	line int
	text string
}

func readWants(t *testing.T, path string) []want {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ws []want
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if _, after, ok := strings.Cut(text, "# want-noline: "); ok {
			ws = append(ws, want{0, strings.TrimSpace(after)})
			continue
		}
		parts := strings.Split(text, "# want: ")
		for _, p := range parts[1:] {
			ws = append(ws, want{n, strings.TrimSpace(p)})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestBadFiles parses each fixture of testdata/bad and checks that it gives
// exactly the problems its "# want:" comments announce, each with its key
// and line — all of them at once.
func TestBadFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			wants := readWants(t, path)
			if len(wants) == 0 {
				t.Fatal("fixture announces no problem")
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(path, data, nil)
			if c != nil {
				t.Error("Parse returned a config along with problems")
			}
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			got := invalid.Problems
			used := make([]bool, len(got))
			for _, w := range wants {
				found := false
				for i, p := range got {
					text := p.Msg
					if p.Key != "" {
						text = p.Key + ": " + p.Msg
					}
					if !used[i] && p.Line == w.line && strings.Contains(text, w.text) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("line %d: no problem %q", w.line, w.text)
				}
			}
			for i, p := range got {
				if !used[i] {
					t.Errorf("unexpected problem: %v", p)
				}
				if p.File != path {
					t.Errorf("problem %v names file %q, want %q", p, p.File, path)
				}
			}
			if t.Failed() {
				t.Logf("all problems:\n%v", err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	data := []byte("sites:\n  - id: nantes\n    name: Nantes\n    timezone: Europe/Paris\n    rooms:\n      - id: loire\n        name: Loire\n        capacity: douze\n")
	_, err := Parse("roomcal.yaml", data, MapEnv(map[string]string{"ROOMCAL_SYNC_INTERVAL": "often"}))
	if err == nil {
		t.Fatal("no error")
	}
	want := `roomcal.yaml:8: sites[0].rooms[0].capacity: must be a positive whole number, got "douze"` + "\n" +
		`ROOMCAL_SYNC_INTERVAL: must be a duration like 15m, 4h, 90d or 2w, got "often"`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	var p *Problem
	if !errors.As(err, &p) || p.Line != 8 {
		t.Errorf("errors.As(*Problem) = %v", p)
	}
}

func TestMerge(t *testing.T) {
	c := mustParseFile(t, "testdata/merge.yaml", nil)
	date := func(y int, m time.Month, d int) booking.Date { return booking.Date{Year: y, Month: m, Day: d} }
	rng := func(h1, m1, h2, m2 int) booking.TimeRange {
		return booking.TimeRange{From: booking.Clock(h1, m1), To: booking.Clock(h2, m2)}
	}
	office := []booking.TimeRange{rng(8, 0, 12, 0), rng(14, 0, 18, 0)}
	christmas := booking.Closure{From: date(2026, 12, 24), To: date(2027, 1, 1), Reason: "Fin d'année"}
	mayDay := booking.Closure{From: date(2026, 5, 1), To: date(2026, 5, 1)}

	tests := []struct {
		room      string
		site      string
		calendar  string
		equipment []string
		rules     booking.Rules
		weekly    map[time.Weekday][]booking.TimeRange
		closures  []booking.Closure
	}{
		{
			room: "loire", site: "nantes", calendar: "loire",
			rules: booking.Rules{MaxDuration: 2 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * day, Buffer: 10 * time.Minute, AllowedGroups: []string{"membres"}},
			weekly: map[time.Weekday][]booking.TimeRange{
				time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office,
				time.Saturday: {rng(9, 0, 12, 0)},
			},
			closures: []booking.Closure{mayDay, christmas},
		},
		{
			room: "erdre", site: "nantes", calendar: "Salle_Erdre.v2", equipment: []string{"écran", "visio"},
			rules: booking.Rules{MaxDuration: 8 * time.Hour, MinNotice: 0, MaxAhead: 90 * day, Buffer: 10 * time.Minute},
			weekly: map[time.Weekday][]booking.TimeRange{
				time.Monday: office, time.Tuesday: office, time.Wednesday: {rng(8, 30, 12, 0)}, time.Thursday: office, time.Friday: office,
				time.Sunday: {rng(10, 0, 12, 0), rng(14, 0, 16, 0)},
			},
			closures: []booking.Closure{{From: date(2026, 3, 10), To: date(2026, 3, 10), Reason: "Travaux"}, mayDay, christmas},
		},
		{
			room: "roche-bocage", site: "la-roche", calendar: "roche-bocage",
			rules:    booking.Rules{MaxDuration: 2 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * day, Buffer: 5 * time.Minute, AllowedGroups: []string{"membres"}},
			weekly:   nil,
			closures: []booking.Closure{christmas},
		},
	}
	for _, tt := range tests {
		t.Run(tt.room, func(t *testing.T) {
			r, ok := c.RoomByID(tt.room)
			if !ok {
				t.Fatalf("no room %s", tt.room)
			}
			if r.SiteID != tt.site || r.Calendar != tt.calendar || !slices.Equal(r.Equipment, tt.equipment) {
				t.Errorf("site %q calendar %q equipment %q, want %q %q %q", r.SiteID, r.Calendar, r.Equipment, tt.site, tt.calendar, tt.equipment)
			}
			if !reflect.DeepEqual(r.Rules, tt.rules) {
				t.Errorf("rules\n got %+v\nwant %+v", r.Rules, tt.rules)
			}
			if !reflect.DeepEqual(r.Hours.Weekly, tt.weekly) {
				t.Errorf("weekly hours\n got %v\nwant %v", r.Hours.Weekly, tt.weekly)
			}
			if !slices.Equal(r.Hours.Closures, tt.closures) {
				t.Errorf("closures\n got %v\nwant %v", r.Hours.Closures, tt.closures)
			}
		})
	}
	if s, _ := c.SiteByID("nantes"); s.HideTitles {
		t.Error("nantes hides titles without saying so")
	}
	if s, _ := c.SiteByID("la-roche"); s.Location.String() != "America/Cayenne" || !s.HideTitles {
		t.Errorf("la-roche zone %v, hides titles %v", s.Location, s.HideTitles)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	env := map[string]string{
		"ROOMCAL_ADDR":            ":8081",
		"ROOMCAL_PUBLIC_URL":      "https://env.example.coop/",
		"ROOMCAL_CALDAV_PASSWORD": "env-secret",
		"ROOMCAL_TRUSTED_PROXIES": "172.16.0.0/12, fd00::/8",
		"ROOMCAL_SYNC_INTERVAL":   " 2m ",
		"ROOMCAL_REDIS_URL":       "redis://:pw@redis:6379/0",
		"ROOMCAL_REDIS_CLUSTER":   "false",
		"ROOMCAL_LOG_LEVEL":       "   ", // blank: not set
	}
	envOnly := mustParseFile(t, "testdata/merge.yaml", env)
	env["ROOMCAL_AUTH_MODE"] = "OIDC" // server.yaml has the issuer and client id it needs
	fromEnv := mustParseFile(t, "testdata/server.yaml", env)
	fromFile := mustParseFile(t, "testdata/server.yaml", nil)
	defaults := mustParseFile(t, "testdata/merge.yaml", nil)

	tests := []struct {
		name      string
		got, want any
	}{
		{"file addr", fromFile.Addr, "0.0.0.0:9000"},
		{"env addr", fromEnv.Addr, ":8081"},
		{"env-only addr", envOnly.Addr, ":8081"},
		{"default addr", defaults.Addr, "127.0.0.1:8080"},

		{"file data_dir", fromEnv.DataDir, "/var/lib/roomcal"},
		{"default data_dir", defaults.DataDir, "./data"},

		{"file public_url", fromFile.PublicURL, "https://salles.example.coop"},
		{"env public_url", fromEnv.PublicURL, "https://env.example.coop"},
		{"default public_url", defaults.PublicURL, ""},

		{"file caldav_url, slash added", fromEnv.CalDAV.URL, "https://cloud.example.coop/remote.php/dav/calendars/roomcal/"},
		{"default caldav_url", defaults.CalDAV.Embedded(), true},
		{"file caldav_user", fromEnv.CalDAV.User, "roomcal"},
		{"file caldav_password", fromFile.CalDAV.Password.Reveal(), "file-secret"},
		{"env caldav_password", fromEnv.CalDAV.Password.Reveal(), "env-secret"},

		{"file redis_url", fromFile.RedisURL, "redis://file-redis:6379/1"},
		{"env redis_url", fromEnv.RedisURL, "redis://:pw@redis:6379/0"},
		{"default redis_url", defaults.RedisURL, ""},
		{"file redis_cluster", fromFile.RedisCluster, true},
		{"env redis_cluster", fromEnv.RedisCluster, false},
		{"default redis_cluster", defaults.RedisCluster, false},

		{"file auth_mode", fromFile.Auth.Mode, AuthHeader},
		{"env auth_mode", fromEnv.Auth.Mode, AuthOIDC},
		{"default auth_mode", defaults.Auth.Mode, AuthDev},

		{"file trusted_proxies", fromFile.Auth.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.10/32")}},
		{"env trusted_proxies", fromEnv.Auth.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("fd00::/8")}},

		{"file oidc", fromFile.Auth.OIDC.Issuer + " " + fromFile.Auth.OIDC.ClientID + " " + fromFile.Auth.OIDC.ClientSecret.Reveal(), "https://sso.example.coop/realms/coop roomcal file-oidc-secret"},

		{"file oidc_groups_claim", fromFile.Auth.OIDC.GroupsClaim, "roles"},
		{"default oidc_groups_claim", defaults.Auth.OIDC.GroupsClaim, "groups"},
		{"file session_key", fromFile.Auth.SessionKey.Reveal(), "file-session-key-of-at-least-32-characters"},
		{"file auth_dev_force", fromFile.Auth.DevForce, true},
		{"default auth_dev_force", defaults.Auth.DevForce, false},
		{"file rate_limit", fromFile.RateLimit, RateLimit{N: 20, Per: 30 * time.Second}},
		{"default rate_limit", defaults.RateLimit, RateLimit{N: 60, Per: time.Minute}},

		{"file sync_interval", fromFile.SyncInterval, time.Minute},
		{"env sync_interval", fromEnv.SyncInterval, 2 * time.Minute},
		{"default sync_interval", defaults.SyncInterval, 30 * time.Second},

		{"file events_calendar", fromEnv.EventsCalendar, "agenda"},
		{"default events_calendar", defaults.EventsCalendar, "evenements"},

		{"file log_level (env blank)", fromEnv.LogLevel, slog.LevelDebug},
		{"default log_level", defaults.LogLevel, slog.LevelInfo},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ROOMCAL_SYNC_INTERVAL": "often"}, `ROOMCAL_SYNC_INTERVAL: must be a duration like 15m, 4h, 90d or 2w, got "often"`},
		{map[string]string{"ROOMCAL_SYNC_INTERVAL": "10ms"}, `ROOMCAL_SYNC_INTERVAL: must be at least 1s`},
		{map[string]string{"ROOMCAL_TRUSTED_PROXIES": "10.0.0.0/8,bad"}, `ROOMCAL_TRUSTED_PROXIES: must be networks like 10.0.0.0/8 or 192.168.1.10, separated by commas; not understood: "bad"`},
		{map[string]string{"ROOMCAL_AUTH_MODE": "ldap"}, `ROOMCAL_AUTH_MODE: must be dev, header or oidc, got "ldap"`},
		{map[string]string{"ROOMCAL_ADDR": "8080"}, `ROOMCAL_ADDR: must be host:port`},
		{map[string]string{"ROOMCAL_ADDR": "localhost:http-alt"}, `ROOMCAL_ADDR: port must be a number`},
		{map[string]string{"ROOMCAL_CALDAV_URL": "ftp://cloud"}, `ROOMCAL_CALDAV_URL: must be a URL starting with https:// or http://`},
		{map[string]string{"ROOMCAL_REDIS_URL": "http://u:hunter2@redis"}, `ROOMCAL_REDIS_URL: must be a URL like redis://host:6379/0 (or rediss://, unix://), got "http://u:xxxxx@redis"`},
		{map[string]string{"ROOMCAL_OIDC_ISSUER": "sso.example.coop"}, `ROOMCAL_OIDC_ISSUER: must be a URL`},
		{map[string]string{"ROOMCAL_EVENTS_CALENDAR": "../events"}, `ROOMCAL_EVENTS_CALENDAR: must not start with "."`},
		{map[string]string{"ROOMCAL_EVENTS_CALENDAR": "nantes-loire"}, `ROOMCAL_EVENTS_CALENDAR: "nantes-loire" is also the calendar of room "nantes-loire"`},
		{map[string]string{"ROOMCAL_LOG_LEVEL": "loud"}, `ROOMCAL_LOG_LEVEL: must be debug, info, warn or error, got "loud"`},
		{map[string]string{"ROOMCAL_AUTH_MODE": "oidc", "ROOMCAL_OIDC_ISSUER": "https://sso", "ROOMCAL_SESSION_KEY": strings.Repeat("k", 32), "ROOMCAL_PUBLIC_URL": "https://salles.example.coop"}, `server.oidc_client_id: required when auth_mode is oidc (set it here or in ROOMCAL_OIDC_CLIENT_ID)`},
		// Links in feeds and mail are never built from a request's Host
		// header: outside dev mode on loopback, the public URL is needed.
		{map[string]string{"ROOMCAL_AUTH_MODE": "header"}, `server.public_url: required`},
		{map[string]string{"ROOMCAL_ADDR": ":8080"}, `server.public_url: required`},
		{map[string]string{"ROOMCAL_ADDR": "0.0.0.0:8080", "ROOMCAL_AUTH_MODE": "dev"}, `server.public_url: required`},
		{map[string]string{"ROOMCAL_SESSION_KEY": "short"}, `ROOMCAL_SESSION_KEY: must be at least 32 characters`},
		{map[string]string{"ROOMCAL_RATE_LIMIT": "lots"}, `ROOMCAL_RATE_LIMIT: must be N/DURATION like 60/1m, or 0 for none, got "lots"`},
		{map[string]string{"ROOMCAL_RATE_LIMIT": "10/0s"}, `ROOMCAL_RATE_LIMIT: must be N/DURATION like 60/1m with a duration of at least 1s`},
		{map[string]string{"ROOMCAL_AUTH_DEV_FORCE": "maybe"}, `ROOMCAL_AUTH_DEV_FORCE: must be true or false, got "maybe"`},
		{map[string]string{"ROOMCAL_REDIS_CLUSTER": "maybe"}, `ROOMCAL_REDIS_CLUSTER: must be true or false, got "maybe"`},
		{map[string]string{"ROOMCAL_REDIS_CLUSTER": "true"}, `ROOMCAL_REDIS_CLUSTER: needs redis_url`},
		{map[string]string{"ROOMCAL_REDIS_URL": "unix:///run/redis.sock", "ROOMCAL_REDIS_CLUSTER": "true"}, `ROOMCAL_REDIS_URL: a Redis Cluster is reached over TCP: use redis:// or rediss://, got "unix:///run/redis.sock"`},
		{map[string]string{"ROOMCAL_REDIS_URL": "unix://u:hunter2@/run/redis.sock?addr=10.0.0.2:6379"}, `ROOMCAL_REDIS_URL: a Redis Cluster is reached over TCP`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Parse("demo", DemoYAML(), MapEnv(tt.env))
			var invalid *InvalidError
			if !errors.As(err, &invalid) || len(invalid.Problems) != 1 {
				t.Fatalf("err = %v, want one problem", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

// A Redis Cluster is named by several nodes in one URL, or by one node
// and ROOMCAL_REDIS_CLUSTER; either way it is said in String, and the
// URL's password is not.
func TestRedisCluster(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		url     string
		cluster bool
		str     string
	}{
		{"single node", map[string]string{"ROOMCAL_REDIS_URL": "redis://:hunter2@redis:6379/0"},
			"redis://:hunter2@redis:6379/0", false, " redis=redis://:xxxxx@redis:6379/0 auth="},
		{"several nodes", map[string]string{"ROOMCAL_REDIS_URL": "redis://:hunter2@r1:7000?addr=r2:7000&addr=r3:7000"},
			"redis://:hunter2@r1:7000?addr=r2:7000&addr=r3:7000", false, " redis=redis://:xxxxx@r1:7000?addr=r2:7000&addr=r3:7000 auth="},
		{"one seed node and the flag", map[string]string{"ROOMCAL_REDIS_URL": "rediss://:hunter2@r1:7000", "ROOMCAL_REDIS_CLUSTER": "true"},
			"rediss://:hunter2@r1:7000", true, " redis=rediss://:xxxxx@r1:7000 redis_cluster=true auth="},
		{"the flag off", map[string]string{"ROOMCAL_REDIS_URL": "redis://r1:7000", "ROOMCAL_REDIS_CLUSTER": "0"},
			"redis://r1:7000", false, " redis=redis://r1:7000 auth="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("demo", DemoYAML(), MapEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.RedisURL != tt.url || c.RedisCluster != tt.cluster {
				t.Errorf("RedisURL %q RedisCluster %v, want %q %v", c.RedisURL, c.RedisCluster, tt.url, tt.cluster)
			}
			if s := c.String(); !strings.Contains(s, tt.str) || strings.Contains(s, "hunter2") {
				t.Errorf("String() = %q, want it to contain %q and no password", s, tt.str)
			}
		})
	}
}

func TestEnvAllErrorsAtOnce(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/capacity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("capacity.yaml", data, MapEnv(map[string]string{
		"ROOMCAL_SYNC_INTERVAL":   "-5s",
		"ROOMCAL_TRUSTED_PROXIES": "nowhere",
	}))
	var invalid *InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v", err)
	}
	var envs []string
	for _, p := range invalid.Problems {
		if p.Env != "" {
			envs = append(envs, p.Env)
		}
	}
	// Six capacity problems, then the environment's, last.
	if want := []string{"ROOMCAL_TRUSTED_PROXIES", "ROOMCAL_SYNC_INTERVAL"}; len(invalid.Problems) != 8 || !slices.Equal(envs, want) ||
		invalid.Problems[6].Env != want[0] {
		t.Errorf("problems:\n%v", err)
	}
}

func TestLoadSources(t *testing.T) {
	merge, err := filepath.Abs("testdata/merge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := filepath.Abs("testdata/bad/capacity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	local := []byte("sites:\n  - id: ici\n    name: Ici\n    timezone: UTC\n")

	tests := []struct {
		name       string
		localFile  []byte // ./roomcal.yaml, when not nil
		env        map[string]string
		wantSource string
		wantSite   string
		wantDemo   bool
	}{
		{name: "ROOMCAL_CONFIG wins over ./roomcal.yaml", localFile: local, env: map[string]string{EnvConfig: merge}, wantSource: merge, wantSite: "nantes"},
		{name: "./roomcal.yaml when ROOMCAL_CONFIG is unset", localFile: local, wantSource: DefaultFile, wantSite: "ici"},
		{name: "blank ROOMCAL_CONFIG is unset", localFile: local, env: map[string]string{EnvConfig: " "}, wantSource: DefaultFile, wantSite: "ici"},
		{name: "demo when there is no file", wantSource: DemoSource, wantSite: "saint-nazaire", wantDemo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tt.localFile != nil {
				if err := os.WriteFile(DefaultFile, tt.localFile, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(MapEnv(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Source != tt.wantSource || c.Demo != tt.wantDemo {
				t.Errorf("Source %q Demo %v, want %q %v", c.Source, c.Demo, tt.wantSource, tt.wantDemo)
			}
			if _, ok := c.SiteByID(tt.wantSite); !ok {
				t.Errorf("no site %q: the wrong file was read", tt.wantSite)
			}
		})
	}

	t.Run("ROOMCAL_CONFIG names a missing file", func(t *testing.T) {
		t.Chdir(t.TempDir())
		missing := filepath.Join(t.TempDir(), "nope.yaml")
		c, err := Load(MapEnv(map[string]string{EnvConfig: missing}))
		if c != nil || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Load = %v, %v; want nil and fs.ErrNotExist", c, err)
		}
		for _, part := range []string{EnvConfig, missing} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not name %s", err, part)
			}
		}
	})
	t.Run("LoadFile of a missing file", func(t *testing.T) {
		c, err := LoadFile("testdata/nope.yaml", nil)
		if c != nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "testdata/nope.yaml") {
			t.Fatalf("LoadFile = %v, %v; want nil and an error naming the path", c, err)
		}
	})
	t.Run("ROOMCAL_CONFIG names an invalid file", func(t *testing.T) {
		_, err := Load(MapEnv(map[string]string{EnvConfig: bad}))
		var invalid *InvalidError
		if !errors.As(err, &invalid) || !strings.HasPrefix(err.Error(), bad+":9: sites[0].rooms[0].capacity:") {
			t.Fatalf("err = %v, want the file's problems", err)
		}
	})
	t.Run("./roomcal.yaml that cannot be read", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := os.Mkdir(DefaultFile, 0o700); err != nil {
			t.Fatal(err)
		}
		c, err := Load(nil)
		if c != nil || err == nil || !strings.Contains(err.Error(), DefaultFile) {
			t.Fatalf("Load = %v, %v; want an error, not the demo", c, err)
		}
	})
	t.Run("LoadFile applies the environment", func(t *testing.T) {
		c, err := LoadFile("testdata/merge.yaml", MapEnv(map[string]string{"ROOMCAL_ADDR": ":9999", "ROOMCAL_PUBLIC_URL": "https://salles.example.coop"}))
		if err != nil || c.Addr != ":9999" || c.Source != "testdata/merge.yaml" {
			t.Fatalf("LoadFile = %v, %v", c, err)
		}
	})
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := mustParseFile(t, "testdata/server.yaml", map[string]string{
		"ROOMCAL_CALDAV_PASSWORD":    "caldav-hunter2",
		"ROOMCAL_OIDC_CLIENT_SECRET": "oidc-hunter2",
		"ROOMCAL_REDIS_URL":          "redis://user:redis-hunter2@redis:6379/0",
		"ROOMCAL_AUTH_MODE":          "oidc",
	})
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c)
	jsonData, err := json.Marshal(c.CalDAV)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":       c.String(),
		"%v":           fmt.Sprintf("%v", c),
		"%+v":          fmt.Sprintf("%+v", *c),
		"%#v":          fmt.Sprintf("%#v", c),
		"%v CalDAV":    fmt.Sprintf("%v", c.CalDAV),
		"%+v Auth":     fmt.Sprintf("%+v", c.Auth),
		"%#v Auth":     fmt.Sprintf("%#v", c.Auth),
		"%s secret":    fmt.Sprintf("%s", c.CalDAV.Password),
		"%q secret":    fmt.Sprintf("%q", c.CalDAV.Password),
		"%x secret":    fmt.Sprintf("%x", c.CalDAV.Password),
		"%d secret":    fmt.Sprintf("%d", c.CalDAV.Password),
		"slog":         logged.String(),
		"json CalDAV":  string(jsonData),
		"slog secret":  c.Auth.OIDC.ClientSecret.LogValue().String(),
		"error string": (&Problem{Env: "X", Msg: c.CalDAV.Password.String()}).Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s shows a secret: %s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s does not say a secret was redacted: %s", name, out)
		}
	}
	if c.CalDAV.Password.Reveal() != "caldav-hunter2" || c.Auth.OIDC.ClientSecret.Reveal() != "oidc-hunter2" {
		t.Error("Reveal does not give the secrets back")
	}
	if s := Secret("").String(); s != "" {
		t.Errorf("empty secret prints %q", s)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"0", 0, ""},
		{"none", 0, ""},
		{"15m", 15 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"90d", 90 * day, ""},
		{"2w", 14 * day, ""},
		{"1w2d", 9 * day, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{" 4h ", 4 * time.Hour, ""},
		{"15", 0, "needs a unit"},
		{"-1h", 0, "must not be negative"},
		{"4 heures", 0, "must be a duration like"},
		{"3j", 0, "must be a duration like"},
		{"", 0, "got nothing"},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseDuration(%q) error %v, want %q", tt.in, err, tt.wantErr)
		}
	}
	for d, want := range map[time.Duration]string{0: "0", 90 * day: "90d", 14 * day: "2w", 36 * time.Hour: "36h0m0s"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in       string
		from, to booking.ClockTime
		wantErr  string
	}{
		{"08:00-20:00", booking.Clock(8, 0), booking.Clock(20, 0), ""},
		{" 8:30 - 12:00 ", booking.Clock(8, 30), booking.Clock(12, 0), ""},
		{"8h-12h30", booking.Clock(8, 0), booking.Clock(12, 30), ""},
		{"00:00-24:00", 0, 1440, ""},
		{"20:00-08:00", 0, 0, "must end after it starts"},
		{"10:00-10:00", 0, 0, "must end after it starts"},
		{"24:00-24:00", 0, 0, "can only end a range"},
		{"08:60-09:00", 0, 0, "not a time of day"},
		{"24:30-24:45", 0, 0, "not a time of day"},
		{"8-12", 0, 0, "not a time like"},
		{"08:00", 0, 0, "not a range"},
		{"closed", 0, 0, "not a range"},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || got != booking.TimeRange{From: tt.from, To: tt.to}):
			t.Errorf("parseRange(%q) = %v, %v; want %v-%v", tt.in, got, err, tt.from, tt.to)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseRange(%q) error %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestParseDays(t *testing.T) {
	M, Tu, W, Th, F, Sa, Su := time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday
	tests := []struct {
		in      string
		want    []time.Weekday
		wantErr string
	}{
		{"mon", []time.Weekday{M}, ""},
		{"Sun", []time.Weekday{Su}, ""},
		{"mon-fri", []time.Weekday{M, Tu, W, Th, F}, ""},
		{"sat-mon", []time.Weekday{Sa, Su, M}, ""},
		{"mon-wed, fri", []time.Weekday{M, Tu, W, F}, ""},
		{"sat,sun", []time.Weekday{Sa, Su}, ""},
		{"lundi", nil, `unknown day "lundi"`},
		{"mon-fry", nil, `unknown day "fry"`},
	}
	for _, tt := range tests {
		got, err := parseDays(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("parseDays(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseDays(%q) error %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes("10.1.2.3/8, 192.168.1.10 ::1,fd00::/8")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.10/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8"),
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parsePrefixes = %v, %v; want %v", got, err, want)
	}
	if _, err := parsePrefixes("10.0.0.0/8,10.0.0/8,fe80::1%eth0"); err == nil || !strings.Contains(err.Error(), `"10.0.0/8", "fe80::1%eth0"`) {
		t.Errorf("parsePrefixes of bad networks: %v", err)
	}
}

func TestIDsAndCalendars(t *testing.T) {
	for _, ok := range []string{"nantes", "salle-2", "a"} {
		if err := checkID(ok); err != nil {
			t.Errorf("checkID(%q) = %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"Salle Loire":           `(for example "salle-loire")`,
		"Réunion d'équipe":      `(for example "reunion-d-equipe")`,
		"":                      "required",
		strings.Repeat("a", 65): "at most 64",
		"salle_loire":           `(for example "salle-loire")`,
		"nantes/loire":          `(for example "nantes-loire")`,
		"salle.loire":           "must use only a-z",
		"UPPER":                 `(for example "upper")`,
		"été":                   "must use only a-z",
	} {
		if err := checkID(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkID(%q) = %v, want %q", in, err, want)
		}
	}
	for _, ok := range []string{"salle-loire", "Salle_Loire.v2", "personal"} {
		if err := checkCalendar(ok); err != nil {
			t.Errorf("checkCalendar(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", `a\b`, ".hidden", "a b", "a%2Fb", "a?b"} {
		if err := checkCalendar(bad); err == nil {
			t.Errorf("checkCalendar(%q) accepted", bad)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"id", "name", "timezone", "hours", "closures", "rules", "rooms"}
	for in, want := range map[string]string{
		"timzone":  "timezone",
		"TimeZone": "timezone",
		"hour":     "hours",
		"room":     "rooms",
		"nom":      "",
		"couleur":  "",
		"closure":  "closures",
	} {
		if got := closest(in, keys); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocExample parses the example file of the package documentation, so
// that the documentation cannot drift from what Parse accepts.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var yamlText strings.Builder
	in := false
	for l := range strings.SplitSeq(string(src), "\n") {
		if strings.HasPrefix(l, "//\tserver:") {
			in = true
		}
		if in && !strings.HasPrefix(l, "//\t") {
			break
		}
		if in {
			yamlText.WriteString(strings.TrimPrefix(l, "//\t") + "\n")
		}
	}
	c, err := Parse("doc.go example", []byte(yamlText.String()), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, yamlText.String())
	}
	r, ok := c.RoomByID("nantes-loire")
	if !ok {
		t.Fatal("no room nantes-loire")
	}
	wantRules := booking.Rules{MaxDuration: 8 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * day, Buffer: 10 * time.Minute,
		Quota:     booking.Quota{Scope: booking.ScopeSite, PerWeek: 6 * time.Hour, Ahead: 5, Longest: 3 * time.Hour, Exempt: []string{"bureau"}},
		Approvers: []string{"ca"}, ApprovalWithin: 7 * 24 * time.Hour, CheckInWithin: 15 * time.Minute}
	if !reflect.DeepEqual(r.Rules, wantRules) {
		t.Errorf("rules %+v, want %+v", r.Rules, wantRules)
	}
	if _, open := r.Hours.Weekly[time.Saturday]; open || len(r.Hours.Weekly) != 5 || len(r.Hours.Closures) != 5 {
		t.Errorf("hours %v", r.Hours)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.1.1:80": true, "localhost:8080": true, "[::1]:8080": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "10.0.0.5:8080": false, "salles.example.coop:443": false, "nohost": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
