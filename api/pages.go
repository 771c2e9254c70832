package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// The member pages (package web renders them) hang off the route table
// here. api decides who may see a page: a page needs a signed-in member.
// A visitor without one is sent to sign in: in dev mode straight to
// /login?next=the page; in oidc mode a short page (401) offers the link
// to /auth/login?next=the page rather than going there by itself, because
// signing out ends at "/" and, with a provider that keeps its own session
// (or has no end_session endpoint), going to /auth/login at once would
// sign the member straight back in. In header mode the proxy has signed
// members in, so a visitor without identity headers gets 401. What a
// page shows is the Pages implementation's business.

// Page names, as Page.Name gives them to Pages.
const (
	// PageStart is the start page, "for when, for how many, where?" and
	// the rooms free then: GET / (?site= chooses the site).
	PageStart  = "start"
	PageDay    = "day"    // a site's planning for one day: GET /sites/:id
	PageMine   = "mine"   // the member's own bookings: GET /mes-reservations
	PageEvents = "events" // internal events: GET /evenements
	// PageConflicts lists overlaps made outside roomcal (for admins):
	// GET /conflits.
	PageConflicts = "conflicts"
	// PageRoom is one room's week: GET /salles/:id?week=YYYY-MM-DD.
	PageRoom = "room"
	// PageEvent is one internal event, the link an organiser shares:
	// GET /evenements/:id.
	PageEvent = "event"
	// PageAdminRooms is where admins and site admins create, edit and
	// retire rooms: GET /admin/salles.
	PageAdminRooms = "admin_rooms"
	// PageRequests is the queue of requests waiting for the member's
	// approval (rooms with approvers): GET /demandes.
	PageRequests = "requests"
	// PageCheckIn is a room's check-in page, which the QR code on its
	// door opens: "Je suis là" for the member's booking there now:
	// GET /salles/:id/presence.
	PageCheckIn = "checkin"
	// PageHelp is "Comment faire ?", the members' help: GET /aide.
	PageHelp = "help"
)

// Pages renders the member pages and serves their static files; package
// web implements it and cmd/roomcal wires it in Options.Pages. Its
// methods write a whole answer, errors included.
type Pages interface {
	// ServePage writes the page p for its signed-in member.
	ServePage(w http.ResponseWriter, r *http.Request, p Page)
	// ServeStatic writes the static file named file whose content tag is
	// tag (the URL /static/{tag}/{file}); a wrong tag or an unknown file
	// is 404.
	ServeStatic(w http.ResponseWriter, r *http.Request, tag, file string)
	// ServeHelpImage writes the help page's picture named file (the URL
	// /aide/images/{file}), or 404 when there is none.
	ServeHelpImage(w http.ResponseWriter, r *http.Request, file string)
	// ServeLogin writes the dev mode's login page with status: 200, or
	// 400 and 403 with f.Error set.
	ServeLogin(w http.ResponseWriter, r *http.Request, status int, f LoginForm)
	// ServeSignIn writes the oidc mode's invitation to sign in, with
	// status 401: a link to signInURL, where signing in begins.
	ServeSignIn(w http.ResponseWriter, r *http.Request, signInURL string)
}

// Why the dev login form was sent back, as LoginForm.Error has it.
const (
	// LoginExpired: the form's token was missing, stale or forged, or
	// the form came from another site.
	LoginExpired = "expired"
	// LoginNoName: the name has no letter or digit.
	LoginNoName = "no_name"
)

// LoginForm is what the dev mode's login page shows. Every field a form
// needs is here; the page posts name, groups (organisers, admins),
// login_token, next and, with a session, csrf_token to /login.
type LoginForm struct {
	// Token goes in the login_token field.
	Token string
	// Next is where signing in leads (a path on this site).
	Next string
	// MaxName is the longest name, in characters.
	MaxName int
	// Current is who is signed in, if anyone; SessionCSRF is their
	// session's token for the sign-out form (posted to /logout) and for
	// the login form (empty without a session cookie).
	Current     *booking.Member
	SessionCSRF string
	// What was typed, shown again after an error.
	Name             string
	Organiser, Admin bool
	// Error is LoginExpired, LoginNoName or "".
	Error string
}

