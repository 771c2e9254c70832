package caldav

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	webdavcaldav "github.com/emersion/go-webdav/caldav"
)

var _ Store = (*Client)(nil)

// Defaults of ClientOptions.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultReadRetries = 2
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Username and Password are sent with HTTP Basic authentication on
	// every request (a Nextcloud app password). When Username is empty,
	// credentials in the home URL (https://user:pass@host/…) are used, if
	// any.
	Username, Password string
	// Timeout bounds each HTTP request (each attempt of a retried read),
	// body included. Zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a client on
	// http.DefaultTransport. The Client uses a copy whose CheckRedirect
	// refuses every redirect: Go would turn a redirected PROPFIND or
	// REPORT into a GET.
	HTTPClient *http.Client
	// Logger receives retries (Warn), objects left out of an answer
	// (Warn) and every request (Debug). Nil means slog.Default().
	Logger *slog.Logger
	// ReadRetries is how many times a read (GET, PROPFIND, REPORT) that
	// failed with an ErrUnavailable error (network error, timeout, 5xx,
	// 429) is tried again, with exponential backoff. Zero means
	// DefaultReadRetries, negative means none. A Retry-After header is
	// honoured up to 5s; a longer one ends the retries. Writes (PUT, DELETE,
	// MKCALENDAR) are never retried: the caller decides, knowing that a
	// write which timed out may have happened.
	ReadRetries int
}

// Client is a Store on a CalDAV server (Nextcloud, Radicale, …) below one
// calendar home. Calendars are the home's child collections, named by
// their path segment; objects are named by their last path segment.
//
// Writes (PUT, DELETE, MKCALENDAR) and REPORTs go out with net/http and
// encoding/xml, and multistatus answers are parsed here: go-webdav's
// client has no If-Match, sync-collection or MKCALENDAR, and loses a whole
// REPORT to one bad object. go-webdav does calendar discovery (Calendars),
// through the same transport. Non-2xx answers come back as
// *HTTPError wrapped with context, so errors.Is matches the Store's
// sentinel errors; network errors and timeouts match ErrUnavailable; a 401
// is returned at once, never retried (Nextcloud throttles failed logins).
//
// A Client is safe for concurrent use.
type Client struct {
	home        *url.URL // absolute, no user info, path ends in "/"
	user, pass  string
	http        *http.Client
	dav         *webdavcaldav.Client
	timeout     time.Duration
	readRetries int
	backoff     time.Duration // first retry delay, doubled each time
	maxBackoff  time.Duration
	log         *slog.Logger

	mu    sync.Mutex
	views map[string]syncView // by calendar: the last listing Changes answered
}

// syncView is a calendar as a sync-collection left it: the token and
// every object's ETag at that token.
type syncView struct {
	token string
	etags map[string]string
}

