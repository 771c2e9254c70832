package api

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Cross-site writes are refused whatever the identity mode: a reverse
// proxy's login (header mode) and a session cookie both ride along with
// requests another site makes a browser send, and a plain form can post
// a JSON body as text/plain without any preflight. So, for every unsafe
// method (anything but GET, HEAD, OPTIONS):
//
//   - Sec-Fetch-Site must be absent, "same-origin" or "none" (the member
//     typed it): "cross-site" and "same-site" are refused;
//   - Origin, when sent, must be roomcal's own: the scheme and host of
//     Options.PublicURL, or, when that is unset, the request's Host (any
//     scheme: a TLS proxy in front hides it), as baseURL decides feed
//     links; "null" and any other origin are refused;
//   - under /api/v1/, a body must be declared application/json, and a
//     request with a Content-Type at all must declare that one (415
//     unsupported_media_type otherwise), so that no form a browser can
//     send without a preflight reaches a JSON handler.
//
// Non-browser clients (curl, scripts) send neither header and are not
// concerned by the first two rules. Session writes still need their CSRF
// token (identify): these rules come on top of it.

// sameSiteWrites refuses the cross-site writes described above (the
// first two rules), before anyone is identified; jsonWrites is the
// third.
func (s *Server) sameSiteWrites() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if safeMethod(r.Method) || r.URL.Path == "/login" {
			// The dev login form has its own guard (loginFormOK), which
			// refuses the same requests with the login page.
			c.Next()
			return
		}
		if !fetchSiteOK(r) || !s.originOK(r) {
			s.log.InfoContext(r.Context(), "cross-site write refused",
				"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "peer", r.RemoteAddr)
			renderProblem(c, problem(http.StatusForbidden, CodeCrossSite,
				"Requête venue d'un autre site, refusée. / Request from another site refused."))
			return
		}
		c.Next()
	}
}

// jsonWrites refuses, on the JSON API's unsafe routes, a body not
// declared application/json (415). It runs after the route's policy, so
// that an anonymous caller still learns first that it must sign in.
func jsonWrites(method, path string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !safeMethod(method) && strings.HasPrefix(path, "/api/v1/") && !jsonBodyOK(c.Request) {
			renderProblem(c, problem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				"Le corps doit être envoyé en application/json. / The body must be sent as application/json."))
			return
		}
		c.Next()
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// fetchSiteOK: the browser does not say the request came from another
// site.
func fetchSiteOK(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// originOK: no Origin header, or roomcal's own.
func (s *Server) originOK(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" || o.Path != "" || o.User != nil {
		return false
	}
	if s.opts.PublicURL != "" {
		pub, err := url.Parse(s.opts.PublicURL)
		return err == nil && strings.EqualFold(o.Scheme, pub.Scheme) && hostPort(o) == hostPort(pub)
	}
	if o.Scheme != "http" && o.Scheme != "https" {
		return false
	}
	// The request's Host carries no scheme: a default port may be left
	// out on either side.
	own := strings.ToLower(r.Host)
	return hostPort(o) == own || strings.ToLower(o.Host) == own
}

// hostPort is u's host and port, lowercase, without the scheme's default
// port.
func hostPort(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		return strings.TrimSuffix(h, ":443")
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		return strings.TrimSuffix(h, ":80")
	}
	return h
}

// jsonBodyOK: the request declares application/json, or declares no
// type and has no body.
func jsonBodyOK(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength == 0 && len(r.TransferEncoding) == 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}
