package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/caldav"
	"github.com/roomcal/roomcal/events"
	"github.com/roomcal/roomcal/internal/gatetest"
	"github.com/roomcal/roomcal/internal/redisgate"
)

// Authorization in one place, proven: every route the engine serves is
// called by every kind of caller, and the answer's status must be the one
// the table below decided. A route without an entry fails the test (a new
// route cannot ship without a decision on who may call it), and so does
// an entry for a route that no longer exists.

// Who calls. The resource owners are "owner" (the organizer of the
// booking under test, a plain member) and "orga" (the organiser of the
// event under test).
const (
	asAnon = iota
	asMember
	asOwner // the booking's organizer
	asOrga  // the event's organiser
	asOtherOrga
	asAdmin
	nRoles
)

var roleNames = [nRoles]string{"anonymous", "member", "booking owner", "event organiser", "another organiser", "admin"}

// roleMembers are the callers, as the identity headers say (nil:
// anonymous).
var roleMembers = [nRoles]*booking.Member{
	asAnon:      nil,
	asMember:    {ID: "mia", Name: "Mia"},
	asOwner:     {ID: "owner", Name: "Owen Owner"},
	asOrga:      {ID: "orga", Name: "Olga Orga", Groups: []string{booking.GroupOrganisers}},
	asOtherOrga: {ID: "otto", Name: "Otto", Groups: []string{booking.GroupOrganisers}},
	asAdmin:     {ID: "ada", Name: "Ada", Groups: []string{booking.GroupAdmins}},
}

// policyCase is one route's decision: how to call it, and the status
// each caller gets, in the order of roleNames.
type policyCase struct {
	// target is the path to call, {booking} and {event} standing for the
	// ids of the resources made for the call, {feedtoken} for a personal
	// feed token of the booking's owner.
	target string
	// body makes the request body (JSON unless form is set).
	body func(f *policyFixture) string
	form bool
	want [nRoles]int
}

func all(status int) [nRoles]int {
	var w [nRoles]int
	for i := range w {
		w[i] = status
	}
	return w
}

func members(status int) [nRoles]int {
	w := all(status)
	w[asAnon] = http.StatusUnauthorized
	return w
}

// pageWant is a member page's row: sign in first, then the page.
func pageWant() [nRoles]int {
	w := all(http.StatusOK)
	w[asAnon] = http.StatusSeeOther
	return w
}

