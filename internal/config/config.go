package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	_ "time/tzdata" // site time zones load even where the system has no zoneinfo

	"github.com/roomcal/roomcal/booking"
)

// EnvConfig is the environment variable that names the configuration file.
const EnvConfig = "ROOMCAL_CONFIG"

// DefaultFile is the file Load reads, from the working directory, when
// ROOMCAL_CONFIG is not set.
const DefaultFile = "roomcal.yaml"

// DemoSource is Config.Source when the built-in demo was used.
const DemoSource = "built-in demo"

//go:embed demo.yaml
var demoYAML []byte

// DemoYAML returns the built-in demo configuration (three sites, nine
// rooms): what Load uses when there is no roomcal.yaml, and a commented
// starting point for one. The slice is a fresh copy.
func DemoYAML() []byte { return append([]byte(nil), demoYAML...) }

// AuthMode says how roomcal learns who a request comes from.
type AuthMode string

// The authentication modes (see API.md, Identity).
const (
	AuthDev    AuthMode = "dev"    // a login page that asks for a name
	AuthHeader AuthMode = "header" // identity headers from a trusted reverse proxy
	AuthOIDC   AuthMode = "oidc"   // OpenID Connect, authorization code with PKCE
)

// Config is roomcal's whole configuration, resolved and validated: every
// default applied, every environment override taken, every site's time
// zone loaded. Load returns a fresh value each time; nothing is global.
// The slices and maps inside (rooms' equipment, opening hours…) are
// shared with what the lookup methods return: treat them as read-only.
type Config struct {
	// Source says where sites and rooms came from: the file's path as
	// given, or DemoSource.
	Source string
	// Demo is true when no file was found and the built-in demo is in use.
	Demo bool

	Addr    string // listen address, host:port (ROOMCAL_ADDR)
	DataDir string // directory of the embedded calendar store (ROOMCAL_DATA_DIR)
	// HelpImages is the directory the help page's pictures are served
	// from (ROOMCAL_HELP_IMAGES): screenshots that `make screenshots`
	// takes there; the page shows none while it is empty or missing.
	HelpImages string
	// PublicURL is the address members reach roomcal at, without a
	// trailing slash (ROOMCAL_PUBLIC_URL); empty when not set, and then
	// links are built from each request's Host.
	PublicURL string
	CalDAV    CalDAV
	// RedisURL is redis://, rediss:// or unix:// (ROOMCAL_REDIS_URL); empty
	// means the embedded engine (the same scripts, in process). It may
	// hold a password: it is redacted in String and LogValue.
	RedisURL string
	// RedisCluster says that RedisURL names one node of a Redis Cluster
	// (ROOMCAL_REDIS_CLUSTER); several nodes, as in
	// redis://h1:p1?addr=h2:p2&addr=h3:p3, say it without it. A cluster
	// is reached over TCP: redis:// or rediss://.
	RedisCluster bool
	Auth         Auth
	// SyncInterval is how often room calendars are checked for changes
	// made outside roomcal (ROOMCAL_SYNC_INTERVAL); at least one second.
	SyncInterval time.Duration
	// EventsCalendar is the name of the calendar that holds internal
	// events (ROOMCAL_EVENTS_CALENDAR); never one of the rooms' calendars.
	EventsCalendar string
	// RateLimit bounds each member's writes (ROOMCAL_RATE_LIMIT, like
	// "30/1m"; "0" turns it off): counted in Redis, so it holds across
	// replicas.
	RateLimit RateLimit
	LogLevel  slog.Level // ROOMCAL_LOG_LEVEL
	// SMTP is the mail server notices go out through (ROOMCAL_SMTP_URL);
	// disabled when not set.
	SMTP SMTP
	// MailFrom is the sender of notices (ROOMCAL_MAIL_FROM), required
	// with SMTP, as "Name <address>" or an address.
	MailFrom string
	// NoticeDailyCap is how many notices one member gets a day
	// (ROOMCAL_NOTICE_DAILY_CAP, default 10); the rest wait for one
	// daily digest.
	NoticeDailyCap int

	// Sites in the order of the file.
	Sites []booking.Site
	// Rooms by site, then in the order of the file; each room's Rules,
	// Hours and Calendar are resolved (global, site and room levels
	// merged, calendar defaulting to the room id).
	Rooms []booking.Room
}

// CalDAV is how to reach the calendar server.
type CalDAV struct {
	// URL is the calendar home of the service account, ending in "/"
	// (ROOMCAL_CALDAV_URL); empty means the embedded store in DataDir.
	URL      string
	User     string // ROOMCAL_CALDAV_USER
	Password Secret // ROOMCAL_CALDAV_PASSWORD
}

