package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/oidctest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// The oidc mode, against a real OpenID provider (zitadel's op, in
// process: internal/oidctest).

var (
	amina = oidctest.User{ID: "2b7c4a90-amina", Username: "amina", Name: "Amina Diallo",
		Email: "amina@example.org", Groups: []string{"/organisers", "/staff"}}
	bruno = oidctest.User{ID: "9d01e7f3-bruno", Username: "bruno", Email: "bruno@example.org"}
)

// oidcLog collects a server's log lines, safely across goroutines.
type oidcLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *oidcLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *oidcLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// oidcRoomcal is a roomcal server in oidc mode, with a booking service
// over the embedded store.
type oidcRoomcal struct {
	srv *httptest.Server
	s   *Server
	log *oidcLog
}

func newOIDCProvider(t *testing.T) *oidctest.Provider {
	t.Helper()
	return oidctest.New(t, oidctest.Options{Users: []oidctest.User{amina, bruno}})
}

// newOIDCRoomcal starts roomcal against idp, registering its redirect
// URIs there; edit changes the client's configuration.
func newOIDCRoomcal(t *testing.T, idp *oidctest.Provider, edit func(*OIDCConfig)) *oidcRoomcal {
	t.Helper()
	ctx := context.Background()
	logs := &oidcLog{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cat := testCatalog(t)
	store, err := caldav.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	for _, r := range []string{"loire", "erdre", "estuaire"} {
		if err := store.CreateCalendar(ctx, r, r); err != nil {
			t.Fatal(err)
		}
	}
	rooms := caldav.NewRoomCalendars(store, log)
	bs, err := booking.NewService(booking.Options{Catalog: cat, Calendar: rooms, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: rooms, Logger: log})
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	idp.Register(base+"/auth/callback", base+"/")
	cfg := OIDCConfig{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Logger: log}
	if edit != nil {
		edit(&cfg)
	}
	client, err := NewOIDCClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{
		Logger: log, Catalog: cat, Bookings: bs, AuthMode: AuthOIDC, OIDC: client,
		SessionKey: []byte("0123456789abcdef0123456789abcdef"), Pages: stubPages{},
	})
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	return &oidcRoomcal{srv: srv, s: s, log: logs}
}

// oidcBrowser is a browser: a cookie jar, redirects followed, and the
// URLs it went through.
type oidcBrowser struct {
	t     *testing.T
	c     *http.Client
	jar   *cookiejar.Jar
	mu    sync.Mutex
	trail []string
}

func newOIDCBrowser(t *testing.T) *oidcBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &oidcBrowser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		b.mu.Lock()
		b.trail = append(b.trail, r.URL.String())
		b.mu.Unlock()
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// do sends a request (body: JSON) and returns the last answer and its
// body; header holds extra headers.
func (b *oidcBrowser) do(method, target string, body string, header map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	b.mu.Lock()
	b.trail = nil
	b.mu.Unlock()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func (b *oidcBrowser) redirects() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.trail...)
}

// cookie returns the value the jar would send to target for name.
func (b *oidcBrowser) cookie(target, name string) string {
	u, _ := url.Parse(target)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func decodeMe(t *testing.T, body []byte) meJSON {
	t.Helper()
	var me meJSON
	if err := json.Unmarshal(body, &me); err != nil {
		t.Fatalf("me: %v: %s", err, body)
	}
	return me
}

func problemCode(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q for %d: %s", ct, resp.StatusCode, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem: %v: %s", err, body)
	}
	return p.Code
}

// bookingBody is a booking of erdre (open around the clock) tomorrow.
func bookingBody(hour int) string {
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour).Add(time.Duration(hour) * time.Hour)
	return `{"room":"erdre","start":"` + start.Format(time.RFC3339) + `","end":"` + start.Add(time.Hour).Format(time.RFC3339) + `","title":"Réunion"}`
}

