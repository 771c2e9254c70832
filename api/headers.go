package api

import "github.com/gin-gonic/gin"

// contentSecurityPolicy allows scripts, styles, images and connections
// from roomcal's own origin only: no inline script or style, no framing,
// no plugins, forms posted only back to roomcal.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// permissionsPolicy turns off the browser features roomcal never uses.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()"

// hsts is sent only on answers that went over TLS (or behind a proxy that
// terminates it, as Options.SecureCookies says): a year, this host only.
const hsts = "max-age=31536000"

// securityHeaders sets the security headers of every answer (pages, API,
// problems, feeds, metrics), before the handlers run so that answers
// aborted early (401, 403, 413, 404) carry them too.
func (s *Server) securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", permissionsPolicy)
		if c.Request.TLS != nil || s.opts.SecureCookies {
			h.Set("Strict-Transport-Security", hsts)
		}
		c.Next()
	}
}
