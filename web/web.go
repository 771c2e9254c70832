package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/roomcal/roomcal/api"
	"github.com/roomcal/roomcal/booking"
)

// Options are what the pages need; cmd/roomcal fills them.
type Options struct {
	Logger  *slog.Logger
	Catalog *booking.Catalog
	// Now is the clock (default time.Now), for tests.
	Now func() time.Time
	// Preferences gives the members' preferences: the start page opens
	// on their site (nil: on the first site).
	Preferences Preferences
	// HelpImages is the directory of the help page's screenshots
	// (help.go); "" or a missing directory: the page is text only.
	HelpImages string
}

// Preferences reads a member's preferences (booking.PreferencesStore
// has it).
type Preferences interface {
	Preferences(ctx context.Context, memberID string) (booking.Preferences, error)
}

// Site renders the member pages; it implements api.Pages. It is safe for
// concurrent use.
type Site struct {
	log      *slog.Logger
	catalog  *booking.Catalog
	now      func() time.Time
	prefs    Preferences
	helpDir  string
	pages    map[string]*template.Template
	msgs     map[string]catalogue
	assets   map[string]asset
	calendar bool // the vendor calendar files are embedded
}

var _ api.Pages = (*Site)(nil)

// New loads the templates, catalogues and static files. They are built
// into the binary, so New panics if they are broken (a test catches it),
// and so it does without a catalog.
func New(opts Options) *Site {
	s, err := load(opts)
	if err != nil {
		panic(err)
	}
	return s
}

