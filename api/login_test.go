package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var loginTokenField = regexp.MustCompile(`name="login_token" value="([^"]+)"`)

// loginForm opens the login page and returns its token.
func (b *browser) loginForm(path string) string {
	b.t.Helper()
	resp, page := b.do("GET", path, nil, nil)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, page)
	}
	m := loginTokenField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no login token in the page:\n%s", page)
	}
	return m[1]
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLoginPage(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev})
	b := newBrowser(t, srv.URL)
	resp, page := b.do("GET", "/login?next=/salles", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /login: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	for _, want := range []string{
		`<html lang="fr">`, `lang="en"`, `<form method="post" action="/login">`,
		`<label for="name">`, `id="name" name="name"`,
		`<label for="g-organisers">organisateur·rice`, `value="organisers"`,
		`<label for="g-admins">admin`, `value="admins"`,
		`name="next" value="/salles"`, `<link rel="stylesheet" href="/login.css?v=` + loginCSS.tag + `">`,
		`<script src="/login.js?v=` + loginJS.tag + `" defer></script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// A strict CSP forbids inline scripts and styles: there are none.
	lower := strings.ToLower(page)
	if n := strings.Count(lower, "<script"); n != 1 || strings.Count(lower, `<script src="/login.js?v=`) != 1 {
		t.Errorf("the page has %d script elements, or one without src", n)
	}
	for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("the page has %s", bad)
		}
	}
	ck := cookieNamed(resp, loginCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/login" {
		t.Errorf("login cookie %+v", ck)
	}

	for _, a := range []struct {
		path, ctype, has string
		tag              string
	}{{"/login.css", "text/css", "body", loginCSS.tag}, {"/login.js", "text/javascript", "X-CSRF-Token", loginJS.tag}} {
		resp, body := b.do("GET", a.path+"?v="+a.tag, nil, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), a.ctype) || !strings.Contains(body, a.has) ||
			resp.Header.Get("ETag") != `"`+a.tag+`"` {
			t.Fatalf("GET %s: %d %s %s", a.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"))
		}
		resp, _ = b.do("GET", a.path, nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET %s: %d", a.path, resp.StatusCode)
		}
	}
}

