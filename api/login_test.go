package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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

// loginForm opens the login page and returns its token.
func (b *browser) loginForm(path string) string {
	b.t.Helper()
	resp, page := b.do("GET", path, nil, nil)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, page)
	}
	f := stubForm(b.t, page)
	if f.Token == "" {
		b.t.Fatalf("no login token in the page:\n%s", page)
	}
	return f.Token
}

// stubForm reads the login form stubPages wrote.
func stubForm(t *testing.T, page string) LoginForm {
	t.Helper()
	var a stubAnswer
	if err := json.Unmarshal([]byte(page), &a); err != nil || a.Page != "login" || a.Form == nil {
		t.Fatalf("not a login page (%v):\n%s", err, page)
	}
	return *a.Form
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
	srv := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}})
	b := newBrowser(t, srv.URL)
	for _, tt := range []struct{ target, next string }{
		{"/login?next=/salles", "/salles"},
		{"/login", "/"},
		{"/login?next=https://evil.example/", "/"},
	} {
		resp, page := b.do("GET", tt.target, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", tt.target, resp.StatusCode, page)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		f := stubForm(t, page)
		if f.Next != tt.next || f.Token == "" || f.MaxName != maxNameRunes || f.Current != nil || f.SessionCSRF != "" || f.Error != "" {
			t.Errorf("GET %s: form %+v", tt.target, f)
		}
		ck := cookieNamed(resp, loginCookie)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/login" {
			t.Errorf("login cookie %+v", ck)
		}
	}
}

// TestLoginWithoutPages: without Options.Pages there is no page to sign
// in on, and the form's refusals are problems.
func TestLoginWithoutPages(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev})
	b := newBrowser(t, srv.URL)
	if resp, body := b.do("GET", "/login", nil, nil); resp.StatusCode != 404 || problemCode(t, resp, []byte(body)) != CodeNotFound {
		t.Errorf("GET /login: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.do("POST", "/login", url.Values{"name": {"Ada"}}, nil); resp.StatusCode != 403 || problemCode(t, resp, []byte(body)) != CodeForbidden {
		t.Errorf("POST /login without a token: %d %s", resp.StatusCode, body)
	}
}

// TestLoginFlow signs in, acts through the session, sees the page escape
// the name, and signs out.
func TestLoginFlow(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}})
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

	// The page is told who is signed in, and the session's token for
	// its forms (package web's tests check it escapes the name).
	resp, page := b.do("GET", "/login", nil, nil)
	if f := stubForm(t, page); resp.StatusCode != 200 || f.Current == nil || f.Current.ID != me.ID || f.Current.Name != name || f.SessionCSRF != me.CSRFToken {
		t.Fatalf("signed-in login page: %d %+v", resp.StatusCode, f)
	}

	// Signing in as someone else is a write of the session: it carries
	// the session's token (as a form field, or the header), else identify
	// refuses it.
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
	resp, body = b.do("POST", "/login", form, nil)
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
	srv := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}})
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
			if tt.status == http.StatusForbidden {
				if f := stubForm(t, page); f.Error != LoginExpired || f.Token == "" || f.Name != "Mallory" || !f.Admin || f.Organiser {
					t.Errorf("refusal page does not offer the form again: %+v", f)
				}
			}
		})
	}
}

func TestLoginBadName(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthDev, Pages: stubPages{}})
	for _, name := range []string{"", "   ", "!!! ???", "\x00\x01"} {
		b := newBrowser(t, srv.URL)
		form := url.Values{"name": {name}, "next": {"/evenements"}, "login_token": {b.loginForm("/login")}}
		resp, page := b.do("POST", "/login", form, nil)
		if resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, SessionCookie) != nil {
			t.Errorf("name %q: %d %s", name, resp.StatusCode, page)
			continue
		}
		if f := stubForm(t, page); f.Error != LoginNoName || f.Token == "" || f.Next != "/evenements" {
			t.Errorf("name %q: form %+v", name, f)
		}
	}
}

func TestLoginOnlyInDevMode(t *testing.T) {
	srv := newTestServer(t, Options{AuthMode: AuthHeader, Pages: stubPages{}})
	for _, r := range []struct{ method, path string }{{"GET", "/login"}, {"POST", "/login"}, {"POST", "/logout"}} {
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
	if got := cleanName("Anne\u202e Eiram\u2066"); got != "Anne Eiram" {
		t.Errorf("cleanName keeps bidirectional controls: %q", got)
	}
	if got := cleanName(strings.Repeat("a", 200)); utf8.RuneCountInString(got) != maxNameRunes {
		t.Errorf("cleanName does not cut: %d runes", utf8.RuneCountInString(got))
	}
}
