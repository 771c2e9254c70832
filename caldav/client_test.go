package caldav_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/internal/storetest"
	"github.com/roomcal/roomcal/internal/testenv"
)

// TestClientConformance runs the Store suite against Radicale and
// Xandikos, each subtest in a fresh calendar home.
func TestClientConformance(t *testing.T) {
	for _, srv := range []struct {
		name string
		home func(testing.TB) testenv.Home
	}{
		{"Radicale", testenv.RadicaleHome},
		{"Xandikos", testenv.XandikosHome},
	} {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) caldav.Store {
				h := srv.home(t)
				c, err := caldav.NewClient(h.URL, caldav.ClientOptions{Username: h.User, Password: h.Password, Logger: testLogger(t)})
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				return c
			})
		})
	}
}

// Radicale refuses a second object with the same UID under another name
// with 409: an HTTPError that is neither ErrPrecondition nor ErrNotFound.
func TestRadicaleUIDConflict(t *testing.T) {
	h := testenv.RadicaleHome(t)
	c, err := caldav.NewClient(h.URL, caldav.ClientOptions{Username: h.User, Password: h.Password, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := c.CreateCalendar(ctx, "salle-loire", "Loire"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "salle-loire", "a.ics", []byte(ics("same-uid"))); err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(ctx, "salle-loire", "b.ics", []byte(ics("same-uid")))
	var he *caldav.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusConflict || errors.Is(err, caldav.ErrPrecondition) || errors.Is(err, caldav.ErrNotFound) {
		t.Errorf("Create of a duplicate UID = %v, want an HTTPError 409 matching no sentinel", err)
	}
}

// The tests below use httptest servers for what Radicale does not show.

// home is the calendar home path of the fake servers.
const home = "/remote.php/dav/calendars/u/"

// fake is a CalDAV server scripted by a test. It counts requests by
// method and keeps them all, in order.
type fake struct {
	srv *httptest.Server

	mu    sync.Mutex
	calls map[string]int
	last  map[string]recorded
	all   []recorded
}

type recorded struct {
	method string
	path   string
	header http.Header
	body   string
}

// newFake starts a server on h and returns it with a Client on its
// calendar home.
func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*fake, *caldav.Client) {
	t.Helper()
	f := &fake{calls: map[string]int{}, last: map[string]recorded{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls[r.Method]++
		n := f.calls[r.Method]
		f.last[r.Method] = recorded{method: r.Method, path: r.URL.EscapedPath(), header: r.Header.Clone(), body: string(body)}
		f.all = append(f.all, f.last[r.Method])
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r, n)
	}))
	t.Cleanup(f.srv.Close)
	c, err := caldav.NewClient(f.srv.URL+home, caldav.ClientOptions{Username: "u", Password: "app-password", Logger: testLogger(t), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return f, c
}

func (f *fake) n(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fake) lastReq(method string) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[method]
}

// Multistatus answers.

func multistatus(w http.ResponseWriter, responses ...string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">`+strings.Join(responses, "")+`</d:multistatus>`)
}