func load(opts Options) (*Site, error) {
	if opts.Catalog == nil {
		return nil, errors.New("web: no catalog")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Site{log: opts.Logger, catalog: opts.Catalog, now: opts.Now, prefs: opts.Preferences, pages: map[string]*template.Template{}, helpDir: opts.HelpImages}
	var err error
	if s.msgs, err = loadCatalogues(); err != nil {
		return nil, err
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	_, js := s.assets[calendarJS]
	_, css := s.assets[calendarCSS]
	s.calendar = js && css
	if !s.calendar {
		s.log.Warn("web: the calendar files are not built in (run `make assets` before go build); the day view shows the booking form only")
	}
	for _, name := range []string{"start", "day", "mine", "events", "conflicts", "requests", "checkin", "notfound", "room", "login", "signin", "admin", "help"} {
		t, err := template.New("base.html").ParseFS(files, "templates/base.html", "templates/booking.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		s.pages[name] = t
	}
	return s, nil
}

// view is what every template gets; Data is the page's own part.
type view struct {
	Lang      string
	msgs      catalogue
	Title     string
	Nav       string
	Member    booking.Member
	CSRFToken string
	LogoutURL string
	CSS       string
	JS        string
	// OtherLang is the language the switch link offers, and its link.
	OtherLang, OtherLangURL string
	// Approver: the member answers requests for some room (the nav
	// then links to them).
	Approver bool
	// Messages are the keys the page's script needs, in the page's
	// language, for a JSON data block.
	Messages map[string]string
	Data     any
}

// T returns the message key in the page's language, with its {name}
// placeholders replaced by the pairs in args.
func (v view) T(key string, args ...string) string { return v.msgs.t(key, args...) }

// fieldsView is a view given to a block of fields written once for
// several forms (booking.html's "slotfields"): Prefix starts the ids of
// its fields.
type fieldsView struct {
	view
	Prefix string
}

// Fields gives v to a block of fields whose ids start with prefix.
func (v view) Fields(prefix string) fieldsView { return fieldsView{view: v, Prefix: prefix} }

// ServePage implements api.Pages.
func (s *Site) ServePage(w http.ResponseWriter, r *http.Request, p api.Page) {
	v := s.newView(w, r, r.URL.Path, r.URL.Query())
	lang := v.Lang
	v.Member, v.CSRFToken, v.LogoutURL = p.Member, p.CSRFToken, p.LogoutURL
	v.Approver = s.approver(p.Member)
	status := http.StatusOK
	page := p.Name
	switch p.Name {
	case api.PageStart:
		d := s.startData(r, p.Member, s.preferredSite(r, p.Member))
		v.Title, v.Nav, v.JS, v.Data = v.T("start_title"), "rooms", s.assetURL("start.js"), d
		v.Messages = s.jsMessages(lang)
	case api.PageDay:
		d, ok := s.dayData(r, p.SiteID)
		if !ok {
			status, page = http.StatusNotFound, "notfound"
			v.Title, v.Data = v.T("not_found_title"), d
			break
		}
		v.Title, v.Nav, v.JS, v.Data = v.T("day_title", "site", d.Site.Name), "rooms", s.assetURL("day.js"), d
		v.Messages = s.jsMessages(lang)
	case api.PageMine:
		v.Title, v.Nav, v.JS, v.Data = v.T("mine_title"), "mine", s.assetURL("mine.js"), s.mineData()
		v.Messages = s.jsMessages(lang)
	case api.PageEvents:
		v.Title, v.Nav, v.JS, v.Data = v.T("events_title"), "events", s.assetURL("events.js"), s.eventsData(p.Member, "")
		v.Messages = s.jsMessages(lang)
	case api.PageEvent:
		// The script asks the API for the event and says if there is
		// none; the title becomes the event's once it is known.
		page = "events"
		v.Title, v.Nav, v.JS, v.Data = v.T("event_heading"), "events", s.assetURL("events.js"), s.eventsData(p.Member, p.EventID)
		v.Messages = s.jsMessages(lang)
	case api.PageRoom:
		d, ok := s.roomData(r, p.RoomID, v.msgs)
		if !ok {
			status, page = http.StatusNotFound, "notfound"
			v.Title = v.T("not_found_title")
			break
		}
		v.Title, v.Nav, v.JS, v.Data = v.T("room_title", "room", d.Name), "rooms", s.assetURL("room.js"), d
		v.Messages = s.jsMessages(lang)
	case api.PageCheckIn:
		rm, err := s.catalog.Room(p.RoomID)
		if err != nil {
			status, page = http.StatusNotFound, "notfound"
			v.Title = v.T("not_found_title")
			break
		}
		d := checkInData{ID: rm.ID, Name: rm.Name, Timezone: "UTC", CSS: s.assetURL("room.css"), Within: int(rm.Rules.CheckInWithin / time.Minute)}
		if site, err := s.catalog.Site(rm.SiteID); err == nil && site.Location != nil {
			d.Timezone = site.Location.String()
		}
		v.Title, v.Nav, v.JS, v.Data = v.T("checkin_title", "room", rm.Name), "mine", s.assetURL("checkin.js"), d
		v.Messages = s.jsMessages(lang)
	case api.PageRequests:
		v.Title, v.Nav, v.JS, v.Data = v.T("requests_title"), "requests", s.assetURL("requests.js"), s.mineData()
		v.Messages = s.jsMessages(lang)
	case api.PageConflicts:
		v.Title, v.Data = v.T("conflicts_title"), s.eventsData(p.Member, "")
		if p.Member.IsAdmin() {
			v.JS, v.Messages = s.assetURL("conflicts.js"), s.jsMessages(lang)
		}
	case api.PageAdminRooms:
		page = "admin"
		v.Title, v.Nav, v.Data = v.T("admin_title"), "admin", s.adminData(p.Member, v.msgs)
		if p.Member.IsRoomAdmin() {
			v.JS, v.Messages = s.assetURL("admin.js"), s.jsMessages(lang)
		}
	case api.PageHelp:
		v.Title, v.Nav, v.Data = v.T("help_title"), "help", s.helpData(lang)
	default:
		status, page = http.StatusNotFound, "notfound"
		v.Title = v.T("not_found_title")
	}
	s.render(w, r, page, status, v)
}

// newView starts the view of a page at path with query: its language
// (the ?lang= switch, which the cookie then remembers, else chooseLang),
// the stylesheet, and the switch link to the other language.
func (s *Site) newView(w http.ResponseWriter, r *http.Request, path string, query url.Values) view {
	lang := chooseLang(r)
	if l := r.URL.Query().Get("lang"); known(l) {
		lang = l
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	}
	v := view{Lang: lang, msgs: s.msgs[lang], CSS: s.assetURL("app.css"), OtherLang: "en"}
	if lang == "en" {
		v.OtherLang = "fr"
	}
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("lang", v.OtherLang)
	v.OtherLangURL = path + "?" + q.Encode()
	return v
}

// render writes the page template page with status.
func (s *Site) render(w http.ResponseWriter, r *http.Request, page string, status int, v view) {
	var buf bytes.Buffer
	t, ok := s.pages[page]
	if !ok {
		s.log.ErrorContext(r.Context(), "web: no template", "page", page)
		http.Error(w, "500 — erreur interne / internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, v); err != nil {
		s.log.ErrorContext(r.Context(), "web: render", "page", page, "err", err)
		http.Error(w, "500 — erreur interne / internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ServeLogin implements api.Pages: the dev mode's login form, posted to
// /login. Its language switch keeps where signing in leads.
func (s *Site) ServeLogin(w http.ResponseWriter, r *http.Request, status int, f api.LoginForm) {
	q := url.Values{}
	if f.Next != "" && f.Next != "/" {
		q.Set("next", f.Next)
	}
	v := s.newView(w, r, "/login", q)
	v.Title, v.Data = v.T("login_title"), f
	s.render(w, r, "login", status, v)
}

// ServeSignIn implements api.Pages: the oidc mode's invitation to sign
// in, a link to signInURL.
func (s *Site) ServeSignIn(w http.ResponseWriter, r *http.Request, signInURL string) {
	v := s.newView(w, r, r.URL.Path, r.URL.Query())
	v.Title, v.Data = v.T("login_title"), signInURL
	s.render(w, r, "signin", http.StatusUnauthorized, v)
}

// jsMessages is the whole catalogue of lang: the scripts take their
// words from it.
func (s *Site) jsMessages(lang string) map[string]string { return s.msgs[lang] }

// siteView is one site in the site picker.
type siteView struct {
	ID, Name, URL string
	Timezone      string
	Current       bool
}

// roomView is one room of the day view.
type roomView struct {
	ID, Name  string
	Capacity  int
	Equipment string
}

// dayData is the day view's part of the view.
type dayData struct {
	Sites     []siteView
	Site      siteView
	Timezone  string
	Date      string // YYYY-MM-DD, in the site's zone
	PrevURL   string
	NextURL   string
	Rooms     []roomView
	Equipment []string
	// CalendarJS and CalendarCSS are the calendar's files ("" when the
	// build has none).
	CalendarJS, CalendarCSS string
	// Hours are every room's opening hours, by room id, for the script
	// to draw closed hours as "Fermé" on any day.
	Hours map[string]hoursJSON
}

// hoursJSON is a room's opening hours as the day view's script reads
// them: per weekday ("mon"…), ranges "HH:MM"; no weekday at all means
// open around the clock. Closures are whole days, both included.
type hoursJSON struct {
	Weekly   map[string][][2]string `json:"weekly"`
	Closures []closureHoursJSON     `json:"closures"`
}

type closureHoursJSON struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// roomHours is rm's hours for the scripts of the day view and the room's
// week.
func roomHours(rm booking.Room) hoursJSON {
	h := hoursJSON{Weekly: map[string][][2]string{}, Closures: []closureHoursJSON{}}
	for wd, ranges := range rm.Hours.Weekly {
		key := [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[wd]
		h.Weekly[key] = [][2]string{}
		for _, tr := range ranges {
			h.Weekly[key] = append(h.Weekly[key], [2]string{tr.From.String(), tr.To.String()})
		}
	}
	for _, cl := range rm.Hours.Closures {
		h.Closures = append(h.Closures, closureHoursJSON{cl.From.String(), cl.To.String(), cl.Reason})
	}
	return h
}

// dayData prepares the day view of site id ("" for the first site) on
// the day ?date= (today in the site's zone by default); false when there
// is no such site.
func (s *Site) dayData(r *http.Request, id string) (dayData, bool) {
	var d dayData
	sites := s.catalog.Sites()
	for _, st := range sites {
		d.Sites = append(d.Sites, siteView{ID: st.ID, Name: st.Name, URL: "/sites/" + url.PathEscape(st.ID), Timezone: st.Location.String()})
	}
	if len(sites) == 0 {
		return d, false
	}
	site := sites[0]
	if id != "" {
		var err error
		if site, err = s.catalog.Site(id); err != nil {
			return d, false
		}
	}
	for i := range d.Sites {
		if d.Sites[i].ID == site.ID {
			d.Sites[i].Current = true
			d.Site = d.Sites[i]
		}
	}
	d.Timezone = site.Location.String()
	day, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("date"), site.Location)
	if err != nil {
		y, m, dd := s.now().In(site.Location).Date()
		day = time.Date(y, m, dd, 0, 0, 0, 0, site.Location)
	}
	d.Date = day.Format(time.DateOnly)
	d.PrevURL = d.Site.URL + "?date=" + day.AddDate(0, 0, -1).Format(time.DateOnly)
	d.NextURL = d.Site.URL + "?date=" + day.AddDate(0, 0, 1).Format(time.DateOnly)
	rooms, err := s.catalog.Rooms(booking.RoomFilter{Site: site.ID})
	if err != nil {
		return d, false
	}
	for _, rm := range rooms {
		d.Rooms = append(d.Rooms, roomView{ID: rm.ID, Name: rm.Name, Capacity: rm.Capacity, Equipment: strings.Join(rm.Equipment, ", ")})
	}
	// The filters list every site's equipment: the page changes site
	// without reloading.
	all, err := s.catalog.Rooms(booking.RoomFilter{})
	if err != nil {
		return d, false
	}
	equipment := map[string]bool{}
	d.Hours = map[string]hoursJSON{}
	for _, rm := range all {
		d.Hours[rm.ID] = roomHours(rm)
		for _, e := range rm.Equipment {
			equipment[e] = true
		}
	}
	for e := range equipment {
		d.Equipment = append(d.Equipment, e)
	}
	sort.Strings(d.Equipment)
	if s.calendar {
		d.CalendarJS, d.CalendarCSS = s.assetURL(calendarJS), s.assetURL(calendarCSS)
	}
	return d, true
}

// mineData is the bookings page's part of the view: the room names, for
// the script to show.
type mineData struct {
	Rooms map[string]roomInfo
	// CSS is the stylesheet of the moves and registrations.
	CSS string
}

// roomInfo is what the bookings page's script knows of a room.
type roomInfo struct {
	Name     string `json:"name"`
	Timezone string `json:"tz"`
	// Site is the room's site's name: events say where they are held.
	Site string `json:"site"`
}

func (s *Site) mineData() mineData {
	d := mineData{Rooms: map[string]roomInfo{}, CSS: s.assetURL("room.css")}
	rooms, err := s.catalog.Rooms(booking.RoomFilter{})
	if err != nil {
		return d
	}
	for _, rm := range rooms {
		info := roomInfo{Name: rm.Name, Timezone: "UTC"}
		if site, err := s.catalog.Site(rm.SiteID); err == nil {
			info.Timezone, info.Site = site.Location.String(), site.Name
		}
		d.Rooms[rm.ID] = info
	}
	return d
}

// approver reports whether m answers the requests of some room (a
// member of one of its approver groups, or an admin where some room has
// approvers).
func (s *Site) approver(m booking.Member) bool {
	if m.ID == "" {
		return false
	}
	rooms, err := s.catalog.Rooms(booking.RoomFilter{})
	if err != nil {
		return false
	}
	for _, r := range rooms {
		if len(r.Rules.Approvers) == 0 {
			continue
		}
		if m.IsAdmin() {
			return true
		}
		for _, g := range r.Rules.Approvers {
			if m.InGroup(g) {
				return true
			}
		}
	}
	return false
}

// checkInData is a room's check-in page's part of the view.
type checkInData struct {
	ID, Name, Timezone, CSS string
	// Within is the room's check-in delay in minutes (0: none asked).
	Within int
}

// roomChoice is one room of the event form's room list.
type roomChoice struct {
	ID, Name string
	Capacity int
}

// siteRooms is one site's rooms, for a group of the room list.
type siteRooms struct {
	Name  string
	Rooms []roomChoice
}

// eventsData is the events page's, an event's page's and the conflicts
// page's part of the view: who the member is, the rooms and the
// organisation's time zone.
type eventsData struct {
	// EventID is the event of an event's page ("" on the list).
	EventID   string
	MemberID  string
	Organiser bool
	Admin     bool
	// Zone is the time zone of events not held in a room (the first
	// site's, as the events service has it).
	Zone  string
	Rooms map[string]roomInfo
	Sites []siteRooms
	// CSS is the pages' own stylesheet.
	CSS string
}

func (s *Site) eventsData(m booking.Member, eventID string) eventsData {
	d := eventsData{EventID: eventID, MemberID: m.ID, Organiser: m.IsOrganiser(), Admin: m.IsAdmin(), Zone: "UTC", Rooms: s.mineData().Rooms,
		CSS: s.assetURL("events.css")}
	sites := s.catalog.Sites()
	if len(sites) > 0 && sites[0].Location != nil {
		d.Zone = sites[0].Location.String()
	}
	for _, st := range sites {
		rooms, err := s.catalog.Rooms(booking.RoomFilter{Site: st.ID})
		if err != nil || len(rooms) == 0 {
			continue
		}
		g := siteRooms{Name: st.Name}
		for _, rm := range rooms {
			g.Rooms = append(g.Rooms, roomChoice{ID: rm.ID, Name: rm.Name, Capacity: rm.Capacity})
		}
		d.Sites = append(d.Sites, g)
	}
	return d
}

// ruleView is one booking rule of a room, in words.
type ruleView struct{ Name, Text string }

// hoursView is one weekday's opening hours, in words.
type hoursView struct{ Day, Hours string }

// roomPageData is the room page's part of the view.
type roomPageData struct {
	ID, Name, SiteName, SiteURL string
	Timezone                    string
	Capacity                    int
	Equipment                   []string
	Week                        string // the Monday, YYYY-MM-DD
	WeekEnd                     string // the Sunday, YYYY-MM-DD
	WeekFrom, WeekTo            string // the Monday and Sunday, DD/MM/YYYY
	FormDate                    string // the booking form's day: today if in the week, else the Monday
	PrevURL, NextURL            string
	SlotMin, SlotMax            string // the hours the calendar shows
	Rules                       []ruleView
	Hours                       []hoursView
	Closures                    []string
	OpenHours                   hoursJSON // the same hours, for the script to draw closed hours
	FeedURL                     string
	WebcalURL                   template.URL
	// CalendarJS and CalendarCSS are the calendar's files ("" when the
	// build has none).
	CalendarJS, CalendarCSS string
	// CSS is the page's own stylesheet.
	CSS string
}

// shortDate is how the room page writes a day in figures (as in French
// and British English).
const shortDate = "02/01/2006"

// humanDuration says d in hours and minutes ("4 h", "1 h 30 min", "15 min").
func humanDuration(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	case m < 60:
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// roomData prepares the room page of room id for the week holding
// ?week= (this week in the site's zone by default); false when there is
// no such room.
func (s *Site) roomData(r *http.Request, id string, msgs catalogue) (roomPageData, bool) {
	var d roomPageData
	rm, err := s.catalog.Room(id)
	if err != nil {
		return d, false
	}
	site, err := s.catalog.Site(rm.SiteID)
	if err != nil {
		return d, false
	}
	d.ID, d.Name, d.Capacity, d.Equipment = rm.ID, rm.Name, rm.Capacity, rm.Equipment
	d.OpenHours = roomHours(rm)
	d.SiteName, d.SiteURL, d.Timezone = site.Name, "/sites/"+url.PathEscape(site.ID), site.Location.String()
	now := s.now().In(site.Location)
	day, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("week"), site.Location)
	if err != nil {
		y, m, dd := now.Date()
		day = time.Date(y, m, dd, 0, 0, 0, 0, site.Location)
	}
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	d.Week, d.WeekEnd = monday.Format(time.DateOnly), monday.AddDate(0, 0, 6).Format(time.DateOnly)
	d.WeekFrom, d.WeekTo = monday.Format(shortDate), monday.AddDate(0, 0, 6).Format(shortDate)
	d.FormDate = d.Week
	if today := now.Format(time.DateOnly); today > d.Week && today <= d.WeekEnd {
		d.FormDate = today
	}
	self := "/salles/" + url.PathEscape(rm.ID)
	d.PrevURL = self + "?week=" + monday.AddDate(0, 0, -7).Format(time.DateOnly)
	d.NextURL = self + "?week=" + monday.AddDate(0, 0, 7).Format(time.DateOnly)

	// The rules, in words.
	ru := rm.Rules
	rule := func(name, text string) { d.Rules = append(d.Rules, ruleView{msgs.t(name), text}) }
	if ru.MaxDuration > 0 {
		rule("room_rule_max_duration", msgs.t("room_rule_max_duration_text", "d", humanDuration(ru.MaxDuration)))
	} else {
		rule("room_rule_max_duration", msgs.t("room_rule_no_limit"))
	}
	if ru.MinNotice > 0 {
		rule("room_rule_min_notice", msgs.t("room_rule_min_notice_text", "d", humanDuration(ru.MinNotice)))
	} else {
		rule("room_rule_min_notice", msgs.t("room_rule_min_notice_none"))
	}
	if ru.MaxAhead > 0 {
		days := int(ru.MaxAhead / (24 * time.Hour))
		text := msgs.t("room_rule_max_ahead_text", "n", fmt.Sprint(days))
		if ru.MaxAhead%(24*time.Hour) != 0 {
			text = msgs.t("room_rule_max_ahead_text_d", "d", humanDuration(ru.MaxAhead))
		}
		rule("room_rule_max_ahead", text)
	} else {
		rule("room_rule_max_ahead", msgs.t("room_rule_no_limit"))
	}
	if ru.Buffer > 0 {
		rule("room_rule_buffer", msgs.t("room_rule_buffer_text", "d", humanDuration(ru.Buffer)))
	} else {
		rule("room_rule_buffer", msgs.t("room_rule_buffer_none"))
	}
	if len(ru.AllowedGroups) > 0 {
		rule("room_rule_who", msgs.t("room_rule_who_groups", "groups", strings.Join(ru.AllowedGroups, ", ")))
	} else {
		rule("room_rule_who", msgs.t("room_rule_who_all"))
	}

	// The opening hours, Monday first, and the hours the calendar shows.
	minT, maxT := booking.ClockTime(24*60), booking.ClockTime(0)
	if len(rm.Hours.Weekly) == 0 {
		d.Hours = append(d.Hours, hoursView{msgs.t("room_hours_every_day"), msgs.t("room_hours_always")})
		minT, maxT = 0, 24*60
	} else {
		for i := 1; i <= 7; i++ {
			wd := time.Weekday(i % 7)
			var parts []string
			for _, tr := range rm.Hours.Weekly[wd] {
				parts = append(parts, msgs.t("room_hours_range", "from", tr.From.String(), "to", tr.To.String()))
				minT, maxT = min(minT, tr.From), max(maxT, tr.To)
			}
			text := strings.Join(parts, ", ")
			if text == "" {
				text = msgs.t("room_hours_closed")
			}
			d.Hours = append(d.Hours, hoursView{msgs.t("weekday_" + [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[wd]), text})
		}
		if minT >= maxT {
			minT, maxT = 0, 24*60
		}
	}
	d.SlotMin = booking.ClockTime(int(minT) / 60 * 60).String()
	d.SlotMax = booking.ClockTime((int(maxT) + 59) / 60 * 60).String()
	if maxT >= 24*60 {
		d.SlotMax = "24:00"
	}
	today := booking.Date{Year: now.Year(), Month: now.Month(), Day: now.Day()}
	for _, cl := range rm.Hours.Closures {
		if cl.To.String() < today.String() {
			continue
		}
		from, to := cl.From.In(time.UTC).Format(shortDate), cl.To.In(time.UTC).Format(shortDate)
		text := msgs.t("room_closure_days", "from", from, "to", to)
		if cl.From == cl.To {
			text = msgs.t("room_closure_day", "day", from)
		}
		if cl.Reason != "" {
			text += " — " + cl.Reason
		}
		d.Closures = append(d.Closures, text)
	}

	// The room's feed, as a calendar app reaches it.
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	feedPath := "/feeds/rooms/" + url.PathEscape(rm.ID) + ".ics"
	d.FeedURL = scheme + "://" + r.Host + feedPath
	d.WebcalURL = template.URL("webcal://" + r.Host + feedPath)
	if s.calendar {
		d.CalendarJS, d.CalendarCSS = s.assetURL(calendarJS), s.assetURL(calendarCSS)
	}
	d.CSS = s.assetURL("room.css")
	return d, true
}