// Embedded reports whether roomcal keeps calendars itself (no URL).
func (c CalDAV) Embedded() bool { return c.URL == "" }

// Auth is how members are identified.
type Auth struct {
	Mode AuthMode // ROOMCAL_AUTH_MODE
	// TrustedProxies are the networks whose identity headers are believed
	// in header mode (ROOMCAL_TRUSTED_PROXIES). In header mode it is never
	// empty.
	TrustedProxies []netip.Prefix
	OIDC           OIDC
	// SessionKey signs the session cookies of pages
	// (ROOMCAL_SESSION_KEY); every replica must have the same. Required
	// (at least 32 characters) in oidc mode; dev mode makes one per
	// process when empty.
	SessionKey Secret
	// DevForce lets dev mode run against a real CalDAV server
	// (ROOMCAL_AUTH_DEV_FORCE): without it, dev mode (anyone may say
	// who they are) is refused unless the calendars are embedded.
	DevForce bool
}

// OIDC is the OpenID Connect client; Issuer and ClientID are set whenever
// Mode is AuthOIDC.
type OIDC struct {
	Issuer       string // ROOMCAL_OIDC_ISSUER
	ClientID     string // ROOMCAL_OIDC_CLIENT_ID
	ClientSecret Secret // ROOMCAL_OIDC_CLIENT_SECRET
	// GroupsClaim names the claim that lists a member's groups
	// (ROOMCAL_OIDC_GROUPS_CLAIM, default "groups"); organisers and
	// admins are recognised by group name.
	GroupsClaim string
}

// RateLimit is at most N requests per Per; N = 0 is no limit.
type RateLimit struct {
	N   int
	Per time.Duration
}

// String gives "N/DURATION", or "0" for no limit.
func (r RateLimit) String() string {
	if r.N == 0 {
		return "0"
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// Secret is a password or a client secret. Every way of printing or
// encoding it (fmt verbs, slog, encoding/json or text) gives "[redacted]",
// or "" when it is empty; Reveal gives the value itself.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string { return s.mask() }

// Format makes every fmt verb print the mask, never the value.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.mask()) }

// MarshalText encodes the mask, never the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// LogValue logs the mask, never the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// Load reads the configuration the way the roomcal command does, with env
// as the environment (os.Getenv in production; nil is an empty
// environment):
//   - the file named by ROOMCAL_CONFIG, which must exist;
//   - else ./roomcal.yaml when it exists;
//   - else the built-in demo (Config.Demo is true).
//
// then applies the ROOMCAL_* overrides (see Parse). An unreadable file
// gives an error that wraps the os error (errors.Is(err, fs.ErrNotExist)
// works) and names where the path came from; a wrong configuration gives
// an *InvalidError.
func Load(env func(string) string) (*Config, error) {
	env = orEmpty(env)
	if path := strings.TrimSpace(env(EnvConfig)); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: file named by %s: %w", EnvConfig, err)
		}
		return Parse(path, data, env)
	}
	data, err := os.ReadFile(DefaultFile)
	switch {
	case err == nil:
		return Parse(DefaultFile, data, env)
	case errors.Is(err, fs.ErrNotExist):
		c, err := Parse(DemoSource, demoYAML, env)
		if err != nil {
			return nil, err
		}
		c.Demo = true
		return c, nil
	}
	return nil, fmt.Errorf("config: %w", err)
}

// LoadFile reads the configuration file at path, then applies env as Parse
// does. Errors are as for Load.
func LoadFile(path string, env func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, env)
}

