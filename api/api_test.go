package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
)

func testCatalog(t *testing.T) *booking.Catalog {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := booking.NewCatalog(
		[]booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}, {ID: "stnazaire", Name: "Saint-Nazaire", Location: paris}},
		[]booking.Room{
			{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Equipment: []string{"visio", "écran"}, Calendar: "loire",
				Hours: booking.OpeningHours{Weekly: map[time.Weekday][]booking.TimeRange{time.Monday: {{From: booking.Clock(8, 0), To: booking.Clock(20, 0)}}}}},
			{ID: "erdre", SiteID: "nantes", Name: "Salle Erdre", Capacity: 4, Calendar: "erdre"},
			{ID: "estuaire", SiteID: "stnazaire", Name: "Estuaire", Capacity: 30, Equipment: []string{"visio"}, Calendar: "estuaire"},
		})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func newTestServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	if opts.Catalog == nil {
		opts.Catalog = testCatalog(t)
	}
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderUser, "amina")
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

func TestRoomsFilters(t *testing.T) {
	srv := newTestServer(t, Options{})
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"loire", "erdre", "estuaire"}},
		{"?site=nantes", []string{"loire", "erdre"}},
		{"?min_capacity=10", []string{"loire", "estuaire"}},
		{"?equipment=visio", []string{"loire", "estuaire"}},
		{"?equipment=visio,%C3%A9cran", []string{"loire"}},
		{"?site=nantes&min_capacity=13", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := do(t, "GET", srv.URL+"/api/v1/rooms"+tt.query, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var rooms []roomJSON
			if err := json.Unmarshal(body, &rooms); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range rooms {
				got = append(got, r.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	srv := newTestServer(t, Options{})
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"unknown room", "GET", "/api/v1/rooms/nope", nil, 404, CodeNotFound},
		{"unknown site filter", "GET", "/api/v1/rooms?site=paris", nil, 404, CodeNotFound},
		{"bad capacity", "GET", "/api/v1/rooms?min_capacity=douze", nil, 400, CodeInvalid},
		{"no such route", "GET", "/api/v1/nothing", nil, 404, CodeNotFound},
		{"oversize body", "POST", "/api/v1/sites", bytes.Repeat([]byte("x"), maxBodyBytes+1), 413, CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Code != tt.code || p.Status != tt.status || p.Type == "" || p.Title == "" {
				t.Errorf("problem %+v, want code %s", p, tt.code)
			}
		})
	}
}

func TestRoomDetail(t *testing.T) {
	srv := newTestServer(t, Options{})
	resp, body := do(t, "GET", srv.URL+"/api/v1/rooms/loire", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var d struct {
		roomJSON
		Timezone string                 `json:"timezone"`
		Hours    map[string][]rangeJSON `json:"opening_hours"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Timezone != "Europe/Paris" || d.FeedURL != "/feeds/rooms/loire.ics" {
		t.Errorf("detail %+v", d)
	}
	if got := d.Hours["mon"]; len(got) != 1 || got[0] != (rangeJSON{"08:00", "20:00"}) {
		t.Errorf("monday hours %v", got)
	}
	if got, ok := d.Hours["sun"]; !ok || len(got) != 0 {
		t.Errorf("sunday should be listed closed, got %v (present %v)", got, ok)
	}
}

func TestReadyz(t *testing.T) {
	ok := Check{Name: "caldav", Ping: func(context.Context) error { return nil }}
	down := Check{Name: "redis", Ping: func(context.Context) error { return errors.New("connection refused") }}
	tests := []struct {
		checks []Check
		status int
	}{
		{[]Check{ok}, 200},
		{[]Check{ok, down}, 503},
	}
	for _, tt := range tests {
		srv := newTestServer(t, Options{Ready: tt.checks})
		resp, body := do(t, "GET", srv.URL+"/readyz", nil)
		if resp.StatusCode != tt.status {
			t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
		}
		if tt.status == 503 && !bytes.Contains(body, []byte(`{"name":"redis","ok":false}`)) {
			t.Errorf("body does not name the failing check: %s", body)
		}
		if bytes.Contains(body, []byte("connection refused")) {
			t.Errorf("body shows the failure's cause to anyone: %s", body)
		}
	}
}

// TestOpenAPICoversRoutes fails when a route of the table is missing from
// openapi.json (or the document lists a route that does not exist).
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	want := map[string]bool{}
	// Every mode's routes: dev (with personal feeds), header, oidc.
	var routes []route
	for _, o := range []Options{
		{Catalog: testCatalog(t), AuthMode: AuthDev, Feeds: caldav.FeedEncoder{}, FeedTokens: noTokens{},
			Preferences: caldav.NewMemberPreferences(nil, ""), NoticeLinks: NewNoticeLinks("", []byte("k"))},
		{Catalog: testCatalog(t), AuthMode: AuthHeader},
		{Catalog: testCatalog(t), AuthMode: AuthOIDC, OIDC: &OIDCClient{}},
	} {
		routes = append(routes, New(o).routes()...)
	}
	for _, r := range routes {
		path := param.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + path
		want[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !want[method+" "+path] {
				t.Errorf("openapi.json lists %s %s, which no route serves", method, path)
			}
		}
	}
}

// noTokens is a FeedTokens that knows no one, for listing routes.
type noTokens struct{}

func (noTokens) Issue(context.Context, booking.Member) (string, error) { return "", errors.New("none") }
func (noTokens) Revoke(context.Context, string) error                  { return nil }
func (noTokens) Link(context.Context, string) (booking.FeedLink, error) {
	return booking.FeedLink{}, nil
}
func (noTokens) Member(context.Context, string) (booking.Member, error) {
	return booking.Member{}, errors.New("none")
}