func found(href, etag, data string) string {
	var props string
	if etag != "" {
		props += `<d:getetag>` + esc(etag) + `</d:getetag>`
	}
	if data != "" {
		props += `<cal:calendar-data>` + esc(data) + `</cal:calendar-data>`
	}
	return `<d:response><d:href>` + href + `</d:href><d:propstat><d:prop>` + props + `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
}

func status(href string, code int) string {
	return `<d:response><d:href>` + href + `</d:href><d:status>HTTP/1.1 ` + strconv.Itoa(code) + " " + http.StatusText(code) + `</d:status></d:response>`
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func ics(uid string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//roomcal//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20300603T090000Z\r\nDTEND:20300603T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func TestPutWithoutStrongETagReadsIt(t *testing.T) {
	tests := []struct {
		name    string
		putETag string // ETag header of the PUT answer
		want    string
		rereads int
	}{
		{"strong ETag", `"v1"`, "v1", 0},
		{"no ETag", "", "v2", 1},
		{"weak ETag", `W/"v1"`, "v2", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch r.Method {
				case http.MethodPut:
					if tt.putETag != "" {
						w.Header().Set("ETag", tt.putETag)
					}
					w.WriteHeader(http.StatusCreated)
				case "PROPFIND":
					multistatus(w, found(r.URL.EscapedPath(), `"v2"`, ""))
				default:
					http.Error(w, "unexpected", http.StatusTeapot)
				}
			})
			etag, err := c.Create(t.Context(), "salle-loire", "a.ics", []byte(ics("a")))
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if etag != tt.want {
				t.Errorf("Create = %q, want %q", etag, tt.want)
			}
			if got := f.n("PROPFIND"); got != tt.rereads {
				t.Errorf("%d PROPFINDs after the PUT, want %d", got, tt.rereads)
			}
		})
	}
}

// Create and Update send their condition, identity encoding, the data
// and credentials; ETags go out quoted, weak ones as they came.
func TestWriteHeaders(t *testing.T) {
	tests := []struct {
		name      string
		write     func(c *caldav.Client) error
		method    string
		header    string
		wantValue string
	}{
		{"Create", func(c *caldav.Client) error {
			_, err := c.Create(t.Context(), "salle-loire", "a.ics", []byte(ics("a")))
			return err
		}, http.MethodPut, "If-None-Match", "*"},
		{"Update", func(c *caldav.Client) error {
			_, err := c.Update(t.Context(), "salle-loire", "a.ics", []byte(ics("a")), "abc")
			return err
		}, http.MethodPut, "If-Match", `"abc"`},
		{"Update weak", func(c *caldav.Client) error {
			_, err := c.Update(t.Context(), "salle-loire", "a.ics", []byte(ics("a")), `W/"abc"`)
			return err
		}, http.MethodPut, "If-Match", `W/"abc"`},
		{"Delete", func(c *caldav.Client) error {
			return c.Delete(t.Context(), "salle-loire", "a.ics", "abc")
		}, http.MethodDelete, "If-Match", `"abc"`},
		{"Delete unconditional", func(c *caldav.Client) error {
			return c.Delete(t.Context(), "salle-loire", "a.ics", "")
		}, http.MethodDelete, "If-Match", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("ETag", `"new"`)
				w.WriteHeader(http.StatusNoContent)
			})
			if err := tt.write(c); err != nil {
				t.Fatalf("write: %v", err)
			}
			req := f.lastReq(tt.method)
			if got := req.header.Get(tt.header); got != tt.wantValue {
				t.Errorf("%s = %q, want %q", tt.header, got, tt.wantValue)
			}
			if got := req.header.Get("Accept-Encoding"); got != "identity" {
				t.Errorf("Accept-Encoding = %q, want identity", got)
			}
			if user, pass, ok := (&http.Request{Header: req.header}).BasicAuth(); !ok || user != "u" || pass != "app-password" {
				t.Errorf("basic auth = %q %q %v", user, pass, ok)
			}
			if req.path != home+"salle-loire/a.ics" {
				t.Errorf("path = %q", req.path)
			}
			if tt.method == http.MethodPut {
				if req.body != ics("a") {
					t.Errorf("PUT body = %q", req.body)
				}
				if ct := req.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

// A redirect is an error, never followed: Go would turn a redirected
// PROPFIND into a GET.
func TestRedirectRefused(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if strings.HasPrefix(r.URL.Path, "/elsewhere/") {
			multistatus(w, found(r.URL.Path, `"x"`, ""))
			return
		}
		http.Redirect(w, r, "/elsewhere/", http.StatusMovedPermanently)
	})
	err := c.Ping(t.Context())
	var he *caldav.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusMovedPermanently {
		t.Fatalf("Ping = %v, want an HTTPError 301", err)
	}
	if !strings.Contains(he.Body, "/elsewhere/") {
		t.Errorf("error body %q does not name the redirect target", he.Body)
	}
	if errors.Is(err, caldav.ErrUnavailable) {
		t.Errorf("a redirect matches ErrUnavailable: it would be retried")
	}
	if n := f.n("PROPFIND") + f.n(http.MethodGet); n != 1 {
		t.Errorf("%d requests, want 1 (no retry, not followed)", n)
	}
}

// Reads are retried on 5xx; writes never.
func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		op      func(c *caldav.Client) error
		wantErr error // nil: success after a retry
		calls   int
	}{
		{"REPORT 503 then 207", "REPORT", func(c *caldav.Client) error {
			objs, err := c.MultiGet(t.Context(), "salle-loire", []string{"a.ics"})
			if err == nil && len(objs) != 1 {
				return errors.New("object lost")
			}
			return err
		}, nil, 2},
		{"GET 503 then 200", http.MethodGet, func(c *caldav.Client) error {
			_, err := c.Get(t.Context(), "salle-loire", "a.ics")
			return err
		}, nil, 2},
		{"PUT 503", http.MethodPut, func(c *caldav.Client) error {
			_, err := c.Create(t.Context(), "salle-loire", "a.ics", []byte(ics("a")))
			return err
		}, caldav.ErrUnavailable, 1},
		{"DELETE 503", http.MethodDelete, func(c *caldav.Client) error {
			return c.Delete(t.Context(), "salle-loire", "a.ics", "x")
		}, caldav.ErrUnavailable, 1},
		{"MKCALENDAR 503", "MKCALENDAR", func(c *caldav.Client) error {
			return c.CreateCalendar(t.Context(), "salle-loire", "Loire")
		}, caldav.ErrUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					http.Error(w, "maintenance", http.StatusServiceUnavailable)
					return
				}
				switch r.Method {
				case "REPORT":
					multistatus(w, found(home+"salle-loire/a.ics", `"e1"`, ics("a")))
				case http.MethodGet:
					w.Header().Set("ETag", `"e1"`)
					io.WriteString(w, ics("a"))
				default:
					w.WriteHeader(http.StatusCreated)
				}
			})
			err := tt.op(c)
			if tt.wantErr == nil && err != nil {
				t.Errorf("got %v, want success after a retry", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if got := f.n(tt.method); got != tt.calls {
				t.Errorf("%d %s requests, want %d", got, tt.method, tt.calls)
			}
		})
	}
}

// A 401 fails at once, for reads too: Nextcloud throttles failed logins.
func TestUnauthorizedNotRetried(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Nextcloud"`)
		http.Error(w, "no", http.StatusUnauthorized)
	})
	ops := map[string]func() error{
		"GET":      func() error { _, err := c.Get(t.Context(), "salle-loire", "a.ics"); return err },
		"PROPFIND": func() error { return c.Ping(t.Context()) },
		"REPORT":   func() error { _, err := c.Changes(t.Context(), "salle-loire", ""); return err },
	}
	for method, op := range ops {
		err := op()
		var he *caldav.HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
			t.Errorf("%s: got %v, want an HTTPError 401", method, err)
		}
		if errors.Is(err, caldav.ErrUnavailable) {
			t.Errorf("%s: a 401 matches ErrUnavailable", method)
		}
		if n := f.n(method); n != 1 {
			t.Errorf("%s: %d requests, want 1", method, n)
		}
	}
}