// TestOIDCCodeFlow: the whole sign-in of a page, from /auth/login to the
// provider's login and back, a session that names the member with roles
// from the groups claim, writes that need the session's CSRF token, and
// a logout that ends the provider's session too.
func TestOIDCCodeFlow(t *testing.T) {
	idp := newOIDCProvider(t)
	rc := newOIDCRoomcal(t, idp, nil)
	base := rc.srv.URL
	b := newOIDCBrowser(t)

	// Not signed in yet.
	if resp, body := b.do("GET", base+"/api/v1/me", "", nil); resp.StatusCode != 401 || problemCode(t, resp, body) != CodeUnauthenticated {
		t.Fatalf("me before sign-in: %d %s", resp.StatusCode, body)
	}

	// A page invites to sign in (401), with the way back; it does not
	// go to the provider by itself.
	resp, body := b.do("GET", base+"/mes-reservations?x=1", "", nil)
	var invite stubAnswer
	if err := json.Unmarshal(body, &invite); err != nil || resp.StatusCode != 401 || invite.Page != "signin" ||
		invite.SignIn != "/auth/login?next=%2Fmes-reservations%3Fx%3D1" || len(b.redirects()) != 0 {
		t.Fatalf("a page before sign-in: %d %s (%v) through %v", resp.StatusCode, body, err, b.redirects())
	}

	// Sign in, coming back to next.
	resp, body = b.do("GET", base+"/auth/login?next=/api/v1/me", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in ended with %d: %s (through %v)\n%s", resp.StatusCode, body, b.redirects(), rc.log)
	}
	trail := b.redirects()
	if len(trail) < 3 || !strings.HasPrefix(trail[0], idp.Issuer+"/authorize?") ||
		!strings.HasPrefix(trail[len(trail)-2], base+"/auth/callback?") || trail[len(trail)-1] != base+"/api/v1/me" {
		t.Errorf("redirects: %v", trail)
	}
	ar, ok := idp.LastAuthRequest()
	if !ok || ar.CodeChallengeMethod != "S256" || ar.CodeChallenge == "" || len(ar.State) < 32 || len(ar.Nonce) < 32 ||
		ar.RedirectURI != base+"/auth/callback" || !strings.Contains(strings.Join(ar.Scopes, " "), "openid") {
		t.Errorf("the provider was asked %+v", ar)
	}
	if b.cookie(base+"/auth/callback", oidcFlowCookie) != "" {
		t.Error("the sign-in cookie outlived the callback")
	}
	if b.cookie(base+"/", SessionCookie) == "" {
		t.Fatal("no session cookie")
	}
	me := decodeMe(t, body)
	if me.ID != amina.ID || me.Name != amina.Name || me.Email != amina.Email || me.CSRFToken == "" ||
		strings.Join(me.Roles, ",") != "member,organiser" || strings.Join(me.Groups, ",") != "organisers,staff" {
		t.Fatalf("me: %+v", me)
	}

	// A write with the cookie wants the CSRF token.
	resp, body = b.do("POST", base+"/api/v1/bookings", bookingBody(10), nil)
	if resp.StatusCode != 403 || problemCode(t, resp, body) != CodeForbidden {
		t.Fatalf("booking without the CSRF token: %d %s", resp.StatusCode, body)
	}
	csrf := map[string]string{HeaderCSRF: me.CSRFToken}
	resp, body = b.do("POST", base+"/api/v1/bookings", bookingBody(10), csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("booking with the CSRF token: %d %s", resp.StatusCode, body)
	}
	var bk struct {
		ID        string `json:"id"`
		Organizer struct {
			ID string `json:"id"`
		} `json:"organizer"`
	}
	if err := json.Unmarshal(body, &bk); err != nil || bk.ID == "" {
		t.Fatalf("booking: %v %s", err, body)
	}
	if !strings.Contains(string(body), amina.ID) {
		t.Errorf("the booking does not name its organizer %s: %s", amina.ID, body)
	}
	if resp, body := b.do("DELETE", base+"/api/v1/bookings/"+bk.ID, "", nil); resp.StatusCode != 403 {
		t.Errorf("delete without the CSRF token: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.do("DELETE", base+"/api/v1/bookings/"+bk.ID, "", csrf); resp.StatusCode != 204 {
		t.Errorf("delete with the CSRF token: %d %s", resp.StatusCode, body)
	}

	// Logging out wants the token too, then goes through the provider's
	// end_session and back to roomcal's front page.
	if resp, _ := b.do("POST", base+"/auth/logout", "", nil); resp.StatusCode != 403 {
		t.Errorf("logout without the CSRF token: %d", resp.StatusCode)
	}
	b.do("POST", base+"/auth/logout", "", csrf)
	trail = b.redirects()
	if len(trail) != 2 || !strings.HasPrefix(trail[0], idp.Issuer+"/end_session?") || trail[1] != base+"/" {
		t.Errorf("logout redirects: %v", trail)
	} else {
		q, _ := url.Parse(trail[0])
		if q.Query().Get("id_token_hint") == "" || q.Query().Get("post_logout_redirect_uri") != base+"/" || q.Query().Get("client_id") != idp.ClientID {
			t.Errorf("end_session query: %v", q.Query())
		}
	}
	if got := idp.Logouts(); len(got) != 1 || got[0] != amina.ID {
		t.Errorf("the provider ended the sessions of %v", got)
	}
	if resp, body := b.do("GET", base+"/api/v1/me", "", nil); resp.StatusCode != 401 {
		t.Errorf("me after logout: %d %s", resp.StatusCode, body)
	}
}

// TestOIDCPublicClient: without a client secret, roomcal signs in as a
// public client, which the provider lets through on PKCE alone.
func TestOIDCPublicClient(t *testing.T) {
	idp := oidctest.New(t, oidctest.Options{Public: true, Users: []oidctest.User{bruno}})
	rc := newOIDCRoomcal(t, idp, nil)
	b := newOIDCBrowser(t)
	resp, body := b.do("GET", rc.srv.URL+"/auth/login?next=/api/v1/me", "", nil)
	if resp.StatusCode != 200 || decodeMe(t, body).ID != bruno.ID {
		t.Fatalf("sign-in: %d %s\n%s", resp.StatusCode, body, rc.log)
	}
	access, _ := idp.Tokens(t, bruno.ID)
	req, _ := http.NewRequest("GET", rc.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("bearer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestOIDCLogoutJSON: a page's fetch asks for JSON and is told where to
// go; without a known end_session the answer is the front page.
func TestOIDCLogoutJSON(t *testing.T) {
	idp := newOIDCProvider(t)
	rc := newOIDCRoomcal(t, idp, nil)
	b := newOIDCBrowser(t)
	resp, body := b.do("GET", rc.srv.URL+"/auth/login?next=/api/v1/me", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	me := decodeMe(t, body)
	resp, body = b.do("POST", rc.srv.URL+"/auth/logout", "", map[string]string{HeaderCSRF: me.CSRFToken, "Accept": "application/json"})
	var out struct {
		Redirect string `json:"redirect"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || !strings.HasPrefix(out.Redirect, idp.Issuer+"/end_session?") {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.do("GET", rc.srv.URL+"/api/v1/me", "", nil); resp.StatusCode != 401 {
		t.Errorf("me after logout: %d", resp.StatusCode)
	}

	// A bearer client has no session, hence no ID token to hint with.
	access, _ := idp.Tokens(t, amina.ID)
	resp, body = b.do("POST", rc.srv.URL+"/auth/logout", "", map[string]string{"Authorization": "Bearer " + access, "Accept": "application/json"})
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || strings.Contains(out.Redirect, "id_token_hint") {
		t.Errorf("bearer logout: %d %s", resp.StatusCode, body)
	}
}

// TestOIDCBearer: API clients with access tokens.
func TestOIDCBearer(t *testing.T) {
	idp := newOIDCProvider(t)
	other := newOIDCProvider(t) // another issuer, with keys of its own
	rc := newOIDCRoomcal(t, idp, nil)
	access, idToken := idp.Tokens(t, amina.ID)
	brunoAccess, _ := idp.Tokens(t, bruno.ID)
	foreign, _ := other.Tokens(t, amina.ID)

	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": idp.Issuer, "sub": amina.ID, "aud": []string{"account"}, "azp": idp.ClientID,
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "name": amina.Name, "groups": []string{"/admins"},
		}
		edit(c)
		return c
	}
	expired := idp.Sign(t, claims(func(c map[string]any) {
		c["exp"], c["iat"] = now.Add(-time.Minute).Unix(), now.Add(-6*time.Minute).Unix()
	}))
	audOnly := idp.Sign(t, claims(func(c map[string]any) { c["aud"] = idp.ClientID; delete(c, "azp") }))
	otherClient := idp.Sign(t, claims(func(c map[string]any) { c["aud"], c["azp"] = []string{"account", "wiki"}, "wiki" }))
	posing := other.Sign(t, claims(func(map[string]any) {})) // our issuer's name, another's key
	keycloakID := idp.Sign(t, claims(func(c map[string]any) { c["typ"] = "ID" }))

	// Tampering: one byte of the payload flipped; the payload rewritten
	// to claim the admins group, the signature kept.
	parts := strings.Split(access, ".")
	flipped := []byte(parts[1])
	i := len(flipped) / 2
	flipped[i] = map[bool]byte{true: 'B', false: 'A'}[flipped[i] == 'A']
	tampered := parts[0] + "." + string(flipped) + "." + parts[2]
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var pc map[string]any
	if err := json.Unmarshal(payload, &pc); err != nil {
		t.Fatal(err)
	}
	pc["groups"] = []string{"/admins"}
	payload, _ = json.Marshal(pc)
	promoted := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

	tests := []struct {
		name, token, method, path, body string
		header                          map[string]string
		status                          int
		code                            string
		me                              *meJSON
	}{
		{name: "valid", token: access, status: 200,
			me: &meJSON{ID: amina.ID, Name: amina.Name, Email: amina.Email, Roles: []string{"member", "organiser"}}},
		{name: "valid, no groups", token: brunoAccess, status: 200,
			me: &meJSON{ID: bruno.ID, Name: "bruno", Email: bruno.Email, Roles: []string{"member"}}},
		{name: "aud is the client, no azp", token: audOnly, status: 200,
			me: &meJSON{ID: amina.ID, Name: amina.Name, Roles: []string{"member", "organiser", "admin"}}},
		{name: "a write needs no CSRF token", token: access, method: "POST", path: "/api/v1/bookings", body: bookingBody(14), status: 201},
		{name: "scheme in lower case", token: access, header: map[string]string{"Authorization": "bearer " + access}, status: 200},
		{name: "expired", token: expired, status: 401, code: CodeUnauthenticated},
		{name: "another issuer", token: foreign, status: 401, code: CodeUnauthenticated},
		{name: "our issuer's name, another issuer's key", token: posing, status: 401, code: CodeUnauthenticated},
		{name: "one byte flipped", token: tampered, status: 401, code: CodeUnauthenticated},
		{name: "payload rewritten", token: promoted, status: 401, code: CodeUnauthenticated},
		{name: "unsigned", token: unsigned, status: 401, code: CodeUnauthenticated},
		{name: "for another client", token: otherClient, status: 401, code: CodeUnauthenticated},
		{name: "an ID token", token: idToken, status: 401, code: CodeUnauthenticated},
		{name: "a Keycloak ID token", token: keycloakID, status: 401, code: CodeUnauthenticated},
		{name: "not a JWT", token: "opaque-token", status: 401, code: CodeUnauthenticated},
		{name: "a refused token on an anonymous route", token: expired, path: "/healthz", status: 401, code: CodeUnauthenticated},
		{name: "identity headers are not believed", header: map[string]string{HeaderUser: "admin", HeaderGroups: "admins"}, status: 401, code: CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/api/v1/me"
			}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(method, rc.srv.URL+path, body)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, data)
			}
			if tt.code != "" {
				if got := problemCode(t, resp, data); got != tt.code {
					t.Errorf("code %q, want %q", got, tt.code)
				}
				if tt.token != "" && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
			}
			if tt.me != nil {
				got := decodeMe(t, data)
				if got.ID != tt.me.ID || got.Name != tt.me.Name || got.Email != tt.me.Email ||
					strings.Join(got.Roles, ",") != strings.Join(tt.me.Roles, ",") || got.CSRFToken != "" {
					t.Errorf("me %+v, want %+v", got, *tt.me)
				}
			}
		})
	}

	// Refusals are logged with their reason, never with the token.
	logs := rc.log.String()
	for _, want := range []string{"bearer token refused", "expired", "issued by another provider", "failed to verify signature", "not meant for client", "an ID token", "identity headers ignored in oidc mode"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	for _, tt := range tests {
		if tt.token == "" {
			continue
		}
		sig := tt.token[strings.LastIndex(tt.token, ".")+1:]
		if strings.Contains(logs, tt.token) || (len(sig) > 10 && strings.Contains(logs, sig)) {
			t.Errorf("the log holds the token of %q", tt.name)
		}
	}
}

// TestOIDCCallbackRefusals: a callback whose state does not match, that
// comes to another browser, or that the provider refused, signs nobody
// in.
func TestOIDCCallbackRefusals(t *testing.T) {
	idp := newOIDCProvider(t)
	rc := newOIDCRoomcal(t, idp, nil)
	base := rc.srv.URL

	// begin signs in at the provider and returns the callback URL it
	// sends the browser to, without following it.
	begin := func(b *oidcBrowser) string {
		t.Helper()
		b.c.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(r.URL.String(), base+"/auth/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, body := b.do("GET", base+"/auth/login", "", nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, base+"/auth/callback?") {
			t.Fatalf("sign-in did not come back: %d %s %s", resp.StatusCode, loc, body)
		}
		b.c.CheckRedirect = nil
		return loc
	}
	signedIn := func(b *oidcBrowser) bool {
		resp, _ := b.do("GET", base+"/api/v1/me", "", nil)
		return resp.StatusCode == 200
	}

	t.Run("state mismatch", func(t *testing.T) {
		b := newOIDCBrowser(t)
		callback := begin(b)
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Set("state", "forged-"+q.Get("state"))
		u.RawQuery = q.Encode()
		resp, body := b.do("GET", u.String(), "", nil)
		if resp.StatusCode != 400 || problemCode(t, resp, body) != CodeInvalid {
			t.Errorf("forged state: %d %s", resp.StatusCode, body)
		}
		if signedIn(b) || b.cookie(base+"/", SessionCookie) != "" {
			t.Error("a forged state signed the browser in")
		}
		// The genuine answer still completes the sign-in it belongs to,
		// and leads to the start page (the stub page).
		if resp, body := b.do("GET", callback, "", nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"page":"start"`) || !signedIn(b) {
			t.Errorf("the genuine callback: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no state", func(t *testing.T) {
		b := newOIDCBrowser(t)
		u, _ := url.Parse(begin(b))
		q := u.Query()
		q.Del("state")
		u.RawQuery = q.Encode()
		if resp, _ := b.do("GET", u.String(), "", nil); resp.StatusCode != 400 || signedIn(b) {
			t.Errorf("no state: %d", resp.StatusCode)
		}
	})
	t.Run("another browser", func(t *testing.T) {
		// The attacker's own sign-in, finished in the victim's browser
		// (login CSRF): the victim has no sign-in cookie.
		callback := begin(newOIDCBrowser(t))
		victim := newOIDCBrowser(t)
		if resp, _ := victim.do("GET", callback, "", nil); resp.StatusCode != 400 || signedIn(victim) {
			t.Errorf("callback in another browser: %d", resp.StatusCode)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		b := newOIDCBrowser(t)
		callback := begin(b)
		b.do("GET", callback, "", nil)
		if !signedIn(b) {
			t.Fatal("not signed in")
		}
		if resp, _ := b.do("GET", callback, "", nil); resp.StatusCode != 400 {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
	})
	t.Run("refused by the provider", func(t *testing.T) {
		idp.LoginAs("")
		defer idp.LoginAs(amina.ID)
		b := newOIDCBrowser(t)
		callback := begin(b)
		resp, body := b.do("GET", callback, "", nil)
		if resp.StatusCode != 401 || problemCode(t, resp, body) != CodeUnauthenticated || signedIn(b) {
			t.Errorf("refused sign-in: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("forged sign-in cookie", func(t *testing.T) {
		b := newOIDCBrowser(t)
		callback := begin(b)
		u, _ := url.Parse(base + "/auth/callback")
		v := b.cookie(u.String(), oidcFlowCookie)
		p, _, _ := strings.Cut(v, ".")
		b.jar.SetCookies(u, []*http.Cookie{{Name: oidcFlowCookie, Value: p + "." + base64.RawURLEncoding.EncodeToString([]byte("not the signature")), Path: "/auth/callback"}})
		if resp, _ := b.do("GET", callback, "", nil); resp.StatusCode != 400 || signedIn(b) {
			t.Errorf("forged cookie: %d", resp.StatusCode)
		}
	})
	// resign changes the sign-in cookie as only roomcal could (it is
	// signed with the session key), to check what the provider's answer
	// is held against.
	resign := func(b *oidcBrowser, edit func(*oidcFlow)) {
		t.Helper()
		u, _ := url.Parse(base + "/auth/callback")
		r := &http.Request{Header: http.Header{}}
		r.AddCookie(&http.Cookie{Name: oidcFlowCookie, Value: b.cookie(u.String(), oidcFlowCookie)})
		f, err := rc.s.readFlow(r)
		if err != nil {
			t.Fatal(err)
		}
		edit(&f)
		v, err := rc.s.encodeFlow(f)
		if err != nil {
			t.Fatal(err)
		}
		b.jar.SetCookies(u, []*http.Cookie{{Name: oidcFlowCookie, Value: v, Path: "/auth/callback"}})
	}
	t.Run("nonce mismatch", func(t *testing.T) {
		b := newOIDCBrowser(t)
		callback := begin(b)
		resign(b, func(f *oidcFlow) { f.Nonce = "another nonce" })
		if resp, _ := b.do("GET", callback, "", nil); resp.StatusCode != 401 || signedIn(b) {
			t.Errorf("nonce mismatch: %d", resp.StatusCode)
		}
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		b := newOIDCBrowser(t)
		callback := begin(b)
		resign(b, func(f *oidcFlow) { f.Verifier = strings.Repeat("v", 43) })
		if resp, _ := b.do("GET", callback, "", nil); resp.StatusCode != 401 || signedIn(b) {
			t.Errorf("wrong verifier: %d", resp.StatusCode)
		}
	})
	logs := rc.log.String()
	for _, want := range []string{"state does not match", "nonce does not match", "code exchange refused", "the provider answered an error"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
}

// TestOIDCNext: next must be a path on roomcal (no open redirect).
func TestOIDCNext(t *testing.T) {
	idp := newOIDCProvider(t)
	rc := newOIDCRoomcal(t, idp, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		next   string
		status int
	}{
		{"", http.StatusFound},
		{"/", http.StatusFound},
		{"/rooms?site=nantes#top", http.StatusFound},
		{"https://evil.example/", http.StatusBadRequest},
		{"//evil.example/", http.StatusBadRequest},
		{"/\\evil.example", http.StatusBadRequest},
		{"javascript:alert(1)", http.StatusBadRequest},
		{"rooms", http.StatusBadRequest},
		{"/a\nb", http.StatusBadRequest},
	}
	for _, tt := range tests {
		resp, err := noFollow.Get(rc.srv.URL + "/auth/login?next=" + url.QueryEscape(tt.next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("next %q: %d, want %d", tt.next, resp.StatusCode, tt.status)
		}
		if tt.status == http.StatusFound {
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, idp.Issuer+"/authorize?") {
				t.Errorf("next %q: sent to %s", tt.next, loc)
			}
			var ck *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == oidcFlowCookie {
					ck = c
				}
			}
			if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/auth/callback" || ck.MaxAge <= 0 || ck.MaxAge > 600 {
				t.Errorf("sign-in cookie %+v", ck)
			}
		}
	}
}

// TestOIDCIssuerDownAtStart: roomcal starts while the issuer does not
// answer, answers 503 to sign-ins and bearer tokens meanwhile, and works
// once the issuer is up.
func TestOIDCIssuerDownAtStart(t *testing.T) {
	idp := oidctest.NewUnstarted(t, oidctest.Options{Users: []oidctest.User{amina}})
	rc := newOIDCRoomcal(t, idp, func(c *OIDCConfig) {
		c.DiscoveryTimeout = 300 * time.Millisecond
		c.RetryInterval = time.Hour
	})
	if !strings.Contains(rc.log.String(), "issuer not reachable at start-up") {
		t.Errorf("not logged:\n%s", rc.log)
	}
	b := newOIDCBrowser(t)
	if resp, body := b.do("GET", rc.srv.URL+"/auth/login", "", nil); resp.StatusCode != 503 || problemCode(t, resp, body) != CodeUnavailable {
		t.Errorf("sign-in while the issuer is down: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.do("GET", rc.srv.URL+"/api/v1/me", "", map[string]string{"Authorization": "Bearer x.y.z"}); resp.StatusCode != 503 {
		t.Errorf("bearer while the issuer is down: %d", resp.StatusCode)
	}

	idp.Start()
	rc.s.opts.OIDC.mu.Lock()
	rc.s.opts.OIDC.lastTry = time.Time{} // as if RetryInterval had passed
	rc.s.opts.OIDC.mu.Unlock()
	resp, body := b.do("GET", rc.srv.URL+"/auth/login?next=/api/v1/me", "", nil)
	if resp.StatusCode != 200 || decodeMe(t, body).ID != amina.ID {
		t.Fatalf("sign-in once the issuer is up: %d %s\n%s", resp.StatusCode, body, rc.log)
	}
	if !strings.Contains(rc.log.String(), "oidc: issuer discovered") {
		t.Errorf("discovery not logged:\n%s", rc.log)
	}
}

// TestOIDCRoutesOnlyInOIDCMode: the other modes have no /auth routes,
// nor believe bearer tokens.
func TestOIDCRoutesOnlyInOIDCMode(t *testing.T) {
	for _, mode := range []string{AuthDev, AuthHeader, AuthOIDC} {
		srv := newTestServer(t, Options{AuthMode: mode}) // oidc without a client: no routes either
		for _, p := range []string{"/auth/login", "/auth/callback"} {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("%s mode: GET %s: %d", mode, p, resp.StatusCode)
			}
		}
	}
}

func TestOIDCMemberFromClaims(t *testing.T) {
	o := &OIDCClient{cfg: OIDCConfig{GroupsClaim: "realm_groups"}}
	tests := []struct {
		name   string
		claims map[string]any
		want   booking.Member
	}{
		{"all", map[string]any{"name": "Amina Diallo", "preferred_username": "amina", "email": "a@x.org", "realm_groups": []any{"/organisers", "/admins", "staff"}},
			booking.Member{ID: "s", Name: "Amina Diallo", Email: "a@x.org", Groups: []string{"organisers", "admins", "staff"}}},
		{"username", map[string]any{"preferred_username": "amina", "groups": []any{"/admins"}},
			booking.Member{ID: "s", Name: "amina"}},
		{"email", map[string]any{"email": "a@x.org", "realm_groups": "/organisers"},
			booking.Member{ID: "s", Name: "a@x.org", Email: "a@x.org", Groups: []string{"organisers"}}},
		{"nothing", map[string]any{"realm_groups": []any{"", "/", 3, "/staff", "staff"}},
			booking.Member{ID: "s", Name: "s", Groups: []string{"staff"}}},
	}
	for _, tt := range tests {
		m, err := o.member("s", tt.claims)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != tt.want.ID || m.Name != tt.want.Name || m.Email != tt.want.Email ||
			strings.Join(m.Groups, ",") != strings.Join(tt.want.Groups, ",") {
			t.Errorf("%s: %+v, want %+v", tt.name, m, tt.want)
		}
	}
	if _, err := o.member("", map[string]any{"name": "x"}); err == nil {
		t.Error("a token without sub made a member")
	}
}
