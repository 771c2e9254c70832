package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

func TestSessionCookie(t *testing.T) {
	ss := &sessions{key: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Hour}
	m := booking.Member{ID: "amina", Name: "Amina Diallo", Groups: []string{"organisers"}}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPost, "https://roomcal.example/auth/callback", nil)
	issued, err := ss.issue(c, m, "")
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Fatalf("cookie attributes: %+v", cookie)
	}
	value := cookie.Value
	p, sig, _ := strings.Cut(value, ".")
	other := &sessions{key: []byte("another key, another deployment!"), ttl: time.Hour}
	forged, _ := other.encode(session{Member: booking.Member{ID: "admin", Groups: []string{"admins"}}, Expires: time.Now().Add(time.Hour), CSRF: "x"})
	tests := []struct {
		name  string
		value string
		now   time.Time
		ok    bool
	}{
		{"valid", value, time.Now(), true},
		{"expired", value, issued.Expires.Add(time.Second), false},
		{"payload changed", strings.Replace(p, p[:4], "AAAA", 1) + "." + sig, time.Now(), false},
		{"signature changed", p + "." + strings.Repeat("A", len(sig)), time.Now(), false},
		{"signed with another key", forged, time.Now(), false},
		{"no signature", p, time.Now(), false},
		{"empty", "", time.Now(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ss.decode(tt.value, tt.now)
			if (err == nil) != tt.ok {
				t.Fatalf("decode: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (s.Member.ID != "amina" || s.CSRF != issued.CSRF || !s.Member.IsOrganiser()) {
				t.Fatalf("decoded %+v", s)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	s := session{CSRF: "tok"}
	tests := []struct {
		method, header string
		ok             bool
	}{
		{http.MethodGet, "", true},
		{http.MethodHead, "", true},
		{http.MethodPost, "", false},
		{http.MethodPost, "wrong", false},
		{http.MethodPost, "tok", true},
		{http.MethodDelete, "", false},
		{http.MethodPatch, "tok", true},
	}
	form := httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader("csrf_token=tok"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !csrfOK(form, s) {
		t.Errorf("a form post with the token as a field is refused")
	}
	jsonBody := httptest.NewRequest(http.MethodPost, "/api/v1/bookings", strings.NewReader(`{"csrf_token":"tok"}`))
	jsonBody.Header.Set("Content-Type", "application/json")
	if csrfOK(jsonBody, s) {
		t.Errorf("a JSON body is taken for a form")
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/api/v1/bookings", nil)
		if tt.header != "" {
			r.Header.Set(HeaderCSRF, tt.header)
		}
		if got := csrfOK(r, s); got != tt.ok {
			t.Errorf("%s with %q: %v, want %v", tt.method, tt.header, got, tt.ok)
		}
	}
}

// TestSeveralSessionCookies: a request with two roomcal_session cookies
// (one tossed by a site sharing the parent domain, holding its own valid
// session) is refused, whichever comes first, for reads and writes alike;
// a single cookie is believed.
func TestSeveralSessionCookies(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	srv := newTestServer(t, Options{AuthMode: AuthDev, SessionKey: key})
	ss := &sessions{key: key, ttl: time.Hour}
	cookie := func(id string) *http.Cookie {
		v, err := ss.encode(session{Member: booking.Member{ID: id, Name: id}, Expires: time.Now().Add(time.Hour), CSRF: "csrf-" + id})
		if err != nil {
			t.Fatal(err)
		}
		return &http.Cookie{Name: SessionCookie, Value: v}
	}
	victim, attacker := cookie("victime"), cookie("attaquant")
	tests := []struct {
		name    string
		method  string
		cookies []*http.Cookie
		csrf    string
		status  int
		id      string
	}{
		{"one session", http.MethodGet, []*http.Cookie{victim}, "", 200, "victime"},
		{"attacker's first", http.MethodGet, []*http.Cookie{attacker, victim}, "", 400, ""},
		{"victim's first", http.MethodGet, []*http.Cookie{victim, attacker}, "", 400, ""},
		{"attacker's first, a write with its token", http.MethodPost, []*http.Cookie{attacker, victim}, "csrf-attaquant", 400, ""},
		{"an invalid one beside a valid one", http.MethodGet, []*http.Cookie{{Name: SessionCookie, Value: "x.y"}, victim}, "", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/me"
			if tt.method == http.MethodPost {
				path = "/api/v1/me/feed"
			}
			req := httptest.NewRequest(tt.method, srv.URL+path, nil)
			req.RequestURI = ""
			for _, ck := range tt.cookies {
				req.AddCookie(ck)
			}
			if tt.csrf != "" {
				req.Header.Set(HeaderCSRF, tt.csrf)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				ID   string `json:"id"`
				Code string `json:"code"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tt.status || (tt.status == 200 && out.ID != tt.id) || (tt.status == 400 && out.Code != CodeInvalid) {
				t.Fatalf("%d %+v, want %d %q", resp.StatusCode, out, tt.status, tt.id)
			}
		})
	}
}
