// Package mail sends notices by SMTP through github.com/wneessen/go-mail:
// STARTTLS required for smtp:// (plain text only on loopback), implicit
// TLS for smtps://, authentication when the URL has a user.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/notices"
)

// Sender sends messages through one SMTP server. It is safe for
// concurrent use: each Send opens its own connection (notices are few).
type Sender struct {
	smtp    config.SMTP
	from    string
	timeout time.Duration
}

var _ notices.Mailer = (*Sender)(nil)

// New returns a Sender for s, sending as from.
func New(s config.SMTP, from string) (*Sender, error) {
	if !s.Enabled() {
		return nil, errors.New("mail: no SMTP server configured")
	}
	if from == "" {
		return nil, errors.New("mail: no sender address")
	}
	return &Sender{smtp: s, from: from, timeout: 20 * time.Second}, nil
}

// client makes a go-mail client for one connection.
func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.smtp.Port), gomail.WithTimeout(s.timeout)}
	switch {
	case s.smtp.Implicit:
		opts = append(opts, gomail.WithSSL())
	case s.smtp.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		// Loopback only (config): a local relay, TLS if it offers it.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.smtp.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.smtp.User), gomail.WithPassword(s.smtp.Password.Reveal()))
	}
	c, err := gomail.NewClient(s.smtp.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail client for %s: %w", s.smtp, err)
	}
	return c, nil
}

// Ping connects to the server, greets it (and authenticates), and
// quits: what `roomcal check` reports.
func (s *Sender) Ping(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("SMTP server %s: %w", s.smtp, err)
	}
	return c.Close()
}

// Send sends m. An error means the message may not have been accepted;
// the caller retries.
func (s *Sender) Send(ctx context.Context, m notices.Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send to %s through %s: %w", m.To, s.smtp, err)
	}
	return nil
}

// Render writes m as the server would receive it (for tests and
// previews).
func (s *Sender) Render(m notices.Message) ([]byte, error) {
	msg, err := s.build(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (s *Sender) build(m notices.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", s.from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	if m.Lang != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Lang)
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	switch {
	case m.Unsubscribe != "":
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	case m.Settings != "":
		// A page to choose on, not a one-click link (RFC 8058 is for
		// links that unsubscribe by themselves).
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.Settings+">")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if len(m.Calendar) > 0 {
		method := strings.ToUpper(m.Method)
		if method == "" {
			method = "REQUEST"
		}
		// The iMIP part (RFC 6047 2.4): text/calendar with the METHOD
		// as a parameter, an alternative of the text.
		msg.AddAlternativeString(gomail.ContentType("text/calendar; method="+method), string(m.Calendar))
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attach %s: %w", a.Name, err)
		}
	}
	return msg, nil
}
