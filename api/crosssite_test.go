package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
)

// crossSiteServer serves f's services in the given identity mode and
// returns its URL and a function that makes a request as the booking's
// owner (or the event's organiser, with orga) in that mode: identity
// headers in dev and header mode, a session cookie with its CSRF token
// in oidc mode.
func crossSiteServer(t *testing.T, f *policyFixture, mode, publicURL string) (string, func(req *http.Request, role int)) {
	t.Helper()
	opts := f.s.opts
	opts.AuthMode = mode
	opts.PublicURL = publicURL
	opts.Pages = nil
	opts.SessionKey = []byte("0123456789abcdef0123456789abcdef")
	switch mode {
	case AuthHeader:
		opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	case AuthOIDC:
		opts.OIDC = &OIDCClient{}
	}
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	as := func(req *http.Request, role int) {
		m := *roleMembers[role]
		if mode != AuthOIDC {
			req.Header.Set(HeaderUser, m.ID)
			req.Header.Set(HeaderName, m.Name)
			req.Header.Set(HeaderGroups, strings.Join(m.Groups, ","))
			return
		}
		sess := session{Member: m, Expires: time.Now().Add(time.Hour), CSRF: "csrf-" + m.ID}
		v, err := s.sessions.encode(sess)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
		req.Header.Set(HeaderCSRF, sess.CSRF)
	}
	return srv.URL, as
}

