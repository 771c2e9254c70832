package web

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
)

func testSite(t *testing.T) *Site {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := booking.NewCatalog(
		[]booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}, {ID: "brest", Name: "Brest", Location: paris}},
		[]booking.Room{
			{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Equipment: []string{"visio"}, Calendar: "loire"},
			{ID: "erdre", SiteID: "nantes", Name: "Salle Erdre", Capacity: 6, Calendar: "erdre"},
			{ID: "iroise", SiteID: "brest", Name: "Iroise", Capacity: 8, Calendar: "iroise"},
		})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Catalog: cat,
		Now: func() time.Time { return time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) }})
}

// TestCataloguesHaveSameKeys: every message exists in every language.
func TestCataloguesHaveSameKeys(t *testing.T) {
	msgs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range languages {
		for _, other := range languages {
			for k := range msgs[l] {
				if _, ok := msgs[other][k]; !ok {
					t.Errorf("key %q is in %s.json but not in %s.json", k, l, other)
				}
			}
		}
		for k, v := range msgs[l] {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", l, k)
			}
		}
	}
}

// TestUsedKeysExist: every key the templates (T "key") and the scripts
// (t("key")) use is in the catalogues.
func TestUsedKeysExist(t *testing.T) {
	msgs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]*regexp.Regexp{
		".html": regexp.MustCompile(`\.T "([a-z0-9_]+)"`),
		".js":   regexp.MustCompile(`\bt\("([a-z0-9_]+)"`),
	}
	// Plurals (tn("key", n)) need key_one and key_other in every
	// language (key_many, key_few… when a language has them).
	plurals := regexp.MustCompile(`\btn\("([a-z0-9_]+)"`)
	_ = fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") || strings.Contains(p, "vendor/") {
			return err
		}
		b, _ := files.ReadFile(p)
		for _, m := range plurals.FindAllStringSubmatch(string(b), -1) {
			for _, l := range languages {
				for _, form := range []string{"_one", "_other"} {
					if _, ok := msgs[l][m[1]+form]; !ok {
						t.Errorf("%s counts with %q, but %s.json lacks %s", p, m[1], l, m[1]+form)
					}
				}
			}
		}
		return nil
	})
	// "(s)" is what real plural forms replace.
	for _, l := range languages {
		for k, v := range msgs[l] {
			if strings.Contains(v, "(s)") {
				t.Errorf("%s.json %s: %q writes a plural as (s)", l, k, v)
			}
		}
	}
	found := 0
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "vendor/") {
			return err
		}
		for ext, re := range uses {
			if !strings.HasSuffix(p, ext) {
				continue
			}
			b, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				found++
				if _, ok := msgs["fr"][m[1]]; !ok {
					t.Errorf("%s uses %q, which the catalogues lack", p, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Errorf("found only %d uses of messages: is the pattern still right?", found)
	}
}

func TestAcceptLanguage(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"", "fr"},
		{"de-DE,de;q=0.9", "fr"},
		{"en-GB,en;q=0.9", "en"},
		{"fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"de;q=1, en;q=0.5, fr;q=0.7", "fr"},
		{"en;q=0", "fr"},
		{"EN-us", "en"},
	} {
		if got := acceptLanguage(c.header); got != c.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

func render(t *testing.T, s *Site, target string, p api.Page, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServePage(w, r, p)
	return w
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s+type="module")?>`)
	inlineStyle  = regexp.MustCompile(`(?i)<style|\sstyle=`)
	unreplaced   = regexp.MustCompile(`\{[a-z_]+\}`)
	// messagesBlock is the catalogue given to the page's script, whose
	// messages keep their placeholders for the script to fill.
	messagesBlock = regexp.MustCompile(`(?s)<script type="application/json" id="messages">.*?</script>`)
)

// checkPage fails on what the CSP forbids (an inline script or style),
// on a placeholder left unfilled in the markup, on a missing want and on
// a present not.
func checkPage(t *testing.T, body string, want, not []string) {
	t.Helper()
	for _, x := range want {
		if !strings.Contains(body, x) {
			t.Errorf("page lacks %q", x)
		}
	}
	for _, x := range not {
		if strings.Contains(body, x) {
			t.Errorf("page has %q", x)
		}
	}
	if m := inlineScript.FindString(body); m != "" {
		t.Errorf("inline script %q", m)
	}
	if m := inlineStyle.FindString(body); m != "" {
		t.Errorf("inline style %q", m)
	}
	if m := unreplaced.FindString(messagesBlock.ReplaceAllString(body, "")); m != "" {
		t.Errorf("placeholder left: %q", m)
	}
}

// TestPages: every page renders in both languages, with no inline script
// or style (the CSP forbids them), every placeholder filled, hashed asset
// URLs, and the member's name and sign-out form.
func TestPages(t *testing.T) {
	s := testSite(t)
	amina := booking.Member{ID: "amina", Name: "Amina <Diallo>"}
	for _, c := range []struct {
		name, target string
		page         api.Page
		status       int
		want         []string
	}{
		{"start", "/", api.Page{Name: api.PageStart}, 200, []string{"Pour quand, pour combien, où ?", "start.js", `id="site-nantes" value="nantes" checked`, `id="start-data"`, `"first_name":"Amina"`, `href="/sites/nantes"`}},
		{"start site asked", "/?site=brest", api.Page{Name: api.PageStart}, 200, []string{`id="site-brest" value="brest" checked`, `"site":"brest"`}},
		{"day", "/sites/nantes", api.Page{Name: api.PageDay, SiteID: "nantes"}, 200, []string{"Salles de Nantes", `value="loire"`, `value="erdre"`, `data-date="2026-11-24"`, "/static/", "day.js", `name="date"`}},
		{"day other site", "/sites/brest?date=2026-12-02", api.Page{Name: api.PageDay, SiteID: "brest"}, 200, []string{"Salles de Brest", `value="iroise"`, `data-date="2026-12-02"`, `href="/sites/brest?date=2026-12-01"`, `href="/sites/brest?date=2026-12-03"`}},
		{"day english", "/?lang=en", api.Page{Name: api.PageDay}, 200, []string{"Rooms at Nantes", `lang="en"`, "Book with the form"}},
		{"unknown site", "/sites/nowhere", api.Page{Name: api.PageDay, SiteID: "nowhere"}, 404, []string{"Page introuvable", `href="/sites/nantes"`}},
		{"mine", "/mes-reservations", api.Page{Name: api.PageMine}, 200, []string{"Mes réservations", "mine.js", `"Salle Loire"`}},
		{"events", "/evenements", api.Page{Name: api.PageEvents}, 200, []string{"Événements", "events.js", "events.css", `id="ev-list"`}},
		{"one event", "/evenements/ev_1", api.Page{Name: api.PageEvent, EventID: "ev_1"}, 200, []string{"<h1>Événement</h1>", `data-event="ev_1"`, `href="/evenements"`, "events.js", `id="ev-list"`}},
		{"conflicts", "/conflits", api.Page{Name: api.PageConflicts}, 200, []string{"Conflits de réservation", "réservée aux administrateurs"}},
		{"requests", "/demandes", api.Page{Name: api.PageRequests}, 200, []string{"Demandes à valider", "requests.js", `id="rq-list"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.page.Member, c.page.CSRFToken, c.page.LogoutURL = amina, "tok-123", "/logout"
			w := render(t, s, c.target, c.page, nil)
			body := w.Body.String()
			if w.Code != c.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, c.status, body)
			}
			want := append([]string{"Amina &lt;Diallo&gt;", `action="/logout"`, `name="csrf_token" value="tok-123"`, "/static/"}, c.want...)
			checkPage(t, body, want, nil)
		})
	}
	// An event's page is that event alone: no creation form, even for an
	// organiser; the list has it.
	orga := booking.Member{ID: "olga", Name: "Olga", Groups: []string{booking.GroupOrganisers}}
	if body := render(t, s, "/evenements/ev_1", api.Page{Name: api.PageEvent, EventID: "ev_1", Member: orga}, nil).Body.String(); strings.Contains(body, `id="ev-form"`) || strings.Contains(body, `id="new-event"`) {
		t.Errorf("an event's page has the list's parts")
	}
	if body := render(t, s, "/evenements", api.Page{Name: api.PageEvents, Member: orga}, nil).Body.String(); !strings.Contains(body, `id="ev-form"`) || strings.Contains(body, "data-event") {
		t.Errorf("the events list lacks the creation form, or names one event")
	}

	// The lang link sets the cookie; the cookie then chooses.
	w := render(t, s, "/?lang=en", api.Page{Name: api.PageDay, Member: amina}, nil)
	if ck := w.Result().Cookies(); len(ck) != 1 || ck[0].Name != "lang" || ck[0].Value != "en" {
		t.Errorf("lang link cookies: %v", ck)
	}
	w = render(t, s, "/", api.Page{Name: api.PageMine, Member: amina}, map[string]string{"Cookie": "lang=en", "Accept-Language": "fr"})
	if !strings.Contains(w.Body.String(), "My bookings") {
		t.Errorf("the lang cookie did not choose English")
	}
	w = render(t, s, "/", api.Page{Name: api.PageMine, Member: amina}, map[string]string{"Accept-Language": "en-US,en;q=0.9"})
	if !strings.Contains(w.Body.String(), "My bookings") {
		t.Errorf("Accept-Language did not choose English")
	}
	// Header mode: no session, no sign-out form.
	w = render(t, s, "/", api.Page{Name: api.PageDay, Member: amina}, nil)
	if strings.Contains(w.Body.String(), "csrf_token") {
		t.Errorf("a sign-out form without a session")
	}
}

