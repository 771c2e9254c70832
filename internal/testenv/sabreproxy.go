package testenv

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// SabreProxy is a reverse proxy in front of a CalDAV server (Radicale)
// that behaves as Nextcloud's sabre/dav does on conditional writes:
// If-Match is checked with a GET, then the PUT or DELETE goes on without
// any condition, so two writers with the same If-Match may both pass
// (CALDAV-NOTES.md, "If-Match races, confirmed"). It may also slow
// writes down, as a big PUT on Nextcloud takes a second.
type SabreProxy struct {
	URL string // the proxy's base URL, standing for the target's

	// WriteDelay is added before every PUT reaches the server.
	WriteDelay atomic.Int64 // nanoseconds
	// RaceWindow is waited between the If-Match check and the write:
	// the wider it is, the more writers slip through together.
	RaceWindow atomic.Int64 // nanoseconds
	// Detached makes a write go through to the server even when its
	// client gave up meanwhile, as a frozen server applies, once it
	// resumes, a request it had already read.
	Detached atomic.Bool

	target *url.URL
	proxy  *httputil.ReverseProxy
	client *http.Client

	// Writes counts the PUTs and DELETEs that reached the server.
	Writes atomic.Int64
}

// StartSabreProxy starts a proxy in front of target (a base URL such as
// a Radicale home's), stopped when t ends.
func StartSabreProxy(t testing.TB, target string) *SabreProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("sabre proxy target %q: %v", target, err)
	}
	p := &SabreProxy{target: u, client: &http.Client{Timeout: time.Minute}}
	p.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: u.Scheme, Host: u.Host})
		r.Out.Host = u.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	// Keep the target's path: the proxy maps /X to target-host/X.
	p.URL = srv.URL + u.Path
	return p
}

func (p *SabreProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodDelete {
		p.proxy.ServeHTTP(w, r)
		return
	}
	if p.Detached.Load() {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// A context of its own (one with a Done channel: on a context
		// without one, ReverseProxy cancels when the client leaves).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		r = r.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	if d := time.Duration(p.WriteDelay.Load()); d > 0 && r.Method == http.MethodPut {
		time.Sleep(d)
	}
	if match := r.Header.Get("If-Match"); match != "" {
		// The check, as sabre makes it: read the current ETag first.
		cur, found, err := p.etag(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if !found || !etagMatches(match, cur) {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		if d := time.Duration(p.RaceWindow.Load()); d > 0 {
			time.Sleep(d)
		}
		r.Header.Del("If-Match") // …then the write, with no condition
	}
	p.Writes.Add(1)
	p.proxy.ServeHTTP(w, r)
}

// etag reads the object's current ETag with a GET.
func (p *SabreProxy) etag(r *http.Request) (string, bool, error) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, ""
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return "", false, err
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	return resp.Header.Get("ETag"), true, nil
}

// etagMatches reads an If-Match list ("*" or quoted ETags).
func etagMatches(header, cur string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.TrimPrefix(v, "W/") == strings.TrimPrefix(cur, "W/") {
			return true
		}
	}
	return false
}