// Network errors and timeouts match ErrUnavailable; reads are retried.
func TestUnreachable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c, err := caldav.NewClient("http://"+addr+home, caldav.ClientOptions{Logger: testLogger(t), ReadRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(t.Context()); !errors.Is(err, caldav.ErrUnavailable) {
			t.Errorf("Ping = %v, want ErrUnavailable", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		var mu sync.Mutex
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			mu.Unlock()
			<-r.Context().Done() // never answers
		}))
		t.Cleanup(srv.Close)
		c, err := caldav.NewClient(srv.URL+home, caldav.ClientOptions{Logger: testLogger(t), Timeout: 50 * time.Millisecond, ReadRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(t.Context(), "salle-loire", "a.ics")
		if !errors.Is(err, caldav.ErrUnavailable) {
			t.Errorf("Get = %v, want ErrUnavailable", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if calls != 2 {
			t.Errorf("%d GETs, want 2 (one retry)", calls)
		}
	})
}

// One missing href, one object the server fails on, one it forgets and
// one that is not valid iCalendar do not hide the others: the missing one
// is left out, the failed and forgotten ones read alone, the malformed one
// returned as is (minus the bytes XML forbids).
func TestMultiGetIsolatesBadObjects(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.Method {
		case "REPORT":
			multistatus(w,
				found(home+"salle-loire/ok.ics", `"e-ok"`, ics("ok")),
				status(home+"salle-loire/missing.ics", http.StatusNotFound),
				`<d:response><d:href>`+home+`salle-loire/failed.ics</d:href><d:propstat><d:prop><cal:calendar-data/></d:prop><d:status>HTTP/1.1 500 Internal Server Error</d:status></d:propstat></d:response>`,
				// control characters XML forbids, copied raw by the server
				`<d:response><d:href>`+home+"salle-loire/garbage.ics</d:href><d:propstat><d:prop><d:getetag>\"e-garbage\"</d:getetag><cal:calendar-data>this is not iCalendar \x00\x0c at all</cal:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
				// a full URL, percent-encoded
				found("http://"+r.Host+home+"salle-loire/r%C3%A9union%201%2B1%40x.ics", `"e-utf8"`, ics("utf8")),
				// forgotten.ics: not mentioned at all
			)
		case http.MethodGet:
			if name := path.Base(r.URL.Path); name == "failed.ics" || name == "forgotten.ics" {
				w.Header().Set("ETag", `"e-`+name+`"`)
				io.WriteString(w, ics(name))
				return
			}
			http.NotFound(w, r)
		}
	})
	objs, err := c.MultiGet(t.Context(), "salle-loire", []string{"ok.ics", "missing.ics", "failed.ics", "garbage.ics", "réunion 1+1@x.ics", "forgotten.ics"})
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	want := []caldav.Object{
		{Name: "ok.ics", ETag: "e-ok", Data: []byte(ics("ok"))},
		{Name: "failed.ics", ETag: "e-failed.ics", Data: []byte(ics("failed.ics"))},
		{Name: "garbage.ics", ETag: "e-garbage", Data: []byte("this is not iCalendar  at all")},
		{Name: "réunion 1+1@x.ics", ETag: "e-utf8", Data: []byte(ics("utf8"))},
		{Name: "forgotten.ics", ETag: "e-forgotten.ics", Data: []byte(ics("forgotten.ics"))},
	}
	checkObjects(t, objs, want)
	if got := f.n(http.MethodGet); got != 2 {
		t.Errorf("%d GETs, want 2 (failed.ics and forgotten.ics alone)", got)
	}
	req := f.lastReq("REPORT")
	if req.header.Get("Depth") != "1" || !strings.Contains(req.body, "calendar-multiget") ||
		!strings.Contains(req.body, home+"salle-loire/r%C3%A9union%201+1@x.ics") {
		t.Errorf("multiget request: Depth %q, body %s", req.header.Get("Depth"), req.body)
	}
}

