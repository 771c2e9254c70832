package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// SMTP is how notices leave (ROOMCAL_SMTP_URL). The zero value (Host
// empty) means no mail is sent.
type SMTP struct {
	Host string
	Port int
	// Implicit is true for smtps:// (TLS from the first byte, port 465
	// by default); smtp:// uses STARTTLS (port 587 by default).
	Implicit bool
	// StartTLS is true when STARTTLS is required: always for smtp:// to a
	// host that is not a loopback address; plain text is allowed only
	// on loopback (a local relay).
	StartTLS bool
	User     string
	Password Secret
}

// Enabled reports whether mail is configured.
func (s SMTP) Enabled() bool { return s.Host != "" }

// String is the server as logs show it, without the password.
func (s SMTP) String() string {
	if !s.Enabled() {
		return "none"
	}
	scheme := "smtp"
	if s.Implicit {
		scheme = "smtps"
	}
	user := ""
	if s.User != "" {
		user = s.User + "@"
	}
	tls := ""
	if !s.Implicit && !s.StartTLS {
		tls = " (no TLS: loopback)"
	}
	return fmt.Sprintf("%s://%s%s%s", scheme, user, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), tls)
}

// parseSMTPURL reads smtp://[user:pass@]host[:port] (STARTTLS, required
// unless the host is a loopback address) or smtps://… (implicit TLS).
func parseSMTPURL(v string) (SMTP, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Opaque != "" {
		return SMTP{}, fmt.Errorf("must be a URL like smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465, got %q", redactURL(v))
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return SMTP{}, fmt.Errorf("takes no path or query, got %q", redactURL(v))
	}
	s := SMTP{Host: u.Hostname(), Implicit: u.Scheme == "smtps"}
	s.Port = 587
	if s.Implicit {
		s.Port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("port must be a number from 1 to 65535, got %q", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.User = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			s.Password = Secret(pw)
		}
	}
	s.StartTLS = !s.Implicit && !isLoopback(s.Host)
	return s, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseMailFrom reads an address like "Salles <salles@example.coop>".
func parseMailFrom(v string) (*mail.Address, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return nil, fmt.Errorf("must be an address like \"Salles <salles@example.coop>\" or salles@example.coop, got %q", v)
	}
	return a, nil
}