// TestLoginFlow signs in, acts through the session, sees the page escape
// the name, and signs out.
func TestLoginFlow(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev})
	b := newBrowser(t, srv.URL)
	name := `Amélie <b>N'Diaye</b>`
	form := url.Values{
		"name":        {"  " + name + "  "},
		"groups":      {"organisers", "superusers", "organisers"},
		"next":        {"/salles?site=nantes"},
		"login_token": {b.loginForm("/login")},
	}
	resp, body := b.do("POST", "/login", form, map[string]string{"Origin": srv.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/salles?site=nantes" {
		t.Fatalf("POST /login: %d Location %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	ck := cookieNamed(resp, SessionCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", ck)
	}
	if c := cookieNamed(resp, loginCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("the login cookie is not cleared: %+v", c)
	}

	resp, body = b.do("GET", "/api/v1/me", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}
	var me meJSON
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if me.ID != "dev:amelie-b-n-diaye-b" || me.Name != name || strings.Join(me.Groups, ",") != "organisers" ||
		strings.Join(me.Roles, ",") != "member,organiser" || me.CSRFToken == "" {
		t.Fatalf("me: %+v", me)
	}

	// The page shows who is signed in, escaped.
	resp, page := b.do("GET", "/login", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Amélie &lt;b&gt;N&#39;Diaye&lt;/b&gt;") || strings.Contains(page, "<b>N") {
		t.Fatalf("signed-in page does not show the escaped name:\n%s", page)
	}
	if !strings.Contains(page, `action="/logout"`) || !strings.Contains(page, `name="csrf_token" value="`+me.CSRFToken+`"`) {
		t.Errorf("signed-in page has no logout form:\n%s", page)
	}

	// Signing in as someone else is a write of the session: it carries
	// the session's token (as a form field, or the header login.js
	// sends), else identify refuses it.
	form = url.Values{"name": {"Ada"}, "groups": {"admins"}, "login_token": {b.loginForm("/login")}}
	if resp, body := b.do("POST", "/login", form, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("switching without the CSRF token: %d %s", resp.StatusCode, body)
	}
	form.Set("csrf_token", "forged")
	form.Set("login_token", b.loginForm("/login"))
	if resp, body := b.do("POST", "/login", form, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("switching with a wrong CSRF token: %d %s", resp.StatusCode, body)
	}
	form.Set("csrf_token", me.CSRFToken)
	form.Set("login_token", b.loginForm("/login"))
	resp, body = b.do("POST", "/login", form, map[string]string{HeaderCSRF: me.CSRFToken})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("switching: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = b.do("GET", "/api/v1/me", nil, nil)
	if err := json.Unmarshal([]byte(body), &me); err != nil || me.ID != "dev:ada" || strings.Join(me.Roles, ",") != "member,organiser,admin" {
		t.Fatalf("me after switching: %+v %v", me, err)
	}

	// A page's fetch asks for JSON.
	resp, body = b.do("POST", "/logout", nil, map[string]string{HeaderCSRF: me.CSRFToken, "Accept": "application/json"})
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"redirect":"/login"}` || cookieNamed(resp, SessionCookie) == nil {
		t.Fatalf("POST /logout for JSON: %d %s", resp.StatusCode, body)
	}
	form.Set("login_token", b.loginForm("/login"))
	form.Del("csrf_token")
	if resp, body := b.do("POST", "/login", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in again: %d %s", resp.StatusCode, body)
	}
	_, body = b.do("GET", "/api/v1/me", nil, nil)
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}

	// Signing out is a write of the session: it carries the token.
	resp, body = b.do("POST", "/logout", nil, map[string]string{HeaderCSRF: me.CSRFToken})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("POST /logout: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if c := cookieNamed(resp, SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("session cookie not cleared: %+v", c)
	}
	if resp, _ := b.do("GET", "/api/v1/me", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", resp.StatusCode)
	}
}

// TestLoginCSRF: the login form posts only with its token, from this
// site.
func TestLoginCSRF(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev})
	tests := []struct {
		name   string
		token  func(b *browser) string
		header map[string]string
		status int
	}{
		{"token and cookie", func(b *browser) string { return b.loginForm("/login") }, nil, http.StatusSeeOther},
		{"same origin", func(b *browser) string { return b.loginForm("/login") }, map[string]string{"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no token", func(b *browser) string { b.loginForm("/login"); return "" }, nil, http.StatusForbidden},
		{"no cookie", func(b *browser) string { return newBrowser(t, srv.URL).loginForm("/login") }, nil, http.StatusForbidden},
		{"forged token", func(b *browser) string { b.loginForm("/login"); return "AAAA" }, nil, http.StatusForbidden},
		{"another site's origin", func(b *browser) string { return b.loginForm("/login") }, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"opaque origin", func(b *browser) string { return b.loginForm("/login") }, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", func(b *browser) string { return b.loginForm("/login") }, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv.URL)
			form := url.Values{"name": {"Mallory"}, "groups": {"admins"}}
			if tok := tt.token(b); tok != "" {
				form.Set("login_token", tok)
			}
			resp, page := b.do("POST", "/login", form, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, page)
			}
			if got := cookieNamed(resp, SessionCookie) != nil; got != (tt.status == http.StatusSeeOther) {
				t.Fatalf("session cookie set: %v", got)
			}
			if tt.status == http.StatusForbidden && (!strings.Contains(page, "réessayez") || !loginTokenField.MatchString(page)) {
				t.Errorf("refusal page does not offer the form again:\n%s", page)
			}
		})
	}
}

func TestLoginBadName(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev})
	for _, name := range []string{"", "   ", "!!! ???", "\x00\x01"} {
		b := newBrowser(t, srv.URL)
		form := url.Values{"name": {name}, "login_token": {b.loginForm("/login")}}
		resp, page := b.do("POST", "/login", form, nil)
		if resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, SessionCookie) != nil || !strings.Contains(page, `role="alert"`) {
			t.Errorf("name %q: %d %s", name, resp.StatusCode, page)
		}
	}
}

func TestLoginOnlyInDevMode(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthHeader})
	for _, r := range []struct{ method, path string }{{"GET", "/login"}, {"POST", "/login"}, {"POST", "/logout"}, {"GET", "/login.css"}, {"GET", "/login.js"}} {
		resp, body := newBrowser(t, srv.URL).do(r.method, r.path, url.Values{}, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("header mode, %s %s: %d %s", r.method, r.path, resp.StatusCode, body)
		}
	}
	for _, mode := range []string{AuthHeader, "oidc", ""} {
		if rs := (&Server{opts: Options{AuthMode: mode}}).loginRoutes(); len(rs) != 0 {
			t.Errorf("mode %q has login routes: %v", mode, rs)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/salles?site=nantes#demain", "/salles?site=nantes#demain"},
		{"/events/ev_1", "/events/ev_1"},
		{"https://evil.example/", "/"},
		{"http:/evil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"javascript:alert(1)", "/"},
		{" /salles", "/"},
		{"/\t/evil.example", "/"},
		{"/a\r\nSet-Cookie: x=y", "/"},
		{"salles", "/"},
		{"/" + strings.Repeat("a", 2000), "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Amina", "amina"},
		{"Amélie N'Diaye", "amelie-n-diaye"},
		{"  Zoë   Œuvre-Ça ", "zoe-oeuvre-ca"},
		{"Jean-François 2", "jean-francois-2"},
		{"李雷", "李雷"},
		{"!!!", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := slug(strings.Repeat("é", 100) + " x")
	if len(long) > maxSlug || !utf8.ValidString(long) || strings.HasSuffix(long, "-") {
		t.Errorf("long slug %q (%d bytes)", long, len(long))
	}
	if got := cleanName("  Anne\x00  Marie\t Dupont "); got != "Anne Marie Dupont" {
		t.Errorf("cleanName: %q", got)
	}
	if got := cleanName(strings.Repeat("a", 200)); utf8.RuneCountInString(got) != maxNameRunes {
		t.Errorf("cleanName does not cut: %d runes", utf8.RuneCountInString(got))
	}
}
