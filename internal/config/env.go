package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// setting is one key of the file's server section, overridable by the
// environment variable ROOMCAL_<KEY IN CAPITALS>.
type setting struct {
	key string // under server: in the file
	def string // default, used when neither the environment nor the file sets it
	// set parses v (trimmed, not blank) into c; its error is a message
	// without key or line. It is not called for a blank value, which
	// leaves the zero value.
	set func(c *Config, v string) error
}

func (s setting) envName() string { return "ROOMCAL_" + strings.ToUpper(s.key) }

// settings lists the server settings in the order of the documentation.
func settings() []setting {
	return []setting{
		{"addr", "127.0.0.1:8080", func(c *Config, v string) error {
			host, port, err := net.SplitHostPort(v)
			if err != nil || port == "" || strings.ContainsAny(host, " /") {
				return fmt.Errorf("must be host:port, like 127.0.0.1:8080 or :8080, got %q", v)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
			}
			c.Addr = v
			return nil
		}},
		{"data_dir", "./data", func(c *Config, v string) error { c.DataDir = v; return nil }},
		{"help_images", "./help-images", func(c *Config, v string) error { c.HelpImages = v; return nil }},
		{"public_url", "", func(c *Config, v string) error {
			u, err := httpURL(v)
			if err != nil {
				return err
			}
			c.PublicURL = strings.TrimRight(u.String(), "/")
			return nil
		}},
		{"caldav_url", "", func(c *Config, v string) error {
			u, err := httpURL(v)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
			}
			c.CalDAV.URL = u.String()
			return nil
		}},
		{"caldav_user", "", func(c *Config, v string) error { c.CalDAV.User = v; return nil }},
		{"caldav_password", "", func(c *Config, v string) error { c.CalDAV.Password = Secret(v); return nil }},
		{"redis_url", "", func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
				return fmt.Errorf("must be a URL like redis://host:6379/0 (or rediss://, unix://), got %q", redactURL(v))
			}
			c.RedisURL = v
			return nil
		}},
		{"redis_cluster", "false", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false, got %q", v)
			}
			c.RedisCluster = b
			return nil
		}},
		{"auth_mode", string(AuthDev), func(c *Config, v string) error {
			switch m := AuthMode(strings.ToLower(v)); m {
			case AuthDev, AuthHeader, AuthOIDC:
				c.Auth.Mode = m
				return nil
			}
			return fmt.Errorf("must be dev, header or oidc, got %q", v)
		}},
		{"trusted_proxies", "127.0.0.1/32,::1/128", func(c *Config, v string) error {
			ps, err := parsePrefixes(v)
			c.Auth.TrustedProxies = ps
			return err
		}},
		{"oidc_issuer", "", func(c *Config, v string) error {
			u, err := httpURL(v)
			if err != nil {
				return err
			}
			c.Auth.OIDC.Issuer = u.String()
			return nil
		}},
		{"oidc_client_id", "", func(c *Config, v string) error { c.Auth.OIDC.ClientID = v; return nil }},
		{"oidc_client_secret", "", func(c *Config, v string) error { c.Auth.OIDC.ClientSecret = Secret(v); return nil }},
		{"oidc_groups_claim", "groups", func(c *Config, v string) error { c.Auth.OIDC.GroupsClaim = v; return nil }},
		{"session_key", "", func(c *Config, v string) error {
			if len(v) < 32 {
				return fmt.Errorf("must be at least 32 characters (e.g. openssl rand -base64 48), got %d", len(v))
			}
			c.Auth.SessionKey = Secret(v)
			return nil
		}},
		{"auth_dev_force", "false", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false, got %q", v)
			}
			c.Auth.DevForce = b
			return nil
		}},
		{"rate_limit", "60/1m", func(c *Config, v string) error {
			if v == "0" {
				c.RateLimit = RateLimit{}
				return nil
			}
			n, per, ok := strings.Cut(v, "/")
			count, err := strconv.Atoi(n)
			if !ok || err != nil || count < 1 {
				return fmt.Errorf("must be N/DURATION like 60/1m, or 0 for none, got %q", v)
			}
			d, err := parseDuration(per)
			if err != nil || d < time.Second {
				return fmt.Errorf("must be N/DURATION like 60/1m with a duration of at least 1s, got %q", v)
			}
			c.RateLimit = RateLimit{N: count, Per: d}
			return nil
		}},
		{"sync_interval", "30s", func(c *Config, v string) error {
			d, err := parseDuration(v)
			if err != nil {
				return err
			}
			if d < time.Second {
				return fmt.Errorf("must be at least 1s, got %q", v)
			}
			c.SyncInterval = d
			return nil
		}},
		{"events_calendar", "evenements", func(c *Config, v string) error {
			if err := checkCalendar(v); err != nil {
				return err
			}
			c.EventsCalendar = v
			return nil
		}},
		{"smtp_url", "", func(c *Config, v string) error {
			s, err := parseSMTPURL(v)
			if err != nil {
				return err
			}
			c.SMTP = s
			return nil
		}},
		{"mail_from", "", func(c *Config, v string) error {
			a, err := parseMailFrom(v)
			if err != nil {
				return err
			}
			c.MailFrom = a.String()
			return nil
		}},
		{"notice_daily_cap", "10", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return fmt.Errorf("must be a number of messages from 1 to 1000, got %q", v)
			}
			c.NoticeDailyCap = n
			return nil
		}},
		{"log_level", "info", func(c *Config, v string) error {
			if strings.EqualFold(v, "warning") {
				v = "warn"
			}
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("must be debug, info, warn or error, got %q", v)
			}
			return nil
		}},
	}
}

