package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// wantSecurityHeaders are the headers every answer carries.
var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy":    contentSecurityPolicy,
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "same-origin",
	"X-Frame-Options":            "DENY",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Permissions-Policy":         permissionsPolicy,
}

// securityAnswers are answers of every kind: a page, API JSON,
// problems (404, 401, 405, 413), a redirect and the metrics.
var securityAnswers = []struct {
	name, method, path string
	user               bool // send the identity headers
	status             int
}{
	{"page", "GET", "/login", false, 200},
	{"API answer", "GET", "/api/v1/sites", true, 200},
	{"problem 404", "GET", "/api/v1/nothing", true, 404},
	{"problem 401", "GET", "/api/v1/me", false, 401},
	{"problem 405", "PUT", "/api/v1/sites", true, 405},
	{"redirect", "POST", "/logout", false, 303},
	{"metrics", "GET", "/metrics", false, 200},
}

func getWith(t *testing.T, c *http.Client, method, url string, user bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user {
		req.Header.Set(HeaderUser, "amina")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSecurityHeaders(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}})
	for _, a := range securityAnswers {
		t.Run(a.name, func(t *testing.T) {
			resp := getWith(t, noRedirect, a.method, srv.URL+a.path, a.user)
			if resp.StatusCode != a.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, a.status)
			}
			for k, want := range wantSecurityHeaders {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			// Plain HTTP, no SecureCookies: no HSTS (it would lock a
			// development host out of plain HTTP for a year).
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS over plain HTTP: %q", got)
			}
		})
	}
}

// TestCSPStrict: no inline or eval'd scripts, no framing, no plugins, a
// base and form target that cannot be hijacked.
func TestCSPStrict(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(contentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "object-src": "'none'",
		"frame-ancestors": "'none'", "base-uri": "'none'", "form-action": "'self'",
	} {
		if directives[name] != want {
			t.Errorf("%s %q, want %q", name, directives[name], want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(contentSecurityPolicy, bad) {
			t.Errorf("CSP allows %s: %s", bad, contentSecurityPolicy)
		}
	}
}

func TestHSTS(t *testing.T) {
	t.Run("SecureCookies", func(t *testing.T) {
		srv := newTestServer(t, Options{AuthMode: AuthDev, SecureCookies: true, Pages: stubPages{}})
		for _, a := range securityAnswers {
			resp := getWith(t, noRedirect, a.method, srv.URL+a.path, a.user)
			if got := resp.Header.Get("Strict-Transport-Security"); got != hsts {
				t.Errorf("%s: HSTS %q", a.name, got)
			}
		}
	})
	t.Run("TLS", func(t *testing.T) {
		srv := httptest.NewTLSServer(New(Options{Catalog: testCatalog(t), AuthMode: AuthDev, Pages: stubPages{}}))
		t.Cleanup(srv.Close)
		c := srv.Client()
		c.CheckRedirect = noRedirect.CheckRedirect
		for _, a := range securityAnswers {
			resp := getWith(t, c, a.method, srv.URL+a.path, a.user)
			if resp.StatusCode != a.status {
				t.Errorf("%s: status %d", a.name, resp.StatusCode)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != hsts {
				t.Errorf("%s: HSTS %q", a.name, got)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("%s: X-Frame-Options %q", a.name, got)
			}
		}
	})
}
