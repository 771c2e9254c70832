package api

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

// Identity modes (API.md).
const (
	AuthDev    = "dev"
	AuthHeader = "header"
)

// Identity headers set by an authenticating reverse proxy.
const (
	HeaderUser   = "X-Remote-User"
	HeaderName   = "X-Remote-Name"
	HeaderEmail  = "X-Remote-Email"
	HeaderGroups = "X-Remote-Groups"
)

const (
	memberKey  = "roomcal.member"
	sessionKey = "roomcal.session"
)

// identify establishes who is calling, for every request: in oidc mode
// from a bearer access token, when the request has one (oidc.go; an
// invalid one is 401, whatever else the request carries); else from the
// session cookie of a page; else, in header mode, from the identity
// headers when the peer is a trusted proxy, or in dev mode from the same
// headers when the peer is on loopback. Headers from anyone else, and
// every identity header in oidc mode, are ignored and logged.
func (s *Server) identify() gin.HandlerFunc {
	return func(c *gin.Context) {
		if raw, ok := bearerToken(c.Request); ok && s.opts.AuthMode == AuthOIDC {
			// An API client. No CSRF token: a bearer token is not sent
			// along by browsers the way a cookie is.
			s.identifyBearer(c, raw)
			return
		}
		sess, err := s.sessions.read(c.Request)
		if errors.Is(err, errSeveralSessions) {
			s.log.WarnContext(c.Request.Context(), "request with several session cookies refused", "peer", c.Request.RemoteAddr)
			s.sessions.clear(c)
			renderProblem(c, problem(http.StatusBadRequest, CodeInvalid,
				"Plusieurs cookies de session : effacez les cookies de ce site, puis reconnectez-vous. / Several session cookies: clear this site's cookies, then sign in again."))
			return
		}
		if err == nil {
			err = s.current(c.Request.Context(), sess)
			if errors.Is(err, errSignedOut) {
				s.sessions.clear(c)
			} else if err != nil {
				writeError(c, err)
				c.Abort()
				return
			}
		}
		if err == nil {
			// A page's session. Its writes must carry the CSRF token: a
			// cookie goes along with requests other sites make too.
			if !csrfOK(c.Request, sess) {
				renderProblem(c, problem(http.StatusForbidden, CodeForbidden,
					"Jeton anti-falsification manquant ou faux ; rechargez la page. / Missing or wrong CSRF token; reload the page."))
				return
			}
			c.Set(memberKey, sess.Member)
			c.Set(sessionKey, sess)
			c.Next()
			return
		}
		user := strings.TrimSpace(c.GetHeader(HeaderUser))
		if user == "" {
			c.Next()
			return
		}
		if s.opts.AuthMode == AuthOIDC {
			s.log.WarnContext(c.Request.Context(), "identity headers ignored in oidc mode",
				"peer", c.Request.RemoteAddr, "user", user)
			c.Next()
			return
		}
		peer, err := peerAddr(c.Request)
		trusted := err == nil && s.trusted(peer)
		if !trusted {
			s.log.WarnContext(c.Request.Context(), "identity headers from an untrusted peer ignored",
				"peer", c.Request.RemoteAddr, "user", user)
			c.Next()
			return
		}
		m := booking.Member{
			ID:    user,
			Name:  cleanIdentityText(c.GetHeader(HeaderName)),
			Email: strings.TrimSpace(c.GetHeader(HeaderEmail)),
		}
		if m.Name == "" {
			m.Name = m.ID
		}
		for _, g := range strings.Split(c.GetHeader(HeaderGroups), ",") {
			if g = strings.TrimSpace(g); g != "" {
				m.Groups = append(m.Groups, g)
			}
		}
		if err := booking.CheckMember(m); err != nil {
			writeError(c, fmt.Errorf("identity headers from %s: %w", c.Request.RemoteAddr, err))
			return
		}
		c.Set(memberKey, m)
		c.Next()
	}
}

// cleanIdentityText is a name from a proxy or a provider as roomcal
// keeps it: booking.CleanText (no control or bidirectional control
// characters), on one line, runs of spaces folded.
func cleanIdentityText(s string) string {
	return strings.Join(strings.Fields(booking.CleanText(s)), " ")
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// identifyBearer believes a bearer access token verified against the
// issuer's keys, and answers 401 to any other (503 while the issuer
// cannot be discovered). The reason is logged, never the token.
func (s *Server) identifyBearer(c *gin.Context, raw string) {
	ctx := c.Request.Context()
	if s.opts.OIDC == nil {
		renderProblem(c, unavailableProvider())
		return
	}
	m, err := s.opts.OIDC.verifyAccess(ctx, raw)
	switch {
	case errors.Is(err, errProviderDown):
		renderProblem(c, unavailableProvider())
		return
	case errors.Is(err, booking.ErrInvalid):
		// A valid token whose identity exceeds roomcal's bounds
		// (booking.CheckMember): say which field.
		writeError(c, err)
		return
	case err != nil:
		s.log.WarnContext(ctx, "bearer token refused", "reason", err.Error(), "peer", c.Request.RemoteAddr)
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		renderProblem(c, problem(http.StatusUnauthorized, CodeUnauthenticated,
			"Jeton d'accès refusé (expiré, ou d'un autre émetteur). / Access token refused (expired, or not from the issuer)."))
		return
	}
	c.Set(memberKey, m)
	c.Next()
}

func (s *Server) trusted(peer netip.Addr) bool {
	switch s.opts.AuthMode {
	case AuthHeader:
		for _, p := range s.opts.TrustedProxies {
			if p.Contains(peer) {
				return true
			}
		}
		return false
	case AuthDev, "":
		return peer.IsLoopback()
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err
}

// member returns the caller, if identified.
func member(c *gin.Context) (booking.Member, bool) {
	v, ok := c.Get(memberKey)
	if !ok {
		return booking.Member{}, false
	}
	m, ok := v.(booking.Member)
	return m, ok
}

type meJSON struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Roles  []string `json:"roles"`
	Groups []string `json:"groups"`
	// CSRFToken is the session's token, for pages to send in
	// X-CSRF-Token with their writes (only with a session cookie).
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) me(c *gin.Context) {
	m, _ := member(c)
	roles := []string{"member"}
	if m.IsOrganiser() {
		roles = append(roles, "organiser")
	}
	if m.IsAdmin() {
		roles = append(roles, "admin")
	}
	out := meJSON{ID: m.ID, Name: m.Name, Email: m.Email, Roles: roles, Groups: nonNil(m.Groups)}
	if v, ok := c.Get(sessionKey); ok {
		out.CSRFToken = v.(session).CSRF
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}