// A multistatus that is not well-formed XML makes MultiGet read each
// object alone.
func TestMultiGetMalformedAnswer(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.Method {
		case "REPORT":
			w.WriteHeader(http.StatusMultiStatus)
			io.WriteString(w, `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>`)
		case http.MethodGet:
			name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
			if name == "missing.ics" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("ETag", `"e-`+name+`"`)
			io.WriteString(w, ics(name))
		}
	})
	objs, err := c.MultiGet(t.Context(), "salle-loire", []string{"a.ics", "missing.ics", "b.ics"})
	if err != nil {
		t.Fatalf("MultiGet: %v", err)
	}
	checkObjects(t, objs, []caldav.Object{
		{Name: "a.ics", ETag: "e-a.ics", Data: []byte(ics("a.ics"))},
		{Name: "b.ics", ETag: "e-b.ics", Data: []byte(ics("b.ics"))},
	})
	if got := f.n(http.MethodGet); got != 3 {
		t.Errorf("%d GETs, want 3", got)
	}
}

// Query sends a VCALENDAR/VEVENT time-range in UTC with both ends, the
// end rounded up to a whole second, and gives calendar data its CRLF
// line ends back (XML parsing turns them into LF).
func TestQueryRequest(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		multistatus(w, found(home+"salle-loire/a.ics", `"e1"`, ics("a")), status(home+"salle-loire/gone.ics", http.StatusNotFound))
	})
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2030, 6, 3, 9, 0, 0, 0, paris)
	end := time.Date(2030, 6, 3, 18, 0, 0, 500, paris)
	objs, err := c.Query(t.Context(), "salle-loire", start, end)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	checkObjects(t, objs, []caldav.Object{{Name: "a.ics", ETag: "e1", Data: []byte(ics("a"))}})

	// The time-range query, then the one for recurring events whose
	// first instance starts before the end (Xandikos matches a recurring
	// event by its first instance only).
	var got [][]string
	f.mu.Lock()
	for _, req := range f.all {
		if req.method != "REPORT" {
			continue
		}
		var q struct {
			Filter struct {
				Comp struct {
					Name string `xml:"name,attr"`
					Comp struct {
						Name      string `xml:"name,attr"`
						TimeRange struct {
							Start string `xml:"start,attr"`
							End   string `xml:"end,attr"`
						} `xml:"urn:ietf:params:xml:ns:caldav time-range"`
						PropFilter struct {
							Name string `xml:"name,attr"`
						} `xml:"urn:ietf:params:xml:ns:caldav prop-filter"`
					} `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
				} `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
			} `xml:"urn:ietf:params:xml:ns:caldav filter"`
		}
		if err := xml.Unmarshal([]byte(req.body), &q); err != nil {
			t.Fatalf("query body %s: %v", req.body, err)
		}
		c := q.Filter.Comp
		got = append(got, []string{c.Name, c.Comp.Name, c.Comp.TimeRange.Start, c.Comp.TimeRange.End, c.Comp.PropFilter.Name, req.header.Get("Depth")})
	}
	f.mu.Unlock()
	want := [][]string{
		{"VCALENDAR", "VEVENT", "20300603T070000Z", "20300603T160001Z", "", "1"},
		{"VCALENDAR", "VEVENT", "19700101T000000Z", "20300603T160001Z", "RRULE", "1"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("query filters = %q, want %q", got, want)
	}
}

// A calendar-query answer that is not well-formed XML is asked again
// without data, and the objects read with MultiGet (then GET): the object
// that breaks the XML does not hide the others.
func TestQueryMalformedAnswer(t *testing.T) {
	const cal = home + "salle-loire/"
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == "REPORT" && bytes.Contains(body, []byte("calendar-query")) && bytes.Contains(body, []byte("calendar-data")):
			w.WriteHeader(http.StatusMultiStatus)
			io.WriteString(w, `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>`+cal+`a.ics</d:href><broken`)
		case r.Method == "REPORT" && bytes.Contains(body, []byte("calendar-query")):
			multistatus(w, found(cal+"a.ics", `"e-a"`, ""), found(cal+"b.ics", `"e-b"`, ""))
		case r.Method == "REPORT":
			multistatus(w, found(cal+"a.ics", `"e-a"`, ics("a")), found(cal+"b.ics", `"e-b"`, ics("b")))
		default:
			http.Error(w, "unexpected", http.StatusTeapot)
		}
	})
	objs, err := c.Query(t.Context(), "salle-loire", time.Date(2030, 6, 3, 0, 0, 0, 0, time.UTC), time.Date(2030, 6, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	checkObjects(t, objs, []caldav.Object{
		{Name: "a.ics", ETag: "e-a", Data: []byte(ics("a"))},
		{Name: "b.ics", ETag: "e-b", Data: []byte(ics("b"))},
	})
	if got := f.n("REPORT"); got != 4 {
		t.Errorf("%d REPORTs, want 4 (query, query without data, recurring events, multiget)", got)
	}
}

func TestChangesEdgeCases(t *testing.T) {
	const cal = home + "salle-loire/"
	tests := []struct {
		name    string
		token   string
		handler func(w http.ResponseWriter, r *http.Request, n int)
		seed    bool // a first sync by the same Client before
		want    caldav.Changes
		wantErr error
	}{
		{
			// The answer is the listing this client kept at the token
			// with the delta applied: one REPORT, and Full, so that an
			// object the caller knows from its own write and that
			// Xandikos leaves out of the delta (created and deleted
			// since the token) is gone from its copy.
			name:  "token this client answered: its listing with the delta applied",
			seed:  true,
			token: "http://sabre.io/ns/sync/4",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				switch n {
				case 1:
					multistatus(w, `<d:sync-token>http://sabre.io/ns/sync/4</d:sync-token>`,
						found(cal+"a.ics", `"e1"`, ""), found(cal+"b%20c.ics", `"e0"`, ""), found(cal+"k.ics", `"ek"`, ""))
				case 2:
					multistatus(w, `<d:sync-token>http://sabre.io/ns/sync/6</d:sync-token>`,
						found("http://"+r.Host+cal+"a.ics", `"e2"`, ""),
						status(cal+"b%20c.ics", http.StatusNotFound),
						status(cal+"never-listed.ics", http.StatusNotFound))
				default:
					http.Error(w, "listed again", http.StatusTeapot)
				}
			},
			want: caldav.Changes{Token: "http://sabre.io/ns/sync/6", Full: true, Changed: []caldav.ObjectRef{{Name: "a.ics", ETag: "e2"}, {Name: "k.ics", ETag: "ek"}}},
		},
		{
			name:  "token this client did not answer: the delta, then the listing",
			token: "http://sabre.io/ns/sync/4",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				if body, _ := io.ReadAll(r.Body); bytes.Contains(body, []byte("sync/4")) {
					multistatus(w, `<d:sync-token>http://sabre.io/ns/sync/6</d:sync-token>`,
						found("http://"+r.Host+cal+"a.ics", `"e2"`, ""),
						status(cal+"b%20c.ics", http.StatusNotFound))
					return
				}
				multistatus(w, `<d:sync-token>http://sabre.io/ns/sync/7</d:sync-token>`,
					found("http://"+r.Host+cal+"a.ics", `"e2"`, ""),
					found(cal+"d%20e.ics", `"e3"`, ""))
			},
			want: caldav.Changes{Token: "http://sabre.io/ns/sync/7", Full: true, Changed: []caldav.ObjectRef{{Name: "a.ics", ETag: "e2"}, {Name: "d e.ics", ETag: "e3"}}},
		},
		{
			name:  "Nextcloud: unknown token 403",
			token: "http://sabre.io/ns/sync/999",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				io.WriteString(w, `<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><d:valid-sync-token/><s:message>Invalid or unknown sync token</s:message></d:error>`)
			},
			wantErr: caldav.ErrInvalidSyncToken,
		},
		{
			name:  "truncated answer followed up",
			token: "t1",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				switch n {
				case 1:
					multistatus(w, `<d:sync-token>t2</d:sync-token>`, found(cal+"a.ics", `"e1"`, ""), status(cal, http.StatusInsufficientStorage))
				case 2:
					multistatus(w, `<d:sync-token>t3</d:sync-token>`, status(cal+"a.ics", http.StatusNotFound), found(cal+"b.ics", `"e2"`, ""), status(cal, http.StatusInsufficientStorage))
				case 3:
					multistatus(w, `<d:sync-token>t4</d:sync-token>`, found(cal+"c.ics", `"e3"`, ""))
				default: // the listing, as the token moved
					multistatus(w, `<d:sync-token>t5</d:sync-token>`, found(cal+"b.ics", `"e2"`, ""), found(cal+"c.ics", `"e3"`, ""))
				}
			},
			want: caldav.Changes{Token: "t5", Full: true, Changed: []caldav.ObjectRef{{Name: "b.ics", ETag: "e2"}, {Name: "c.ics", ETag: "e3"}}},
		},
		{
			name:  "no sync-collection: PROPFIND listing",
			token: "",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				if r.Method == "REPORT" {
					http.Error(w, "unknown report", http.StatusBadRequest)
					return
				}
				multistatus(w,
					`<d:response><d:href>`+cal+`</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><cal:calendar/></d:resourcetype><d:getetag>"c"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`,
					found(cal+"a.ics", `"e1"`, ""))
			},
			want: caldav.Changes{Full: true, Changed: []caldav.ObjectRef{{Name: "a.ics", ETag: "e1"}}},
		},
		{
			name:  "Xandikos: unknown token 500, first sync works",
			token: "http://xandikos/unknown",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				body, _ := io.ReadAll(r.Body)
				if bytes.Contains(body, []byte("unknown")) {
					http.Error(w, "Internal Server Error", http.StatusInternalServerError)
					return
				}
				multistatus(w, `<d:sync-token>t9</d:sync-token>`, found(cal+"a.ics", `"e1"`, ""))
			},
			wantErr: caldav.ErrInvalidSyncToken,
		},
		{
			name:  "server error is not an invalid token",
			token: "t1",
			handler: func(w http.ResponseWriter, r *http.Request, n int) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			wantErr: caldav.ErrUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, tt.handler)
			if tt.seed {
				first, err := c.Changes(t.Context(), "salle-loire", "")
				if err != nil || first.Token != tt.token {
					t.Fatalf("first Changes = %+v, %v; want token %q", first, err, tt.token)
				}
			}
			got, err := c.Changes(t.Context(), "salle-loire", tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Changes = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Changes: %v", err)
			}
			if got.Token != tt.want.Token || got.Full != tt.want.Full || !slices.Equal(got.Changed, tt.want.Changed) || !slices.Equal(got.Deleted, tt.want.Deleted) {
				t.Errorf("Changes = %+v, want %+v", got, tt.want)
			}
			req := f.lastReq("REPORT")
			if strings.Contains(req.body, "limit") || req.header.Get("Depth") != "0" {
				t.Errorf("sync-collection request: Depth %q, body %s", req.header.Get("Depth"), req.body)
			}
		})
	}
}