// Parse reads a configuration from data, named name in error messages and
// in Config.Source, and applies env (nil: no environment). A setting
// comes from its ROOMCAL_* environment variable when that is set and not
// blank, else from the file's server section, else from its default.
// When anything is wrong, Parse returns a nil *Config and an
// *InvalidError listing every problem, each with its key and line.
func Parse(name string, data []byte, env func(string) string) (*Config, error) {
	ps := &problems{file: name}
	c := &Config{Source: name}
	file := parseFile(ps, data, c)
	resolveSettings(ps, c, file, orEmpty(env))
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func orEmpty(env func(string) string) func(string) string {
	if env == nil {
		return func(string) string { return "" }
	}
	return env
}

// MapEnv returns an environment function over m, for tests and tools.
func MapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// SiteByID returns the site with that id.
func (c *Config) SiteByID(id string) (booking.Site, bool) {
	for _, s := range c.Sites {
		if s.ID == id {
			return s, true
		}
	}
	return booking.Site{}, false
}

// RoomByID returns the room with that id.
func (c *Config) RoomByID(id string) (booking.Room, bool) {
	for _, r := range c.Rooms {
		if r.ID == id {
			return r, true
		}
	}
	return booking.Room{}, false
}

// RoomsOfSite returns the rooms of a site in the order of the file; none
// for an unknown site.
func (c *Config) RoomsOfSite(siteID string) []booking.Room {
	var out []booking.Room
	for _, r := range c.Rooms {
		if r.SiteID == siteID {
			out = append(out, r)
		}
	}
	return out
}

// String summarises the configuration on one line, secrets redacted (also
// passwords inside URLs). It has a value receiver so that a Config printed
// by value is redacted too.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "source=%q addr=%s", c.Source, c.Addr)
	if c.PublicURL != "" {
		fmt.Fprintf(&b, " public_url=%s", redactURL(c.PublicURL))
	}
	if c.CalDAV.Embedded() {
		fmt.Fprintf(&b, " caldav=embedded data_dir=%s", c.DataDir)
	} else {
		fmt.Fprintf(&b, " caldav=%s caldav_user=%s caldav_password=%s", redactURL(c.CalDAV.URL), c.CalDAV.User, c.CalDAV.Password)
	}
	if c.RedisURL == "" {
		b.WriteString(" redis=in-process")
	} else {
		fmt.Fprintf(&b, " redis=%s", redactURL(c.RedisURL))
		if c.RedisCluster {
			b.WriteString(" redis_cluster=true")
		}
	}
	fmt.Fprintf(&b, " auth=%s", c.Auth.Mode)
	switch c.Auth.Mode {
	case AuthHeader:
		fmt.Fprintf(&b, " trusted_proxies=%s", joinPrefixes(c.Auth.TrustedProxies))
	case AuthOIDC:
		fmt.Fprintf(&b, " oidc_issuer=%s oidc_client_id=%s oidc_client_secret=%s oidc_groups_claim=%s", c.Auth.OIDC.Issuer, c.Auth.OIDC.ClientID, c.Auth.OIDC.ClientSecret, c.Auth.OIDC.GroupsClaim)
	case AuthDev:
		if c.Auth.DevForce {
			b.WriteString(" auth_dev_force=true")
		}
	}
	if c.Auth.SessionKey != "" {
		fmt.Fprintf(&b, " session_key=%s", c.Auth.SessionKey)
	}
	fmt.Fprintf(&b, " rate_limit=%s", c.RateLimit)
	fmt.Fprintf(&b, " smtp=%s", c.SMTP)
	if c.SMTP.Enabled() {
		fmt.Fprintf(&b, " mail_from=%q notice_daily_cap=%d", c.MailFrom, c.NoticeDailyCap)
	}
	fmt.Fprintf(&b, " sync_interval=%s events_calendar=%s log_level=%s sites=%d rooms=%d",
		c.SyncInterval, c.EventsCalendar, c.LogLevel, len(c.Sites), len(c.Rooms))
	return b.String()
}

// GoString is String, so that %#v does not print the Redis URL's password.
func (c Config) GoString() string { return c.String() }

// LogValue gives slog the settings as a group, secrets redacted.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("source", c.Source),
		slog.String("addr", c.Addr),
		slog.String("public_url", redactURL(c.PublicURL)),
		slog.String("data_dir", c.DataDir),
		slog.String("caldav_url", redactURL(c.CalDAV.URL)),
		slog.String("caldav_user", c.CalDAV.User),
		slog.Any("caldav_password", c.CalDAV.Password),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.Bool("redis_cluster", c.RedisCluster),
		slog.String("auth_mode", string(c.Auth.Mode)),
		slog.String("trusted_proxies", joinPrefixes(c.Auth.TrustedProxies)),
		slog.String("oidc_issuer", c.Auth.OIDC.Issuer),
		slog.String("oidc_client_id", c.Auth.OIDC.ClientID),
		slog.Any("oidc_client_secret", c.Auth.OIDC.ClientSecret),
		slog.String("oidc_groups_claim", c.Auth.OIDC.GroupsClaim),
		slog.Any("session_key", c.Auth.SessionKey),
		slog.Bool("auth_dev_force", c.Auth.DevForce),
		slog.String("rate_limit", c.RateLimit.String()),
		slog.String("smtp", c.SMTP.String()),
		slog.String("mail_from", c.MailFrom),
		slog.Int("notice_daily_cap", c.NoticeDailyCap),
		slog.Duration("sync_interval", c.SyncInterval),
		slog.String("events_calendar", c.EventsCalendar),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int("sites", len(c.Sites)),
		slog.Int("rooms", len(c.Rooms)),
	}
	return slog.GroupValue(attrs...)
}

// redactURL hides the password of a URL's user info; what does not parse
// is hidden whole, as it might be a secret.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	return u.Redacted()
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
