package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
	"github.com/roomcal/roomcal/events"
)

// Check is one dependency that /readyz probes.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Options are what the HTTP edge needs; cmd/roomcal fills them.
type Options struct {
	Logger   *slog.Logger
	Catalog  *booking.Catalog
	Bookings *booking.Service
	Events   *events.Service
	// Feeds writes the calendar feeds (nil: no feed is served, their
	// routes answer 404).
	Feeds FeedEncoder
	// FeedTokens keeps personal feed tokens (nil: no personal feeds;
	// they need Feeds too).
	FeedTokens FeedTokens
	// Preferences keeps the members' preferences (nil: their routes
	// answer 404).
	Preferences booking.PreferencesStore
	// NoticeLinks makes and checks the unsubscribe links of notices
	// (nil, or no Preferences: /desabonnement answers 404).
	NoticeLinks *NoticeLinks
	// Notices gives the notices worker's counters for /metrics (nil: no
	// mail is sent, none are shown).
	Notices NoticeStats
	// Booked is told of each booking a member made, after it is
	// written and answered, off the request path (nil: nobody is): the
	// opt-in confirmation of one's own booking.
	Booked func(ctx context.Context, b booking.Booking)
	// PublicURL is the address members reach roomcal at (feed links).
	PublicURL string
	// AuthMode is AuthDev, AuthHeader or AuthOIDC; TrustedProxies are the
	// peers whose identity headers are believed in header mode.
	AuthMode       string
	TrustedProxies []netip.Prefix
	// OIDC is the OpenID Connect client of the oidc mode (oidc.go):
	// its sign-in routes are served and bearer tokens believed only with
	// AuthMode AuthOIDC and OIDC set.
	OIDC *OIDCClient
	// SessionKey signs session cookies; every replica must share it. A
	// random key is made when empty (one replica, sessions lost on
	// restart: the dev mode's case).
	SessionKey []byte
	// SignOuts keeps when members signed out, so that every replica
	// refuses the sessions made before (nil: signing out only clears
	// the cookie of the browser that asked).
	SignOuts SignOuts
	// SessionTTL is how long a session lasts (default 8h).
	SessionTTL time.Duration
	// SecureCookies sets the Secure attribute on cookies (served over
	// TLS, perhaps by a proxy in front).
	SecureCookies bool
	// Limiter counts each member's writes (nil: no limit); RateLimit and
	// RatePer are the limit: at most RateLimit writes per RatePer.
	Limiter   Limiter
	RateLimit int
	RatePer   time.Duration
	// Ready lists the dependencies /readyz probes (CalDAV, Redis).
	Ready []Check
	// ReadyTimeout bounds each probe (default 2s).
	ReadyTimeout time.Duration
	// Pages renders the member pages (pages.go; nil: their routes
	// answer 404).
	Pages Pages
	// RoomAdmin edits rooms in the pages (admin.go; nil: the admin
	// routes answer 404).
	RoomAdmin *booking.RoomAdmin
}

// Server is roomcal's HTTP handler.
type Server struct {
	opts   Options
	log    *slog.Logger
	engine *gin.Engine
	stats  metrics
	// encoded keeps encoded availability answers (availability.go).
	encoded  encodedMemo
	sessions *sessions
}

