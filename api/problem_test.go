package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
)

// logRecorder is a slog.Handler that keeps every record, for tests that
// check what was logged and at which level.
type logRecorder struct {
	mu    sync.Mutex
	recs  []loggedLine
	added chan struct{} // one value per record, never blocking
}

// loggedLine is one record, its attributes as text.
type loggedLine struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogRecorder() *logRecorder { return &logRecorder{added: make(chan struct{}, 1024)} }

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l := loggedLine{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, l)
	h.mu.Unlock()
	select {
	case h.added <- struct{}{}:
	default:
	}
	return nil
}

func (h *logRecorder) lines() []loggedLine {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]loggedLine(nil), h.recs...)
}

// accessLine waits (up to 10s) for the access log's line of path.
func (h *logRecorder) accessLine(t *testing.T, path string) loggedLine {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, l := range h.lines() {
			if l.msg == "http" && l.attrs["path"] == path {
				return l
			}
		}
		select {
		case <-h.added:
		case <-deadline:
			t.Fatalf("no access log line for %s; logged: %+v", path, h.lines())
		}
	}
}

// failingTokens is a FeedTokens whose every call fails with err(ctx),
// after waiting for the request to end when wait is set.
type failingTokens struct {
	err     func(ctx context.Context) error
	wait    bool
	entered chan struct{}
}

func (f failingTokens) fail(ctx context.Context) error {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.wait {
		<-ctx.Done()
	}
	return f.err(ctx)
}

func (f failingTokens) Issue(ctx context.Context, _ booking.Member) (string, error) {
	return "", f.fail(ctx)
}
func (f failingTokens) Revoke(ctx context.Context, _ string) error { return f.fail(ctx) }
func (f failingTokens) Member(ctx context.Context, _ string) (booking.Member, error) {
	return booking.Member{}, f.fail(ctx)
}

func (f failingTokens) Link(ctx context.Context, _ string) (booking.FeedLink, error) {
	return booking.FeedLink{}, f.fail(ctx)
}

// What a CalDAV server's error text can hold, and the answer must not.
const (
	secretURL  = "https://roomcal:s3cret-app-password@nc.example.org/remote.php/dav/calendars/roomcal/loire/loire_x.ics"
	secretPath = "/var/lib/roomcal/data/loire/loire_x.ics"
)

var secrets = []string{"s3cret", "nc.example.org", "remote.php", "/var/lib/roomcal", "caldav:"}

// TestProblemsHideTheCause: whatever an adapter's error says (a server's
// address with its credentials, a file path), the problem answer shows
// only roomcal's words, for every status the error writer makes, and the
// cause is logged once, on the request's access line, at Error for a
// server-side failure and Info for the rest.
func TestProblemsHideTheCause(t *testing.T) {
	notFound := fmt.Errorf("get %s: %w", secretURL, caldav.ErrNotFound)
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		detail string // the exact detail, when it is known
	}{
		{"booking gone from the calendar", fmt.Errorf("get booking loire_x: %w: %w", booking.ErrNotFound, notFound), 404, CodeNotFound, detailNotFound},
		{"unknown room", fmt.Errorf("%w %q (%s)", booking.ErrUnknownRoom, "loire", secretPath), 404, CodeNotFound, detailUnknownRoom},
		{"unknown site", fmt.Errorf("%w %q (%s)", booking.ErrUnknownSite, "nantes", secretPath), 404, CodeNotFound, detailUnknownSite},
		{"object the server sent cannot be read", fmt.Errorf("read event ev_1 at %s: %w: DTSTART missing", secretURL, booking.ErrInvalid), 400, CodeInvalid, detailInvalid},
		{"invalid in roomcal's words, the parser's as cause", &booking.InvalidError{Detail: "règle de récurrence invalide / invalid recurrence rule", Err: errors.New("rrule: bad FREQ in " + secretPath)},
			400, CodeInvalid, "règle de récurrence invalide / invalid recurrence rule"},
		{"stale", fmt.Errorf("update booking loire_x: %w: PUT %s: 412", booking.ErrStale, secretURL), 409, CodeConflict, ""},
		{"forbidden", fmt.Errorf("booking in %s: %w", secretPath, booking.ErrForbidden), 403, CodeForbidden, ""},
		{"calendar down", fmt.Errorf("%w: PUT %s: dial tcp 10.0.0.7:443: connection refused", booking.ErrUnavailable, secretURL), 503, CodeUnavailable, ""},
		{"anything else", fmt.Errorf("open %s: permission denied", secretPath), 500, CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newLogRecorder()
			srv := newTestServer(t, Options{Logger: slog.New(rec), AuthMode: AuthDev, Feeds: caldav.FeedEncoder{},
				FeedTokens: failingTokens{err: func(context.Context) error { return tt.err }}})
			resp, body := do(t, http.MethodPost, srv.URL+"/api/v1/me/feed", nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if p.Code != tt.code || p.Detail == "" || (tt.detail != "" && p.Detail != tt.detail) {
				t.Errorf("code %q, detail %q; want code %q, detail %q", p.Code, p.Detail, tt.code, tt.detail)
			}
			for _, s := range secrets {
				if bytes.Contains(body, []byte(s)) {
					t.Errorf("the answer shows %q: %s", s, body)
				}
			}
			cause := tt.err.Error()
			var logged []loggedLine
			for _, l := range rec.lines() {
				for _, v := range l.attrs {
					if strings.Contains(v, cause) {
						logged = append(logged, l)
					}
				}
			}
			wantLevel := slog.LevelInfo
			if tt.status >= 500 {
				wantLevel = slog.LevelError
			}
			if len(logged) != 1 || logged[0].msg != "http" || logged[0].level != wantLevel || logged[0].attrs["status"] != fmt.Sprint(tt.status) {
				t.Errorf("the cause was logged in %+v; want once, on the access line, at %v", logged, wantLevel)
			}
		})
	}
}

