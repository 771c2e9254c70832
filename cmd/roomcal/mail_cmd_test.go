package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestMailCommands: check says whether the SMTP server answers (or that
// mail is off), and `roomcal mail test` delivers a message to the sink.
func TestMailCommands(t *testing.T) {
	dir := t.TempDir()
	down := testenv.NewSMTP(t) // never started: nothing listens
	sinkURL, maildir := testenv.SMTPSink(t)
	base := map[string]string{"ROOMCAL_DATA_DIR": filepath.Join(dir, "data"), "ROOMCAL_CONFIG": ""}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return config.MapEnv(m)
	}
	to := "essai-" + testenv.RandomID() + "@example.coop"
	steps := []struct {
		env  func(string) string
		args []string
		code int
		want string
	}{
		{with(), []string{"rooms", "sync"}, 0, "created calendar"},
		{with(), []string{"check"}, 0, "ok   mail: no ROOMCAL_SMTP_URL, no notices are sent"},
		{with("ROOMCAL_SMTP_URL", sinkURL, "ROOMCAL_MAIL_FROM", "Salles <salles@example.coop>"), []string{"check"}, 0, "ok   mail: SMTP server " + sinkURL + " (no TLS: loopback) answers"},
		{with("ROOMCAL_SMTP_URL", down.URL(), "ROOMCAL_MAIL_FROM", "salles@example.coop"), []string{"check"}, 1, "FAIL mail: SMTP server " + down.URL() + " (no TLS: loopback): dial tcp"},
		{with(), []string{"mail", "test", to}, 1, "no SMTP server: set ROOMCAL_SMTP_URL"},
		{with("ROOMCAL_SMTP_URL", sinkURL, "ROOMCAL_MAIL_FROM", "salles@example.coop"), []string{"mail", "test", to}, 0, "sent a test message to " + to},
	}
	for _, st := range steps {
		var out, errs bytes.Buffer
		code := run(context.Background(), st.args, st.env, &out, &errs)
		if code != st.code || !strings.Contains(out.String()+errs.String(), st.want) {
			t.Errorf("roomcal %v: exit %d (want %d), output lacks %q:\n%s%s", st.args, code, st.code, st.want, out.String(), errs.String())
		}
	}
	ms := testenv.AwaitMail(t, maildir, to, 1, 10*time.Second)
	if len(ms) != 1 || !strings.Contains(string(ms[0].Raw), "roomcal can send notices") {
		t.Errorf("%d test messages", len(ms))
	}
}
