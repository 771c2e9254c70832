package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// memSignOuts is a SignOuts in memory, shared by the replicas of a test
// (cmd/roomcal tests the real one, on the calendar server and Redis).
type memSignOuts struct {
	mu   sync.Mutex
	at   map[string]time.Time
	fail error
}

func (m *memSignOuts) SignOut(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.at[id] = at
	return nil
}

func (m *memSignOuts) SignedOutAt(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at[id], m.fail
}

// signIn signs in on b's server with the dev login form and returns the
// session cookie.
func signIn(t *testing.T, b *browser, name string) *http.Cookie {
	t.Helper()
	form := url.Values{"name": {name}, "login_token": {b.loginForm("/login")}}
	resp, body := b.do("POST", "/login", form, nil)
	ck := cookieNamed(resp, SessionCookie)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	return ck
}

// TestSignOutEverywhere: signing out on one replica ends the session on
// every replica (a copy of the cookie is refused, and cleared), and every
// other session the member had; a session made after works; when the
// sign-outs cannot be read, a session is not believed (503).
func TestSignOutEverywhere(t *testing.T) {
	so := &memSignOuts{at: map[string]time.Time{}}
	key := []byte("one key for every replica of the test")
	a := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}, SessionKey: key, SignOuts: so})
	b := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}, SessionKey: key, SignOuts: so})
	onA := newBrowser(t, a.URL)
	phone := newBrowser(t, a.URL) // the member's other device
	cookie := signIn(t, onA, "Ada")
	signIn(t, phone, "Ada")
	me := func(base string, ck *http.Cookie) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := me(b.URL, cookie); got != 200 {
		t.Fatalf("the session on the other replica: %d", got)
	}
	_, body := onA.do("GET", "/api/v1/me", nil, nil)
	var m meJSON
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.CSRFToken == "" {
		t.Fatalf("me: %v %s", err, body)
	}
	csrf := m.CSRFToken
	if resp, body := onA.do("POST", "/logout", nil, map[string]string{HeaderCSRF: csrf}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d %s", resp.StatusCode, body)
	}
	if got := me(b.URL, cookie); got != http.StatusUnauthorized {
		t.Fatalf("a copy of the signed-out cookie on the other replica: %d, want 401", got)
	}
	if resp, _ := phone.do("GET", "/api/v1/me", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the member's other device after signing out: %d, want 401", resp.StatusCode)
	} else if c := cookieNamed(resp, SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the ended session's cookie is not cleared: %+v", c)
	}
	again := signIn(t, onA, "Ada")
	if got := me(b.URL, again); got != 200 {
		t.Fatalf("a session made after the sign-out: %d", got)
	}

	so.mu.Lock()
	so.fail = fmt.Errorf("calendar server down: %w", booking.ErrUnavailable)
	so.mu.Unlock()
	if got := me(b.URL, again); got != http.StatusServiceUnavailable {
		t.Fatalf("a session while sign-outs cannot be read: %d, want 503", got)
	}
}