// policyTable maps every route of dev mode ("METHOD path", as gin has it)
// to who may call it. Columns of want: anonymous, member, booking owner,
// event organiser, another organiser, admin.
var policyTable = map[string]policyCase{
	"GET /healthz":             {target: "/healthz", want: all(200)},
	"GET /readyz":              {target: "/readyz", want: all(200)},
	"GET /metrics":             {target: "/metrics", want: all(200)},
	"GET /api/v1/openapi.json": {target: "/api/v1/openapi.json", want: all(200)},

	"GET /api/v1/me":        {target: "/api/v1/me", want: members(200)},
	"GET /api/v1/me/quotas": {target: "/api/v1/me/quotas", want: members(200)},
	// Requests waiting for approval: the list is anyone's (empty for
	// who answers none); answering is for the room's approvers and
	// admins. The booking under test is no request: the admin passes the
	// policy and is told so (409).
	"GET /api/v1/requests": {target: "/api/v1/requests", want: members(200)},
	// "Je suis là": the booking's owner (and admins) only; the room of
	// the booking under test asks for no check-in (400 once past the
	// policy).
	"POST /api/v1/bookings/:id/checkin": {target: "/api/v1/bookings/{booking}/checkin",
		want: [nRoles]int{401, 403, 400, 403, 403, 400}},
	// One date of a series left out: the booking's owner (and admins);
	// the booking under test is no series (400 once past the policy).
	"POST /api/v1/bookings/:id/skip": {target: "/api/v1/bookings/{booking}/skip", body: func(f *policyFixture) string {
		return fmt.Sprintf(`{"start":%q}`, f.base.Format(time.RFC3339))
	}, want: [nRoles]int{401, 403, 400, 403, 403, 400}},
	// No-shows per member: admins.
	"GET /api/v1/noshows": {target: "/api/v1/noshows", want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"POST /api/v1/requests/:id/accept": {target: "/api/v1/requests/{booking}/accept",
		want: [nRoles]int{401, 403, 403, 403, 403, 409}},
	"POST /api/v1/requests/:id/refuse": {target: "/api/v1/requests/{booking}/refuse", body: func(*policyFixture) string { return `{"reason":"Salle prise pour l'AG"}` },
		want: [nRoles]int{401, 403, 403, 403, 403, 409}},
	"GET /api/v1/sites":        {target: "/api/v1/sites", want: members(200)},
	"GET /api/v1/rooms":        {target: "/api/v1/rooms", want: members(200)},
	"GET /api/v1/rooms/:id":    {target: "/api/v1/rooms/loire", want: members(200)},
	"GET /api/v1/availability": {target: "/api/v1/availability?site=nantes&from={from}&to={to}", want: members(200)},

	"POST /api/v1/bookings": {target: "/api/v1/bookings", body: func(f *policyFixture) string {
		start, end := f.slot()
		return fmt.Sprintf(`{"room":"loire","start":%q,"end":%q,"title":"Point"}`, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}, want: members(201)},
	"GET /api/v1/bookings": {target: "/api/v1/bookings?mine=true", want: members(200)},
	// A series' dates, before booking it: any member, nothing written.
	"GET /api/v1/bookings/preview": {target: "/api/v1/bookings/preview?room=loire&start={from}&end={from1h}&recurrence=FREQ%3DWEEKLY%3BCOUNT%3D3", want: members(200)},
	"GET /api/v1/bookings/:id":     {target: "/api/v1/bookings/{booking}", want: members(200)},
	// Only the booking's organizer and admins change or cancel it.
	"PATCH /api/v1/bookings/:id": {target: "/api/v1/bookings/{booking}", body: func(*policyFixture) string { return `{"title":"Renommée"}` },
		want: [nRoles]int{401, 403, 200, 403, 403, 200}},
	"DELETE /api/v1/bookings/:id": {target: "/api/v1/bookings/{booking}",
		want: [nRoles]int{401, 403, 204, 403, 403, 204}},
	// Overlaps made outside roomcal: admins only.
	"GET /api/v1/conflicts": {target: "/api/v1/conflicts", want: [nRoles]int{401, 403, 403, 403, 403, 200}},

	// Creating an event: organisers and admins.
	"POST /api/v1/events": {target: "/api/v1/events", body: func(f *policyFixture) string {
		start := f.base.AddDate(0, 0, 10)
		return fmt.Sprintf(`{"title":"Atelier","start":%q,"end":%q,"capacity":5,"waitlist":true,"location":"Hall"}`,
			start.Format(time.RFC3339), start.Add(2*time.Hour).Format(time.RFC3339))
	}, want: [nRoles]int{401, 403, 403, 201, 201, 201}},
	"GET /api/v1/events":     {target: "/api/v1/events", want: members(200)},
	"GET /api/v1/events/:id": {target: "/api/v1/events/{event}", want: members(200)},
	// Only the event's organiser and admins change, cancel it or see who
	// registered; another organiser may not.
	"PATCH /api/v1/events/:id": {target: "/api/v1/events/{event}", body: func(*policyFixture) string { return `{"capacity":8}` },
		want: [nRoles]int{401, 403, 403, 200, 403, 200}},
	"DELETE /api/v1/events/:id": {target: "/api/v1/events/{event}",
		want: [nRoles]int{401, 403, 403, 204, 403, 204}},
	"GET /api/v1/events/:id/registrations": {target: "/api/v1/events/{event}/registrations",
		want: [nRoles]int{401, 403, 403, 200, 403, 200}},
	"POST /api/v1/events/:id/registrations":      {target: "/api/v1/events/{event}/registrations", want: members(201)},
	"DELETE /api/v1/events/:id/registrations/me": {target: "/api/v1/events/{event}/registrations/me", want: members(204)},

	// Feeds: room, site and events feeds are public (titles hidden);
	// the personal feed's token is its credential.
	"GET /feeds/rooms/:file": {target: "/feeds/rooms/loire.ics", want: all(200)},
	"GET /feeds/sites/:file": {target: "/feeds/sites/nantes.ics", want: all(200)},
	"GET /feeds/events.ics":  {target: "/feeds/events.ics", want: all(200)},
	"GET /feeds/me/:file":    {target: "/feeds/me/{feedtoken}.ics", want: all(200)},
	// One's own feed token: any member, for themselves.
	"GET /api/v1/me/feed":    {target: "/api/v1/me/feed", want: members(200)},
	"POST /api/v1/me/feed":   {target: "/api/v1/me/feed", want: members(201)},
	"DELETE /api/v1/me/feed": {target: "/api/v1/me/feed", want: members(204)},
	// One's own preferences: any member, for themselves.
	"GET /api/v1/me/preferences": {target: "/api/v1/me/preferences", want: members(200)},
	"PATCH /api/v1/me/preferences": {target: "/api/v1/me/preferences", body: func(*policyFixture) string { return `{"site":"nantes"}` },
		want: members(200)},
	"GET /api/v1/me/notes": {target: "/api/v1/me/notes", want: members(200)},
	// A notice's unsubscribe link: its signed token is the credential,
	// whoever (or nobody) is signed in.
	"GET /desabonnement":  {target: "/desabonnement?t={unsubtoken}", want: all(200)},
	"POST /desabonnement": {target: "/desabonnement?t={unsubtoken}", form: true, body: func(*policyFixture) string { return "List-Unsubscribe=One-Click" }, want: all(200)},

	// Rooms administered in the pages (admin.go): admins, and site
	// admins for their site (TestAdminSiteAdmins; not a column here).
	"GET /api/v1/admin/rooms":     {target: "/api/v1/admin/rooms", want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"GET /api/v1/admin/rooms/:id": {target: "/api/v1/admin/rooms/loire", want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"POST /api/v1/admin/rooms": {target: "/api/v1/admin/rooms", body: func(f *policyFixture) string {
		return fmt.Sprintf(`{"id":"salle-%d","site":"nantes","name":"Nouvelle","capacity":4,"opening_hours":{"always":true}}`, f.slots.Add(1))
	}, want: [nRoles]int{401, 403, 403, 403, 403, 201}},
	"PUT /api/v1/admin/rooms/:id": {target: "/api/v1/admin/rooms/loire", body: func(f *policyFixture) string {
		st, err := f.rooms.Get(context.Background(), *roleMembers[asAdmin], "loire")
		if err != nil {
			panic(err)
		}
		return fmt.Sprintf(`{"site":"nantes","name":"Salle Loire","capacity":%d,"opening_hours":{"always":true},"revision":%d}`, 12+st.Revision+1, st.Revision)
	}, want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"GET /api/v1/admin/rooms/:id/future-bookings": {target: "/api/v1/admin/rooms/loire/future-bookings", want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"POST /api/v1/admin/rooms/:id/import": {target: "/api/v1/admin/rooms/loire/import", body: func(*policyFixture) string {
		return `{"dry_run":true,"ics":"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x@example.org\r\nDTSTAMP:20261101T090000Z\r\nDTSTART:20261124T130000Z\r\nDTEND:20261124T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}`
	}, want: [nRoles]int{401, 403, 403, 403, 403, 200}},
	"GET /admin/salles": {target: "/admin/salles", want: pageWant()},

	// The member pages (pages.go): anyone without a member is sent to
	// sign in (303 to /login); members get through to Options.Pages,
	// here stubPages (package web's tests and the browser tests in
	// cmd/roomcal render the real pages). Their static files are
	// anyone's (the stub has none: 404).
	"GET /":                    {target: "/", want: pageWant()},
	"GET /sites/:id":           {target: "/sites/nantes", want: pageWant()},
	"GET /mes-reservations":    {target: "/mes-reservations", want: pageWant()},
	"GET /evenements":          {target: "/evenements", want: pageWant()},
	"GET /evenements/:id":      {target: "/evenements/ev_x", want: pageWant()},
	"GET /conflits":            {target: "/conflits", want: pageWant()},
	"GET /demandes":            {target: "/demandes", want: pageWant()},
	"GET /salles/:id/presence": {target: "/salles/loire/presence", want: pageWant()},
	// The QR code of a room's door: any member may print it.
	"GET /salles/:id/qr.svg": {target: "/salles/loire/qr.svg", want: members(200)},
	"GET /salles/:id":        {target: "/salles/loire", want: pageWant()},
	"GET /static/:tag/:file": {target: "/static/0123456789abcdef/app.css", want: all(404)},
	// The help page, and its pictures (public: screenshots of demo data).
	"GET /aide":              {target: "/aide", want: pageWant()},
	"GET /aide/images/:file": {target: "/aide/images/reserver-fr.png", want: all(404)},

	// The dev mode's login page.
	"GET /login":   {target: "/login", want: all(200)},
	"POST /login":  {target: "/login", form: true, body: func(*policyFixture) string { return "name=Essai&groups=admins" }, want: all(303)},
	"POST /logout": {target: "/logout", form: true, want: all(303)},
}

// policyFixture is a server in dev mode over the embedded calendar store
// and the in-process gates, with the services behind it.
type policyFixture struct {
	s        *Server
	srv      *httptest.Server
	bookings *booking.Service
	events   *events.Service
	base     time.Time // midnight, two days from now
	tokens   *caldav.FeedTokens
	rooms    *booking.RoomAdmin
	slots    atomic.Int64
}

func newPolicyFixture(t *testing.T, siteOpts ...func(*booking.Site)) *policyFixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	site := booking.Site{ID: "nantes", Name: "Nantes", Location: paris}
	for _, o := range siteOpts {
		o(&site)
	}
	cat, err := booking.NewCatalog(
		[]booking.Site{site},
		[]booking.Room{{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Calendar: "loire"}})
	if err != nil {
		t.Fatal(err)
	}
	store, err := caldav.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	for _, c := range [][2]string{{"loire", "Salle Loire"}, {"evenements", "Événements"}, {"jetons", "Jetons"}} {
		if err := store.CreateCalendar(ctx, c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
	rooms := caldav.NewRoomCalendars(store, log)
	bs, err := booking.NewService(booking.Options{Catalog: cat, Calendar: rooms, Gate: redisgate.New(gatetest.Embedded(t).Client()), Recurrence: rooms, Logger: log,
		Importer: caldav.NewRoomImports(store)})
	if err != nil {
		t.Fatal(err)
	}
	zone := func(string) *time.Location { return paris }
	es, err := events.NewService(events.Options{
		Calendar: caldav.NewEventCalendar(store, "evenements", zone, log),
		Gate:     redisgate.NewEventGate(gatetest.Embedded(t).Client()), Rooms: bs, Logger: log, Zone: zone,
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens := caldav.NewFeedTokens(store, "jetons")
	ra, err := booking.NewRoomAdmin(booking.AdminOptions{Catalog: cat, Store: caldav.NewRoomSettingsStore(store, log, "evenements", "jetons"),
		Gate: redisgate.New(gatetest.Embedded(t).Client()), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Logger: log, Catalog: cat, Bookings: bs, Events: es, Feeds: caldav.FeedEncoder{}, FeedTokens: tokens,
		Preferences: caldav.NewMemberPreferences(store, "jetons"), NoticeLinks: NewNoticeLinks("", []byte("policy key")),
		AuthMode: AuthDev, Pages: stubPages{}, RoomAdmin: ra})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	y, m, d := time.Now().In(paris).AddDate(0, 0, 2).Date()
	return &policyFixture{s: s, srv: srv, bookings: bs, events: es, tokens: tokens, rooms: ra, base: time.Date(y, m, d, 0, 0, 0, 0, paris)}
}

// slot returns a fresh hour for a booking: no two calls overlap.
func (f *policyFixture) slot() (time.Time, time.Time) {
	start := f.base.Add(time.Duration(f.slots.Add(1)) * time.Hour)
	return start, start.Add(time.Hour)
}

// newBooking makes a booking of the owner's, through the service.
func (f *policyFixture) newBooking(t *testing.T) string {
	t.Helper()
	start, end := f.slot()
	b, err := f.bookings.Book(context.Background(), *roleMembers[asOwner], booking.Request{Room: "loire", Start: start, End: end, Title: "Réunion d'équipe"})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	return b.ID
}

// newEvent makes an event of orga's, through the service.
func (f *policyFixture) newEvent(t *testing.T) string {
	t.Helper()
	start := f.base.AddDate(0, 0, 5)
	ev, err := f.events.Create(context.Background(), *roleMembers[asOrga], events.Request{
		Title: "Formation", Start: start, End: start.Add(3 * time.Hour), Location: "Hall", Capacity: 10, Waitlist: true,
	})
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return ev.ID
}

// feedToken issues a personal feed token to the booking's owner when
// target needs one.
func (f *policyFixture) feedToken(t *testing.T, target string) string {
	t.Helper()
	if !strings.Contains(target, "{feedtoken}") {
		return ""
	}
	tok, err := f.tokens.Issue(context.Background(), *roleMembers[asOwner])
	if err != nil {
		t.Fatalf("feed token: %v", err)
	}
	return url.PathEscape(tok)
}

// state is what a refused call must leave as it was.
func (f *policyFixture) state(t *testing.T, bookingID, eventID string) string {
	t.Helper()
	ctx := context.Background()
	admin := *roleMembers[asAdmin]
	b, err := f.bookings.Get(ctx, admin, bookingID)
	if err != nil {
		return "booking: " + err.Error()
	}
	v, err := f.events.Get(ctx, admin, eventID)
	if err != nil {
		return "event: " + err.Error()
	}
	return fmt.Sprintf("booking %s %s–%s %q; event %q cap %d %s confirmed %d",
		b.ID, b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339), b.Title,
		v.Event.Title, v.Event.Settings.Capacity, v.Event.Status(), v.Confirmed)
}

// call makes one request as role and returns the answer.
func (f *policyFixture) call(t *testing.T, role int, method, target, body string, form bool) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if m := roleMembers[role]; m != nil {
		req.Header.Set(HeaderUser, m.ID)
		req.Header.Set(HeaderName, m.Name)
		req.Header.Set(HeaderGroups, strings.Join(m.Groups, ","))
	}
	if form {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost && target == "/login" {
		// The login form's guard: a nonce cookie and its token.
		nonce := "policy-test-nonce"
		req.AddCookie(&http.Cookie{Name: loginCookie, Value: nonce})
		req.Body = io.NopCloser(strings.NewReader(body + "&login_token=" + url.QueryEscape(f.s.loginToken(nonce))))
		req.ContentLength = -1
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// registeredRoutes lists the routes the server's engine serves, as
// "METHOD path".
func registeredRoutes(s *Server) []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

func TestPolicyTableCoversRoutes(t *testing.T) {
	f := newPolicyFixture(t)
	have := map[string]bool{}
	for _, r := range registeredRoutes(f.s) {
		have[r] = true
		if _, ok := policyTable[r]; !ok {
			t.Errorf("route %s has no entry in policyTable: decide who may call it", r)
		}
	}
	for r := range policyTable {
		if !have[r] {
			t.Errorf("policyTable lists %s, which the server does not serve (in dev mode)", r)
		}
	}
}

// TestPolicy walks every route with every caller.
func TestPolicy(t *testing.T) {
	f := newPolicyFixture(t)
	routes := registeredRoutes(f.s)
	// The resources of the safe calls; each write gets its own.
	sharedBooking, sharedEvent := f.newBooking(t), f.newEvent(t)
	for _, r := range routes {
		pc, ok := policyTable[r]
		if !ok {
			continue // TestPolicyTableCoversRoutes says so
		}
		method, _, _ := strings.Cut(r, " ")
		t.Run(r, func(t *testing.T) {
			for role := range nRoles {
				bid, eid := sharedBooking, sharedEvent
				if method != http.MethodGet {
					bid, eid = f.newBooking(t), f.newEvent(t)
				}
				before := f.state(t, bid, eid)
				target := strings.NewReplacer(
					"{booking}", url.PathEscape(bid), "{event}", url.PathEscape(eid), "{feedtoken}", f.feedToken(t, pc.target),
					"{unsubtoken}", f.s.opts.NoticeLinks.Token(roleMembers[asOwner].ID, "promoted"),
					"{from}", url.QueryEscape(f.base.Format(time.RFC3339)),
					"{to}", url.QueryEscape(f.base.AddDate(0, 0, 1).Format(time.RFC3339)),
					"{from1h}", url.QueryEscape(f.base.Add(time.Hour).Format(time.RFC3339)),
				).Replace(pc.target)
				body := ""
				if pc.body != nil {
					body = pc.body(f)
				}
				resp, got := f.call(t, role, method, target, body, pc.form)
				want := pc.want[role]
				if resp.StatusCode != want {
					t.Errorf("%s: status %d, want %d: %s", roleNames[role], resp.StatusCode, want, clip(got))
					continue
				}
				if want == http.StatusUnauthorized || want == http.StatusForbidden {
					var p Problem
					if err := json.Unmarshal(got, &p); err != nil || p.Status != want ||
						(want == 401 && p.Code != CodeUnauthenticated) || (want == 403 && p.Code != CodeForbidden) {
						t.Errorf("%s: refusal is not a %d problem: %s", roleNames[role], want, clip(got))
					}
					if after := f.state(t, bid, eid); after != before {
						t.Errorf("%s: refused, yet something changed:\n before %s\n after  %s", roleNames[role], before, after)
					}
				}
			}
		})
	}
}

// TestPolicyOwnChanges checks that the allowed changes happened: the
// owner's move and cancel, the organiser's new cap, the admin's
// cancellation of someone else's event.
func TestPolicyOwnChanges(t *testing.T) {
	f := newPolicyFixture(t)
	ctx := context.Background()
	bid := f.newBooking(t)
	if resp, body := f.call(t, asOwner, http.MethodPatch, "/api/v1/bookings/"+bid, `{"title":"Déplacée"}`, false); resp.StatusCode != 200 {
		t.Fatalf("owner's move: %d %s", resp.StatusCode, body)
	}
	b, err := f.bookings.Get(ctx, *roleMembers[asOwner], bid)
	if err != nil || b.Title != "Déplacée" {
		t.Fatalf("after the owner's change: %+v, %v", b, err)
	}
	if resp, body := f.call(t, asOwner, http.MethodDelete, "/api/v1/bookings/"+bid, "", false); resp.StatusCode != 204 {
		t.Fatalf("owner's cancel: %d %s", resp.StatusCode, body)
	}
	if _, err := f.bookings.Get(ctx, *roleMembers[asOwner], bid); err == nil {
		t.Fatal("the cancelled booking is still there")
	}

	eid := f.newEvent(t)
	if resp, body := f.call(t, asOrga, http.MethodPatch, "/api/v1/events/"+eid, `{"capacity":3}`, false); resp.StatusCode != 200 {
		t.Fatalf("organiser's change: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.call(t, asAdmin, http.MethodDelete, "/api/v1/events/"+eid, "", false); resp.StatusCode != 204 {
		t.Fatalf("admin's cancel: %d %s", resp.StatusCode, body)
	}
	v, err := f.events.Get(ctx, *roleMembers[asOrga], eid)
	if err != nil || v.Event.Settings.Capacity != 3 || v.Event.Status() != events.StatusCancelled {
		t.Fatalf("after the changes: %+v, %v", v.Event, err)
	}
}

// TestPolicyHeaderMode: in header mode the login page does not exist.
func TestPolicyHeaderMode(t *testing.T) {
	s := New(Options{Catalog: testCatalog(t), AuthMode: AuthHeader})
	for _, r := range registeredRoutes(s) {
		if strings.HasSuffix(r, " /login") || strings.HasSuffix(r, " /logout") {
			t.Errorf("header mode serves %s", r)
		}
	}
}

func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
