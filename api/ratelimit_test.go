package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// fakeLimiter answers what it is told and records the keys it counted.
type fakeLimiter struct {
	mu    sync.Mutex
	keys  []string
	ok    bool
	retry time.Duration
	err   error
}

func (f *fakeLimiter) Allow(_ context.Context, key string, n int, per time.Duration) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return f.ok, f.retry, f.err
}

func (f *fakeLimiter) counted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

// doAs sends a request as user ("" for nobody).
func doAs(t *testing.T, user, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set(HeaderUser, user)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

// A write the handler refuses on its own (400: no room), so no booking
// service is needed: what matters is whether the limit answers first.
const (
	writePath = "/api/v1/bookings"
	writeBody = `{}`
)

func TestRateLimit(t *testing.T) {
	const limit = 3
	l := redisgate.NewLimiter(gatetest.Embedded(t).Client())
	srv := newTestServer(t, Options{Limiter: l, RateLimit: limit, RatePer: time.Minute})
	write := func(user string) (*http.Response, []byte) {
		t.Helper()
		return doAs(t, user, "POST", srv.URL+writePath, []byte(writeBody))
	}
	for i := 1; i <= limit; i++ {
		if resp, body := write("amina"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("write %d of %d: status %d, want the handler's 400: %s", i, limit, resp.StatusCode, body)
		}
	}
	resp, body := write("amina")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("write %d: status %d, want 429: %s", limit+1, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" || strings.ContainsAny(ra, ".-") {
		t.Errorf("Retry-After %q, want whole seconds >= 1", ra)
	} else if secs := mustAtoi(t, ra); secs < 1 || secs > 60 {
		t.Errorf("Retry-After %d, want in [1, 60]", secs)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if p.Code != CodeRateLimited || p.Status != 429 || p.Instance != writePath || !strings.HasPrefix(p.Detail, "Trop de") {
		t.Errorf("problem %+v", p)
	}
	// Other methods are writes too, counted together.
	if resp, _ := doAs(t, "amina", "DELETE", srv.URL+"/api/v1/bookings/x", nil); resp.StatusCode != 429 {
		t.Errorf("DELETE over the limit: status %d, want 429", resp.StatusCode)
	}
	if resp, _ := doAs(t, "amina", "PATCH", srv.URL+"/api/v1/bookings/x", []byte(`{}`)); resp.StatusCode != 429 {
		t.Errorf("PATCH over the limit: status %d, want 429", resp.StatusCode)
	}
	// Another member is not affected.
	if resp, body := write("bruno"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another member's write: status %d, want 400: %s", resp.StatusCode, body)
	}
	// Reads are never limited.
	for i := 0; i < 2*limit; i++ {
		if resp, body := doAs(t, "amina", "GET", srv.URL+"/api/v1/rooms", nil); resp.StatusCode != 200 {
			t.Fatalf("GET by a limited member: status %d: %s", resp.StatusCode, body)
		}
	}
}

func TestRateLimitCountsOnlyMembersWrites(t *testing.T) {
	f := &fakeLimiter{ok: true}
	srv := newTestServer(t, Options{Limiter: f, RateLimit: 1, RatePer: time.Minute})
	for _, m := range []string{"GET", "HEAD", "OPTIONS"} {
		doAs(t, "amina", m, srv.URL+"/api/v1/rooms", nil)
	}
	// Unidentified writes are refused by the policy, not counted.
	if resp, _ := doAs(t, "", "POST", srv.URL+writePath, []byte(writeBody)); resp.StatusCode != 401 {
		t.Errorf("unidentified write: status %d, want 401", resp.StatusCode)
	}
	if got := f.counted(); len(got) != 0 {
		t.Fatalf("counted %q, want nothing", got)
	}
	doAs(t, "amina", "POST", srv.URL+writePath, []byte(writeBody))
	doAs(t, "bruno", "PUT", srv.URL+writePath, nil)
	if got := f.counted(); strings.Join(got, ",") != "amina,bruno" {
		t.Fatalf("counted %q, want the members' ids", got)
	}
}

func TestRateLimitOff(t *testing.T) {
	f := &fakeLimiter{ok: false, retry: time.Second}
	for name, opts := range map[string]Options{
		"no limit":   {Limiter: f, RateLimit: 0, RatePer: time.Minute},
		"no limiter": {RateLimit: 1, RatePer: time.Minute},
	} {
		srv := newTestServer(t, opts)
		if resp, body := doAs(t, "amina", "POST", srv.URL+writePath, []byte(writeBody)); resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400: %s", name, resp.StatusCode, body)
		}
	}
	if got := f.counted(); len(got) != 0 {
		t.Fatalf("counted %q with the limit off", got)
	}
}

// The fake's retryAfter is passed on rounded up to whole seconds.
func TestRateLimitRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		retry time.Duration
		want  string
	}{
		{time.Millisecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}, {59500 * time.Millisecond, "60"}, {0, "1"},
	} {
		f := &fakeLimiter{retry: tt.retry}
		srv := newTestServer(t, Options{Limiter: f, RateLimit: 5, RatePer: time.Minute})
		resp, _ := doAs(t, "amina", "POST", srv.URL+writePath, []byte(writeBody))
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != tt.want {
			t.Errorf("retry %v: status %d, Retry-After %q; want 429, %q", tt.retry, resp.StatusCode, resp.Header.Get("Retry-After"), tt.want)
		}
	}
}

// A failing limiter (Redis down) lets writes through, with a warning
// logged once per interval rather than per request.
func TestRateLimitFailsOpen(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := &fakeLimiter{err: errors.New("redis unavailable")}
	srv := newTestServer(t, Options{Logger: log, Limiter: f, RateLimit: 1, RatePer: time.Minute})
	for i := 0; i < 3; i++ {
		if resp, body := doAs(t, "amina", "POST", srv.URL+writePath, []byte(writeBody)); resp.StatusCode != 400 {
			t.Fatalf("write %d with the limiter failing: status %d, want the handler's 400: %s", i, resp.StatusCode, body)
		}
	}
	if got := strings.Count(logs.String(), "rate limiter failed"); got != 1 {
		t.Errorf("%d warnings logged, want 1:\n%s", got, logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWarnThrottle(t *testing.T) {
	var w warnThrottle
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if n, ok := w.due(t0); !ok || n != 0 {
		t.Fatalf("first: %d %v", n, ok)
	}
	for i := 0; i < 3; i++ {
		if _, ok := w.due(t0.Add(time.Second)); ok {
			t.Fatal("due within the interval")
		}
	}
	if n, ok := w.due(t0.Add(limiterWarnEvery)); !ok || n != 3 {
		t.Fatalf("after the interval: %d %v, want 3 true", n, ok)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}