// New builds the handler with every route of the route table.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Second
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	key := opts.SessionKey
	if len(key) == 0 {
		key = []byte(randomToken(32))
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	s := &Server{opts: opts, log: opts.Logger, engine: e,
		sessions: &sessions{key: key, ttl: opts.SessionTTL, secure: opts.SecureCookies}}
	// The access log comes first so that it also writes the line, with
	// its cause, of a request whose handler panicked.
	e.Use(s.accessLog(), s.recoverer(), s.securityHeaders(), limitBody(maxBodyBytes, largerBodies), s.sameSiteWrites(), s.identify(), s.rateLimit())
	e.NoRoute(func(c *gin.Context) {
		renderProblem(c, problem(http.StatusNotFound, CodeNotFound, "Cette adresse n'existe pas. / No such route."))
	})
	e.NoMethod(func(c *gin.Context) {
		renderProblem(c, problem(http.StatusMethodNotAllowed, CodeInvalid, "Méthode non permise. / Method not allowed."))
	})
	for _, r := range s.routes() {
		e.Handle(r.Method, r.Path, enforce(r.Policy), jsonWrites(r.Method, r.Path), r.Handler)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// route is one entry of the route table.
type route struct {
	Method  string
	Path    string
	Policy  Policy
	Handler gin.HandlerFunc
}

// routes is the route table: every route roomcal serves, in one place,
// with the policy that says who may call it.
func (s *Server) routes() []route {
	rs := []route{
		{http.MethodGet, "/healthz", Anyone, s.healthz},
		{http.MethodGet, "/readyz", Anyone, s.readyz},
		{http.MethodGet, "/metrics", Anyone, s.metrics},
		{http.MethodGet, "/api/v1/openapi.json", Anyone, s.openapi},
		{http.MethodGet, "/api/v1/me", Member, s.me},
		{http.MethodGet, "/api/v1/me/quotas", Member, s.myQuotas},
		{http.MethodGet, "/api/v1/requests", Member, s.listRequests},
		{http.MethodPost, "/api/v1/requests/:id/accept", Member, s.acceptRequest},
		{http.MethodPost, "/api/v1/requests/:id/refuse", Member, s.refuseRequest},
		{http.MethodGet, "/api/v1/sites", Member, s.listSites},
		{http.MethodGet, "/api/v1/rooms", Member, s.listRooms},
		{http.MethodGet, "/api/v1/rooms/:id", Member, s.getRoom},
		{http.MethodGet, "/api/v1/availability", Member, s.availability},
		{http.MethodPost, "/api/v1/bookings", Member, s.createBooking},
		{http.MethodGet, "/api/v1/bookings", Member, s.listBookings},
		{http.MethodGet, "/api/v1/bookings/preview", Member, s.previewBooking},
		{http.MethodGet, "/api/v1/bookings/:id", Member, s.getBooking},
		{http.MethodPatch, "/api/v1/bookings/:id", Member, s.patchBooking},
		{http.MethodDelete, "/api/v1/bookings/:id", Member, s.deleteBooking},
		{http.MethodPost, "/api/v1/bookings/:id/checkin", Member, s.checkIn},
		{http.MethodPost, "/api/v1/bookings/:id/skip", Member, s.skipDate},
		{http.MethodGet, "/api/v1/noshows", Admin, s.listNoShows},
		{http.MethodGet, "/api/v1/conflicts", Admin, s.listConflicts},
		{http.MethodPost, "/api/v1/events", Organiser, s.createEvent},
		{http.MethodGet, "/api/v1/events", Member, s.listEvents},
		{http.MethodGet, "/api/v1/events/:id", Member, s.getEvent},
		{http.MethodPatch, "/api/v1/events/:id", Member, s.patchEvent},
		{http.MethodDelete, "/api/v1/events/:id", Member, s.cancelEvent},
		{http.MethodPost, "/api/v1/events/:id/registrations", Member, s.register},
		{http.MethodDelete, "/api/v1/events/:id/registrations/me", Member, s.unregister},
		{http.MethodGet, "/api/v1/events/:id/registrations", Member, s.listRegistrations},
	}
	if s.opts.Feeds != nil {
		rs = append(rs,
			route{http.MethodGet, "/feeds/rooms/:file", Anyone, s.roomFeed},
			route{http.MethodGet, "/feeds/sites/:file", Anyone, s.siteFeed},
			route{http.MethodGet, "/feeds/events.ics", Anyone, s.eventsFeed})
	}
	if s.opts.Feeds != nil && s.opts.FeedTokens != nil {
		rs = append(rs,
			route{http.MethodGet, "/api/v1/me/feed", Member, s.feedLink},
			route{http.MethodPost, "/api/v1/me/feed", Member, s.issueFeedToken},
			route{http.MethodDelete, "/api/v1/me/feed", Member, s.revokeFeedToken},
			// The token in the path is the credential.
			route{http.MethodGet, "/feeds/me/:file", Anyone, s.personalFeed})
	}
	if s.opts.Preferences != nil {
		rs = append(rs,
			route{http.MethodGet, "/api/v1/me/preferences", Member, s.getPreferences},
			route{http.MethodPatch, "/api/v1/me/preferences", Member, s.patchPreferences},
			route{http.MethodGet, "/api/v1/me/notes", Member, s.myNotes})
	}
	if s.opts.Preferences != nil && s.opts.NoticeLinks != nil {
		rs = append(rs,
			// The signed token in the query is the credential.
			route{http.MethodGet, "/desabonnement", Anyone, s.unsubscribeForm},
			route{http.MethodPost, "/desabonnement", Anyone, s.unsubscribe})
	}
	rs = append(rs, s.adminRoutes()...)  // admin.go: rooms administered in the pages
	rs = append(rs, s.pageRoutes()...)   // pages.go: the member pages
	rs = append(rs, s.loginRoutes()...)  // login.go: the dev mode's login page
	return append(rs, s.oidcRoutes()...) // oidc.go: sign-in with OpenID Connect
}
