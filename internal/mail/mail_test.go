package mail

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/config"
	"github.com/roomcal/roomcal/internal/notices"
	"github.com/roomcal/roomcal/internal/testenv"
)

func smtpOf(t *testing.T, raw string) config.SMTP {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return config.SMTP{Host: u.Hostname(), Port: port}
}

// A message reaches the aiosmtpd sink with its headers, its text, HTML
// and iMIP parts.
func TestSendToSink(t *testing.T) {
	raw, dir := testenv.SMTPSink(t)
	s, err := New(smtpOf(t, raw), "Salles <salles@example.coop>")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	to := "claire-" + testenv.RandomID() + "@example.coop"
	ics := "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
	date := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	err = s.Send(ctx, notices.Message{
		To: "Claire Dupré <" + to + ">", Subject: "Une place s'est libérée : Assemblée générale, lundi 14 décembre, 17:00",
		Text: "Bonjour Claire,\n", HTML: "<p>Bonjour Claire,</p>", Calendar: []byte(ics), Method: "REQUEST",
		MessageID: "n1." + to, Date: date, Unsubscribe: "https://salles.example.coop/desabonnement?t=abc", Lang: "fr",
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := testenv.AwaitMail(t, dir, to, 1, 10*time.Second)
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	m := ms[0]
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || !strings.HasPrefix(subj, "Une place s'est libérée") {
		t.Errorf("subject %q (%v)", subj, err)
	}
	if got := m.Header.Get("Message-Id"); got != "<n1."+to+">" {
		t.Errorf("Message-ID %q", got)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(date) {
		t.Errorf("Date %v (%v)", d, err)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "<https://salles.example.coop/desabonnement?t=abc>" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", m.Header.Get("List-Unsubscribe-Post"))
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		if ct == "text/calendar" && cp["method"] != "REQUEST" {
			t.Errorf("text/calendar without method=REQUEST: %q", p.Header.Get("Content-Type"))
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html,text/calendar" {
		t.Errorf("parts %v", types)
	}
}

// Ping fails, saying where, when nothing listens.
func TestPingDown(t *testing.T) {
	srv := testenv.NewSMTP(t)
	s, err := New(smtpOf(t, srv.URL()), "salles@example.coop")
	if err != nil {
		t.Fatal(err)
	}
	s.timeout = 2 * time.Second
	if err := s.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("ping of a server that is down: %v", err)
	}
	srv.Start()
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("ping once the server is up: %v", err)
	}
}