// Status codes of writes map to the Store's errors.
func TestWriteStatuses(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		op      func(c *caldav.Client) error
		wantErr error
	}{
		{"MKCALENDAR 405 (Nextcloud)", http.StatusMethodNotAllowed, "", func(c *caldav.Client) error {
			return c.CreateCalendar(t.Context(), "salle-loire", "Loire")
		}, caldav.ErrExists},
		{"MKCALENDAR 409 resource-must-be-null (Radicale)", http.StatusConflict, `<error xmlns="DAV:"><resource-must-be-null/></error>`, func(c *caldav.Client) error {
			return c.CreateCalendar(t.Context(), "salle-loire", "Loire")
		}, caldav.ErrExists},
		{"PUT 412", http.StatusPreconditionFailed, "", func(c *caldav.Client) error {
			_, err := c.Update(t.Context(), "salle-loire", "a.ics", []byte(ics("a")), "old")
			return err
		}, caldav.ErrPrecondition},
		{"PUT 207 with a 412 inside (Xandikos UID conflict)", http.StatusMultiStatus,
			`<?xml version="1.0"?><multistatus xmlns="DAV:"><response><href>/x</href><status>HTTP/1.1 412 Precondition Failed</status></response></multistatus>`,
			func(c *caldav.Client) error {
				_, err := c.Create(t.Context(), "salle-loire", "a.ics", []byte(ics("a")))
				return err
			}, caldav.ErrPrecondition},
		{"DELETE 404", http.StatusNotFound, "", func(c *caldav.Client) error {
			return c.Delete(t.Context(), "salle-loire", "a.ics", "")
		}, caldav.ErrNotFound},
		{"DELETE 429", http.StatusTooManyRequests, "", func(c *caldav.Client) error {
			return c.Delete(t.Context(), "salle-loire", "a.ics", "")
		}, caldav.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("ETag", `"current"`)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			err := tt.op(c)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			var he *caldav.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%v is not an HTTPError", err)
			}
			if tt.status != http.StatusMultiStatus && he.ETag != "current" {
				t.Errorf("HTTPError.ETag = %q, want the server's current ETag", he.ETag)
			}
		})
	}
}