// NewClient returns a Client for the calendar home at home, for example
// https://cloud.example.org/remote.php/dav/calendars/roomcal/ (Nextcloud)
// or http://127.0.0.1:5232/roomcal/ (Radicale). It does not contact the
// server: call Ping to check the URL and credentials.
func NewClient(home string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(home)
	if err != nil {
		return nil, fmt.Errorf("caldav: calendar home URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("caldav: calendar home URL %q: want http(s)://host/path/", home)
	}
	c := &Client{
		user:        opts.Username,
		pass:        opts.Password,
		timeout:     opts.Timeout,
		readRetries: opts.ReadRetries,
		backoff:     100 * time.Millisecond,
		maxBackoff:  2 * time.Second,
		log:         opts.Logger,
		views:       map[string]syncView{},
	}
	if u.User != nil {
		if c.user == "" {
			c.user = u.User.Username()
			c.pass, _ = u.User.Password()
		}
		u.User = nil
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	c.home = u
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.readRetries == 0:
		c.readRetries = DefaultReadRetries
	case c.readRetries < 0:
		c.readRetries = 0
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	hc := http.Client{}
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	c.dav, err = webdavcaldav.NewClient(davHTTPClient{c}, u.String())
	if err != nil {
		return nil, fmt.Errorf("caldav: %w", err)
	}
	return c, nil
}

// Ping checks that the calendar home answers a PROPFIND with these
// credentials.
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.propfind(ctx, c.home.String(), "0", propReq{ResourceType: &struct{}{}}); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Calendars lists the calendar collections directly below the home (with
// go-webdav's FindCalendars), sorted by name.
func (c *Client) Calendars(ctx context.Context) ([]CalendarInfo, error) {
	var cals []webdavcaldav.Calendar
	err := c.retry(ctx, "PROPFIND", c.home.String(), func(ctx context.Context) error {
		var err error
		cals, err = c.dav.FindCalendars(ctx, c.home.Path)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	out := make([]CalendarInfo, 0, len(cals))
	homePath := strings.TrimSuffix(c.home.Path, "/")
	for _, cal := range cals {
		// A Depth 1 PROPFIND lists children only: the name is the last
		// segment, whatever base path a proxy made the server report.
		p := strings.TrimSuffix(cal.Path, "/")
		if p == homePath || p == "" {
			continue
		}
		out = append(out, CalendarInfo{Name: path.Base(p), DisplayName: cal.Name})
	}
	slices.SortFunc(out, func(a, b CalendarInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateCalendar makes the calendar collection cal (MKCALENDAR) with a
// display name and VEVENT as its only component type. It returns an error
// matching ErrExists when the collection is already there (405 on
// Nextcloud, 409 resource-must-be-null on Radicale, 207 with a 403
// resource-must-be-null inside on Xandikos).
func (c *Client) CreateCalendar(ctx context.Context, cal, displayName string) error {
	if err := checkSegment("calendar", cal); err != nil {
		return fmt.Errorf("create calendar: %w", err)
	}
	body, err := mkcalendarBody(displayName)
	if err != nil {
		return fmt.Errorf("create calendar %s: %w", cal, err)
	}
	resp, err := c.send(ctx, call{method: "MKCALENDAR", url: c.calURL(cal), body: body, xml: true})
	if err == nil && resp.status == http.StatusMultiStatus {
		// Xandikos: 207 with a 403 resource-must-be-null inside.
		err = multistatusFailure("MKCALENDAR", c.calURL(cal), resp.body)
	}
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusMethodNotAllowed ||
		(he.Status == http.StatusConflict || he.Status == http.StatusForbidden) && strings.Contains(he.Body, "resource-must-be-null")) {
		return fmt.Errorf("create calendar %s: %w: %w", cal, ErrExists, err)
	}
	if err != nil {
		return fmt.Errorf("create calendar %s: %w", cal, err)
	}
	return nil
}

// Get reads one object with GET. When the server sends no usable (strong)
// ETag with it, the object is read again with calendar-multiget, which
// returns data and ETag of one version.
func (c *Client) Get(ctx context.Context, cal, name string) (Object, error) {
	if err := checkNames(cal, name); err != nil {
		return Object{}, fmt.Errorf("get: %w", err)
	}
	resp, err := c.send(ctx, call{method: http.MethodGet, url: c.objectURL(cal, name), header: http.Header{"Accept": {"text/calendar"}}})
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", cal, name, err)
	}
	if etag, weak := etagFromWire(resp.header.Get("ETag")); etag != "" && !weak {
		return Object{Name: name, ETag: etag, Data: resp.body}, nil
	}
	objs, err := c.MultiGet(ctx, cal, []string{name})
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", cal, name, err)
	}
	if len(objs) == 0 {
		return Object{}, fmt.Errorf("get %s/%s: %w", cal, name, ErrNotFound)
	}
	return objs[0], nil
}

// multigetBatch is the most hrefs one calendar-multiget asks for.
const multigetBatch = 100

// MultiGet reads objects of one calendar with calendar-multiget (in
// batches), in the order of names, without duplicates. Names the server
// reports missing are left out. An object the server does not deliver in
// the REPORT (an error status, no data or ETag, no mention at all), or
// every object of a batch whose answer is not well-formed XML, is read on
// its own with GET, so one bad object never hides the others; if that GET
// fails too, MultiGet fails (leaving the object out would say it does not
// exist). The data is returned as the server holds it, never parsed. It
// returns ErrNotFound when the calendar does not exist.
func (c *Client) MultiGet(ctx context.Context, cal string, names []string) ([]Object, error) {
	if err := checkSegment("calendar", cal); err != nil {
		return nil, fmt.Errorf("multiget: %w", err)
	}
	var uniq []string
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if err := checkSegment("object", n); err != nil {
			return nil, fmt.Errorf("multiget %s: %w", cal, err)
		}
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	var out []Object
	for batch := range slices.Chunk(uniq, multigetBatch) {
		objs, err := c.multiget(ctx, cal, batch)
		if err != nil {
			return nil, fmt.Errorf("multiget %s: %w", cal, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func (c *Client) multiget(ctx context.Context, cal string, names []string) ([]Object, error) {
	hrefs := make([]string, len(names))
	for i, n := range names {
		hrefs[i] = c.objectPath(cal, n)
	}
	body, err := multigetBody(hrefs)
	if err != nil {
		return nil, err
	}
	ms, err := c.report(ctx, c.calURL(cal), "1", body)
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		c.log.Warn("caldav: malformed multiget answer, reading objects one by one", "calendar", cal, "err", err)
		return c.getEach(ctx, cal, names)
	}
	if err != nil {
		return nil, err
	}
	wanted := make(map[string]bool, len(names))
	for _, n := range names {
		wanted[n] = true
	}
	got := make(map[string]Object, len(names))
	answered := make(map[string]bool, len(names))
	var again []string
	for _, r := range ms.Responses {
		name, ok := c.objectName(cal, r.href())
		if !ok {
			c.log.Warn("caldav: multiget answer for an unknown href left out", "calendar", cal, "href", r.href())
			continue
		}
		if !wanted[name] || answered[name] {
			continue
		}
		answered[name] = true
		obj, status := r.object(name)
		switch {
		case status == http.StatusNotFound || status == http.StatusGone:
		case obj.ETag != "" && len(obj.Data) > 0:
			got[name] = obj
		default:
			c.log.Warn("caldav: object not delivered by multiget, reading it alone", "calendar", cal, "name", name, "status", status)
			again = append(again, name)
		}
	}
	for _, n := range names {
		if !answered[n] {
			c.log.Warn("caldav: object not mentioned in the multiget answer, reading it alone", "calendar", cal, "name", n)
			again = append(again, n)
		}
	}
	more, err := c.getEach(ctx, cal, again)
	if err != nil {
		return nil, err
	}
	for _, o := range more {
		got[o.Name] = o
	}
	out := make([]Object, 0, len(got))
	for _, n := range names {
		if o, ok := got[n]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// getEach reads objects one by one with GET, leaving out missing ones.
func (c *Client) getEach(ctx context.Context, cal string, names []string) ([]Object, error) {
	var out []Object
	for _, n := range names {
		resp, err := c.send(ctx, call{method: http.MethodGet, url: c.objectURL(cal, n), header: http.Header{"Accept": {"text/calendar"}}})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", n, err)
		}
		etag, weak := etagFromWire(resp.header.Get("ETag"))
		if etag == "" || weak {
			if etag, err = c.objectETag(ctx, cal, n); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("get %s: %w", n, err)
			}
		}
		out = append(out, Object{Name: n, ETag: etag, Data: resp.body})
	}
	return out, nil
}

// Query returns the objects of cal with a VEVENT that may have an instance
// in [start, end), with a calendar-query time-range filter (start rounded
// down and end up to whole seconds, both sent in UTC). The server decides
// what matches: Radicale and Nextcloud expand recurrences correctly; some
// servers return more. Xandikos matches a recurring event by its first
// instance only, so a second calendar-query asks for the ETags of every
// VEVENT with an RRULE starting before end, and those the first left out
// are read with MultiGet (a superset, as the Store allows; on Nextcloud
// that second query has the server parse the calendar's recurring
// objects). Objects the server lists without data are read with
// MultiGet. An empty range returns nothing; a zero or reversed one is an
// error. It returns ErrNotFound when the calendar does not exist.
func (c *Client) Query(ctx context.Context, cal string, start, end time.Time) ([]Object, error) {
	if err := checkSegment("calendar", cal); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return nil, fmt.Errorf("query %s: invalid time range [%v, %v)", cal, start, end)
	}
	if end.Equal(start) {
		return nil, nil
	}
	start = start.UTC().Truncate(time.Second)
	if t := end.UTC().Truncate(time.Second); t.Before(end) {
		end = t.Add(time.Second)
	}
	withData, err := queryBody(start, end.UTC(), true)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", cal, err)
	}
	ms, err := c.report(ctx, c.calURL(cal), "1", withData)
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		// Ask for the hrefs only and read the objects with MultiGet,
		// which isolates the one the XML breaks on.
		c.log.Warn("caldav: malformed calendar-query answer, asking for hrefs only", "calendar", cal, "err", err)
		hrefsOnly, berr := queryBody(start, end.UTC(), false)
		if berr != nil {
			return nil, fmt.Errorf("query %s: %w", cal, berr)
		}
		ms, err = c.report(ctx, c.calURL(cal), "1", hrefsOnly)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", cal, err)
	}
	recurring, err := c.recurringBefore(ctx, cal, end)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", cal, err)
	}
	var out []Object
	var again []string
	seen := map[string]bool{}
	for _, r := range ms.Responses {
		name, ok := c.objectName(cal, r.href())
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		obj, status := r.object(name)
		switch {
		case status == http.StatusNotFound || status == http.StatusGone:
		case obj.ETag != "" && len(obj.Data) > 0:
			out = append(out, obj)
		default:
			again = append(again, name)
		}
	}
	for _, name := range recurring {
		if !seen[name] {
			seen[name] = true
			again = append(again, name)
		}
	}
	if len(again) > 0 {
		more, err := c.MultiGet(ctx, cal, again)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", cal, err)
		}
		out = append(out, more...)
	}
	return out, nil
}

// recurringBefore lists the names of the objects of cal with a recurring
// VEVENT (RRULE) whose first instance starts before end.
func (c *Client) recurringBefore(ctx context.Context, cal string, end time.Time) ([]string, error) {
	body, err := recurringQueryBody(end)
	if err != nil {
		return nil, err
	}
	ms, err := c.report(ctx, c.calURL(cal), "1", body)
	if err != nil {
		return nil, fmt.Errorf("recurring events: %w", err)
	}
	var names []string
	for _, r := range ms.Responses {
		name, ok := c.objectName(cal, r.href())
		if !ok || r.isCollection() {
			continue
		}
		if _, st := r.object(name); st/100 == 2 {
			names = append(names, name)
		}
	}
	return names, nil
}

// Create stores data as a new object (PUT with If-None-Match: *) and
// returns its ETag. It returns ErrPrecondition when the name is taken and
// ErrNotFound when the calendar does not exist. Another object with the
// same UID makes the server refuse the object (409 on Radicale and newer
// Nextcloud, 400 on older ones): an *HTTPError matching no sentinel.
func (c *Client) Create(ctx context.Context, cal, name string, data []byte) (string, error) {
	etag, err := c.put(ctx, cal, name, data, http.Header{"If-None-Match": {"*"}})
	if err != nil {
		return "", fmt.Errorf("create %s/%s: %w", cal, name, err)
	}
	return etag, nil
}

// Update replaces an object (PUT with If-Match) and returns its new ETag.
// It returns ErrPrecondition when the object changed since etag or no
// longer exists, and ErrNotFound when the calendar does not exist. On a
// server where If-Match is check-then-write (Nextcloud), two concurrent
// Updates can both succeed: serialise writers above the Store.
func (c *Client) Update(ctx context.Context, cal, name string, data []byte, etag string) (string, error) {
	if etag == "" {
		return "", fmt.Errorf("update %s/%s: empty etag", cal, name)
	}
	newETag, err := c.put(ctx, cal, name, data, http.Header{"If-Match": {etagToWire(etag)}})
	if err != nil {
		return "", fmt.Errorf("update %s/%s: %w", cal, name, err)
	}
	return newETag, nil
}

// put sends a conditional PUT and returns the new ETag. A 2xx without a
// strong ETag (the server altered the data, or a proxy weakened it) is
// followed by a PROPFIND of getetag: the ETag returned is then the one of
// whatever version the server holds at that moment.
func (c *Client) put(ctx context.Context, cal, name string, data []byte, cond http.Header) (string, error) {
	if err := checkNames(cal, name); err != nil {
		return "", err
	}
	cond.Set("Content-Type", "text/calendar; charset=utf-8")
	resp, err := c.send(ctx, call{method: http.MethodPut, url: c.objectURL(cal, name), header: cond, body: data})
	if err != nil {
		return "", c.explainConflict(ctx, cal, err)
	}
	if resp.status == http.StatusMultiStatus {
		if err := multistatusFailure(http.MethodPut, c.objectURL(cal, name), resp.body); err != nil {
			return "", err
		}
	}
	if etag, weak := etagFromWire(resp.header.Get("ETag")); etag != "" && !weak {
		return etag, nil
	}
	c.log.Debug("caldav: PUT answered without a strong ETag, reading it", "calendar", cal, "name", name, "etag", resp.header.Get("ETag"))
	etag, err := c.objectETag(ctx, cal, name)
	if err != nil {
		return "", fmt.Errorf("stored, but reading its ETag: %w", err)
	}
	return etag, nil
}

// explainConflict turns the 409 (Radicale) or 412 (Xandikos, to a
// conditional PUT) a server gives for a write into a missing collection
// into ErrNotFound when the calendar is indeed gone. It costs a PROPFIND,
// on failed writes only.
func (c *Client) explainConflict(ctx context.Context, cal string, err error) error {
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusConflict && he.Status != http.StatusPreconditionFailed {
		return err
	}
	ms, perr := c.propfind(ctx, c.calURL(cal), "0", propReq{ResourceType: &struct{}{}})
	if errors.Is(perr, ErrNotFound) {
		return fmt.Errorf("calendar %s: %w: %w", cal, ErrNotFound, err)
	}
	if perr == nil {
		// Xandikos: 207 with a 404 inside.
		for _, r := range ms.Responses {
			if st := statusCode(r.Status); st == http.StatusNotFound || st == http.StatusGone {
				return fmt.Errorf("calendar %s: %w: %w", cal, ErrNotFound, err)
			}
		}
	}
	return err
}

// Delete removes an object (DELETE, with If-Match when etag is not
// empty). It returns ErrNotFound when the object does not exist (whatever
// etag says) and ErrPrecondition when it exists in another version. On
// Nextcloud the object goes to the trash bin, invisible to every query.
func (c *Client) Delete(ctx context.Context, cal, name, etag string) error {
	if err := checkNames(cal, name); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", etagToWire(etag))
	}
	resp, err := c.send(ctx, call{method: http.MethodDelete, url: c.objectURL(cal, name), header: h})
	if err == nil && resp.status == http.StatusMultiStatus {
		err = multistatusFailure(http.MethodDelete, c.objectURL(cal, name), resp.body)
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", cal, name, err)
	}
	return nil
}

// objectETag reads the current ETag of one object with PROPFIND.
func (c *Client) objectETag(ctx context.Context, cal, name string) (string, error) {
	ms, err := c.propfind(ctx, c.objectURL(cal, name), "0", propReq{GetETag: &struct{}{}})
	if err != nil {
		return "", err
	}
	for _, r := range ms.Responses {
		if n, ok := c.objectName(cal, r.href()); ok && n == name {
			if obj, _ := r.object(name); obj.ETag != "" {
				return obj.ETag, nil
			}
		}
	}
	return "", fmt.Errorf("PROPFIND %s: no getetag in the answer", c.objectURL(cal, name))
}

// Changes reports what changed in cal since token, with a sync-collection
// REPORT (RFC 6578, never with a <limit>; a truncated answer, 507 on the
// collection, is followed up with its token).
//
//   - An empty token gives a Full listing and the first token.
//   - A token the server rejects (403 on Radicale and Nextcloud, another
//     4xx, or valid-sync-token in the body) gives ErrInvalidSyncToken:
//     call again with an empty token.
//   - A token that meets a 5xx (after the read retries) while a first sync
//     works gives ErrInvalidSyncToken too (Xandikos answers 500 to an
//     unknown token).
//   - A valid token gives a Full answer too, never a bare delta: a caller
//     that adds its own writes to its copy (roomcal's gate does) must
//     hear of their deletion, and a server whose sync-collection compares
//     two states of the calendar (Xandikos) leaves out an object created
//     and deleted since the token, even when its own client created it;
//     after such a pair the token may not even move. The Client keeps,
//     for each calendar, the listing it last answered (names and ETags at
//     its token): the delta since that token applied to it is the
//     calendar at the new token on every server (a complete journal on
//     Radicale and Nextcloud, an exact difference of two states on
//     Xandikos), so the answer costs the one delta REPORT. A token the
//     Client did not answer itself (another replica's, or after a
//     restart) costs one more REPORT listing every object's href and
//     ETag, no data, as a first sync does. Memory: a name and an ETag per
//     object of each calendar synced.
//   - Where the server has no sync-collection (an empty token is refused
//     with a 4xx other than 401, 404 and 429, or 501), the calendar is
//     listed with a Depth 1 PROPFIND: Full, with an empty token.
//
// Changed ETags may be empty if the server left them out. It returns
// ErrNotFound when the calendar does not exist.
func (c *Client) Changes(ctx context.Context, cal, token string) (Changes, error) {
	if err := checkSegment("calendar", cal); err != nil {
		return Changes{}, fmt.Errorf("changes: %w", err)
	}
	ch, err := c.syncCollection(ctx, cal, token)
	var he *HTTPError
	switch {
	case err == nil && token == "":
		c.remember(cal, ch)
		return ch, nil
	case err == nil:
		if full, ok := c.applyDelta(cal, token, ch); ok {
			return full, nil
		}
		c.log.Debug("caldav: no listing kept for this token, listing the calendar", "calendar", cal)
		if ch, err = c.syncCollection(ctx, cal, ""); err == nil {
			c.remember(cal, ch)
			return ch, nil
		}
	case !errors.As(err, &he):
	case token != "" && strings.Contains(he.Body, "valid-sync-token"):
		return Changes{}, fmt.Errorf("changes %s: %w: %w", cal, ErrInvalidSyncToken, err)
	case errors.Is(err, ErrNotFound) || he.Status == http.StatusUnauthorized || he.Status == http.StatusTooManyRequests:
	case token != "" && he.Status/100 == 4:
		return Changes{}, fmt.Errorf("changes %s: %w: %w", cal, ErrInvalidSyncToken, err)
	case token != "" && he.Status/100 == 5:
		// Xandikos answers an unknown token with 500. If a first sync
		// works, the token was the trouble.
		if _, ferr := c.syncCollection(ctx, cal, ""); ferr == nil {
			return Changes{}, fmt.Errorf("changes %s: %w (a first sync works): %w", cal, ErrInvalidSyncToken, err)
		}
	case token == "" && (he.Status/100 == 4 || he.Status == http.StatusNotImplemented):
		c.log.Debug("caldav: no sync-collection, listing the calendar", "calendar", cal, "err", err)
		ch, err = c.listCalendar(ctx, cal)
	}
	if err != nil {
		return Changes{}, fmt.Errorf("changes %s: %w", cal, err)
	}
	return ch, nil
}

// remember keeps the Full answer full as the listing of cal at its token.
func (c *Client) remember(cal string, full Changes) {
	if full.Token == "" {
		return // no sync-collection: nothing to build deltas on
	}
	etags := make(map[string]string, len(full.Changed))
	for _, r := range full.Changed {
		etags[r.Name] = r.ETag
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.views[cal] = syncView{token: full.Token, etags: etags}
}

// applyDelta applies the delta d, answered for token, to the listing of
// cal kept at that token, keeps the result at d's token and returns it
// as a Full answer. It reports false when no listing is kept at token.
func (c *Client) applyDelta(cal, token string, d Changes) (Changes, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[cal]
	if !ok || v.token != token {
		return Changes{}, false
	}
	etags := make(map[string]string, len(v.etags)+len(d.Changed))
	for n, e := range v.etags {
		etags[n] = e
	}
	for _, n := range d.Deleted {
		delete(etags, n)
	}
	for _, r := range d.Changed {
		etags[r.Name] = r.ETag
	}
	c.views[cal] = syncView{token: d.Token, etags: etags}
	out := Changes{Token: d.Token, Full: true, Changed: make([]ObjectRef, 0, len(etags))}
	for n, e := range etags {
		out.Changed = append(out.Changed, ObjectRef{Name: n, ETag: e})
	}
	slices.SortFunc(out.Changed, func(a, b ObjectRef) int { return strings.Compare(a.Name, b.Name) })
	return out, true
}

// maxSyncRounds bounds how many truncated sync-collection answers are
// followed up in one Changes call.
const maxSyncRounds = 100

func (c *Client) syncCollection(ctx context.Context, cal, token string) (Changes, error) {
	out := Changes{Full: token == ""}
	changed := map[string]string{}
	deleted := map[string]bool{}
	for round := 0; ; round++ {
		body, err := syncBody(token)
		if err != nil {
			return Changes{}, err
		}
		ms, err := c.report(ctx, c.calURL(cal), "0", body)
		if err != nil {
			return Changes{}, err
		}
		truncated := false
		for _, r := range ms.Responses {
			href := r.href()
			name, ok := c.objectName(cal, href)
			status := statusCode(r.Status)
			if !ok {
				if status == http.StatusInsufficientStorage {
					truncated = true
				}
				continue
			}
			switch obj, st := r.object(name); {
			case st == http.StatusNotFound || st == http.StatusGone:
				delete(changed, name)
				deleted[name] = true
			case st/100 == 2:
				delete(deleted, name)
				changed[name] = obj.ETag
			default:
				c.log.Warn("caldav: sync-collection entry with an unexpected status left out", "calendar", cal, "href", href, "status", st)
			}
		}
		if ms.SyncToken == "" {
			return Changes{}, fmt.Errorf("REPORT %s: sync-collection answer without a sync-token", c.calURL(cal))
		}
		token = ms.SyncToken
		if !truncated {
			break
		}
		if round+1 >= maxSyncRounds {
			return Changes{}, fmt.Errorf("REPORT %s: sync-collection still truncated after %d rounds", c.calURL(cal), maxSyncRounds)
		}
	}
	out.Token = token
	for n, e := range changed {
		out.Changed = append(out.Changed, ObjectRef{Name: n, ETag: e})
	}
	slices.SortFunc(out.Changed, func(a, b ObjectRef) int { return strings.Compare(a.Name, b.Name) })
	if !out.Full {
		for n := range deleted {
			out.Deleted = append(out.Deleted, n)
		}
		slices.Sort(out.Deleted)
	}
	return out, nil
}

// listCalendar lists every object of cal with its ETag (Depth 1
// PROPFIND), for servers without sync-collection.
func (c *Client) listCalendar(ctx context.Context, cal string) (Changes, error) {
	ms, err := c.propfind(ctx, c.calURL(cal), "1", propReq{GetETag: &struct{}{}, ResourceType: &struct{}{}})
	if err != nil {
		return Changes{}, err
	}
	out := Changes{Full: true}
	for _, r := range ms.Responses {
		name, ok := c.objectName(cal, r.href())
		if !ok || r.isCollection() {
			continue
		}
		if obj, st := r.object(name); st/100 == 2 {
			out.Changed = append(out.Changed, ObjectRef{Name: name, ETag: obj.ETag})
		}
	}
	slices.SortFunc(out.Changed, func(a, b ObjectRef) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