// settingKeys are the keys allowed under server:.
func settingKeys() []string {
	var keys []string
	for _, s := range settings() {
		keys = append(keys, s.key)
	}
	return keys
}

// fileValue is a server setting as the file gives it.
type fileValue struct {
	value string
	line  int
}

// origin says where a setting's value came from, to blame the right place.
type origin struct {
	env  string // variable name, when from the environment
	line int    // line in the file, when from the file
	set  bool   // false: the default
}

// resolveSettings fills c's server settings from env, else the file, else
// the defaults, and checks the settings that depend on each other.
func resolveSettings(ps *problems, c *Config, f *fileSettings, env func(string) string) {
	from := map[string]origin{}
	for _, s := range settings() {
		v, o := s.def, origin{}
		if fv, ok := f.server[s.key]; ok {
			v, o = fv.value, origin{line: fv.line, set: true}
		}
		if ev := strings.TrimSpace(env(s.envName())); ev != "" {
			v, o = ev, origin{env: s.envName(), set: true}
		}
		from[s.key] = o
		if v == "" {
			continue // an optional setting left unset: its zero value
		}
		if err := s.set(c, v); err != nil {
			blame(ps, f, s.key, o, "%v", err)
		}
	}

	if c.RedisCluster && c.RedisURL == "" {
		blame(ps, f, "redis_cluster", from["redis_cluster"], "needs redis_url: the address of one node of the cluster (or several, as redis://h1:p1?addr=h2:p2)")
	}
	if strings.HasPrefix(c.RedisURL, "unix:") && (c.RedisCluster || clusterAddrs(c.RedisURL)) {
		blame(ps, f, "redis_url", from["redis_url"], "a Redis Cluster is reached over TCP: use redis:// or rediss://, got %q", redactURL(c.RedisURL))
	}
	if c.Auth.Mode == AuthOIDC {
		for _, key := range []string{"oidc_issuer", "oidc_client_id", "session_key"} {
			if !from[key].set {
				ps.at(f.serverLine, "server."+key, "required when auth_mode is oidc (set it here or in ROOMCAL_%s)", strings.ToUpper(key))
			}
		}
	}
	exposed := c.Auth.Mode == AuthHeader || c.Auth.Mode == AuthOIDC || (c.Auth.Mode == AuthDev && c.Addr != "" && !loopbackAddr(c.Addr))
	if c.PublicURL == "" && exposed {
		// Feed and mail links are built from it: never from a request's
		// Host header, which whoever sends the request chooses.
		blame(ps, f, "public_url", from["public_url"], "required (the address members reach roomcal at, e.g. https://salles.example.coop) unless auth_mode is dev and addr is on loopback")
	}
	if c.Auth.Mode == AuthHeader && len(c.Auth.TrustedProxies) == 0 {
		blame(ps, f, "trusted_proxies", from["trusted_proxies"], "must list at least one network when auth_mode is header")
	}
	if c.SMTP.Enabled() && c.MailFrom == "" {
		blame(ps, f, "mail_from", from["mail_from"], "required when smtp_url is set: the sender of notices, like \"Salles <salles@example.coop>\"")
	}
	for _, r := range c.Rooms {
		if r.Calendar == c.EventsCalendar && c.EventsCalendar != "" {
			blame(ps, f, "events_calendar", from["events_calendar"], "%q is also the calendar of room %q: the events calendar needs its own", c.EventsCalendar, r.ID)
		}
	}
}

// blame records a problem with a setting where its value came from.
func blame(ps *problems, f *fileSettings, key string, o origin, format string, args ...any) {
	switch {
	case o.env != "":
		ps.env(o.env, "server."+key, format, args...)
	case o.set:
		ps.at(o.line, "server."+key, format, args...)
	default:
		ps.at(f.serverLine, "server."+key, format, args...)
	}
}

// clusterAddrs reports whether a Redis URL names more nodes in addr=
// parameters (redis://h1:p1?addr=h2:p2), the form of a Redis Cluster.
func clusterAddrs(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.Query().Has("addr")
}

// httpURL parses an absolute http or https URL.
func httpURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("must be a URL starting with https:// or http://, got %q", redactURL(v))
	}
	return u, nil
}

// parsePrefixes reads networks separated by commas (or spaces): CIDRs like
// 10.0.0.0/8, or single addresses, which stand for themselves alone.
func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(item); err == nil && a.Zone() == "" {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, strconv.Quote(item))
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("must be networks like 10.0.0.0/8 or 192.168.1.10, separated by commas; not understood: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// loopbackAddr reports whether a listen address (host:port) is on
// loopback only: "localhost", 127.0.0.0/8 or ::1; an empty host (every
// interface) is not.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
