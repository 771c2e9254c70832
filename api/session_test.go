package api

import (
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
