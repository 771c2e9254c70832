package caldav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// maxResponseBody bounds what is read of one answer (Nextcloud's object
	// limit is 10 MiB; a multistatus of a whole calendar can be more).
	maxResponseBody = 256 << 20
	// bodyExcerpt is how much of an error answer goes into HTTPError.Body.
	bodyExcerpt = 512
	// maxRetryAfter is the longest Retry-After a read waits for; a longer
	// one ends the retries.
	maxRetryAfter = 5 * time.Second
)

// call is one HTTP request.
type call struct {
	method string
	url    string
	header http.Header
	body   []byte
	xml    bool // body is XML
}

// response is a 2xx answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// isRead says whether method only reads, so that it may be retried.
func isRead(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, "PROPFIND", "REPORT":
		return true
	}
	return false
}

// send performs a call; reads are retried on ErrUnavailable failures.
func (c *Client) send(ctx context.Context, cl call) (*response, error) {
	var resp *response
	err := c.retry(ctx, cl.method, cl.url, func(ctx context.Context) error {
		var err error
		resp, err = c.once(ctx, cl)
		return err
	})
	return resp, err
}

// retry runs f, and runs it again with exponential backoff while it fails
// with an ErrUnavailable error, method is a read, retries are left and ctx
// is not done.
func (c *Client) retry(ctx context.Context, method, u string, f func(context.Context) error) error {
	attempts := 1
	if isRead(method) {
		attempts += c.readRetries
	}
	delay := c.backoff
	for i := 1; ; i++ {
		err := f(ctx)
		if err == nil || i >= attempts || !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
			return err
		}
		wait := delay/2 + rand.N(delay/2+1)
		var ra *retryAfterError
		if errors.As(err, &ra) {
			if ra.after > maxRetryAfter {
				return err
			}
			wait = max(wait, ra.after)
		}
		c.log.Warn("caldav: read failed, retrying", "method", method, "url", u, "attempt", i, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, c.maxBackoff)
	}
}

// once performs one HTTP request within the per-request timeout and reads
// the whole answer. Answers other than 2xx become *HTTPError (a redirect
// too: it is never followed); transport failures wrap ErrUnavailable.
func (c *Client) once(ctx context.Context, cl call) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, bytes.NewReader(cl.body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", cl.method, cl.url, err)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if cl.xml {
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	}
	// No transparent gzip: compressing proxies weaken ETags.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "roomcal")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	began := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if notSent(err) {
			return nil, fmt.Errorf("%w: %w: %s %s: %w", ErrUnavailable, ErrNotSent, cl.method, cl.url, err)
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, cl.method, cl.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", ErrUnavailable, cl.method, cl.url, err)
	}
	c.log.Debug("caldav: request", "method", cl.method, "url", cl.url, "status", resp.StatusCode, "took", time.Since(began))
	if len(body) > maxResponseBody {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", cl.method, cl.url, maxResponseBody)
	}
	if resp.StatusCode/100 != 2 {
		he := &HTTPError{Method: cl.method, URL: cl.url, Status: resp.StatusCode, Body: excerpt(body)}
		he.ETag, _ = etagFromWire(resp.Header.Get("ETag"))
		if resp.StatusCode/100 == 3 {
			he.Body = fmt.Sprintf("redirect to %q refused: configure the URL it points to", resp.Header.Get("Location"))
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return nil, &retryAfterError{err: he, after: time.Duration(s) * time.Second}
		}
		return nil, he
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// retryAfterError is an HTTPError whose answer had a Retry-After header.
type retryAfterError struct {
	err   *HTTPError
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// davHTTPClient lets go-webdav send its requests through Client.once:
// same credentials, timeout, redirect refusal and typed errors (go-webdav
// returns errors of its HTTPClient unchanged).
type davHTTPClient struct{ c *Client }

func (d davHTTPClient) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	r, err := d.c.once(req.Context(), call{method: req.Method, url: req.URL.String(), header: req.Header, body: body})
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status:     strconv.Itoa(r.status) + " " + http.StatusText(r.status),
		StatusCode: r.status,
		Header:     r.header,
		Body:       io.NopCloser(bytes.NewReader(r.body)),
		Request:    req,
	}, nil
}

// excerpt is the start of an error body, for HTTPError.Body.
func excerpt(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > bodyExcerpt {
		cut := bodyExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + " […]"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// etagFromWire turns an ETag header or DAV:getetag value into the opaque
// form the Store hands out: the content of a strong quoted ETag
// (`"abc"` → `abc`, as go-webdav does). weak reports a W/ prefix; a weak
// ETag is kept whole (`W/"abc"`), since stripping W/ would make it
// another, strong, validator.
func etagFromWire(v string) (etag string, weak bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "W/") {
		return v, true
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1], false
	}
	return v, false
}

// etagToWire quotes an opaque ETag for If-Match.
func etagToWire(etag string) string {
	if strings.HasPrefix(etag, `W/"`) || strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

// checkSegment rejects names that are not one path segment: an empty
// object name would address the collection itself (a PUT there replaces
// the whole calendar on Radicale).
func checkSegment(kind, s string) error {
	switch {
	case s == "", s == ".", s == "..":
		return fmt.Errorf("invalid %s name %q", kind, s)
	case strings.ContainsAny(s, "/\\"):
		return fmt.Errorf("invalid %s name %q: contains a slash", kind, s)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("invalid %s name %q: control character or invalid UTF-8", kind, s)
	}
	return nil
}

func checkNames(cal, name string) error {
	if err := checkSegment("calendar", cal); err != nil {
		return err
	}
	return checkSegment("object", name)
}

// calPath is the escaped absolute path of a calendar, ending in "/".
func (c *Client) calPath(cal string) string {
	return c.home.EscapedPath() + url.PathEscape(cal) + "/"
}

// objectPath is the escaped absolute path of an object.
func (c *Client) objectPath(cal, name string) string {
	return c.calPath(cal) + url.PathEscape(name)
}

func (c *Client) calURL(cal string) string { return c.origin() + c.calPath(cal) }

func (c *Client) objectURL(cal, name string) string { return c.origin() + c.objectPath(cal, name) }

func (c *Client) origin() string { return c.home.Scheme + "://" + c.home.Host }

// objectName maps an href of a multistatus answer (an absolute path or a
// full URL, percent-encoded) to the name of an object of cal. It is false
// for collections (the calendar itself) and for hrefs whose parent
// segment is not cal. Prefixes before the calendar are not compared:
// behind a reverse proxy, servers may report another base path.
func (c *Client) objectName(cal, href string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", false
	}
	p := u.EscapedPath()
	if p == "" || strings.HasSuffix(p, "/") {
		return "", false
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", false
	}
	name, err := url.PathUnescape(p[i+1:])
	if err != nil || name == "" {
		return "", false
	}
	parent := strings.TrimRight(p[:i], "/")
	parentSeg, err := url.PathUnescape(parent[strings.LastIndexByte(parent, '/')+1:])
	if err != nil || parentSeg != cal {
		return "", false
	}
	return name, true
}

// statusCode reads the code of a DAV:status line ("HTTP/1.1 404 Not
// Found"); 0 when absent or malformed.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return n
}

// notSent says whether a transport error happened before the request
// could reach the server: the connection was never made (refused, no
// route, no such host). A write that failed so was not stored; any
// other failure (a timeout, a connection broken mid-way) may have been.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