// Page is one page request that api let through.
type Page struct {
	// Name is PageStart, PageDay, PageMine, PageEvents, PageEvent, PageConflicts or
	// PageRoom.
	Name string
	// SiteID is the site of the day view ("" for the default one).
	SiteID string
	// RoomID is the room of the room page (PageRoom).
	RoomID string
	// EventID is the event of the event page (PageEvent); whether it
	// exists is for the page to find out, through the API.
	EventID string
	// Member is who is signed in.
	Member booking.Member
	// CSRFToken is the session's token, for the page's writes
	// (X-CSRF-Token, or the csrf_token field of a plain form); empty when
	// the member is not identified by a session cookie (header mode).
	CSRFToken string
	// LogoutURL is where the sign-out form posts ("" when roomcal does
	// not sign members out itself: header mode).
	LogoutURL string
}

// pageRoutes are the member pages' routes. They are in the route table
// in every mode, served by Options.Pages; without it they answer 404.
// Their policy is Anyone: the handler itself sends visitors without a
// member to sign in, which a 401 problem would not do for a browser.
func (s *Server) pageRoutes() []route {
	return []route{
		{http.MethodGet, "/", Anyone, s.page(PageStart)},
		{http.MethodGet, "/sites/:id", Anyone, s.page(PageDay)},
		{http.MethodGet, "/mes-reservations", Anyone, s.page(PageMine)},
		{http.MethodGet, "/evenements", Anyone, s.page(PageEvents)},
		{http.MethodGet, "/evenements/:id", Anyone, s.page(PageEvent)},
		{http.MethodGet, "/conflits", Anyone, s.page(PageConflicts)},
		{http.MethodGet, "/demandes", Anyone, s.page(PageRequests)},
		{http.MethodGet, "/salles/:id/presence", Anyone, s.page(PageCheckIn)},
		// The QR code for the room's door, which opens its check-in page.
		{http.MethodGet, "/salles/:id/qr.svg", Member, s.roomQR},
		{http.MethodGet, "/salles/:id", Anyone, s.page(PageRoom)},
		{http.MethodGet, "/admin/salles", Anyone, s.page(PageAdminRooms)},
		{http.MethodGet, "/aide", Anyone, s.page(PageHelp)},
		{http.MethodGet, "/aide/images/:file", Anyone, s.helpImage},
		{http.MethodGet, "/static/:tag/:file", Anyone, s.static},
	}
}

// page is the handler of the page named name.
func (s *Server) page(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		m, ok := member(c)
		if !ok {
			s.signInFirst(c)
			return
		}
		if s.opts.Pages == nil {
			renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Les pages ne sont pas servies ici. / Pages are not served here."))
			return
		}
		p := Page{Name: name, SiteID: c.Param("id"), Member: m}
		switch name {
		case PageRoom, PageCheckIn:
			p.SiteID, p.RoomID = "", c.Param("id")
		case PageEvent:
			p.SiteID, p.EventID = "", c.Param("id")
		}
		if v, ok := c.Get(sessionKey); ok {
			p.CSRFToken = v.(session).CSRF
			switch s.opts.AuthMode {
			case AuthDev:
				p.LogoutURL = "/logout"
			case AuthOIDC:
				p.LogoutURL = "/auth/logout"
			}
		}
		c.Header("Cache-Control", "no-store")
		s.opts.Pages.ServePage(c.Writer, c.Request, p)
	}
}

// signInFirst sends a visitor without a member to the sign-in page of the
// mode, back to the page afterwards.
func (s *Server) signInFirst(c *gin.Context) {
	next := url.QueryEscape(c.Request.URL.RequestURI())
	c.Header("Cache-Control", "no-store")
	switch {
	case s.opts.AuthMode == AuthDev:
		c.Redirect(http.StatusSeeOther, "/login?next="+next)
	case s.opts.AuthMode == AuthOIDC && s.opts.OIDC != nil && s.opts.Pages != nil:
		s.opts.Pages.ServeSignIn(c.Writer, c.Request, "/auth/login?next="+next)
	default:
		renderProblem(c, problem(http.StatusUnauthorized, CodeUnauthenticated,
			"Connectez-vous d'abord. / Log in first."))
	}
}

// helpImage serves the help page's pictures (screenshots of the pages,
// which `make screenshots` takes; none in a clean clone).
func (s *Server) helpImage(c *gin.Context) {
	if s.opts.Pages == nil {
		renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Cette adresse n'existe pas. / No such route."))
		return
	}
	s.opts.Pages.ServeHelpImage(c.Writer, c.Request, c.Param("file"))
}

// static serves the pages' static files.
func (s *Server) static(c *gin.Context) {
	if s.opts.Pages == nil {
		renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Cette adresse n'existe pas. / No such route."))
		return
	}
	s.opts.Pages.ServeStatic(c.Writer, c.Request, c.Param("tag"), c.Param("file"))
}