// Names that are not one path segment are refused before any request: an
// empty object name would address the calendar itself (a PUT there
// replaces the whole calendar on Radicale).
func TestInvalidNames(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusCreated)
	})
	for _, name := range []string{"", ".", "..", "a/b.ics", "a\nb.ics"} {
		if _, err := c.Create(t.Context(), "salle-loire", name, []byte(ics("a"))); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
		if err := c.CreateCalendar(t.Context(), name, "x"); err == nil {
			t.Errorf("CreateCalendar(%q) succeeded", name)
		}
	}
	if n := f.n(http.MethodPut) + f.n("MKCALENDAR"); n != 0 {
		t.Errorf("%d requests sent for invalid names", n)
	}
}

func TestNewClientRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "not a url", "ftp://host/x/", "/relative/"} {
		if _, err := caldav.NewClient(u, caldav.ClientOptions{}); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
}

func checkObjects(t *testing.T, got, want []caldav.Object) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d objects, want %d: %+v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if got[i].Name != want[i].Name || got[i].ETag != want[i].ETag || string(got[i].Data) != string(want[i].Data) {
			t.Errorf("object %d = {%q %q %q}, want {%q %q %q}", i, got[i].Name, got[i].ETag, got[i].Data, want[i].Name, want[i].ETag, want[i].Data)
		}
	}
}

// testLogger sends the Client's log to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