// TestJSONBodyProblems: a body the JSON decoder refuses is answered in
// roomcal's words, saying where or which field; the decoder's own text
// (Go type names) goes to the log only.
func TestJSONBodyProblems(t *testing.T) {
	tests := []struct {
		name, body, detail string
	}{
		{"empty", ``, "Corps JSON vide. / Empty JSON body."},
		{"syntax", `{"room": "loire",}`, "Corps JSON illisible (octet 18). / Unreadable JSON body (at byte 18)."},
		{"truncated", `{"room": "lo`, "Corps JSON illisible. / Unreadable JSON body."},
		{"wrong type", `{"room": 5}`, `Corps JSON illisible : "room" n'est pas du bon type (number reçu). / Unreadable JSON body: "room" has the wrong type (got number).`},
		{"unknown field", `{"rooom": "loire"}`, `Corps JSON illisible : champ inconnu "rooom". / Unreadable JSON body: unknown field "rooom".`},
		{"trailing data", `{"room": "loire"} {}`, "Corps JSON illisible : données en trop après l'objet. / Unreadable JSON body: data after the object."},
		{"trailing brace", `{"room": "loire"}}`, "Corps JSON illisible : données en trop après l'objet. / Unreadable JSON body: data after the object."},
		{"trailing bracket", "{\"room\": \"loire\"}\n]", "Corps JSON illisible : données en trop après l'objet. / Unreadable JSON body: data after the object."},
		{"trailing word", `{"room": "loire"} x`, "Corps JSON illisible : données en trop après l'objet. / Unreadable JSON body: data after the object."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newLogRecorder()
			srv := newTestServer(t, Options{Logger: slog.New(rec), AuthMode: AuthDev})
			resp, body := do(t, http.MethodPost, srv.URL+"/api/v1/bookings", []byte(tt.body))
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != 400 || p.Code != CodeInvalid {
				t.Fatalf("status %d, %s (%v); want 400 invalid", resp.StatusCode, body, err)
			}
			if p.Detail != tt.detail {
				t.Errorf("detail %q, want %q", p.Detail, tt.detail)
			}
			for _, s := range []string{"json:", "Go ", "JSON input"} {
				if strings.Contains(p.Detail, s) {
					t.Errorf("the detail passes the decoder's text %q: %q", s, p.Detail)
				}
			}
			if l := rec.accessLine(t, "/api/v1/bookings"); l.level != slog.LevelInfo || l.attrs["err"] == "" {
				t.Errorf("access line %+v, want Info with the cause", l)
			}
		})
	}
}

// TestClientGoneIs499: when the client closes the connection while the
// handler waits on a store, the request is logged as 499 at Info, with
// its cause, whatever error the store returns on the cancelled context,
// and nothing is logged as an error.
func TestClientGoneIs499(t *testing.T) {
	tests := []struct {
		name string
		err  func(ctx context.Context) error
	}{
		{"the context's error", func(ctx context.Context) error { return ctx.Err() }},
		{"wrapped as unavailable", func(ctx context.Context) error {
			return fmt.Errorf("%w: GET %s: %w", booking.ErrUnavailable, secretURL, ctx.Err())
		}},
		{"a transport error without the context's", func(context.Context) error {
			return fmt.Errorf("GET %s: unexpected EOF", secretURL)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newLogRecorder()
			entered := make(chan struct{}, 1)
			srv := newTestServer(t, Options{Logger: slog.New(rec), AuthMode: AuthDev, Feeds: caldav.FeedEncoder{},
				FeedTokens: failingTokens{err: tt.err, wait: true, entered: entered}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/feeds/me/tok.ics", nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			select {
			case <-entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler never reached the store")
			}
			cancel() // the client goes away
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v, want its own cancellation", err)
			}
			l := rec.accessLine(t, "/feeds/me/tok.ics")
			if l.attrs["status"] != "499" || l.level != slog.LevelInfo || l.attrs["err"] == "" {
				t.Errorf("access line %+v, want status 499 at Info with the cause", l)
			}
			for _, l := range rec.lines() {
				if l.level >= slog.LevelWarn {
					t.Errorf("logged at %v: %+v", l.level, l)
				}
			}
		})
	}
}
