package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSMTPURL(t *testing.T) {
	tests := []struct {
		in   string
		want SMTP
		err  string
	}{
		{in: "smtp://mail.example.coop", want: SMTP{Host: "mail.example.coop", Port: 587, StartTLS: true}},
		{in: "smtp://salles:hunter2@mail.example.coop:2525", want: SMTP{Host: "mail.example.coop", Port: 2525, StartTLS: true, User: "salles", Password: "hunter2"}},
		{in: "smtps://salles:hunter2@mail.example.coop", want: SMTP{Host: "mail.example.coop", Port: 465, Implicit: true, User: "salles", Password: "hunter2"}},
		{in: "smtps://mail.example.coop:4650", want: SMTP{Host: "mail.example.coop", Port: 4650, Implicit: true}},
		// Plain text only on loopback: a local relay.
		{in: "smtp://127.0.0.1:2525", want: SMTP{Host: "127.0.0.1", Port: 2525}},
		{in: "smtp://localhost:25", want: SMTP{Host: "localhost", Port: 25}},
		{in: "smtp://[::1]:25", want: SMTP{Host: "::1", Port: 25}},
		{in: "smtp://10.0.0.5:25", want: SMTP{Host: "10.0.0.5", Port: 25, StartTLS: true}},
		{in: "http://mail.example.coop", err: "must be a URL like smtp://"},
		{in: "mail.example.coop:587", err: "must be a URL like smtp://"},
		{in: "smtp://:587", err: "must be a URL like smtp://"},
		{in: "smtp://u:hunter2@mail.example.coop:0", err: "port must be a number from 1 to 65535"},
		{in: "smtp://mail.example.coop/inbox", err: "takes no path or query"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSMTPURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMailSettings(t *testing.T) {
	tests := []struct {
		env     map[string]string
		smtp    string
		from    string
		cap     int
		problem string
	}{
		{env: nil, smtp: "none", cap: 10},
		{env: map[string]string{"ROOMCAL_SMTP_URL": "smtp://127.0.0.1:2525", "ROOMCAL_MAIL_FROM": "Salles <salles@example.coop>"},
			smtp: "smtp://127.0.0.1:2525 (no TLS: loopback)", from: `"Salles" <salles@example.coop>`, cap: 10},
		{env: map[string]string{"ROOMCAL_SMTP_URL": "smtps://s:hunter2@mail.example.coop", "ROOMCAL_MAIL_FROM": "salles@example.coop", "ROOMCAL_NOTICE_DAILY_CAP": "3"},
			smtp: "smtps://s@mail.example.coop:465", from: "<salles@example.coop>", cap: 3},
		{env: map[string]string{"ROOMCAL_SMTP_URL": "smtp://127.0.0.1:2525"}, problem: "server.mail_from: required when smtp_url is set"},
		{env: map[string]string{"ROOMCAL_MAIL_FROM": "not an address"}, problem: `ROOMCAL_MAIL_FROM: must be an address like`},
		{env: map[string]string{"ROOMCAL_NOTICE_DAILY_CAP": "0"}, problem: `ROOMCAL_NOTICE_DAILY_CAP: must be a number of messages from 1 to 1000, got "0"`},
		{env: map[string]string{"ROOMCAL_SMTP_URL": "imap://u:hunter2@mail", "ROOMCAL_MAIL_FROM": "a@b.c"}, problem: `ROOMCAL_SMTP_URL: must be a URL like smtp://`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			c, err := Parse("demo", DemoYAML(), MapEnv(tt.env))
			if tt.problem != "" {
				var invalid *InvalidError
				if !errors.As(err, &invalid) || len(invalid.Problems) != 1 || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("err = %v, want one problem %q", err, tt.problem)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.SMTP.String(); got != tt.smtp {
				t.Errorf("smtp %q, want %q", got, tt.smtp)
			}
			if c.MailFrom != tt.from || c.NoticeDailyCap != tt.cap {
				t.Errorf("from %q cap %d, want %q %d", c.MailFrom, c.NoticeDailyCap, tt.from, tt.cap)
			}
			if s := c.String() + fmt.Sprintf("%+v %#v", *c, c); strings.Contains(s, "hunter2") {
				t.Errorf("the configuration shows the SMTP password: %s", s)
			}
		})
	}
}