// TestCrossSiteWritesRefused: in every identity mode, every kind of write
// a browser may be made to send from another site (a text/plain form
// with a JSON body, a fetch with a foreign Origin, one the browser marks
// cross-site) is refused and changes nothing; the same write sent by
// roomcal's own pages goes through.
func TestCrossSiteWritesRefused(t *testing.T) {
	f := newPolicyFixture(t)
	ctx := context.Background()
	type write struct {
		name, method, target string
		role                 int
		body                 func() string
		ok                   int
	}
	writes := func(bid, eid string) []write {
		start, end := f.slot()
		return []write{
			{"create booking", http.MethodPost, "/api/v1/bookings", asOwner, func() string {
				return fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Piège"}`, start.Format(time.RFC3339), end.Format(time.RFC3339))
			}, 201},
			{"move booking", http.MethodPatch, "/api/v1/bookings/" + bid, asOwner, func() string { return `{"title":"Piège"}` }, 200},
			{"cancel booking", http.MethodDelete, "/api/v1/bookings/" + bid, asOwner, func() string { return "" }, 204},
			{"create event", http.MethodPost, "/api/v1/events", asOrga, func() string {
				return fmt.Sprintf(`{"title":"Piège","start":%q,"end":%q,"location":"Hall","capacity":5}`,
					start.AddDate(0, 0, 3).Format(time.RFC3339), end.AddDate(0, 0, 3).Format(time.RFC3339))
			}, 201},
			{"change event", http.MethodPatch, "/api/v1/events/" + eid, asOrga, func() string { return `{"capacity":3}` }, 200},
			{"register", http.MethodPost, "/api/v1/events/" + eid + "/registrations", asOwner, func() string { return "" }, 201},
			{"replace feed link", http.MethodPost, "/api/v1/me/feed", asOwner, func() string { return "" }, 201},
			{"revoke feed link", http.MethodDelete, "/api/v1/me/feed", asOwner, func() string { return "" }, 204},
		}
	}
	type attack struct {
		name        string
		contentType string
		origin      string // "{self}": the server's own
		fetchSite   string
		status      int
		code        string
	}
	attacks := []attack{
		{"cross-site text/plain form", "text/plain", "https://evil.example", "cross-site", 403, CodeCrossSite},
		{"foreign Origin, JSON", "application/json", "https://evil.example", "", 403, CodeCrossSite},
		{"Origin null, JSON", "application/json", "null", "", 403, CodeCrossSite},
		{"Origin of another port", "application/json", "{otherport}", "", 403, CodeCrossSite},
		{"Sec-Fetch-Site cross-site, JSON", "application/json", "", "cross-site", 403, CodeCrossSite},
		{"Sec-Fetch-Site same-site, JSON", "application/json", "", "same-site", 403, CodeCrossSite},
		{"own Origin, text/plain", "text/plain", "{self}", "same-origin", 415, CodeUnsupportedMediaType},
		{"no browser headers, form type", "application/x-www-form-urlencoded", "", "", 415, CodeUnsupportedMediaType},
	}
	for _, mode := range []string{AuthDev, AuthHeader, AuthOIDC} {
		for _, public := range []string{"", "https://salles.example.org"} {
			base, as := crossSiteServer(t, f, mode, public)
			self := base
			if public != "" {
				self = public
			}
			u, _ := url.Parse(base)
			t.Run(fmt.Sprintf("%s mode, public URL %q", mode, public), func(t *testing.T) {
				for _, a := range attacks {
					bid, eid := f.newBooking(t), f.newEvent(t)
					token := f.feedToken(t, "{feedtoken}")
					for _, w := range writes(bid, eid) {
						before := f.state(t, bid, eid)
						nBefore := f.ownerBookings(t)
						req, err := http.NewRequestWithContext(ctx, w.method, base+w.target, strings.NewReader(w.body()))
						if err != nil {
							t.Fatal(err)
						}
						as(req, w.role)
						req.Header.Set("Content-Type", a.contentType)
						origin := strings.NewReplacer("{self}", self, "{otherport}", "http://"+u.Hostname()+":1").Replace(a.origin)
						if origin != "" {
							req.Header.Set("Origin", origin)
						}
						if a.fetchSite != "" {
							req.Header.Set("Sec-Fetch-Site", a.fetchSite)
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						got, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						var p Problem
						_ = json.Unmarshal(got, &p)
						if resp.StatusCode != a.status || p.Code != a.code || resp.Header.Get("Content-Type") != "application/problem+json" {
							t.Errorf("%s, %s: %d %s, want %d %s", a.name, w.name, resp.StatusCode, clip(got), a.status, a.code)
						}
						if after := f.state(t, bid, eid); after != before {
							t.Errorf("%s, %s: refused, yet\n before %s\n after  %s", a.name, w.name, before, after)
						}
						if n := f.ownerBookings(t); n != nBefore {
							t.Errorf("%s, %s: the owner had %d bookings, now %d", a.name, w.name, nBefore, n)
						}
						if _, err := f.tokens.Member(ctx, token); err != nil {
							t.Errorf("%s, %s: the feed link no longer works: %v", a.name, w.name, err)
						}
					}
				}
				// roomcal's own pages and plain API clients still write.
				for _, how := range []struct {
					name              string
					origin, fetchSite string
				}{{"own page", self, "same-origin"}, {"API client", "", ""}} {
					bid, eid := f.newBooking(t), f.newEvent(t)
					for _, w := range writes(bid, eid) {
						req, err := http.NewRequestWithContext(ctx, w.method, base+w.target, strings.NewReader(w.body()))
						if err != nil {
							t.Fatal(err)
						}
						as(req, w.role)
						if w.body() != "" {
							req.Header.Set("Content-Type", "application/json; charset=utf-8")
						}
						if how.origin != "" {
							req.Header.Set("Origin", how.origin)
							req.Header.Set("Sec-Fetch-Site", how.fetchSite)
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						got, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != w.ok {
							t.Errorf("%s, %s: %d %s, want %d", how.name, w.name, resp.StatusCode, clip(got), w.ok)
						}
					}
				}
			})
		}
	}
}

// ownerBookings counts the bookings of the booking owner.
func (f *policyFixture) ownerBookings(t *testing.T) int {
	t.Helper()
	bs, err := f.bookings.List(context.Background(), booking.Filter{Organizer: roleMembers[asOwner].ID, From: f.base.AddDate(0, 0, -1), To: f.base.AddDate(0, 0, 30)})
	if err != nil {
		t.Fatal(err)
	}
	return len(bs)
}

// TestOwnOrigin: which Origin values are roomcal's own, with and without
// a public URL.
func TestOwnOrigin(t *testing.T) {
	tests := []struct {
		public, host, origin string
		ok                   bool
	}{
		{"", "salles.example.org", "https://salles.example.org", true},
		{"", "salles.example.org", "http://salles.example.org", true},
		{"", "salles.example.org:8080", "http://salles.example.org:8080", true},
		{"", "salles.example.org", "https://SALLES.example.org:443", true},
		{"", "salles.example.org", "https://evil.example", false},
		{"", "salles.example.org", "https://salles.example.org.evil.example", false},
		{"", "salles.example.org", "null", false},
		{"", "salles.example.org", "ftp://salles.example.org", false},
		{"https://salles.example.org/roomcal", "10.0.0.5:8080", "https://salles.example.org", true},
		{"https://salles.example.org:443", "10.0.0.5:8080", "https://salles.example.org", true},
		{"https://salles.example.org", "salles.example.org", "http://salles.example.org", false},
		{"https://salles.example.org", "10.0.0.5:8080", "http://10.0.0.5:8080", false},
	}
	for _, tt := range tests {
		s := &Server{opts: Options{PublicURL: tt.public}}
		r := httptest.NewRequest(http.MethodPost, "http://"+tt.host+"/api/v1/bookings", nil)
		r.Header.Set("Origin", tt.origin)
		if got := s.originOK(r); got != tt.ok {
			t.Errorf("public %q, host %q, Origin %q: own=%v, want %v", tt.public, tt.host, tt.origin, got, tt.ok)
		}
	}
}