// TestWithoutCalendarFiles: a build without `make assets` still serves
// the day view, which says so and keeps the booking form.
func TestWithoutCalendarFiles(t *testing.T) {
	s := testSite(t)
	delete(s.assets, calendarJS)
	delete(s.assets, calendarCSS)
	s.calendar = false
	w := render(t, s, "/", api.Page{Name: api.PageDay, Member: booking.Member{ID: "a", Name: "A"}}, nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "make assets") || !strings.Contains(body, `id="book-form"`) || strings.Contains(body, "event-calendar") {
		t.Errorf("day view without the calendar files: %d\n%s", w.Code, body)
	}
}

func TestStatic(t *testing.T) {
	s := testSite(t)
	var names []string
	for n := range s.assets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, want := range []string{"app.css", "day.js", "mine.js"} {
		if _, ok := s.assets[want]; !ok {
			t.Errorf("asset %s missing; have %v", want, names)
		}
	}
	a := s.assets["app.css"]
	get := func(tag, name string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/static/"+tag+"/"+name, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeStatic(w, r, tag, name)
		return w
	}
	w := get(a.tag, "app.css", nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") ||
		!strings.Contains(w.Header().Get("Cache-Control"), "max-age=31536000") || w.Body.Len() != len(a.body) {
		t.Errorf("app.css: %d %v", w.Code, w.Header())
	}
	if w := get(a.tag, "app.css", map[string]string{"If-None-Match": `"` + a.tag + `"`}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := get("0000000000000000", "app.css", nil); w.Code != 404 {
		t.Errorf("stale tag: %d", w.Code)
	}
	if w := get(a.tag, "nope.js", nil); w.Code != 404 {
		t.Errorf("unknown file: %d", w.Code)
	}
	if got := s.assetURL("app.css"); got != "/static/"+a.tag+"/app.css" {
		t.Errorf("assetURL = %q", got)
	}
	// The page scripts import "./common.js": it must be served under
	// each importer's tag.
	for _, page := range []string{"day.js", "room.js", "sitebook.js", "mine.js", "events.js", "conflicts.js"} {
		tag := s.assets[page].tag
		if tag == "" || s.assets["common.js"].tag != tag {
			t.Errorf("%s has tag %q, common.js %q: its import would not resolve", page, tag, s.assets["common.js"].tag)
		}
		if w := get(tag, "common.js", nil); w.Code != 200 {
			t.Errorf("common.js under %s's tag: %d", page, w.Code)
		}
	}
}

// TestThroughAPI: the pages behind api's route table: a visitor without
// a member is sent to sign in, a member gets the page, static files are
// anyone's.
func TestThroughAPI(t *testing.T) {
	s := testSite(t)
	srv := httptest.NewServer(api.New(api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Catalog: s.catalog, AuthMode: api.AuthDev, Pages: s}))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, user string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if user != "" {
			req.Header.Set(api.HeaderUser, user)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/mes-reservations?x=1", ""); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fmes-reservations%3Fx%3D1" {
		t.Errorf("anonymous: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get("/sites/nantes", "amina"); r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("member: %d %v", r.StatusCode, r.Header)
	}
	if r := get("/sites/nowhere", "amina"); r.StatusCode != 404 {
		t.Errorf("unknown site: %d", r.StatusCode)
	}
	if r := get(s.assetURL("day.js"), ""); r.StatusCode != 200 {
		t.Errorf("static: %d", r.StatusCode)
	}
}

// TestRoomPage: a room's week, its rules and hours in words, its feed
// link, and the weeks around it.
func TestRoomPage(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	weekdays := map[time.Weekday][]booking.TimeRange{}
	for d := time.Monday; d <= time.Friday; d++ {
		weekdays[d] = []booking.TimeRange{{From: booking.Clock(8, 0), To: booking.Clock(20, 0)}}
	}
	cat, err := booking.NewCatalog(
		[]booking.Site{{ID: "nantes", Name: "Nantes", Location: paris}},
		[]booking.Room{{ID: "loire", SiteID: "nantes", Name: "Salle Loire", Capacity: 12, Equipment: []string{"visio", "écran"}, Calendar: "loire",
			Hours: booking.OpeningHours{Weekly: weekdays, Closures: []booking.Closure{{From: booking.Date{Year: 2026, Month: 12, Day: 24}, To: booking.Date{Year: 2027, Month: 1, Day: 1}, Reason: "Fin d'année"}}},
			Rules: booking.Rules{MaxDuration: 4 * time.Hour, MinNotice: 15 * time.Minute, MaxAhead: 90 * 24 * time.Hour, Buffer: 90 * time.Minute, AllowedGroups: []string{"salaries"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Catalog: cat,
		Now: func() time.Time { return time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) }})
	amina := booking.Member{ID: "amina", Name: "Amina"}
	w := render(t, s, "/salles/loire", api.Page{Name: api.PageRoom, RoomID: "loire", Member: amina, CSRFToken: "tok"}, nil)
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("status %d:\n%s", w.Code, body)
	}
	for _, x := range []string{
		"<h1>Salle Loire</h1>", "room.js", `data-week="2026-11-23"`, `data-slot-min="08:00"`, `data-slot-max="20:00"`,
		"12 personnes assises", "visio, écran",
		"4 h par réservation", "réservez au moins 15 min avant le début", "jusqu&#39;à 90 jours à l&#39;avance",
		"1 h 30 min libres entre deux réservations", "seulement les membres de ces groupes : salaries",
		"<th scope=\"row\">Lundi</th><td>de 08:00 à 20:00</td>", "<th scope=\"row\">Samedi</th><td>fermée</td>",
		"du 24/12/2026 au 01/01/2027 — Fin d&#39;année", "La semaine du 23/11/2026 au 29/11/2026",
		`value="http://example.com/feeds/rooms/loire.ics"`, `href="webcal://example.com/feeds/rooms/loire.ics"`,
		`href="/salles/loire?week=2026-11-16"`, `href="/salles/loire?week=2026-11-30"`,
	} {
		if !strings.Contains(body, x) {
			t.Errorf("room page lacks %q", x)
		}
	}
	if m := inlineScript.FindString(body); m != "" {
		t.Errorf("inline script %q", m)
	}
	// Another week; English; an unknown room.
	w = render(t, s, "/salles/loire?week=2026-12-03&lang=en", api.Page{Name: api.PageRoom, RoomID: "loire", Member: amina}, nil)
	if body := w.Body.String(); !strings.Contains(body, `data-week="2026-11-30"`) || !strings.Contains(body, "4 h per booking") {
		t.Errorf("week of 2026-12-03 in English:\n%s", body)
	}
	// "Mes réservations" links to every room's week.
	if body := render(t, s, "/mes-reservations", api.Page{Name: api.PageMine, Member: amina}, nil).Body.String(); !strings.Contains(body, `<a href="/salles/loire">Salle Loire</a>`) || !strings.Contains(body, "room.css") {
		t.Errorf("my bookings lack the link to the room's week:\n%s", body)
	}
	if w = render(t, s, "/salles/nowhere", api.Page{Name: api.PageRoom, RoomID: "nowhere", Member: amina}, nil); w.Code != 404 {
		t.Errorf("unknown room: %d", w.Code)
	}
}

// TestLoginPage: the dev login form in both languages, from the
// catalogues: its fields, the name escaped, the refusals in words, the
// sign-out form of a session, and the language switch keeping where
// signing in leads.
func TestLoginPage(t *testing.T) {
	s := testSite(t)
	serve := func(status int, f api.LoginForm, header map[string]string) (*httptest.ResponseRecorder, string) {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/login", nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeLogin(w, r, status, f)
		return w, w.Body.String()
	}
	base := api.LoginForm{Token: "tok-1", Next: "/salles/loire?week=2026-11-30", MaxName: 80}
	for _, c := range []struct {
		name   string
		status int
		edit   func(*api.LoginForm)
		header map[string]string
		want   []string
		not    []string
	}{
		{"french", 200, nil, nil,
			[]string{`<html lang="fr">`, "<h1>Connexion</h1>", "Mode de démonstration", `<label for="name">Votre nom</label>`,
				`name="login_token" value="tok-1"`, `name="next" value="/salles/loire?week=2026-11-30"`, `maxlength="80"`,
				`<label for="g-organisers">organisateur·rice`, `<label for="g-admins">administrateur·rice`, ">Se connecter</button>",
				`href="/login?lang=en&amp;next=%2Fsalles%2Floire%3Fweek%3D2026-11-30"`},
			[]string{"role=\"alert\"", `action="/logout"`, "csrf_token", "<nav"}},
		{"english", 200, nil, map[string]string{"Accept-Language": "en-GB,en;q=0.9"},
			[]string{`<html lang="en">`, "<h1>Sign in</h1>", "Demonstration mode", `<label for="name">Your name</label>`, ">Sign in</button>",
				`href="/login?lang=fr&amp;next=`},
			[]string{"Votre nom"}},
		{"expired, what was typed kept", 403, func(f *api.LoginForm) {
			f.Error, f.Name, f.Admin = api.LoginExpired, `Zoë "<b>"`, true
		}, nil,
			[]string{`role="alert">Le formulaire a expiré`, `value="Zoë &#34;&lt;b&gt;&#34;"`, `value="admins" checked`},
			[]string{"<b>", `value="organisers" checked`}},
		{"no name, english", 400, func(f *api.LoginForm) { f.Error = api.LoginNoName }, map[string]string{"Cookie": "lang=en"},
			[]string{`role="alert">Give a name, with at least one letter or digit.`}, nil},
		{"signed in", 200, func(f *api.LoginForm) {
			f.Current, f.SessionCSRF = &booking.Member{ID: "dev:amelie", Name: "Amélie <N'Diaye>"}, "csrf-9"
		}, nil,
			[]string{"Vous êtes connecté·e en tant que Amélie &lt;N&#39;Diaye&gt; (identifiant dev:amelie).", `<form method="post" action="/logout">`,
				`name="csrf_token" value="csrf-9"`, "Se connecter sous un autre nom"},
			[]string{"<N'Diaye>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := base
			if c.edit != nil {
				c.edit(&f)
			}
			w, body := serve(c.status, f, c.header)
			if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("status %d %s, want %d", w.Code, w.Header().Get("Content-Type"), c.status)
			}
			checkPage(t, body, c.want, c.not)
			// A session's token goes in both forms (sign out, sign in as
			// someone else); without a session there is none.
			want := 0
			if f.SessionCSRF != "" {
				want = 2
			}
			if n := strings.Count(body, `name="csrf_token"`); n != want {
				t.Errorf("%d csrf_token fields, want %d", n, want)
			}
		})
	}
	// Without a way back, the switch link is the plain login page's.
	_, body := serve(200, api.LoginForm{Token: "t", Next: "/", MaxName: 80}, nil)
	if !strings.Contains(body, `href="/login?lang=en"`) {
		t.Errorf("switch link without next: %s", body)
	}
}

// TestSignInPage: oidc mode's invitation to sign in, in the member's
// language, is a link and nothing that goes there by itself.
func TestSignInPage(t *testing.T) {
	s := testSite(t)
	for _, c := range []struct{ lang, want string }{{"fr", "Vous n&#39;êtes pas connecté·e."}, {"en", "You are not signed in."}} {
		r := httptest.NewRequest(http.MethodGet, "/mes-reservations", nil)
		r.Header.Set("Accept-Language", c.lang)
		w := httptest.NewRecorder()
		s.ServeSignIn(w, r, "/auth/login?next=%2Fmes-reservations")
		body := w.Body.String()
		if w.Code != http.StatusUnauthorized || !strings.Contains(body, c.want) || !strings.Contains(body, `href="/auth/login?next=%2Fmes-reservations"`) {
			t.Errorf("%s: %d\n%s", c.lang, w.Code, body)
		}
		if strings.Contains(body, "<nav") || strings.Contains(body, "http-equiv") || inlineScript.MatchString(body) {
			t.Errorf("%s: the invitation has a menu or goes by itself:\n%s", c.lang, body)
		}
	}
}
